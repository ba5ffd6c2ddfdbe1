//! The probes translation validation and program comparison run: every syscall number of
//! every supported architecture (table entries, the gaps between them, numbers above the
//! table, the x32 range, the edges of the 32-bit space) under every architecture token,
//! and for each number every argument value that the programs' own constants (and the
//! caller's) set apart.
//!
//! Argument values come from the constants a run compared an argument word with: for each
//! constant `c` the values `c - 1`, `c`, `c + 1` and `!c`, plus the extremes, on the low
//! word, combined with a few high words. Each comparison a classic BPF program can make on
//! a word is `==`, `>`, `>=` or a bit test against a constant, so these values land in
//! every cell of the partition the constants induce. A word and-ed with a mask `m` before
//! its comparisons is also probed with the bits outside `m` set (`v | !m`), so a program
//! and the intended decision must agree on ignoring them.
//!
//! Single arguments and pairs are probed with all of these values; when a verdict depends
//! on three arguments (`socket`: family, type, protocol), every triple is probed too, with
//! one representative per interval the constants cut the low word into (`0`, `c`, `c + 1`).

use std::collections::BTreeSet;

use super::interp::run;
use super::op::Field;
use super::Insn;
use portcullis_ir::seccomp::{Arch, SeccompData};

/// Architecture tokens that no supported filter accepts (ppc64le, riscv64, s390x, none).
pub const FOREIGN_TOKENS: [u32; 4] = [0xC000_0015, 0xC000_00F3, 0x8000_0016, 0];

/// Every architecture token to probe: the supported ones, then [`FOREIGN_TOKENS`].
pub fn tokens() -> Vec<u32> {
    let mut out: Vec<u32> = Arch::ALL.iter().map(|a| a.audit()).collect();
    out.extend(FOREIGN_TOKENS);
    out
}

/// The syscall numbers to probe under `token`.
pub fn numbers(token: u32) -> Vec<u32> {
    let mut out = BTreeSet::new();
    match Arch::from_audit(token) {
        Some(arch) => {
            let table = arch.table();
            // Every number up to well past the largest ordinary one: all entries and gaps.
            let top = table
                .iter()
                .map(|&(nr, _)| nr)
                .filter(|&nr| nr < 0x1_0000)
                .max()
                .unwrap_or(0);
            out.extend(0..=top + 64);
            // Entries far above (arm's private syscalls) and their neighbours.
            for &(nr, _) in table {
                out.extend([nr.saturating_sub(1), nr, nr.saturating_add(1)]);
            }
            // The x32 range (x86_64 token with bit 30) and the top of the space.
            out.extend(0x4000_0000..=0x4000_0000 + 600);
            out.extend([
                0x3fff_ffff,
                0x7fff_ffff,
                0x8000_0000,
                0xbfff_ffff,
                0xc000_0000,
                0xffff_fffe,
                0xffff_ffff,
            ]);
        }
        None => {
            out.extend(0..=16);
            out.extend([0x4000_0000, 0xffff_ffff]);
        }
    }
    out.into_iter().collect()
}

/// The probes for one number under one token: argument values that reach every branch
/// of every program in `programs`, plus those `extra` sets apart (64-bit constants per
/// argument index).
pub fn for_number(
    programs: &[&[Insn]],
    token: u32,
    nr: u32,
    extra: &dyn Fn(usize) -> Vec<u64>,
) -> Vec<SeccompData> {
    let base = SeccompData {
        nr,
        arch: token,
        instruction_pointer: 0,
        args: [0; 6],
    };
    let mut read = 0u8;
    let mut low: [BTreeSet<u32>; 6] = Default::default();
    let mut high: [BTreeSet<u32>; 6] = Default::default();
    let mut masks: [BTreeSet<u32>; 6] = Default::default();
    // The caller's constants count even when no program looks at the argument: a program
    // that ignores an argument the intended decision depends on must still be caught.
    for i in 0..6 {
        for c in extra(i) {
            read |= 1 << i;
            low[i].insert(c as u32);
            high[i].insert((c >> 32) as u32);
        }
    }
    let mut seen = std::collections::HashSet::new();
    seen.insert(base.args);
    let mut frontier = vec![base];
    let mut probes = vec![base];
    // Explore until no run shows a new argument or constant (bounded: each round can only
    // add constants the programs contain).
    for _round in 0..4 {
        for data in &frontier {
            for program in programs {
                let Ok(r) = run(program, data) else { continue };
                read |= r.args_read;
                for (field, m) in r.arg_masks {
                    if let Field::Arg(i, false) = field {
                        masks[usize::from(i)].insert(m);
                    }
                }
                for (field, k) in r.arg_constants {
                    if let Field::Arg(i, is_high) = field {
                        if is_high {
                            high[usize::from(i)].insert(k);
                        } else {
                            low[usize::from(i)].insert(k);
                        }
                    }
                }
            }
        }
        if read == 0 {
            break;
        }
        frontier.clear();
        let per_arg: Vec<(usize, Vec<u64>)> = (0..6)
            .filter(|i| read & (1 << i) != 0)
            .map(|i| (i, values(&low[i], &high[i], &masks[i])))
            .collect();
        for (i, vals) in &per_arg {
            for &v in vals {
                let mut data = base;
                data.args[*i] = v;
                if seen.insert(data.args) {
                    frontier.push(data);
                }
            }
        }
        // Two arguments read: their combinations too (bounded).
        for (a, (i, vi)) in per_arg.iter().enumerate() {
            for (j, vj) in per_arg.iter().skip(a + 1) {
                for &x in vi.iter().take(64) {
                    for &y in vj.iter().take(64) {
                        let mut data = base;
                        data.args[*i] = x;
                        data.args[*j] = y;
                        if seen.insert(data.args) {
                            frontier.push(data);
                        }
                    }
                }
            }
        }
        // Three arguments read: every triple, over one value per interval.
        let reps: Vec<(usize, Vec<u64>)> = per_arg
            .iter()
            .map(|(i, _)| (*i, representatives(&low[*i])))
            .collect();
        for (a, (i, vi)) in reps.iter().enumerate() {
            for (b, (j, vj)) in reps.iter().enumerate().skip(a + 1) {
                for (k, vk) in reps.iter().skip(b + 1) {
                    for &x in vi {
                        for &y in vj {
                            for &z in vk {
                                let mut data = base;
                                data.args[*i] = x;
                                data.args[*j] = y;
                                data.args[*k] = z;
                                if seen.insert(data.args) {
                                    frontier.push(data);
                                }
                            }
                        }
                    }
                }
            }
        }
        if frontier.is_empty() {
            break;
        }
        probes.extend(frontier.iter().copied());
    }
    probes
}

/// One low-word value per interval the constants cut `0..=u32::MAX` into: every `==`, `>`
/// and `>=` against a constant `c` has its boundary at `c` or `c + 1`, and each interval
/// starts at 0 or at a boundary (high word 0).
fn representatives(low: &BTreeSet<u32>) -> Vec<u64> {
    let mut out: BTreeSet<u32> = [0].into_iter().collect();
    for &c in low {
        out.extend([c, c.wrapping_add(1)]);
    }
    out.into_iter().map(u64::from).collect()
}

/// 64-bit values around each constant, and with the bits outside each mask set.
fn values(low: &BTreeSet<u32>, high: &BTreeSet<u32>, masks: &BTreeSet<u32>) -> Vec<u64> {
    let mut lows: BTreeSet<u32> = [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff]
        .into_iter()
        .collect();
    for &c in low {
        lows.extend([c.wrapping_sub(1), c, c.wrapping_add(1), !c]);
    }
    let around: Vec<u32> = lows.iter().copied().collect();
    for &m in masks {
        for &v in &around {
            lows.extend([v | !m, v & m]);
        }
    }
    let mut highs: BTreeSet<u32> = [0, 1, 0xffff_ffff].into_iter().collect();
    for &c in high {
        highs.extend([c.wrapping_sub(1), c, c.wrapping_add(1)]);
    }
    let mut out = Vec::with_capacity(lows.len() * highs.len());
    for &h in &highs {
        for &l in &lows {
            out.push((u64::from(h) << 32) | u64::from(l));
        }
    }
    out
}
