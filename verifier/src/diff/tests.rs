//! Unit tests of the diff on IRs built directly.

use portcullis_ir::context::{BusEntry, Feature, FsEntry, Setting, Share, Socket};
use portcullis_ir::dbus::{BusName, BusPolicy};
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::{Origin, Policy};

use super::*;

fn at(n: u32) -> Origin {
    Origin {
        source: 0,
        start: n,
        end: n + 1,
    }
}

fn on(n: u32) -> Setting {
    Setting {
        enabled: true,
        origin: at(n),
    }
}

fn with_fs(p: &mut Policy, key: FsKey, mode: FsMode, n: u32) {
    p.context.filesystems.insert(
        key,
        FsEntry {
            mode,
            origin: at(n),
        },
    );
}

fn talk(p: &mut Policy, name: &str, policy: BusPolicy, n: u32) {
    p.context.session_bus.insert(
        BusName::new(name).unwrap(),
        BusEntry {
            policy,
            origin: at(n),
        },
    );
}

#[test]
fn reordering_and_origins_are_neutral() {
    let mut a = Policy::default();
    a.context.shares.insert(Share::Network, on(1));
    a.context.sockets.insert(Socket::Wayland, on(2));
    with_fs(&mut a, FsKey::Home, FsMode::Ro, 3);
    let mut b = Policy::default();
    with_fs(&mut b, FsKey::Home, FsMode::Ro, 30);
    b.context.sockets.insert(Socket::Wayland, on(20));
    b.context.shares.insert(Share::Network, on(10));
    // A revoked bit is the same as an absent one.
    b.context.sockets.insert(
        Socket::X11,
        Setting {
            enabled: false,
            origin: at(40),
        },
    );
    let d = diff(&a, &b);
    assert!(d.changes.is_empty(), "{:#?}", d.changes);
    assert_eq!(d.max_escalation(), None);
}

#[test]
fn new_flatpak_talk_name_is_a_critical_escalation() {
    let a = Policy::default();
    let mut b = Policy::default();
    talk(&mut b, "org.freedesktop.Flatpak", BusPolicy::Talk, 5);
    let d = diff(&a, &b);
    assert_eq!(d.counts(), (1, 0, 0));
    let c = &d.changes[0];
    assert_eq!(c.item, "talk-name org.freedesktop.Flatpak");
    assert!(c.flatpak_escalation);
    assert_eq!(c.risk_after, Some(Severity::Critical));
    assert_eq!(c.origin, Some(at(5)));
    assert_eq!(d.escapes_added.len(), 1);
    assert_eq!(d.max_escalation(), Some(Severity::Critical));
    assert!(diff(&b, &a).max_escalation().is_none());
}

#[test]
fn reductions() {
    let mut a = Policy::default();
    with_fs(&mut a, FsKey::Home, FsMode::Rw, 1);
    a.context.sockets.insert(Socket::X11, on(2));
    let mut b = Policy::default();
    with_fs(&mut b, FsKey::Home, FsMode::Ro, 1);
    b.context.sockets.insert(Socket::X11, on(2));
    b.context.sockets.insert(Socket::FallbackX11, on(3));
    let d = diff(&a, &b);
    assert_eq!(d.counts(), (0, 2, 0), "{:#?}", d.changes);
    assert!(!d.flatpak_adds_permissions());
    assert_eq!(d.escapes_removed.len(), 1);
    let home = d
        .changes
        .iter()
        .find(|c| c.item == "filesystem home")
        .unwrap();
    assert_eq!(
        (home.old.as_deref(), home.new.as_deref()),
        (Some("rw"), Some("ro"))
    );
    assert_eq!(home.risk_before, Some(Severity::Critical));
    assert_eq!(home.risk_after, Some(Severity::High));
}

#[test]
fn covered_paths_are_neutral_but_flatpak_counts_them() {
    let mut a = Policy::default();
    with_fs(&mut a, FsKey::Home, FsMode::Rw, 1);
    let mut b = a.clone();
    with_fs(&mut b, FsKey::HomePath("Projects".into()), FsMode::Rw, 2);
    let d = diff(&a, &b);
    assert_eq!(d.counts(), (0, 0, 1));
    assert!(d.flatpak_adds_permissions());
    assert!(d.changes[0]
        .note
        .as_deref()
        .unwrap()
        .contains("covered by `home`"));
}

#[test]
fn wildcard_covers_a_new_name_and_harmless_features_are_neutral() {
    let mut a = Policy::default();
    talk(&mut a, "org.kde.*", BusPolicy::Talk, 1);
    let mut b = a.clone();
    talk(&mut b, "org.kde.StatusNotifierWatcher", BusPolicy::Talk, 2);
    b.context.features.insert(Feature::Multiarch, on(3));
    let d = diff(&a, &b);
    assert_eq!(d.counts(), (0, 0, 2), "{:#?}", d.changes);
    assert!(d.flatpak_adds_permissions());
}

#[test]
fn beyond_layers_are_compared() {
    use portcullis_ir::beyond::{DenyMask, Limit, NetworkRules, PortRange};
    let mut a = Policy::default();
    a.context.shares.insert(Share::Network, on(1));
    a.beyond.network = Some(NetworkRules {
        connect: vec![PortRange {
            first: 443,
            last: 443,
        }],
        bind: vec![],
        udp_none: false,
        origin: at(2),
    });
    a.beyond.deny.push(DenyMask {
        path: "~/.ssh".into(),
        origin: at(3),
    });
    a.beyond.limits.memory = Some(Limit {
        value: 512,
        origin: at(4),
    });
    let mut b = a.clone();
    b.beyond.network = None;
    b.beyond.deny.clear();
    b.beyond.limits.memory = Some(Limit {
        value: 256,
        origin: at(4),
    });
    let d = diff(&a, &b);
    let class = |item: &str| d.changes.iter().find(|c| c.item == item).map(|c| c.class);
    assert_eq!(class("network connect tcp"), Some(Class::Escalation));
    assert_eq!(class("network bind tcp"), Some(Class::Escalation));
    assert_eq!(class("deny ~/.ssh"), Some(Class::Escalation));
    assert_eq!(class("limit memory"), Some(Class::Reduction));
    assert!(!d.flatpak_adds_permissions());
}

#[test]
fn udp_none_and_allow_io_uring_are_compared() {
    use portcullis_ir::beyond::NetworkRules;
    let mut a = Policy::default();
    a.context.shares.insert(Share::Network, on(1));
    a.beyond.network = Some(NetworkRules {
        connect: vec![],
        bind: vec![],
        udp_none: true,
        origin: at(2),
    });
    let mut b = a.clone();
    b.beyond.network.as_mut().expect("rules").udp_none = false;
    b.beyond.io_uring = Some(at(3));
    let d = diff(&a, &b);
    let change = |item: &str| d.changes.iter().find(|c| c.item == item).cloned();
    let udp = change("network udp").expect("udp change");
    assert_eq!(udp.class, Class::Escalation);
    assert_eq!(
        (udp.old.as_deref(), udp.new.as_deref()),
        (Some("none"), Some("any"))
    );
    let ring = change("allow io-uring").expect("io_uring change");
    assert_eq!(ring.class, Class::Escalation);
    assert_eq!(ring.origin, Some(at(3)));
    assert!(ring.in_new);
    // Back again: both reductions; Flatpak's own forms cannot say either.
    let d = diff(&b, &a);
    let class = |item: &str| d.changes.iter().find(|c| c.item == item).map(|c| c.class);
    assert_eq!(class("network udp"), Some(Class::Reduction));
    assert_eq!(class("allow io-uring"), Some(Class::Reduction));
    assert!(!d.flatpak_adds_permissions());
}
