//! oxicard-cap (placeholder).
#![no_std]
