#!/usr/bin/env bash
# Installs what oxicard's build and tests need on a fresh Debian machine (run as root).
# Idempotent: every step checks first and does nothing when the tool is already there.
set -euo pipefail

log() { printf '[setup] %s\n' "$*"; }

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A JDK: javac compiles the Java Card API stubs and the applets; java runs the differential tests.
if ! command -v javac >/dev/null 2>&1 || ! command -v jar >/dev/null 2>&1; then
    apt_install openjdk-17-jdk-headless
fi

# Rust components and the embedded target every vm/ crate must build for.
if command -v rustup >/dev/null 2>&1; then
    installed_components=$(rustup component list --installed 2>/dev/null || true)
    # (llvm-tools: llvm-profdata for the profile-guided benchmark build, scripts/bench.sh)
    for component in rustfmt clippy llvm-tools; do
        if ! grep -q "^$component" <<<"$installed_components"; then
            log "rustup component add $component"
            rustup component add "$component"
        fi
    done
    if ! rustup target list --installed | grep -qx thumbv7m-none-eabi; then
        log "rustup target add thumbv7m-none-eabi"
        rustup target add thumbv7m-none-eabi
    fi
fi

# PC/SC headers and pkg-config: the `pcsc` crate (oxicard-transport) links against pcsc-lite.
if [ ! -f /usr/include/PCSC/winscard.h ] || ! command -v pkg-config >/dev/null 2>&1; then
    apt_install libpcsclite-dev pkg-config
fi

# tmux drives the interactive `oxicard shell` in its test.
if ! command -v tmux >/dev/null 2>&1; then
    apt_install tmux
fi

# QEMU runs the card firmware (scripts/firmware.sh); llvm-size or binutils report its size.
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    apt_install qemu-system-arm
fi
if ! command -v llvm-size >/dev/null 2>&1 && ! command -v arm-none-eabi-size >/dev/null 2>&1; then
    apt_install binutils-arm-none-eabi
fi

log "ready: $(javac -version 2>&1), $(cargo --version)"
