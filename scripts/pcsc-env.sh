#!/usr/bin/env bash
# A PC/SC environment for `oxicard sim`: pcscd with vsmartcard's vpcd driver, and an end-to-end
# check that the simulated card with the golden hello applet answers through pcscd.
#
#   scripts/pcsc-env.sh install   apt-get install pcscd vsmartcard-vpcd pcsc-tools opensc
#                                 libpcsclite-dev (only what is missing; needs root or sudo)
#   scripts/pcsc-env.sh start     start pcscd in the foreground, in the background (unless one
#                                 is running), and wait until it lists "Virtual PCD 00 00"
#   scripts/pcsc-env.sh check     build `oxicard`, run `oxicard sim` with hello.cap, and check
#                                 `opensc-tool` sees the card and gets "Hello" 90 00; also times
#                                 1000 HELLO round trips through pcscd
#   scripts/pcsc-env.sh stop      stop the pcscd this script started
#   scripts/pcsc-env.sh           install, start and check
#   scripts/pcsc-env.sh install start   several commands, in order (what scripts/test.sh runs)
#
# Environment: OXICARD_GOLDEN (default: ../shared/golden next to the repository),
# PCSC_ENV_DIR (pid and log files, default /tmp/oxicard-pcsc), CARGO_TARGET_DIR (as for cargo).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
golden=${OXICARD_GOLDEN:-$repo/../shared/golden}
state=${PCSC_ENV_DIR:-/tmp/oxicard-pcsc}
reader="Virtual PCD 00 00"
packages=(pcscd vsmartcard-vpcd pcsc-tools opensc libpcsclite-dev)
mkdir -p "$state"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install() {
    local missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "pcsc-env: ${packages[*]} already installed"
        return
    fi
    echo "pcsc-env: installing ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Succeeds once pcscd lists the vpcd reader (the driver is loaded and vpcd listens).
reader_listed() {
    timeout 10 opensc-tool -l 2>/dev/null | grep -q "$reader"
}

# pcscd writes its pid here; a pid that is not a live pcscd is stale.
pcscd_pid_file=/run/pcscd/pcscd.pid

pcscd_pid() {
    [ -f "$pcscd_pid_file" ] && tr -dc '0-9' <"$pcscd_pid_file"
}

pcscd_running() {
    local pid
    pid=$(pcscd_pid) || return 1
    [ -n "$pid" ] && [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = pcscd ] &&
        [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]
}

start() {
    if pcscd_running; then
        echo "pcsc-env: pcscd already running (pid $(pcscd_pid))"
    else
        echo "pcsc-env: starting pcscd (log: $state/pcscd.log)"
        # The foreground daemon in a session of its own, so Ctrl-C in this shell leaves it alone.
        as_root setsid -f pcscd --foreground >"$state/pcscd.log" 2>&1
        for _ in $(seq 1 50); do
            pcscd_running && break
            sleep 0.1
        done
        pcscd_pid >"$state/pcscd.pid"
    fi
    for _ in $(seq 1 50); do
        if reader_listed; then
            echo "pcsc-env: pcscd lists \"$reader\""
            return
        fi
        sleep 0.2
    done
    echo "pcsc-env: pcscd does not list \"$reader\" (is vsmartcard-vpcd installed?)" >&2
    return 1
}

stop() {
    if [ -f "$state/pcscd.pid" ] && pcscd_running &&
        [ "$(cat "$state/pcscd.pid")" = "$(pcscd_pid)" ]; then
        as_root kill "$(cat "$state/pcscd.pid")"
        rm -f "$state/pcscd.pid"
        echo "pcsc-env: pcscd stopped"
    else
        echo "pcsc-env: no pcscd started by this script"
    fi
}

sim_pid=
stop_sim() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
        sim_pid=
    fi
}

check() {
    (cd "$repo" && cargo build -q -p oxicard)
    local target=${CARGO_TARGET_DIR:-$repo/target}
    "$target/debug/oxicard" sim --cap "$golden/hello/hello.cap" \
        --install F00000010100:F00000010101 >"$state/sim.log" 2>&1 &
    sim_pid=$!
    trap stop_sim EXIT
    local card=no
    for _ in $(seq 1 50); do
        if timeout 10 opensc-tool -l 2>/dev/null | grep -q "Yes .*$reader"; then
            card=yes
            break
        fi
        sleep 0.2
    done
    if [ $card != yes ]; then
        echo "pcsc-env: no card in \"$reader\"; oxicard sim said:" >&2
        cat "$state/sim.log" >&2
        return 1
    fi
    echo "pcsc-env: card present in \"$reader\""
    local answer
    answer=$(timeout 20 opensc-tool -r "$reader" -s 00A4040006F00000010101 -s 8002000000)
    if ! grep -q "SW1=0x90, SW2=0x00):" <<<"$answer" || ! grep -q "48 65 6C 6C 6F" <<<"$answer"; then
        echo "pcsc-env: unexpected answer:" >&2
        echo "$answer" >&2
        return 1
    fi
    echo "pcsc-env: SELECT + HELLO through pcscd answered 48 65 6C 6C 6F 90 00"
    local args=(-s 00A4040006F00000010101) count=1000
    for _ in $(seq 1 $count); do args+=(-s 8002000000); done
    local start_ns end_ns hellos
    start_ns=$(date +%s%N)
    hellos=$(timeout 120 opensc-tool -r "$reader" "${args[@]}" | grep -c "48 65 6C 6C 6F")
    end_ns=$(date +%s%N)
    if [ "$hellos" -ne $count ]; then
        echo "pcsc-env: only $hellos of $count HELLO round trips answered" >&2
        return 1
    fi
    echo "pcsc-env: $count HELLO round trips in $(((end_ns - start_ns) / 1000000)) ms"
    stop_sim
}

# Several commands run in order: `scripts/pcsc-env.sh install start`.
[ $# -gt 0 ] || set -- all
for command in "$@"; do
    case "$command" in
    install) install ;;
    start) start ;;
    check) check ;;
    stop) stop ;;
    all)
        install
        start
        check
        ;;
    *)
        echo "usage: $0 [install|start|check|stop]..." >&2
        exit 2
        ;;
    esac
done
