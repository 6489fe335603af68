//! How the runtime describes the built-in API packages to the VM (the catalog: packages,
//! classes with their token layouts, native methods) and how the VM calls natives.

use crate::error::Trap;
use crate::layout::ClassId;
use crate::Vm;
use oxicard_store::Nvm;

/// Index into [`ApiCatalog::natives`].
pub type NativeId = u16;

/// A built-in package, matched by AID and version when a CAP imports it.
#[derive(Clone, Copy, Debug)]
pub struct ApiPackage {
    /// Package AID.
    pub aid: &'static [u8],
    /// Major version.
    pub major: u8,
    /// Minor version (an import with a minor ≤ this one links).
    pub minor: u8,
}

/// Flag of [`BuiltinClass::flags`]: the class is an interface.
pub const CLASS_INTERFACE: u8 = 0x01;
/// Flag of [`BuiltinClass::flags`]: the class is (or implements) Shareable.
pub const CLASS_SHAREABLE: u8 = 0x02;

/// A class or interface of a built-in package. Its class id is its index in
/// [`ApiCatalog::classes`].
#[derive(Clone, Copy, Debug)]
pub struct BuiltinClass {
    /// Index into [`ApiCatalog::packages`].
    pub package: u8,
    /// Class token in that package.
    pub token: u8,
    /// Superclass id (`None` for java.lang.Object and interfaces).
    pub super_class: Option<ClassId>,
    /// [`CLASS_INTERFACE`], [`CLASS_SHAREABLE`].
    pub flags: u8,
    /// Total instance cells (16-bit) of this class including superclasses: the cells native
    /// code keeps its state in; applet subclasses put their fields after them.
    pub cells: u16,
    /// Public virtual method table: native id per virtual method token (inherited included).
    pub vtable: &'static [NativeId],
    /// Implemented interfaces: (interface class id, virtual token per interface method token).
    pub interfaces: &'static [(ClassId, &'static [u8])],
}

/// A native method: how many argument words it takes (including `this`) and returns.
#[derive(Clone, Copy, Debug)]
pub struct NativeMethod {
    /// Argument words including `this` for virtual methods.
    pub nargs: u8,
    /// Result words: 0, 1 or 2.
    pub ret_words: u8,
}

/// A static method (or constructor) of a built-in class.
#[derive(Clone, Copy, Debug)]
pub struct StaticMethod {
    /// Index into [`ApiCatalog::packages`].
    pub package: u8,
    /// Class token.
    pub class_token: u8,
    /// Static method token.
    pub token: u8,
    /// The native implementing it.
    pub native: NativeId,
}

/// Everything the linker and interpreter need to know about the built-in API.
#[derive(Debug)]
pub struct ApiCatalog {
    /// Built-in packages (index = API package index).
    pub packages: &'static [ApiPackage],
    /// Built-in classes (index = class id).
    pub classes: &'static [BuiltinClass],
    /// Static methods and constructors.
    pub static_methods: &'static [StaticMethod],
    /// Native method signatures (index = native id).
    pub natives: &'static [NativeMethod],
}

impl ApiCatalog {
    /// Finds a package by AID: its index and whether its version satisfies (major, minor)
    /// (same major, minor at least the imported one).
    pub fn find_package(&self, aid: &[u8], major: u8, minor: u8) -> Option<(u8, bool)> {
        self.packages
            .iter()
            .position(|p| p.aid == aid)
            .and_then(|i| {
                let p = self.packages.get(i)?;
                Some((i as u8, p.major == major && p.minor >= minor))
            })
    }

    /// Class id of (package, class token).
    pub fn find_class(&self, package: u8, token: u8) -> Option<ClassId> {
        self.classes
            .iter()
            .position(|c| c.package == package && c.token == token)
            .map(|i| i as ClassId)
    }

    /// Native implementing static method (package, class token, method token).
    pub fn find_static(&self, package: u8, class_token: u8, token: u8) -> Option<NativeId> {
        self.static_methods
            .iter()
            .find(|m| m.package == package && m.class_token == class_token && m.token == token)
            .map(|m| m.native)
    }

    /// The built-in class `id`.
    pub fn class(&self, id: ClassId) -> Option<&'static BuiltinClass> {
        self.classes.get(id as usize)
    }
}

/// A value returned by a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// No result.
    Void,
    /// A short, byte, boolean or reference (one word).
    Word(i16),
    /// An int (two words).
    Int(i32),
}

/// Executes native methods. Implemented by the runtime.
pub trait Natives<N: Nvm> {
    /// Runs native `id` with `args` (argument words, `this` first). A Java exception is
    /// returned as `Err(Trap::Throw(obj))`.
    fn invoke(&mut self, vm: &mut Vm<N>, id: NativeId, args: &[i16]) -> Result<Value, Trap>;
}
