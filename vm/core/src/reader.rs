//! A bounds-checked big-endian cursor over one CAP component's info bytes; every error
//! names the component and the byte offset.

use crate::error::LinkError;

/// Cursor over a component's info.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    component: u8,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], component: u8) -> Self {
        Reader {
            data,
            pos: 0,
            component,
        }
    }

    pub(crate) fn at(data: &'a [u8], component: u8, pos: usize) -> Self {
        Reader {
            data,
            pos,
            component,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub(crate) fn err(&self, expected: &'static str) -> LinkError {
        LinkError::Malformed {
            component: self.component,
            offset: self.pos,
            expected,
        }
    }

    pub(crate) fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], LinkError> {
        let end = self.pos.checked_add(n).ok_or(self.err(what))?;
        let s = self.data.get(self.pos..end).ok_or(self.err(what))?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, LinkError> {
        let b = self.data.get(self.pos).copied().ok_or(self.err(what))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, LinkError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, LinkError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn skip(&mut self, n: usize, what: &'static str) -> Result<(), LinkError> {
        self.bytes(n, what).map(|_| ())
    }
}
