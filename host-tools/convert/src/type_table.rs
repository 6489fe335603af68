//! The type descriptors of the Descriptor component (JCVM spec §6.13, cap-format.md §4.11):
//! Java field and method descriptors turned into nibble strings, each stored once, in the
//! order Oracle's converter uses (constant-pool entries first, then classes' fields and
//! methods), with their offsets into `type_descriptor_info`.

use std::collections::HashMap;

use oxicard_cap::model::TypeDescriptor;

use crate::descriptor::{FieldType, MethodDescriptor};

/// Nibbles of one field type; `class_ref` gives the CAP class_ref of a class name.
pub(crate) fn field_nibbles(t: &FieldType, class_ref: &dyn Fn(&str) -> u16) -> Vec<u8> {
    let class = |name: &str| {
        let r = class_ref(name);
        vec![
            (r >> 12) as u8 & 0xF,
            (r >> 8) as u8 & 0xF,
            (r >> 4) as u8 & 0xF,
            r as u8 & 0xF,
        ]
    };
    match t {
        FieldType::Boolean => vec![2],
        FieldType::Byte => vec![3],
        FieldType::Int => vec![5],
        FieldType::Object(name) => [vec![6], class(name)].concat(),
        FieldType::Array(e) => match e.as_ref() {
            FieldType::Boolean => vec![0xA],
            FieldType::Byte => vec![0xB],
            FieldType::Int => vec![0xD],
            FieldType::Object(name) => [vec![0xE], class(name)].concat(),
            // arrays of arrays are refused by the subset check; shorts and the rest
            _ => vec![0xC],
        },
        // short, and the types the subset check refuses
        _ => vec![4],
    }
}

/// Nibbles of a method signature: parameters, then the return type (1 for void).
pub(crate) fn method_nibbles(d: &MethodDescriptor, class_ref: &dyn Fn(&str) -> u16) -> Vec<u8> {
    let mut out: Vec<u8> = d
        .params
        .iter()
        .flat_map(|p| field_nibbles(p, class_ref))
        .collect();
    match &d.ret {
        Some(r) => out.extend(field_nibbles(r, class_ref)),
        None => out.push(1),
    }
    out
}

/// The `field_descriptor_info.type` of a field: a primitive code or a type offset.
pub(crate) fn primitive_code(t: &FieldType) -> Option<u16> {
    match t {
        FieldType::Boolean => Some(0x8002),
        FieldType::Byte => Some(0x8003),
        FieldType::Short => Some(0x8004),
        FieldType::Int => Some(0x8005),
        _ => None,
    }
}

/// Type descriptors, each stored once, with their offsets.
pub(crate) struct TypeTable {
    next: u32,
    by_nibbles: HashMap<Vec<u8>, u16>,
    descriptors: Vec<TypeDescriptor>,
}

impl TypeTable {
    /// An empty table after a `constant_pool_types` array of `cp_count` entries.
    pub(crate) fn new(cp_count: usize) -> Self {
        TypeTable {
            next: 2 + 2 * cp_count as u32,
            by_nibbles: HashMap::new(),
            descriptors: Vec::new(),
        }
    }

    /// The offset of a nibble string, added if new; `None` once offsets pass 0x7FFF.
    pub(crate) fn offset(&mut self, nibbles: Vec<u8>) -> Option<u16> {
        if let Some(&o) = self.by_nibbles.get(&nibbles) {
            return Some(o);
        }
        let at = u16::try_from(self.next).ok().filter(|o| o & 0x8000 == 0)?;
        let count = u8::try_from(nibbles.len()).ok()?;
        let bytes: Vec<u8> = nibbles
            .chunks(2)
            .map(|c| (c[0] << 4) | c.get(1).copied().unwrap_or(0))
            .collect();
        self.next += 1 + bytes.len() as u32;
        self.descriptors.push(TypeDescriptor {
            nibble_count: count,
            type_bytes: bytes,
        });
        self.by_nibbles.insert(nibbles, at);
        Some(at)
    }

    /// The descriptors in order.
    pub(crate) fn into_descriptors(self) -> Vec<TypeDescriptor> {
        self.descriptors
    }
}
