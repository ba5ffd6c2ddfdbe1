//! Exporters: the IR back to Flatpak's forms and to the policy language's AST.
//!
//! * [`finish_args`]: Flatpak's `to_args` order with real option names (a `see` rule has no
//!   command-line form and is reported instead);
//! * [`metadata`]: the non-flattened keyfile save form (§3.3), with GKeyFile escapes;
//! * [`document`]: an AST in canonical order, for the syntax crate's printer.
//!
//! All three are deterministic: the IR's maps are ordered, and nothing else is read.

pub mod args;
pub mod ast;
pub mod keyfile;

pub use args::finish_args;
pub use ast::document;
pub use keyfile::metadata;

use portcullis_ir::context::Setting;
use portcullis_ir::Context;

/// One bitset for the writers: the option stems (`socket`, `nosocket`) and each valid
/// bit's word with its value, in Flatpak's order.
pub(crate) type Bitset = (&'static str, &'static str, Vec<(&'static str, bool)>);

/// The bitsets in Flatpak's order.
pub(crate) fn bitsets(context: &Context) -> [Bitset; 4] {
    fn words<K: Copy>(
        map: &std::collections::BTreeMap<K, Setting>,
        name: fn(K) -> &'static str,
    ) -> Vec<(&'static str, bool)> {
        map.iter().map(|(k, s)| (name(*k), s.enabled)).collect()
    }
    [
        ("share", "unshare", words(&context.shares, |s| s.name())),
        ("socket", "nosocket", words(&context.sockets, |s| s.name())),
        ("device", "nodevice", words(&context.devices, |s| s.name())),
        ("allow", "disallow", words(&context.features, |s| s.name())),
    ]
}
