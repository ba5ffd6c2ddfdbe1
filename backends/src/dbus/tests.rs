//! The D-Bus conformance cases of the semantics (§7.6, D-1 … D-10) against the backend.

use portcullis_blob::dbus::{BusAccess, BusKind};
use portcullis_ir::beyond::{BusRule, BusRuleKind};
use portcullis_ir::context::{BusEntry, Setting, Socket};
use portcullis_ir::dbus::{Bus, BusName, BusPolicy};
use portcullis_ir::{Origin, Policy};

use super::{section, PORTAL_BROADCAST, PORTAL_CALL};

fn app(id: &str) -> Policy {
    let mut policy = Policy::default();
    policy.identity.id = Some(id.to_string());
    policy
}

fn name(text: &str) -> BusName {
    BusName::new(text).unwrap()
}

fn entry(policy: BusPolicy) -> BusEntry {
    BusEntry {
        policy,
        origin: Origin::default(),
    }
}

fn grant_socket(policy: &mut Policy, socket: Socket) {
    policy.context.sockets.insert(
        socket,
        Setting {
            enabled: true,
            origin: Origin::default(),
        },
    );
}

fn proxy_args(policy: &Policy, bus: BusKind) -> Option<Vec<String>> {
    match &section(policy).route(bus)?.access {
        BusAccess::Proxy { args } => Some(args.clone()),
        BusAccess::Direct => None,
    }
}

fn d1() -> Vec<String> {
    vec![
        "--filter".into(),
        "--own=org.x.App.*".into(),
        "--own=org.mpris.MediaPlayer2.org.x.App.*".into(),
        PORTAL_CALL.into(),
        PORTAL_BROADCAST.into(),
    ]
}

#[test]
fn d1_no_bus_permissions() {
    let policy = app("org.x.App");
    assert_eq!(proxy_args(&policy, BusKind::Session), Some(d1()));
}

#[test]
fn d2_d3_talk_and_see_are_added_after_the_implicit_names() {
    let mut policy = app("org.x.App");
    let bus = &mut policy.context.session_bus;
    bus.insert(name("org.gnome.Shell.*"), entry(BusPolicy::Talk));
    let mut expected = d1();
    expected.insert(3, "--talk=org.gnome.Shell.*".into());
    assert_eq!(proxy_args(&policy, BusKind::Session), Some(expected));

    let mut policy = app("org.x.App");
    let bus = &mut policy.context.session_bus;
    bus.insert(name("org.foo"), entry(BusPolicy::See));
    let mut expected = d1();
    expected.insert(3, "--see=org.foo".into());
    assert_eq!(proxy_args(&policy, BusKind::Session), Some(expected));
}

#[test]
fn d4_session_bus_socket_is_direct() {
    let mut policy = app("org.x.App");
    grant_socket(&mut policy, Socket::SessionBus);
    let bus = &mut policy.context.session_bus;
    bus.insert(name("org.x.Other"), entry(BusPolicy::Talk));
    let section = section(&policy);
    assert_eq!(
        section.route(BusKind::Session).unwrap().access,
        BusAccess::Direct
    );
}

#[test]
fn d6_d7_d8_system_bus_only_with_system_entries() {
    let policy = app("org.x.App");
    assert!(section(&policy).route(BusKind::System).is_none());

    let mut policy = app("org.x.App");
    let bus = &mut policy.context.system_bus;
    bus.insert(name("org.freedesktop.login1"), entry(BusPolicy::Talk));
    assert_eq!(
        proxy_args(&policy, BusKind::System),
        Some(vec![
            "--filter".to_string(),
            "--talk=org.freedesktop.login1".into()
        ])
    );

    let mut policy = app("org.x.App");
    let bus = &mut policy.context.system_bus;
    bus.insert(name("org.a.B"), entry(BusPolicy::None));
    assert_eq!(
        proxy_args(&policy, BusKind::System),
        Some(vec!["--filter".to_string()])
    );
}

#[test]
fn system_bus_socket_is_direct() {
    let mut policy = app("org.x.App");
    grant_socket(&mut policy, Socket::SystemBus);
    let bus = &mut policy.context.system_bus;
    bus.insert(name("org.a.B"), entry(BusPolicy::Talk));
    assert_eq!(
        section(&policy).route(BusKind::System).unwrap().access,
        BusAccess::Direct
    );
}

#[test]
fn d9_none_is_not_emitted() {
    let mut policy = app("org.x.App");
    let bus = &mut policy.context.session_bus;
    bus.insert(name("org.foo.*"), entry(BusPolicy::Talk));
    bus.insert(name("org.foo.Bar"), entry(BusPolicy::None));
    let args = proxy_args(&policy, BusKind::Session).unwrap();
    assert!(args.contains(&"--talk=org.foo.*".to_string()));
    assert!(!args.iter().any(|a| a.contains("org.foo.Bar")));
}

#[test]
fn d10_a11y_own_names_follow_the_fixed_rules() {
    let mut policy = app("org.x.App");
    let bus = &mut policy.context.a11y_bus;
    bus.insert(name("org.x.App.Foo"), entry(BusPolicy::Own));
    let args = proxy_args(&policy, BusKind::Accessibility).unwrap();
    let tail: Vec<&str> = args[9..].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "--filter",
            "--own=org.x.App.Foo",
            "--call=org.x.App.Sandboxed.*=org.a11y.atspi.Socket.Embedded"
        ]
    );
    assert_eq!(&args[..2], ["--filter", "--sloppy-names"]);
}

#[test]
fn fine_grained_rules_go_last_and_can_start_a_system_proxy() {
    let mut policy = app("org.x.App");
    policy.beyond.bus_rules.push(BusRule {
        bus: Bus::System,
        name: name("org.freedesktop.hostname1"),
        kind: BusRuleKind::Call,
        rule: "org.freedesktop.DBus.Properties.Get@/org/freedesktop/hostname1".into(),
        origin: Origin::default(),
    });
    policy.beyond.bus_rules.push(BusRule {
        bus: Bus::Session,
        name: name("org.example.Svc"),
        kind: BusRuleKind::Broadcast,
        rule: "org.example.Svc.Changed@/org/example/*".into(),
        origin: Origin::default(),
    });
    assert_eq!(
        proxy_args(&policy, BusKind::System),
        Some(vec![
            "--filter".to_string(),
            "--call=org.freedesktop.hostname1=org.freedesktop.DBus.Properties.Get@/org/freedesktop/hostname1".into()
        ])
    );
    let session = proxy_args(&policy, BusKind::Session).unwrap();
    assert_eq!(
        session.last().map(String::as_str),
        Some("--broadcast=org.example.Svc=org.example.Svc.Changed@/org/example/*")
    );
}

#[test]
fn rules_on_an_unfiltered_bus_are_reported_unused() {
    let mut policy = app("org.x.App");
    grant_socket(&mut policy, Socket::SessionBus);
    policy.beyond.bus_rules.push(BusRule {
        bus: Bus::Session,
        name: name("org.example.Svc"),
        kind: BusRuleKind::Call,
        rule: "*".into(),
        origin: Origin::default(),
    });
    let plan = super::compile(&policy);
    assert_eq!(plan.unused_rules.len(), 1);
    let text = super::text::render(&plan, &policy);
    assert!(text.contains("has no effect"), "{text}");
}

#[test]
fn text_names_every_argument() {
    let mut policy = app("org.x.App");
    policy.sources.push("app.policy".into());
    policy.context.session_bus.insert(
        name("org.freedesktop.Notifications"),
        BusEntry {
            policy: BusPolicy::Talk,
            origin: Origin {
                source: 0,
                start: 10,
                end: 40,
            },
        },
    );
    let text = super::text::render(&super::compile(&policy), &policy);
    for line in text.lines().filter(|l| l.starts_with("--")) {
        assert!(line.contains("  # "), "{line}");
    }
    assert!(text
        .lines()
        .any(|l| l.starts_with("--talk=org.freedesktop.Notifications ")
            && l.ends_with("# granted at app.policy@10..40")));
    assert!(text.contains("# system bus: none"));
}
