//! Argument blocks: the code that decides a syscall whose verdict depends on an argument.
//! Each block loads the words it needs and ends in `ret`s of its own.

use super::insn::{self, SockFilter};
use super::tree::{Leaf, Pieces};
use portcullis_ir::seccomp::{Action, Arch, Condition};

/// Weight of an allowed argument value relative to a refused one in an argument tree
/// (allowed values are the ones programs use).
const ALLOWED_WEIGHT: u64 = 8;

/// The leaf deciding `condition ? action : allow` on `arch`.
pub fn leaf(condition: &Condition, action: Action, arch: Arch) -> Result<Leaf, usize> {
    let allow = Action::Allow;
    Ok(match condition {
        Condition::Always => Leaf::Ret(action),
        Condition::LowBitsSet { arg, mask } => Leaf::Code(vec![
            insn::ld_abs(insn::off_arg_low(*arg)),
            insn::jset(*mask, 0, 1),
            insn::ret(action),
            insn::ret(allow),
        ]),
        Condition::LowIn { arg, values } => {
            let n = values.len();
            let mut code = vec![insn::ld_abs(insn::off_arg_low(*arg))];
            for (i, &value) in values.iter().enumerate() {
                // A hit jumps over the remaining tests and the `ret allow`.
                let over = u8::try_from(n - i).map_err(|_| n - i)?;
                code.push(insn::jeq(value, over, 0));
            }
            code.push(insn::ret(allow));
            code.push(insn::ret(action));
            Leaf::Code(code)
        }
        Condition::LowNotIn { arg, values } => {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let mut pieces = Pieces::default();
            let mut cursor = 0u32;
            for &value in &sorted {
                if value > cursor {
                    pieces.push(cursor, Leaf::Ret(action), 1);
                }
                pieces.push(value, Leaf::Ret(allow), ALLOWED_WEIGHT);
                match value.checked_add(1) {
                    Some(next) => cursor = next,
                    None => return Ok(Leaf::Code(with_load(*arg, pieces.emit()?))),
                }
            }
            pieces.push(cursor, Leaf::Ret(action), 1);
            Leaf::Code(with_load(*arg, pieces.emit()?))
        }
        Condition::Ne { arg, value } => {
            let low = *value as u32;
            let high = (*value >> 32) as u32;
            if arch.is_64bit() {
                Leaf::Code(vec![
                    insn::ld_abs(insn::off_arg_high(*arg)),
                    insn::jeq(high, 0, 3),
                    insn::ld_abs(insn::off_arg_low(*arg)),
                    insn::jeq(low, 0, 1),
                    insn::ret(allow),
                    insn::ret(action),
                ])
            } else if high != 0 {
                // A 32-bit ABI's argument never has a high word: it always differs.
                Leaf::Ret(action)
            } else {
                Leaf::Code(vec![
                    insn::ld_abs(insn::off_arg_low(*arg)),
                    insn::jeq(low, 0, 1),
                    insn::ret(allow),
                    insn::ret(action),
                ])
            }
        }
    })
}

fn with_load(arg: u8, tree: Vec<SockFilter>) -> Vec<SockFilter> {
    let mut code = vec![insn::ld_abs(insn::off_arg_low(arg))];
    code.extend(tree);
    code
}
