//! The D-Bus checks on hand-written sections.

use portcullis_blob::dbus::{BusAccess, BusKind, BusRoute, DbusSection};
use portcullis_ir::context::{BusEntry, Setting, Socket};
use portcullis_ir::dbus::{BusName, BusPolicy};
use portcullis_ir::{Origin, Policy};

use super::{verify, FindingKind};

const A11Y: [&str; 9] = [
    "--filter",
    "--sloppy-names",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.Socket.Embed@/org/a11y/atspi/accessible/root",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.Socket.Unembed@/org/a11y/atspi/accessible/root",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.Registry.GetRegisteredEvents@/org/a11y/atspi/registry",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.GetKeystrokeListeners@/org/a11y/atspi/registry/deviceeventcontroller",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.GetDeviceEventListeners@/org/a11y/atspi/registry/deviceeventcontroller",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.NotifyListenersSync@/org/a11y/atspi/registry/deviceeventcontroller",
    "--call=org.a11y.atspi.Registry=org.a11y.atspi.DeviceEventController.NotifyListenersAsync@/org/a11y/atspi/registry/deviceeventcontroller",
];

fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.identity.id = Some("org.x.App".into());
    policy.context.session_bus.insert(
        BusName::new("org.foo.Bar").unwrap(),
        BusEntry {
            policy: BusPolicy::Talk,
            origin: Origin::default(),
        },
    );
    policy
}

fn session_args() -> Vec<String> {
    [
        "--filter",
        "--own=org.x.App.*",
        "--own=org.mpris.MediaPlayer2.org.x.App.*",
        "--talk=org.foo.Bar",
        "--call=org.freedesktop.portal.*=*",
        "--broadcast=org.freedesktop.portal.*=@/org/freedesktop/portal/*",
    ]
    .map(String::from)
    .to_vec()
}

fn section(session: Vec<String>) -> DbusSection {
    DbusSection {
        routes: vec![
            BusRoute {
                bus: BusKind::Session,
                access: BusAccess::Proxy { args: session },
            },
            BusRoute {
                bus: BusKind::Accessibility,
                access: BusAccess::Proxy {
                    args: A11Y.map(String::from).to_vec(),
                },
            },
        ],
    }
}

fn kinds(section: &DbusSection, policy: &Policy) -> Vec<FindingKind> {
    verify(section, policy)
        .into_iter()
        .map(|f| f.kind)
        .collect()
}

#[test]
fn a_faithful_section_passes() {
    assert_eq!(verify(&section(session_args()), &policy()), vec![]);
    // Order does not matter to the proxy, nor to the check.
    let mut args = session_args();
    args[1..].reverse();
    assert_eq!(verify(&section(args), &policy()), vec![]);
}

#[test]
fn a_broader_wildcard_is_caught() {
    let mut args = session_args();
    args[3] = "--talk=org.foo.*".into();
    let findings = verify(&section(args), &policy());
    // The narrower grant is covered by the wildcard, so nothing is missing.
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].kind, FindingKind::Broader);
    assert!(findings[0].message.contains("broader wildcard"));
    // Own where the policy says talk is broader too.
    let mut args = session_args();
    args[3] = "--own=org.foo.Bar".into();
    assert_eq!(kinds(&section(args), &policy()), vec![FindingKind::Broader]);
}

#[test]
fn a_missing_implicit_rule_is_caught() {
    let mut args = session_args();
    args.remove(2);
    let findings = verify(&section(args), &policy());
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, FindingKind::MissingRule);
    assert!(findings[0].message.contains("MPRIS"));
}

#[test]
fn no_filter_means_unfiltered() {
    let mut args = session_args();
    args.remove(0);
    assert_eq!(
        kinds(&section(args), &policy()),
        vec![FindingKind::Unfiltered]
    );
}

#[test]
fn direct_socket_without_grant_is_unfiltered() {
    let mut s = section(session_args());
    s.routes[0].access = BusAccess::Direct;
    assert_eq!(kinds(&s, &policy()), vec![FindingKind::Unfiltered]);

    let mut granted = policy();
    granted.context.sockets.insert(
        Socket::SessionBus,
        Setting {
            enabled: true,
            origin: Origin::default(),
        },
    );
    assert_eq!(kinds(&s, &granted), vec![]);
}

#[test]
fn a_system_bus_without_system_names_is_unexpected() {
    let mut s = section(session_args());
    s.routes.insert(
        1,
        BusRoute {
            bus: BusKind::System,
            access: BusAccess::Proxy {
                args: vec!["--filter".into()],
            },
        },
    );
    assert_eq!(kinds(&s, &policy()), vec![FindingKind::UnexpectedBus]);
}

#[test]
fn invalid_names_are_rejected() {
    let mut args = session_args();
    args.push("--see=org.*".into());
    assert_eq!(
        kinds(&section(args), &policy()),
        vec![FindingKind::Rejected]
    );
}
