//! oxicard-cap: the Java Card CAP file format (CAP 2.1, 2.2 and compact 2.3).
//!
//! # Design
//!
//! * **Zero-copy views** ([`components`]): one type per component (`Header`, `Directory`,
//!   `AppletComponent`, `Import`, `ConstantPool`, `ClassComponent`, `MethodComponent`,
//!   `StaticField`, `RefLocation`, `ExportComponent`, `Descriptor`, `DebugComponent`), parsed
//!   from `&[u8]` without allocation. Variable-length lists are validated when the component is
//!   parsed and then exposed as infallible iterators ([`reader::Items`]). This is what a card
//!   loader uses; it builds for `thumbv7m-none-eabi` without any feature.
//! * **A CAP** ([`Cap`]): the components of one package, assembled from component slices or a
//!   GlobalPlatform Load File Data Block, with semantic checks ([`Cap::check`]) and a method
//!   listing ([`Cap::methods`]) for the disassembler and the VM.
//! * **Owned model** (feature `alloc`, [`model`]): structs with `Vec`s mirroring every
//!   component, built from a view (`from_view`) and written back with `encode`. Parsing then
//!   encoding is byte-identical. A converter fills these in.
//! * **JAR container** (feature `std`, [`jar`]): reading and writing the CAP zip file.
//!
//! Errors ([`CapError`]) name the component, the byte offset and what was expected; no input
//! makes any function here panic.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod cap;
pub mod check;
pub mod component;
pub mod components;
pub mod error;
pub mod export;
#[cfg(feature = "std")]
pub mod jar;
#[cfg(feature = "alloc")]
pub mod model;
pub mod reader;

pub use cap::{Cap, MethodEntry, Methods, LOAD_ORDER};
pub use component::{CapVersion, RawComponent};
pub use components::applet::{AppletComponent, AppletInfo};
pub use components::class::{ClassComponent, ClassEntry, ClassInfo, InterfaceInfo};
pub use components::constant_pool::{ClassRef, ConstantPool, CpEntry, StaticRef};
pub use components::debug::DebugComponent;
pub use components::descriptor::{
    ClassDescriptor, Descriptor, FieldDescriptor, MethodDescriptor, TypeDescriptor,
};
pub use components::directory::Directory;
pub use components::export_component::ExportComponent;
pub use components::header::{Header, PackageInfo};
pub use components::import::Import;
pub use components::method::{ExceptionHandler, MethodComponent, MethodHeader};
pub use components::ref_location::RefLocation;
pub use components::static_field::StaticField;
pub use error::{CapError, ComponentTag, ErrorKind};
