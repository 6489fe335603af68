//! The flash NVM adapter against a model NOR flash that can lose power at any operation:
//! the operation in progress is torn (an erase leaves its sector half erased or full of
//! garbage, a program leaves the words before a random one programmed, that one partly
//! programmed and the rest untouched, as embedded-storage's `NorFlash` and
//! `MultiwriteNorFlash` docs allow), every later operation fails until the model is powered
//! up again. After a cut a new `FlashNvm` is built over the same bytes (power-up recovery)
//! and checked against oxicard-store's unit contract: bytes outside the interrupted write
//! intact, the sectors it touched new up to the interrupted one and old after it, the
//! interrupted one old or new, or (in-place programming only) torn in one write word.
//! On top, a card runtime running the golden wallet on such a flash is cut at every flash
//! operation of a DEBIT and a CREDIT and must come back with the old or the new balance, and
//! of a wrong PIN VERIFY, which must never give the try back.
#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::rc::Rc;

use embedded_storage::nor_flash::{
    ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use oxicard_firmware::nvm::flash::{FlashNvm, FlashNvmError};
use oxicard_jcre::Card;
use oxicard_store::{Nvm, NvmError, NvmErrorKind};
use proptest::prelude::*;

/// Write size of the model unless told otherwise.
const WORD: usize = 4;

/// A NOR flash model with erase size `ERASE`: programming only clears bits (AND), erases
/// set a sector to FF, and the power can be cut at operation number `cut` (0-based,
/// counted from power-up).
#[derive(Clone)]
struct Nor<const ERASE: usize, const W: usize = WORD> {
    bytes: Vec<u8>,
    /// Operations since power-up (shared, so a test can watch it while a card owns the
    /// flash).
    ops: Rc<Cell<u64>>,
    /// The operation that loses the power.
    cut: Option<u64>,
    /// The power is off: every operation fails.
    off: bool,
    /// Torn operations leave random bits (otherwise half done, deterministic).
    garbage: bool,
    /// Fail the test when a word is programmed twice between erases (the plain `NorFlash`
    /// rule); off for the multiwrite mode.
    strict: bool,
    /// Words programmed since their sector's erase.
    programmed: Vec<bool>,
    rng: u64,
    /// Erases (shared with the model's clones, never reset).
    erases: Rc<Cell<u64>>,
    writes: u64,
}

#[derive(Debug, PartialEq)]
struct PowerLost;

impl NorFlashError for PowerLost {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

impl<const ERASE: usize, const W: usize> ErrorType for Nor<ERASE, W> {
    type Error = PowerLost;
}

impl<const ERASE: usize, const W: usize> Nor<ERASE, W> {
    fn new(len: usize, seed: u64) -> Self {
        Nor {
            bytes: vec![0xFF; len],
            ops: Rc::new(Cell::new(0)),
            cut: None,
            off: false,
            garbage: true,
            strict: true,
            programmed: vec![false; len / W],
            rng: seed | 1,
            erases: Rc::new(Cell::new(0)),
            writes: 0,
        }
    }

    fn random(&mut self) -> u8 {
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 24) as u8
    }

    /// Counts an operation: `Ok(true)` when it is the one that loses the power.
    fn operation(&mut self) -> Result<bool, PowerLost> {
        if self.off {
            return Err(PowerLost);
        }
        let this = self.ops.get();
        self.ops.set(this + 1);
        Ok(self.cut == Some(this))
    }

    /// Powers the model up again, with the next cut at operation `cut`.
    fn power_up(mut self, cut: Option<u64>) -> Self {
        self.ops = Rc::new(Cell::new(0));
        self.off = false;
        self.cut = cut;
        self
    }
}

impl<const ERASE: usize, const W: usize> ReadNorFlash for Nor<ERASE, W> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), PowerLost> {
        if self.off {
            return Err(PowerLost);
        }
        let o = offset as usize;
        bytes.copy_from_slice(&self.bytes[o..o + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

impl<const ERASE: usize, const W: usize> NorFlash for Nor<ERASE, W> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), PowerLost> {
        let (from, to) = (from as usize, to as usize);
        assert!(
            from % ERASE == 0 && to % ERASE == 0 && from <= to,
            "erase {from}..{to}"
        );
        let torn = self.operation()?;
        self.erases.set(self.erases.get() + 1);
        if !torn {
            self.bytes[from..to].fill(0xFF);
            self.programmed[from / W..to / W].fill(false);
            return Ok(());
        }
        self.off = true;
        for i in from..to {
            let b = if self.garbage {
                self.random()
            } else if i < from + (to - from) / 2 {
                0xFF
            } else {
                self.bytes[i]
            };
            self.bytes[i] = b;
            // a torn erase leaves the words neither erased nor programmed: programming them
            // would be wrong, so they count as programmed unless they read erased
            self.programmed[i / W] = !erased(&self.bytes[i / W * W..][..W]);
        }
        Err(PowerLost)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), PowerLost> {
        let o = offset as usize;
        assert_eq!(o % W, 0, "unaligned write at {o}");
        assert_eq!(bytes.len() % W, 0, "unaligned length {}", bytes.len());
        let torn = self.operation()?;
        self.writes += 1;
        let words = bytes.len() / W;
        let torn_word = if !torn {
            words
        } else if self.garbage {
            (self.random() as usize * 256 + self.random() as usize) % words.max(1)
        } else {
            words / 2
        };
        for w in 0..words.min(torn_word + 1) {
            let at = o + w * W;
            if self.strict {
                assert!(!self.programmed[at / W], "word {at} programmed twice");
            }
            for i in 0..W {
                let new = bytes[w * W + i];
                let new = if w == torn_word {
                    // bits going 1 -> 0 undefined, the others keep their value
                    if self.garbage {
                        new | self.random()
                    } else {
                        new | 0x0F
                    }
                } else {
                    new
                };
                self.bytes[at + i] &= new;
            }
            self.programmed[at / W] = w != torn_word || !erased(&self.bytes[at..at + W]);
        }
        if torn {
            self.off = true;
            return Err(PowerLost);
        }
        Ok(())
    }
}

impl<const ERASE: usize, const W: usize> MultiwriteNorFlash for Nor<ERASE, W> {}

/// Whether `bytes` read erased.
fn erased(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0xFF)
}

/// Data bytes of a 256-byte sector for write size `w`: the trailer is two words of 8 bytes
/// rounded up to `w`.
fn payload_of(w: usize) -> usize {
    256 - 2 * 8usize.div_ceil(w) * w
}

/// The small geometry of the adapter tests: 256-byte sectors.
type Small = Nor<256>;
/// Data bytes per 256-byte sector: the trailer takes two 8-byte words.
const PAYLOAD: usize = 256 - 16;

/// Which constructor: plain `NorFlash` (in place only into erased words) or multiwrite.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Plain,
    Multiwrite,
}

fn open<const E: usize, const W: usize>(
    flash: Nor<E, W>,
    base: u32,
    size: usize,
    mode: Mode,
) -> Option<FlashNvm<Nor<E, W>, E>> {
    let mut flash = flash;
    flash.strict = mode == Mode::Plain;
    match mode {
        Mode::Plain => FlashNvm::new(flash, base, size),
        Mode::Multiwrite => FlashNvm::new_multiwrite(flash, base, size),
    }
}

fn read_all<N: Nvm>(nvm: &N) -> Vec<u8> {
    let mut v = vec![0; nvm.size()];
    nvm.read(0, &mut v).unwrap();
    v
}

#[test]
fn the_spare_sector_and_the_trailers_are_not_addressable_and_the_unit_is_the_write_word() {
    let nvm = FlashNvm::<_, 256>::new(Small::new(4096, 1), 1024, 2048).unwrap();
    // 8 sectors: 7 data sectors of 240 bytes, the spare
    assert_eq!(nvm.size(), 7 * PAYLOAD);
    assert_eq!(nvm.unit_size(), WORD);
    assert!(FlashNvm::<_, 256>::new(Small::new(4096, 1), 100, 1024).is_none());
    assert!(FlashNvm::<_, 256>::new(Small::new(4096, 1), 4096, 256).is_none());
    assert!(
        FlashNvm::<_, 256>::new(Small::new(4096, 1), 0, 256).is_none(),
        "no room for a spare"
    );
    assert!(FlashNvm::<_, 128>::new(Small::new(4096, 1), 0, 1024).is_none());
}

#[test]
fn flash_writes_erase_only_when_a_word_cannot_be_programmed_in_place() {
    for mode in [Mode::Plain, Mode::Multiwrite] {
        let mut nvm = open(Small::new(4096, 1), 1024, 2048, mode).unwrap();
        // into erased flash: programmed in place, no erase; unaligned start and end, across
        // the end of data sector 0 (240 bytes) into data sector 1
        nvm.write(237, &[1, 2, 3, 4, 5, 6]).unwrap();
        let mut buf = [0; 8];
        nvm.read(236, &mut buf).unwrap();
        assert_eq!(buf, [0xFF, 1, 2, 3, 4, 5, 6, 0xFF]);
        let flash = nvm.into_inner();
        assert_eq!((flash.erases.get(), flash.writes), (0, 2), "{mode:?}");
        // the region starts at flash offset 1024; sector 0's trailer stays erased
        assert_eq!(flash.bytes[1024 + 237..1024 + 240], [1, 2, 3]);
        assert_eq!(flash.bytes[1024 + 256..1024 + 259], [4, 5, 6]);
        assert!(flash.bytes[1024 + 240..1024 + 256]
            .iter()
            .all(|&b| b == 0xFF));
        assert!(flash.bytes[..1024].iter().all(|&b| b == 0xFF));

        // 4 -> 0: only clears bits, in place for a multiwrite flash; a plain one must not
        // program the word again: a rewrite through the spare (two erases: target, spare)
        let mut nvm = open(flash, 1024, 2048, mode).unwrap();
        nvm.write(240, &[0]).unwrap();
        let flash = nvm.into_inner();
        let erases = match mode {
            Mode::Plain => 2,
            Mode::Multiwrite => 0,
        };
        assert_eq!(flash.erases.get(), erases, "{mode:?}");

        // 5 -> 0xFE sets bits: a rewrite; the spare ends erased
        let mut nvm = open(flash, 1024, 2048, mode).unwrap();
        nvm.write(241, &[0xFE]).unwrap();
        nvm.read(236, &mut buf).unwrap();
        assert_eq!(buf, [0xFF, 1, 2, 3, 0, 0xFE, 6, 0xFF]);
        let flash = nvm.into_inner();
        assert_eq!(flash.erases.get(), erases + 2, "{mode:?}");
        assert!(flash.bytes[1024 + 7 * 256..3072].iter().all(|&b| b == 0xFF));
    }
}

#[test]
fn adapters_refuse_ranges_outside_their_region() {
    let mut nvm = FlashNvm::<_, 256>::new(Small::new(4096, 1), 0, 1024).unwrap();
    assert_eq!(nvm.size(), 3 * PAYLOAD);
    let e = nvm.write(3 * PAYLOAD - 4, &[0; 8]).unwrap_err();
    assert!(matches!(e, FlashNvmError::OutOfBounds { .. }));
    assert_eq!(e.kind(), NvmErrorKind::OutOfBounds);
    assert!(nvm.read(usize::MAX, &mut [0; 2]).is_err());
}

/// Checks the image `got` read after a power-up against the write of `new` over `old` at
/// `addr` that the power loss interrupted (oxicard-store's unit contract, module doc):
/// bytes outside the write intact; the write's part in each data sector new up to one
/// sector, old after it; that sector old, new, or (only when the write could go in place)
/// new words, one torn word, old words. Returns how the interrupted sector ended.
fn check_torn_write(
    got: &[u8],
    old: &[u8],
    (addr, new): (usize, &[u8]),
    mode: Mode,
    (payload, unit): (usize, usize),
) -> &'static str {
    let end = addr + new.len();
    assert_eq!(got[..addr], old[..addr], "before the write");
    assert_eq!(got[end..], old[end..], "after the write");
    let mut expected_new: Vec<u8> = old.to_vec();
    expected_new[addr..end].copy_from_slice(new);
    let mut state = "new";
    let mut at = addr;
    while at < end {
        let seg_end = ((at / payload + 1) * payload).min(end);
        let (g, o, n) = (
            &got[at..seg_end],
            &old[at..seg_end],
            &expected_new[at..seg_end],
        );
        match state {
            "new" if g == n => {}
            "new" if g == o => state = "old",
            "new" => {
                // torn in place: words before the torn one new, after it old
                let sector = at / payload * payload;
                let word = |p: usize| sector + (p - sector) / unit * unit;
                let first_bad = (at..seg_end).find(|&p| got[p] != expected_new[p]).unwrap();
                let torn = word(first_bad);
                let after = (torn + unit).max(at).min(seg_end);
                assert_eq!(
                    got[after..seg_end],
                    old[after..seg_end],
                    "after the torn word {torn}"
                );
                let in_place = match mode {
                    Mode::Multiwrite => o.iter().zip(n).all(|(o, n)| o & n == *n),
                    Mode::Plain => (word(at)..seg_end).step_by(unit).all(|w| {
                        let range = w.max(at)..(w + unit).min(seg_end);
                        old[range.clone()] == expected_new[range] || erased(&old[w..w + unit])
                    }),
                };
                assert!(
                    in_place,
                    "sector at {sector} neither old nor new, yet not in place"
                );
                state = "torn";
            }
            _ => assert_eq!(g, o, "a sector after the interrupted one at {at}"),
        }
        at = seg_end;
    }
    state
}

#[test]
fn a_multi_sector_write_cut_at_every_flash_operation_is_old_or_new_per_sector() {
    let size = 6 * 256;
    let mut cuts = 0;
    for mode in [Mode::Plain, Mode::Multiwrite] {
        for garbage in [false, true] {
            let old: Vec<u8> = (0..5 * PAYLOAD).map(|i| (i * 3) as u8).collect();
            let mut nvm = open(Small::new(4096, 7), 256, size, mode).unwrap();
            nvm.write(0, &old).unwrap();
            let base = nvm.into_inner();
            // three sectors' worth from the middle of sector 1: sectors 1 to 4, bits set
            let (addr, new): (usize, Vec<u8>) = (
                PAYLOAD + 100,
                (0..3 * PAYLOAD).map(|i| (i * 7 + 1) as u8).collect(),
            );
            let mut counting = open(base.clone().power_up(None), 256, size, mode).unwrap();
            counting.write(addr, &new).unwrap();
            let total = counting.into_inner().ops.get();
            assert!(
                total >= 4 * 5,
                "four rewrites of five operations each: {total}"
            );
            let mut outcomes = std::collections::BTreeMap::new();
            for cut in 0..total {
                let mut flash = base.clone().power_up(Some(cut));
                flash.garbage = garbage;
                flash.rng = cut + 1;
                let mut nvm = open(flash, 256, size, mode).unwrap();
                let e = nvm.write(addr, &new).unwrap_err();
                assert_eq!(e.kind(), NvmErrorKind::WriteFailed);
                let nvm = open(nvm.into_inner().power_up(None), 256, size, mode).unwrap();
                let got = read_all(&nvm);
                let state = check_torn_write(&got, &old, (addr, &new), mode, (PAYLOAD, WORD));
                *outcomes.entry(state).or_insert(0) += 1;
                cuts += 1;
            }
            // the write sets bits everywhere: never torn in place, both outcomes seen
            assert_eq!(outcomes.get("torn"), None, "{mode:?} garbage {garbage}");
            assert!(outcomes.len() == 2, "{outcomes:?}");
        }
    }
    println!("cut points checked: {cuts}");
}

#[test]
fn a_recovery_cut_at_every_flash_operation_is_finished_by_the_next_power_up() {
    // the power goes after the spare's commit (the target half erased), then again at every
    // operation of the recovery: the next power-up still brings the new sector
    let size = 4 * 256;
    let old = vec![0x11u8; 3 * PAYLOAD];
    let new = vec![0xEEu8; 50];
    let mut nvm = FlashNvm::<_, 256>::new(Small::new(1024, 3), 0, size).unwrap();
    nvm.write(0, &old).unwrap();
    let base = nvm.into_inner().power_up(None);
    // the rewrite: spare payload, commit word, erase target (cut here), ...
    let mut nvm = FlashNvm::<_, 256>::new(base.power_up(Some(2)), 0, size).unwrap();
    nvm.write(PAYLOAD + 10, &new).unwrap_err();
    let torn = nvm.into_inner();
    let mut expected = old.clone();
    expected[PAYLOAD + 10..PAYLOAD + 60].copy_from_slice(&new);
    for cut in 0..3 {
        // recovery: erase target, program target, erase spare
        let nvm = FlashNvm::<_, 256>::new(torn.clone().power_up(Some(cut)), 0, size).unwrap();
        let flash = nvm.into_inner();
        assert!(flash.off, "cut {cut} happened");
        let nvm = FlashNvm::<_, 256>::new(flash.power_up(None), 0, size).unwrap();
        assert_eq!(read_all(&nvm), expected, "cut {cut}");
    }
    let nvm = FlashNvm::<_, 256>::new(torn.power_up(None), 0, size).unwrap();
    assert_eq!(
        nvm.into_inner().ops.get(),
        3,
        "recovery: two erases and a program"
    );
}

#[derive(Clone, Debug)]
struct Write {
    addr: usize,
    len: usize,
    /// Only clear bits of what is there (in-place candidates).
    clear_only: bool,
    seed: u8,
}

fn write_strategy(size: usize) -> impl Strategy<Value = Write> {
    (0..size, 1usize..400, any::<bool>(), any::<u8>()).prop_map(move |(addr, len, c, seed)| Write {
        addr,
        len: len.min(size - addr),
        clear_only: c,
        seed,
    })
}

/// The bytes `w` writes over `image`.
fn bytes_of(w: &Write, image: &[u8]) -> Vec<u8> {
    (0..w.len)
        .map(|i| {
            let r = (i as u8)
                .wrapping_mul(31)
                .wrapping_add(w.seed)
                .rotate_left(3);
            if w.clear_only {
                image[w.addr + i] & r
            } else {
                r
            }
        })
        .collect()
}

/// One random case of the proptest below on a flash of write size `W`.
fn random_case<const W: usize>(
    mode: Mode,
    garbage: bool,
    writes: &[Write],
    cut_fraction: f64,
    recovery_cut: Option<u64>,
    seed: u64,
) -> Result<(), TestCaseError> {
    let size = 6 * 256;
    let mut flash = Nor::<256, W>::new(size, seed);
    flash.garbage = garbage;
    // a random first image
    let mut nvm = open(flash, 0, size, mode).unwrap();
    prop_assert_eq!(nvm.unit_size(), W);
    prop_assert_eq!(nvm.size(), 5 * payload_of(W));
    let first: Vec<u8> = (0..nvm.size())
        .map(|i| ((i as u64).wrapping_mul(seed) >> 7) as u8)
        .collect();
    nvm.write(0, &first).unwrap();
    let base = nvm.into_inner().power_up(None);
    // count the operations of the sequence
    let mut dry = open(base.clone(), 0, size, mode).unwrap();
    let mut image = first.clone();
    for w in writes {
        let data = bytes_of(w, &image);
        dry.write(w.addr, &data).unwrap();
        image[w.addr..w.addr + w.len].copy_from_slice(&data);
    }
    prop_assert_eq!(read_all(&dry), image);
    let total = dry.into_inner().ops.get();
    prop_assume!(total > 0);
    let cut = ((total as f64) * cut_fraction) as u64;

    let mut nvm = open(base.power_up(Some(cut)), 0, size, mode).unwrap();
    let mut image = first;
    let mut interrupted = None;
    for w in writes {
        let data = bytes_of(w, &image);
        if nvm.write(w.addr, &data).is_err() {
            interrupted = Some((w.addr, data));
            break;
        }
        image[w.addr..w.addr + w.len].copy_from_slice(&data);
    }
    let (addr, data) = interrupted.expect("the cut falls inside the sequence");
    let mut flash = nvm.into_inner();
    if let Some(rc) = recovery_cut {
        flash = open(flash.power_up(Some(rc)), 0, size, mode)
            .unwrap()
            .into_inner();
    }
    let mut nvm = open(flash.power_up(None), 0, size, mode).unwrap();
    let got = read_all(&nvm);
    check_torn_write(&got, &image, (addr, &data), mode, (payload_of(W), W));
    // the device works on
    let after = Write {
        addr: 0,
        len: nvm.size(),
        clear_only: false,
        seed: seed as u8,
    };
    let data = bytes_of(&after, &got);
    nvm.write(0, &data).unwrap();
    prop_assert_eq!(read_all(&nvm), data);
    Ok(())
}

/// Writes stay inside the smallest NVM of [`random_case`] (write size 16: 5 sectors of 224
/// bytes).
const RANDOM_NVM: usize = 5 * 224;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Random writes over random contents on flashes of write size 1, 4 and 16, the power
    /// cut at a random flash operation (and optionally again during the power-up recovery):
    /// the writes before the cut are there, the cut one obeys the unit contract, and the
    /// device then works normally.
    #[test]
    fn random_writes_cut_anywhere_keep_the_unit_contract(
        write_size in prop_oneof![Just(1usize), Just(4), Just(16)],
        multiwrite in any::<bool>(),
        garbage in any::<bool>(),
        writes in proptest::collection::vec(write_strategy(RANDOM_NVM), 1..8),
        cut_fraction in 0.0f64..1.0,
        recovery_cut in proptest::option::of(0u64..3),
        seed in any::<u64>(),
    ) {
        let mode = if multiwrite { Mode::Multiwrite } else { Mode::Plain };
        let case = (mode, garbage, &writes[..], cut_fraction, recovery_cut, seed);
        match write_size {
            1 => random_case::<1>(case.0, case.1, case.2, case.3, case.4, case.5)?,
            4 => random_case::<4>(case.0, case.1, case.2, case.3, case.4, case.5)?,
            _ => random_case::<16>(case.0, case.1, case.2, case.3, case.4, case.5)?,
        }
    }
}

/// The golden reference data (a sibling of the repository).
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");

/// The card's flash: 4 KiB sectors, 24 data sectors and the spare.
type CardFlash = Nor<4096>;
type CardNvm = FlashNvm<CardFlash, 4096>;
const CARD_REGION: usize = 25 * 4096;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The operation and erase counters of a card's flash.
struct Counters {
    ops: Rc<Cell<u64>>,
    erases: Rc<Cell<u64>>,
}

/// Powers a card up on `flash` with the power cut at operation `cut`; also returns the
/// flash's counters.
fn power_up(flash: CardFlash, cut: Option<u64>, mode: Mode) -> (Card<CardNvm>, Counters) {
    let flash = flash.power_up(cut);
    let counters = Counters {
        ops: flash.ops.clone(),
        erases: flash.erases.clone(),
    };
    let nvm = open(flash, 0, CARD_REGION, mode).unwrap();
    (Card::new(nvm).unwrap(), counters)
}

/// Sends `apdu`, returns the response (`None` when the card failed: power lost).
fn send(card: &mut Card<CardNvm>, apdu: &str) -> Option<Vec<u8>> {
    let mut resp = [0u8; 300];
    card.transmit(&hex(apdu), &mut resp)
        .ok()
        .map(|n| resp[..n].to_vec())
}

/// Selects the wallet, verifies its PIN and reads the balance.
fn select_verify_balance(card: &mut Card<CardNvm>) -> u16 {
    assert_eq!(send(card, "00A4040006F00000010401").unwrap(), [0x90, 0x00]);
    assert_eq!(send(card, "8020000004 31323334").unwrap(), [0x90, 0x00]);
    balance(card)
}

fn balance(card: &mut Card<CardNvm>) -> u16 {
    let r = send(card, "8030000000").unwrap();
    assert_eq!(r[2..], [0x90, 0x00]);
    u16::from_be_bytes([r[0], r[1]])
}

/// Cuts the power at every flash operation of the wallet command `apdu` (which changes the
/// balance by `delta`) on the card image in `base`, powers up and checks the invariants and
/// that the balance is the one before or after; returns the number of cuts.
fn tear_wallet_command(base: &CardFlash, apdu: &str, delta: i32, mode: Mode) -> u64 {
    // where the command's operations start (after power-up, select and verify) and end
    let (mut card, Counters { ops, erases }) = power_up(base.clone(), None, mode);
    let before = select_verify_balance(&mut card);
    let first = ops.get();
    let erases_before = erases.get();
    let r = send(&mut card, apdu).unwrap();
    assert_eq!(r[2..], [0x90, 0x00], "{apdu}");
    let after = u16::from_be_bytes([r[0], r[1]]);
    assert_eq!(after as i32, before as i32 + delta);
    let end = ops.get();
    let command_erases = erases.get() - erases_before;
    assert!(end > first, "{apdu} writes the flash");
    let (mut olds, mut news) = (0, 0);
    for cut in first..end {
        let (mut card, _) = power_up(base.clone(), Some(cut), mode);
        assert_eq!(select_verify_balance(&mut card), before);
        assert!(send(&mut card, apdu).is_none(), "cut {cut} stops the card");
        let flash = card.into_nvm().into_inner();
        assert!(flash.off);
        let (mut card, _) = power_up(flash, None, mode);
        card.check_invariants().unwrap();
        let b = select_verify_balance(&mut card);
        if b == before {
            olds += 1;
        } else {
            assert_eq!(b, after, "cut {cut}: balance neither before nor after");
            news += 1;
        }
        // and the card goes on: the command works again
        let r = send(&mut card, apdu).unwrap();
        assert_eq!(u16::from_be_bytes([r[0], r[1]]) as i32, b as i32 + delta);
        card.check_invariants().unwrap();
    }
    assert!(olds > 0 && news > 0, "old {olds} new {news}");
    println!(
        "{mode:?} {apdu}: {} flash operations ({command_erases} erases) cut, {olds} came back old, \
         {news} new",
        end - first
    );
    end - first
}

/// The PIN tries left of the selected wallet.
fn tries(card: &mut Card<CardNvm>) -> u8 {
    let r = send(card, "8022000000").unwrap();
    assert_eq!(r[2..], [0x90, 0x00]);
    r[0]
}

/// Cuts the power at every flash operation of a VERIFY with a wrong PIN: after power-up the
/// tries left are the old count or one less, and once a cut point gives one less, every
/// later one does too (a tear never gives a try back). Returns the number of cuts.
fn tear_wrong_pin(base: &CardFlash, mode: Mode) -> u64 {
    const SELECT: &str = "00A4040006F00000010401";
    const WRONG: &str = "8020000004 31313131";
    let (mut card, Counters { ops, .. }) = power_up(base.clone(), None, mode);
    assert_eq!(send(&mut card, SELECT).unwrap(), [0x90, 0x00]);
    let before = tries(&mut card);
    let first = ops.get();
    assert_eq!(send(&mut card, WRONG).unwrap(), [0x63, 0xC0 | (before - 1)]);
    let end = ops.get();
    let mut paid = false;
    for cut in first..end {
        let (mut card, _) = power_up(base.clone(), Some(cut), mode);
        assert_eq!(send(&mut card, SELECT).unwrap(), [0x90, 0x00]);
        assert!(send(&mut card, WRONG).is_none(), "cut {cut} stops the card");
        let (mut card, _) = power_up(card.into_nvm().into_inner(), None, mode);
        card.check_invariants().unwrap();
        assert_eq!(send(&mut card, SELECT).unwrap(), [0x90, 0x00]);
        let left = tries(&mut card);
        if left == before - 1 {
            paid = true;
        } else {
            assert_eq!(left, before, "cut {cut}");
            assert!(!paid, "cut {cut} gave the try back");
        }
    }
    assert!(paid, "no cut point kept the decrement");
    println!(
        "{mode:?} wrong VERIFY: {} flash operations cut",
        end - first
    );
    end - first
}

#[test]
fn a_wallet_on_flash_with_4k_sectors_keeps_balance_and_pin_tries_at_every_cut() {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut cuts = 0;
            for mode in [Mode::Plain, Mode::Multiwrite] {
                let mut flash = CardFlash::new(CARD_REGION, 11);
                flash.garbage = true;
                let (mut card, _) = power_up(flash, None, mode);
                let cap = std::fs::read(format!("{GOLDEN}/wallet/wallet.cap")).unwrap();
                let load_file = oxicard_cap::jar::read_cap_jar(&cap)
                    .unwrap()
                    .load_file_data_block(true);
                card.load_cap(&load_file).unwrap();
                card.install(
                    &hex("F00000010400"),
                    &hex("F00000010401"),
                    &hex("F00000010401"),
                    &hex("04313233340064"),
                )
                .unwrap();
                let base = card.into_nvm().into_inner();
                // DEBIT 32, CREDIT 16 (a JCSystem transaction)
                cuts += tear_wallet_command(&base, "8034000002002000", -32, mode);
                cuts += tear_wallet_command(&base, "8032000002001000", 16, mode);
                cuts += tear_wrong_pin(&base, mode);
            }
            println!("wallet cut points checked: {cuts}");
        })
        .unwrap()
        .join()
        .unwrap();
}
