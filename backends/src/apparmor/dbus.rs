//! D-Bus mediation rules mirroring the proxy's: a `send`/`receive` pair per name the
//! proxy lets the app talk to, `bind` per name it may own, method-level rules for
//! `--call`/`--broadcast`, and the bus socket's file rule. A bus the sandbox reaches
//! directly (unfiltered) gets a rule allowing all of that bus.

use portcullis_blob::dbus::BusKind;
use portcullis_ir::Origin;

use super::paths::escape;
use super::Rule;
use crate::dbus::{Access, DbusPlan, Why};

/// A bus name (maybe `NAME.*`) as an AppArmor pattern.
fn name_pattern(name: &str) -> String {
    match name.strip_suffix(".*") {
        Some(base) => format!("\"{}{{,.*}}\"", escape(base)),
        None => format!("\"{}\"", escape(name)),
    }
}

/// `[METHOD][@PATH]` as `path=… interface=… member=…` conditions.
fn call_conditions(rule: &str) -> String {
    let (method, path) = match rule.split_once('@') {
        Some((m, p)) => (m, Some(p)),
        None => (rule, None),
    };
    let mut out = String::new();
    if let Some(path) = path {
        match path.strip_suffix("/*") {
            Some(base) => out.push_str(&format!(" path=\"{}{{,/**}}\"", escape(base))),
            None => out.push_str(&format!(" path=\"{}\"", escape(path))),
        }
    }
    if !method.is_empty() && method != "*" {
        match method.strip_suffix(".*") {
            Some(iface) => out.push_str(&format!(" interface=\"{}\"", escape(iface))),
            None => match method.rsplit_once('.') {
                Some((iface, member)) => out.push_str(&format!(
                    " interface=\"{}\" member=\"{}\"",
                    escape(iface),
                    escape(member)
                )),
                None => out.push_str(&format!(" member=\"{}\"", escape(method))),
            },
        }
    }
    out
}

fn because(why: &Why, name: &dyn Fn(Origin) -> String) -> String {
    match why {
        Why::Filtering => "proxy filtering".into(),
        Why::AppId => "implicit: the app owns its own id".into(),
        Why::Mpris => "implicit: the app owns its MPRIS name".into(),
        Why::Portal => "implicit: portals".into(),
        Why::Accessibility => "implicit: Flatpak's accessibility rules".into(),
        Why::Grant { origin } => format!("granted at {}", name(*origin)),
        Why::Rule { origin } => format!("fine-grained rule at {}", name(*origin)),
    }
}

/// The D-Bus rules of every bus the sandbox gets.
pub fn rules(plan: &DbusPlan, name: &dyn Fn(Origin) -> String) -> Vec<Rule> {
    let mut out = Vec::new();
    for route in &plan.routes {
        let bus = match route.bus {
            BusKind::Session => "session",
            BusKind::System => "system",
            BusKind::Accessibility => "accessibility",
        };
        match &route.access {
            Access::Absent { reason } => {
                out.push(Rule::comment(format!("no {bus} bus: {reason}")));
            }
            Access::Direct { origin } => {
                let why = format!("unfiltered {bus} bus ({})", name(*origin));
                out.push(Rule::new(format!("\"{}\" rw", route.socket), why.clone()));
                out.push(Rule::new(format!("dbus bus={bus}"), why));
            }
            Access::Proxy { args } => {
                out.push(Rule::new(
                    format!("\"{}\" rw", route.socket),
                    format!("the {bus} bus proxy's socket"),
                ));
                out.push(Rule::new(
                    format!("dbus (send, receive) bus={bus} peer=(name=org.freedesktop.DBus)"),
                    "implicit: the proxy always lets the bus driver through",
                ));
                out.push(Rule::new(
                    format!("dbus (receive) bus={bus} peer=(label=unconfined)"),
                    "implicit: replies and broadcasts the proxy passes on",
                ));
                for arg in args {
                    let why = because(&arg.why, name);
                    let Some((flag, value)) = arg.arg.split_once('=') else {
                        continue;
                    };
                    match flag {
                        "--see" => out.push(Rule::comment(format!(
                            "see {value}: visible only, no messages ({why})"
                        ))),
                        "--talk" => out.push(Rule::new(
                            format!(
                                "dbus (send, receive) bus={bus} peer=(name={})",
                                name_pattern(value)
                            ),
                            why,
                        )),
                        "--own" => {
                            out.push(Rule::new(
                                format!("dbus (bind) bus={bus} name={}", name_pattern(value)),
                                why.clone(),
                            ));
                            out.push(Rule::new(
                                format!(
                                    "dbus (send, receive) bus={bus} peer=(name={})",
                                    name_pattern(value)
                                ),
                                why,
                            ));
                        }
                        "--call" | "--broadcast" => {
                            let Some((peer, rule)) = value.split_once('=') else {
                                continue;
                            };
                            let access = if flag == "--call" { "send" } else { "receive" };
                            out.push(Rule::new(
                                format!(
                                    "dbus ({access}) bus={bus}{} peer=(name={})",
                                    call_conditions(rule),
                                    name_pattern(peer)
                                ),
                                why,
                            ));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_rules_become_conditions() {
        assert_eq!(name_pattern("org.foo.*"), "\"org.foo{,.*}\"");
        assert_eq!(
            call_conditions("org.freedesktop.Notifications.Notify@/org/freedesktop/Notifications"),
            " path=\"/org/freedesktop/Notifications\" interface=\"org.freedesktop.Notifications\" member=\"Notify\""
        );
        assert_eq!(call_conditions("*"), "");
        assert_eq!(
            call_conditions("@/org/freedesktop/portal/*"),
            " path=\"/org/freedesktop/portal{,/**}\""
        );
        assert_eq!(call_conditions("org.a11y.*"), " interface=\"org.a11y\"");
    }
}
