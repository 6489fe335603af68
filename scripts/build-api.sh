#!/usr/bin/env bash
# Builds the Java Card API stub jar build/api/oxicard-api.jar from the sources in applets/api/src.
#
# Applets are compiled against this jar as their boot class path, e.g.
#   javac -source 7 -target 7 -g -encoding UTF-8 -bootclasspath build/api/oxicard-api.jar ...
# The stubs include java.lang, so they are compiled with themselves as the boot class path.
# Class files are version 51 (Java 7), like the golden class files; Oracle's converter accepts 45-54.
#
# Idempotent: installs a JDK with apt-get only if javac is missing, and rebuilds only when a stub
# source is newer than the jar (or the jar is missing). Set OXICARD_API_FORCE=1 to rebuild anyway.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
src="$repo/applets/api/src"
out="$repo/build/api"
classes="$out/classes"
jar_file="$out/oxicard-api.jar"

if ! command -v javac >/dev/null 2>&1 || ! command -v jar >/dev/null 2>&1; then
    echo "build-api: javac or jar not found, installing openjdk-17-jdk-headless"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
fi

mapfile -t sources < <(cd "$src" && find . -name '*.java' | sed 's|^\./||' | LC_ALL=C sort)
if [ "${#sources[@]}" -eq 0 ]; then
    echo "build-api: no stub sources under $src" >&2
    exit 1
fi

if [ "${OXICARD_API_FORCE:-0}" != 1 ] && [ -f "$jar_file" ] \
    && [ -z "$(find "$src" "$0" -newer "$jar_file" -print -quit)" ]; then
    echo "build-api: $jar_file is up to date (${#sources[@]} sources)"
    exit 0
fi

rm -rf "$classes"
mkdir -p "$classes"
echo "build-api: compiling ${#sources[@]} stub sources with $(javac -version 2>&1)"
# -source/-target 7 is obsolete in JDK 17 (warning only, silenced by -Xlint:-options).
(cd "$src" && javac -source 7 -target 7 -encoding UTF-8 -Xlint:-options -nowarn \
    -bootclasspath "$classes" -d "$classes" "${sources[@]}")

# A fixed order and timestamp keep the jar the same from one build to the next.
rm -f "$jar_file"
mapfile -t class_files < <(cd "$classes" && find . -name '*.class' | sed 's|^\./||' | LC_ALL=C sort)
date_flag=()
if jar --help 2>&1 | grep -q -- '--date'; then
    date_flag=(--date=2000-01-01T00:00:00Z)
fi
(cd "$classes" && jar --create --file "$jar_file" --no-manifest "${date_flag[@]}" "${class_files[@]}")
echo "build-api: wrote $jar_file (${#class_files[@]} classes)"
