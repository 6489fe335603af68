//! The human-readable listing of `oxicard cap dump`: one section per component, aligned
//! columns, disassembly in the `.jca` style with labels and resolved names as comments.

use std::fmt::{self, Write};

use super::model::{CapDump, ClassDump, MethodDump, MethodSlot};

/// Joins `items` with `, `, or `-` when empty.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

/// Flag names separated by spaces, or `-`.
fn flags(names: &[&str]) -> String {
    if names.is_empty() {
        "-".into()
    } else {
        names.join(" ")
    }
}

/// Writes the listing of `dump`.
pub fn write_cap(dump: &CapDump, out: &mut String) -> fmt::Result {
    let container = match dump.container {
        "cap" => "CAP file (JAR)",
        _ => "load file (concatenated components)",
    };
    writeln!(out, "{}: {container}", dump.file)?;
    if let Some(h) = &dump.header {
        writeln!(out, "\nHeader")?;
        writeln!(out, "  magic          {}", h.magic)?;
        writeln!(out, "  CAP version    {}", h.cap_version)?;
        writeln!(
            out,
            "  flags          0x{:02X} {}",
            h.flags,
            flags(&h.flag_names)
        )?;
        writeln!(
            out,
            "  package        {}",
            h.package.name.as_deref().unwrap_or("(name unknown)")
        )?;
        writeln!(out, "  package AID    {}", h.package.aid)?;
        writeln!(out, "  version        {}", h.package.version)?;
    }
    if let Some(d) = &dump.directory {
        writeln!(out, "\nDirectory")?;
        writeln!(
            out,
            "  {:<22} {:>8} {:>8}",
            "component", "declared", "present"
        )?;
        for c in &d.components {
            let declared = c.declared_size.map_or("-".into(), |s| s.to_string());
            let present = c.actual_size.map_or("-".into(), |s| s.to_string());
            let mark = match (c.declared_size, c.actual_size) {
                (Some(d), Some(a)) if usize::try_from(d).ok() != Some(a) => "  (differs)",
                _ => "",
            };
            let name = format!("{} ({})", c.name, c.tag);
            writeln!(out, "  {name:<22} {declared:>8} {present:>8}{mark}")?;
        }
        writeln!(
            out,
            "  static field image {} bytes, {} array initializers ({} bytes)",
            d.image_size, d.array_init_count, d.array_init_size
        )?;
        writeln!(
            out,
            "  imports {}, applets {}, custom components {}",
            d.import_count,
            d.applet_count,
            d.custom_components.len()
        )?;
        for c in &d.custom_components {
            writeln!(out, "    tag {} size {} AID {}", c.tag, c.size, c.aid)?;
        }
    }
    if let Some(imports) = &dump.imports {
        writeln!(out, "\nImports ({})", imports.len())?;
        for i in imports {
            writeln!(
                out,
                "  {:>3}  {:<32} {:<5} {}",
                i.token,
                i.package.aid,
                i.package.version,
                i.package
                    .name
                    .as_deref()
                    .unwrap_or("(no export file; add it with --exportpath)")
            )?;
            if let Some(source) = &i.export_file {
                writeln!(out, "       from {source}")?;
            }
        }
    }
    if let Some(applets) = &dump.applets {
        writeln!(out, "\nApplets ({})", applets.len())?;
        for a in applets {
            write!(
                out,
                "  {:<32} install() at Method 0x{:04X}",
                a.aid, a.install_method_offset
            )?;
            match &a.class {
                Some(class) => writeln!(out, " in {class}")?,
                None => writeln!(out)?,
            }
        }
    }
    if let Some(cp) = &dump.constant_pool {
        writeln!(out, "\nConstant pool ({} entries)", cp.len())?;
        for e in cp {
            let resolved = e
                .resolved
                .clone()
                .or_else(|| e.descriptor.clone())
                .unwrap_or_default();
            writeln!(
                out,
                "  {:>4}  {:<17} {:<14} {resolved}",
                e.index, e.kind, e.reference
            )?;
        }
    }
    if let Some(classes) = &dump.classes {
        writeln!(out, "\nClasses ({})", classes.len())?;
        for c in classes {
            write_class(c, out)?;
        }
    }
    if let Some(s) = &dump.static_fields {
        writeln!(out, "\nStatic fields")?;
        writeln!(out, "  image size           {} bytes", s.image_size)?;
        writeln!(out, "  reference fields     {}", s.reference_count)?;
        writeln!(out, "  default-value bytes  {}", s.default_value_count)?;
        writeln!(
            out,
            "  non-default values   {}",
            if s.non_default_values.is_empty() {
                "-"
            } else {
                &s.non_default_values
            }
        )?;
        for (i, a) in s.array_init.iter().enumerate() {
            writeln!(
                out,
                "  array {i}: {} bytes of {}: {}",
                a.byte_count, a.element_type, a.values
            )?;
        }
    }
    if let Some(methods) = &dump.methods {
        writeln!(out, "\nMethods ({})", methods.len())?;
        for m in methods {
            write_method(m, out)?;
        }
    }
    if let Some(r) = &dump.ref_location {
        writeln!(out, "\nReferenceLocation")?;
        writeln!(out, "  1-byte index locations  {}", r.byte_index_count)?;
        writeln!(out, "  2-byte index locations  {}", r.byte2_index_count)?;
        if r.unlisted_operands > 0 {
            writeln!(
                out,
                "  constant-pool operands not listed: {}",
                r.unlisted_operands
            )?;
        }
    }
    if let Some(export) = &dump.export {
        writeln!(out, "\nExport ({} classes)", export.len())?;
        for c in export {
            let hex =
                |v: &[u16]| -> Vec<String> { v.iter().map(|o| format!("0x{o:04X}")).collect() };
            writeln!(out, "  {} (Class 0x{:04X})", c.class, c.class_offset)?;
            writeln!(
                out,
                "    static fields at  {}",
                list(&hex(&c.static_field_offsets))
            )?;
            writeln!(
                out,
                "    static methods at {}",
                list(&hex(&c.static_method_offsets))
            )?;
        }
    }
    if let Some(descriptor) = &dump.descriptor {
        match descriptor {
            None => writeln!(out, "\nDescriptor: absent")?,
            Some(d) => {
                writeln!(
                    out,
                    "\nDescriptor ({} classes, {} constant-pool types)",
                    d.classes.len(),
                    d.constant_pool_types
                )?;
                for c in &d.classes {
                    writeln!(
                        out,
                        "  {} token {} [{}]",
                        c.class,
                        c.token,
                        flags(&c.access)
                    )?;
                    if !c.interfaces.is_empty() {
                        writeln!(out, "    implements {}", list(&c.interfaces))?;
                    }
                    for f in &c.fields {
                        writeln!(
                            out,
                            "    field  token {:>3} {:<14} {:<10} [{}]",
                            f.token,
                            f.reference,
                            f.descriptor,
                            flags(&f.access)
                        )?;
                    }
                    for m in &c.methods {
                        writeln!(
                            out,
                            "    method token {:>3} at 0x{:04X} {}{} [{}] {} bytes, {} handlers",
                            m.token,
                            m.method_offset,
                            m.name,
                            m.descriptor.as_deref().unwrap_or(""),
                            flags(&m.access),
                            m.bytecode_count,
                            m.exception_handler_count
                        )?;
                    }
                }
            }
        }
    }
    if !dump.problems.is_empty() {
        writeln!(out, "\nProblems ({})", dump.problems.len())?;
        for p in &dump.problems {
            writeln!(out, "  {p}")?;
        }
    }
    Ok(())
}

fn write_slots(title: &str, slots: &[MethodSlot], out: &mut String) -> fmt::Result {
    if slots.is_empty() {
        return Ok(());
    }
    writeln!(out, "    {title}")?;
    for s in slots {
        write!(out, "      {:>3}  0x{:04X}", s.token, s.offset)?;
        match &s.name {
            Some(name) => writeln!(out, "  {name}")?,
            None => writeln!(out)?,
        }
    }
    Ok(())
}

fn write_class(c: &ClassDump, out: &mut String) -> fmt::Result {
    let token = c.token.map_or("-".into(), |t| t.to_string());
    writeln!(
        out,
        "  {} {} at 0x{:04X}, token {token} [{}]",
        c.kind,
        c.name,
        c.offset,
        flags(&c.flags)
    )?;
    let extends = if c.kind == "interface" {
        "extends"
    } else {
        "superclass"
    };
    writeln!(out, "    {extends} {}", list(&c.supers))?;
    if !c.interfaces.is_empty() {
        writeln!(out, "    implements {}", list(&c.interfaces))?;
    }
    if let (Some(size), Some(first), Some(count)) = (
        c.declared_instance_size,
        c.first_reference_token,
        c.reference_count,
    ) {
        writeln!(
            out,
            "    instance fields {size} words; reference fields: first token {first}, count {count}"
        )?;
    }
    write_slots(
        "public virtual methods (token, Method offset)",
        &c.public_methods,
        out,
    )?;
    write_slots(
        "package virtual methods (token, Method offset)",
        &c.package_methods,
        out,
    )
}

fn write_method(m: &MethodDump, out: &mut String) -> fmt::Result {
    let token = m.token.map_or("-".into(), |t| t.to_string());
    writeln!(
        out,
        "\n  {}.{}{}  (Method 0x{:04X}, token {token}) [{}]",
        m.class,
        m.name,
        m.descriptor.as_deref().unwrap_or(""),
        m.offset,
        flags(&m.access)
    )?;
    writeln!(
        out,
        "    stack {}, args {}, locals {}, {} bytes{}",
        m.max_stack,
        m.nargs,
        m.max_locals,
        m.bytecode_count,
        if m.header_flags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", m.header_flags.join(" "))
        }
    )?;
    let label = |offset: i64| {
        m.instructions
            .iter()
            .find(|i| i64::try_from(i.offset).ok() == Some(offset))
            .and_then(|i| i.label.clone())
            .unwrap_or_else(|| format!("{offset:#06X}"))
    };
    for h in &m.handlers {
        writeln!(
            out,
            "    try {}..{} catch {} -> {}{}",
            label(h.start),
            if h.end == i64::from(m.bytecode_count) {
                "end".to_string()
            } else {
                label(h.end)
            },
            h.catch_type,
            label(h.handler),
            if h.stop { " (stop)" } else { "" }
        )?;
    }
    for i in &m.instructions {
        let label = i
            .label
            .as_deref()
            .map(|l| format!("{l}:"))
            .unwrap_or_default();
        let text = if i.operands.is_empty() {
            i.mnemonic.to_string()
        } else {
            format!("{} {}", i.mnemonic, i.operands)
        };
        match &i.comment {
            Some(comment) => writeln!(
                out,
                "    {label:<6}{:04X}  {text:<28} // {comment}",
                i.offset
            )?,
            None => writeln!(out, "    {label:<6}{:04X}  {text}", i.offset)?,
        }
    }
    Ok(())
}
