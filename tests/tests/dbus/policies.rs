//! Building IR policies for the D-Bus tests from Flatpak command-line permissions.

use portcullis_ir::beyond::{BusRule, BusRuleKind};
use portcullis_ir::context::{BusEntry, Setting, Socket};
use portcullis_ir::dbus::{Bus, BusName, BusPolicy};
use portcullis_ir::{Origin, Policy};

/// A policy for `app` with the D-Bus-relevant options of a `flatpak override` line;
/// other options are ignored (they do not change the proxy arguments).
pub fn from_flatpak_args(app: &str, args: &str) -> Policy {
    let mut policy = Policy::default();
    policy.identity.id = Some(app.to_string());
    for arg in args.split_whitespace() {
        let Some((option, value)) = arg.split_once('=') else {
            continue;
        };
        let (map, level) = match option {
            "--talk-name" => (&mut policy.context.session_bus, BusPolicy::Talk),
            "--own-name" => (&mut policy.context.session_bus, BusPolicy::Own),
            "--no-talk-name" => (&mut policy.context.session_bus, BusPolicy::None),
            "--system-talk-name" => (&mut policy.context.system_bus, BusPolicy::Talk),
            "--system-own-name" => (&mut policy.context.system_bus, BusPolicy::Own),
            "--system-no-talk-name" => (&mut policy.context.system_bus, BusPolicy::None),
            "--socket" => {
                if let Some(socket) = Socket::from_name(value) {
                    policy.context.sockets.insert(
                        socket,
                        Setting {
                            enabled: true,
                            origin: Origin::default(),
                        },
                    );
                }
                continue;
            }
            _ => continue,
        };
        map.insert(
            BusName::new(value).expect("oracle names are valid"),
            BusEntry {
                policy: level,
                origin: Origin::default(),
            },
        );
    }
    policy
}

/// Adds a session-bus name grant.
pub fn grant(policy: &mut Policy, name: &str, level: BusPolicy) {
    policy.context.session_bus.insert(
        BusName::new(name).expect("valid test name"),
        BusEntry {
            policy: level,
            origin: Origin::default(),
        },
    );
}

/// Adds a fine-grained session-bus rule.
pub fn rule(policy: &mut Policy, name: &str, kind: BusRuleKind, rule: &str) {
    policy.beyond.bus_rules.push(BusRule {
        bus: Bus::Session,
        name: BusName::new(name).expect("valid test name"),
        kind,
        rule: rule.to_string(),
        origin: Origin::default(),
    });
}
