//! The Debug component (`--debug`): class, field and method names, source files, line
//! tables and local variable tables, so that off-card tools (and later the runtime's error
//! reports) can map a JCVM method offset back to a Java source line. Its layout is
//! `../shared/spec/cap-format.md` §4.12; the strings are the class files' own names
//! (internal form, `org/example/Applet`) and Java descriptors.
//!
//! Bytecode offsets (`start_pc`, `end_pc`, variable ranges) count from the first bytecode of
//! the method, after its header, like the Java class file's tables; `end_pc` is the offset
//! of the last byte of the range (inclusive).

use std::collections::HashMap;

use oxicard_cap::components::debug::{FieldDebugInfo, LineInfo, VariableInfo};
use oxicard_cap::model::{ClassDebugInfo, DebugComponent, MethodDebugInfo};

use crate::classfile::{ClassFile, Method};

/// Java access flags the Debug component keeps for a class (public, final, interface,
/// abstract; ACC_SUPER shares its bit with the Debug component's REMOTE and is dropped).
const CLASS_FLAGS: u16 = 0x0001 | 0x0010 | 0x0200 | 0x0400;
/// Java access flags kept for a field (public, private, protected, static, final).
const FIELD_FLAGS: u16 = 0x001F;
/// Java access flags kept for a method (those of a field, native, abstract).
const METHOD_FLAGS: u16 = 0x001F | 0x0100 | 0x0400;
/// The Debug component's ACC_SHAREABLE.
const ACC_SHAREABLE: u16 = 0x0800;

/// Where the Method component holds a method, and how its JVM code maps to JCVM code.
#[derive(Debug, Clone, Default)]
pub(crate) struct MethodPlacement {
    /// Offset of the method_info in the Method component.
    pub location: u16,
    /// Method header bytes (2, or 4 for an extended header).
    pub header_size: u8,
    /// Bytecode bytes.
    pub body_size: u16,
    /// JVM pc → JCVM bytecode offset, for every JVM pc and the code end (empty for an
    /// abstract method).
    pub pc_map: HashMap<u32, u32>,
    /// JCVM local word of each JVM local slot.
    pub local_slots: Vec<u16>,
}

/// One class of the package, as the Debug component needs it.
pub(crate) struct DebugClass<'a> {
    /// The class file.
    pub class: &'a ClassFile,
    /// Offset of its entry in the Class component.
    pub location: u16,
    /// Implements `javacard.framework.Shareable` (directly or not).
    pub shareable: bool,
    /// Per field of the class file: instance field token, static field image offset or
    /// constant value.
    pub field_contents: Vec<u32>,
    /// Per method of the class file: its placement; `None` for `<clinit>` (not in the CAP).
    /// Abstract and interface methods have the default placement: location, header and
    /// body size 0 (JCVM spec §6.14.1.2).
    pub methods: Vec<Option<MethodPlacement>>,
}

/// The strings table: each string once, in first-use order.
#[derive(Default)]
struct Strings {
    table: Vec<Vec<u8>>,
    index: HashMap<String, u16>,
}

impl Strings {
    fn of(&mut self, s: &str) -> Result<u16, String> {
        if let Some(&i) = self.index.get(s) {
            return Ok(i);
        }
        let i = u16::try_from(self.table.len())
            .map_err(|_| "Debug component: more than 65535 strings".to_string())?;
        self.table.push(modified_utf8(s));
        self.index.insert(s.to_string(), i);
        Ok(i)
    }
}

/// Java's modified UTF-8 (class-file strings): NUL as `C0 80`, characters beyond the BMP as
/// two 3-byte surrogates.
fn modified_utf8(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for unit in s.encode_utf16() {
        match unit {
            1..=0x7F => out.push(unit as u8),
            0 | 0x80..=0x7FF => {
                out.push(0xC0 | (unit >> 6) as u8);
                out.push(0x80 | (unit & 0x3F) as u8);
            }
            _ => {
                out.push(0xE0 | (unit >> 12) as u8);
                out.push(0x80 | ((unit >> 6) & 0x3F) as u8);
                out.push(0x80 | (unit & 0x3F) as u8);
            }
        }
    }
    out
}

/// Builds the Debug component of a package (`package` in internal form).
pub(crate) fn debug_component(
    package: &str,
    classes: &[DebugClass<'_>],
) -> Result<DebugComponent, String> {
    let mut strings = Strings::default();
    let package_name_index = strings.of(package)?;
    let mut out = Vec::with_capacity(classes.len());
    for c in classes {
        let cf = c.class;
        let name_index = strings.of(cf.class_name())?;
        let superclass_name_index = strings.of(cf.super_name().unwrap_or(""))?;
        let source_file_index = strings.of(cf.source_file().unwrap_or(""))?;
        let mut interface_names = Vec::new();
        for i in cf.interface_names() {
            interface_names.push(strings.of(i)?);
        }
        let mut fields = Vec::new();
        for (fi, f) in cf.fields.iter().enumerate() {
            fields.push(FieldDebugInfo {
                name_index: strings.of(&f.name)?,
                descriptor_index: strings.of(&f.descriptor)?,
                access_flags: f.access_flags.0 & FIELD_FLAGS,
                contents: c.field_contents.get(fi).copied().unwrap_or(0),
            });
        }
        let mut methods = Vec::new();
        for (m, placement) in cf.methods.iter().zip(&c.methods) {
            let Some(placement) = placement else { continue };
            methods.push(method_debug_info(m, placement, &mut strings)?);
        }
        let mut access_flags = cf.access_flags.0 & CLASS_FLAGS;
        if c.shareable {
            access_flags |= ACC_SHAREABLE;
        }
        out.push(ClassDebugInfo {
            name_index,
            access_flags,
            location: c.location,
            superclass_name_index,
            source_file_index,
            interface_names,
            fields,
            methods,
        });
    }
    Ok(DebugComponent {
        strings: strings.table,
        package_name_index,
        classes: out,
    })
}

fn method_debug_info(
    m: &Method,
    placement: &MethodPlacement,
    strings: &mut Strings,
) -> Result<MethodDebugInfo, String> {
    let at = |pc: u32| placement.pc_map.get(&pc).copied();
    let mut lines = Vec::new();
    let mut variables = Vec::new();
    if let (Some(code), false) = (m.code(), placement.pc_map.is_empty()) {
        let code_end = code.code.len() as u32;
        let mut starts: Vec<(u16, u16)> = code
            .line_numbers()
            .map(|l| (l.start_pc, l.line_number))
            .collect();
        starts.sort_unstable();
        starts.dedup_by_key(|s| s.0);
        for (k, &(start_pc, source_line)) in starts.iter().enumerate() {
            let next = starts.get(k + 1).map_or(code_end, |&(pc, _)| u32::from(pc));
            let (Some(start), Some(end)) = (at(u32::from(start_pc)), at(next)) else {
                continue;
            };
            // a line whose code translated to nothing has no range
            if end > start {
                lines.push(LineInfo {
                    start_pc: narrow(start)?,
                    end_pc: narrow(end - 1)?,
                    source_line,
                });
            }
        }
        for v in code.local_variables() {
            let slot = placement
                .local_slots
                .get(usize::from(v.index))
                .and_then(|&w| u8::try_from(w).ok());
            let range_end = u32::from(v.start_pc) + u32::from(v.length);
            let (Some(index), Some(start), Some(end)) =
                (slot, at(u32::from(v.start_pc)), at(range_end))
            else {
                continue;
            };
            variables.push(VariableInfo {
                index,
                name_index: strings.of(&v.name)?,
                descriptor_index: strings.of(&v.descriptor)?,
                start_pc: narrow(start)?,
                length: narrow(end.saturating_sub(start))?,
            });
        }
    }
    Ok(MethodDebugInfo {
        name_index: strings.of(&m.name)?,
        descriptor_index: strings.of(&m.descriptor)?,
        access_flags: m.access_flags.0 & METHOD_FLAGS,
        location: placement.location,
        header_size: placement.header_size,
        body_size: placement.body_size,
        variables,
        lines,
    })
}

fn narrow(offset: u32) -> Result<u16, String> {
    u16::try_from(offset).map_err(|_| format!("Debug component: bytecode offset {offset} > 65535"))
}
