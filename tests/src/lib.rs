//! Integration tests over the golden reference files in `../shared/golden`.
