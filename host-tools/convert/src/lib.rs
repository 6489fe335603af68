//! oxicard-convert (placeholder).
