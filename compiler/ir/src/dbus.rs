//! D-Bus names and policy levels, with Flatpak's name validation (semantics §6.4).

use std::fmt;

/// Policy level, ordered `None < See < Talk < Own` as in xdg-dbus-proxy.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum BusPolicy {
    /// Listed but grants nothing (`no-talk-name`); never emitted to the proxy.
    None,
    /// Visible in `ListNames`, owner queries work, calls are denied.
    See,
    /// Calls, signals and activation.
    Talk,
    /// Owning the name, plus talk.
    Own,
}

impl BusPolicy {
    /// Flatpak's keyfile word.
    pub fn name(self) -> &'static str {
        match self {
            BusPolicy::None => "none",
            BusPolicy::See => "see",
            BusPolicy::Talk => "talk",
            BusPolicy::Own => "own",
        }
    }

    /// Parses Flatpak's keyfile word.
    pub fn from_name(word: &str) -> Option<Self> {
        Some(match word {
            "none" => BusPolicy::None,
            "see" => BusPolicy::See,
            "talk" => BusPolicy::Talk,
            "own" => BusPolicy::Own,
            _ => return None,
        })
    }
}

/// Which bus.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Bus {
    /// The session bus.
    Session,
    /// The system bus.
    System,
    /// The accessibility bus.
    Accessibility,
}

/// Why a bus name is not acceptable to Flatpak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// Empty, or nothing left after stripping `.*`.
    Empty,
    /// Longer than 255 bytes.
    TooLong,
    /// A unique name (`:1.42`).
    Unique,
    /// Fewer than two elements (`org`, `org.*`).
    TooFewElements,
    /// An empty element (`org..foo`).
    EmptyElement,
    /// An element starting with a digit.
    LeadingDigit,
    /// A character outside `[A-Za-z0-9_-]`, including a `*` that is not the final `.*`.
    BadCharacter,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::Empty => "the name is empty",
            NameError::TooLong => "the name is longer than 255 bytes",
            NameError::Unique => "unique names (`:1.42`) cannot be granted",
            NameError::TooFewElements => "a bus name needs at least two elements (`org.example`)",
            NameError::EmptyElement => "the name has an empty element",
            NameError::LeadingDigit => "an element starts with a digit",
            NameError::BadCharacter => {
                "only letters, digits, `_` and `-` may appear, and `*` only as a final `.*`"
            }
        })
    }
}

/// Checks a name the way `flatpak_verify_dbus_name` does: strip one trailing `.*`, then
/// require a valid, non-unique bus name.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    let base = name.strip_suffix(".*").unwrap_or(name);
    if base.is_empty() {
        return Err(NameError::Empty);
    }
    if base.len() > 255 {
        return Err(NameError::TooLong);
    }
    if base.starts_with(':') {
        return Err(NameError::Unique);
    }
    let mut elements = 0;
    for element in base.split('.') {
        elements += 1;
        let first = element.chars().next().ok_or(NameError::EmptyElement)?;
        if first.is_ascii_digit() {
            return Err(NameError::LeadingDigit);
        }
        if !element
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(NameError::BadCharacter);
        }
    }
    if elements < 2 {
        return Err(NameError::TooFewElements);
    }
    Ok(())
}

/// A validated bus name, possibly a `NAME.*` wildcard.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct BusName(String);

impl BusName {
    /// Validates and wraps a name.
    pub fn new(name: &str) -> Result<BusName, NameError> {
        validate_name(name)?;
        Ok(BusName(name.to_string()))
    }

    /// The name as written, `.*` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a `NAME.*` wildcard.
    pub fn is_wildcard(&self) -> bool {
        self.0.ends_with(".*")
    }

    /// Whether this rule covers `other` (a concrete name): equal, or a wildcard whose base
    /// is `other` or a dot-prefix of it (`org.foo.*` covers `org.foo` and `org.foo.bar`,
    /// not `org.foobar`).
    pub fn covers(&self, other: &str) -> bool {
        match self.0.strip_suffix(".*") {
            None => self.0 == other,
            Some(base) => {
                other == base
                    || (other.starts_with(base) && other.as_bytes().get(base.len()) == Some(&b'.'))
            }
        }
    }
}

impl fmt::Display for BusName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for BusName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        BusName::new(&text).map_err(|e| serde::de::Error::custom(format!("{text}: {e}")))
    }
}

/// Why a fine-grained `--call` / `--broadcast` rule (`[METHOD][@PATH]`) is not acceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// The method part is neither `*`, `IFACE.*` nor `IFACE.Member`.
    BadMethod,
    /// The interface is not a valid D-Bus interface name (two or more elements of
    /// `[A-Za-z_][A-Za-z0-9_]*`, at most 255 bytes).
    BadInterface,
    /// The member is not a valid D-Bus member name.
    BadMember,
    /// `@` is followed by something that is not an object path, optionally ending in `/*`.
    BadPath,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleError::BadMethod => "the method must be `*`, `IFACE.*` or `IFACE.Member`",
            RuleError::BadInterface => {
                "the interface needs two or more elements of letters, digits and `_`, not starting with a digit"
            }
            RuleError::BadMember => {
                "the member must be letters, digits and `_`, not starting with a digit"
            }
            RuleError::BadPath => {
                "the path after `@` must be an object path (`/org/example`), optionally ending in `/*`"
            }
        })
    }
}

fn is_member_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && text.len() <= 255
}

fn is_interface_name(text: &str) -> bool {
    text.len() <= 255 && text.split('.').count() >= 2 && text.split('.').all(is_member_name)
}

fn is_object_path(text: &str) -> bool {
    text == "/"
        || (text.starts_with('/')
            && text[1..]
                .split('/')
                .all(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')))
}

/// Checks a `--call` / `--broadcast` rule the way xdg-dbus-proxy reads it, but strictly:
/// `[METHOD][@PATH]` where METHOD is `*`, `IFACE.*` or `IFACE.Member` and PATH is an
/// object path, optionally ending in `/*` (that path and everything below it). An empty
/// rule matches everything. xdg-dbus-proxy itself accepts anything and silently reads a
/// malformed rule as something else, so portcullis refuses what it would misread.
pub fn validate_rule(rule: &str) -> Result<(), RuleError> {
    let (method, path) = match rule.split_once('@') {
        Some((method, path)) => (method, Some(path)),
        None => (rule, None),
    };
    if let Some(path) = path {
        let base = if path == "/*" {
            "/"
        } else {
            path.strip_suffix("/*").unwrap_or(path)
        };
        if !is_object_path(base) {
            return Err(RuleError::BadPath);
        }
    }
    if method.is_empty() || method == "*" {
        return Ok(());
    }
    let (interface, member) = method.rsplit_once('.').ok_or(RuleError::BadMethod)?;
    if !is_interface_name(interface) {
        return Err(RuleError::BadInterface);
    }
    if member != "*" && !is_member_name(member) {
        return Err(RuleError::BadMember);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatpak_name_rules_e15_e16() {
        assert!(validate_name("org.foo.*").is_ok());
        assert!(validate_name("org.freedesktop.Notifications").is_ok());
        assert_eq!(validate_name("org.*"), Err(NameError::TooFewElements));
        assert_eq!(validate_name(":1.2"), Err(NameError::Unique));
        assert_eq!(validate_name("*"), Err(NameError::BadCharacter));
        assert_eq!(validate_name("org.foo.*.bar"), Err(NameError::BadCharacter));
        assert_eq!(validate_name("org.1foo"), Err(NameError::LeadingDigit));
        assert_eq!(validate_name("org..foo"), Err(NameError::EmptyElement));
    }

    #[test]
    fn wildcards_cover_at_dot_boundaries() {
        let w = BusName::new("org.foo.*").unwrap();
        assert!(w.covers("org.foo"));
        assert!(w.covers("org.foo.bar.baz"));
        assert!(!w.covers("org.foobar"));
        assert!(BusName::new("org.a.B").unwrap().covers("org.a.B"));
    }

    #[test]
    fn call_rules_follow_the_proxy_grammar() {
        for ok in [
            "",
            "*",
            "org.foo.Iface.*",
            "org.foo.Iface.Method",
            "@/org/foo",
            "@/org/foo/*",
            "@/*",
            "org.foo.Iface.Method@/org/foo/bar",
            "*@/",
        ] {
            assert_eq!(validate_rule(ok), Ok(()), "{ok}");
        }
        assert_eq!(validate_rule("Method"), Err(RuleError::BadMethod));
        assert_eq!(validate_rule("org.Method"), Err(RuleError::BadInterface));
        assert_eq!(validate_rule("org.foo.1x"), Err(RuleError::BadMember));
        assert_eq!(validate_rule("org.foo.Bar@"), Err(RuleError::BadPath));
        assert_eq!(validate_rule("*@org/foo"), Err(RuleError::BadPath));
        assert_eq!(validate_rule("*@/org//foo"), Err(RuleError::BadPath));
        assert_eq!(validate_rule("*@/org/foo/"), Err(RuleError::BadPath));
    }
}
