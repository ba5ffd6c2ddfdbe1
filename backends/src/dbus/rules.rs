//! Flatpak's per-bus decision and argument lists (`flatpak_run_add_*_dbus_args` and
//! `flatpak_context_add_bus_filters` in Flatpak 1.14), plus the fine-grained rules.

use std::collections::BTreeMap;

use portcullis_blob::dbus::BusKind;
use portcullis_ir::beyond::BusRuleKind;
use portcullis_ir::context::{BusEntry, Socket};
use portcullis_ir::dbus::{Bus, BusName, BusPolicy};
use portcullis_ir::{Origin, Policy};

use super::hash_order::iteration_order;
use super::{Access, ProxyArg, Route, Why};

/// The portal call rule every filtered session bus gets.
pub const PORTAL_CALL: &str = "--call=org.freedesktop.portal.*=*";

/// The portal broadcast rule every filtered session bus gets.
pub const PORTAL_BROADCAST: &str =
    "--broadcast=org.freedesktop.portal.*=@/org/freedesktop/portal/*";

/// Flatpak 1.14's fixed AT-SPI call rules on the accessibility bus.
pub const A11Y_CALLS: [&str; 7] = [
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.Socket.Embed@/org/a11y/atspi/accessible/root",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.Socket.Unembed@/org/a11y/atspi/accessible/root",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.Registry.GetRegisteredEvents@/org/a11y/atspi/registry",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.GetKeystrokeListeners@/org/a11y/atspi/registry/deviceeventcontroller",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.GetDeviceEventListeners@/org/a11y/atspi/registry/deviceeventcontroller",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.NotifyListenersSync@/org/a11y/atspi/registry/deviceeventcontroller",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.NotifyListenersAsync@/org/a11y/atspi/registry/deviceeventcontroller",
];

fn arg(text: String, why: Why) -> ProxyArg {
    ProxyArg { arg: text, why }
}

fn route(bus: BusKind, access: Access) -> Route {
    Route {
        bus,
        socket: bus.sandbox_socket(),
        access,
    }
}

/// One `--see/--talk/--own` per entry above `none`, in Flatpak's hash-table order.
fn policy_entries(map: &BTreeMap<BusName, BusEntry>, out: &mut Vec<ProxyArg>) {
    let keys: Vec<(&BusName, &BusEntry)> = map.iter().collect();
    for index in iteration_order(keys.iter().map(|(name, _)| name.as_str())) {
        let (name, entry) = keys[index];
        if entry.policy > BusPolicy::None {
            out.push(arg(
                format!("--{}={}", entry.policy.name(), name),
                Why::Grant {
                    origin: entry.origin,
                },
            ));
        }
    }
}

/// The policy's fine-grained rules for `bus`, in policy order.
fn fine_rules(policy: &Policy, bus: Bus, out: &mut Vec<ProxyArg>) {
    for rule in policy.beyond.bus_rules.iter().filter(|r| r.bus == bus) {
        let option = match rule.kind {
            BusRuleKind::Call => "call",
            BusRuleKind::Broadcast => "broadcast",
        };
        out.push(arg(
            format!("--{option}={}={}", rule.name, rule.rule),
            Why::Rule {
                origin: rule.origin,
            },
        ));
    }
}

fn rule_origins(policy: &Policy, bus: Bus) -> impl Iterator<Item = Origin> + '_ {
    policy
        .beyond
        .bus_rules
        .iter()
        .filter(move |r| r.bus == bus)
        .map(|r| r.origin)
}

fn socket_origin(policy: &Policy, socket: Socket) -> Option<Origin> {
    policy
        .context
        .sockets
        .get(&socket)
        .filter(|s| s.enabled)
        .map(|s| s.origin)
}

/// The session bus: direct with `socket=session-bus`, else the filtered proxy.
pub(super) fn session(policy: &Policy, unused: &mut Vec<Origin>) -> Route {
    if let Some(origin) = socket_origin(policy, Socket::SessionBus) {
        unused.extend(rule_origins(policy, Bus::Session));
        return route(BusKind::Session, Access::Direct { origin });
    }
    let app_id = policy.app_id();
    let mut args = vec![
        arg("--filter".into(), Why::Filtering),
        arg(format!("--own={app_id}.*"), Why::AppId),
        arg(
            format!("--own=org.mpris.MediaPlayer2.{app_id}.*"),
            Why::Mpris,
        ),
    ];
    policy_entries(&policy.context.session_bus, &mut args);
    args.push(arg(PORTAL_CALL.into(), Why::Portal));
    args.push(arg(PORTAL_BROADCAST.into(), Why::Portal));
    fine_rules(policy, Bus::Session, &mut args);
    route(BusKind::Session, Access::Proxy { args })
}

/// The system bus: direct with `socket=system-bus`, a proxy when the system map (or a
/// fine-grained system rule) says anything, else none.
pub(super) fn system(policy: &Policy, unused: &mut Vec<Origin>) -> Route {
    if let Some(origin) = socket_origin(policy, Socket::SystemBus) {
        unused.extend(rule_origins(policy, Bus::System));
        return route(BusKind::System, Access::Direct { origin });
    }
    let has_rules = rule_origins(policy, Bus::System).next().is_some();
    if policy.context.system_bus.is_empty() && !has_rules {
        return route(
            BusKind::System,
            Access::Absent {
                reason: "the policy has no system-bus names".into(),
            },
        );
    }
    let mut args = vec![arg("--filter".into(), Why::Filtering)];
    policy_entries(&policy.context.system_bus, &mut args);
    fine_rules(policy, Bus::System, &mut args);
    route(BusKind::System, Access::Proxy { args })
}

/// The accessibility bus: Flatpak's fixed AT-SPI rules, then the 1.15.11 own names.
pub(super) fn accessibility(policy: &Policy, _unused: &mut Vec<Origin>) -> Route {
    let mut args = vec![
        arg("--filter".into(), Why::Filtering),
        arg("--sloppy-names".into(), Why::Filtering),
    ];
    args.extend(
        A11Y_CALLS
            .iter()
            .map(|c| arg(c.to_string(), Why::Accessibility)),
    );
    if !policy.context.a11y_bus.is_empty() {
        args.push(arg("--filter".into(), Why::Filtering));
        policy_entries(&policy.context.a11y_bus, &mut args);
        args.push(arg(
            format!(
                "--call={}.Sandboxed.*=org.a11y.atspi.Socket.Embedded",
                policy.app_id()
            ),
            Why::Accessibility,
        ));
    }
    fine_rules(policy, Bus::Accessibility, &mut args);
    route(BusKind::Accessibility, Access::Proxy { args })
}
