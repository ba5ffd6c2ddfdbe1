//! What `xdg-dbus-proxy` makes of its arguments: a model of its filters, re-derived from
//! the argument text alone (`dbus-proxy.c` `start_proxy`, `flatpak-proxy.c`
//! `filter_new_from_rule` and `filter_matches`).

use portcullis_ir::dbus::BusPolicy;

/// A method/path restriction of a `--call` / `--broadcast` filter; `None` fields match
/// anything.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rule {
    /// Interface, when restricted.
    pub interface: Option<String>,
    /// Member, when restricted (only with an interface).
    pub member: Option<String>,
    /// Object path, when restricted.
    pub path: Option<String>,
    /// The path also covers everything below it (`/*`).
    pub path_subtree: bool,
}

impl Rule {
    /// The rule that matches every message.
    pub const ANY: Rule = Rule {
        interface: None,
        member: None,
        path: None,
        path_subtree: false,
    };

    /// Reads `[METHOD][@PATH]` the way xdg-dbus-proxy does.
    pub fn parse(rule: &str) -> Rule {
        let (method, path) = match rule.find('@') {
            Some(at) => (&rule[..at], Some(&rule[at + 1..])),
            None => (rule, None),
        };
        let (path, path_subtree) = match path.filter(|p| !p.is_empty()) {
            None => (None, false),
            Some(p) => match p.strip_suffix("/*") {
                Some(base) => (Some(base.to_string()), true),
                None => (Some(p.to_string()), false),
            },
        };
        let (interface, member) = if method.is_empty() || method.starts_with('*') {
            (None, None)
        } else {
            match method.rsplit_once('.') {
                Some((iface, "*")) => (Some(iface.to_string()), None),
                Some((iface, member)) => (Some(iface.to_string()), Some(member.to_string())),
                None => (Some(method.to_string()), None),
            }
        };
        Rule {
            interface,
            member,
            path,
            path_subtree,
        }
    }

    fn path_covers(&self, other: &Rule) -> bool {
        let Some(mine) = &self.path else {
            return true;
        };
        let Some(theirs) = &other.path else {
            return false;
        };
        if !self.path_subtree {
            return !other.path_subtree && mine == theirs;
        }
        theirs == mine
            || theirs.starts_with(mine.as_str()) && theirs.as_bytes().get(mine.len()) == Some(&b'/')
            || mine.is_empty()
    }

    /// Whether every message `other` matches is matched by `self`.
    pub fn covers(&self, other: &Rule) -> bool {
        let interface = self.interface.is_none() || self.interface == other.interface;
        let member = self.member.is_none() || self.member == other.member;
        interface && member && self.path_covers(other)
    }
}

/// Which message types a filter applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Types {
    /// Method calls to the name.
    pub call: bool,
    /// Broadcast signals from the name.
    pub broadcast: bool,
}

impl Types {
    /// A plain `--see/--talk/--own` filter.
    pub const ALL: Types = Types {
        call: true,
        broadcast: true,
    };

    fn covers(self, other: Types) -> bool {
        (self.call || !other.call) && (self.broadcast || !other.broadcast)
    }
}

/// One proxy filter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Filter {
    /// The name, without a trailing `.*`.
    pub name: String,
    /// `NAME.*`: the name and every name below it at a dot boundary.
    pub subtree: bool,
    /// The level it grants.
    pub policy: BusPolicy,
    /// The message types it lets through.
    pub types: Types,
    /// The method/path restriction.
    pub rule: Rule,
}

impl Filter {
    /// A `--see/--talk/--own` filter.
    pub fn name_rule(name: &str, policy: BusPolicy) -> Filter {
        let (name, subtree) = split_wildcard(name);
        Filter {
            name,
            subtree,
            policy,
            types: Types::ALL,
            rule: Rule::ANY,
        }
    }

    /// A `--call` (`broadcast == false`) or `--broadcast` filter.
    pub fn message_rule(name: &str, broadcast: bool, rule: &str) -> Filter {
        let (name, subtree) = split_wildcard(name);
        Filter {
            name,
            subtree,
            policy: BusPolicy::Talk,
            types: Types {
                call: !broadcast,
                broadcast,
            },
            rule: Rule::parse(rule),
        }
    }

    fn names_cover(&self, other: &Filter) -> bool {
        if !self.subtree {
            return !other.subtree && self.name == other.name;
        }
        other.name == self.name
            || other.name.starts_with(self.name.as_str())
                && other.name.as_bytes().get(self.name.len()) == Some(&b'.')
    }

    /// Whether `self` grants at least everything `other` grants.
    pub fn covers(&self, other: &Filter) -> bool {
        self.policy >= other.policy
            && self.names_cover(other)
            && self.types.covers(other.types)
            && self.rule.covers(&other.rule)
    }

    /// The filter as the argument that would produce it, for messages.
    pub fn describe(&self) -> String {
        let name = if self.subtree {
            format!("{}.*", self.name)
        } else {
            self.name.clone()
        };
        if self.types == Types::ALL && self.rule == Rule::ANY {
            return format!("--{}={name}", self.policy.name());
        }
        let kind = if self.types.call { "call" } else { "broadcast" };
        let mut rule = match (&self.rule.interface, &self.rule.member) {
            (None, _) => "*".to_string(),
            (Some(i), None) => format!("{i}.*"),
            (Some(i), Some(m)) => format!("{i}.{m}"),
        };
        if let Some(path) = &self.rule.path {
            rule.push('@');
            rule.push_str(path);
            if self.rule.path_subtree {
                rule.push_str("/*");
            }
        }
        format!("--{kind}={name}={rule}")
    }
}

fn split_wildcard(name: &str) -> (String, bool) {
    match name.strip_suffix(".*") {
        Some(base) => (base.to_string(), true),
        None => (name.to_string(), false),
    }
}

/// A proxy instance as its arguments configure it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyModel {
    /// `--filter` was given: only what the filters allow passes.
    pub filtering: bool,
    /// `--sloppy-names`: every unique name's changes are reported.
    pub sloppy_names: bool,
    /// `--log`: traffic is logged to stderr.
    pub log: bool,
    /// The filters, in argument order.
    pub filters: Vec<Filter>,
    /// Arguments the proxy refuses or does not know, with the reason.
    pub rejected: Vec<(String, &'static str)>,
}

/// Whether the proxy's `g_dbus_is_name` check passes for a non-unique name.
fn proxy_accepts_name(name: &str) -> bool {
    !name.starts_with(':') && portcullis_ir::dbus::validate_name(name).is_ok()
}

impl ProxyModel {
    /// Reads the arguments that follow `ADDRESS PATH`.
    pub fn parse(args: &[String]) -> ProxyModel {
        let mut model = ProxyModel::default();
        for arg in args {
            if arg == "--filter" {
                model.filtering = true;
            } else if arg == "--sloppy-names" {
                model.sloppy_names = true;
            } else if arg == "--log" {
                model.log = true;
            } else if let Some((option, value)) = arg.split_once('=') {
                let policy = match option {
                    "--see" => Some(BusPolicy::See),
                    "--talk" => Some(BusPolicy::Talk),
                    "--own" => Some(BusPolicy::Own),
                    _ => None,
                };
                if let Some(policy) = policy {
                    if proxy_accepts_name(value) {
                        model.filters.push(Filter::name_rule(value, policy));
                    } else {
                        model.rejected.push((
                            arg.clone(),
                            "not a valid bus name: the proxy refuses to start",
                        ));
                    }
                    continue;
                }
                let broadcast = match option {
                    "--call" => false,
                    "--broadcast" => true,
                    _ => {
                        model.rejected.push((arg.clone(), "unknown option"));
                        continue;
                    }
                };
                match value.split_once('=') {
                    Some((name, rule)) => model
                        .filters
                        .push(Filter::message_rule(name, broadcast, rule)),
                    None => model
                        .rejected
                        .push((arg.clone(), "not NAME=RULE: the proxy refuses to start")),
                }
            } else {
                model.rejected.push((arg.clone(), "unknown argument"));
            }
        }
        model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_like_the_proxy() {
        let r = Rule::parse("org.foo.Iface.Method@/org/foo/*");
        assert_eq!(r.interface.as_deref(), Some("org.foo.Iface"));
        assert_eq!(r.member.as_deref(), Some("Method"));
        assert_eq!(r.path.as_deref(), Some("/org/foo"));
        assert!(r.path_subtree);
        assert_eq!(Rule::parse("*"), Rule::ANY);
        assert_eq!(Rule::parse(""), Rule::ANY);
        assert_eq!(Rule::parse("org.foo.*").member, None);
    }

    #[test]
    fn coverage_is_at_boundaries() {
        let wide = Filter::name_rule("org.foo.*", BusPolicy::Talk);
        assert!(wide.covers(&Filter::name_rule("org.foo", BusPolicy::Talk)));
        assert!(wide.covers(&Filter::name_rule("org.foo.Bar.*", BusPolicy::See)));
        assert!(!wide.covers(&Filter::name_rule("org.foobar", BusPolicy::Talk)));
        assert!(!wide.covers(&Filter::name_rule("org.foo.Bar", BusPolicy::Own)));
        let path = Filter::message_rule("org.a.B", false, "@/org/a/*");
        assert!(path.covers(&Filter::message_rule("org.a.B", false, "x.y.Z@/org/a/b")));
        assert!(!path.covers(&Filter::message_rule("org.a.B", false, "x.y.Z@/org/ab")));
        assert!(!path.covers(&Filter::message_rule("org.a.B", true, "@/org/a")));
    }

    #[test]
    fn bad_arguments_are_rejected() {
        let model = ProxyModel::parse(&[
            "--filter".into(),
            "--talk=org.*".into(),
            "--call=org.a.B".into(),
            "--bogus".into(),
        ]);
        assert!(model.filtering);
        assert_eq!(model.rejected.len(), 3);
        assert!(model.filters.is_empty());
    }
}
