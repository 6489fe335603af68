//! Where an answer to reset ends (ISO/IEC 7816-3 clause 8.2): a reader reading an ATR off a
//! serial line needs to know how many bytes to wait for before the first block.

/// The total length of the ATR that starts with `prefix`, once `prefix` holds enough of it to
/// tell (T0 and every TDi); `None` while more bytes are needed to know.
///
/// TCK is present when any protocol other than T=0 is indicated.
pub fn atr_length(prefix: &[u8]) -> Option<usize> {
    let t0 = *prefix.get(1)?;
    let historical = usize::from(t0 & 0x0F);
    let mut indicator = t0 >> 4;
    let mut pos = 2usize;
    let mut tck = false;
    loop {
        let count = indicator.count_ones() as usize;
        if indicator & 0x8 == 0 {
            pos += count;
            break;
        }
        // TDi is the last interface byte of this group
        let td = *prefix.get(pos + count - 1)?;
        if td & 0x0F != 0 {
            tck = true;
        }
        pos += count;
        indicator = td >> 4;
    }
    Some(pos + historical + usize::from(tck))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_of_known_atrs() {
        // oxicard-sim's ATR (T=0 then T=1, 9 historical bytes, TCK): 14 bytes.
        let sim = [
            0x3B, 0x89, 0x80, 0x01, 0x80, 0x67, 0x6F, 0x78, 0x69, 0x63, 0x61, 0x72, 0x64, 0x85,
        ];
        for n in 0..4 {
            assert_eq!(atr_length(&sim[..n]), None, "{n} bytes are not enough");
        }
        assert_eq!(atr_length(&sim[..4]), Some(14));
        // A T=0 only ATR without interface bytes: 3B 02 14 50 (no TCK).
        assert_eq!(atr_length(&[0x3B, 0x02]), Some(4));
        // TA1 TB1 TC1 then TD1 = 0x81 (TD2 follows, T=1), TD2 = 0x31 (TA3 TB3, T=1): 3B F0 ...
        let atr = [0x3B, 0xF0, 0x11, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x00];
        assert_eq!(atr_length(&atr[..6]), None);
        assert_eq!(atr_length(&atr[..7]), Some(10));
    }
}
