# Sourced by scripts/firmware.sh and scripts/firmware-pcsc.sh: the RAM of the QEMU card firmware
# (firmware/boards/qemu-lm3s6965) against issue 8's goal of 16 KiB without crypto: the static
# RAM (data + bss, the card included, but not the NVM image: main.rs's IMAGE stands in for a
# real board's flash) plus the deepest the stack goes while the card works (the firmware paints
# its stack and reports the depth on its semihosting stderr: src/stack.rs).

# The goal, in bytes: static RAM + stack depth.
firmware_ram_goal=16384

# Prints the static RAM of firmware ELF $1 without the NVM image.
firmware_static_ram() {
    local size_tool nm_tool image data bss
    size_tool=$(command -v llvm-size || command -v arm-none-eabi-size || true)
    nm_tool=$(command -v llvm-nm || command -v arm-none-eabi-nm || true)
    if [ -z "$size_tool" ] || [ -z "$nm_tool" ]; then
        echo "llvm-size/llvm-nm (or arm-none-eabi-size/-nm) missing: cannot size $1" >&2
        return 1
    fi
    image=$("$nm_tool" -S -C --radix=d "$1" | awk '$NF ~ /::IMAGE(::h[0-9a-f]+)?$/ {n = $2 + 0} END {print n + 0}')
    read -r _ data bss _ < <("$size_tool" "$1" | tail -n1)
    echo $((data + bss - image))
}
