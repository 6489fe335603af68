//! The API token tables (`api-packages.tsv`, `api-classes.tsv`, `api-tokens.tsv` in
//! `shared/spec`) read into typed rows.
//!
//! The tables were taken from the binary export files of Oracle's 3.2.0 kit; they are the
//! one source of API tokens, package AIDs and versions for everything oxicard builds.
//! Every row is checked as it is read (column count, numbers, flags), so a table that
//! changes shape fails loudly with the file and line.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use oxicard_cap::export::{
    PackageVersion, ACC_ABSTRACT, ACC_FINAL, ACC_INTERFACE, ACC_PROTECTED, ACC_PUBLIC, ACC_REMOTE,
    ACC_SHAREABLE, ACC_STATIC,
};

use crate::ApiError;

/// File name of the package table.
pub const PACKAGES_TSV: &str = "api-packages.tsv";
/// File name of the class table.
pub const CLASSES_TSV: &str = "api-classes.tsv";
/// File name of the member (token) table.
pub const TOKENS_TSV: &str = "api-tokens.tsv";

/// A Java Card platform version for which the tables record an API export set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    /// Java Card 3.0.4.
    V3_0_4,
    /// Java Card 3.0.5 (the default target, as for the golden CAP files).
    V3_0_5,
    /// Java Card 3.1.0.
    V3_1_0,
    /// Java Card 3.2.0.
    V3_2_0,
}

impl Platform {
    /// All platforms, oldest first (the order of the `ver_in_*` columns).
    pub const ALL: [Platform; 4] = [
        Platform::V3_0_4,
        Platform::V3_0_5,
        Platform::V3_1_0,
        Platform::V3_2_0,
    ];

    /// The default conversion target.
    pub const DEFAULT: Platform = Platform::V3_0_5;

    /// The version as written in the tables, e.g. `3.0.5`.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::V3_0_4 => "3.0.4",
            Platform::V3_0_5 => "3.0.5",
            Platform::V3_1_0 => "3.1.0",
            Platform::V3_2_0 => "3.2.0",
        }
    }

    fn column(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = ApiError;

    fn from_str(text: &str) -> Result<Self, ApiError> {
        Platform::ALL
            .into_iter()
            .find(|platform| platform.as_str() == text)
            .ok_or_else(|| ApiError::UnknownPlatform(text.to_string()))
    }
}

/// One row of `api-packages.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPackage {
    /// Package name with dots (`javacard.framework`).
    pub name: String,
    /// Package AID.
    pub aid: Vec<u8>,
    /// Package version per platform ([`Platform::ALL`] order); `None` where absent.
    pub versions: [Option<PackageVersion>; 4],
    /// Whether the package is a library (`ACC_LIBRARY` in its export file).
    pub library: bool,
    /// Referenced packages of the 3.2.0 export file (dotted names, file order).
    pub referenced_packages_3_2_0: Vec<String>,
}

impl ApiPackage {
    /// The package version in the export set of `platform`, if the package exists there.
    pub fn version(&self, platform: Platform) -> Option<PackageVersion> {
        self.versions.get(platform.column()).copied().flatten()
    }
}

/// One row of `api-classes.tsv`: an exported class or interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClass {
    /// Package name with dots.
    pub package: String,
    /// Class name inside the package (`Cipher$OneShot` for nested classes).
    pub name: String,
    /// Class token.
    pub token: u8,
    /// Export-file access flags.
    pub access_flags: u16,
    /// Direct superclass, dotted (`None` for `java.lang.Object`).
    pub superclass: Option<String>,
    /// All superinterfaces, dotted, in export-file order.
    pub superinterfaces: Vec<String>,
    /// `CAP22_inheritable_public_method_token_count` in the 3.2.0 export file.
    pub cap22_inheritable_method_count_3_2_0: u8,
    /// First platform whose export set has the class.
    pub since: Platform,
}

impl ApiClass {
    /// Fully qualified dotted name (`javacard.framework.APDU`).
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.package, self.name)
    }

    /// Whether this is an interface.
    pub fn is_interface(&self) -> bool {
        self.access_flags & ACC_INTERFACE != 0
    }
}

/// What an `api-tokens.tsv` row describes; it decides the token space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    /// `static final` primitive compile-time constant (token 255, value inlined).
    Constant,
    /// Static field (static field token).
    StaticField,
    /// Instance field (instance field token).
    InstanceField,
    /// Static method (static method token).
    StaticMethod,
    /// Constructor (static method token).
    Constructor,
    /// Virtual method of a class (virtual method token).
    VirtualMethod,
    /// Method of an interface (interface method token).
    InterfaceMethod,
}

impl MemberKind {
    /// Whether the member is a field (listed in `fields`, not `methods`).
    pub fn is_field(self) -> bool {
        matches!(
            self,
            MemberKind::Constant | MemberKind::StaticField | MemberKind::InstanceField
        )
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "const" => MemberKind::Constant,
            "static_field" => MemberKind::StaticField,
            "instance_field" => MemberKind::InstanceField,
            "static_method" => MemberKind::StaticMethod,
            "constructor" => MemberKind::Constructor,
            "virtual_method" => MemberKind::VirtualMethod,
            "interface_method" => MemberKind::InterfaceMethod,
            _ => return None,
        })
    }
}

/// One row of `api-tokens.tsv`: a field or method entry of a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiMember {
    /// Package name with dots.
    pub package: String,
    /// Class name inside the package.
    pub class: String,
    /// Token of the class.
    pub class_token: u8,
    /// Kind of member.
    pub kind: MemberKind,
    /// Member name (`<init>` for constructors).
    pub name: String,
    /// Field or method descriptor.
    pub descriptor: String,
    /// Member token (255 for constants).
    pub token: u8,
    /// Access flags.
    pub access_flags: u16,
    /// Value of a constant, sign-extended to 32 bits.
    pub constant_value: Option<i32>,
    /// First platform whose export set has the member.
    pub since: Platform,
}

/// The three API tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTables {
    /// Packages, in table order.
    pub packages: Vec<ApiPackage>,
    /// Classes, in table order (export-file order within a package).
    pub classes: Vec<ApiClass>,
    /// Members, in table order (export-file order within a class).
    pub members: Vec<ApiMember>,
}

impl ApiTables {
    /// Reads the tables from a spec directory (`shared/spec`).
    pub fn load(spec_dir: &Path) -> Result<Self, ApiError> {
        let read = |name: &str| {
            let path = spec_dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| ApiError::Io { path, source })
        };
        Self::parse(
            &read(PACKAGES_TSV)?,
            &read(CLASSES_TSV)?,
            &read(TOKENS_TSV)?,
        )
    }

    /// Parses the text of the three tables.
    pub fn parse(packages: &str, classes: &str, tokens: &str) -> Result<Self, ApiError> {
        Ok(Self {
            packages: rows(PACKAGES_TSV, packages, &PACKAGE_COLUMNS, package_row)?,
            classes: rows(CLASSES_TSV, classes, &CLASS_COLUMNS, class_row)?,
            members: rows(TOKENS_TSV, tokens, &MEMBER_COLUMNS, member_row)?,
        })
    }

    /// The package with this dotted name.
    pub fn package(&self, name: &str) -> Option<&ApiPackage> {
        self.packages.iter().find(|package| package.name == name)
    }

    /// The class with this dotted qualified name (`javacard.framework.APDU`).
    pub fn class(&self, qualified_name: &str) -> Option<&ApiClass> {
        let (package, name) = qualified_name.rsplit_once('.')?;
        self.classes
            .iter()
            .find(|class| class.package == package && class.name == name)
    }

    /// Classes of a package, in table order.
    pub fn classes_of<'a>(&'a self, package: &'a str) -> impl Iterator<Item = &'a ApiClass> + 'a {
        self.classes
            .iter()
            .filter(move |class| class.package == package)
    }

    /// Members of a class, in table order.
    pub fn members_of<'a>(
        &'a self,
        class: &'a ApiClass,
    ) -> impl Iterator<Item = &'a ApiMember> + 'a {
        self.members
            .iter()
            .filter(move |member| member.package == class.package && member.class == class.name)
    }
}

const PACKAGE_COLUMNS: [&str; 8] = [
    "package",
    "aid_hex",
    "ver_in_3.0.4",
    "ver_in_3.0.5",
    "ver_in_3.1.0",
    "ver_in_3.2.0",
    "pkg_flags",
    "referenced_packages(3.2.0 exp)",
];

const CLASS_COLUMNS: [&str; 9] = [
    "package",
    "class",
    "class_token",
    "exp_access_flags",
    "flags_decoded",
    "superclass",
    "all_superinterfaces",
    "cap22_inheritable_count",
    "since",
];

const MEMBER_COLUMNS: [&str; 12] = [
    "package",
    "class",
    "class_token",
    "kind",
    "name",
    "descriptor",
    "token",
    "access",
    "constant_value",
    "declared_or_inherited",
    "since",
    "throws(declared in api jar)",
];

/// Where a table cell came from, for error messages.
struct Cell<'a> {
    file: &'static str,
    line: usize,
    column: &'static str,
    text: &'a str,
}

impl Cell<'_> {
    fn error(&self, expected: &str) -> ApiError {
        ApiError::Table {
            file: self.file,
            line: self.line,
            message: format!(
                "column {}: expected {expected}, found {:?}",
                self.column, self.text
            ),
        }
    }

    fn u8(&self) -> Result<u8, ApiError> {
        self.text
            .parse()
            .map_err(|_| self.error("a number 0..=255"))
    }

    fn platform(&self) -> Result<Platform, ApiError> {
        self.text
            .parse()
            .map_err(|_| self.error("3.0.4, 3.0.5, 3.1.0 or 3.2.0"))
    }

    fn list(&self, separator: char) -> Vec<String> {
        self.text
            .split(separator)
            .filter(|item| !item.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn optional(&self) -> Option<String> {
        (!self.text.is_empty()).then(|| self.text.to_string())
    }
}

/// Parses every data row of a table after checking its header line.
fn rows<T, const N: usize>(
    file: &'static str,
    text: &str,
    columns: &[&'static str; N],
    row: impl Fn([Cell<'_>; N]) -> Result<T, ApiError>,
) -> Result<Vec<T>, ApiError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty());
    let (header_line, header) = lines.next().ok_or(ApiError::Table {
        file,
        line: 0,
        message: "expected a header line".to_string(),
    })?;
    if header.split('\t').ne(columns.iter().copied()) {
        return Err(ApiError::Table {
            file,
            line: header_line,
            message: format!("expected the columns {columns:?}, found {header:?}"),
        });
    }
    lines
        .map(|(line, text)| {
            let cells: Vec<&str> = text.split('\t').collect();
            let cells: [&str; N] =
                cells
                    .try_into()
                    .map_err(|cells: Vec<&str>| ApiError::Table {
                        file,
                        line,
                        message: format!("expected {N} columns, found {}", cells.len()),
                    })?;
            let mut column = 0;
            row(cells.map(|text| {
                let cell = Cell {
                    file,
                    line,
                    column: columns[column],
                    text,
                };
                column += 1;
                cell
            }))
        })
        .collect()
}

fn package_row(cells: [Cell<'_>; 8]) -> Result<ApiPackage, ApiError> {
    let [name, aid, v304, v305, v310, v320, flags, referenced] = cells;
    let version = |cell: &Cell<'_>| -> Result<Option<PackageVersion>, ApiError> {
        if cell.text == "-" {
            return Ok(None);
        }
        let (major, minor) = cell
            .text
            .split_once('.')
            .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)))
            .ok_or_else(|| cell.error("a version major.minor or -"))?;
        Ok(Some(PackageVersion { major, minor }))
    };
    let library = match flags.text {
        "library" => true,
        "" => false,
        _ => return Err(flags.error("\"library\" or nothing")),
    };
    Ok(ApiPackage {
        name: name.text.to_string(),
        aid: parse_hex(aid.text).ok_or_else(|| aid.error("an AID in hex"))?,
        versions: [
            version(&v304)?,
            version(&v305)?,
            version(&v310)?,
            version(&v320)?,
        ],
        library,
        referenced_packages_3_2_0: referenced.list(','),
    })
}

fn class_row(cells: [Cell<'_>; 9]) -> Result<ApiClass, ApiError> {
    let [package, name, token, flags, decoded, superclass, interfaces, cap22, since] = cells;
    let access_flags = flags
        .text
        .strip_prefix("0x")
        .and_then(|hex| u16::from_str_radix(hex, 16).ok())
        .ok_or_else(|| flags.error("flags as 0xNNNN"))?;
    let decoded_flags = access_words(
        &decoded,
        &[
            ("public", ACC_PUBLIC),
            ("final", ACC_FINAL),
            ("interface", ACC_INTERFACE),
            ("abstract", ACC_ABSTRACT),
            ("shareable", ACC_SHAREABLE),
            ("remote", ACC_REMOTE),
        ],
    )?;
    if decoded_flags != access_flags {
        return Err(decoded.error("the same flags as exp_access_flags"));
    }
    Ok(ApiClass {
        package: package.text.to_string(),
        name: name.text.to_string(),
        token: token.u8()?,
        access_flags,
        superclass: superclass.optional(),
        superinterfaces: interfaces.list(';'),
        cap22_inheritable_method_count_3_2_0: cap22.u8()?,
        since: since.platform()?,
    })
}

fn member_row(cells: [Cell<'_>; 12]) -> Result<ApiMember, ApiError> {
    let [package, class, class_token, kind, name, descriptor, token, access, value, _declared, since, _throws] =
        cells;
    let kind = MemberKind::parse(kind.text).ok_or_else(|| kind.error("a member kind"))?;
    let constant_value = if kind == MemberKind::Constant {
        // "-28672 (0x9000)": the signed value after narrowing to the field type.
        let decimal = value.text.split(' ').next().unwrap_or_default();
        Some(
            decimal
                .parse::<i32>()
                .map_err(|_| value.error("a signed decimal constant value"))?,
        )
    } else if value.text.is_empty() {
        None
    } else {
        return Err(value.error("no value for a member that is not a constant"));
    };
    Ok(ApiMember {
        package: package.text.to_string(),
        class: class.text.to_string(),
        class_token: class_token.u8()?,
        kind,
        name: name.text.to_string(),
        descriptor: descriptor.text.to_string(),
        token: token.u8()?,
        access_flags: access_words(
            &access,
            &[
                ("public", ACC_PUBLIC),
                ("protected", ACC_PROTECTED),
                ("static", ACC_STATIC),
                ("final", ACC_FINAL),
                ("abstract", ACC_ABSTRACT),
            ],
        )?,
        constant_value,
        since: since.platform()?,
    })
}

/// Flags from comma-separated words (`public,static,final`).
fn access_words(cell: &Cell<'_>, words: &[(&str, u16)]) -> Result<u16, ApiError> {
    cell.text.split(',').try_fold(0u16, |flags, word| {
        words
            .iter()
            .find(|(name, _)| *name == word)
            .map(|(_, bit)| flags | bit)
            .ok_or_else(|| cell.error("comma-separated access flag words"))
    })
}

fn parse_hex(text: &str) -> Option<Vec<u8>> {
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((hex_digit(*high)? << 4) | hex_digit(*low)?),
            _ => None,
        })
        .collect()
}

fn hex_digit(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}
