//! Object deletion gives back dead space anywhere in the heap, not only at its top: the
//! collector slides live objects down over the dead ones (their handles stay, their
//! contents move) and hands dead handles out again, so an applet that keeps making garbage
//! and asks for deletion never runs out of memory or handles. A power cut at any write of
//! such a collection leaves the heap exactly as before or after it, with every live
//! object's contents intact.
//!
//! The oracle is a model kept by the test: the length and contents of every array it
//! allocated and which of them it keeps; the expected heap top is the packed layout of
//! the kept arrays (10-byte header, body, objects at even addresses).
#![allow(clippy::unwrap_used)]

use oxicard_store::{FaultyNvm, Nvm, RamNvm};
use oxicard_vm::heap::{ArrayType, ObjRef};
use oxicard_vm::{layout, Vm};
use proptest::prelude::*;

mod common;
mod tear;
use tear::{digest, TestNvm, UNIT};

/// Header bytes of an object (oxicard_vm::heap::HDR).
const HDR: u32 = 10;

/// A VM on an empty test device.
fn new_vm() -> Box<Vm<TestNvm>> {
    Box::new(Vm::new(tear::new_nvm(), &oxicard_jcre::api::CATALOG).unwrap())
}

/// A byte array of `len` bytes filled with a pattern of `seed`; returns its handle.
fn make_array<N: oxicard_store::Nvm>(vm: &mut Vm<N>, len: u16, seed: u8) -> ObjRef {
    let a = vm.new_array(ArrayType::Byte, len as i16, 0, 0).unwrap();
    for i in 0..len {
        vm.array_store(a, i as i16, pattern(seed, i) as i32)
            .unwrap();
    }
    a
}

fn pattern(seed: u8, i: u16) -> i8 {
    (seed as u16)
        .wrapping_mul(31)
        .wrapping_add(i.wrapping_mul(7)) as u8 as i8
}

/// Every kept array still has its length and contents.
fn assert_contents<N: oxicard_store::Nvm>(vm: &Vm<N>, kept: &[Kept], when: &str) {
    for &(h, len, seed) in kept {
        let (hdr, ty) = vm.array_header(h).unwrap();
        assert_eq!((ty, hdr.len), (ArrayType::Byte, len), "{when}: handle {h}");
        for i in 0..len {
            assert_eq!(
                vm.array_load(h, i as i16).unwrap(),
                pattern(seed, i) as i32,
                "{when}: handle {h}[{i}]"
            );
        }
    }
}

/// The heap top when `lens` are packed from the image start in this order.
fn packed_top(lens: impl IntoIterator<Item = u16>) -> u32 {
    let mut top = layout::IMAGE_START;
    for len in lens {
        top += top & 1;
        top += HDR + len as u32;
    }
    top
}

/// A kept array: handle, length, pattern seed.
type Kept = (ObjRef, u16, u8);

/// Allocates arrays of `lens`, keeps those whose `keep` bit is set, collects; checks the
/// model and returns the VM with the kept arrays (handle, length, seed).
fn litter_and_collect(lens: &[u16], keep: &[bool]) -> (Box<Vm<TestNvm>>, Vec<Kept>) {
    let mut vm = new_vm();
    let free_at_start = vm.available_persistent();
    let mut all = Vec::new();
    for (i, &len) in lens.iter().enumerate() {
        all.push((make_array(&mut vm, len, i as u8), len, i as u8));
    }
    vm.checkpoint().unwrap();
    let kept: Vec<_> = all
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(a, _)| *a)
        .collect();
    let roots: Vec<ObjRef> = kept.iter().map(|k| k.0).collect();
    let done = vm.collect_garbage(&roots).unwrap();
    vm.checkpoint().unwrap();
    vm.check_invariants().unwrap();
    assert_eq!(
        done.objects as usize,
        lens.len() - kept.len(),
        "objects deleted"
    );
    let expected_top = packed_top(kept.iter().map(|k| k.1));
    assert_eq!(
        vm.available_persistent(),
        free_at_start - (expected_top - layout::IMAGE_START) as usize,
        "free memory is everything but the packed live arrays"
    );
    assert_contents(&vm, &kept, "after the collection");
    (vm, kept)
}

#[test]
fn dead_space_between_live_objects_is_reclaimed() {
    common::in_thread(|| {
        // live, dead, live, dead...: every dead array sits below a live one
        let lens: Vec<u16> = (0..40).map(|i| 20 + (i * 13 % 97) as u16).collect();
        let keep: Vec<bool> = (0..40).map(|i| i % 3 == 1).collect();
        let (mut vm, kept) = litter_and_collect(&lens, &keep);
        // the dead handles are handed out again: new arrays take no new handle
        let count = vm.object_count();
        let fresh: Vec<_> = (0..(40 - kept.len()) as u8)
            .map(|i| (make_array(&mut vm, 5, 100 + i), 5, 100 + i))
            .collect();
        assert!(vm.object_count() <= count.max(40), "handles reused");
        assert!(fresh.iter().all(|f| f.0 as usize <= 40));
        vm.check_invariants().unwrap();
        assert_contents(&vm, &kept, "after reuse");
        assert_contents(&vm, &fresh, "the new arrays");
    });
}

#[test]
fn garbage_forever_never_runs_out_of_memory_or_handles() {
    common::in_thread(|| {
        let mut vm =
            Box::new(Vm::new(RamNvm::<{ 96 * 1024 }>::new(), &oxicard_jcre::api::CATALOG).unwrap());
        let start = vm.available_persistent();
        let mut kept: Vec<Kept> = Vec::new();
        // far more arrays than object handles (2048) and than the NVM holds (3000 x 60 B)
        for round in 0..3000u32 {
            let seed = round as u8;
            let a = make_array(&mut vm, 50, seed);
            kept.push((a, 50, seed));
            if kept.len() > 4 {
                // drop the oldest but one: the survivors are scattered, not at the top
                kept.remove(kept.len() - 4);
            }
            if round % 25 == 24 {
                let roots: Vec<ObjRef> = kept.iter().map(|k| k.0).collect();
                vm.collect_garbage(&roots).unwrap();
                vm.checkpoint().unwrap();
                assert_contents(&vm, &kept, "after a collection");
            }
        }
        vm.check_invariants().unwrap();
        assert!(vm.object_count() < 100, "handles: {}", vm.object_count());
        assert!(start - vm.available_persistent() < 1000);
    });
}

/// A power cut at every write of a collection that moves objects: powered up again, the
/// image is exactly before or after the collection and every kept array is intact.
#[test]
fn a_torn_compaction_is_all_or_nothing() {
    common::in_thread(|| {
        let lens: Vec<u16> = (0..24).map(|i| 30 + (i * 17 % 50) as u16).collect();
        let keep: Vec<bool> = (0..24).map(|i| i % 2 == 1).collect();
        let mut vm = new_vm();
        let mut all = Vec::new();
        for (i, &len) in lens.iter().enumerate() {
            all.push((make_array(&mut vm, len, i as u8), len, i as u8));
        }
        vm.checkpoint().unwrap();
        let kept: Vec<_> = all
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(a, _)| *a)
            .collect();
        let roots: Vec<ObjRef> = kept.iter().map(|k| k.0).collect();
        let before = vm.clone();
        let before_digest = digest(vm.nvm().inner().as_slice().unwrap());
        let w0 = vm.nvm().units_written();
        let done = vm.collect_garbage(&roots).unwrap();
        vm.checkpoint().unwrap();
        assert!(done.moved > 5, "the collection moves objects: {done:?}");
        let after_digest = digest(vm.nvm().inner().as_slice().unwrap());
        let units = vm.nvm().units_written() - w0;
        let mut cuts = 0;
        let mut seen_before = false;
        for n in 0..units as usize {
            for torn in [false, true] {
                let mut v = before.clone();
                v.nvm_mut().set_writes_left(Some(n));
                v.nvm_mut().set_tearing(torn);
                let r = v.collect_garbage(&roots).and_then(|_| v.checkpoint());
                assert!(r.is_err(), "cut {n} not reached");
                let image = v.into_nvm().into_inner();
                let p = Box::new(
                    Vm::new(
                        FaultyNvm::new(image, None).with_unit(UNIT),
                        &oxicard_jcre::api::CATALOG,
                    )
                    .unwrap(),
                );
                p.check_invariants()
                    .unwrap_or_else(|e| panic!("cut {n} torn {torn}: {e}"));
                let d = digest(p.nvm().inner().as_slice().unwrap());
                if d == before_digest {
                    seen_before = true;
                } else {
                    assert!(
                        d == after_digest,
                        "cut {n} (torn {torn}): neither before nor after"
                    );
                }
                assert_contents(&p, &kept, &format!("cut {n} torn {torn}"));
                cuts += 1;
            }
        }
        // the last write is the commit point, so every cut here rolls back
        assert!(seen_before);
        println!(
            "compaction: {cuts} cut points, {} objects moved, 0 failures",
            done.moved
        );
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Any mix of array sizes and survivors: the collector packs the survivors and keeps
    /// their contents.
    #[test]
    fn collections_pack_any_heap(
        spec in proptest::collection::vec((0u16..300, any::<bool>()), 1..60)
    ) {
        let (lens, keep): (Vec<u16>, Vec<bool>) = spec.into_iter().unzip();
        common::in_thread(move || { litter_and_collect(&lens, &keep); });
    }
}
