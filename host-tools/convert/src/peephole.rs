//! Size peepholes over a translated method, before layout: the rewrites Oracle's converter
//! does that a per-instruction translation cannot see.
//!
//! `sload x; <const c>; sadd|ssub; sstore x` (javac's `x++`, `x -= 3` on a short local:
//! `iload, iconst, iadd, i2s, istore`) becomes `sinc x c` when c fits a byte and no branch
//! lands inside the sequence; `<const c>; s2b` loses the `s2b` when c is a byte already.

use std::collections::BTreeSet;

use oxicard_isa::Opcode as Jc;

use crate::translate::Item;

/// The slot of a short load (`load`) or store.
fn short_slot(item: &Item, load: bool) -> Option<u8> {
    let Item::Raw(b) = item else { return None };
    let (general, first) = if load {
        (Jc::Sload, Jc::Sload0)
    } else {
        (Jc::Sstore, Jc::Sstore0)
    };
    match b.as_slice() {
        [op, slot] if *op == general.value() => Some(*slot),
        [op] if (first.value()..first.value() + 4).contains(op) => Some(op - first.value()),
        _ => None,
    }
}

/// The value of a short constant push.
fn short_constant(item: &Item) -> Option<i16> {
    let Item::Raw(b) = item else { return None };
    let (m1, five) = (Jc::SconstM1.value(), Jc::Sconst5.value());
    match b.as_slice() {
        [op] if (m1..=five).contains(op) => Some(i16::from(*op) - i16::from(Jc::Sconst0.value())),
        [op, v] if *op == Jc::Bspush.value() => Some(i16::from(*v as i8)),
        [op, hi, lo] if *op == Jc::Sspush.value() => Some(i16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

/// Folds short increments into `sinc` and drops `s2b` after byte constants. `block_starts` are the JVM pcs where control can
/// arrive other than by falling through.
pub(crate) fn fold_sinc(items: Vec<(u32, Item)>, block_starts: &BTreeSet<u32>) -> Vec<(u32, Item)> {
    let mut out: Vec<(u32, Item)> = Vec::with_capacity(items.len());
    let mut k = 0;
    while k < items.len() {
        if let Some(window) = items.get(k..k + 4) {
            let start_pc = window[0].0;
            let entered_inside = window[1..]
                .iter()
                .any(|(pc, _)| *pc != start_pc && block_starts.contains(pc));
            let op = match &window[2].1 {
                Item::Raw(b) if b.as_slice() == [Jc::Sadd.value()] => Some(1i16),
                Item::Raw(b) if b.as_slice() == [Jc::Ssub.value()] => Some(-1i16),
                _ => None,
            };
            let folded = match (
                short_slot(&window[0].1, true),
                short_constant(&window[1].1),
                op,
                short_slot(&window[3].1, false),
            ) {
                (Some(load), Some(c), Some(sign), Some(store)) if load == store => c
                    .checked_mul(sign)
                    .and_then(|d| i8::try_from(d).ok())
                    .map(|d| (load, d)),
                _ => None,
            };
            if let (Some((slot, delta)), false) = (folded, entered_inside) {
                out.push((
                    start_pc,
                    Item::Raw(vec![Jc::Sinc.value(), slot, delta as u8]),
                ));
                k += 4;
                continue;
            }
        }
        if let (Some(c), Some((pc, Item::Raw(next)))) =
            (short_constant(&items[k].1), items.get(k + 1))
        {
            let byte_already = i8::try_from(c).is_ok();
            if byte_already && next.as_slice() == [Jc::S2b.value()] && !block_starts.contains(pc) {
                out.push(items[k].clone());
                k += 2;
                continue;
            }
        }
        out.push(items[k].clone());
        k += 1;
    }
    out
}
