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

/// The socket words in the order the command line needs: Flatpak's order, except that an
/// x11 bit that differs from fallback-x11 comes after it (on the command line
/// `fallback-x11` also sets x11, so the later statement must be x11's own). With
/// `omit_mirrored_x11`, an x11 bit equal to fallback-x11's is left out (it is implied).
pub(crate) fn cli_order(
    words: Vec<(&'static str, bool)>,
    omit_mirrored_x11: bool,
) -> Vec<(&'static str, bool)> {
    let fallback = words
        .iter()
        .find(|(w, _)| *w == "fallback-x11")
        .map(|(_, on)| *on);
    let Some(fallback) = fallback else {
        return words;
    };
    let x11 = words.iter().find(|(w, _)| *w == "x11").map(|(_, on)| *on);
    let mut out: Vec<(&'static str, bool)> =
        words.into_iter().filter(|(w, _)| *w != "x11").collect();
    match x11 {
        Some(on) if on != fallback => {
            let at = out
                .iter()
                .position(|(w, _)| *w == "fallback-x11")
                .map_or(out.len(), |i| i + 1);
            out.insert(at, ("x11", on));
        }
        Some(on) if !omit_mirrored_x11 => out.insert(0, ("x11", on)),
        _ => {}
    }
    out
}
