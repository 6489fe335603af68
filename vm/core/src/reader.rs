//! A bounds-checked big-endian cursor over one CAP component's info bytes while they sit
//! in the NVM staging area of a load (so a package is never held in RAM as a whole); every
//! error names the component and the byte offset.
//!
//! The cursor holds no borrow: each read takes the NVM, so the linker can write the linked
//! image between reads.

use crate::error::{Detail, InfoOffset, LinkError};
use oxicard_store::Nvm;

/// Cursor over a component's info, stored at NVM address `base`.
#[derive(Clone, Copy)]
pub(crate) struct Reader {
    base: usize,
    len: usize,
    pos: usize,
    component: u8,
}

/// A byte range of a component, as an NVM address and length.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Span {
    pub(crate) addr: usize,
    pub(crate) len: usize,
}

impl Reader {
    /// A cursor at the start of `span`, which holds component `component`.
    pub(crate) fn new(span: Span, component: u8) -> Self {
        Reader {
            base: span.addr,
            len: span.len,
            pos: 0,
            component,
        }
    }

    /// A cursor at offset `pos` of `span`.
    pub(crate) fn at(span: Span, component: u8, pos: usize) -> Self {
        Reader {
            pos,
            ..Reader::new(span, component)
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.len
    }

    pub(crate) fn err(&self, expected: Detail) -> LinkError {
        LinkError::Malformed {
            component: self.component,
            offset: InfoOffset::new(self.pos),
            expected,
        }
    }

    /// Takes the next `n` bytes as a span of NVM.
    pub(crate) fn bytes(&mut self, n: usize, what: Detail) -> Result<Span, LinkError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.len)
            .ok_or(self.err(what))?;
        let s = Span {
            addr: self.base + self.pos,
            len: n,
        };
        self.pos = end;
        Ok(s)
    }

    /// Reads the next `buf.len()` bytes into `buf`.
    pub(crate) fn read<N: Nvm>(
        &mut self,
        nvm: &N,
        buf: &mut [u8],
        what: Detail,
    ) -> Result<(), LinkError> {
        let s = self.bytes(buf.len(), what)?;
        nvm.read(s.addr, buf).map_err(|_| self.err(what))
    }

    pub(crate) fn u8<N: Nvm>(&mut self, nvm: &N, what: Detail) -> Result<u8, LinkError> {
        let mut b = [0u8; 1];
        self.read(nvm, &mut b, what)?;
        Ok(b[0])
    }

    pub(crate) fn u16<N: Nvm>(&mut self, nvm: &N, what: Detail) -> Result<u16, LinkError> {
        let mut b = [0u8; 2];
        self.read(nvm, &mut b, what)?;
        Ok(u16::from_be_bytes(b))
    }

    pub(crate) fn u32<N: Nvm>(&mut self, nvm: &N, what: Detail) -> Result<u32, LinkError> {
        let mut b = [0u8; 4];
        self.read(nvm, &mut b, what)?;
        Ok(u32::from_be_bytes(b))
    }

    pub(crate) fn skip(&mut self, n: usize, what: Detail) -> Result<(), LinkError> {
        self.bytes(n, what).map(|_| ())
    }
}
