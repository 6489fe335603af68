//! `oxicard cap dump` of an export (.exp) file: the package, and every exported class with
//! its tokens, fields and methods.

use std::fmt::{self, Write};

use oxicard_cap::export::model::ExportFileModel;
use oxicard_cap::export::{
    ACC_ABSTRACT, ACC_FINAL, ACC_INTERFACE, ACC_LIBRARY, ACC_PROTECTED, ACC_PUBLIC, ACC_REMOTE,
    ACC_SHAREABLE, ACC_STATIC, CONSTANT_FIELD_TOKEN,
};
use serde::Serialize;

use super::model::aid_hex;

/// An export file as shown by the dump.
#[derive(Serialize)]
pub struct ExpDump {
    /// The file dumped.
    pub file: String,
    /// Always `exp`.
    pub container: &'static str,
    /// Export file format version (`2.3`).
    pub format: String,
    /// The exporting package.
    pub package: ExpPackage,
    /// Packages the file refers to (format 2.3).
    pub referenced_packages: Vec<ExpPackage>,
    /// Exported classes and interfaces.
    pub classes: Vec<ExpClass>,
}

/// A package named in an export file.
#[derive(Serialize)]
pub struct ExpPackage {
    /// Internal name (`javacard/framework`).
    pub name: String,
    /// AID in hex.
    pub aid: String,
    /// `major.minor`.
    pub version: String,
    /// `ACC_LIBRARY` is set.
    pub library: bool,
}

/// An exported class.
#[derive(Serialize)]
pub struct ExpClass {
    /// Class token.
    pub token: u8,
    /// Internal name.
    pub name: String,
    /// Access flags by name.
    pub access: Vec<&'static str>,
    /// Superclasses, root first.
    pub supers: Vec<String>,
    /// All interfaces.
    pub interfaces: Vec<String>,
    /// Fields.
    pub fields: Vec<ExpMember>,
    /// Methods.
    pub methods: Vec<ExpMember>,
}

/// An exported field or method.
#[derive(Serialize)]
pub struct ExpMember {
    /// Token (`None` for compile-time constants, which have no token).
    pub token: Option<u8>,
    /// Name.
    pub name: String,
    /// Java descriptor.
    pub descriptor: String,
    /// Access flags by name.
    pub access: Vec<&'static str>,
    /// Value of a compile-time constant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constant_value: Option<i32>,
}

const ACCESS: &[(u16, &str)] = &[
    (ACC_PUBLIC, "public"),
    (ACC_PROTECTED, "protected"),
    (ACC_STATIC, "static"),
    (ACC_FINAL, "final"),
    (ACC_INTERFACE, "interface"),
    (ACC_ABSTRACT, "abstract"),
    (ACC_SHAREABLE, "shareable"),
    (ACC_REMOTE, "remote"),
];

fn access(flags: u16) -> Vec<&'static str> {
    ACCESS
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

fn package(p: &oxicard_cap::export::model::PackageModel) -> ExpPackage {
    ExpPackage {
        name: p.name.clone(),
        aid: aid_hex(&p.aid),
        version: p.version.to_string(),
        library: p.flags & ACC_LIBRARY != 0,
    }
}

/// Builds the dump of an export file.
pub fn build(file: String, model: &ExportFileModel) -> ExpDump {
    ExpDump {
        file,
        container: "exp",
        format: model.format.to_string(),
        package: package(&model.package),
        referenced_packages: model.referenced_packages.iter().map(package).collect(),
        classes: model
            .classes
            .iter()
            .map(|c| ExpClass {
                token: c.token,
                name: c.name.clone(),
                access: access(c.access_flags),
                supers: c.supers.clone(),
                interfaces: c.interfaces.clone(),
                fields: c
                    .fields
                    .iter()
                    .map(|f| ExpMember {
                        token: Some(f.token).filter(|&t| t != CONSTANT_FIELD_TOKEN),
                        name: f.name.clone(),
                        descriptor: f.descriptor.clone(),
                        access: access(f.access_flags),
                        constant_value: f.constant_value,
                    })
                    .collect(),
                methods: c
                    .methods
                    .iter()
                    .map(|m| ExpMember {
                        token: Some(m.token),
                        name: m.name.clone(),
                        descriptor: m.descriptor.clone(),
                        access: access(m.access_flags),
                        constant_value: None,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Writes the listing of an export file.
pub fn write_exp(dump: &ExpDump, out: &mut String) -> fmt::Result {
    writeln!(out, "{}: export file, format {}", dump.file, dump.format)?;
    let p = &dump.package;
    writeln!(out, "\nPackage")?;
    writeln!(out, "  name     {}", p.name)?;
    writeln!(out, "  AID      {}", p.aid)?;
    writeln!(out, "  version  {}", p.version)?;
    if p.library {
        writeln!(out, "  flags    ACC_LIBRARY")?;
    }
    if !dump.referenced_packages.is_empty() {
        writeln!(
            out,
            "\nReferenced packages ({})",
            dump.referenced_packages.len()
        )?;
        for r in &dump.referenced_packages {
            writeln!(out, "  {:<32} {:<5} {}", r.aid, r.version, r.name)?;
        }
    }
    writeln!(out, "\nClasses ({})", dump.classes.len())?;
    for c in &dump.classes {
        writeln!(
            out,
            "\n  {:>3}  {} [{}]",
            c.token,
            c.name,
            c.access.join(" ")
        )?;
        if let Some(parent) = c.supers.last() {
            writeln!(out, "       extends {parent}")?;
        }
        if !c.interfaces.is_empty() {
            writeln!(out, "       implements {}", c.interfaces.join(", "))?;
        }
        for f in &c.fields {
            let token = f.token.map_or("-".into(), |t| t.to_string());
            write!(
                out,
                "       field  {token:>3}  {} {} [{}]",
                f.name,
                f.descriptor,
                f.access.join(" ")
            )?;
            match f.constant_value {
                Some(v) => writeln!(out, " = {v}")?,
                None => writeln!(out)?,
            }
        }
        for m in &c.methods {
            let token = m.token.map_or("-".into(), |t| t.to_string());
            writeln!(
                out,
                "       method {token:>3}  {}{} [{}]",
                m.name,
                m.descriptor,
                m.access.join(" ")
            )?;
        }
    }
    Ok(())
}
