//! The class byte (ISO/IEC 7816-4 §5.4.1): logical channel, command chaining and secure
//! messaging bits, read the way Java Card's `APDU.getCLAChannel()`,
//! `isCommandChainingCLA()`, `isSecureMessagingCLA()` and `isISOInterindustryCLA()` do.
//!
//! The runtime needs these to route a command to a logical channel and to recognise an
//! applet SELECT; host tools need them to put a channel number into a CLA.

/// Whether `cla` is `FF`, which is not a valid class (it starts a PPS exchange).
pub const fn is_invalid(cla: u8) -> bool {
    cla == 0xFF
}

/// Whether `cla` is interindustry (b8 = 0): first (`000x xxxx`) or further (`01xx xxxx`).
pub const fn is_interindustry(cla: u8) -> bool {
    cla & 0x80 == 0
}

/// The logical channel of `cla`: 0..=3 for the first interindustry coding (b2-b1), 4..=19
/// for the further one (b4-b1 + 4). Proprietary classes (b8 = 1, e.g. GlobalPlatform `80`,
/// `84`) use the same bits as the first coding when b7 = 0 and the further coding otherwise.
/// `FF` and RFU classes (`001x xxxx`) have no channel.
pub const fn logical_channel(cla: u8) -> Option<u8> {
    if is_invalid(cla) || cla & 0xE0 == 0x20 {
        None
    } else if cla & 0x40 == 0 {
        Some(cla & 0x03)
    } else {
        Some((cla & 0x0F) + 4)
    }
}

/// Whether `cla` marks a command that is not the last of a chain (b5, `0x10`).
pub const fn is_command_chaining(cla: u8) -> bool {
    !is_invalid(cla) && cla & 0xE0 != 0x20 && cla & 0x10 != 0
}

/// Whether `cla` indicates secure messaging: b4-b3 in the first coding (and proprietary
/// classes with b7 = 0), b6 in the further coding.
pub const fn has_secure_messaging(cla: u8) -> bool {
    if is_invalid(cla) || cla & 0xE0 == 0x20 {
        false
    } else if cla & 0x40 == 0 {
        cla & 0x0C != 0
    } else {
        cla & 0x20 != 0
    }
}

/// `cla` with its logical channel bits set to `channel` (0..=19), choosing the first
/// interindustry coding for channels 0 to 3 and the further one for 4 to 19, and keeping
/// the chaining bit and b8 (proprietary). Secure messaging bits are cleared when the coding
/// changes. `None` when `channel` is above 19 or the result would be `FF`.
pub const fn with_logical_channel(cla: u8, channel: u8) -> Option<u8> {
    let keep = cla & 0x90;
    if channel <= 3 {
        let sm = if cla & 0x40 == 0 { cla & 0x0C } else { 0 };
        Some(keep | sm | channel)
    } else if channel <= 19 {
        let sm = if cla & 0x40 != 0 { cla & 0x20 } else { 0 };
        let cla = keep | 0x40 | sm | (channel - 4);
        if is_invalid(cla) {
            None
        } else {
            Some(cla)
        }
    } else {
        None
    }
}

/// Whether a command is an applet SELECT as the JCRE defines it: INS `A4`, P1 `04`, and an
/// interindustry CLA without secure messaging (`000000cc` or `0100dddd`, chaining not set).
pub const fn is_applet_select(cla: u8, ins: u8, p1: u8) -> bool {
    ins == 0xA4 && p1 == 0x04 && (cla & 0xFC == 0x00 || cla & 0xF0 == 0x40)
}
