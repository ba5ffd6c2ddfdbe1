//! A weighted search tree over a 32-bit value (the syscall number, or one argument word),
//! emitted as `jge` comparisons.
//!
//! The input is a partition of `0..=u32::MAX` into pieces, each with the code that runs
//! when the value falls in it and a weight (how often the piece is expected). The split at
//! every node balances the weight on both sides, which keeps the expected number of
//! comparisons close to the entropy of the weights: heavily used ranges sit near the root,
//! rare ones (numbers missing from the table, x32) deeper.

use super::insn::{self, SockFilter};
use portcullis_ir::seccomp::Action;

/// What runs once the value is known to lie in a piece.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// A single `ret`.
    Ret(Action),
    /// A self-contained block: every path in it ends in a `ret` inside it.
    Code(Vec<SockFilter>),
}

impl Leaf {
    fn code(&self) -> Vec<SockFilter> {
        match self {
            Leaf::Ret(action) => vec![insn::ret(*action)],
            Leaf::Code(code) => code.clone(),
        }
    }
}

/// The pieces of a partition, built in increasing order.
#[derive(Debug, Default)]
pub struct Pieces {
    /// `(first value, leaf, weight)`, sorted by first value, the first one starting at 0.
    items: Vec<(u32, Leaf, u64)>,
}

impl Pieces {
    /// Appends the piece starting at `start` (which must be above the previous start);
    /// it merges with the previous piece when the leaf is the same.
    pub fn push(&mut self, start: u32, leaf: Leaf, weight: u64) {
        if let Some(last) = self.items.last_mut() {
            if last.1 == leaf {
                last.2 += weight;
                return;
            }
        }
        self.items.push((start, leaf, weight));
    }

    /// Emits the tree. `Err(distance)` when a jump would exceed 255 instructions.
    pub fn emit(&self) -> Result<Vec<SockFilter>, usize> {
        node(&self.items)
    }
}

fn node(items: &[(u32, Leaf, u64)]) -> Result<Vec<SockFilter>, usize> {
    if let [(_, leaf, _)] = items {
        return Ok(leaf.code());
    }
    let split = balanced_split(items);
    let left = node(&items[..split])?;
    let right = node(&items[split..])?;
    let at = items[split].0;
    // Place the shorter side first so that the jump over it is as short as possible.
    let mut out = Vec::with_capacity(1 + left.len() + right.len());
    if left.len() <= right.len() {
        let over = u8::try_from(left.len()).map_err(|_| left.len())?;
        out.push(insn::jge(at, over, 0));
        out.extend(left);
        out.extend(right);
    } else {
        let over = u8::try_from(right.len()).map_err(|_| right.len())?;
        out.push(insn::jge(at, 0, over));
        out.extend(right);
        out.extend(left);
    }
    Ok(out)
}

/// The index that splits `items` (at least two) into two non-empty halves of the most
/// equal weight.
fn balanced_split(items: &[(u32, Leaf, u64)]) -> usize {
    let total: u64 = items.iter().map(|i| i.2).sum();
    let mut best = (u64::MAX, 1);
    let mut left = 0u64;
    for (i, item) in items.iter().enumerate().take(items.len() - 1) {
        left += item.2;
        let right = total - left;
        let gap = left.abs_diff(right);
        if gap < best.0 {
            best = (gap, i + 1);
        }
    }
    best.1
}
