//! The card manager: a GlobalPlatform-style issuer security domain (ISD, AID
//! [`ISD_AID`]) built into the runtime, selected by default after power-up and reset. It
//! is how packages get onto the card and applets get installed and removed with ordinary
//! GlobalPlatform APDUs, the same code in the simulator and in firmware.
//!
//! # Commands (CLA 80; GET DATA also CLA 00)
//!
//! | Command | APDU | Answer |
//! |---|---|---|
//! | SELECT the ISD | `00 A4 04 00 08 A000000151000000`, or an empty AID | FCI `6F 10 84 08 <ISD AID> A5 04 9F65 01 FF` |
//! | INSTALL [for load] | `80 E6 02 00` package AID, SD AID (empty or the ISD), hash, load parameters, token | `00` |
//! | LOAD | `80 E8 P1 P2`, P1 `80` on the last block, P2 the block number from 0 | `00` after the last block |
//! | INSTALL [for install (and make selectable)] | `80 E6 04/0C 00` package, applet, instance AID, privileges (1 or 3 bytes), install parameters (`C9` applet parameters required; BER length), token | `00` |
//! | INSTALL [for make selectable] | `80 E6 08 00`: every installed instance is selectable already | 9000 if the instance exists |
//! | DELETE | `80 E4 00 00/80 4F <AID>`: an applet instance, or a package (P2 `80`: with its instances) | `00` |
//! | GET STATUS | `80 F2 80/40/20/10 00/02 4F <AID prefix>`: ISD, applications, packages, packages with their applets; P2 `00` legacy, `02` TLV (`E3` entries), b1 = next occurrence after 6310 | entries |
//! | GET DATA | `80 CA 00 66`: card recognition data | `66 ...` |
//!
//! The LOAD data is the GlobalPlatform load file: optional `E2` DAP blocks (skipped, not
//! verified), then `C4 <BER length> <load file data block>`; the framing may be split
//! anywhere between blocks. The components are streamed into NVM (see
//! [`oxicard_vm::PackageLoader`]) and linked after the last block.
//!
//! # Status words
//!
//! - 6985: LOAD without INSTALL [for load]; INSTALL or INSTALL [for load] for an AID already
//!   on the card (an instance, a package, the ISD); DELETE of a package that an applet
//!   instance of it still uses (P2 00) or that another package imports; DELETE of the ISD.
//! - 6A86: LOAD out of sequence (block number other than the next one, P1 other than 00/80),
//!   wrong P1/P2 of other commands, GET STATUS "next" without a previous 6310.
//! - 6A80: malformed command data, a load file that is not `C4`-framed or whose length does
//!   not match, a package the loader finds malformed, a package AID other than the one
//!   INSTALL [for load] named, install parameters without `C9`.
//! - 6A88: a LOAD of a package whose imports are missing (or present with an incompatible
//!   version); INSTALL naming an unknown package or applet; DELETE of an unknown AID; GET
//!   STATUS with no matching entry; GET DATA of an unknown tag.
//! - 6A84: the card is full (NVM, package or class tables, applet registry).
//! - 6310: GET STATUS has more entries: repeat with P2 b1 set.
//! - 6882: CLA 84 (secure messaging). 6D00: an unknown INS once the ISD was selected by
//!   SELECT; before that (default selection after reset) an unknown command answers 6A82,
//!   as when no applet is selected. 6E00: another CLA.
//!
//! A refused command leaves the card as it was: an out-of-sequence or malformed LOAD ends
//! the whole load (start again with INSTALL [for load]); the staged components are free
//! space again, and a failed link is rolled back through the NVM journal. Any command
//! other than LOAD (or a SELECT, or a reset) also ends a load in progress.
//!
//! # What is accepted today
//!
//! There is no secure channel: INITIALIZE UPDATE and EXTERNAL AUTHENTICATE answer 6A82 or
//! 6D00, and every card-management command is accepted in the clear, from anyone. Load file
//! hashes, DAP blocks, load and install tokens, privileges and system parameters (`EF`) are
//! read and ignored.
//!
//! Deleting an applet instance removes it from the registry, then the objects nothing
//! reaches any more are collected ([`oxicard_vm::gc`]). Deleting a package marks its record
//! deleted (AID length 0): it can no longer be found, imported or listed; it is refused
//! (6985) while another package imports it or while another context still reaches one of
//! its objects. Its NVM space, its package slot and its class ids come back when it is the
//! last package loaded (space below a live package or object stays allocated).

use crate::{registry, Card, CardError, SW_FILE_NOT_FOUND, SW_OK};
use heapless::Vec;
use oxicard_apdu::tlv::{LvReader, TlvReader};
use oxicard_store::Nvm;
use oxicard_vm::layout::{self, MAX_PACKAGES};
use oxicard_vm::{LinkError, PackageLoader, Trap};

/// AID of the issuer security domain (the GlobalPlatform default).
pub const ISD_AID: [u8; 8] = [0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00];

const SW_MORE_DATA: u16 = 0x6310;
const SW_SM_NOT_SUPPORTED: u16 = 0x6882;
const SW_CONDITIONS_NOT_SATISFIED: u16 = 0x6985;
const SW_WRONG_DATA: u16 = 0x6A80;
const SW_NOT_ENOUGH_MEMORY: u16 = 0x6A84;
const SW_INCORRECT_P1P2: u16 = 0x6A86;
const SW_REFERENCED_DATA_NOT_FOUND: u16 = 0x6A88;
const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;
const SW_CLA_NOT_SUPPORTED: u16 = 0x6E00;

const INS_SELECT: u8 = 0xA4;
const INS_INSTALL: u8 = 0xE6;
const INS_LOAD: u8 = 0xE8;
const INS_DELETE: u8 = 0xE4;
const INS_GET_STATUS: u8 = 0xF2;
const INS_GET_DATA: u8 = 0xCA;

/// Life cycle states reported by GET STATUS (GP): the card, a load file, an application.
const LIFECYCLE_OP_READY: u8 = 0x01;
const LIFECYCLE_LOADED: u8 = 0x01;
const LIFECYCLE_SELECTABLE: u8 = 0x07;
/// ISD privileges: security domain, card lock, card terminate, default selected, CVM.
const ISD_PRIVILEGES: u8 = 0x9E;

/// Offsets of the package version in a package record (see `oxicard_vm::layout`).
const RECORD_MINOR: usize = 17;
const RECORD_MAJOR: usize = 18;

/// Card recognition data (GET DATA 0066): GlobalPlatform, card management GP 2.2.1, the
/// GP card identification scheme.
const CARD_DATA: [u8; 38] = [
    0x66, 0x24, 0x73, 0x22, // card data, card recognition data
    0x06, 0x07, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x01, // {globalPlatform 1}
    0x60, 0x0C, 0x06, 0x0A, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x02, 0x02, 0x02,
    0x01, // {globalPlatform 2 2.2.1}
    0x63, 0x09, 0x06, 0x07, 0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x03, // {globalPlatform 3}
];

/// The ISD's answer to SELECT: FCI with its AID and the maximum command data length.
const FCI: [u8; 18] = [
    0x6F, 0x10, 0x84, 0x08, 0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0xA5, 0x04, 0x9F, 0x65,
    0x01, 0xFF,
];

/// True when a SELECT by AID with this data names the ISD: an empty AID (the default
/// application) or a prefix of at least 5 bytes of [`ISD_AID`].
pub(crate) fn names_isd(aid: &[u8]) -> bool {
    aid.is_empty() || (aid.len() >= 5 && ISD_AID.starts_with(aid))
}

/// The card manager's RAM state: a load in progress and GET STATUS paging.
#[derive(Debug, Default)]
pub(crate) struct CardManager {
    load: Option<PendingLoad>,
    /// The ISD was selected by a SELECT command (not only by default after reset).
    explicitly_selected: bool,
    /// Where a GET STATUS answered 6310 stopped: (P1, P2 format, next entry).
    status_next: Option<(u8, u8, usize)>,
}

impl Clone for CardManager {
    /// A copy of a card does not continue a load in progress (its loader state is not
    /// copyable); the copy starts again with INSTALL [for load].
    fn clone(&self) -> Self {
        CardManager {
            load: None,
            explicitly_selected: self.explicitly_selected,
            status_next: self.status_next,
        }
    }
}

/// A package load between INSTALL [for load] and the last LOAD.
#[derive(Debug)]
struct PendingLoad {
    /// The package AID INSTALL [for load] named.
    package: Vec<u8, 16>,
    loader: PackageLoader,
    /// The block number the next LOAD must carry.
    next_block: u8,
    framing: Framing,
}

/// Where the LOAD data stream is in its TLV framing (`E2` DAP blocks, then `C4`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// Expecting a tag.
    Tag,
    /// Reading a BER length: the tag, the value so far, length bytes still to read
    /// (`None`: the first length byte is next).
    Length {
        tag: u8,
        value: u32,
        left: Option<u8>,
    },
    /// Skipping the rest of a DAP block.
    Skip(u32),
    /// Bytes of the load file data block still to come.
    Data(u32),
    /// The load file data block is complete.
    Done,
}

/// The next field with a one-byte length of card-management command data.
fn lv<'a>(r: &mut LvReader<'a>) -> Result<&'a [u8], u16> {
    r.read().map_err(|_| SW_WRONG_DATA)
}

/// The first BER-TLV of `data`: (tag, value).
fn first_tlv(data: &[u8]) -> Result<(u32, &[u8]), u16> {
    match TlvReader::new(data).next() {
        Some(Ok(tlv)) => Ok((tlv.tag.0, tlv.value)),
        _ => Err(SW_WRONG_DATA),
    }
}

/// The status word for a package the loader or linker refused.
fn link_status(e: LinkError) -> Result<u16, CardError> {
    Ok(match e {
        LinkError::MissingImport(_) | LinkError::VersionMismatch(_) => SW_REFERENCED_DATA_NOT_FOUND,
        LinkError::AlreadyLoaded => SW_CONDITIONS_NOT_SATISFIED,
        LinkError::CapacityExceeded(_) => SW_NOT_ENOUGH_MEMORY,
        LinkError::Nvm(kind) => return Err(CardError::Trap(Trap::Nvm(kind))),
        LinkError::Malformed { .. }
        | LinkError::MissingComponent(_)
        | LinkError::BadToken { .. }
        | LinkError::IntNotSupported => SW_WRONG_DATA,
    })
}

/// Appends `bytes` to a response; false when it does not fit.
fn put(out: &mut Vec<u8, 256>, bytes: &[u8]) -> bool {
    out.extend_from_slice(bytes).is_ok()
}

/// Appends a TLV with a one- or two-byte tag and a short value.
fn put_tlv(out: &mut Vec<u8, 256>, tag: u16, value: &[u8]) -> bool {
    let tag_ok = if tag > 0xFF {
        put(out, &tag.to_be_bytes())
    } else {
        put(out, &[tag as u8])
    };
    tag_ok && value.len() < 0x80 && put(out, &[value.len() as u8]) && put(out, value)
}

impl<N: Nvm> Card<N> {
    /// Ends a load in progress (its staged components become free space again).
    fn abandon_load(&mut self) {
        if let Some(pending) = self.cm.load.take() {
            pending.loader.abort(&mut self.vm);
        }
    }

    /// The card manager stops being the selected application (an applet is selected, or
    /// the card is reset): a load in progress ends.
    pub(crate) fn leave_card_manager(&mut self) {
        self.abandon_load();
        self.cm.explicitly_selected = false;
        self.cm.status_next = None;
    }

    /// SELECT of the ISD: the selected applet is deselected, the ISD answers its FCI.
    pub(crate) fn select_card_manager(&mut self) -> Result<(usize, u16), CardError> {
        self.leave_card_manager();
        self.deselect_current()?;
        self.cm.explicitly_selected = true;
        self.rt.apdu.response.clear();
        let _ = self.rt.apdu.response.extend_from_slice(&FCI);
        Ok((FCI.len(), SW_OK))
    }

    /// Runs a command addressed to the card manager (no applet is selected); returns
    /// (response data length, status word) with the response data in the APDU state.
    pub(crate) fn card_manager_command(
        &mut self,
        command: &[u8],
        lc: u16,
    ) -> Result<(usize, u16), CardError> {
        let &[cla, ins, p1, p2, ..] = command else {
            return Err(CardError::BadCommand);
        };
        let data = command.get(5..5 + lc as usize).unwrap_or(&[]);
        let status_next = self.cm.status_next.take();
        if ins != INS_LOAD {
            self.abandon_load();
        }
        let mut out: Vec<u8, 256> = Vec::new();
        let sw = match (cla, ins) {
            (0x84, _) => SW_SM_NOT_SUPPORTED,
            (0x00, INS_SELECT) => SW_FILE_NOT_FOUND,
            (0x80, INS_INSTALL) => self.cm_install(p1, p2, data, &mut out)?,
            (0x80, INS_LOAD) => self.cm_load(p1, p2, data, &mut out)?,
            (0x80, INS_DELETE) => self.cm_delete(p1, p2, data, &mut out)?,
            (0x80, INS_GET_STATUS) => self.cm_get_status(p1, p2, data, status_next, &mut out),
            (0x80 | 0x00, INS_GET_DATA) => cm_get_data(p1, p2, &mut out),
            _ if !self.cm.explicitly_selected => SW_FILE_NOT_FOUND,
            (0x80 | 0x00, _) => SW_INS_NOT_SUPPORTED,
            _ => SW_CLA_NOT_SUPPORTED,
        };
        self.rt.apdu.response.clear();
        if sw == SW_OK || sw == SW_MORE_DATA {
            let _ = self.rt.apdu.response.extend_from_slice(&out);
        }
        Ok((self.rt.apdu.response.len(), sw))
    }

    /// INSTALL: [for load], [for install (and make selectable)], [for make selectable].
    fn cm_install(
        &mut self,
        p1: u8,
        p2: u8,
        data: &[u8],
        out: &mut Vec<u8, 256>,
    ) -> Result<u16, CardError> {
        if p2 != 0 {
            return Ok(SW_INCORRECT_P1P2);
        }
        let r = match p1 {
            0x02 => self.install_for_load(data),
            0x04 | 0x0C => self.install_for_install(data)?,
            0x08 => {
                // empty load file and module AIDs, then the instance AID
                let mut f = LvReader::new(data);
                match (lv(&mut f), lv(&mut f), lv(&mut f)) {
                    (Ok(_), Ok(_), Ok(aid)) if self.find_applet(aid).is_some() => Ok(()),
                    (Ok(_), Ok(_), Ok(_)) => Err(SW_REFERENCED_DATA_NOT_FOUND),
                    _ => Err(SW_WRONG_DATA),
                }
            }
            _ => Err(SW_INCORRECT_P1P2),
        };
        Ok(match r {
            Ok(()) => {
                put(out, &[0x00]);
                SW_OK
            }
            Err(sw) => sw,
        })
    }

    /// INSTALL [for load]: checks the package AID and opens a load.
    fn install_for_load(&mut self, data: &[u8]) -> Result<(), u16> {
        let mut f = LvReader::new(data);
        let package = lv(&mut f)?;
        let security_domain = lv(&mut f)?;
        let _hash = lv(&mut f)?;
        let _load_parameters = lv(&mut f)?;
        let _token = lv(&mut f)?;
        if !(5..=16).contains(&package.len()) {
            return Err(SW_WRONG_DATA);
        }
        if !security_domain.is_empty() && security_domain != ISD_AID {
            return Err(SW_REFERENCED_DATA_NOT_FOUND);
        }
        if self.aid_taken(package) {
            return Err(SW_CONDITIONS_NOT_SATISFIED);
        }
        if self.vm.package_count() as usize >= MAX_PACKAGES {
            return Err(SW_NOT_ENOUGH_MEMORY);
        }
        let loader = PackageLoader::begin(&mut self.vm);
        self.cm.load = Some(PendingLoad {
            package: Vec::from_slice(package).map_err(|_| SW_WRONG_DATA)?,
            loader,
            next_block: 0,
            framing: Framing::Tag,
        });
        Ok(())
    }

    /// True when `aid` names something on the card: the ISD, a package, an instance.
    fn aid_taken(&self, aid: &[u8]) -> bool {
        aid == ISD_AID || self.has_package(aid) || self.find_applet(aid).is_some()
    }

    /// LOAD: the next block of the load file; the last one links the package.
    fn cm_load(
        &mut self,
        p1: u8,
        p2: u8,
        data: &[u8],
        out: &mut Vec<u8, 256>,
    ) -> Result<u16, CardError> {
        let Some(mut pending) = self.cm.load.take() else {
            return Ok(SW_CONDITIONS_NOT_SATISFIED);
        };
        if p1 & 0x7F != 0 || p2 != pending.next_block {
            pending.loader.abort(&mut self.vm);
            return Ok(SW_INCORRECT_P1P2);
        }
        let last = p1 & 0x80 != 0;
        match self.feed_framed(&mut pending, data) {
            Ok(()) => {}
            Err(e) => {
                pending.loader.abort(&mut self.vm);
                return e;
            }
        }
        pending.next_block = pending.next_block.wrapping_add(1);
        if !last {
            self.cm.load = Some(pending);
            return Ok(SW_OK);
        }
        if pending.framing != Framing::Done {
            pending.loader.abort(&mut self.vm);
            return Ok(SW_WRONG_DATA);
        }
        match pending.loader.finish(&mut self.vm) {
            Ok(pkg) if self.vm.package_aid(pkg).as_deref() == Some(&pending.package[..]) => {
                put(out, &[0x00]);
                Ok(SW_OK)
            }
            Ok(_) => {
                // not the package INSTALL [for load] announced
                self.vm.rollback()?;
                Ok(SW_WRONG_DATA)
            }
            Err(e) => {
                self.vm.rollback()?;
                link_status(e)
            }
        }
    }

    /// Feeds one LOAD block through the `E2`/`C4` framing into the loader. `Err` holds the
    /// outcome of the command (a status word, or an NVM failure).
    fn feed_framed(
        &mut self,
        pending: &mut PendingLoad,
        mut data: &[u8],
    ) -> Result<(), Result<u16, CardError>> {
        let refuse = Err(Ok(SW_WRONG_DATA));
        while let Some((&byte, rest)) = data.split_first() {
            match pending.framing {
                Framing::Tag => {
                    if byte != 0xC4 && byte != 0xE2 {
                        return refuse;
                    }
                    pending.framing = Framing::Length {
                        tag: byte,
                        value: 0,
                        left: None,
                    };
                    data = rest;
                }
                Framing::Length { tag, value, left } => {
                    let (value, left) = match left {
                        None if byte < 0x80 => (byte as u32, 0),
                        None if (0x81..=0x83).contains(&byte) => (0, byte - 0x80),
                        None => return refuse,
                        Some(n) => (value << 8 | byte as u32, n - 1),
                    };
                    pending.framing = match (left, tag) {
                        (0, 0xC4) if value == 0 => Framing::Done,
                        (0, 0xC4) => Framing::Data(value),
                        (0, _) if value == 0 => Framing::Tag,
                        (0, _) => Framing::Skip(value),
                        _ => Framing::Length {
                            tag,
                            value,
                            left: Some(left),
                        },
                    };
                    data = rest;
                }
                Framing::Skip(n) | Framing::Data(n) => {
                    let take = data.len().min(n as usize);
                    let (chunk, rest) = data.split_at(take);
                    if let Framing::Data(_) = pending.framing {
                        if let Err(e) = pending.loader.feed(&mut self.vm, chunk) {
                            return Err(link_status(e));
                        }
                    }
                    let left = n - take as u32;
                    pending.framing = match pending.framing {
                        Framing::Data(_) if left == 0 => Framing::Done,
                        Framing::Data(_) => Framing::Data(left),
                        _ if left == 0 => Framing::Tag,
                        _ => Framing::Skip(left),
                    };
                    data = rest;
                }
                Framing::Done => return refuse,
            }
        }
        Ok(())
    }

    /// INSTALL [for install (and make selectable)]: creates an applet instance.
    fn install_for_install(&mut self, data: &[u8]) -> Result<Result<(), u16>, CardError> {
        let parsed = (|| {
            let mut f = LvReader::new(data);
            let package = lv(&mut f)?;
            let applet = lv(&mut f)?;
            let mut instance = lv(&mut f)?;
            let privileges = lv(&mut f)?;
            let parameters = f.read_ber().map_err(|_| SW_WRONG_DATA)?;
            let _token = lv(&mut f)?;
            if instance.is_empty() {
                instance = applet;
            }
            if !matches!(privileges.len(), 1 | 3) || !(5..=16).contains(&instance.len()) {
                return Err(SW_WRONG_DATA);
            }
            let mut applet_params = None;
            for tlv in TlvReader::new(parameters) {
                let tlv = tlv.map_err(|_| SW_WRONG_DATA)?;
                if tlv.tag.0 == 0xC9 {
                    applet_params = Some(tlv.value);
                }
            }
            let applet_params = applet_params.ok_or(SW_WRONG_DATA)?;
            if applet_params.len() > 128 {
                return Err(SW_WRONG_DATA);
            }
            Ok((package, applet, instance, applet_params))
        })();
        let (package, applet, instance, params) = match parsed {
            Ok(p) => p,
            Err(sw) => return Ok(Err(sw)),
        };
        let Some(pkg) = self.vm.find_package(package) else {
            return Ok(Err(SW_REFERENCED_DATA_NOT_FOUND));
        };
        if self.vm.find_applet_install(pkg, applet)?.is_none() {
            return Ok(Err(SW_REFERENCED_DATA_NOT_FOUND));
        }
        if self.aid_taken(instance) {
            return Ok(Err(SW_CONDITIONS_NOT_SATISFIED));
        }
        if self.rt.applets.is_full() {
            return Ok(Err(SW_NOT_ENOUGH_MEMORY));
        }
        Ok(match self.install(package, applet, instance, params) {
            Ok(()) => Ok(()),
            Err(CardError::InstallFailed(sw)) if sw != SW_OK => Err(sw),
            Err(CardError::Trap(Trap::OutOfMemory)) => Err(SW_NOT_ENOUGH_MEMORY),
            Err(CardError::Trap(Trap::Nvm(kind))) => return Err(CardError::Trap(Trap::Nvm(kind))),
            Err(_) => Err(SW_WRONG_DATA),
        })
    }

    /// DELETE: an applet instance, or a package (with its instances when P2 is 80).
    fn cm_delete(
        &mut self,
        p1: u8,
        p2: u8,
        data: &[u8],
        out: &mut Vec<u8, 256>,
    ) -> Result<u16, CardError> {
        if p1 != 0 || (p2 != 0x00 && p2 != 0x80) {
            return Ok(SW_INCORRECT_P1P2);
        }
        let aid = match first_tlv(data) {
            Ok((0x4F, aid)) if (5..=16).contains(&aid.len()) => aid,
            _ => return Ok(SW_WRONG_DATA),
        };
        if aid == ISD_AID {
            return Ok(SW_CONDITIONS_NOT_SATISFIED);
        }
        if let Some(index) = self.find_applet(aid) {
            let pkg = self.rt.applets.get(index).map_or(0, |a| a.package);
            registry::remove_applet(&mut self.vm, &mut self.rt.applets, index)?;
            // the last instance of its package: refused while another context still
            // reaches an object of its context (e.g. an SIO it handed out, kept in a field)
            let last = !self.rt.applets.iter().any(|a| a.package == pkg);
            if last && self.objects_referenced_from_outside(pkg)? {
                self.vm.rollback()?;
                self.rt.applets = registry::load_applets(&self.vm)?;
                return Ok(SW_CONDITIONS_NOT_SATISFIED);
            }
            self.collect_garbage()?;
            put(out, &[0x00]);
            return Ok(SW_OK);
        }
        let Some(pkg) = self.vm.find_package(aid) else {
            return Ok(SW_REFERENCED_DATA_NOT_FOUND);
        };
        let has_instances = self.rt.applets.iter().any(|a| a.package == pkg);
        if (has_instances && p2 != 0x80) || self.package_is_imported(pkg) {
            return Ok(SW_CONDITIONS_NOT_SATISFIED);
        }
        while let Some(index) = self.rt.applets.iter().position(|a| a.package == pkg) {
            registry::remove_applet(&mut self.vm, &mut self.rt.applets, index)?;
        }
        // the record's AID length 0 marks it deleted: find_package no longer matches it
        self.vm
            .write_persistent(layout::package_record(pkg), &[0], false)?;
        // refused while another context still reaches an object of the package (an
        // instance of one of its classes, or an object its applets created)
        if self.objects_referenced_from_outside(pkg)? {
            self.vm.rollback()?;
            self.rt.applets = registry::load_applets(&self.vm)?;
            return Ok(SW_CONDITIONS_NOT_SATISFIED);
        }
        self.collect_garbage()?;
        put(out, &[0x00]);
        Ok(SW_OK)
    }

    /// Whether the runtime's roots or another package's static fields still reach an
    /// object of package `pkg` or of its context (checked after its registry entries
    /// went).
    fn objects_referenced_from_outside(&self, pkg: u8) -> Result<bool, CardError> {
        let context = oxicard_vm::Vm::<N>::package_context(pkg);
        let roots = registry::roots(&self.rt);
        Ok(self.vm.objects_still_referenced(&roots, pkg, context)?)
    }

    /// Deletes every object the runtime and the live packages no longer reach and gives
    /// the space back (see [`oxicard_vm::gc`]); part of the current command's epoch.
    pub fn collect_garbage(&mut self) -> Result<oxicard_vm::gc::Collection, CardError> {
        let roots = registry::roots(&self.rt);
        Ok(self.vm.collect_garbage(&roots)?)
    }

    /// True when another live package imports package `pkg` (a package whose record does
    /// not list its imports counts as importing every package).
    fn package_is_imported(&self, pkg: u8) -> bool {
        (0..self.vm.package_count()).any(|q| {
            q != pkg
                && self.package_is_live(q)
                && self
                    .vm
                    .package_imports(q)
                    .is_none_or(|mask| mask & 1u16.checked_shl(pkg as u32).unwrap_or(0) != 0)
        })
    }

    /// True when package slot `pkg` holds a package (not deleted).
    fn package_is_live(&self, pkg: u8) -> bool {
        self.vm.package_aid(pkg).is_some_and(|aid| !aid.is_empty())
    }

    /// GET STATUS: the ISD, applications, load files (with their modules), legacy or TLV.
    fn cm_get_status(
        &mut self,
        p1: u8,
        p2: u8,
        data: &[u8],
        previous: Option<(u8, u8, usize)>,
        out: &mut Vec<u8, 256>,
    ) -> u16 {
        if !matches!(p1, 0x80 | 0x40 | 0x20 | 0x10) || p2 & !0x03 != 0 {
            return SW_INCORRECT_P1P2;
        }
        let tlv = p2 & 0x02 != 0;
        let start = if p2 & 0x01 != 0 {
            match previous {
                Some((q1, q2, next)) if q1 == p1 && q2 == p2 & 0x02 => next,
                _ => return SW_INCORRECT_P1P2,
            }
        } else {
            0
        };
        let prefix = match first_tlv(data) {
            Ok((0x4F, prefix)) => prefix,
            _ => return SW_WRONG_DATA,
        };
        let count = match p1 {
            0x80 => 1,
            0x40 => self.rt.applets.len(),
            _ => self.vm.package_count() as usize,
        };
        let mut found = start > 0;
        for index in start..count {
            let mut entry: Vec<u8, 256> = Vec::new();
            if !self.status_entry(p1, index, prefix, tlv, &mut entry) {
                continue;
            }
            found = true;
            if !put(out, &entry) {
                self.cm.status_next = Some((p1, p2 & 0x02, index));
                return SW_MORE_DATA;
            }
        }
        if found {
            SW_OK
        } else {
            SW_REFERENCED_DATA_NOT_FOUND
        }
    }

    /// Encodes entry `index` of GET STATUS kind `p1` into `entry`; false when it does not
    /// exist or does not match `prefix`.
    fn status_entry(
        &self,
        p1: u8,
        index: usize,
        prefix: &[u8],
        tlv: bool,
        entry: &mut Vec<u8, 256>,
    ) -> bool {
        let mut body: Vec<u8, 256> = Vec::new();
        let ok = match p1 {
            0x80 => {
                if !ISD_AID.starts_with(prefix) {
                    return false;
                }
                if tlv {
                    put_tlv(&mut body, 0x4F, &ISD_AID)
                        && put_tlv(&mut body, 0x9F70, &[LIFECYCLE_OP_READY])
                        && put_tlv(&mut body, 0xC5, &[ISD_PRIVILEGES, 0, 0])
                } else {
                    put_lv(&mut body, &ISD_AID)
                        && put(&mut body, &[LIFECYCLE_OP_READY, ISD_PRIVILEGES])
                }
            }
            0x40 => {
                let Some(applet) = self.rt.applets.get(index) else {
                    return false;
                };
                if !applet.aid.starts_with(prefix) {
                    return false;
                }
                let package = self.vm.package_aid(applet.package).unwrap_or_default();
                if tlv {
                    put_tlv(&mut body, 0x4F, &applet.aid)
                        && put_tlv(&mut body, 0x9F70, &[LIFECYCLE_SELECTABLE])
                        && put_tlv(&mut body, 0xC5, &[0, 0, 0])
                        && put_tlv(&mut body, 0xC4, &package)
                        && put_tlv(&mut body, 0xCC, &ISD_AID)
                } else {
                    put_lv(&mut body, &applet.aid) && put(&mut body, &[LIFECYCLE_SELECTABLE, 0])
                }
            }
            _ => {
                let pkg = index as u8;
                let Some(aid) = self.vm.package_aid(pkg).filter(|a| !a.is_empty()) else {
                    return false;
                };
                if !aid.starts_with(prefix) {
                    return false;
                }
                self.package_entry(p1 == 0x10, pkg, &aid, tlv, &mut body)
            }
        };
        if !ok {
            return false;
        }
        if tlv {
            put_tlv(entry, 0xE3, &body)
        } else {
            put(entry, &body)
        }
    }

    /// A load file entry: AID, life cycle, privileges, version, and with `modules` the
    /// applets (executable modules) of the package.
    fn package_entry(
        &self,
        modules: bool,
        pkg: u8,
        aid: &[u8],
        tlv: bool,
        body: &mut Vec<u8, 256>,
    ) -> bool {
        let rec = layout::package_record(pkg) as usize;
        let mut version = [0u8; 2];
        let major = self.vm.nvm().read_u8(rec + RECORD_MAJOR).unwrap_or(0);
        let minor = self.vm.nvm().read_u8(rec + RECORD_MINOR).unwrap_or(0);
        version[0] = major;
        version[1] = minor;
        let mut applets: Vec<Vec<u8, 16>, 16> = Vec::new();
        if modules {
            for i in 0..16 {
                match self.vm.package_applet(pkg, i) {
                    Ok(Some((applet, _))) => {
                        let _ = applets.push(applet);
                    }
                    _ => break,
                }
            }
        }
        if tlv {
            let mut ok = put_tlv(body, 0x4F, aid)
                && put_tlv(body, 0x9F70, &[LIFECYCLE_LOADED])
                && put_tlv(body, 0xC5, &[0])
                && put_tlv(body, 0xCE, &version);
            for applet in &applets {
                ok = ok && put_tlv(body, 0x84, applet);
            }
            ok && put_tlv(body, 0xCC, &ISD_AID)
        } else {
            let mut ok = put_lv(body, aid) && put(body, &[LIFECYCLE_LOADED, 0]);
            if modules {
                ok = ok && put(body, &[applets.len() as u8]);
                for applet in &applets {
                    ok = ok && put_lv(body, applet);
                }
            }
            ok
        }
    }
}

/// Appends a length-prefixed value.
fn put_lv(out: &mut Vec<u8, 256>, value: &[u8]) -> bool {
    put(out, &[value.len() as u8]) && put(out, value)
}

/// GET DATA: the card recognition data (tag 0066); other tags are not there.
fn cm_get_data(p1: u8, p2: u8, out: &mut Vec<u8, 256>) -> u16 {
    match u16::from_be_bytes([p1, p2]) {
        0x0066 => {
            put(out, &CARD_DATA);
            SW_OK
        }
        _ => SW_REFERENCED_DATA_NOT_FOUND,
    }
}
