//! What the IR means on each bus, derived from the policy alone (semantics §6): which
//! buses the sandbox gets, how, and the filters a correct proxy must hold. Written
//! independently of the backend, which it checks.

use std::collections::BTreeMap;

use portcullis_blob::dbus::BusKind;
use portcullis_ir::beyond::BusRuleKind;
use portcullis_ir::context::{BusEntry, Socket};
use portcullis_ir::dbus::{Bus, BusName, BusPolicy};
use portcullis_ir::Policy;

use super::model::Filter;

/// How a bus should reach the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Not at all.
    Absent,
    /// The host socket, unfiltered.
    Direct,
    /// A filtering proxy holding exactly these filters (up to equivalence).
    Filtered {
        /// The filters, each with a few words on why it is expected.
        filters: Vec<(Filter, String)>,
        /// Whether `--sloppy-names` is expected (the accessibility bus).
        sloppy_names: bool,
    },
}

/// Flatpak's AT-SPI rules: (interface.member, path) on `org.a11y.atspi.Registry`.
const A11Y_REGISTRY_CALLS: [(&str, &str); 7] = [
    (
        "org.a11y.atspi.Socket.Embed",
        "/org/a11y/atspi/accessible/root",
    ),
    (
        "org.a11y.atspi.Socket.Unembed",
        "/org/a11y/atspi/accessible/root",
    ),
    (
        "org.a11y.atspi.Registry.GetRegisteredEvents",
        "/org/a11y/atspi/registry",
    ),
    (
        "org.a11y.atspi.DeviceEventController.GetKeystrokeListeners",
        "/org/a11y/atspi/registry/deviceeventcontroller",
    ),
    (
        "org.a11y.atspi.DeviceEventController.GetDeviceEventListeners",
        "/org/a11y/atspi/registry/deviceeventcontroller",
    ),
    (
        "org.a11y.atspi.DeviceEventController.NotifyListenersSync",
        "/org/a11y/atspi/registry/deviceeventcontroller",
    ),
    (
        "org.a11y.atspi.DeviceEventController.NotifyListenersAsync",
        "/org/a11y/atspi/registry/deviceeventcontroller",
    ),
];

fn map_filters(map: &BTreeMap<BusName, BusEntry>, out: &mut Vec<(Filter, String)>) {
    for (name, entry) in map {
        if entry.policy > BusPolicy::None {
            out.push((
                Filter::name_rule(name.as_str(), entry.policy),
                format!("{}-name {name}", entry.policy.name()),
            ));
        }
    }
}

fn rule_filters(policy: &Policy, bus: Bus, out: &mut Vec<(Filter, String)>) {
    for rule in policy.beyond.bus_rules.iter().filter(|r| r.bus == bus) {
        let broadcast = rule.kind == BusRuleKind::Broadcast;
        let word = if broadcast { "broadcast" } else { "call" };
        out.push((
            Filter::message_rule(rule.name.as_str(), broadcast, &rule.rule),
            format!("dbus-{word} {}={}", rule.name, rule.rule),
        ));
    }
}

fn has_socket(policy: &Policy, socket: Socket) -> bool {
    policy.context.has_socket(socket)
}

/// The expected route of `bus` for `policy`.
pub fn expected(policy: &Policy, bus: BusKind) -> Expected {
    let app = policy.app_id();
    let mut filters = Vec::new();
    match bus {
        BusKind::Session => {
            if has_socket(policy, Socket::SessionBus) {
                return Expected::Direct;
            }
            filters.push((
                Filter::name_rule(&format!("{app}.*"), BusPolicy::Own),
                "the app's own names".to_string(),
            ));
            filters.push((
                Filter::name_rule(&format!("org.mpris.MediaPlayer2.{app}.*"), BusPolicy::Own),
                "the app's MPRIS name".to_string(),
            ));
            map_filters(&policy.context.session_bus, &mut filters);
            filters.push((
                Filter::message_rule("org.freedesktop.portal.*", false, "*"),
                "portal calls".to_string(),
            ));
            filters.push((
                Filter::message_rule(
                    "org.freedesktop.portal.*",
                    true,
                    "@/org/freedesktop/portal/*",
                ),
                "portal broadcasts".to_string(),
            ));
            rule_filters(policy, Bus::Session, &mut filters);
            Expected::Filtered {
                filters,
                sloppy_names: false,
            }
        }
        BusKind::System => {
            if has_socket(policy, Socket::SystemBus) {
                return Expected::Direct;
            }
            let has_rules = policy.beyond.bus_rules.iter().any(|r| r.bus == Bus::System);
            if policy.context.system_bus.is_empty() && !has_rules {
                return Expected::Absent;
            }
            map_filters(&policy.context.system_bus, &mut filters);
            rule_filters(policy, Bus::System, &mut filters);
            Expected::Filtered {
                filters,
                sloppy_names: false,
            }
        }
        BusKind::Accessibility => {
            for (method, path) in A11Y_REGISTRY_CALLS {
                filters.push((
                    Filter::message_rule(
                        "org.a11y.atspi.Registry",
                        false,
                        &format!("{method}@{path}"),
                    ),
                    "accessibility registry".to_string(),
                ));
            }
            if !policy.context.a11y_bus.is_empty() {
                map_filters(&policy.context.a11y_bus, &mut filters);
                filters.push((
                    Filter::message_rule(
                        &format!("{app}.Sandboxed.*"),
                        false,
                        "org.a11y.atspi.Socket.Embedded",
                    ),
                    "embedding sub-sandboxes".to_string(),
                ));
            }
            rule_filters(policy, Bus::Accessibility, &mut filters);
            Expected::Filtered {
                filters,
                sloppy_names: true,
            }
        }
    }
}
