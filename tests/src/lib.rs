//! Integration tests over the golden reference files in `../shared/golden`.
pub mod api_stub_gen;
pub mod bench;
pub mod golden_card;
pub mod jvm_oracle;
pub mod pgo_training;
