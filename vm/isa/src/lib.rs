//! oxicard-isa (placeholder).
#![no_std]
