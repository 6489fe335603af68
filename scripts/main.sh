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

step "sample applets (javac against the API stubs)"
for applet in applets/*/; do
    name=$(basename "$applet")
    [ "$name" = api ] && continue
    [ -d "$applet/src" ] || continue
    out="build/applets/$name/classes"
    rm -rf "$out" && mkdir -p "$out"
    mapfile -t sources < <(find "$applet/src" -name '*.java' | sort)
    javac -nowarn -Xlint:-options -g -source 7 -target 7 -encoding UTF-8 \
        -cp build/api/oxicard-api.jar -d "$out" "${sources[@]}"
    echo "$name: ${#sources[@]} source file(s) -> $out"
done

step "oxicard (release build)"
cargo build --release -p oxicard
oxicard=target/release/oxicard

golden=../shared/golden
if [ -d "$golden" ]; then
    step "oxicard cap dump $golden/hello/hello.cap"
    "$oxicard" cap dump "$golden/hello/hello.cap"

    step "oxicard run --sim: the golden wallet transcript on a simulated card"
    "$oxicard" run --sim --cap "$golden/wallet/wallet.cap" "$golden/wallet/transcript.apdu"
fi
step "done"
