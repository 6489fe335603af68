//! oxicard-jcre (placeholder).
#![no_std]
