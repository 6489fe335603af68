//! A bounds-checked big-endian reader over component bytes, and lazily decoded item lists.
//!
//! Every parser in this crate reads through [`ByteReader`], which knows the component and the
//! byte offset it is at, so every failure becomes a [`CapError`] that says where and why. The
//! primitive reads use nom (default features off); nothing here can panic or allocate.
//!
//! Variable-length lists are validated once when their component is parsed ([`Items::parse`])
//! and kept as a byte slice; iterating them later decodes the same bytes again and cannot fail.

use core::marker::PhantomData;

use nom::number::complete::{be_u16, be_u32, be_u8};

use crate::error::{CapError, ComponentTag, ErrorKind};

type NomError<'a> = nom::error::Error<&'a [u8]>;

/// A cursor over a component's bytes that reports errors with component and offset.
#[derive(Clone, Copy, Debug)]
pub struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    component: Option<ComponentTag>,
    minor_version: u8,
}

impl<'a> ByteReader<'a> {
    /// A reader over `data`, whose first byte is at `base` in `component` (see
    /// [`CapError::offset`]). `minor_version` is the CAP format minor version (1, 2 or 3), which
    /// some layouts depend on.
    pub fn new(
        data: &'a [u8],
        component: Option<ComponentTag>,
        base: usize,
        minor_version: u8,
    ) -> Self {
        ByteReader {
            data,
            pos: 0,
            base,
            component,
            minor_version,
        }
    }

    /// The CAP format minor version this reader parses for.
    pub fn minor_version(&self) -> u8 {
        self.minor_version
    }

    /// The component being read.
    pub fn component(&self) -> Option<ComponentTag> {
        self.component
    }

    /// Offset of the next byte, counted like [`CapError::offset`].
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Offset of the next byte from the start of this reader's data.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// True when every byte was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: ErrorKind) -> CapError {
        CapError::new(self.component, self.offset(), kind)
    }

    /// An error of `kind` at `position` (counted from the start of this reader's data).
    pub fn error_at(&self, position: usize, kind: ErrorKind) -> CapError {
        CapError::new(self.component, self.base.saturating_add(position), kind)
    }

    fn truncated(&self, field: &'static str, needed: usize) -> CapError {
        self.error(ErrorKind::Truncated {
            field,
            needed,
            found: self.remaining(),
        })
    }

    /// Reads `n` bytes.
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CapError> {
        let rest = self.rest();
        let (_, taken) = nom::bytes::complete::take::<usize, &[u8], NomError<'a>>(n)(rest)
            .map_err(|_| self.truncated(field, n))?;
        self.pos = self.pos.saturating_add(n);
        Ok(taken)
    }

    /// Reads a u1.
    pub fn u1(&mut self, field: &'static str) -> Result<u8, CapError> {
        let (_, value) =
            be_u8::<&[u8], NomError<'a>>(self.rest()).map_err(|_| self.truncated(field, 1))?;
        self.pos = self.pos.saturating_add(1);
        Ok(value)
    }

    /// Reads a big-endian u2.
    pub fn u2(&mut self, field: &'static str) -> Result<u16, CapError> {
        let (_, value) =
            be_u16::<&[u8], NomError<'a>>(self.rest()).map_err(|_| self.truncated(field, 2))?;
        self.pos = self.pos.saturating_add(2);
        Ok(value)
    }

    /// Reads a big-endian u4.
    pub fn u4(&mut self, field: &'static str) -> Result<u32, CapError> {
        let (_, value) =
            be_u32::<&[u8], NomError<'a>>(self.rest()).map_err(|_| self.truncated(field, 4))?;
        self.pos = self.pos.saturating_add(4);
        Ok(value)
    }

    /// Reads a u1 length followed by that many bytes.
    pub fn u1_prefixed(&mut self, field: &'static str) -> Result<&'a [u8], CapError> {
        let len = self.u1(field)?;
        self.bytes(usize::from(len), field)
    }

    /// Reads `count` big-endian u2 values.
    pub fn u2_list(&mut self, count: usize, field: &'static str) -> Result<U2List<'a>, CapError> {
        let len = count
            .checked_mul(2)
            .ok_or_else(|| self.truncated(field, usize::MAX))?;
        Ok(U2List {
            bytes: self.bytes(len, field)?,
        })
    }

    /// Reads an AID: u1 length (5..=16) and the AID bytes.
    pub fn aid(&mut self, field: &'static str) -> Result<&'a [u8], CapError> {
        let at = self.position();
        let len = self.u1(field)?;
        if !(5..=16).contains(&len) {
            return Err(self.error_at(
                at,
                ErrorKind::Invalid {
                    field,
                    expected: "an AID length of 5..=16",
                    found: u32::from(len),
                },
            ));
        }
        self.bytes(usize::from(len), field)
    }

    /// A reader over the next `n` bytes (which this reader skips).
    pub fn sub(&mut self, n: usize, field: &'static str) -> Result<ByteReader<'a>, CapError> {
        let base = self.offset();
        let data = self.bytes(n, field)?;
        Ok(ByteReader::new(
            data,
            self.component,
            base,
            self.minor_version,
        ))
    }

    /// Fails with [`ErrorKind::TrailingBytes`] unless every byte was read.
    pub fn finish(&self) -> Result<(), CapError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(ErrorKind::TrailingBytes {
                count: self.remaining(),
            }))
        }
    }
}

/// An item of a CAP list that can be read from component bytes.
pub trait Decode<'a>: Sized {
    /// `Some(n)` if every item is exactly `n` bytes and any `n` bytes are a valid item, so
    /// lists can be validated (and skipped) by length alone.
    const ANY_BYTES_OF_SIZE: Option<usize> = None;

    /// Reads one item.
    fn decode(reader: &mut ByteReader<'a>) -> Result<Self, CapError>;
}

/// A list of items that was validated when its component was parsed; iterating decodes them.
pub struct Items<'a, T> {
    reader: ByteReader<'a>,
    remaining: usize,
    item: PhantomData<fn() -> T>,
}

impl<T> Clone for Items<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Items<'_, T> {}

impl<T> core::fmt::Debug for Items<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Items")
            .field("offset", &self.reader.offset())
            .field("len", &self.remaining)
            .finish()
    }
}

impl<'a, T: Decode<'a>> Items<'a, T> {
    /// Reads and validates `count` items, advancing `reader` past them.
    pub fn parse(reader: &mut ByteReader<'a>, count: usize) -> Result<Self, CapError> {
        let start = *reader;
        if let Some(size) = T::ANY_BYTES_OF_SIZE {
            let len = count.saturating_mul(size);
            reader.bytes(len, "list items")?;
        } else {
            for _ in 0..count {
                T::decode(reader)?;
            }
        }
        Ok(Items {
            reader: start,
            remaining: count,
            item: PhantomData,
        })
    }

    /// Reads and validates items until `reader` is empty.
    pub fn parse_to_end(reader: &mut ByteReader<'a>) -> Result<Self, CapError> {
        let start = *reader;
        let mut count = 0usize;
        while !reader.is_empty() {
            T::decode(reader)?;
            count = count.saturating_add(1);
        }
        Ok(Items {
            reader: start,
            remaining: count,
            item: PhantomData,
        })
    }

    /// An empty list.
    pub fn empty() -> Self {
        Items {
            reader: ByteReader::new(&[], None, 0, 1),
            remaining: 0,
            item: PhantomData,
        }
    }

    /// The `index`th item.
    pub fn get(&self, index: usize) -> Option<T> {
        let mut all = *self;
        all.nth(index)
    }

    /// Offset (counted like [`CapError::offset`]) of the next item.
    pub fn offset(&self) -> usize {
        self.reader.offset()
    }

    /// The `count` items starting at `start`, or `None` if the list is shorter.
    pub fn range(&self, start: usize, count: usize) -> Option<Self> {
        if start.checked_add(count)? > self.remaining {
            return None;
        }
        let mut sub = *self;
        for _ in 0..start {
            sub.next()?;
        }
        sub.remaining = count;
        Some(sub)
    }
}

impl<'a, T: Decode<'a>> Iterator for Items<'a, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        match T::decode(&mut self.reader) {
            Ok(item) => Some(item),
            // Cannot happen: the items were validated by `parse`.
            Err(_) => {
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a, T: Decode<'a>> ExactSizeIterator for Items<'a, T> {}

/// A validated array of big-endian u2 values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct U2List<'a> {
    bytes: &'a [u8],
}

impl<'a> U2List<'a> {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.bytes.len() / 2
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.bytes.len() < 2
    }

    /// The `index`th value.
    pub fn get(&self, index: usize) -> Option<u16> {
        let at = index.checked_mul(2)?;
        let hi = *self.bytes.get(at)?;
        let lo = *self.bytes.get(at.checked_add(1)?)?;
        Some(u16::from_be_bytes([hi, lo]))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        self.bytes.chunks_exact(2).map(|pair| match pair {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]),
            _ => 0,
        })
    }
}
