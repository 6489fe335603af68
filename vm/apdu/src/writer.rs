//! A bounds-checked cursor over a caller's output buffer, shared by every encoder here so
//! that no encoder indexes a slice directly.

use crate::error::ApduError;

/// Writes bytes one after another into a caller-supplied buffer.
pub(crate) struct Writer<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// Starts writing at the beginning of `out`, after checking that it has room for
    /// `needed` bytes (so that a failed encoding writes nothing).
    pub(crate) fn with_room(out: &'a mut [u8], needed: usize) -> Result<Self, ApduError> {
        if out.len() < needed {
            return Err(ApduError::output_too_small(needed, out.len()));
        }
        Ok(Writer { out, pos: 0 })
    }

    /// Appends `bytes`.
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), ApduError> {
        let end = self.pos.saturating_add(bytes.len());
        let available = self.out.len();
        let dst = self
            .out
            .get_mut(self.pos..end)
            .ok_or(ApduError::output_too_small(end, available))?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Appends one byte.
    pub(crate) fn put_u8(&mut self, byte: u8) -> Result<(), ApduError> {
        self.put(&[byte])
    }

    /// Number of bytes written so far.
    pub(crate) fn written(&self) -> usize {
        self.pos
    }
}
