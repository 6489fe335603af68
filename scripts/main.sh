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

step "sample applets: javac against the API stubs, then oxicard convert"
# Each sample applet folder has src/ and an applet.conf: PACKAGE PACKAGE_AID VERSION APPLET_AID:CLASS
for applet in applets/*/; do
    applet=${applet%/}
    name=$(basename "$applet")
    [ -f "$applet/applet.conf" ] || continue
    read -r package package_aid version applet_spec < "$applet/applet.conf"
    classes="build/applets/$name/classes"
    rm -rf "$classes" && mkdir -p "$classes"
    mapfile -t sources < <(find "$applet/src" -name '*.java' | sort)
    javac -nowarn -Xlint:-options -g -source 7 -target 7 -encoding UTF-8 \
        -cp build/api/oxicard-api.jar -d "$classes" "${sources[@]}"
    "$oxicard" convert --classdir "$classes" --applet "$applet_spec" --listing \
        --out "build/applets/$name" "$package" "$package_aid" "$version"
    step "oxicard run --sim: $name's script on a simulated card"
    "$oxicard" run --sim --cap "build/applets/$name/${package##*.}.cap" "$applet/$name.apdu"
done

golden=../shared/golden
if [ -d "$golden" ]; then
    step "oxicard cap dump $golden/hello/hello.cap"
    "$oxicard" cap dump "$golden/hello/hello.cap"

    step "oxicard run --sim: the golden wallet transcript on a simulated card"
    "$oxicard" run --sim --cap "$golden/wallet/wallet.cap" "$golden/wallet/transcript.apdu"
fi
step "done"
