//! The profile for a hand-built policy: structure and origins.

use portcullis_ir::beyond::{DenyMask, NetworkRules, PortRange};
use portcullis_ir::context::{FsEntry, Setting, Share};
use portcullis_ir::dbus::{BusName, BusPolicy};
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::{Origin, Policy};

use super::render;

fn at(start: u32) -> Origin {
    Origin {
        source: 0,
        start,
        end: start + 1,
    }
}

/// A policy with home read-only minus `~/.ssh`, the network with port rules and a bus name.
pub fn sample() -> Policy {
    let mut policy = Policy::default();
    policy.identity.id = Some("org.example.App".into());
    policy.sources = vec!["sample.policy".into()];
    let ctx = &mut policy.context;
    ctx.filesystems.insert(
        FsKey::Home,
        FsEntry {
            mode: FsMode::Ro,
            origin: at(10),
        },
    );
    ctx.filesystems.insert(
        FsKey::from_normalised("xdg-download").unwrap(),
        FsEntry {
            mode: FsMode::Rw,
            origin: at(20),
        },
    );
    ctx.shares.insert(
        Share::Network,
        Setting {
            enabled: true,
            origin: at(30),
        },
    );
    ctx.session_bus.insert(
        BusName::new("org.freedesktop.Notifications").unwrap(),
        portcullis_ir::context::BusEntry {
            policy: BusPolicy::Talk,
            origin: at(40),
        },
    );
    policy.beyond.deny.push(DenyMask {
        path: "~/.ssh".into(),
        origin: at(50),
    });
    policy.beyond.network = Some(NetworkRules {
        connect: vec![PortRange {
            first: 8443,
            last: 8443,
        }],
        bind: vec![],
        udp_none: false,
        origin: at(60),
    });
    policy
}

#[test]
fn the_profile_mirrors_the_plan_the_proxy_and_the_network_rules() {
    let policy = sample();
    let plan = crate::mounts::plan(&policy);
    let dbus = crate::dbus::compile(&policy);
    let text = render(&policy, &plan.ops, &dbus);
    println!("{text}");
    assert!(text.contains(
        "profile portcullis-org.example.App flags=(attach_disconnected,mediate_deleted) {"
    ));
    assert!(
        text.contains("\"@{pc_home}{,/**}\" mrkix,  # filesystem home (sample.policy@10..11)"),
        "{text}"
    );
    assert!(text.contains("deny \"@{pc_home}/.ssh{,/**}\" mrwlkx,  # hidden by the mount plan: deny mask ~/.ssh (sample.policy@50..51)"), "{text}");
    assert!(text.contains("network inet stream,  # share network (sample.policy@30..31); tcp only, ports enforced by landlock: connect 8443, bind none (sample.policy@60..61)"), "{text}");
    assert!(!text.contains("network inet,"));
    assert!(text.contains("dbus (send, receive) bus=session peer=(name=\"org.freedesktop.Notifications\"),  # granted at sample.policy@40..41"), "{text}");
    assert!(text.contains("deny capability,"));
}
