//! Hostile and unlinkable input: packages the linker must refuse (leaving the card as it
//! was), and bytecode the interpreter must stop with an error, never a panic. The inputs are
//! the Oracle-made golden CAPs with single bytes changed at offsets checked against the
//! .jca listing (hello's first method is `<init>`: `aload_0; invokespecial 0; return`).
#![allow(clippy::unwrap_used)]

use oxicard_jcre::{Card, CardError};
use oxicard_store::RamNvm;
use oxicard_vm::LinkError;

mod common;
use common::in_thread;

const NVM: usize = 128 * 1024;
const HELLO_PKG: [u8; 6] = [0xF0, 0, 0, 1, 1, 0];
const HELLO_APPLET: [u8; 6] = [0xF0, 0, 0, 1, 1, 1];

fn golden(aid: &str) -> Vec<u8> {
    common::load_file(&format!("{}/{}", common::GOLDEN, common::cap_path(aid)))
}

/// Offset in the load file of the info of component `tag`.
fn component(lf: &[u8], tag: u8) -> usize {
    let mut p = 0;
    loop {
        let size = u16::from_be_bytes([lf[p + 1], lf[p + 2]]) as usize;
        if lf[p] == tag {
            return p + 3;
        }
        p += 3 + size;
    }
}

/// hello with the code of `<init>` (method component offset 3..8) replaced.
fn hello_with_init(code: [u8; 5]) -> Vec<u8> {
    let mut lf = golden("F00000010100");
    let m = component(&lf, 7);
    assert_eq!(lf[m], 0, "hello has no exception handlers");
    assert_eq!(
        &lf[m + 3..m + 8],
        &[0x18, 0x8C, 0x00, 0x00, 0x7A],
        "<init> per hello.jca"
    );
    lf[m + 3..m + 8].copy_from_slice(&code);
    lf
}

fn install_hello(card: &mut Card<RamNvm<NVM>>) -> Result<(), CardError> {
    card.install(&HELLO_PKG, &HELLO_APPLET, &HELLO_APPLET, &[])
}

#[test]
fn missing_import_is_refused_and_the_card_is_unchanged() {
    in_thread(|| {
        let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
        let bytecodes = golden("F00000010200");
        // bytecodes imports lib, which is not loaded
        assert!(matches!(
            card.load_cap(&bytecodes),
            Err(CardError::Link(LinkError::MissingImport(_)))
        ));
        card.load_cap(&golden("F00000010800")).unwrap();
        card.load_cap(&bytecodes).unwrap();
        assert_eq!(
            card.load_cap(&bytecodes),
            Err(CardError::Link(LinkError::AlreadyLoaded))
        );
    });
}

#[test]
fn version_mismatch_is_refused() {
    in_thread(|| {
        let mut lf = golden("F00000010100");
        let imp = component(&lf, 4);
        // Import: count, then {minor, major, len, AID}; framework 1.6 becomes 1.9
        assert_eq!(lf[imp], 2);
        assert_eq!(&lf[imp + 1..imp + 3], &[6, 1]);
        lf[imp + 1] = 9;
        let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
        assert_eq!(
            card.load_cap(&lf),
            Err(CardError::Link(LinkError::VersionMismatch(0)))
        );
        // the unmodified package still loads and works afterwards
        card.load_cap(&golden("F00000010100")).unwrap();
        install_hello(&mut card).unwrap();
    });
}

#[test]
fn bad_cp_index_is_refused_at_load() {
    in_thread(|| {
        let lf = hello_with_init([0x18, 0x8C, 0x00, 0xFF, 0x7A]); // invokespecial 255
        let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
        assert!(matches!(
            card.load_cap(&lf),
            Err(CardError::Link(LinkError::Malformed { component: 9, .. }))
        ));
    });
}

#[test]
fn stack_underflow_stops_the_method() {
    in_thread(|| {
        let lf = hello_with_init([0x3B, 0x8C, 0x00, 0x00, 0x7A]); // pop on an empty stack
        let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
        card.load_cap(&lf).unwrap();
        assert_eq!(
            install_hello(&mut card),
            Err(CardError::InstallFailed(0x6F00))
        );
        let mut resp = [0u8; 8];
        let n = card.transmit(&[0x80, 0x02, 0, 0, 0], &mut resp).unwrap();
        assert_eq!(
            &resp[..n],
            &[0x6A, 0x82],
            "card keeps working, nothing selected"
        );
    });
}

#[test]
fn branch_outside_the_code_stops_the_method() {
    in_thread(|| {
        let lf = hello_with_init([0x70, 0x80, 0x00, 0x00, 0x7A]); // goto -128
        let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
        card.load_cap(&lf).unwrap();
        assert_eq!(
            install_hello(&mut card),
            Err(CardError::InstallFailed(0x6F00))
        );
    });
}

#[test]
fn undefined_opcode_stops_the_method() {
    in_thread(|| {
        let lf = hello_with_init([0xFE, 0x00, 0x00, 0x00, 0x7A]); // impdep1
        let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
        card.load_cap(&lf).unwrap();
        assert_eq!(
            install_hello(&mut card),
            Err(CardError::InstallFailed(0x6F00))
        );
    });
}

#[test]
fn runaway_code_is_stopped_by_the_budget_and_the_card_keeps_working() {
    in_thread(|| {
        let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
        card.load_cap(&golden("F00000010800")).unwrap();
        card.load_cap(&golden("F00000010200")).unwrap();
        let pkg = [0xF0, 0, 0, 1, 2, 0];
        let applet = [0xF0, 0, 0, 1, 2, 1];
        card.install(&pkg, &applet, &applet, &[]).unwrap();
        let mut resp = [0u8; 300];
        let select = [0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0, 0, 1, 2, 1];
        let n = card.transmit(&select, &mut resp).unwrap();
        assert_eq!(&resp[..n], &[0x90, 0x00]);
        card.set_instruction_budget(10_000);
        // fib(24): 150,049 calls, far over the budget
        let n = card
            .transmit(&[0x80, 0x1C, 0x18, 0x00, 0x00], &mut resp)
            .unwrap();
        assert_eq!(&resp[..n], &[0x6F, 0x00]);
        card.set_instruction_budget(100_000_000);
        let n = card
            .transmit(&[0x80, 0x1C, 0x0A, 0x00, 0x00], &mut resp)
            .unwrap();
        assert_eq!(
            &resp[..n],
            &[0x00, 0x37, 0x00, 0xB1, 0x90, 0x00],
            "fib(10) = 55, 177 calls"
        );
    });
}

#[test]
fn running_off_the_end_of_the_method_component_stops_the_method() {
    in_thread(|| {
        // hello.jca: process() ends the Method component with the default case
        // `sspush 0x6D00; invokestatic 6 (ISOException.throwIt); return`; make the last
        // four bytes nops, so an unknown INS falls through past the end of the component
        let mut lf = golden("F00000010100");
        let m = component(&lf, 7);
        let len = u16::from_be_bytes([lf[m - 2], lf[m - 1]]) as usize;
        let end = m + len;
        assert_eq!(
            &lf[end - 7..end],
            &[0x11, 0x6D, 0x00, 0x8D, 0x00, 0x06, 0x7A],
            "the default case per hello.jca"
        );
        lf[end - 4..end].fill(0x00);
        let mut card = Card::new(RamNvm::<NVM>::new()).unwrap();
        card.load_cap(&lf).unwrap();
        install_hello(&mut card).unwrap();
        let mut resp = [0u8; 8];
        let select = [0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0, 0, 1, 1, 1];
        let n = card.transmit(&select, &mut resp).unwrap();
        assert_eq!(&resp[..n], &[0x90, 0x00]);
        let n = card.transmit(&[0x80, 0x7F, 0, 0], &mut resp).unwrap();
        assert_eq!(&resp[..n], &[0x6F, 0x00]);
        let n = card.transmit(&[0x80, 0x03, 0x63, 0xC1], &mut resp).unwrap();
        assert_eq!(&resp[..n], &[0x63, 0xC1], "the card keeps working");
    });
}
