//! Fine-grained D-Bus rules (`dbus-call`, `dbus-broadcast`) are advisory: the proxy
//! enforces the method and the object path, but what a method does with its arguments is
//! up to the service, which cannot be known to check its callers. This module says so for
//! each rule, and says when a rule has no effect at all (a name grant or an unfiltered bus
//! already allows everything it would allow). `audit` reads [`advisories`].

use portcullis_ir::beyond::BusRule;
use portcullis_ir::context::Socket;
use portcullis_ir::dbus::{Bus, BusPolicy};
use portcullis_ir::{Origin, Policy};

/// How much a fine-grained rule restricts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    /// The proxy restricts messages to the rule; the service decides what they do.
    Advisory,
    /// The rule restricts nothing: the bus is unfiltered or a name grant covers it.
    NoEffect,
}

/// One fine-grained rule as audit should present it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Advisory {
    /// Where the rule was written.
    pub origin: Origin,
    /// The rule as the policy language writes it (`dbus-call NAME=RULE`).
    pub rule: String,
    /// Advisory or without effect.
    pub strength: Strength,
    /// Why, in a sentence (lower case, no full stop).
    pub reason: String,
}

fn statement(rule: &BusRule) -> String {
    let prefix = match rule.bus {
        Bus::Session => "",
        Bus::System => "system-",
        Bus::Accessibility => "a11y-",
    };
    let kind = match rule.kind {
        portcullis_ir::beyond::BusRuleKind::Call => "call",
        portcullis_ir::beyond::BusRuleKind::Broadcast => "broadcast",
    };
    format!("{prefix}dbus-{kind} {}={}", rule.name, rule.rule)
}

/// The policy's fine-grained D-Bus rules, each marked advisory or without effect.
pub fn advisories(policy: &Policy) -> Vec<Advisory> {
    policy
        .beyond
        .bus_rules
        .iter()
        .map(|rule| {
            let (strength, reason) = assess(policy, rule);
            Advisory {
                origin: rule.origin,
                rule: statement(rule),
                strength,
                reason,
            }
        })
        .collect()
}

fn assess(policy: &Policy, rule: &BusRule) -> (Strength, String) {
    let unfiltered = match rule.bus {
        Bus::Session => policy.context.has_socket(Socket::SessionBus),
        Bus::System => policy.context.has_socket(Socket::SystemBus),
        Bus::Accessibility => false,
    };
    if unfiltered {
        return (
            Strength::NoEffect,
            "the whole bus is granted (`socket`), so nothing is filtered".to_string(),
        );
    }
    let map = match rule.bus {
        Bus::Session => &policy.context.session_bus,
        Bus::System => &policy.context.system_bus,
        Bus::Accessibility => &policy.context.a11y_bus,
    };
    let base = rule.name.as_str().strip_suffix(".*");
    let covering = map.iter().find(|(name, entry)| {
        entry.policy >= BusPolicy::Talk
            && match base {
                // A wildcard rule is covered only by a wildcard at or above it.
                Some(base) => name.is_wildcard() && name.covers(base),
                None => name.covers(rule.name.as_str()),
            }
    });
    if let Some((name, entry)) = covering {
        return (
            Strength::NoEffect,
            format!(
                "`{}-name {name}` already allows every call to and broadcast from it",
                entry.policy.name()
            ),
        );
    }
    (
        Strength::Advisory,
        "xdg-dbus-proxy enforces the method and path, but what the method does is up to the service, which cannot be known to check its callers".to_string(),
    )
}

#[cfg(test)]
mod tests {
    use portcullis_ir::beyond::BusRuleKind;
    use portcullis_ir::context::{BusEntry, Setting};
    use portcullis_ir::dbus::BusName;

    use super::*;

    fn rule(name: &str) -> BusRule {
        BusRule {
            bus: Bus::Session,
            name: BusName::new(name).unwrap(),
            kind: BusRuleKind::Call,
            rule: "org.a.B.M@/org/a".into(),
            origin: Origin::default(),
        }
    }

    #[test]
    fn every_rule_is_advisory_or_without_effect() {
        let mut policy = Policy::default();
        policy.beyond.bus_rules.push(rule("org.a.B"));
        policy.beyond.bus_rules.push(rule("org.c.D"));
        policy.beyond.bus_rules.push(rule("org.c.*"));
        policy.context.session_bus.insert(
            BusName::new("org.c.*").unwrap(),
            BusEntry {
                policy: BusPolicy::Talk,
                origin: Origin::default(),
            },
        );
        let found: Vec<Strength> = advisories(&policy).iter().map(|a| a.strength).collect();
        assert_eq!(
            found,
            [Strength::Advisory, Strength::NoEffect, Strength::NoEffect]
        );
        assert_eq!(
            advisories(&policy)[0].rule,
            "dbus-call org.a.B=org.a.B.M@/org/a"
        );

        policy.context.sockets.insert(
            Socket::SessionBus,
            Setting {
                enabled: true,
                origin: Origin::default(),
            },
        );
        assert!(advisories(&policy)[0].reason.contains("whole bus"));
    }
}
