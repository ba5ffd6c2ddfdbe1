//! Document-wide findings: conflicts and redundancy between statements (semantics §1.9).
//!
//! Runs over the [`Fact`]s of the main document and the final context (which also holds
//! what includes contributed). Every finding is a warning: the input is valid, Flatpak
//! accepts it, but part of it does nothing or is not what it seems.

use std::collections::{BTreeMap, HashMap};

use portcullis_ir::context::BusEntry;
use portcullis_ir::context::{Device, Feature, Share, Socket};
use portcullis_ir::dbus::{Bus, BusName, BusPolicy};
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::Context;

use super::fs::exposed_by_host;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::lower::{Fact, FactKind};

/// All document-wide findings (without a source file attached).
pub fn check(facts: &[Fact], context: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    duplicates_and_negations(facts, &mut out);
    shadowing(facts, context, &mut out);
    interactions(facts, context, &mut out);
    out
}

/// What a statement is about, regardless of the mode, policy or value it gives: two facts
/// with the same target are a repetition or a grant and its negation.
#[derive(PartialEq, Eq, Hash)]
enum Target<'a> {
    Fs(&'a FsKey),
    Bus(Bus, &'a BusName),
    Env(&'a str),
    Other(&'a FactKind),
}

fn target(kind: &FactKind) -> Target<'_> {
    match kind {
        FactKind::Fs(key, _) => Target::Fs(key),
        FactKind::Bus(bus, name, _) => Target::Bus(*bus, name),
        FactKind::Env(name, _) => Target::Env(name),
        other => Target::Other(other),
    }
}

fn describe(kind: &FactKind) -> String {
    match kind {
        FactKind::Share(s) => format!("share {s}"),
        FactKind::Socket(s) => format!("socket {s}"),
        FactKind::Device(d) => format!("device {d}"),
        FactKind::Feature(f) => format!("allow {f}"),
        FactKind::Fs(k, _) => format!("filesystem {k}"),
        FactKind::Bus(_, n, _) => format!("name {n}"),
        FactKind::Env(n, _) => format!("env {n}"),
        FactKind::Persist(p) => format!("persist {p}"),
    }
}

fn duplicates_and_negations(facts: &[Fact], out: &mut Vec<Diagnostic>) {
    // The latest fact seen for each target: one pass, linear in the number of facts.
    let mut latest: HashMap<Target<'_>, &Fact> = HashMap::with_capacity(facts.len());
    for later in facts {
        let earlier = latest.insert(target(&later.kind), later);
        if matches!(later.kind, FactKind::Fs(FsKey::HostReset, _)) {
            continue;
        }
        let Some(earlier) = earlier else {
            continue;
        };
        let what = describe(&later.kind);
        if earlier.kind == later.kind && earlier.enabled == later.enabled {
            out.push(
                Diagnostic::warning(Code::Duplicate, format!("`{what}` is stated twice"))
                    .with_label(later.value_span, "repeated here")
                    .with_label(earlier.value_span, "first stated here")
                    .with_help("remove the repetition"),
            );
        } else if earlier.enabled != later.enabled {
            let (on, off) = match later.kind {
                FactKind::Env(..) => ("set", "unset"),
                _ => ("granted", "revoked"),
            };
            let (verb, undone) = if later.enabled { (on, off) } else { (off, on) };
            out.push(
                Diagnostic::warning(
                    Code::GrantAndNegation,
                    format!("`{what}` is {undone} and then {verb} in the same document"),
                )
                .with_label(later.value_span, format!("{verb} here, this one wins"))
                .with_label(earlier.value_span, format!("{undone} here, without effect"))
                .with_help("keep only the statement you mean"),
            );
        }
    }
}

fn fs_grants(facts: &[Fact]) -> impl Iterator<Item = (&FsKey, FsMode, &Fact)> {
    facts.iter().filter_map(|f| match &f.kind {
        FactKind::Fs(key, mode) if *mode > FsMode::None => Some((key, *mode, f)),
        _ => None,
    })
}

fn shadowing(facts: &[Fact], context: &Context, out: &mut Vec<Diagnostic>) {
    let host = context.fs_mode(&FsKey::Host);
    let home = context.fs_mode(&FsKey::Home).max(host);
    for (key, mode, fact) in fs_grants(facts) {
        let (broader, broader_mode) = match key {
            FsKey::Home | FsKey::HostOs | FsKey::HostEtc => ("host", host),
            FsKey::HomePath(_) => ("home", home),
            FsKey::Absolute(path) if exposed_by_host(path) => ("host", host),
            _ => continue,
        };
        if broader_mode >= mode && broader_mode > FsMode::None {
            out.push(
                Diagnostic::warning(
                    Code::Shadowed,
                    format!("`{key}` is already granted by `{broader}`"),
                )
                .with_label(fact.value_span, format!("covered by `{broader}`"))
                .with_help(format!(
                    "remove it, or narrow `{broader}` if this is all the app needs"
                )),
            );
        }
    }
}

fn first<'a>(facts: &'a [Fact], wanted: &FactKind) -> Option<&'a Fact> {
    facts.iter().rev().find(|f| f.enabled && f.kind == *wanted)
}

fn interactions(facts: &[Fact], context: &Context, out: &mut Vec<Diagnostic>) {
    if context.has_socket(Socket::FallbackX11) {
        if let Some(x11) = first(facts, &FactKind::Socket(Socket::X11)) {
            out.push(
                Diagnostic::warning(Code::FallbackWithX11, "`x11` together with `fallback-x11`")
                    .with_label(x11.value_span, "ignored: fallback-x11 decides X11 at run time")
                    .with_help("drop `socket x11`; fallback-x11 gives X11 exactly when there is no Wayland"),
            );
        }
    }
    if context.has_device(Device::All) {
        for device in [Device::Dri, Device::Kvm, Device::Input, Device::Usb] {
            if let Some(fact) = first(facts, &FactKind::Device(device)) {
                out.push(
                    Diagnostic::warning(
                        Code::DeviceAllRedundant,
                        format!("`device {device}` is a no-op with `device all`"),
                    )
                    .with_label(fact.value_span, "already covered by all")
                    .with_help("remove it, or drop `device all` for a narrower grant"),
                );
            }
        }
    }
    if context.has_home_access() {
        for fact in facts
            .iter()
            .filter(|f| matches!(f.kind, FactKind::Persist(_)))
        {
            out.push(
                Diagnostic::warning(
                    Code::PersistWithHome,
                    format!(
                        "`{}` is ignored because the app has home access",
                        describe(&fact.kind)
                    ),
                )
                .with_label(fact.value_span, "no effect with home or host")
                .with_help("persist only applies to apps without home access"),
            );
        }
    }
    if context.has_device(Device::Shm) {
        if let Some(fact) = first(facts, &FactKind::Feature(Feature::PerAppDevShm)) {
            out.push(
                Diagnostic::warning(
                    Code::PerAppDevShmWithShm,
                    "`per-app-dev-shm` is ignored with `device shm`",
                )
                .with_label(fact.value_span, "no effect")
                .with_help("choose one: the host's /dev/shm (device shm) or a per-app one"),
            );
        }
    }
    if !context.has_socket(Socket::Wayland) {
        if let Some(fact) = first(facts, &FactKind::Socket(Socket::InheritWaylandSocket)) {
            out.push(
                Diagnostic::warning(
                    Code::InheritWaylandWithoutWayland,
                    "`inherit-wayland-socket` has no effect without `socket wayland`",
                )
                .with_label(fact.value_span, "no effect")
                .with_help("add `socket wayland` or remove this"),
            );
        }
    }
    if !context.has_share(Share::Network) {
        for feature in [Feature::Bluetooth, Feature::Canbus] {
            if let Some(fact) = first(facts, &FactKind::Feature(feature)) {
                out.push(
                    Diagnostic::warning(
                        Code::NeedsNetwork,
                        format!("`allow {feature}` without `share network`"),
                    )
                    .with_label(
                        fact.value_span,
                        "the socket family is allowed, but the network namespace is private",
                    )
                    .with_help("add `share network` if the app needs the device"),
                );
            }
        }
    }
    bus_interactions(facts, context, out);
}

fn bus_interactions(facts: &[Fact], context: &Context, out: &mut Vec<Diagnostic>) {
    let full = |bus: Bus| match bus {
        Bus::Session => context.has_socket(Socket::SessionBus),
        Bus::System => context.has_socket(Socket::SystemBus),
        Bus::Accessibility => false,
    };
    let session = granted_names(&context.session_bus);
    let system = granted_names(&context.system_bus);
    let a11y = granted_names(&context.a11y_bus);
    for fact in facts {
        let FactKind::Bus(bus, name, policy) = &fact.kind else {
            continue;
        };
        if full(*bus) && *policy > BusPolicy::None {
            let socket = if *bus == Bus::Session {
                "session-bus"
            } else {
                "system-bus"
            };
            out.push(
                Diagnostic::warning(
                    Code::BusPolicyUnderFullBus,
                    format!(
                        "the rule for `{name}` is ignored: `socket {socket}` grants the whole bus"
                    ),
                )
                .with_label(fact.value_span, "no proxy, no filtering")
                .with_help(format!(
                    "drop `socket {socket}` so that the proxy enforces the name rules"
                )),
            );
        }
        if *policy == BusPolicy::None {
            let granting = match bus {
                Bus::Session => &session,
                Bus::System => &system,
                Bus::Accessibility => &a11y,
            };
            if let Some(wildcard) = covering_grant(granting, name) {
                out.push(
                    Diagnostic::warning(
                        Code::NoneUnderWildcard,
                        format!("`{name}` stays reachable through `{wildcard}`"),
                    )
                    .with_label(fact.value_span, "does not subtract from the wildcard")
                    .with_help("the proxy takes the highest policy of every matching rule; narrow the wildcard instead"),
                );
            }
        }
    }
}

/// The names a bus map grants something to, by their text.
fn granted_names(map: &BTreeMap<BusName, BusEntry>) -> HashMap<&str, &BusName> {
    map.iter()
        .filter(|(_, entry)| entry.policy > BusPolicy::None)
        .map(|(name, _)| (name.as_str(), name))
        .collect()
}

/// The first granted rule (in name order) other than `name` that covers `name`'s base: the
/// base itself, or a wildcard on the base or on one of its dot-prefixes. Looks up each
/// candidate instead of scanning every rule, so checking every name stays linear.
fn covering_grant<'a>(granted: &HashMap<&str, &'a BusName>, name: &BusName) -> Option<&'a BusName> {
    let base = name.as_str().trim_end_matches(".*");
    let prefixes = base
        .match_indices('.')
        .map(|(at, _)| &base[..at])
        .chain(std::iter::once(base));
    let wildcards = prefixes.filter_map(|prefix| granted.get(format!("{prefix}.*").as_str()));
    granted
        .get(base)
        .into_iter()
        .chain(wildcards)
        .copied()
        .filter(|other| *other != name)
        .min()
}
