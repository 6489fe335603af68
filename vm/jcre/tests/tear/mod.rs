//! Helpers for the power-loss tests: a heap-backed test NVM that can be cloned (a card and
//! its NVM are snapshotted before every step), transcript parsing, and the digest of the
//! persistent state that "before or after" is judged on.
#![allow(dead_code, clippy::unwrap_used)]

use oxicard_jcre::Card;
use oxicard_store::{FaultyNvm, Nvm, NvmErrorKind};
use oxicard_vm::layout;

use crate::common::{cap_path, load_file, GOLDEN};

/// A RAM NVM on the heap (cheap to clone, no big stack frames).
#[derive(Clone)]
pub struct VecNvm(pub Vec<u8>);

impl Nvm for VecNvm {
    type Error = NvmErrorKind;

    fn size(&self) -> usize {
        self.0.len()
    }

    fn read(&self, addr: usize, buf: &mut [u8]) -> Result<(), NvmErrorKind> {
        let src = self
            .0
            .get(
                addr..addr
                    .checked_add(buf.len())
                    .ok_or(NvmErrorKind::OutOfBounds)?,
            )
            .ok_or(NvmErrorKind::OutOfBounds)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn write(&mut self, addr: usize, data: &[u8]) -> Result<(), NvmErrorKind> {
        let end = addr
            .checked_add(data.len())
            .ok_or(NvmErrorKind::OutOfBounds)?;
        self.0
            .get_mut(addr..end)
            .ok_or(NvmErrorKind::OutOfBounds)?
            .copy_from_slice(data);
        Ok(())
    }

    fn as_slice(&self) -> Option<&[u8]> {
        Some(&self.0)
    }
}

/// The device the tearing tests use: 4-byte units.
pub type TestNvm = FaultyNvm<VecNvm>;
/// Unit size of [`TestNvm`].
pub const UNIT: usize = 4;
/// NVM size of the test cards.
pub const SIZE: usize = 160 * 1024;

/// A new, empty test device.
pub fn new_nvm() -> TestNvm {
    FaultyNvm::new(VecNvm(vec![0; SIZE]), None).with_unit(UNIT)
}

/// Powers a card up on the image of `nvm` (power restored, counting restarted).
pub fn power_up(nvm: TestNvm) -> Card<TestNvm> {
    let image = nvm.into_inner();
    Card::new(FaultyNvm::new(image, None).with_unit(UNIT)).expect("power-up")
}

/// One item of a transcript.
#[derive(Clone, Debug)]
pub enum Step {
    /// Load the package (its load file).
    Load(String, Vec<u8>),
    /// Install (package, applet, instance, parameters).
    Install(Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>),
    /// Card reset.
    Reset,
    /// A command APDU: line number, command, expected response.
    Command(usize, Vec<u8>, Vec<u8>),
}

/// Hex string to bytes (whitespace ignored).
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The steps of golden transcript `name`.
pub fn transcript(name: &str) -> Vec<Step> {
    let text = std::fs::read_to_string(format!("{GOLDEN}/{name}/transcript.apdu")).unwrap();
    let mut steps = Vec::new();
    let mut pending: Option<(usize, Vec<u8>)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next().unwrap() {
            "load" => {
                let aid = words.next().unwrap();
                let lf = load_file(&format!("{GOLDEN}/{}", cap_path(aid)));
                steps.push(Step::Load(aid.to_string(), lf));
            }
            "install" => {
                let a: Vec<&str> = words.collect();
                let applet = hex(a[1]);
                steps.push(Step::Install(
                    hex(a[0]),
                    applet.clone(),
                    a.get(2).map(|s| hex(s)).unwrap_or(applet),
                    a.get(3).map(|s| hex(s)).unwrap_or_default(),
                ));
            }
            "reset" => steps.push(Step::Reset),
            ">" => pending = Some((n + 1, hex(&line[1..]))),
            "<" => {
                let (l, c) = pending.take().unwrap();
                steps.push(Step::Command(l, c, hex(&line[1..])));
            }
            other => panic!("unknown transcript item {other}"),
        }
    }
    steps
}

/// Runs one step; returns the response of a command (empty otherwise), `None` on error.
pub fn run_step<N: Nvm>(card: &mut Card<N>, step: &Step) -> Option<Vec<u8>> {
    match step {
        Step::Load(_, lf) => card.load_cap(lf).ok().map(|_| Vec::new()),
        Step::Install(p, a, i, params) => card.install(p, a, i, params).ok().map(|_| Vec::new()),
        Step::Reset => card.reset().ok().map(|_| Vec::new()),
        Step::Command(_, c, _) => {
            let mut resp = [0u8; 300];
            card.transmit(c, &mut resp).ok().map(|n| resp[..n].to_vec())
        }
    }
}

/// The persistent state of a card's image: superblock counts, the used part of every
/// directory, the runtime area and the heap. Free space, stale directory entries and the
/// journal are not state.
pub fn digest(nvm: &[u8]) -> Vec<u8> {
    let be16 = |a: usize| u16::from_be_bytes([nvm[a], nvm[a + 1]]) as usize;
    let be32 = |a: usize| u32::from_be_bytes([nvm[a], nvm[a + 1], nvm[a + 2], nvm[a + 3]]) as usize;
    let top = be32(4);
    let classes = be16(8);
    let objects = be16(10);
    let packages = nvm[12] as usize;
    let mut d = Vec::new();
    d.extend_from_slice(&nvm[..16]);
    let pkg = layout::PKG_DIR as usize;
    d.extend_from_slice(&nvm[pkg..pkg + packages * layout::PKG_REC]);
    let cls = layout::CLASS_DIR as usize;
    d.extend_from_slice(&nvm[cls..cls + classes * 4]);
    let obj = layout::OBJ_TABLE as usize;
    d.extend_from_slice(&nvm[obj..obj + objects * 4]);
    let rt = layout::RUNTIME_AREA as usize;
    d.extend_from_slice(&nvm[rt..rt + layout::RUNTIME_AREA_LEN as usize]);
    d.extend_from_slice(&nvm[layout::IMAGE_START as usize..top]);
    d
}

/// The digest of a card's NVM.
pub fn card_digest(card: &Card<TestNvm>) -> Vec<u8> {
    digest(card.vm().nvm().inner().as_slice().unwrap())
}
