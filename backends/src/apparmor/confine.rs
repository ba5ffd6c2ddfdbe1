//! Network, UNIX socket, signal, ptrace, capability and mount rules.
//!
//! * inet and inet6 only with `share network`; with the policy's port rules, TCP only
//!   (Landlock enforces the ports, which AppArmor 3 cannot express) and nothing at all
//!   when neither connecting nor binding is allowed;
//! * UNIX sockets: the sandbox's own, its peers inside the profile, and — mirroring the
//!   Landlock abstract-socket scope — no abstract socket of anyone outside it;
//! * signals and ptrace stay inside the profile (the host may still signal the sandbox);
//! * no capabilities, no mounts.

use portcullis_ir::beyond::Level;
use portcullis_ir::context::{Feature, Share};
use portcullis_ir::{Origin, Policy};

use super::Rule;
use crate::landlock::merge_ports;

fn port_list(ports: &[portcullis_blob::landlock::Ports]) -> String {
    if ports.is_empty() {
        return "none".into();
    }
    let parts: Vec<String> = ports
        .iter()
        .map(|p| {
            if p.first == p.last {
                p.first.to_string()
            } else {
                format!("{}-{}", p.first, p.last)
            }
        })
        .collect();
    parts.join(" ")
}

/// Socket families.
pub fn network(policy: &Policy, name: &dyn Fn(Origin) -> String) -> Vec<Rule> {
    let ctx = &policy.context;
    let mut out = vec![
        Rule::new(
            "network unix",
            "implicit: UNIX sockets (paths are mediated by file rules)",
        ),
        Rule::new(
            "network netlink raw",
            "implicit: Flatpak's seccomp allows netlink",
        ),
    ];
    if let Some(s) = ctx.features.get(&Feature::Bluetooth).filter(|s| s.enabled) {
        out.push(Rule::new(
            "network bluetooth",
            format!("allow bluetooth ({})", name(s.origin)),
        ));
    }
    if let Some(s) = ctx.features.get(&Feature::Canbus).filter(|s| s.enabled) {
        out.push(Rule::new(
            "network can",
            format!("allow canbus ({})", name(s.origin)),
        ));
    }
    let Some(share) = ctx.shares.get(&Share::Network).filter(|s| s.enabled) else {
        out.push(Rule::comment(
            "no inet or inet6: the policy does not share the network",
        ));
        return out;
    };
    let shared = format!("share network ({})", name(share.origin));
    let ports = policy
        .beyond
        .network
        .as_ref()
        .filter(|_| policy.beyond.requirements.landlock_network != Level::Off);
    match ports {
        None => {
            out.push(Rule::new("network inet", shared.clone()));
            out.push(Rule::new("network inet6", shared));
        }
        Some(rules) => {
            let connect = merge_ports(&rules.connect);
            let bind = merge_ports(&rules.bind);
            let because = format!(
                "{shared}; tcp only, ports enforced by landlock: connect {}, bind {} ({})",
                port_list(&connect),
                port_list(&bind),
                name(rules.origin)
            );
            if connect.is_empty() && bind.is_empty() {
                out.push(Rule::comment(format!("no inet or inet6: {because}")));
            } else {
                out.push(Rule::new("network inet stream", because.clone()));
                out.push(Rule::new("network inet6 stream", because));
            }
        }
    }
    out
}

/// UNIX sockets, signals, ptrace, capabilities and mounts.
pub fn confinement(policy: &Policy, profile: &str) -> Vec<Rule> {
    let needs = &policy.beyond.requirements;
    let mut out = vec![
        Rule::new(
            "unix (create, bind, listen, accept, getattr, setattr, getopt, setopt, shutdown)",
            "implicit: the sandbox's own UNIX sockets",
        ),
        Rule::new(
            format!("unix (connect, send, receive, accept) peer=(label={profile})"),
            "implicit: peers inside the sandbox",
        ),
        Rule::new(
            "unix (connect, send, receive) peer=(addr=none)",
            "implicit: unnamed sockets (socketpair, path sockets after the file check)",
        ),
    ];
    if needs.scope_abstract_unix == Level::Off {
        out.push(Rule::new(
            "unix (connect, send, receive)",
            "abstract sockets outside the sandbox: the policy turns the scope off",
        ));
    } else {
        out.push(Rule::comment(
            "abstract sockets outside the sandbox are not reachable (mirrors the landlock scope)",
        ));
    }
    if needs.scope_signal == Level::Off {
        out.push(Rule::new(
            "signal",
            "signals: the policy turns the scope off",
        ));
    } else {
        out.push(Rule::new(
            format!("signal (send, receive) peer={profile}"),
            "signals stay inside the sandbox (mirrors the landlock scope)",
        ));
    }
    out.push(Rule::new(
        "signal (receive) peer=unconfined",
        "implicit: the host may stop the sandbox",
    ));
    out.push(Rule::new(
        format!("ptrace (read, trace, readby, tracedby) peer={profile}"),
        "implicit: ptrace only inside the sandbox",
    ));
    out.push(Rule::new("deny capability", "implicit: no capabilities"));
    for what in ["mount", "remount", "umount", "pivot_root"] {
        out.push(Rule::new(
            format!("deny {what}"),
            "implicit: the mount plan is final",
        ));
    }
    out
}
