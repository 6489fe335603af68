#!/usr/bin/env bash
# The main job, end to end: install what is needed, build the Java Card API stubs and the
# sample applets against them, build the `oxicard` command, show a CAP file's listing and
# drive a simulated card with an APDU script.
# It grows as oxicard grows (converter, simulated card, APDU scripts).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "Java Card API stubs"
bash scripts/build-api.sh

step "oxicard (release build)"
cargo build --release -p oxicard
oxicard="${CARGO_TARGET_DIR:-target}/release/oxicard"

step "sample applets: oxicard build (javac against the API stubs, then the converter)"
# Every folder under applets/ with an oxicard.toml is an applet project; its APDU script
# <name>.apdu, when present, is replayed on a simulated card.
mapfile -t manifests < <(find applets -name oxicard.toml -not -path '*/build/*' | LC_ALL=C sort)
for manifest in "${manifests[@]}"; do
    applet=$(dirname "$manifest")
    name=$(basename "$applet")
    "$oxicard" build "$applet" --out "build/applets/$name" --api-jar build/api/oxicard-api.jar
    if [ -f "$applet/$name.apdu" ]; then
        step "oxicard run --sim: $name's script on a simulated card"
        cap=$(find "build/applets/$name" -maxdepth 1 -name '*.cap' | head -n 1)
        "$oxicard" run --sim --cap "$cap" "$applet/$name.apdu"
    fi
done

golden=../shared/golden
if [ -d "$golden" ]; then
    step "oxicard cap dump $golden/hello/hello.cap"
    "$oxicard" cap dump "$golden/hello/hello.cap"

    step "oxicard run --sim: the golden wallet transcript on a simulated card"
    "$oxicard" run --sim --cap "$golden/wallet/wallet.cap" "$golden/wallet/transcript.apdu"
fi
step "done"
