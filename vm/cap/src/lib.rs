//! oxicard-cap: parsing and writing of Java Card CAP files (work in progress).
#![no_std]

pub mod export;
