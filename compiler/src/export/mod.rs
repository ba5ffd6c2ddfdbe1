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

use portcullis_ir::beyond::BusRuleKind;
use portcullis_ir::context::Setting;
use portcullis_ir::{Context, Policy};

use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// One bitset for the writers: the option stems (`socket`, `nosocket`) and each valid
/// bit's word with its value, in Flatpak's order.
pub(crate) type Bitset = (&'static str, &'static str, Vec<(&'static str, bool)>);

/// A warning for each beyond-Flatpak rule that neither finish-args nor the metadata
/// keyfile can say: deny masks, port rules, `udp none` and limits (the export grants more),
/// single device nodes and call/broadcast rules (the export grants less), and
/// `allow io-uring` (Flatpak's filter allows io_uring for every app anyway).
pub(crate) fn beyond_dropped(policy: &Policy, target: &str) -> Vec<Diagnostic> {
    let beyond = &policy.beyond;
    let mut out = Vec::new();
    let mut warn = |what: String, effect: &str| {
        out.push(
            Diagnostic::warning(
                Code::NotExpressible,
                format!("{what} has no {target} form and is left out: {effect}"),
            )
            .with_help("keep the policy-language file as the source of truth, or compile it"),
        );
    };
    const MORE: &str = "the exported form grants more";
    const LESS: &str = "the exported form does not grant it";
    for mask in &beyond.deny {
        warn(format!("the deny mask `except {}`", mask.path), MORE);
    }
    if let Some(net) = &beyond.network {
        for (direction, ranges) in [("connect", &net.connect), ("bind", &net.bind)] {
            let ports = portcullis_ir::beyond::describe_ports(ranges, ", ");
            warn(format!("the network rule `{direction} tcp {ports}`"), MORE);
        }
        if net.udp_none {
            warn("the network rule `udp none`".to_string(), MORE);
        }
    }
    if beyond.io_uring.is_some() {
        warn(
            "`allow io-uring`".to_string(),
            "Flatpak's filter allows io_uring to every app anyway",
        );
    }
    let limits = &beyond.limits;
    for (name, limit) in [
        ("memory", limits.memory),
        ("processes", limits.processes),
        ("open-files", limits.open_files),
        ("cpu-time", limits.cpu_time),
        ("cpu-share", limits.cpu_share),
    ] {
        if let Some(limit) = limit {
            warn(format!("the limit `{name} {}`", limit.value), MORE);
        }
    }
    for node in &beyond.device_nodes {
        warn(format!("the device node `{}`", node.path), LESS);
    }
    for rule in &beyond.bus_rules {
        let word = match rule.kind {
            BusRuleKind::Call => "call",
            BusRuleKind::Broadcast => "broadcast",
        };
        warn(
            format!(
                "the D-Bus {word} rule `{}={}`",
                rule.name.as_str(),
                rule.rule
            ),
            LESS,
        );
    }
    out
}

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
/// An absent x11 bit under a granted fallback-x11 is written as x11 not granted.
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
    // A keyfile can grant fallback-x11 without x11 (no x11 bit at all): on the command
    // line and in the policy language that must be said, or fallback-x11 would grant x11.
    let x11 = if fallback { x11.or(Some(false)) } else { x11 };
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
