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
}
