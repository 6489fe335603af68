//! oxicard-store (placeholder).
#![no_std]
