//! The compiled session-bus rules enforced by the real `xdg-dbus-proxy`: a private
//! `dbus-daemon`, a test service owning two names, and a client that goes through the
//! proxy exactly as the sandboxed app would.

use std::time::Duration;

use portcullis_backends::dbus::section;
use portcullis_blob::dbus::{BusAccess, BusKind};
use portcullis_ir::beyond::BusRuleKind;
use portcullis_ir::dbus::BusPolicy;
use portcullis_ir::Policy;
use portcullis_tests::dbus_bus::{have, PrivateBus, Proxy};
use portcullis_tests::dbus_wire::{Conn, Value};

use super::policies::{from_flatpak_args, grant, rule};

const VISIBLE: &str = "org.portcullis.test.Visible";
const HIDDEN: &str = "org.portcullis.test.Hidden";

fn tools_present() -> bool {
    let ok = have("dbus-daemon") && have("xdg-dbus-proxy");
    if !ok {
        portcullis_tests::skip!(
            "dbus-daemon or xdg-dbus-proxy is not installed (scripts/test.sh installs them)"
        );
    }
    ok
}

/// A bus with services owning `names`, each answering every call.
fn bus_with_services(names: &[&str]) -> PrivateBus {
    let bus = PrivateBus::start().expect("dbus-daemon starts");
    for name in names {
        let mut service = Conn::connect(&bus.socket).expect("service connects");
        assert_eq!(service.request_name(name).unwrap(), Ok(1), "{name}");
        std::thread::spawn(move || service.serve());
    }
    bus
}

fn session_proxy(bus: &PrivateBus, policy: &Policy) -> Proxy {
    let section = section(policy);
    let Some(BusAccess::Proxy { args }) = section.route(BusKind::Session).map(|r| &r.access) else {
        panic!("the session bus is not proxied");
    };
    Proxy::start(&bus.address(), &bus.dir.join("proxy"), args).expect("proxy starts")
}

fn ping(conn: &mut Conn, name: &str) -> Result<Vec<Value>, String> {
    conn.call(
        name,
        "/org/portcullis/test",
        "org.portcullis.test.Iface",
        "Ping",
        &[],
    )
    .expect("the proxy answers")
}

#[test]
fn talk_name_is_callable_and_unlisted_name_is_invisible() {
    if !tools_present() {
        return;
    }
    let bus = bus_with_services(&[VISIBLE, HIDDEN]);
    let mut policy = from_flatpak_args("org.portcullis.App", "");
    grant(&mut policy, VISIBLE, BusPolicy::Talk);
    let proxy = session_proxy(&bus, &policy);
    let mut app = Conn::connect(&proxy.socket).expect("app connects through the proxy");

    let reply = ping(&mut app, VISIBLE).expect("talk-name is callable");
    assert!(matches!(&reply[..], [Value::Str(s)] if s.starts_with("Ping from :")));

    let denied = ping(&mut app, HIDDEN).expect_err("an unlisted name is not callable");
    assert!(
        denied.contains("ServiceUnknown") || denied.contains("AccessDenied"),
        "{denied}"
    );

    let names = app.list_names().expect("ListNames works");
    assert!(names.iter().any(|n| n == VISIBLE), "{names:?}");
    assert!(!names.iter().any(|n| n == HIDDEN), "{names:?}");
    // The unfiltered view has both, so the filtering is the proxy's doing.
    let mut direct = Conn::connect(&bus.socket).unwrap();
    let all = direct.list_names().unwrap();
    assert!(all.iter().any(|n| n == HIDDEN));
}

#[test]
fn see_name_is_listed_but_not_callable() {
    if !tools_present() {
        return;
    }
    let bus = bus_with_services(&[VISIBLE]);
    let mut policy = from_flatpak_args("org.portcullis.App", "");
    grant(&mut policy, VISIBLE, BusPolicy::See);
    let proxy = session_proxy(&bus, &policy);
    let mut app = Conn::connect(&proxy.socket).unwrap();
    assert!(app.list_names().unwrap().iter().any(|n| n == VISIBLE));
    let denied = ping(&mut app, VISIBLE).expect_err("see is not talk");
    assert!(denied.contains("AccessDenied"), "{denied}");
}

#[test]
fn own_name_works_for_granted_names_and_the_app_id_only() {
    if !tools_present() {
        return;
    }
    let bus = bus_with_services(&[]);
    let mut policy = from_flatpak_args("org.portcullis.App", "");
    grant(&mut policy, "org.portcullis.Granted", BusPolicy::Own);
    let proxy = session_proxy(&bus, &policy);
    let mut app = Conn::connect(&proxy.socket).unwrap();
    for name in [
        "org.portcullis.App",
        "org.portcullis.App.Helper",
        "org.mpris.MediaPlayer2.org.portcullis.App.instance1",
        "org.portcullis.Granted",
    ] {
        assert_eq!(app.request_name(name).unwrap(), Ok(1), "{name}");
    }
    // A name the app may not even see is hidden (ServiceUnknown); one it may talk to
    // but not own is refused (AccessDenied). Either way it is not owned.
    for name in [
        "org.portcullis.Other",
        "org.portcullis.AppX",
        "org.portcullis.Granted.Sub",
    ] {
        let refused = app.request_name(name).unwrap();
        assert!(
            matches!(&refused, Err(e) if e.contains("ServiceUnknown")),
            "{name}: {refused:?}"
        );
    }
    let mut talker = from_flatpak_args("org.portcullis.App", "");
    grant(&mut talker, VISIBLE, BusPolicy::Talk);
    drop(app);
    drop(proxy);
    let proxy = session_proxy(&bus, &talker);
    let mut app = Conn::connect(&proxy.socket).unwrap();
    let refused = app.request_name(VISIBLE).unwrap();
    assert!(
        matches!(&refused, Err(e) if e.contains("AccessDenied")),
        "{refused:?}"
    );
    let mut direct = Conn::connect(&bus.socket).unwrap();
    let owners = direct.list_names().unwrap();
    assert!(!owners
        .iter()
        .any(|n| n == "org.portcullis.Other" || n == VISIBLE));
}

#[test]
fn fine_grained_call_rule_allows_one_method_on_one_path() {
    if !tools_present() {
        return;
    }
    let bus = bus_with_services(&[VISIBLE]);
    let mut policy = from_flatpak_args("org.portcullis.App", "");
    rule(
        &mut policy,
        VISIBLE,
        BusRuleKind::Call,
        "org.portcullis.test.Iface.Ping@/org/portcullis/test",
    );
    let proxy = session_proxy(&bus, &policy);
    let mut app = Conn::connect(&proxy.socket).unwrap();
    assert!(ping(&mut app, VISIBLE).is_ok());
    let other = app
        .call(
            VISIBLE,
            "/org/portcullis/test",
            "org.portcullis.test.Iface",
            "Other",
            &[],
        )
        .unwrap();
    assert!(
        matches!(&other, Err(e) if e.contains("AccessDenied")),
        "{other:?}"
    );
    let elsewhere = app
        .call(
            VISIBLE,
            "/org/portcullis",
            "org.portcullis.test.Iface",
            "Ping",
            &[],
        )
        .unwrap();
    assert!(
        matches!(&elsewhere, Err(e) if e.contains("AccessDenied")),
        "{elsewhere:?}"
    );
}

#[test]
fn proxy_exits_when_its_sync_pipe_closes() {
    if !tools_present() {
        return;
    }
    let bus = bus_with_services(&[]);
    let policy = from_flatpak_args("org.portcullis.App", "");
    let mut proxy = session_proxy(&bus, &policy);
    assert!(Conn::connect(&proxy.socket).is_ok());
    assert!(
        proxy.close_and_wait(Duration::from_secs(5)),
        "the proxy outlived its sync pipe"
    );
}
