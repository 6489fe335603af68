//! Export (.exp) files: the public linking interface of one Java Card package.
//!
//! A converter reads the export file of every package it imports to turn symbolic
//! references into tokens, and writes one for each package it converts. The layout is
//! described in `shared/spec/export-format.md`; this module reads formats 2.1, 2.2 and
//! 2.3.
//!
//! [`ExportFile::parse`] checks the whole file once (every length, every constant-pool
//! index and the kind of entry it must point at, no trailing bytes) and then hands out
//! zero-copy views over the input: packages, classes, fields and methods with their
//! names already resolved through the constant pool. The parser never allocates and
//! never panics; malformed input gives an [`ExportError`] with the byte offset and what
//! was expected there.
//!
//! Names are returned as `&str` in internal form (`javacard/framework/APDU`). Export
//! files store Java's modified UTF-8; names that are not also valid UTF-8 (an encoded
//! NUL or a surrogate pair) are rejected.
//!
//! With the `alloc` feature, [`model`] holds an owned form of the same data and an encoder
//! that writes the constant pool in the order Oracle's converter uses, so a parsed file
//! encodes back to the same bytes.

use core::fmt;

#[cfg(feature = "alloc")]
pub mod model;

/// The magic number that starts every export file.
pub const EXPORT_MAGIC: u32 = 0x00FA_CADE;

/// Constant-pool tag of a `CONSTANT_Utf8` entry.
pub const TAG_UTF8: u8 = 1;
/// Constant-pool tag of a `CONSTANT_Integer` entry.
pub const TAG_INTEGER: u8 = 3;
/// Constant-pool tag of a `CONSTANT_Classref` entry.
pub const TAG_CLASSREF: u8 = 7;
/// Constant-pool tag of a `CONSTANT_Package` entry.
pub const TAG_PACKAGE: u8 = 13;

/// Package flag: a library package (a package without applets).
pub const ACC_LIBRARY: u8 = 0x01;

/// Access flag of classes, fields and methods: public.
pub const ACC_PUBLIC: u16 = 0x0001;
/// Access flag of fields and methods: protected.
pub const ACC_PROTECTED: u16 = 0x0004;
/// Access flag of fields and methods: static.
pub const ACC_STATIC: u16 = 0x0008;
/// Access flag of classes, fields and methods: final.
pub const ACC_FINAL: u16 = 0x0010;
/// Access flag of classes: an interface.
pub const ACC_INTERFACE: u16 = 0x0200;
/// Access flag of classes and methods: abstract.
pub const ACC_ABSTRACT: u16 = 0x0400;
/// Access flag of classes: shareable (implements or extends `javacard.framework.Shareable`).
pub const ACC_SHAREABLE: u16 = 0x0800;
/// Access flag of classes: remote (RMI) interface.
pub const ACC_REMOTE: u16 = 0x1000;

/// Field token of compile-time constants, which have no field in the CAP file.
pub const CONSTANT_FIELD_TOKEN: u8 = 0xFF;

/// Name of the attribute that carries the value of a compile-time constant.
pub const CONSTANT_VALUE_ATTRIBUTE: &str = "ConstantValue";

/// A malformed export file: where the problem is and what was expected there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportError {
    /// Byte offset from the start of the export file.
    pub offset: usize,
    /// What the parser expected at `offset`.
    pub expected: &'static str,
}

impl ExportError {
    const fn at(offset: usize, expected: &'static str) -> Self {
        Self { offset, expected }
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "export file: at byte offset {}: expected {}",
            self.offset, self.expected
        )
    }
}

/// Version of the export file format (`major.minor`, e.g. 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FormatVersion {
    /// Major version; always 2 for the formats this module reads.
    pub major: u8,
    /// Minor version: 1, 2 or 3.
    pub minor: u8,
}

impl FormatVersion {
    /// Format 2.1 (Java Card 2.1.1 to 3.0.5 kits).
    pub const V2_1: Self = Self { major: 2, minor: 1 };
    /// Format 2.2 (packages with remote types in 2.2.1 to 3.0.5 kits).
    pub const V2_2: Self = Self { major: 2, minor: 2 };
    /// Format 2.3 (3.1 and 3.2 kits): adds referenced packages and the CAP 2.2 counts.
    pub const V2_3: Self = Self { major: 2, minor: 3 };

    /// Whether this format carries the 2.3 additions (referenced packages and
    /// `CAP22_inheritable_public_method_token_count`).
    pub const fn has_2_3_fields(self) -> bool {
        self.major == 2 && self.minor >= 3
    }

    /// Whether this module reads and writes the format.
    pub const fn is_supported(self) -> bool {
        self.major == 2 && self.minor >= 1 && self.minor <= 3
    }
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Version of a package (`major.minor`), as written into importing CAP files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageVersion {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl fmt::Display for PackageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Bounds-checked big-endian reader over the whole file; positions are file offsets.
#[derive(Clone, Copy)]
struct Reader<'a> {
    file: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    const fn new(file: &'a [u8], pos: usize) -> Self {
        Self { file, pos }
    }

    fn bytes(&mut self, len: usize, expected: &'static str) -> Result<&'a [u8], ExportError> {
        let slice = self
            .pos
            .checked_add(len)
            .and_then(|end| self.file.get(self.pos..end))
            .ok_or(ExportError::at(self.pos, expected))?;
        self.pos += slice.len();
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, expected: &'static str) -> Result<[u8; N], ExportError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, expected)?);
        Ok(out)
    }

    fn u1(&mut self, expected: &'static str) -> Result<u8, ExportError> {
        Ok(u8::from_be_bytes(self.array(expected)?))
    }

    fn u2(&mut self, expected: &'static str) -> Result<u16, ExportError> {
        Ok(u16::from_be_bytes(self.array(expected)?))
    }

    fn u4(&mut self, expected: &'static str) -> Result<u32, ExportError> {
        Ok(u32::from_be_bytes(self.array(expected)?))
    }

    /// Skips `count` big-endian u2 values and returns them as a list.
    fn index_list(
        &mut self,
        count: usize,
        expected: &'static str,
    ) -> Result<IndexList<'a>, ExportError> {
        let start = self.pos;
        let len = count
            .checked_mul(2)
            .ok_or(ExportError::at(self.pos, expected))?;
        let bytes = self.bytes(len, expected)?;
        Ok(IndexList { bytes, start })
    }
}

/// A run of big-endian u2 constant-pool indices inside the file.
#[derive(Debug, Clone, Copy)]
struct IndexList<'a> {
    bytes: &'a [u8],
    start: usize,
}

impl<'a> IndexList<'a> {
    const EMPTY: IndexList<'static> = IndexList {
        bytes: &[],
        start: 0,
    };

    fn len(&self) -> usize {
        self.bytes.len() / 2
    }

    /// Index number `i` and the file offset it was read from.
    fn get(&self, i: usize) -> Option<(u16, usize)> {
        let at = i.checked_mul(2)?;
        let pair = self.bytes.get(at..at.checked_add(2)?)?;
        let mut value = [0u8; 2];
        value.copy_from_slice(pair);
        Some((u16::from_be_bytes(value), self.start + at))
    }
}

/// One constant-pool entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpEntry<'a> {
    /// `CONSTANT_Utf8`: a name or a descriptor.
    Utf8(&'a str),
    /// `CONSTANT_Integer`: the value of a compile-time constant, sign-extended.
    Integer(i32),
    /// `CONSTANT_Classref`: index of the Utf8 class name.
    ClassRef {
        /// Constant-pool index of the class name (`CONSTANT_Utf8`).
        name_index: u16,
    },
    /// `CONSTANT_Package`: a package's flags, name, version and AID.
    Package {
        /// Package flags ([`ACC_LIBRARY`]).
        flags: u8,
        /// Constant-pool index of the package name (`CONSTANT_Utf8`).
        name_index: u16,
        /// Package version.
        version: PackageVersion,
        /// Package AID.
        aid: &'a [u8],
    },
}

/// The constant pool of an export file; entries are found by walking from the start, or
/// through an index of their offsets when the parser was given one.
#[derive(Debug, Clone, Copy)]
pub struct ConstantPool<'a> {
    file: &'a [u8],
    start: usize,
    count: u16,
    /// File offset of every entry, in index order, or empty: walk from `start`.
    offsets: &'a [usize],
}

impl<'a> ConstantPool<'a> {
    /// Reads `count` entries starting at `reader`, leaving the reader after them. `offsets`
    /// is used to find entries when it holds the offset of every one of them (an index
    /// built by [`pool_entry_offsets`]); otherwise entries are found by walking.
    fn parse(
        reader: &mut Reader<'a>,
        count: u16,
        offsets: &'a [usize],
    ) -> Result<Self, ExportError> {
        let start = reader.pos;
        let mut all_found = offsets.len() == usize::from(count);
        for index in 0..usize::from(count) {
            all_found &= offsets.get(index) == Some(&reader.pos);
            read_cp_entry(reader)?;
        }
        Ok(Self {
            file: reader.file,
            start,
            count,
            offsets: if all_found { offsets } else { &[] },
        })
    }

    /// Number of entries.
    pub fn len(&self) -> u16 {
        self.count
    }

    /// Whether the pool has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// All entries in index order.
    pub fn entries(&self) -> CpEntries<'a> {
        CpEntries {
            reader: Reader::new(self.file, self.start),
            remaining: self.count,
        }
    }

    /// The entry at `index` (entry 0 is a real entry). `at` is the file offset of the
    /// reference, reported if the index is out of range.
    fn entry(&self, index: u16, at: usize) -> Result<CpEntry<'a>, ExportError> {
        self.get(index)
            .ok_or(ExportError::at(at, "constant-pool index within the pool"))
    }

    /// The entry at `index`, if there is one.
    ///
    /// Entries have different sizes, so unless the file was parsed with an index of the
    /// entries' offsets (as [`model::ExportFileModel::parse`] does), this walks the pool
    /// from the start; it only decodes the entry it returns.
    pub fn get(&self, index: u16) -> Option<CpEntry<'a>> {
        if index >= self.count {
            return None;
        }
        if let Some(&offset) = self.offsets.get(usize::from(index)) {
            return read_cp_entry(&mut Reader::new(self.file, offset)).ok();
        }
        let mut reader = Reader::new(self.file, self.start);
        for _ in 0..index {
            skip_cp_entry(&mut reader).ok()?;
        }
        read_cp_entry(&mut reader).ok()
    }

    fn utf8(&self, index: u16, at: usize, expected: &'static str) -> Result<&'a str, ExportError> {
        match self.entry(index, at)? {
            CpEntry::Utf8(text) => Ok(text),
            _ => Err(ExportError::at(at, expected)),
        }
    }

    fn class_name(&self, index: u16, at: usize) -> Result<&'a str, ExportError> {
        match self.entry(index, at)? {
            CpEntry::ClassRef { name_index } => {
                self.utf8(name_index, at, "Classref whose name is a CONSTANT_Utf8")
            }
            _ => Err(ExportError::at(at, "index of a CONSTANT_Classref")),
        }
    }

    fn integer(&self, index: u16, at: usize) -> Result<i32, ExportError> {
        match self.entry(index, at)? {
            CpEntry::Integer(value) => Ok(value),
            _ => Err(ExportError::at(at, "index of a CONSTANT_Integer")),
        }
    }

    fn package(&self, index: u16, at: usize) -> Result<Package<'a>, ExportError> {
        match self.entry(index, at)? {
            CpEntry::Package {
                flags,
                name_index,
                version,
                aid,
            } => Ok(Package {
                flags,
                name: self.utf8(name_index, at, "Package whose name is a CONSTANT_Utf8")?,
                version,
                aid,
            }),
            _ => Err(ExportError::at(at, "index of a CONSTANT_Package")),
        }
    }
}

/// Iterator over the entries of a [`ConstantPool`].
#[derive(Debug, Clone)]
pub struct CpEntries<'a> {
    reader: Reader<'a>,
    remaining: u16,
}

impl fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader").field("pos", &self.pos).finish()
    }
}

impl<'a> Iterator for CpEntries<'a> {
    type Item = CpEntry<'a>;

    fn next(&mut self) -> Option<CpEntry<'a>> {
        self.remaining = self.remaining.checked_sub(1)?;
        // The pool was checked when the file was parsed, so this only fails if the
        // view was built by hand; ending the iteration is then the safe answer.
        read_cp_entry(&mut self.reader).ok()
    }
}

/// Reads the magic number, the format version and `constant_pool_count`, leaving the
/// reader at the first constant-pool entry.
fn read_header(reader: &mut Reader<'_>) -> Result<(FormatVersion, u16), ExportError> {
    if reader.u4("magic 0x00FACADE")? != EXPORT_MAGIC {
        return Err(ExportError::at(0, "magic 0x00FACADE"));
    }
    let minor = reader.u1("minor_version")?;
    let major = reader.u1("major_version")?;
    let format = FormatVersion { major, minor };
    if !format.is_supported() {
        return Err(ExportError::at(4, "export format version 2.1, 2.2 or 2.3"));
    }
    let cp_count = reader.u2("constant_pool_count")?;
    Ok((format, cp_count))
}

/// Calls `found` with the file offset of each constant-pool entry of `file` in index order,
/// in one pass; stops without an error where the file is malformed (the parser then reports
/// it).
#[cfg(feature = "alloc")]
fn pool_entry_offsets(file: &[u8], mut found: impl FnMut(usize)) {
    let mut reader = Reader::new(file, 0);
    let Ok((_, count)) = read_header(&mut reader) else {
        return;
    };
    for _ in 0..count {
        found(reader.pos);
        if skip_cp_entry(&mut reader).is_err() {
            return;
        }
    }
}

/// Moves past one entry without decoding its content.
fn skip_cp_entry(reader: &mut Reader<'_>) -> Result<(), ExportError> {
    let tag_at = reader.pos;
    let len = match reader.u1("constant-pool tag")? {
        TAG_UTF8 => usize::from(reader.u2("CONSTANT_Utf8 length")?),
        TAG_INTEGER => 4,
        TAG_CLASSREF => 2,
        TAG_PACKAGE => {
            reader.bytes(5, "CONSTANT_Package")?;
            usize::from(reader.u1("CONSTANT_Package aid_length")?)
        }
        _ => return Err(ExportError::at(tag_at, "constant-pool tag")),
    };
    reader.bytes(len, "constant-pool entry")?;
    Ok(())
}

fn read_cp_entry<'a>(reader: &mut Reader<'a>) -> Result<CpEntry<'a>, ExportError> {
    let tag_at = reader.pos;
    match reader.u1("constant-pool tag")? {
        TAG_UTF8 => {
            let len = reader.u2("CONSTANT_Utf8 length")?;
            let text_at = reader.pos;
            let bytes = reader.bytes(usize::from(len), "CONSTANT_Utf8 bytes")?;
            let text = core::str::from_utf8(bytes)
                .map_err(|_| ExportError::at(text_at, "CONSTANT_Utf8 text that is valid UTF-8"))?;
            Ok(CpEntry::Utf8(text))
        }
        TAG_INTEGER => Ok(CpEntry::Integer(reader.u4("CONSTANT_Integer value")? as i32)),
        TAG_CLASSREF => Ok(CpEntry::ClassRef {
            name_index: reader.u2("CONSTANT_Classref name_index")?,
        }),
        TAG_PACKAGE => {
            let flags = reader.u1("CONSTANT_Package flags")?;
            let name_index = reader.u2("CONSTANT_Package name_index")?;
            let minor = reader.u1("CONSTANT_Package minor_version")?;
            let major = reader.u1("CONSTANT_Package major_version")?;
            let aid_at = reader.pos;
            let aid_len = reader.u1("CONSTANT_Package aid_length")?;
            if !(5..=16).contains(&aid_len) {
                return Err(ExportError::at(aid_at, "AID length of 5 to 16 bytes"));
            }
            let aid = reader.bytes(usize::from(aid_len), "CONSTANT_Package aid")?;
            Ok(CpEntry::Package {
                flags,
                name_index,
                version: PackageVersion { major, minor },
                aid,
            })
        }
        _ => Err(ExportError::at(
            tag_at,
            "constant-pool tag 1 (Utf8), 3 (Integer), 7 (Classref) or 13 (Package)",
        )),
    }
}

/// A package named by an export file: the exporting package or a referenced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Package<'a> {
    /// Package flags ([`ACC_LIBRARY`]).
    pub flags: u8,
    /// Package name in internal form (`javacard/framework`).
    pub name: &'a str,
    /// Package version.
    pub version: PackageVersion,
    /// Package AID (5 to 16 bytes).
    pub aid: &'a [u8],
}

impl Package<'_> {
    /// Whether the package is a library (no applets).
    pub fn is_library(&self) -> bool {
        self.flags & ACC_LIBRARY != 0
    }
}

/// A parsed export file: zero-copy views over the input bytes.
#[derive(Debug, Clone, Copy)]
pub struct ExportFile<'a> {
    format: FormatVersion,
    constant_pool: ConstantPool<'a>,
    this_package_index: u16,
    package: Package<'a>,
    referenced_packages: IndexList<'a>,
    class_count: u8,
    classes_start: usize,
}

impl<'a> ExportFile<'a> {
    /// Parses and checks a whole export file (formats 2.1 to 2.3).
    ///
    /// Every constant-pool index must point at an entry of the expected kind, and the
    /// file must end right after the last class.
    ///
    /// Finding a constant-pool entry walks the pool from its start (the parser does not
    /// allocate), so parsing takes time quadratic in the pool size;
    /// [`model::ExportFileModel::parse`] indexes the pool first and takes linear time.
    pub fn parse(file: &'a [u8]) -> Result<Self, ExportError> {
        Self::parse_indexed(file, &[])
    }

    /// [`parse`](Self::parse) with `offsets`, the file offset of every constant-pool entry
    /// ([`pool_entry_offsets`]), to find entries by; an index that does not fit the file is
    /// ignored.
    fn parse_indexed(file: &'a [u8], offsets: &'a [usize]) -> Result<Self, ExportError> {
        let mut reader = Reader::new(file, 0);
        let (format, cp_count) = read_header(&mut reader)?;
        let constant_pool = ConstantPool::parse(&mut reader, cp_count, offsets)?;
        let this_package_at = reader.pos;
        let this_package_index = reader.u2("this_package")?;
        let package = constant_pool.package(this_package_index, this_package_at)?;
        let referenced_packages = if format.has_2_3_fields() {
            let count = reader.u1("referenced_package_count")?;
            let list = reader.index_list(usize::from(count), "referenced_packages")?;
            for i in 0..list.len() {
                if let Some((index, at)) = list.get(i) {
                    constant_pool.package(index, at)?;
                }
            }
            list
        } else {
            IndexList::EMPTY
        };
        let class_count = reader.u1("export_class_count")?;
        let classes_start = reader.pos;
        let export = Self {
            format,
            constant_pool,
            this_package_index,
            package,
            referenced_packages,
            class_count,
            classes_start,
        };
        let mut classes = export.classes();
        while let Some(class) = classes.try_next()? {
            let mut fields = class.fields();
            while fields.try_next()?.is_some() {}
            let mut methods = class.methods();
            while methods.try_next()?.is_some() {}
            for i in 0..class.supers.len() {
                class.super_at(i)?;
            }
            for i in 0..class.interfaces.len() {
                class.interface_at(i)?;
            }
        }
        if classes.reader.pos != file.len() {
            return Err(ExportError::at(classes.reader.pos, "end of file"));
        }
        Ok(export)
    }

    /// Export format version of the file.
    pub fn format(&self) -> FormatVersion {
        self.format
    }

    /// The constant pool.
    pub fn constant_pool(&self) -> ConstantPool<'a> {
        self.constant_pool
    }

    /// Constant-pool index of this package's `CONSTANT_Package`.
    pub fn this_package_index(&self) -> u16 {
        self.this_package_index
    }

    /// The exporting package.
    pub fn package(&self) -> Package<'a> {
        self.package
    }

    /// Name of the exporting package in internal form (`javacard/framework`).
    pub fn package_name(&self) -> &'a str {
        self.package.name
    }

    /// AID of the exporting package.
    pub fn package_aid(&self) -> &'a [u8] {
        self.package.aid
    }

    /// Version of the exporting package.
    pub fn version(&self) -> PackageVersion {
        self.package.version
    }

    /// Packages referenced by this file (format 2.3; empty for older formats).
    pub fn referenced_packages(&self) -> ReferencedPackages<'a> {
        ReferencedPackages {
            constant_pool: self.constant_pool,
            list: self.referenced_packages,
            next: 0,
        }
    }

    /// Number of exported classes and interfaces.
    pub fn class_count(&self) -> u8 {
        self.class_count
    }

    /// The exported classes and interfaces, in file order.
    pub fn classes(&self) -> Classes<'a> {
        Classes {
            constant_pool: self.constant_pool,
            format: self.format,
            reader: Reader::new(self.constant_pool.file, self.classes_start),
            remaining: self.class_count,
        }
    }

    /// The exported class with this name (internal form, e.g. `javacard/framework/APDU`).
    pub fn class(&self, name: &str) -> Option<ExportClass<'a>> {
        self.classes().find(|class| class.name == name)
    }

    /// The exported class with this class token.
    pub fn class_by_token(&self, token: u8) -> Option<ExportClass<'a>> {
        self.classes().find(|class| class.token == token)
    }
}

/// Iterator over the referenced packages of a format 2.3 export file.
#[derive(Debug, Clone)]
pub struct ReferencedPackages<'a> {
    constant_pool: ConstantPool<'a>,
    list: IndexList<'a>,
    next: usize,
}

impl<'a> Iterator for ReferencedPackages<'a> {
    type Item = Package<'a>;

    fn next(&mut self) -> Option<Package<'a>> {
        let (index, at) = self.list.get(self.next)?;
        self.next += 1;
        self.constant_pool.package(index, at).ok()
    }
}

/// Iterator over the classes of an export file.
#[derive(Debug, Clone)]
pub struct Classes<'a> {
    constant_pool: ConstantPool<'a>,
    format: FormatVersion,
    reader: Reader<'a>,
    remaining: u8,
}

impl<'a> Classes<'a> {
    fn try_next(&mut self) -> Result<Option<ExportClass<'a>>, ExportError> {
        let Some(remaining) = self.remaining.checked_sub(1) else {
            return Ok(None);
        };
        self.remaining = remaining;
        let r = &mut self.reader;
        let offset = r.pos;
        let token = r.u1("class token")?;
        let access_flags = r.u2("class access_flags")?;
        let name_at = r.pos;
        let name_index = r.u2("class name_index")?;
        let name = self.constant_pool.class_name(name_index, name_at)?;
        let supers_count = r.u2("export_supers_count")?;
        let supers = r.index_list(usize::from(supers_count), "supers")?;
        let interfaces_count = r.u1("export_interfaces_count")?;
        let interfaces = r.index_list(usize::from(interfaces_count), "interfaces")?;
        let field_count = r.u2("export_fields_count")?;
        let fields_start = r.pos;
        let mut fields = Fields {
            constant_pool: self.constant_pool,
            reader: *r,
            remaining: field_count,
        };
        while fields.try_next()?.is_some() {}
        *r = fields.reader;
        let method_count = r.u2("export_methods_count")?;
        let methods_start = r.pos;
        let methods_len = usize::from(method_count) * METHOD_INFO_LEN;
        r.bytes(methods_len, "method_info")?;
        let cap22_inheritable_method_count = if self.format.has_2_3_fields() {
            Some(r.u1("CAP22_inheritable_public_method_token_count")?)
        } else {
            None
        };
        Ok(Some(ExportClass {
            constant_pool: self.constant_pool,
            offset,
            token,
            access_flags,
            name,
            supers,
            interfaces,
            field_count,
            fields_start,
            method_count,
            methods_start,
            cap22_inheritable_method_count,
        }))
    }
}

impl<'a> Iterator for Classes<'a> {
    type Item = ExportClass<'a>;

    fn next(&mut self) -> Option<ExportClass<'a>> {
        self.try_next().ok().flatten()
    }
}

/// Size of one `method_info`: token, access flags, name and descriptor indices.
const METHOD_INFO_LEN: usize = 7;

/// One exported class or interface.
#[derive(Debug, Clone, Copy)]
pub struct ExportClass<'a> {
    constant_pool: ConstantPool<'a>,
    offset: usize,
    /// Class token (the token of external class references).
    pub token: u8,
    /// Export-file access flags ([`ACC_PUBLIC`], [`ACC_FINAL`], [`ACC_INTERFACE`],
    /// [`ACC_ABSTRACT`], [`ACC_SHAREABLE`], [`ACC_REMOTE`]).
    pub access_flags: u16,
    /// Class name in internal form (`javacard/framework/APDU`).
    pub name: &'a str,
    supers: IndexList<'a>,
    interfaces: IndexList<'a>,
    field_count: u16,
    fields_start: usize,
    method_count: u16,
    methods_start: usize,
    /// `CAP22_inheritable_public_method_token_count` (format 2.3 only).
    pub cap22_inheritable_method_count: Option<u8>,
}

impl<'a> ExportClass<'a> {
    /// File offset of this `class_info`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The class name after the last `/`.
    pub fn simple_name(&self) -> &'a str {
        self.name.rsplit('/').next().unwrap_or(self.name)
    }

    /// Whether this is an interface.
    pub fn is_interface(&self) -> bool {
        self.access_flags & ACC_INTERFACE != 0
    }

    /// Whether the class is shareable.
    pub fn is_shareable(&self) -> bool {
        self.access_flags & ACC_SHAREABLE != 0
    }

    fn super_at(&self, i: usize) -> Result<&'a str, ExportError> {
        let (index, at) = self
            .supers
            .get(i)
            .ok_or(ExportError::at(self.offset, "superclass index"))?;
        self.constant_pool.class_name(index, at)
    }

    fn interface_at(&self, i: usize) -> Result<&'a str, ExportError> {
        let (index, at) = self
            .interfaces
            .get(i)
            .ok_or(ExportError::at(self.offset, "interface index"))?;
        self.constant_pool.class_name(index, at)
    }

    /// Names of all superclasses, root (`java/lang/Object`) first.
    pub fn supers(&self) -> ClassNames<'a> {
        ClassNames {
            constant_pool: self.constant_pool,
            list: self.supers,
            next: 0,
        }
    }

    /// The direct superclass (the last of [`supers`](Self::supers)), if any.
    pub fn superclass(&self) -> Option<&'a str> {
        self.supers().last()
    }

    /// Names of all superinterfaces and implemented interfaces.
    pub fn interfaces(&self) -> ClassNames<'a> {
        ClassNames {
            constant_pool: self.constant_pool,
            list: self.interfaces,
            next: 0,
        }
    }

    /// Number of exported fields.
    pub fn field_count(&self) -> u16 {
        self.field_count
    }

    /// Exported fields, in file order.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            constant_pool: self.constant_pool,
            reader: Reader::new(self.constant_pool.file, self.fields_start),
            remaining: self.field_count,
        }
    }

    /// The exported field with this name.
    pub fn field(&self, name: &str) -> Option<ExportField<'a>> {
        self.fields().find(|field| field.name == name)
    }

    /// Number of exported methods.
    pub fn method_count(&self) -> u16 {
        self.method_count
    }

    /// Exported methods, in file order (inherited public virtual methods included).
    pub fn methods(&self) -> Methods<'a> {
        Methods {
            constant_pool: self.constant_pool,
            reader: Reader::new(self.constant_pool.file, self.methods_start),
            remaining: self.method_count,
        }
    }

    /// The exported method with this name and descriptor.
    pub fn method(&self, name: &str, descriptor: &str) -> Option<ExportMethod<'a>> {
        self.methods()
            .find(|method| method.name == name && method.descriptor == descriptor)
    }
}

/// Iterator over class names (superclasses or interfaces).
#[derive(Debug, Clone)]
pub struct ClassNames<'a> {
    constant_pool: ConstantPool<'a>,
    list: IndexList<'a>,
    next: usize,
}

impl<'a> Iterator for ClassNames<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (index, at) = self.list.get(self.next)?;
        self.next += 1;
        self.constant_pool.class_name(index, at).ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.list.len().saturating_sub(self.next);
        (0, Some(left))
    }
}

/// What kind of field a `field_info` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A compile-time constant: token 0xFF, the value must be inlined.
    Constant,
    /// A static field: the token is a static field token.
    Static,
    /// An instance field: the token is an instance field token.
    Instance,
}

/// One exported field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportField<'a> {
    /// Field token, or [`CONSTANT_FIELD_TOKEN`] for compile-time constants.
    pub token: u8,
    /// Access flags ([`ACC_PUBLIC`], [`ACC_PROTECTED`], [`ACC_STATIC`], [`ACC_FINAL`]).
    pub access_flags: u16,
    /// Field name.
    pub name: &'a str,
    /// Field descriptor (`S`, `[B`, `Ljava/lang/Object;` …).
    pub descriptor: &'a str,
    /// Value of the `ConstantValue` attribute, sign-extended to 32 bits.
    pub constant_value: Option<i32>,
}

impl ExportField<'_> {
    /// The kind of field, which says which token space the token belongs to.
    pub fn kind(&self) -> FieldKind {
        if self.constant_value.is_some() || self.token == CONSTANT_FIELD_TOKEN {
            FieldKind::Constant
        } else if self.access_flags & ACC_STATIC != 0 {
            FieldKind::Static
        } else {
            FieldKind::Instance
        }
    }
}

/// Iterator over the fields of a class.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    constant_pool: ConstantPool<'a>,
    reader: Reader<'a>,
    remaining: u16,
}

impl<'a> Fields<'a> {
    fn try_next(&mut self) -> Result<Option<ExportField<'a>>, ExportError> {
        let Some(remaining) = self.remaining.checked_sub(1) else {
            return Ok(None);
        };
        self.remaining = remaining;
        let cp = &self.constant_pool;
        let r = &mut self.reader;
        let token = r.u1("field token")?;
        let access_flags = r.u2("field access_flags")?;
        let name_at = r.pos;
        let name = cp.utf8(
            r.u2("field name_index")?,
            name_at,
            "field name index of a CONSTANT_Utf8",
        )?;
        let descriptor_at = r.pos;
        let descriptor = cp.utf8(
            r.u2("field descriptor_index")?,
            descriptor_at,
            "field descriptor index of a CONSTANT_Utf8",
        )?;
        let attribute_count = r.u2("field attributes_count")?;
        let mut constant_value = None;
        for _ in 0..attribute_count {
            let attribute_at = r.pos;
            let attribute_name = cp.utf8(
                r.u2("attribute_name_index")?,
                attribute_at,
                "attribute name index of a CONSTANT_Utf8",
            )?;
            let length_at = r.pos;
            let length = r.u4("attribute_length")?;
            if attribute_name == CONSTANT_VALUE_ATTRIBUTE {
                if length != 2 {
                    return Err(ExportError::at(length_at, "ConstantValue length 2"));
                }
                if constant_value.is_some() {
                    return Err(ExportError::at(
                        attribute_at,
                        "at most one ConstantValue attribute",
                    ));
                }
                let value_at = r.pos;
                constant_value = Some(cp.integer(r.u2("constantvalue_index")?, value_at)?);
            } else {
                let length = usize::try_from(length)
                    .map_err(|_| ExportError::at(length_at, "attribute length"))?;
                r.bytes(length, "attribute bytes")?;
            }
        }
        Ok(Some(ExportField {
            token,
            access_flags,
            name,
            descriptor,
            constant_value,
        }))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = ExportField<'a>;

    fn next(&mut self) -> Option<ExportField<'a>> {
        self.try_next().ok().flatten()
    }
}

/// Which token space a method token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    /// A constructor or static method: the token is a static method token.
    Static,
    /// A virtual method of a class: the token is a virtual method token.
    Virtual,
    /// A method of an interface: the token is an interface method token.
    Interface,
}

/// One exported method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportMethod<'a> {
    /// Method token.
    pub token: u8,
    /// Access flags ([`ACC_PUBLIC`], [`ACC_PROTECTED`], [`ACC_STATIC`], [`ACC_FINAL`],
    /// [`ACC_ABSTRACT`]).
    pub access_flags: u16,
    /// Method name (`<init>` for constructors).
    pub name: &'a str,
    /// Method descriptor, e.g. `([BSB)V`.
    pub descriptor: &'a str,
}

impl ExportMethod<'_> {
    /// The token space of this method, given whether its class is an interface.
    pub fn kind(&self, in_interface: bool) -> MethodKind {
        if self.name == "<init>" || self.access_flags & ACC_STATIC != 0 {
            MethodKind::Static
        } else if in_interface {
            MethodKind::Interface
        } else {
            MethodKind::Virtual
        }
    }
}

/// Iterator over the methods of a class.
#[derive(Debug, Clone)]
pub struct Methods<'a> {
    constant_pool: ConstantPool<'a>,
    reader: Reader<'a>,
    remaining: u16,
}

impl<'a> Methods<'a> {
    fn try_next(&mut self) -> Result<Option<ExportMethod<'a>>, ExportError> {
        let Some(remaining) = self.remaining.checked_sub(1) else {
            return Ok(None);
        };
        self.remaining = remaining;
        let cp = &self.constant_pool;
        let r = &mut self.reader;
        let token = r.u1("method token")?;
        let access_flags = r.u2("method access_flags")?;
        let name_at = r.pos;
        let name = cp.utf8(
            r.u2("method name_index")?,
            name_at,
            "method name index of a CONSTANT_Utf8",
        )?;
        let descriptor_at = r.pos;
        let descriptor = cp.utf8(
            r.u2("method descriptor_index")?,
            descriptor_at,
            "method descriptor index of a CONSTANT_Utf8",
        )?;
        Ok(Some(ExportMethod {
            token,
            access_flags,
            name,
            descriptor,
        }))
    }
}

impl<'a> Iterator for Methods<'a> {
    type Item = ExportMethod<'a>;

    fn next(&mut self) -> Option<ExportMethod<'a>> {
        self.try_next().ok().flatten()
    }
}
