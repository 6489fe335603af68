//! Generator for the Java Card API stub sources in `applets/api/src`.
//!
//! Applets are compiled with javac against a jar of API stubs: classes that declare exactly the
//! public and protected surface of `java.lang`, `javacard.framework`, `javacard.security`,
//! `javacardx.crypto`, `javacardx.apdu` and `javacardx.apdu.util` (superclasses, interfaces,
//! modifiers, method signatures, `throws` clauses and the values of the compile-time constants that
//! javac inlines), with no behaviour. This module reads that surface from the specification file
//! `../shared/spec/api-surface.md` and writes one Java source file per top-level class, so the
//! stubs follow the specification exactly instead of being typed by hand.
//!
//! The generated files are committed. The `api_stubs` integration test checks that they are
//! current, and rewrites them when `OXICARD_REGENERATE=1` is set.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Classes that the stubs need but that `api-surface.md` does not list as API, written in the
/// same format.
///
/// * `Resources` declares `throws IOException`, which is `java.io.IOException` (see
///   `api-classes.tsv`).
/// * javac needs `java.lang.Error` to tell checked from unchecked exceptions. Like the Oracle API
///   jar (see the note in `api-surface.md`), the stubs declare `Error`, `AssertionError` and
///   `StringBuilder` package-private, so applets cannot use `assert` or string concatenation.
pub const SUPPLEMENTARY_SURFACE: &str = "\
## package java.io

### java.io.IOException — public class extends java.lang.Exception  [token 0, since 3.0.4]
- [s0] public IOException()

## package java.lang

### java.lang.Error — class extends java.lang.Throwable

### java.lang.AssertionError — class extends java.lang.Error

### java.lang.StringBuilder — class
";

/// Packages whose stubs are generated, in the order they appear in the jar listing.
pub const STUB_PACKAGES: [&str; 7] = [
    "java.io",
    "java.lang",
    "javacard.framework",
    "javacard.security",
    "javacardx.apdu",
    "javacardx.apdu.util",
    "javacardx.crypto",
];

/// Path of the specification file the stubs are generated from.
pub fn api_surface_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/spec/api-surface.md"
    ))
}

/// Directory holding the generated stub sources (`<package path>/<Class>.java`).
pub fn stub_source_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../applets/api/src"))
}

/// One class or interface of the API surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClass {
    /// Package name, e.g. `javacard.framework`.
    pub package: String,
    /// Binary simple name, e.g. `APDU` or `Cipher$OneShot` for a nested class.
    pub name: String,
    /// Modifiers from the header, e.g. `["public", "abstract"]`.
    pub modifiers: Vec<String>,
    /// Whether this is an interface (otherwise a class).
    pub is_interface: bool,
    /// Fully qualified superclass (classes only; `None` for `java.lang.Object` and interfaces).
    pub superclass: Option<String>,
    /// Fully qualified directly implemented (class) or extended (interface) interfaces.
    pub interfaces: Vec<String>,
    /// Compile-time constants, in specification order.
    pub constants: Vec<ApiConstant>,
    /// Constructors and methods, in specification order.
    pub members: Vec<ApiMember>,
}

impl ApiClass {
    /// Fully qualified binary name, e.g. `javacardx.crypto.Cipher$OneShot`.
    pub fn binary_name(&self) -> String {
        format!("{}.{}", self.package, self.name)
    }

    /// Name of the enclosing class for a nested class (`Cipher` for `Cipher$OneShot`).
    pub fn outer_name(&self) -> Option<&str> {
        self.name.split_once('$').map(|(outer, _)| outer)
    }

    /// Simple source name of the class itself (`OneShot` for `Cipher$OneShot`).
    pub fn source_simple_name(&self) -> &str {
        self.name.rsplit('$').next().unwrap_or(&self.name)
    }
}

/// A `public static final` compile-time constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConstant {
    /// Java type: `byte`, `short`, `int` or `boolean`.
    pub java_type: String,
    /// Field name.
    pub name: String,
    /// Signed value (booleans are 0 or 1).
    pub value: i64,
}

/// A constructor or method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiMember {
    /// Token annotation from the specification, e.g. `v3` or `s0 since 3.0.5`; empty if none.
    pub token: String,
    /// Modifiers, e.g. `["public", "static", "final"]`.
    pub modifiers: Vec<String>,
    /// Return type as written in the specification; `None` for a constructor.
    pub return_type: Option<String>,
    /// Method name, or the class's simple source name for a constructor.
    pub name: String,
    /// Parameter types as written in the specification (`byte[]`, `short`, `AID`, …).
    pub params: Vec<String>,
    /// Simple names of the declared thrown exceptions.
    pub throws: Vec<String>,
}

impl ApiMember {
    /// Whether this member is a constructor.
    pub fn is_constructor(&self) -> bool {
        self.return_type.is_none()
    }

    /// Whether the given modifier is present.
    pub fn has_modifier(&self, modifier: &str) -> bool {
        self.modifiers.iter().any(|m| m == modifier)
    }
}

/// The whole API surface: every class of every package, in specification order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSurface {
    /// All classes and interfaces.
    pub classes: Vec<ApiClass>,
}

const MODIFIER_WORDS: [&str; 6] = [
    "public",
    "protected",
    "private",
    "static",
    "final",
    "abstract",
];

const PRIMITIVE_TYPES: [&str; 5] = ["void", "boolean", "byte", "short", "int"];

impl ApiSurface {
    /// Parses `api-surface.md` text (and [`SUPPLEMENTARY_SURFACE`]-style text).
    ///
    /// Errors name the 1-based line and what was expected there.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut classes: Vec<ApiClass> = Vec::new();
        // Whether the lines being read belong to the last class (a `## ` heading ends it).
        let mut in_class = false;
        let mut in_constants = false;
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let at = |what: String| format!("api surface line {line_no}: {what}: {line:?}");
            if let Some(header) = line.strip_prefix("### ") {
                classes.push(parse_class_header(header).map_err(at)?);
                in_class = true;
                in_constants = false;
            } else if line.starts_with("## ") {
                in_class = false;
            } else if let Some(current) = classes.last_mut().filter(|_| in_class) {
                if line == "- constants:" {
                    in_constants = true;
                } else if let Some(constant) = line.strip_prefix("  - ") {
                    if !in_constants {
                        return Err(at("constant outside a `- constants:` list".into()));
                    }
                    current
                        .constants
                        .push(parse_constant(constant).map_err(at)?);
                } else if let Some(member) = line.strip_prefix("- ") {
                    in_constants = false;
                    let simple = current.source_simple_name().to_string();
                    current
                        .members
                        .push(parse_member(member, &simple).map_err(at)?);
                } else if !line.trim().is_empty() {
                    return Err(at("expected a constant, a member or a blank line".into()));
                }
            }
        }
        Ok(ApiSurface { classes })
    }

    /// Parses `api-surface.md` as stored in `../shared/spec` plus [`SUPPLEMENTARY_SURFACE`].
    pub fn load() -> Result<Self, String> {
        let path = api_surface_path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut surface = Self::parse(&text)?;
        surface
            .classes
            .extend(Self::parse(SUPPLEMENTARY_SURFACE)?.classes);
        Ok(surface)
    }

    /// Finds a class by fully qualified binary name.
    pub fn class(&self, binary_name: &str) -> Option<&ApiClass> {
        self.classes.iter().find(|c| c.binary_name() == binary_name)
    }

    /// Maps every simple binary name (`AID`, `Cipher$OneShot`) to its fully qualified binary name.
    ///
    /// Errors if two packages declare the same simple name, since the stubs then could not
    /// refer to both by simple name.
    pub fn simple_name_index(&self) -> Result<BTreeMap<String, String>, String> {
        let mut index = BTreeMap::new();
        for class in &self.classes {
            if let Some(previous) = index.insert(class.name.clone(), class.binary_name()) {
                return Err(format!(
                    "simple name {} is declared twice: {previous} and {}",
                    class.name,
                    class.binary_name()
                ));
            }
        }
        Ok(index)
    }

    /// Resolves a type as written in the specification (`byte[]`, `AID`, `Cipher$OneShot`) to a
    /// JVM field descriptor (`[B`, `Ljavacard/framework/AID;`).
    pub fn descriptor_of(&self, java_type: &str) -> Result<String, String> {
        let index = self.simple_name_index()?;
        type_descriptor(java_type, &index)
    }

    /// The JVM method descriptor of a member, e.g. `([BSB)V`.
    pub fn method_descriptor(&self, member: &ApiMember) -> Result<String, String> {
        let index = self.simple_name_index()?;
        let mut descriptor = String::from("(");
        for param in &member.params {
            descriptor.push_str(&type_descriptor(param, &index)?);
        }
        descriptor.push(')');
        descriptor.push_str(&type_descriptor(
            member.return_type.as_deref().unwrap_or("void"),
            &index,
        )?);
        Ok(descriptor)
    }

    /// Generates the stub sources: relative path (`javacard/framework/APDU.java`) → file text.
    pub fn generate_sources(&self) -> Result<BTreeMap<String, String>, String> {
        let index = self.simple_name_index()?;
        let mut files = BTreeMap::new();
        for class in self.classes.iter().filter(|c| c.outer_name().is_none()) {
            let path = format!("{}/{}.java", class.package.replace('.', "/"), class.name);
            files.insert(path, self.generate_file(class, &index)?);
        }
        for nested in self.classes.iter().filter(|c| c.outer_name().is_some()) {
            let outer = format!("{}.{}", nested.package, nested.outer_name().unwrap_or(""));
            if self.class(&outer).is_none() {
                return Err(format!(
                    "nested class {} has no enclosing class {outer}",
                    nested.binary_name()
                ));
            }
        }
        Ok(files)
    }

    fn generate_file(
        &self,
        class: &ApiClass,
        index: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        let nested: Vec<&ApiClass> = self
            .classes
            .iter()
            .filter(|c| c.package == class.package && c.outer_name() == Some(class.name.as_str()))
            .collect();
        let mut imports = BTreeSet::new();
        for c in std::iter::once(class).chain(nested.iter().copied()) {
            for name in self.referenced_types(c) {
                let top_level = name.split('$').next().unwrap_or(&name).to_string();
                let package = top_level.rsplit_once('.').map_or("", |(p, _)| p);
                if package != class.package && package != "java.lang" {
                    imports.insert(top_level);
                }
            }
        }
        let mut out = String::new();
        out.push_str(
            "// Generated by tests/src/api_stub_gen.rs from ../shared/spec/api-surface.md: do not edit.\n\
             // Regenerate with `OXICARD_REGENERATE=1 cargo test -p oxicard-tests --test api_stubs`.\n",
        );
        let _ = writeln!(out, "package {};", class.package);
        out.push('\n');
        if !imports.is_empty() {
            for import in &imports {
                let _ = writeln!(out, "import {import};");
            }
            out.push('\n');
        }
        self.write_class(&mut out, class, &nested, index, 0)?;
        Ok(out)
    }

    /// Every fully qualified class a class's declaration mentions.
    fn referenced_types(&self, class: &ApiClass) -> Vec<String> {
        let mut names: Vec<String> = class
            .superclass
            .iter()
            .chain(class.interfaces.iter())
            .cloned()
            .collect();
        if let Ok(index) = self.simple_name_index() {
            for member in &class.members {
                let types = member
                    .params
                    .iter()
                    .chain(member.return_type.iter())
                    .chain(member.throws.iter());
                for java_type in types {
                    if let Some(full) = index.get(java_type.trim_end_matches("[]")) {
                        names.push(full.clone());
                    }
                }
            }
        }
        names
    }

    fn write_class(
        &self,
        out: &mut String,
        class: &ApiClass,
        nested: &[&ApiClass],
        index: &BTreeMap<String, String>,
        depth: usize,
    ) -> Result<(), String> {
        let indent = "    ".repeat(depth);
        let member_indent = "    ".repeat(depth + 1);
        let kind = if class.is_interface {
            "interface"
        } else {
            "class"
        };
        let _ = writeln!(
            out,
            "{indent}/** API stub of {{@code {}}}: declarations only, no behaviour. */",
            class.binary_name().replace('$', ".")
        );
        let mut modifiers = class.modifiers.clone();
        if depth > 0 && !modifiers.iter().any(|m| m == "static") {
            // A nested class of the API is a static member class.
            let at = modifiers
                .iter()
                .position(|m| m == "public")
                .map_or(0, |p| p + 1);
            modifiers.insert(at, "static".to_string());
        }
        modifiers.push(kind.to_string());
        let _ = write!(
            out,
            "{indent}{} {}",
            modifiers.join(" "),
            class.source_simple_name()
        );
        if let Some(superclass) = class.superclass.as_deref() {
            if superclass != "java.lang.Object" {
                let _ = write!(out, " extends {}", source_type(superclass, index)?);
            }
        }
        if !class.interfaces.is_empty() {
            let keyword = if class.is_interface {
                "extends"
            } else {
                "implements"
            };
            let names: Result<Vec<String>, String> = class
                .interfaces
                .iter()
                .map(|name| source_type(name, index))
                .collect();
            let _ = write!(out, " {keyword} {}", names?.join(", "));
        }
        out.push_str(" {\n");
        let mut sections: Vec<String> = Vec::new();
        if !class.constants.is_empty() {
            let mut section = String::new();
            for constant in &class.constants {
                let _ = writeln!(
                    section,
                    "{member_indent}public static final {} {} = {};",
                    constant.java_type,
                    constant.name,
                    constant_literal(constant)
                );
            }
            sections.push(section);
        }
        if !class.is_interface && !class.members.iter().any(ApiMember::is_constructor) {
            // No public or protected constructor: declare a package-private one so that javac
            // does not add a public default constructor.
            let mut section = String::new();
            let _ = writeln!(
                section,
                "{member_indent}{}() {{",
                class.source_simple_name()
            );
            section.push_str(&self.super_call(class, None, index, &member_indent)?);
            let _ = writeln!(section, "{member_indent}}}");
            sections.push(section);
        }
        for member in &class.members {
            sections.push(self.member_source(class, member, index, &member_indent)?);
        }
        for inner in nested {
            let mut section = String::new();
            self.write_class(&mut section, inner, &[], index, depth + 1)?;
            sections.push(section);
        }
        out.push_str(&sections.join("\n"));
        let _ = writeln!(out, "{indent}}}");
        Ok(())
    }

    fn member_source(
        &self,
        class: &ApiClass,
        member: &ApiMember,
        index: &BTreeMap<String, String>,
        indent: &str,
    ) -> Result<String, String> {
        let mut text = String::new();
        let params: Result<Vec<String>, String> = member
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| Ok(format!("{} p{i}", source_type(p, index)?)))
            .collect();
        let mut words = member.modifiers.clone();
        if let Some(return_type) = &member.return_type {
            words.push(source_type(return_type, index)?);
        }
        words.push(format!("{}({})", member.name, params?.join(", ")));
        let _ = write!(text, "{indent}{}", words.join(" "));
        if !member.throws.is_empty() {
            let throws: Result<Vec<String>, String> = member
                .throws
                .iter()
                .map(|t| source_type(t, index))
                .collect();
            let _ = write!(text, " throws {}", throws?.join(", "));
        }
        if class.is_interface || member.has_modifier("abstract") {
            text.push_str(";\n");
            return Ok(text);
        }
        text.push_str(" {\n");
        match member.return_type.as_deref() {
            None => text.push_str(&self.super_call(class, Some(member), index, indent)?),
            Some("void") => {}
            Some(return_type) => {
                let _ = writeln!(text, "{indent}    return {};", default_value(return_type));
            }
        }
        let _ = writeln!(text, "{indent}}}");
        Ok(text)
    }

    /// The `super(...)` call a constructor of `class` needs, or nothing when the superclass has
    /// an accessible no-argument constructor (javac then inserts `super()` itself). A superclass
    /// constructor with the same parameter types as `constructor` gets its arguments passed on.
    fn super_call(
        &self,
        class: &ApiClass,
        constructor: Option<&ApiMember>,
        index: &BTreeMap<String, String>,
        indent: &str,
    ) -> Result<String, String> {
        let Some(superclass_name) = &class.superclass else {
            return Ok(String::new());
        };
        let superclass = self.class(superclass_name).ok_or_else(|| {
            format!(
                "superclass {superclass_name} of {} is not in the API surface",
                class.binary_name()
            )
        })?;
        let constructors: Vec<&ApiMember> = superclass
            .members
            .iter()
            .filter(|m| m.is_constructor())
            .collect();
        if constructors.is_empty() {
            // The generated package-private constructor: reachable only from the same package.
            if superclass.package == class.package {
                return Ok(String::new());
            }
            return Err(format!(
                "{} extends {superclass_name}, which has no accessible constructor",
                class.binary_name()
            ));
        }
        if constructors.iter().any(|c| c.params.is_empty()) {
            return Ok(String::new());
        }
        if let Some(same) =
            constructor.and_then(|own| constructors.iter().find(|c| c.params == own.params))
        {
            let args: Vec<String> = (0..same.params.len()).map(|i| format!("p{i}")).collect();
            return Ok(format!("{indent}    super({});\n", args.join(", ")));
        }
        let chosen = constructors[0];
        let args: Result<Vec<String>, String> = chosen
            .params
            .iter()
            .map(|p| Ok(format!("({}) {}", source_type(p, index)?, default_value(p))))
            .collect();
        Ok(format!("{indent}    super({});\n", args?.join(", ")))
    }
}

/// Parses `javacard.framework.APDU — public final class  [token 10, since 3.0.4]`.
fn parse_class_header(header: &str) -> Result<ApiClass, String> {
    let (qualified, rest) = header
        .split_once(" — ")
        .ok_or("expected `<package.Class> — <declaration>`")?;
    let (package, name) = qualified
        .rsplit_once('.')
        .ok_or("expected a package-qualified class name")?;
    let declaration = rest.split(" [token").next().unwrap_or(rest).trim();
    let words: Vec<&str> = declaration.split_whitespace().collect();
    let kind_at = words
        .iter()
        .position(|w| *w == "class" || *w == "interface")
        .ok_or("expected `class` or `interface`")?;
    let modifiers: Vec<String> = words[..kind_at].iter().map(|w| w.to_string()).collect();
    if let Some(bad) = modifiers
        .iter()
        .find(|m| !MODIFIER_WORDS.contains(&m.as_str()))
    {
        return Err(format!("unknown class modifier {bad:?}"));
    }
    let is_interface = words[kind_at] == "interface";
    let mut superclass = None;
    let mut interfaces = Vec::new();
    let clauses = words[kind_at + 1..].join(" ");
    let mut list_kind = "";
    for word in clauses.split(' ').filter(|w| !w.is_empty()) {
        match word {
            "extends" | "implements" => list_kind = word,
            _ => {
                let name = word.trim_end_matches(',').to_string();
                match (list_kind, is_interface) {
                    ("extends", false) if superclass.is_none() => superclass = Some(name),
                    ("extends", true) | ("implements", false) => interfaces.push(name),
                    _ => return Err(format!("unexpected word {word:?} in the declaration")),
                }
            }
        }
    }
    if !is_interface && superclass.is_none() && qualified != "java.lang.Object" {
        superclass = Some("java.lang.Object".to_string());
    }
    Ok(ApiClass {
        package: package.to_string(),
        name: name.to_string(),
        modifiers,
        is_interface,
        superclass,
        interfaces,
        constants: Vec::new(),
        members: Vec::new(),
    })
}

/// Parses `short SW_NO_ERROR = -28672 (0x9000)`.
fn parse_constant(text: &str) -> Result<ApiConstant, String> {
    let (declaration, value_text) = text
        .split_once(" = ")
        .ok_or("expected `<type> <NAME> = <value> (<hex>)`")?;
    let (java_type, name) = declaration
        .split_once(' ')
        .ok_or("expected `<type> <NAME>`")?;
    let (decimal, hex) = value_text
        .split_once(" (")
        .ok_or("expected `<value> (<hex>)`")?;
    let value: i64 = match decimal {
        "true" => 1,
        "false" => 0,
        _ => decimal
            .parse()
            .map_err(|e| format!("bad constant value {decimal:?}: {e}"))?,
    };
    let (min, max, width_digits) = match java_type {
        "boolean" => (0, 1, 0),
        "byte" => (i64::from(i8::MIN), i64::from(i8::MAX), 2),
        "short" => (i64::from(i16::MIN), i64::from(i16::MAX), 4),
        "int" => (i64::from(i32::MIN), i64::from(i32::MAX), 8),
        _ => return Err(format!("unsupported constant type {java_type:?}")),
    };
    if value < min || value > max {
        return Err(format!("value {value} out of range for {java_type}"));
    }
    if width_digits > 0 {
        // The hex form is the two's complement of the value at the type's width: check both agree.
        let hex_digits = hex
            .strip_prefix("0x")
            .and_then(|h| h.strip_suffix(')'))
            .ok_or("expected `(0x…)` after the value")?;
        let unsigned = u64::from_str_radix(hex_digits, 16)
            .map_err(|e| format!("bad hex value {hex_digits:?}: {e}"))?;
        let mask = (1u64 << (4 * width_digits)) - 1;
        if hex_digits.len() != width_digits || (value as u64) & mask != unsigned {
            return Err(format!("hex {hex_digits} does not match value {value}"));
        }
    }
    Ok(ApiConstant {
        java_type: java_type.to_string(),
        name: name.to_string(),
        value,
    })
}

/// Parses `[v3] public final byte getBytes(byte[], short) throws NullPointerException, …`.
fn parse_member(text: &str, class_simple_name: &str) -> Result<ApiMember, String> {
    let (token, rest) = match text.strip_prefix('[') {
        Some(tagged) => {
            let (token, rest) = tagged.split_once("] ").ok_or("expected `[token] `")?;
            (token.to_string(), rest)
        }
        None => (String::new(), text),
    };
    let open = rest.find('(').ok_or("expected `(` in a member")?;
    let close = rest.find(')').ok_or("expected `)` in a member")?;
    if close < open {
        return Err("`)` before `(`".into());
    }
    let head: Vec<&str> = rest[..open].split_whitespace().collect();
    let params: Vec<String> = rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let tail = rest[close + 1..].trim();
    let throws: Vec<String> = if tail.is_empty() {
        Vec::new()
    } else {
        tail.strip_prefix("throws ")
            .ok_or("expected `throws` or the end after `)`")?
            .split(',')
            .map(|t| t.trim().to_string())
            .collect()
    };
    let modifier_count = head
        .iter()
        .take_while(|w| MODIFIER_WORDS.contains(w))
        .count();
    let modifiers: Vec<String> = head[..modifier_count]
        .iter()
        .map(|w| w.to_string())
        .collect();
    let (return_type, name) = match &head[modifier_count..] {
        [name] if *name == class_simple_name => (None, name.to_string()),
        [return_type, name] => (Some(return_type.to_string()), name.to_string()),
        _ => return Err("expected `<modifiers> [<return type>] <name>(`".into()),
    };
    Ok(ApiMember {
        token,
        modifiers,
        return_type,
        name,
        params,
        throws,
    })
}

/// Field descriptor of a specification type, using `index` for class names.
fn type_descriptor(java_type: &str, index: &BTreeMap<String, String>) -> Result<String, String> {
    if let Some(element) = java_type.strip_suffix("[]") {
        return Ok(format!("[{}", type_descriptor(element, index)?));
    }
    Ok(match java_type {
        "void" => "V".into(),
        "boolean" => "Z".into(),
        "byte" => "B".into(),
        "short" => "S".into(),
        "int" => "I".into(),
        _ => format!("L{};", resolve(java_type, index)?.replace('.', "/")),
    })
}

/// Fully qualified binary name of a specification type name (simple or already qualified).
fn resolve(name: &str, index: &BTreeMap<String, String>) -> Result<String, String> {
    if name.contains('.') {
        return Ok(name.to_string());
    }
    index
        .get(name)
        .cloned()
        .ok_or_else(|| format!("type {name:?} is not declared in the API surface"))
}

/// How a type is written in a stub source: simple names (imports cover other packages), with
/// `Outer.Inner` for nested classes.
fn source_type(java_type: &str, index: &BTreeMap<String, String>) -> Result<String, String> {
    if let Some(element) = java_type.strip_suffix("[]") {
        return Ok(format!("{}[]", source_type(element, index)?));
    }
    if PRIMITIVE_TYPES.contains(&java_type) {
        return Ok(java_type.to_string());
    }
    let full = resolve(java_type, index)?;
    let simple = full.rsplit_once('.').map_or(full.as_str(), |(_, s)| s);
    Ok(simple.replace('$', "."))
}

/// A default value expression of a type (`0`, `false`, `null`).
fn default_value(java_type: &str) -> &'static str {
    match java_type {
        "boolean" => "false",
        "byte" | "short" | "int" => "0",
        _ => "null",
    }
}

/// The Java literal of a constant's value, typed so that the declaration compiles.
fn constant_literal(constant: &ApiConstant) -> String {
    match constant.java_type.as_str() {
        "boolean" => (constant.value != 0).to_string(),
        _ => constant.value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
## package java.lang

### java.lang.Object — public class  [token 0, since 3.0.4]
- [s0] public Object()

## package p

### p.Base — public abstract class  [token 0, since 3.0.4]
- constants:
  - byte B = -16 (0xF0)
  - short S = -28672 (0x9000)
- [s1] protected Base(short)
- [v1] public abstract short size(byte[], short) throws Oops

### p.Base$OneShot — public final class extends p.Base  [token 1, since 3.0.5]
- [s0 since 3.0.5] public static final Base$OneShot open(byte)
- [v1] public short size(byte[], short) throws Oops

### p.Oops — public class extends java.lang.Object  [token 2, since 3.0.4]
- [s0] public Oops()
";

    #[test]
    fn parses_classes_constants_and_members() {
        let surface = ApiSurface::parse(SAMPLE).expect("sample parses");
        let base = surface.class("p.Base").expect("Base");
        assert_eq!(base.modifiers, ["public", "abstract"]);
        assert_eq!(base.superclass.as_deref(), Some("java.lang.Object"));
        assert_eq!(base.constants[0].value, -16);
        assert_eq!(base.constants[1].value, -28672);
        assert!(base.members[0].is_constructor());
        assert_eq!(base.members[1].throws, ["Oops"]);
        let size = &base.members[1];
        assert_eq!(surface.method_descriptor(size).as_deref(), Ok("([BS)S"));
        let one_shot = surface.class("p.Base$OneShot").expect("OneShot");
        assert_eq!(one_shot.members[0].token, "s0 since 3.0.5");
        assert_eq!(
            surface.method_descriptor(&one_shot.members[0]).as_deref(),
            Ok("(B)Lp/Base$OneShot;")
        );
    }

    #[test]
    fn generates_nested_classes_and_super_calls() {
        let surface = ApiSurface::parse(SAMPLE).expect("sample parses");
        let files = surface.generate_sources().expect("sources generate");
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            ["java/lang/Object.java", "p/Base.java", "p/Oops.java"]
        );
        let base = &files["p/Base.java"];
        assert!(base.contains("public static final byte B = -16;"));
        assert!(base.contains("public static final short S = -28672;"));
        assert!(base.contains("    public abstract short size(byte[] p0, short p1) throws Oops;"));
        assert!(base.contains("    public static final class OneShot extends Base {"));
        // OneShot has no constructor in the surface: a package-private one calls Base(short).
        assert!(base.contains("        OneShot() {\n            super((short) 0);\n"));
        assert!(base.contains("public static final Base.OneShot open(byte p0) {"));
    }

    #[test]
    fn rejects_inconsistent_constants_and_unknown_types() {
        let bad_hex = SAMPLE.replace("(0xF0)", "(0xF1)");
        let error = ApiSurface::parse(&bad_hex).expect_err("hex must match the value");
        assert!(error.contains("line 10: hex F1"), "{error}");
        let out_of_range = SAMPLE.replace("byte B = -16 (0xF0)", "byte B = 200 (0xC8)");
        assert!(ApiSurface::parse(&out_of_range).is_err());
        let unknown = SAMPLE.replace("throws Oops\n\n###", "throws Nope\n\n###");
        let surface = ApiSurface::parse(&unknown).expect("unknown types parse");
        assert!(surface.generate_sources().is_err());
    }

    #[test]
    fn spec_surface_lists_the_expected_packages() {
        let surface = ApiSurface::load().expect("api-surface.md parses");
        let packages: BTreeSet<&str> = surface.classes.iter().map(|c| c.package.as_str()).collect();
        assert_eq!(packages.into_iter().collect::<Vec<_>>(), STUB_PACKAGES);
        assert_eq!(surface.classes.len(), 89);
    }
}
