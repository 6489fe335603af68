#!/usr/bin/env bash
# Builds the oxicard card firmware for the real dev boards (no board needs to be attached)
# and reports their sizes: firmware/boards/nucleo-f411re (ST NUCLEO-F411RE, STM32F411RE),
# once with the card's NVM on internal flash (the default) and once with the `eeprom`
# feature (a 24LC256 on I2C1). Both without the crypto API (the board's `crypto` feature
# adds it). Each board is its own cargo workspace with a committed Cargo.lock (--locked).
#
# Checks the flash layout of the default build: the vector table must end before the NVM
# sectors (flash sectors 1 to 3, 0x0800_4000..0x0801_0000) and the program must start after
# them (memory.x's _stext), and the static RAM must leave room for the stack.
set -euo pipefail
cd "$(dirname "$0")/.."

board=firmware/boards/nucleo-f411re
target_dir=${CARGO_TARGET_DIR:-$PWD/target}/firmware-boards
elf=$target_dir/thumbv7m-none-eabi/release/oxicard-nucleo-f411re
size_tool=$(command -v llvm-size || command -v arm-none-eabi-size || true)

# nucleo-f411re: 512 KiB flash of which 64 KiB (sectors 0 to 3) are the vector table and the
# NVM, 128 KiB RAM (the card is built in place in its static; the QEMU board measures the
# stack of the same runtime at under 6 KiB: 48 KiB are kept for it here, with room to spare).
flash_for_program=$(((512 - 64) * 1024))
ram_for_statics=$(((128 - 48) * 1024))

report() {
    local variant=$1
    if [ -z "$size_tool" ]; then
        echo "[firmware-boards] nucleo-f411re ($variant): built (no llvm-size/arm-none-eabi-size for the sizes)"
        return
    fi
    local text data bss
    read -r text data bss _ < <("$size_tool" "$elf" | tail -n1)
    printf '[firmware-boards] nucleo-f411re (%s): text %d, data %d, bss %d bytes\n' \
        "$variant" "$text" "$data" "$bss"
    if [ $((text + data)) -gt "$flash_for_program" ] || [ $((data + bss)) -gt "$ram_for_statics" ]; then
        echo "[firmware-boards] nucleo-f411re ($variant): over $flash_for_program bytes of program flash or $ram_for_statics bytes of static RAM" >&2
        exit 1
    fi
}

check_layout() {
    [ -n "$size_tool" ] || return 0
    local vector_end text_start
    vector_end=$("$size_tool" -A -d "$elf" | awk '$1 == ".vector_table" { print $3 + $2 }')
    text_start=$("$size_tool" -A -d "$elf" | awk '$1 == ".text" { print $3 }')
    if [ "$vector_end" -gt $((0x08004000)) ] || [ "$text_start" -lt $((0x08010000)) ]; then
        printf '[firmware-boards] nucleo-f411re: program overlaps the NVM sectors (vector table ends at 0x%x, .text starts at 0x%x)\n' \
            "$vector_end" "$text_start" >&2
        exit 1
    fi
    printf '[firmware-boards] nucleo-f411re: vector table ends at 0x%x, program starts at 0x%x, NVM sectors 0x08004000..0x08010000 free\n' \
        "$vector_end" "$text_start"
}

# the boards' Rust target (.cargo/config.toml): a fresh machine may not have it yet
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx thumbv7m-none-eabi; then
    echo "[firmware-boards] rustup target add thumbv7m-none-eabi"
    rustup target add thumbv7m-none-eabi
fi

start=$SECONDS
# the eeprom variant first, so that the ELF left behind is the default firmware
echo "[firmware-boards] cargo build --release --locked --features eeprom ($board)"
(cd "$board" && CARGO_TARGET_DIR=$target_dir cargo build --release --locked --quiet --features eeprom)
report "NVM on a 24LC256 over I2C"

echo "[firmware-boards] cargo build --release --locked ($board)"
(cd "$board" && CARGO_TARGET_DIR=$target_dir cargo build --release --locked --quiet)
report "NVM on internal flash"
check_layout
echo "[firmware-boards] built in $((SECONDS - start)) s; flash it: see $board/README.md"
