//! Argument blocks: the code that decides a syscall whose verdict depends on an argument.
//! Each block loads the words it needs and ends in `ret`s of its own.
//!
//! A condition is first compiled on its own into a *test*: a self-contained block whose
//! every path ends in one of two marker `ret`s, [`HOLDS`] or [`FAILS`]. Tests compose by
//! rewriting markers, which keeps every jump short and forward:
//!
//! * `All`: each part's `HOLDS` becomes a `ja` to the next part (placed right after it);
//! * `Any`: each part's `FAILS` becomes a `ja` to the next part;
//! * `Not`: the two markers swap;
//! * a rule's clauses: clause *i*'s `HOLDS` becomes `ret action_i` and its `FAILS` a `ja`
//!   to clause *i + 1*; the last clause's `FAILS` becomes `ret ALLOW`.
//!
//! A marker and its replacement are one instruction each, so no offset moves. The markers
//! never reach a program: [`leaf`] replaces every one of them (and a test checks it).

use super::insn::{self, SockFilter};
use super::tree::{Leaf, Pieces};
use portcullis_ir::seccomp::{Action, Arch, Clause, Condition};

/// Weight of an allowed argument value relative to a refused one in an argument tree
/// (allowed values are the ones programs use).
const ALLOWED_WEIGHT: u64 = 8;

/// Marker: the condition holds (an errno no kernel defines, replaced before emission).
const HOLDS: Action = Action::Errno(0xffff);
/// Marker: the condition does not hold.
const FAILS: Action = Action::Errno(0xfffe);

/// Where a marker leads once it is resolved.
#[derive(Clone, Copy)]
enum Exit {
    /// `ret` this verdict.
    Ret(Action),
    /// Jump to the first instruction after the block.
    Next,
    /// Leave the marker for the enclosing composition.
    Keep(Action),
}

/// The leaf deciding a rule's clauses on `arch`: the first clause whose condition holds
/// gives its action; none holding allows the syscall.
pub fn leaf(clauses: &[Clause], arch: Arch) -> Result<Leaf, usize> {
    // A first clause that always holds decides alone: a bare `ret`, which keeps the
    // syscall cacheable by the kernel.
    if let Some(first) = clauses.first() {
        if first.condition == Condition::Always {
            return Ok(Leaf::Ret(first.action));
        }
    }
    let mut code = Vec::new();
    for (i, clause) in clauses.iter().enumerate() {
        let otherwise = if i + 1 == clauses.len() {
            Exit::Ret(Action::Allow)
        } else {
            Exit::Next
        };
        let block = test(&clause.condition, arch)?;
        code.extend(resolve(block, Exit::Ret(clause.action), otherwise));
    }
    if code.is_empty() {
        return Ok(Leaf::Ret(Action::Allow));
    }
    Ok(Leaf::Code(without_empty_jumps(code)))
}

/// Drops every `ja 0` (a jump to the next instruction, left where a composed part ends)
/// and moves every jump target accordingly. Offsets only shrink, so each still fits.
fn without_empty_jumps(code: Vec<SockFilter>) -> Vec<SockFilter> {
    let empty = insn::ja(0);
    // new_index[i]: where instruction i lands, or for a dropped one, where the next kept
    // instruction lands (which is where control goes anyway).
    let mut new_index = Vec::with_capacity(code.len() + 1);
    let mut kept = 0usize;
    for ins in &code {
        new_index.push(kept);
        if *ins != empty {
            kept += 1;
        }
    }
    new_index.push(kept);
    let mut out = Vec::with_capacity(kept);
    for (pc, ins) in code.iter().enumerate() {
        if *ins == empty {
            continue;
        }
        let at = new_index[pc];
        let moved = |offset: usize| new_index[pc + 1 + offset] - at - 1;
        let mut ins = *ins;
        if insn::is_ja(ins) {
            ins.k = moved(ins.k as usize) as u32;
        } else if insn::is_conditional(ins) {
            // INVARIANT: a dropped instruction only shortens a forward jump.
            ins.jt = moved(usize::from(ins.jt)) as u8;
            ins.jf = moved(usize::from(ins.jf)) as u8;
        }
        out.push(ins);
    }
    out
}

/// Rewrites a block's markers: `HOLDS` to `on_holds`, `FAILS` to `on_fails`.
fn resolve(mut block: Vec<SockFilter>, on_holds: Exit, on_fails: Exit) -> Vec<SockFilter> {
    let (holds, fails) = (insn::ret(HOLDS), insn::ret(FAILS));
    let len = block.len();
    for (pc, ins) in block.iter_mut().enumerate() {
        let exit = if *ins == holds {
            on_holds
        } else if *ins == fails {
            on_fails
        } else {
            continue;
        };
        *ins = match exit {
            Exit::Ret(action) => insn::ret(action),
            // The block ends at `len`: skip what follows this instruction inside it.
            Exit::Next => insn::ja((len - pc - 1) as u32),
            Exit::Keep(marker) => insn::ret(marker),
        };
    }
    block
}

/// The test block of `condition` on `arch`: every path ends in `ret HOLDS` or `ret FAILS`.
fn test(condition: &Condition, arch: Arch) -> Result<Vec<SockFilter>, usize> {
    let (holds, fails) = (HOLDS, FAILS);
    Ok(match condition {
        Condition::Always => vec![insn::ret(holds)],
        Condition::LowBitsSet { arg, mask } => vec![
            insn::ld_abs(insn::off_arg_low(*arg)),
            insn::jset(*mask, 0, 1),
            insn::ret(holds),
            insn::ret(fails),
        ],
        Condition::LowIn { arg, values } => {
            let mut code = vec![insn::ld_abs(insn::off_arg_low(*arg))];
            code.extend(any_equal(values)?);
            code
        }
        Condition::MaskedLowIn { arg, mask, values } => {
            // SECURITY: the kernel reads only `mask`'s bits (the socket type without
            // SOCK_NONBLOCK/SOCK_CLOEXEC); comparing the whole word would let those flags
            // hide a refused type.
            let mut code = vec![insn::ld_abs(insn::off_arg_low(*arg)), insn::and(*mask)];
            code.extend(any_equal(values)?);
            code
        }
        Condition::LowNotIn { arg, values } => {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let mut pieces = Pieces::default();
            let mut cursor = 0u32;
            for &value in &sorted {
                if value > cursor {
                    pieces.push(cursor, Leaf::Ret(holds), 1);
                }
                pieces.push(value, Leaf::Ret(fails), ALLOWED_WEIGHT);
                match value.checked_add(1) {
                    Some(next) => cursor = next,
                    None => return Ok(with_load(*arg, pieces.emit()?)),
                }
            }
            pieces.push(cursor, Leaf::Ret(holds), 1);
            with_load(*arg, pieces.emit()?)
        }
        Condition::Ne { arg, value } => {
            let low = *value as u32;
            let high = (*value >> 32) as u32;
            if arch.is_64bit() {
                vec![
                    insn::ld_abs(insn::off_arg_high(*arg)),
                    insn::jeq(high, 0, 3),
                    insn::ld_abs(insn::off_arg_low(*arg)),
                    insn::jeq(low, 0, 1),
                    insn::ret(fails),
                    insn::ret(holds),
                ]
            } else if high != 0 {
                // A 32-bit ABI's argument never has a high word: it always differs.
                vec![insn::ret(holds)]
            } else {
                vec![
                    insn::ld_abs(insn::off_arg_low(*arg)),
                    insn::jeq(low, 0, 1),
                    insn::ret(fails),
                    insn::ret(holds),
                ]
            }
        }
        Condition::All(parts) => {
            // Each part that holds goes on to the next; the first that fails decides.
            let mut code = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                let on_holds = if i + 1 == parts.len() {
                    Exit::Keep(holds)
                } else {
                    Exit::Next
                };
                code.extend(resolve(test(part, arch)?, on_holds, Exit::Keep(fails)));
            }
            if code.is_empty() {
                code.push(insn::ret(holds));
            }
            code
        }
        Condition::Any(parts) => {
            // Each part that fails goes on to the next; the first that holds decides.
            let mut code = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                let on_fails = if i + 1 == parts.len() {
                    Exit::Keep(fails)
                } else {
                    Exit::Next
                };
                code.extend(resolve(test(part, arch)?, Exit::Keep(holds), on_fails));
            }
            if code.is_empty() {
                code.push(insn::ret(fails));
            }
            code
        }
        Condition::Not(inner) => resolve(test(inner, arch)?, Exit::Keep(fails), Exit::Keep(holds)),
    })
}

/// After a load: `jeq` each value, a hit jumping to `ret HOLDS`, no hit reaching `ret FAILS`.
fn any_equal(values: &[u32]) -> Result<Vec<SockFilter>, usize> {
    let n = values.len();
    let mut code = Vec::with_capacity(n + 2);
    for (i, &value) in values.iter().enumerate() {
        // A hit jumps over the remaining tests and the `ret FAILS`.
        let over = u8::try_from(n - i).map_err(|_| n - i)?;
        code.push(insn::jeq(value, over, 0));
    }
    code.push(insn::ret(FAILS));
    code.push(insn::ret(HOLDS));
    Ok(code)
}

fn with_load(arg: u8, tree: Vec<SockFilter>) -> Vec<SockFilter> {
    let mut code = vec![insn::ld_abs(insn::off_arg_low(arg))];
    code.extend(tree);
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_ir::seccomp::{spec, Features};

    /// No marker survives into a leaf, for every rule of every feature set and target.
    #[test]
    fn markers_never_reach_a_program() {
        let markers = [insn::ret(HOLDS), insn::ret(FAILS)];
        for features in Features::all() {
            for arch in Arch::ALL {
                for rule in spec(features, arch).rules {
                    if let Leaf::Code(code) = leaf(&rule.clauses, arch).expect("short jumps") {
                        assert!(
                            code.iter().all(|i| !markers.contains(i)),
                            "{arch} {}",
                            rule.syscall
                        );
                    }
                }
            }
        }
    }

    /// Composition leaves no jump to the next instruction, and the result decides as the
    /// code with them did.
    #[test]
    fn no_empty_jumps_survive() {
        for features in Features::all() {
            for arch in Arch::ALL {
                for rule in spec(features, arch).rules {
                    if let Leaf::Code(code) = leaf(&rule.clauses, arch).expect("short jumps") {
                        assert!(!code.contains(&insn::ja(0)), "{arch} {}", rule.syscall);
                    }
                }
            }
        }
        let code = vec![
            insn::ld_abs(16),
            insn::jeq(1, 1, 0),
            insn::ja(0),
            insn::jeq(2, 0, 2),
            insn::ja(0),
            insn::ret(Action::Allow),
            insn::ret(Action::Errno(1)),
        ];
        assert_eq!(
            without_empty_jumps(code),
            vec![
                insn::ld_abs(16),
                insn::jeq(1, 0, 0),
                insn::jeq(2, 0, 1),
                insn::ret(Action::Allow),
                insn::ret(Action::Errno(1)),
            ]
        );
    }

    /// A single clause compiles exactly as before composition existed: the block that
    /// tests the condition, then `ret action` / `ret ALLOW`.
    #[test]
    fn one_clause_is_a_plain_block() {
        let clause = Clause {
            condition: Condition::LowIn {
                arg: 1,
                values: vec![7, 9],
            },
            action: Action::Errno(1),
            why: "",
            hardening: None,
        };
        let Leaf::Code(code) = leaf(&[clause], Arch::X86_64).expect("short") else {
            panic!("a block")
        };
        assert_eq!(
            code,
            vec![
                insn::ld_abs(insn::off_arg_low(1)),
                insn::jeq(7, 2, 0),
                insn::jeq(9, 1, 0),
                insn::ret(Action::Allow),
                insn::ret(Action::Errno(1)),
            ]
        );
    }
}
