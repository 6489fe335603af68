//! oxicard-apdu (placeholder).
#![no_std]
