#!/usr/bin/env bash
# The firmware card through PC/SC (issue 8): builds the QEMU card firmware
# (firmware/boards/qemu-lm3s6965) and `oxicard`, boots the firmware under qemu-system-arm with
# UART0 on a local TCP socket and its NVM image file in a temporary directory, and attaches
# `oxicard bridge --tcp` to vsmartcard's vpcd, so that the card sits in a pcscd reader. Then:
#
#   1. the golden hello and wallet applets are installed with `oxicard gp` over PC/SC, and the
#      golden hello and wallet transcripts pass through `oxicard run --reader`;
#   2. opensc-tool selects the hello applet and gets "Hello";
#   3. QEMU and the bridge are killed and started again on the same NVM image file: the
#      applets are still listed and the wallet balance the transcript left is unchanged;
#   4. APDU round trips per second through pcscd, vpcd, the bridge and QEMU (opensc-tool, one
#      SELECT then N HELLO commands);
#   5. instructions per JCVM bytecode: a fresh card under `-icount shift=0` (one virtual
#      nanosecond per instruction) with the golden lib and bytecodes packages (they do not fit
#      into the board's 32 KiB NVM: this card is a build with 40 KiB, OXICARD_QEMU_NVM_KIB=40,
#      whose stack has 8 KiB less) runs the CRC-16
#      command of the golden bytecodes transcript (250 bytes x 200 rounds, 6,003,805 JCVM
#      bytecodes: tests/src/bench.rs) and the same command with 0 rounds; the firmware
#      reports each command's SysTick ticks and a calibration on the semihosting stderr, and
#      (instructions(x200) - instructions(x0)) / 6,003,805 is printed. The x200 command runs
#      twice and must take the same number of ticks within three (a tick is 80 instructions;
#      where in a tick a command starts depends on when its bytes came over the socket, and
#      SysTick wraps add an exception or not: eight runs in a row spread over 3 ticks).
#
# Needs pcscd with vpcd running (scripts/pcsc-env.sh install start; scripts/test.sh does it)
# and qemu-system-arm (skipped with a message when missing, like scripts/firmware.sh).
#
# Environment: OXICARD_GOLDEN (default ../shared/golden next to the repository),
# CARGO_TARGET_DIR (as for cargo), FIRMWARE_PCSC_SLOT (vpcd slot, default 1: reader
# "Virtual PCD 00 01" on port 35964, so that a simulator in slot 0 is left alone),
# FIRMWARE_PCSC_ROUND_TRIPS (default 500).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
. scripts/firmware-ram.sh

say() { printf '[firmware-pcsc] %s\n' "$*"; }
fail() {
    printf '[firmware-pcsc] FAIL: %s\n' "$*" >&2
    exit 1
}

golden=${OXICARD_GOLDEN:-$repo/../shared/golden}
slot=${FIRMWARE_PCSC_SLOT:-1}
vpcd_port=$((35963 + slot))
reader="Virtual PCD 00 $(printf '%02d' "$slot")"
round_trips=${FIRMWARE_PCSC_ROUND_TRIPS:-500}
target=${CARGO_TARGET_DIR:-$repo/target}
board=firmware/boards/qemu-lm3s6965
elf=$target/firmware-boards/thumbv7m-none-eabi/release/oxicard-qemu
bench_elf=$target/firmware-bench/thumbv7m-none-eabi/release/oxicard-qemu
oxicard=$target/debug/oxicard

if ! command -v qemu-system-arm >/dev/null 2>&1; then
    say "qemu-system-arm missing: skipped"
    exit 0
fi
for tool in opensc-tool python3; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (scripts/pcsc-env.sh install)"
done

say "cargo build --release ($board; also with a 40 KiB NVM), cargo build -p oxicard"
(cd "$board" && CARGO_TARGET_DIR=$target/firmware-boards cargo build --release --quiet)
(cd "$board" && OXICARD_QEMU_NVM_KIB=40 CARGO_TARGET_DIR=$target/firmware-bench \
    cargo build --release --quiet)
cargo build --quiet -p oxicard

work=$(mktemp -d)
qemu_pid=
bridge_pid=
stop_card() {
    # the bridge first, so that the card leaves the reader before its line goes
    if [ -n "$bridge_pid" ]; then
        kill "$bridge_pid" 2>/dev/null || true
        wait "$bridge_pid" 2>/dev/null || true
        bridge_pid=
    fi
    if [ -n "$qemu_pid" ]; then
        kill "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
        qemu_pid=
    fi
}
cleanup() {
    stop_card
    rm -rf "$work"
}
run_dir=$work
trap cleanup EXIT
trap 'exit 130' INT TERM

# Shows the logs of the current card and fails.
card_fail() {
    for log in "$run_dir"/qemu.log "$run_dir"/bridge.log; do
        [ -f "$log" ] && { echo "--- $log" >&2; tail -n 30 "$log" >&2; }
    done
    fail "$@"
}

# Succeeds when pcscd lists the reader with a card in it ("Yes") / without one ("No").
reader_state() {
    timeout 10 opensc-tool -l 2>/dev/null | grep -E "^[0-9]+ +$1 .*$reader\$" >/dev/null
}

wait_reader() { # state what
    local deadline=$((SECONDS + 30))
    until reader_state "$1"; do
        [ $SECONDS -lt $deadline ] || card_fail "$2"
        sleep 0.2
    done
}

timeout 10 opensc-tool -l 2>/dev/null | grep -q "$reader" ||
    fail "pcscd does not list \"$reader\" (start it: scripts/pcsc-env.sh install start)"
wait_reader No "a card is in \"$reader\" already (another bridge or simulator on vpcd port $vpcd_port?)"

# Boots the firmware in $run_dir (its NVM image file is $run_dir/oxicard-card.nvm) with the
# QEMU options given, and attaches the bridge; waits for the card in the reader.
start_card() {
    local port=$((20000 + RANDOM % 20000))
    (cd "$run_dir" && exec qemu-system-arm -machine lm3s6965evb -nographic -monitor none \
        -semihosting-config enable=on,target=native "$@" \
        -serial "tcp:127.0.0.1:$port,server=on,wait=on,nodelay=on" -kernel "${kernel:-$elf}" \
        >>qemu.log 2>&1) &
    qemu_pid=$!
    "$oxicard" bridge --tcp "127.0.0.1:$port" --vpcd "localhost:$vpcd_port" --wait 30 \
        --bwt-ms "${bwt_ms:-5000}" >>"$run_dir/bridge.log" 2>&1 &
    bridge_pid=$!
    wait_reader Yes "the firmware card did not appear in \"$reader\" within 30 s"
}

# `oxicard run` of a script over PC/SC; checks the summary.
run_script() { # script exchanges
    local output
    output=$(timeout 300 "$oxicard" run --quiet --skip-install --reader "$reader" "$1" 2>&1) ||
        card_fail "oxicard run $1:"$'\n'"$output"
    grep -q "$2 exchanges sent, $2 matched, 0 differed" <<<"$output" ||
        card_fail "oxicard run $1: expected $2 matched exchanges:"$'\n'"$output"
    say "$(basename "$(dirname "$1")")/$(basename "$1"): $2 of $2 exchanges matched"
}

gp() {
    local output
    output=$(timeout 300 "$oxicard" gp --reader "$reader" "$@" 2>&1) ||
        card_fail "oxicard gp $*:"$'\n'"$output"
    echo "$output"
}

# The wallet balance through opensc-tool (SELECT F00000010401, GET BALANCE): 4 hex digits.
wallet_balance() {
    local output
    output=$(timeout 30 opensc-tool -r "$reader" -s 00A4040006F00000010401 -s 8030000000 2>&1) ||
        card_fail "opensc-tool GET BALANCE:"$'\n'"$output"
    python3 -c '
import sys
lines = sys.stdin.read().splitlines()
for i, line in enumerate(lines):
    if line.startswith("Sending: 80 30") and lines[i + 1].startswith("Received (SW1=0x90, SW2=0x00):"):
        print("".join(lines[i + 2].split()[:2]))
        break
else:
    sys.exit("no GET BALANCE answer with 9000 in:\n" + "\n".join(lines))
' <<<"$output" || card_fail "GET BALANCE failed"
}

# The stack depth by phase: the firmware reports how deep its stack went at boot and with
# every command (src/stack.rs) in qemu.log; a phase is the lines up to its mark.
phases=()
mark_phase() { # name
    phases+=("$1=$(wc -l <"$run_dir/qemu.log")")
}

# ---- 1. install and the golden transcripts
run_dir=$work/card
mkdir -p "$run_dir"
start_card
mark_phase "boot (new card)"
say "card in \"$reader\": $(grep -o 'ATR .*' "$run_dir/bridge.log" | head -n1)"
gp install "$golden/hello/hello.cap" | sed 's/^/[firmware-pcsc]   /'
gp install "$golden/wallet/wallet.cap" --params 04313233340064 | sed 's/^/[firmware-pcsc]   /'
# the wallet transcript installs a second instance halfway through
gp install "$golden/wallet/wallet.cap" --instance F00000010402 --params 023939 |
    sed 's/^/[firmware-pcsc]   /'
mark_phase "gp install: LOAD of the hello and wallet CAPs, INSTALL of 3 instances"
run_script "$golden/hello/transcript.apdu" 18
mark_phase "hello transcript"
run_script "$golden/wallet/transcript.apdu" 64
mark_phase "wallet transcript"
used=$(python3 -c '
import sys
image = open(sys.argv[1], "rb").read()
print(max((i + 1 for i, b in enumerate(image) if b != 0xFF), default=0), len(image))
' "$run_dir/oxicard-card.nvm")
say "NVM image: bytes up to the last written one ${used% *} of ${used#* } (hello and wallet, 3 instances)"

# ---- 2. opensc-tool
answer=$(timeout 30 opensc-tool -r "$reader" -s 00A4040006F00000010101 -s 8002000000 2>&1) ||
    card_fail "opensc-tool:"$'\n'"$answer"
grep -q "48 65 6C 6C 6F" <<<"$answer" || card_fail "opensc-tool got no Hello:"$'\n'"$answer"
say "opensc-tool -r \"$reader\" -s 00A4040006F00000010101 -s 8002000000: 48 65 6C 6C 6F 90 00"

# ---- 3. restart on the same NVM image
before=$(wallet_balance)
mark_phase "opensc-tool (its card detection), HELLO, GET BALANCE"
stop_card
wait_reader No "the card stayed in \"$reader\" after QEMU and the bridge were stopped"
start_card
mark_phase "boot (on the image of hello and wallet)"
listing=$(gp list)
for instance in F00000010101 F00000010401 F00000010402; do
    grep -q "APP: $instance" <<<"$listing" || card_fail "$instance is gone after the restart:"$'\n'"$listing"
done
after=$(wallet_balance)
[ "$before" = "$after" ] || card_fail "wallet balance $before before the restart, $after after"
say "QEMU restarted on the same NVM image: applets listed, wallet balance 0x$after before and after"
run_script "$golden/hello/transcript.apdu" 18
mark_phase "gp list, GET BALANCE, hello transcript after the restart"

# ---- the RAM goal: static RAM + the deepest stack of every phase
static_ram=$(firmware_static_ram "$elf")
python3 - "$run_dir/qemu.log" "$static_ram" "$firmware_ram_goal" "${FIRMWARE_BUDGET:-enforce}" \
    "${phases[@]}" <<'PY' || card_fail "RAM goal"
import re, sys
log, static_ram, goal, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = open(log, errors="replace").read().splitlines()
depth = re.compile(r"oxicard-qemu: (?:boot|apdu [0-9A-F]+ ticks 0x[0-9A-F]+) stack (0x[0-9A-F]+)")
start, deepest = 0, 0
for phase in sys.argv[5:]:
    name, end = phase.rsplit("=", 1)
    depths = [int(m.group(1), 16) for line in lines[start:int(end)] if (m := depth.search(line))]
    if not depths:
        sys.exit(f"[firmware-pcsc] no stack depth reported during {name}")
    print(f"[firmware-pcsc] stack depth, {name}: {max(depths)} bytes ({len(depths)} reports)")
    deepest = max(deepest, max(depths))
    start = int(end)
total = static_ram + deepest
verdict = "within" if total <= goal else "OVER"
print(f"[firmware-pcsc] RAM: static {static_ram} (the card included, not the NVM image) + deepest stack "
      f"{deepest} = {total} bytes; goal {goal}: {verdict}")
if total > goal:
    if budget == "warn":
        print("[firmware-pcsc] over the RAM goal; FIRMWARE_BUDGET=warn: reported only")
    else:
        sys.exit(f"[firmware-pcsc] FAIL: static RAM + stack {total} > {goal}")
PY

# ---- 4. round trips per second
args=(-s 00A4040006F00000010101)
for _ in $(seq 1 "$round_trips"); do args+=(-s 8002000000); done
start_ns=$(date +%s%N)
hellos=$(timeout 300 opensc-tool -r "$reader" "${args[@]}" | grep -c "48 65 6C 6C 6F" || true)
end_ns=$(date +%s%N)
[ "$hellos" -eq "$round_trips" ] || card_fail "only $hellos of $round_trips HELLO round trips answered"
ms=$(((end_ns - start_ns) / 1000000))
say "$round_trips HELLO round trips (opensc-tool -> pcscd -> vpcd -> bridge -> T=1 over QEMU's UART) in $ms ms: $((round_trips * 1000 / (ms > 0 ? ms : 1))) round trips/s"
stop_card
wait_reader No "the card stayed in \"$reader\""

# ---- 5. instructions per JCVM bytecode under -icount shift=0
run_dir=$work/icount
mkdir -p "$run_dir"
bwt_ms=120000 kernel=$bench_elf start_card -icount shift=0
gp load "$golden/lib/lib.cap" | sed 's/^/[firmware-pcsc]   /'
gp install "$golden/bytecodes/bytecodes.cap" | sed 's/^/[firmware-pcsc]   /'
crc=$(grep -m1 '^> 80 20 00 C8 FA' "$golden/bytecodes/transcript.apdu")
crc_answer=$(grep -m1 -A1 '^> 80 20 00 C8 FA' "$golden/bytecodes/transcript.apdu" | tail -n1)
data=${crc#> 80 20 00 C8 FA }
{
    echo "> 00 A4 04 00 06 F00000010201"
    echo "< 9000"
    echo "> 80 20 00 00 FA $data"
    echo "< FFFF 9000"
    echo "$crc"
    echo "$crc_answer"
    echo "$crc"
    echo "$crc_answer"
} >"$work/crc.apdu"
run_script "$work/crc.apdu" 4
stop_card
python3 - "$run_dir/qemu.log" <<'PY' || card_fail "no instruction figure"
import re, sys
log = open(sys.argv[1]).read()
calibration = re.search(r"oxicard-qemu: calibration ticks (0x[0-9A-F]+) instructions (0x[0-9A-F]+)", log)
def ticks(header):
    return [int(t, 16) for t in re.findall(r"oxicard-qemu: apdu %s ticks (0x[0-9A-F]+)" % header, log)]
x0, x200 = ticks("80200000"), ticks("802000C8")
if not calibration or len(x0) != 1 or len(x200) != 2:
    sys.exit(f"[firmware-pcsc] timing lines missing in {sys.argv[1]}")
cal_ticks, cal_instructions = (int(v, 16) for v in calibration.groups())
if abs(x200[0] - x200[1]) > 3:
    sys.exit(f"[firmware-pcsc] CRC x200 took {x200[0]} then {x200[1]} ticks: not deterministic")
per_tick = cal_instructions / cal_ticks
bytecodes = 6_003_805
instructions = (x200[0] - x0[0]) * per_tick
print(f"[firmware-pcsc] -icount shift=0: calibration {cal_ticks} ticks for {cal_instructions} instructions ({per_tick:g} a tick); "
      f"CRC-16 x0 {x0[0]} ticks, x200 {x200[0]} and {x200[1]} ticks")
print(f"[firmware-pcsc] CRC-16 250 B x 200: {instructions:,.0f} instructions for {bytecodes:,} JCVM bytecodes: "
      f"{instructions / bytecodes:.1f} instructions per bytecode")
PY
say "passed"
