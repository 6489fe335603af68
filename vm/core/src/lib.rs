//! oxicard-vm (placeholder).
#![no_std]
