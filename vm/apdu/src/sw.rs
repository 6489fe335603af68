//! Status words (ISO/IEC 7816-4 §5.6, Java Card `ISO7816`, GlobalPlatform): the
//! `SW1 SW2` trailer of every response, with the `javacard.framework.ISO7816` constants and a
//! meaning text for each known value, so that the runtime, the shell and test reports all
//! name status words the same way.

use core::fmt;

/// A status word `SW1 SW2` as a big-endian `u16` (`0x9000` = SW1 `90`, SW2 `00`).
///
/// Display: `6A82 (file or application not found)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// `9000`: no error (`ISO7816.SW_NO_ERROR`).
    pub const SW_NO_ERROR: StatusWord = StatusWord(0x9000);
    /// `6100`: response bytes remaining, SW2 = count (`ISO7816.SW_BYTES_REMAINING_00`).
    pub const SW_BYTES_REMAINING_00: StatusWord = StatusWord(0x6100);
    /// `6200`: warning, state unchanged (`ISO7816.SW_WARNING_STATE_UNCHANGED`).
    pub const SW_WARNING_STATE_UNCHANGED: StatusWord = StatusWord(0x6200);
    /// `6300`: warning, state changed, no information given.
    pub const SW_WARNING_STATE_CHANGED: StatusWord = StatusWord(0x6300);
    /// `6310`: GlobalPlatform GET STATUS, more data available.
    pub const SW_GP_MORE_DATA: StatusWord = StatusWord(0x6310);
    /// `63C0`: verification failed, SW2 low nibble = tries left (use
    /// [`StatusWord::verification_failed`]).
    pub const SW_VERIFICATION_FAILED_00: StatusWord = StatusWord(0x63C0);
    /// `6581`: memory failure.
    pub const SW_MEMORY_FAILURE: StatusWord = StatusWord(0x6581);
    /// `6700`: wrong length (`ISO7816.SW_WRONG_LENGTH`).
    pub const SW_WRONG_LENGTH: StatusWord = StatusWord(0x6700);
    /// `6881`: logical channel not supported (`ISO7816.SW_LOGICAL_CHANNEL_NOT_SUPPORTED`).
    pub const SW_LOGICAL_CHANNEL_NOT_SUPPORTED: StatusWord = StatusWord(0x6881);
    /// `6882`: secure messaging not supported (`ISO7816.SW_SECURE_MESSAGING_NOT_SUPPORTED`).
    pub const SW_SECURE_MESSAGING_NOT_SUPPORTED: StatusWord = StatusWord(0x6882);
    /// `6883`: last command of the chain expected (`ISO7816.SW_LAST_COMMAND_EXPECTED`).
    pub const SW_LAST_COMMAND_EXPECTED: StatusWord = StatusWord(0x6883);
    /// `6884`: command chaining not supported (`ISO7816.SW_COMMAND_CHAINING_NOT_SUPPORTED`).
    pub const SW_COMMAND_CHAINING_NOT_SUPPORTED: StatusWord = StatusWord(0x6884);
    /// `6982`: security status not satisfied (`ISO7816.SW_SECURITY_STATUS_NOT_SATISFIED`).
    pub const SW_SECURITY_STATUS_NOT_SATISFIED: StatusWord = StatusWord(0x6982);
    /// `6983`: file invalid (`ISO7816.SW_FILE_INVALID`).
    pub const SW_FILE_INVALID: StatusWord = StatusWord(0x6983);
    /// `6983`: authentication method blocked (`ISO7816.SW_AUTHENTICATION_METHOD_BLOCKED`).
    pub const SW_AUTHENTICATION_METHOD_BLOCKED: StatusWord = StatusWord(0x6983);
    /// `6984`: data invalid (`ISO7816.SW_DATA_INVALID`).
    pub const SW_DATA_INVALID: StatusWord = StatusWord(0x6984);
    /// `6985`: conditions of use not satisfied (`ISO7816.SW_CONDITIONS_NOT_SATISFIED`).
    pub const SW_CONDITIONS_NOT_SATISFIED: StatusWord = StatusWord(0x6985);
    /// `6986`: command not allowed (`ISO7816.SW_COMMAND_NOT_ALLOWED`).
    pub const SW_COMMAND_NOT_ALLOWED: StatusWord = StatusWord(0x6986);
    /// `6999`: applet selection failed (`ISO7816.SW_APPLET_SELECT_FAILED`).
    pub const SW_APPLET_SELECT_FAILED: StatusWord = StatusWord(0x6999);
    /// `6A80`: wrong data (`ISO7816.SW_WRONG_DATA`).
    pub const SW_WRONG_DATA: StatusWord = StatusWord(0x6A80);
    /// `6A81`: function not supported (`ISO7816.SW_FUNC_NOT_SUPPORTED`).
    pub const SW_FUNC_NOT_SUPPORTED: StatusWord = StatusWord(0x6A81);
    /// `6A82`: file or application not found (`ISO7816.SW_FILE_NOT_FOUND`).
    pub const SW_FILE_NOT_FOUND: StatusWord = StatusWord(0x6A82);
    /// `6A83`: record not found (`ISO7816.SW_RECORD_NOT_FOUND`).
    pub const SW_RECORD_NOT_FOUND: StatusWord = StatusWord(0x6A83);
    /// `6A84`: not enough memory space (`ISO7816.SW_FILE_FULL`).
    pub const SW_FILE_FULL: StatusWord = StatusWord(0x6A84);
    /// `6A86`: incorrect P1-P2 (`ISO7816.SW_INCORRECT_P1P2`).
    pub const SW_INCORRECT_P1P2: StatusWord = StatusWord(0x6A86);
    /// `6A88`: referenced data not found (GlobalPlatform: no matching entry).
    pub const SW_REFERENCED_DATA_NOT_FOUND: StatusWord = StatusWord(0x6A88);
    /// `6B00`: wrong parameters P1-P2 (`ISO7816.SW_WRONG_P1P2`).
    pub const SW_WRONG_P1P2: StatusWord = StatusWord(0x6B00);
    /// `6C00`: wrong Le, SW2 = the correct length (`ISO7816.SW_CORRECT_LENGTH_00`).
    pub const SW_CORRECT_LENGTH_00: StatusWord = StatusWord(0x6C00);
    /// `6D00`: instruction not supported (`ISO7816.SW_INS_NOT_SUPPORTED`).
    pub const SW_INS_NOT_SUPPORTED: StatusWord = StatusWord(0x6D00);
    /// `6E00`: class not supported (`ISO7816.SW_CLA_NOT_SUPPORTED`).
    pub const SW_CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6E00);
    /// `6F00`: no precise diagnosis (`ISO7816.SW_UNKNOWN`).
    pub const SW_UNKNOWN: StatusWord = StatusWord(0x6F00);

    /// The status word `SW1 SW2`.
    pub const fn from_bytes(sw1: u8, sw2: u8) -> Self {
        StatusWord(u16::from_be_bytes([sw1, sw2]))
    }

    /// `[SW1, SW2]`.
    pub const fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }

    /// The first status byte.
    pub const fn sw1(self) -> u8 {
        self.to_bytes()[0]
    }

    /// The second status byte.
    pub const fn sw2(self) -> u8 {
        self.to_bytes()[1]
    }

    /// `61xx`: `count` more response bytes available (`0` stands for 256 or more).
    pub const fn bytes_remaining(count: u8) -> Self {
        StatusWord::from_bytes(0x61, count)
    }

    /// `6Cxx`: wrong Le, `correct_le` is the exact length (`0` stands for 256).
    pub const fn correct_length(correct_le: u8) -> Self {
        StatusWord::from_bytes(0x6C, correct_le)
    }

    /// `63Cx`: verification failed, `tries_left` tries left (only the low nibble is kept).
    pub const fn verification_failed(tries_left: u8) -> Self {
        StatusWord::from_bytes(0x63, 0xC0 | (tries_left & 0x0F))
    }

    /// The retry counter of a `63Cx` status word.
    pub const fn tries_left(self) -> Option<u8> {
        if self.sw1() == 0x63 && self.sw2() & 0xF0 == 0xC0 {
            Some(self.sw2() & 0x0F)
        } else {
            None
        }
    }

    /// Whether this is `9000`, the only status word that means plain success.
    pub const fn is_success(self) -> bool {
        self.0 == 0x9000
    }

    /// Whether this is a normal-processing status word: `9000` or `61xx` (more data).
    pub const fn is_normal(self) -> bool {
        self.0 == 0x9000 || self.sw1() == 0x61
    }

    /// Whether this is a warning (`62xx`, `63xx`).
    pub const fn is_warning(self) -> bool {
        matches!(self.sw1(), 0x62 | 0x63)
    }

    /// Whether this is an execution or checking error (`64xx` to `6Fxx`).
    pub const fn is_error(self) -> bool {
        matches!(self.sw1(), 0x64..=0x6F)
    }

    /// What the status word means, from ISO 7816-4, Java Card and GlobalPlatform. Values
    /// with a count in SW2 (`61xx`, `6Cxx`, `63Cx`) describe the pattern here;
    /// [`fmt::Display`] fills the count in. Unassigned values get the text of their class.
    pub const fn meaning(self) -> &'static str {
        match self.0 {
            0x9000 => "OK",
            0x6200 => "warning: state unchanged, no information given",
            0x6281 => "warning: part of the returned data may be corrupted",
            0x6282 => "warning: end of file or record reached before reading Ne bytes",
            0x6283 => "warning: selected file deactivated",
            0x6284 => "warning: file control information not formatted correctly",
            0x6300 => "warning: state changed, no information given",
            0x6310 => "more data available: GlobalPlatform GET STATUS, repeat with P2 b1 set",
            0x6400 => "execution error: state unchanged",
            0x6500 => "execution error: state changed",
            0x6581 => "memory failure",
            0x6700 => "wrong length: Lc or Le",
            0x6800 => "functions in CLA not supported",
            0x6881 => "logical channel not supported",
            0x6882 => "secure messaging not supported",
            0x6883 => "last command of the chain expected",
            0x6884 => "command chaining not supported",
            0x6900 => "command not allowed, no information given",
            0x6981 => "command incompatible with file structure",
            0x6982 => "security status not satisfied",
            0x6983 => "authentication method blocked / file invalid",
            0x6984 => "reference data not usable / data invalid",
            0x6985 => "conditions of use not satisfied",
            0x6986 => "command not allowed: no current EF",
            0x6987 => "expected secure messaging data objects missing",
            0x6988 => "secure messaging data objects incorrect",
            0x6999 => "applet selection failed",
            0x6A80 => "incorrect parameters in the data field",
            0x6A81 => "function not supported",
            0x6A82 => "file or application not found",
            0x6A83 => "record not found",
            0x6A84 => "not enough memory space",
            0x6A85 => "Nc inconsistent with TLV structure",
            0x6A86 => "incorrect parameters P1-P2",
            0x6A87 => "Nc inconsistent with parameters P1-P2",
            0x6A88 => "referenced data not found",
            0x6A89 => "file already exists",
            0x6A8A => "DF name already exists",
            0x6B00 => "wrong parameters P1-P2: offset outside the file",
            0x6D00 => "instruction code not supported or invalid",
            0x6E00 => "class not supported",
            0x6F00 => "no precise diagnosis",
            _ => self.class_meaning(),
        }
    }

    /// The meaning of a status word that has no entry of its own: its pattern or class.
    const fn class_meaning(self) -> &'static str {
        match self.sw1() {
            0x61 => "OK, SW2 more bytes available: send GET RESPONSE",
            0x62 => "warning: state unchanged",
            0x63 if self.sw2() & 0xF0 == 0xC0 => "verification failed, SW2 low nibble tries left",
            0x63 => "warning: state changed",
            0x64 => "execution error: state unchanged",
            0x65 => "execution error: state changed",
            0x66 => "execution error: security-related",
            0x67 => "wrong length",
            0x68 => "functions in CLA not supported",
            0x69 => "command not allowed",
            0x6A => "wrong parameters P1-P2",
            0x6B => "wrong parameters P1-P2",
            0x6C => "wrong Le, SW2 is the exact length",
            0x6D => "instruction code not supported or invalid",
            0x6E => "class not supported",
            0x6F => "no precise diagnosis",
            0x60 => "invalid status word: 60 is the T=0 NULL procedure byte",
            0x90..=0x9F => "application-specific status",
            _ => "unknown status word",
        }
    }
}

impl From<u16> for StatusWord {
    fn from(value: u16) -> Self {
        StatusWord(value)
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> Self {
        sw.0
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X} (", self.0)?;
        let count = self.sw2();
        match self.sw1() {
            0x61 if count == 0 => f.write_str("OK, 256 or more bytes available")?,
            0x61 => write!(f, "OK, {count} more bytes available")?,
            0x6C if count == 0 => f.write_str("wrong Le, 256 is right")?,
            0x6C => write!(f, "wrong Le, {count} is right")?,
            _ => match self.tries_left() {
                Some(1) => f.write_str("verification failed, 1 try left")?,
                Some(tries) => write!(f, "verification failed, {tries} tries left")?,
                None => f.write_str(self.meaning())?,
            },
        }
        f.write_str(")")
    }
}
