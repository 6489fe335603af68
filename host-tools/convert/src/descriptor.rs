//! Field and method descriptors (JVMS §4.3) parsed into types.
//!
//! The subset check asks "does this signature mention float, long, char, int, String…?" and
//! the translator needs parameter word counts and return types; both work on these parsed
//! types instead of re-scanning descriptor strings.

use std::fmt;

/// The type of a field, parameter, return value or array element (JVMS §4.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `B`
    Byte,
    /// `C`
    Char,
    /// `D`
    Double,
    /// `F`
    Float,
    /// `I`
    Int,
    /// `J`
    Long,
    /// `S`
    Short,
    /// `Z`
    Boolean,
    /// `L<binary name>;`, holding the internal binary name (`java/lang/Object`).
    Object(String),
    /// `[<component>`
    Array(Box<FieldType>),
}

/// A parsed method descriptor: parameter types and the return type (`None` for `V`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MethodDescriptor {
    /// The parameter types, in order.
    pub params: Vec<FieldType>,
    /// The return type; `None` for `void`.
    pub ret: Option<FieldType>,
}

/// A descriptor string that is not well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptorError {
    /// The descriptor text as found.
    pub descriptor: String,
    /// Byte position in the descriptor where parsing failed.
    pub position: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed descriptor {:?}: expected {} at position {}",
            self.descriptor, self.expected, self.position
        )
    }
}

impl std::error::Error for DescriptorError {}

/// JVMS §4.3.2: an array type may have at most 255 dimensions.
const MAX_ARRAY_DIMENSIONS: usize = 255;

impl FieldType {
    /// Parses a complete field descriptor such as `[B` or `Ljava/lang/Object;`.
    pub fn parse(descriptor: &str) -> Result<FieldType, DescriptorError> {
        let (ty, used) = parse_field_type(descriptor, 0)?;
        if used != descriptor.len() {
            return Err(error(descriptor, used, "end of field descriptor"));
        }
        Ok(ty)
    }

    /// Parses the name found in a `CONSTANT_Class` entry: either a plain binary class name
    /// (`java/lang/Object`) or an array descriptor (`[[B`).
    pub fn from_class_name(name: &str) -> Result<FieldType, DescriptorError> {
        if name.starts_with('[') {
            FieldType::parse(name)
        } else if name.is_empty() || name.contains(';') || name.contains('[') {
            Err(error(name, 0, "a binary class name"))
        } else {
            Ok(FieldType::Object(name.to_string()))
        }
    }

    /// Number of array dimensions (0 for a non-array type).
    pub fn array_dimensions(&self) -> usize {
        let mut ty = self;
        let mut dims = 0;
        while let FieldType::Array(inner) = ty {
            dims += 1;
            ty = inner;
        }
        dims
    }

    /// The innermost element type of an array, or the type itself.
    pub fn element_type(&self) -> &FieldType {
        let mut ty = self;
        while let FieldType::Array(inner) = ty {
            ty = inner;
        }
        ty
    }

    /// Number of JVM local-variable/operand-stack slots (2 for long and double).
    pub fn jvm_slots(&self) -> u32 {
        match self {
            FieldType::Long | FieldType::Double => 2,
            _ => 1,
        }
    }

    /// True for the primitive types (everything but objects and arrays).
    pub fn is_primitive(&self) -> bool {
        !matches!(self, FieldType::Object(_) | FieldType::Array(_))
    }
}

impl fmt::Display for FieldType {
    /// Writes the type back in descriptor syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::Byte => f.write_str("B"),
            FieldType::Char => f.write_str("C"),
            FieldType::Double => f.write_str("D"),
            FieldType::Float => f.write_str("F"),
            FieldType::Int => f.write_str("I"),
            FieldType::Long => f.write_str("J"),
            FieldType::Short => f.write_str("S"),
            FieldType::Boolean => f.write_str("Z"),
            FieldType::Object(name) => write!(f, "L{name};"),
            FieldType::Array(inner) => write!(f, "[{inner}"),
        }
    }
}

impl MethodDescriptor {
    /// Parses a method descriptor such as `(S[BLjava/lang/Object;)V`.
    pub fn parse(descriptor: &str) -> Result<MethodDescriptor, DescriptorError> {
        let bytes = descriptor.as_bytes();
        if bytes.first() != Some(&b'(') {
            return Err(error(descriptor, 0, "'('"));
        }
        let mut pos = 1;
        let mut params = Vec::new();
        loop {
            match bytes.get(pos) {
                Some(b')') => {
                    pos += 1;
                    break;
                }
                Some(_) => {
                    let (ty, next) = parse_field_type(descriptor, pos)?;
                    params.push(ty);
                    pos = next;
                }
                None => return Err(error(descriptor, pos, "a parameter type or ')'")),
            }
        }
        let ret = if bytes.get(pos) == Some(&b'V') {
            pos += 1;
            None
        } else {
            let (ty, next) = parse_field_type(descriptor, pos)?;
            pos = next;
            Some(ty)
        };
        if pos != descriptor.len() {
            return Err(error(descriptor, pos, "end of method descriptor"));
        }
        Ok(MethodDescriptor { params, ret })
    }

    /// Number of JVM slots taken by the parameters (without `this`).
    pub fn param_slots(&self) -> u32 {
        self.params.iter().map(FieldType::jvm_slots).sum()
    }

    /// All types mentioned: parameters, then the return type.
    pub fn types(&self) -> impl Iterator<Item = &FieldType> {
        self.params.iter().chain(self.ret.iter())
    }
}

impl fmt::Display for MethodDescriptor {
    /// Writes the descriptor back in descriptor syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for p in &self.params {
            write!(f, "{p}")?;
        }
        f.write_str(")")?;
        match &self.ret {
            Some(ty) => write!(f, "{ty}"),
            None => f.write_str("V"),
        }
    }
}

fn error(descriptor: &str, position: usize, expected: &'static str) -> DescriptorError {
    DescriptorError {
        descriptor: descriptor.to_string(),
        position,
        expected,
    }
}

/// Parses one field type starting at byte `start`; returns it and the position after it.
fn parse_field_type(descriptor: &str, start: usize) -> Result<(FieldType, usize), DescriptorError> {
    let bytes = descriptor.as_bytes();
    let mut pos = start;
    let mut dims = 0usize;
    while bytes.get(pos) == Some(&b'[') {
        dims += 1;
        pos += 1;
        if dims > MAX_ARRAY_DIMENSIONS {
            return Err(error(descriptor, pos, "at most 255 array dimensions"));
        }
    }
    let base = match bytes.get(pos) {
        Some(b'B') => FieldType::Byte,
        Some(b'C') => FieldType::Char,
        Some(b'D') => FieldType::Double,
        Some(b'F') => FieldType::Float,
        Some(b'I') => FieldType::Int,
        Some(b'J') => FieldType::Long,
        Some(b'S') => FieldType::Short,
        Some(b'Z') => FieldType::Boolean,
        Some(b'L') => {
            let name_start = pos + 1;
            let rest = descriptor.get(name_start..).unwrap_or("");
            let Some(len) = rest.find(';') else {
                return Err(error(descriptor, name_start, "';' ending a class name"));
            };
            let name = rest.get(..len).unwrap_or("");
            if name.is_empty() || name.contains('[') {
                return Err(error(descriptor, name_start, "a binary class name"));
            }
            pos = name_start + len;
            FieldType::Object(name.to_string())
        }
        _ => return Err(error(descriptor, pos, "a field type (B C D F I J S Z L [)")),
    };
    pos += 1;
    let mut ty = base;
    for _ in 0..dims {
        ty = FieldType::Array(Box::new(ty));
    }
    Ok((ty, pos))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_method_descriptor_and_writes_it_back() {
        let text = "(S[BLjava/lang/Object;[[IJ)Ljava/lang/String;";
        let d = MethodDescriptor::parse(text).unwrap();
        assert_eq!(d.params.len(), 5);
        assert_eq!(d.params[3].array_dimensions(), 2);
        assert_eq!(d.param_slots(), 6);
        assert_eq!(d.to_string(), text);
    }

    #[test]
    fn refuses_malformed_descriptors() {
        for bad in [
            "",
            "(",
            "(S",
            "()",
            "()VV",
            "(L;)V",
            "(Ljava/lang/Object)V",
            "(Q)V",
            "V",
        ] {
            assert!(MethodDescriptor::parse(bad).is_err(), "{bad}");
        }
        for bad in ["", "[", "V", "Lfoo", "BB"] {
            assert!(FieldType::parse(bad).is_err(), "{bad}");
        }
        assert!(FieldType::parse(&format!("{}B", "[".repeat(256))).is_err());
        assert!(FieldType::parse(&format!("{}B", "[".repeat(255))).is_ok());
    }
}
