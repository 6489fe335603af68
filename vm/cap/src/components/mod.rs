//! Zero-copy views of the CAP components (tags 1..=12), one module per component.
//!
//! Each view is parsed from the complete component bytes (tag, size, info) and keeps them in
//! `raw`; lists are validated during parsing, so iterating them later cannot fail.

pub mod applet;
pub mod class;
pub mod constant_pool;
pub mod debug;
pub mod descriptor;
pub mod directory;
pub mod export_component;
pub mod header;
pub mod import;
pub mod method;
pub mod ref_location;
pub mod static_field;
