#!/usr/bin/env bash
# Builds the oxicard card firmware for QEMU's lm3s6965evb (firmware/boards/qemu-lm3s6965) in
# its two variants, reports their sizes (text, data, bss) and the flash the crypto API adds,
# and when qemu-system-arm is there, boots the budget build with UART0 on a local TCP socket
# and checks the ATR and one T=1 exchange (GET DATA 0066 to the card manager), that the NVM
# image file is written, and how deep the stack went (the firmware paints its stack and reports
# the depth at boot and with every command: src/stack.rs).
#
# Variants: the budget build (default features: javacard.security / javacardx.crypto on the
# card without any algorithm, getInstance throws NO_SUCH_ALGORITHM; and oxicard-vm without its
# `proven-loop`: every method runs in the checked interpreter loop) and `--features crypto`.
# Budget (issue 8), without crypto: the goal is 64 KiB flash (text + data) and 16 KiB RAM
# (data + bss without the NVM image, which stands in for the flash of a real board, plus the
# stack; scripts/firmware-ram.sh). The RAM goal is met and enforced: here with the stack of
# boot and GET DATA, in scripts/firmware-pcsc.sh with the deepest stack of card manager loads
# and installs and the golden hello and wallet transcripts. The flash goal is met and enforced:
# a budget build over 65,536 bytes of text + data fails the script. FIRMWARE_BUDGET=warn only
# reports.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/firmware-ram.sh

board=firmware/boards/qemu-lm3s6965
target_dir=${CARGO_TARGET_DIR:-$PWD/target}/firmware-boards
built=$target_dir/thumbv7m-none-eabi/release/oxicard-qemu
elf=$target_dir/oxicard-qemu.elf
elf_crypto=$target_dir/oxicard-qemu-crypto.elf
# enforced: the flash goal itself, and a ceiling for the static RAM
flash_budget=65536
static_ram_ceiling=16384

echo "[firmware] cargo build --release --features crypto ($board)"
(cd "$board" && CARGO_TARGET_DIR=$target_dir cargo build --locked --release --quiet --features crypto)
cp "$built" "$elf_crypto"
echo "[firmware] cargo build --release ($board, the budget build)"
(cd "$board" && CARGO_TARGET_DIR=$target_dir cargo build --locked --release --quiet)
cp "$built" "$elf"

size_tool=$(command -v llvm-size || command -v arm-none-eabi-size || true)
nm_tool=$(command -v llvm-nm || command -v arm-none-eabi-nm || true)
if [ -z "$size_tool" ] || [ -z "$nm_tool" ]; then
    echo "[firmware] llvm-size/llvm-nm (or arm-none-eabi-size/-nm) missing: cannot check the budget" >&2
    exit 1
fi
read -r text data bss _ < <("$size_tool" "$elf" | tail -n1)
read -r ctext cdata cbss _ < <("$size_tool" "$elf_crypto" | tail -n1)
flash=$((text + data))
ram=$(firmware_static_ram "$elf")
# the NVM image in RAM (main.rs's IMAGE): a real board keeps it in flash
nvm_image=$((data + bss - ram))
printf '[firmware] without crypto: text %d, data %d, bss %d bytes (bss holds the %d-byte NVM image)\n' \
    "$text" "$data" "$bss" "$nvm_image"
printf '[firmware] with crypto:    text %d, data %d, bss %d bytes; the crypto API adds %d bytes of flash\n' \
    "$ctext" "$cdata" "$cbss" "$((ctext + cdata - flash))"
# where the budget build's flash goes: code and constants by crate (named symbols; inlined
# code counts for the function it was inlined into), then the largest functions
"$nm_tool" -S -C --radix=d "$elf" | awk -v text="$text" '
    $3 ~ /^[tTrR]$/ {
        name = $4; sub(/^_\$LT\$/, "", name); sub(/^</, "", name)
        crate = name; sub(/(::|\.\.).*/, "", crate)
        if (crate ~ /^(__|OUTLINED_FUNCTION|mem|Reset|HardFault|DefaultHandler)/) crate = "(runtime, builtins)"
        by[crate] += $2; named += $2
    }
    END {
        line = "[firmware] budget build by crate:"
        for (c in by) if (by[c] >= 256) line = line sprintf(" %s %d,", c, by[c])
        printf "%s unnamed constants %d\n", line, text - named
    }'
echo "[firmware] largest functions: $("$nm_tool" -S -C --radix=d --size-sort "$elf" | awk '$3 ~ /^[tT]$/' |
    tail -n 6 | awk '{n = $4; sub(/::h[0-9a-f]+$/, "", n); gsub(/_\$LT\$|\$LT\$/, "<", n); gsub(/\$GT\$/, ">", n)
        gsub(/\$u20\$/, " ", n); gsub(/\.\./, "::", n); printf "%s %d; ", n, $2}')"
over=()
if [ "$flash" -le "$flash_budget" ]; then
    verdict="within the goal, $((flash_budget - flash)) bytes to spare"
else
    verdict="OVER the goal by $((flash - flash_budget)) bytes"
fi
printf '[firmware] budget build: flash %d; goal %d (enforced): %s\n' "$flash" "$flash_budget" "$verdict"
[ "$flash" -le "$flash_budget" ] || over+=(flash)
printf '[firmware] budget build: static RAM without the NVM image %d, the card included (goal for all RAM, stack included: %d; the stack depth is measured below)\n' "$ram" "$firmware_ram_goal"
[ "$ram" -le "$static_ram_ceiling" ] || over+=(RAM)
static_ram=$ram
budget_verdict() {
    if [ "${#over[@]}" -gt 0 ]; then
        if [ "${FIRMWARE_BUDGET:-enforce}" = warn ]; then
            echo "[firmware] over budget (${over[*]}); FIRMWARE_BUDGET=warn: reported only" >&2
        else
            echo "[firmware] FAIL: the budget build is over its budget (${over[*]})" >&2
            exit 1
        fi
    fi
}

if ! command -v qemu-system-arm >/dev/null 2>&1; then
    echo "[firmware] qemu-system-arm missing: boot check skipped"
    budget_verdict
    exit 0
fi

# the Thumb-2 memcpy/memmove/memset (firmware/common/src/mem.rs) against volatile byte loops
# (examples/memcheck.rs: every offset 0..7 x 0..7, length 0..39; exits with a failure status
# through semihosting on a mismatch)
(cd "$board" && CARGO_TARGET_DIR=$target_dir cargo build --locked --release --quiet --example memcheck)
if ! memcheck=$(timeout 60 qemu-system-arm -machine lm3s6965evb -nographic -monitor none \
    -semihosting-config enable=on,target=native \
    -kernel "$target_dir/thumbv7m-none-eabi/release/examples/memcheck" 2>&1); then
    printf '[firmware] FAIL: the memory routines disagree with the byte loops (or hung):\n%s\n' "$memcheck" >&2
    exit 1
fi
echo "[firmware] QEMU: $(grep '^memcheck:' <<<"$memcheck")"

run_dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
qemu_pid=
cleanup() {
    if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; fi
    rm -rf "$run_dir"
}
trap cleanup EXIT
# the stack: between the end of the static RAM and the top of RAM (cortex-m-rt's symbols)
stack_end=$("$nm_tool" "$elf" | awk '$3 == "_stack_end" {print $1}')
stack_start=$("$nm_tool" "$elf" | awk '$3 == "_stack_start" {print $1}')
(cd "$run_dir" && exec qemu-system-arm -machine lm3s6965evb -nographic \
    -monitor none \
    -semihosting-config enable=on,target=native \
    -serial "tcp:127.0.0.1:$port,server=on,wait=on" -kernel "$elf" >qemu.log 2>&1) &
qemu_pid=$!

# exit status 3: over the RAM goal (reported with the other budget checks at the end)
status=0
python3 - "$port" "$run_dir" "$stack_end" "$stack_start" "$static_ram" "$firmware_ram_goal" <<'PY' || status=$?
import os, socket, sys, time
port = int(sys.argv[1])
run_dir = sys.argv[2]
stack_end, stack_start = int(sys.argv[3], 16), int(sys.argv[4], 16)
static_ram, goal = int(sys.argv[5]), int(sys.argv[6])
deadline = time.time() + 20
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("[firmware] QEMU's serial socket never opened")
        time.sleep(0.1)
s.settimeout(20)
def read(n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            sys.exit("[firmware] serial line closed")
        out += chunk
    return out
atr = read(14)
expected = bytes.fromhex("3b89800180676f78696361726485")
if atr != expected:
    sys.exit(f"[firmware] ATR {atr.hex()} != {expected.hex()}")
def block(pcb, inf):
    b = bytes([0, pcb, len(inf)]) + inf
    lrc = 0
    for x in b:
        lrc ^= x
    return b + bytes([lrc])
def receive():
    head = read(3)
    rest = read(head[2] + 1)
    frame = head + rest
    lrc = 0
    for x in frame:
        lrc ^= x
    if lrc:
        sys.exit(f"[firmware] bad LRC in {frame.hex()}")
    return frame[1], frame[3:-1]
# GET DATA 0066 (card data) to the card manager, response chained in 32-byte blocks
s.sendall(block(0x00, bytes.fromhex("80CA006600")))
response, nr = b"", 0
while True:
    pcb, inf = receive()
    response += inf
    if pcb & 0x20 == 0:
        break
    nr ^= 1
    s.sendall(block(0x80 | (nr << 4), b""))
if response[-2:] != b"\x90\x00" or response[0] != 0x66:
    sys.exit(f"[firmware] GET DATA answered {response.hex()}")
print(f"[firmware] QEMU: ATR {atr.hex()}, GET DATA 0066 -> {len(response)} bytes, 9000 over T=1")
# how deep the stack went (the firmware paints it: firmware/boards/qemu-lm3s6965/src/stack.rs)
# at boot and with the command, from its semihosting stderr in qemu.log
import re
log_path = os.path.join(run_dir, "qemu.log")
deadline = time.time() + 10
while True:
    log = open(log_path, errors="replace").read()
    boot = re.search(r"oxicard-qemu: boot stack (0x[0-9A-F]+)", log)
    command = re.search(r"oxicard-qemu: apdu 80CA0066 ticks 0x[0-9A-F]+ stack (0x[0-9A-F]+)", log)
    if boot and command:
        break
    if time.time() > deadline:
        sys.exit(f"[firmware] no stack report in {log_path}:\n{log}")
    time.sleep(0.05)
region = stack_start - stack_end
deepest = max(int(boot.group(1), 16), int(command.group(1), 16))
print(f"[firmware] stack depth: boot {int(boot.group(1), 16)}, GET DATA {int(command.group(1), 16)} "
      f"bytes of the {region}-byte stack region; static RAM + stack {static_ram + deepest} of {goal} "
      "(scripts/firmware-pcsc.sh measures it through the golden wallet and hello)")
if deepest >= region:
    sys.exit("[firmware] the stack reached the end of its region: it overflows into the static RAM")
if static_ram + deepest > goal:
    print(f"[firmware] static RAM + stack {static_ram + deepest} > {goal}", file=sys.stderr)
    sys.exit(3)
PY
case $status in
0) ;;
3) over+=("RAM with the stack") ;;
*) exit "$status" ;;
esac
if [ ! -s "$run_dir/oxicard-card.nvm" ]; then
    echo "[firmware] the NVM image file was not written through semihosting" >&2
    exit 1
fi
echo "[firmware] NVM image persisted: $(stat -c %s "$run_dir/oxicard-card.nvm") bytes"
budget_verdict
