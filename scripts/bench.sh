#!/usr/bin/env bash
# The VM benchmark (`cargo bench -p oxicard-tests --bench vm`, issue 3) on a profile-guided
# release build of the VM (the plain `cargo bench` measures the build without a profile).
#
#   bash scripts/bench.sh              the full benchmark (about 30 s after the builds)
#   bash scripts/bench.sh --quick      a short smoke run; any argument goes to the benchmark
#
# Three steps, each in a target directory of its own under target/ (the ordinary build is
# left alone):
#   1. build the benchmark instrumented (-Cprofile-generate) and run its training mode
#      (`-- --train`): every golden transcript replayed on the benchmark's card type, WITHOUT
#      the commands the benchmark times (tests/src/pgo_training.rs);
#   2. merge the counts with llvm-profdata (rustup's llvm-tools, same LLVM as rustc);
#   3. build the benchmark with -Cprofile-use and run it with the arguments given.
# The compiler flags of .cargo/config.toml (code alignment) apply to both builds: the profile
# flags are added with --config, which appends to them. Installs what it needs first
# (scripts/setup.sh: the JDK for the HotSpot side, llvm-tools).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    echo "error: $profdata not found (rustup component add llvm-tools)" >&2
    exit 1
fi

profiles="$PWD/target/pgo-profiles"
rm -rf "$profiles"
mkdir -p "$profiles"
rustflags_key="target.$host.rustflags"

step "1/3 instrumented build and training run (golden transcripts, timed commands left out)"
CARGO_TARGET_DIR=target/pgo-generate cargo bench --locked -p oxicard-tests --bench vm \
    --config "$rustflags_key=[\"-Cprofile-generate=$profiles\"]" -- --train

step "2/3 merging the profile"
"$profdata" merge -o "$profiles/merged.profdata" "$profiles"/*.profraw
ls -l "$profiles/merged.profdata"

step "3/3 profile-guided build and the benchmark"
OXICARD_BENCH_PGO="the golden transcripts without the timed commands (scripts/bench.sh)" \
    CARGO_TARGET_DIR=target/pgo-use cargo bench --locked -p oxicard-tests --bench vm \
    --config "$rustflags_key=[\"-Cprofile-use=$profiles/merged.profdata\"]" -- "$@"
