//! Puts memory.x where the linker (cortex-m-rt's link.x) finds it, and an empty device.x
//! (link.x includes it with cortex-m-rt's `device` feature; src/vectors.rs names its one
//! interrupt handler directly).
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("memory.x"), include_bytes!("memory.x")).expect("memory.x");
    std::fs::write(out.join("device.x"), b"").expect("device.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
}
