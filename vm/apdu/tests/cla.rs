//! Class byte coding from /work/shared/spec/iso7816-apdu.md section 1 ("CLA byte") and
//! the JCRE applet-SELECT rule of section 3.
#![allow(clippy::unwrap_used)] // tests fail by panicking

use oxicard_apdu::cla;

#[test]
fn first_interindustry_channels_0_to_3() {
    for channel in 0..4u8 {
        assert_eq!(cla::logical_channel(channel), Some(channel));
        assert_eq!(
            cla::logical_channel(0x80 | channel),
            Some(channel),
            "GP 80 class"
        );
    }
    assert!(!cla::has_secure_messaging(0x00));
    assert!(cla::has_secure_messaging(0x04) && cla::has_secure_messaging(0x0C));
    assert!(cla::has_secure_messaging(0x84), "GP C-MAC class");
    assert!(cla::is_command_chaining(0x10) && !cla::is_command_chaining(0x00));
    assert!(cla::is_interindustry(0x00) && !cla::is_interindustry(0x80));
}

#[test]
fn further_interindustry_channels_4_to_19() {
    assert_eq!(cla::logical_channel(0x40), Some(4));
    assert_eq!(cla::logical_channel(0x4F), Some(19));
    assert_eq!(cla::logical_channel(0x6F), Some(19));
    assert!(cla::has_secure_messaging(0x60) && !cla::has_secure_messaging(0x4C));
    assert!(cla::is_command_chaining(0x50));
}

#[test]
fn rfu_and_invalid_classes_have_no_channel() {
    assert_eq!(cla::logical_channel(0x20), None);
    assert_eq!(cla::logical_channel(0x3F), None);
    assert_eq!(cla::logical_channel(0xFF), None);
    assert!(cla::is_invalid(0xFF));
    assert!(!cla::is_command_chaining(0x30));
}

#[test]
fn setting_the_channel_round_trips() {
    for base in [0x00u8, 0x80, 0x10, 0x90, 0x04] {
        for channel in 0..=19u8 {
            let with = cla::with_logical_channel(base, channel).unwrap();
            assert_eq!(
                cla::logical_channel(with),
                Some(channel),
                "{base:02X} {channel}"
            );
            assert_eq!(with & 0x80, base & 0x80);
            assert_eq!(
                cla::is_command_chaining(with),
                cla::is_command_chaining(base)
            );
        }
    }
    assert_eq!(cla::with_logical_channel(0x00, 20), None);
    assert_eq!(cla::with_logical_channel(0x80, 1), Some(0x81));
    assert_eq!(cla::with_logical_channel(0x00, 5), Some(0x41));
}

#[test]
fn applet_select_needs_plain_interindustry_class() {
    assert!(cla::is_applet_select(0x00, 0xA4, 0x04));
    assert!(cla::is_applet_select(0x03, 0xA4, 0x04));
    assert!(cla::is_applet_select(0x45, 0xA4, 0x04));
    assert!(!cla::is_applet_select(0x04, 0xA4, 0x04), "secure messaging");
    assert!(!cla::is_applet_select(0x10, 0xA4, 0x04), "chaining");
    assert!(!cla::is_applet_select(0x80, 0xA4, 0x04), "proprietary");
    assert!(!cla::is_applet_select(0x00, 0xA4, 0x00), "select by FID");
    assert!(!cla::is_applet_select(0x00, 0xB0, 0x04));
}
