#!/usr/bin/env bash
# Runs every check oxicard has: formatting, clippy (-D warnings), all tests, the vm/ crates built
# for a Cortex-M3 (thumbv7m-none-eabi), and a type-check of the fuzz targets. The tests run
# against a real pcscd with vsmartcard's vpcd driver (scripts/pcsc-env.sh), started here.
# Installs what it needs first (scripts/setup.sh), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "Java Card API stubs (javac, jar)"
bash scripts/build-api.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "PC/SC: pcscd with vsmartcard's vpcd (stopped when the tests end)"
# A pcscd that was already running (someone else's) is left alone at the end.
pcscd_was_running=no
pidof pcscd >/dev/null 2>&1 && pcscd_was_running=yes
bash scripts/pcsc-env.sh install start
if [ "$pcscd_was_running" = no ]; then
    trap 'bash scripts/pcsc-env.sh stop' EXIT
fi

step "tests"
mkdir -p target
set +e
cargo test --workspace --locked --no-fail-fast >target/test-output.txt 2>&1
test_status=$?
set -e
grep -E '^(test result|     Running|   Doc-tests)|FAILED|panicked' target/test-output.txt || true
summary=$(awk '/^test result:/ { passed += $4; failed += $6; skipped += $8 } END { printf "tests: %d passed, %d failed, %d skipped", passed, failed, skipped }' target/test-output.txt)
if [ "$test_status" != 0 ]; then
    grep -B5 -A60 -E '^failures:|^error' target/test-output.txt | head -300 >&2 || true
    echo "$summary" >&2
    echo "cargo test failed (exit $test_status); full output in target/test-output.txt" >&2
    exit "$test_status"
fi

step "the runtime as the firmware's budget build has it: no crypto API, one (checked) interpreter loop"
set +e
cargo test --locked -p oxicard-jcre --no-default-features --lib --tests >target/test-no-crypto.txt 2>&1
no_crypto_status=$?
set -e
grep -E '^test result|FAILED|panicked' target/test-no-crypto.txt || true
if [ "$no_crypto_status" != 0 ]; then
    tail -n 80 target/test-no-crypto.txt >&2
    exit "$no_crypto_status"
fi
summary=$(cat target/test-output.txt target/test-no-crypto.txt | awk '/^test result:/ { passed += $4; failed += $6; skipped += $8 } END { printf "tests: %d passed, %d failed, %d skipped", passed, failed, skipped }')

step "vm/ crates for thumbv7m-none-eabi"
vm_packages=()
for manifest in vm/*/Cargo.toml; do
    vm_packages+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n1)")
done
cargo build --locked --target thumbv7m-none-eabi "${vm_packages[@]}" -p oxicard-firmware
cargo build --locked --target thumbv7m-none-eabi -p oxicard-jcre --no-default-features

step "card firmware for QEMU's lm3s6965evb: build, size against the budget, boot over T=1"
bash scripts/firmware.sh

step "the firmware card through pcscd: oxicard bridge, golden transcripts, restart, figures"
bash scripts/firmware-pcsc.sh

step "card firmware for a real dev board (NUCLEO-F411RE): build and size"
bash scripts/firmware-boards.sh

step "the profile-guided benchmark build: training on the golden transcripts, a short run (scripts/bench.sh)"
bash scripts/bench.sh --quick --no-java

if [ -f fuzz/Cargo.toml ]; then
    step "fuzz targets type-check"
    cargo check --locked --manifest-path fuzz/Cargo.toml --bins
fi

step "all checks passed"
echo "$summary"
