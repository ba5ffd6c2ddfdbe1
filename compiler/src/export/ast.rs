//! IR to a policy-language AST in canonical order, for the syntax crate's printer (what
//! `portcullis import` prints).
//!
//! Order: shares, sockets, devices, features, filesystems (deny masks attached to the
//! grant that covers them), persist, env, bus names (session, system, accessibility),
//! generic policies, USB queries, then the beyond-Flatpak layers. The language reads
//! `socket fallback-x11` with command-line meaning (it also sets x11), so an x11 bit that
//! merely mirrors fallback-x11 is not written twice.

use portcullis_ir::beyond::{BusRuleKind, Level, Requirements};
use portcullis_ir::dbus::{Bus as IrBus, BusPolicy};
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::identity::Kind;
use portcullis_ir::Policy;
use portcullis_syntax::ast::{
    Bus, BusPolicyWord, Dialect, Document, Extension, Header, HeaderKind, InputKind, Item,
    ItemKind, RequirementWord,
};
use portcullis_syntax::{Span, Spanned};

use crate::check::fs::{exposed_by_host, unparse};

fn s(text: impl Into<String>) -> Spanned<String> {
    Spanned::new(text.into(), Span::default())
}

fn item(kind: ItemKind) -> Item {
    Item {
        kind,
        span: Span::default(),
        dialect: Dialect::Policy,
        leading_comments: Vec::new(),
    }
}

fn header(policy: &Policy) -> Header {
    let identity = &policy.identity;
    Header {
        kind: Some(match identity.kind {
            Kind::App => HeaderKind::App,
            Kind::Runtime => HeaderKind::Runtime,
            Kind::Fragment => HeaderKind::Fragment,
        }),
        id: identity.id.clone().map(s),
        runtime: identity.runtime.clone().map(s),
        runtime_version: identity.runtime_version.clone().map(s),
        sdk: identity.sdk.clone().map(s),
        command: identity.command.clone().map(s),
        base: identity.base.clone().map(s),
        sdk_extensions: identity.sdk_extensions.iter().cloned().map(s).collect(),
        extensions: identity
            .extensions
            .iter()
            .map(|e| Extension {
                name: s(e.name.clone()),
                directory: e.directory.clone().map(s),
                properties: e
                    .properties
                    .iter()
                    .map(|(k, v)| (s(k.clone()), s(v.clone())))
                    .collect(),
                span: Span::default(),
            })
            .collect(),
        ..Header::default()
    }
}

/// Whether a deny mask lies inside what a filesystem key grants.
fn covers(key: &FsKey, mask: &str) -> bool {
    match key {
        FsKey::Home => mask.starts_with("~/"),
        FsKey::Host => mask.starts_with("~/") || (mask.starts_with('/') && exposed_by_host(mask)),
        FsKey::HomePath(p) => mask
            .strip_prefix("~/")
            .is_some_and(|m| m.starts_with(&format!("{p}/"))),
        FsKey::Absolute(p) => mask.starts_with(&format!("{p}/")),
        _ => false,
    }
}

/// The AST for a policy.
pub fn document(policy: &Policy) -> Document {
    let context = &policy.context;
    let mut items = Vec::new();
    for (on, _, words) in super::bitsets(context) {
        let words = if on == "socket" {
            super::cli_order(words, true)
        } else {
            words
        };
        for (word, enabled) in words {
            let value = s(word);
            let negated = !enabled;
            items.push(item(match on {
                "share" => ItemKind::Share { negated, value },
                "socket" => ItemKind::Socket { negated, value },
                "device" => ItemKind::Device { negated, value },
                _ => ItemKind::Allow { negated, value },
            }));
        }
    }
    let mut masks: Vec<&str> = policy.beyond.deny.iter().map(|d| d.path.as_str()).collect();
    for (key, entry) in &context.filesystems {
        if *key == FsKey::Host
            && context.filesystems.contains_key(&FsKey::HostReset)
            && entry.mode == FsMode::None
        {
            continue;
        }
        let text = unparse(key, entry.mode);
        let (negated, value) = match text.strip_prefix('!') {
            Some(rest) => (true, rest.to_string()),
            None => (false, text),
        };
        let mut except = Vec::new();
        if entry.mode > FsMode::None {
            masks.retain(|m| {
                let inside = covers(key, m);
                if inside {
                    except.push(s(*m));
                }
                !inside
            });
        }
        items.push(item(ItemKind::Filesystem {
            negated,
            value: s(value),
            except,
        }));
    }
    for path in context.persistent.keys() {
        items.push(item(ItemKind::Persist {
            path: s(path.clone()),
        }));
    }
    for (name, entry) in &context.env {
        items.push(item(match &entry.value {
            Some(value) => ItemKind::Env {
                raw: s(format!("{name}={value}")),
            },
            None => ItemKind::UnsetEnv {
                name: s(name.clone()),
            },
        }));
    }
    for (bus, map) in [
        (Bus::Session, &context.session_bus),
        (Bus::System, &context.system_bus),
        (Bus::Accessibility, &context.a11y_bus),
    ] {
        for (name, entry) in map {
            let policy = match entry.policy {
                BusPolicy::None => BusPolicyWord::None,
                BusPolicy::See => BusPolicyWord::See,
                BusPolicy::Talk => BusPolicyWord::Talk,
                BusPolicy::Own => BusPolicyWord::Own,
            };
            items.push(item(ItemKind::BusName {
                bus,
                policy,
                name: s(name.as_str()),
            }));
        }
    }
    for (key, values) in &context.generic_policy {
        for value in values {
            items.push(item(ItemKind::GenericPolicy {
                remove: value.removed,
                raw: s(format!("{key}={}", value.value)),
            }));
        }
    }
    for (hidden, set) in [
        (false, &context.usb_enumerable),
        (true, &context.usb_hidden),
    ] {
        for query in set {
            items.push(item(ItemKind::Usb {
                hidden,
                query: s(query.clone()),
            }));
        }
    }
    beyond(policy, &mut items);
    Document {
        input: InputKind::Policy,
        header: Some(header(policy)),
        items,
        trailing_comments: Vec::new(),
    }
}

fn beyond(policy: &Policy, items: &mut Vec<Item>) {
    let beyond = &policy.beyond;
    if let Some(net) = &beyond.network {
        for (direction, ranges) in [("connect", &net.connect), ("bind", &net.bind)] {
            items.push(item(ItemKind::NetworkRule {
                direction: s(direction),
                ports: ranges
                    .iter()
                    .map(|r| Spanned::new((r.first, r.last), Span::default()))
                    .collect(),
            }));
        }
        if net.udp_none {
            items.push(item(ItemKind::NetworkRule {
                direction: s("udp"),
                ports: Vec::new(),
            }));
        }
    }
    if beyond.io_uring.is_some() {
        items.push(item(ItemKind::Allow {
            negated: false,
            value: s(crate::lower::IO_URING),
        }));
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
            let value = match name {
                "cpu-time" => format!("{}s", limit.value),
                "cpu-share" => format!("{}%", limit.value),
                _ => limit.value.to_string(),
            };
            items.push(item(ItemKind::Limit {
                name: s(name),
                value: s(value),
            }));
        }
    }
    for node in &beyond.device_nodes {
        let path = if node.writable {
            node.path.clone()
        } else {
            format!("{}:ro", node.path)
        };
        items.push(item(ItemKind::DeviceNode { path: s(path) }));
    }
    for rule in &beyond.bus_rules {
        items.push(item(ItemKind::BusRule {
            bus: match rule.bus {
                IrBus::Session => Bus::Session,
                IrBus::System => Bus::System,
                IrBus::Accessibility => Bus::Accessibility,
            },
            broadcast: rule.kind == BusRuleKind::Broadcast,
            raw: s(format!("{}={}", rule.name, rule.rule)),
        }));
    }
    let defaults = Requirements::default();
    let r = &beyond.requirements;
    for (feature, level, default) in [
        ("landlock", r.landlock, defaults.landlock),
        (
            "landlock-network",
            r.landlock_network,
            defaults.landlock_network,
        ),
        (
            "scope-abstract-unix",
            r.scope_abstract_unix,
            defaults.scope_abstract_unix,
        ),
        ("scope-signal", r.scope_signal, defaults.scope_signal),
        ("limits", r.limits, defaults.limits),
    ] {
        let word = match level {
            Level::Required => RequirementWord::Required,
            Level::BestEffort => RequirementWord::BestEffort,
            Level::Off => continue,
        };
        if level != default {
            items.push(item(ItemKind::Require {
                feature: s(feature),
                level: word,
            }));
        }
    }
}
