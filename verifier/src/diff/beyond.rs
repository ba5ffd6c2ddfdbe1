//! Changes in what portcullis enforces beyond Flatpak: TCP ports, `udp none`, resource
//! limits, deny masks, single device nodes, D-Bus call rules and `allow io-uring`.

use portcullis_ir::beyond::{Limit, PortRange};
use portcullis_ir::context::Share;
use portcullis_ir::Policy;

use super::context::change;
use super::{Change, Class};

fn ports(list: &[PortRange]) -> String {
    portcullis_ir::beyond::describe_ports(list, ",")
}

/// Whether every port of `inner` is in `outer`.
fn within(inner: &[PortRange], outer: &[PortRange]) -> bool {
    inner
        .iter()
        .all(|r| (r.first..=r.last).all(|p| outer.iter().any(|o| o.first <= p && p <= o.last)))
}

pub(super) fn changes(old: &Policy, new: &Policy) -> Vec<Change> {
    let mut out = Vec::new();
    network(old, new, &mut out);
    io_uring(old, new, &mut out);
    limits(old, new, &mut out);
    let deny =
        |p: &Policy| -> Vec<String> { p.beyond.deny.iter().map(|d| d.path.clone()).collect() };
    let (a, b) = (deny(old), deny(new));
    for path in b.iter().filter(|p| !a.contains(p)) {
        out.push(change(
            format!("deny {path}"),
            None,
            Some("masked".into()),
            Class::Reduction,
        ));
    }
    for path in a.iter().filter(|p| !b.contains(p)) {
        let mut c = change(
            format!("deny {path}"),
            Some("masked".into()),
            None,
            Class::Escalation,
        );
        c.in_new = false;
        out.push(c);
    }
    let nodes = |p: &Policy| -> Vec<(String, bool)> {
        p.beyond
            .device_nodes
            .iter()
            .map(|d| (d.path.clone(), d.writable))
            .collect()
    };
    let (a, b) = (nodes(old), nodes(new));
    let rw = |w: bool| Some(if w { "rw" } else { "ro" }.to_string());
    for (path, w) in &b {
        match a.iter().find(|(p, _)| p == path) {
            None => out.push(change(
                format!("device-node {path}"),
                None,
                rw(*w),
                Class::Escalation,
            )),
            Some((_, was)) if was != w => out.push(change(
                format!("device-node {path}"),
                rw(*was),
                rw(*w),
                if *w {
                    Class::Escalation
                } else {
                    Class::Reduction
                },
            )),
            Some(_) => {}
        }
    }
    for (path, w) in a.iter().filter(|(p, _)| !b.iter().any(|(q, _)| q == p)) {
        out.push(change(
            format!("device-node {path}"),
            rw(*w),
            None,
            Class::Reduction,
        ));
    }
    let rules = |p: &Policy| -> Vec<String> {
        p.beyond
            .bus_rules
            .iter()
            .map(|r| format!("{:?} {:?} {}={}", r.bus, r.kind, r.name, r.rule).to_lowercase())
            .collect()
    };
    let (a, b) = (rules(old), rules(new));
    for r in b.iter().filter(|r| !a.contains(r)) {
        out.push(change(
            format!("dbus-rule {r}"),
            None,
            Some("allowed".into()),
            Class::Escalation,
        ));
    }
    for r in a.iter().filter(|r| !b.contains(r)) {
        out.push(change(
            format!("dbus-rule {r}"),
            Some("allowed".into()),
            None,
            Class::Reduction,
        ));
    }
    out
}

fn network(old: &Policy, new: &Policy, out: &mut Vec<Change>) {
    let shared = new.context.has_share(Share::Network);
    let (a, b) = (&old.beyond.network, &new.beyond.network);
    for (dir, get) in [
        (
            "connect",
            (|n: &portcullis_ir::beyond::NetworkRules| n.connect.clone())
                as fn(&_) -> Vec<PortRange>,
        ),
        ("bind", |n: &portcullis_ir::beyond::NetworkRules| {
            n.bind.clone()
        }),
    ] {
        let was = a.as_ref().map(get);
        let is = b.as_ref().map(get);
        if was == is {
            continue;
        }
        let text = |v: &Option<Vec<PortRange>>| {
            Some(v.as_ref().map(|l| ports(l)).unwrap_or_else(|| "any".into()))
        };
        let class = match (&was, &is) {
            (None, Some(_)) => Class::Reduction,
            (Some(_), None) => Class::Escalation,
            (Some(w), Some(i)) if within(i, w) => Class::Reduction,
            _ => Class::Escalation,
        };
        let mut c = change(format!("network {dir} tcp"), text(&was), text(&is), class);
        if !shared {
            c.class = Class::Neutral;
            c.note = Some("the network is not shared, so port rules do not matter".into());
        }
        out.push(c);
    }
    // UDP: refused with `udp none`, otherwise outside the port rules (any port).
    let udp =
        |n: &Option<portcullis_ir::beyond::NetworkRules>| n.as_ref().is_some_and(|n| n.udp_none);
    let (was, is) = (udp(a), udp(b));
    if was != is {
        let word = |none: bool| Some(if none { "none" } else { "any" }.to_string());
        let mut c = change(
            "network udp".to_string(),
            word(was),
            word(is),
            if is {
                Class::Reduction
            } else {
                Class::Escalation
            },
        );
        if !shared {
            c.class = Class::Neutral;
            c.note = Some("the network is not shared, so `udp none` does not matter".into());
        }
        out.push(c);
    }
}

/// `allow io-uring`: granting it lets io_uring operations past the seccomp filter.
fn io_uring(old: &Policy, new: &Policy, out: &mut Vec<Change>) {
    let (was, is) = (old.beyond.io_uring.is_some(), new.beyond.io_uring.is_some());
    if was == is {
        return;
    }
    let word = |on: bool| Some(if on { "granted" } else { "refused" }.to_string());
    let mut c = change(
        "allow io-uring".to_string(),
        word(was),
        word(is),
        if is {
            Class::Escalation
        } else {
            Class::Reduction
        },
    );
    // Point at the statement that granted it, in whichever policy has one.
    c.origin = new.beyond.io_uring.or(old.beyond.io_uring);
    c.in_new = is;
    out.push(c);
}

fn limits(old: &Policy, new: &Policy, out: &mut Vec<Change>) {
    let (a, b) = (&old.beyond.limits, &new.beyond.limits);
    for (name, was, is) in [
        ("memory", a.memory, b.memory),
        ("processes", a.processes, b.processes),
        ("open-files", a.open_files, b.open_files),
        ("cpu-time", a.cpu_time, b.cpu_time),
        ("cpu-share", a.cpu_share, b.cpu_share),
    ] {
        let value = |l: Option<Limit>| l.map(|l| l.value);
        let (was, is) = (value(was), value(is));
        let class = match (was, is) {
            (x, y) if x == y => continue,
            (None, Some(_)) => Class::Reduction,
            (Some(_), None) => Class::Escalation,
            (Some(x), Some(y)) if y < x => Class::Reduction,
            _ => Class::Escalation,
        };
        out.push(change(
            format!("limit {name}"),
            was.map(|v| v.to_string()),
            is.map(|v| v.to_string()),
            class,
        ));
    }
}
