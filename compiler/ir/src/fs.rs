//! Filesystem keys and modes, as Flatpak normalises them (semantics §1.8).
//!
//! A key is what `flatpak_context_parse_filesystem` stores after escapes, suffix
//! splitting, normalisation and classification. Different spellings of the same place are
//! different keys (`~/x` and `/home/u/x`), exactly as in Flatpak; they meet only when the
//! mount plan is built, where the higher mode wins.

use std::fmt;

/// Access mode, ordered as Flatpak orders it: `None < Ro < Rw < Create`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FsMode {
    /// Not accessible (`--nofilesystem`).
    #[default]
    None,
    /// Read-only (`:ro`).
    Ro,
    /// Read-write (the default, `:rw`).
    Rw,
    /// Read-write, created on the host first if missing (`:create`).
    Create,
}

impl FsMode {
    /// The suffix Flatpak writes for this mode (`""` for rw, `None` for none).
    pub fn suffix(self) -> Option<&'static str> {
        match self {
            FsMode::None => None,
            FsMode::Ro => Some(":ro"),
            FsMode::Rw => Some(""),
            FsMode::Create => Some(":create"),
        }
    }

    /// Whether writes are allowed.
    pub fn is_writable(self) -> bool {
        self >= FsMode::Rw
    }
}

macro_rules! xdg_dirs {
    ($($variant:ident = $word:literal, $user_dir:expr;)+) => {
        /// The `xdg-*` locations.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum XdgDir {
            $(#[doc = $word] $variant),+
        }

        impl XdgDir {
            /// Every xdg location, in Flatpak's order.
            pub const ALL: &'static [XdgDir] = &[$(XdgDir::$variant),+];

            /// The token (`xdg-download`).
            pub fn token(self) -> &'static str {
                match self { $(XdgDir::$variant => $word),+ }
            }

            /// Parses a bare token (`xdg-download`).
            pub fn from_token(token: &str) -> Option<Self> {
                match token { $($word => Some(XdgDir::$variant),)+ _ => None }
            }

            /// For user dirs, the `XDG_…_DIR` name in `user-dirs.dirs`; `None` for
            /// `xdg-data`, `xdg-cache` and `xdg-config`.
            pub fn user_dir_variable(self) -> Option<&'static str> {
                match self { $(XdgDir::$variant => $user_dir),+ }
            }
        }
    };
}

xdg_dirs! {
    Desktop = "xdg-desktop", Some("XDG_DESKTOP_DIR");
    Documents = "xdg-documents", Some("XDG_DOCUMENTS_DIR");
    Download = "xdg-download", Some("XDG_DOWNLOAD_DIR");
    Music = "xdg-music", Some("XDG_MUSIC_DIR");
    Pictures = "xdg-pictures", Some("XDG_PICTURES_DIR");
    PublicShare = "xdg-public-share", Some("XDG_PUBLICSHARE_DIR");
    Templates = "xdg-templates", Some("XDG_TEMPLATES_DIR");
    Videos = "xdg-videos", Some("XDG_VIDEOS_DIR");
    Data = "xdg-data", None;
    Cache = "xdg-cache", None;
    Config = "xdg-config", None;
}

/// A normalised filesystem key. The order puts `host-reset` first, as Flatpak writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FsKey {
    /// `host-reset` (stored for `!host:reset` and `!host-reset`; always negated).
    HostReset,
    /// `host`.
    Host,
    /// `host-os`.
    HostOs,
    /// `host-etc`.
    HostEtc,
    /// `home` (also `~`, `~/`, `home/`).
    Home,
    /// `xdg-*` with an optional subpath (normalised, no leading `/`).
    Xdg {
        /// Which xdg location.
        dir: XdgDir,
        /// The subpath after `xdg-…/`, if any.
        sub: Option<String>,
    },
    /// `xdg-run/SUB` (the subpath is required).
    XdgRun(String),
    /// `~/PATH`: the path relative to home, without `~/`.
    HomePath(String),
    /// `/PATH`: an absolute host path.
    Absolute(String),
}

impl FsKey {
    /// Parses a key in its normalised form (as [`fmt::Display`] writes it). This is not
    /// Flatpak's user-facing parser (escapes, suffixes and normalisation live in the
    /// compiler); it only reads back what the IR itself printed.
    pub fn from_normalised(token: &str) -> Option<FsKey> {
        Some(match token {
            "host-reset" => FsKey::HostReset,
            "host" => FsKey::Host,
            "host-os" => FsKey::HostOs,
            "host-etc" => FsKey::HostEtc,
            "home" => FsKey::Home,
            _ => {
                if let Some(rest) = token.strip_prefix("~/") {
                    FsKey::HomePath(rest.to_string())
                } else if token.starts_with('/') {
                    FsKey::Absolute(token.to_string())
                } else if let Some(sub) = token.strip_prefix("xdg-run/") {
                    FsKey::XdgRun(sub.to_string())
                } else {
                    let (head, sub) = match token.split_once('/') {
                        Some((h, s)) => (h, Some(s.to_string())),
                        None => (token, None),
                    };
                    FsKey::Xdg {
                        dir: XdgDir::from_token(head)?,
                        sub,
                    }
                }
            }
        })
    }

    /// Whether the key names a path (as opposed to `host`, `home`, …). Only path-like keys
    /// become "hide" entries when negated.
    pub fn is_path_like(&self) -> bool {
        matches!(
            self,
            FsKey::Xdg { .. } | FsKey::XdgRun(_) | FsKey::HomePath(_) | FsKey::Absolute(_)
        )
    }
}

impl fmt::Display for FsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsKey::HostReset => f.write_str("host-reset"),
            FsKey::Host => f.write_str("host"),
            FsKey::HostOs => f.write_str("host-os"),
            FsKey::HostEtc => f.write_str("host-etc"),
            FsKey::Home => f.write_str("home"),
            FsKey::Xdg { dir, sub: None } => f.write_str(dir.token()),
            FsKey::Xdg { dir, sub: Some(s) } => write!(f, "{}/{}", dir.token(), s),
            FsKey::XdgRun(sub) => write!(f, "xdg-run/{sub}"),
            FsKey::HomePath(p) => write!(f, "~/{p}"),
            FsKey::Absolute(p) => f.write_str(p),
        }
    }
}

impl serde::Serialize for FsKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for FsKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        FsKey::from_normalised(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a filesystem key: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_print_and_read_back() {
        for text in [
            "host-reset",
            "host",
            "home",
            "xdg-download",
            "xdg-config/foo/bar",
            "xdg-run/dbus",
            "~/Music",
            "/srv/c:\\x",
        ] {
            let key = FsKey::from_normalised(text).unwrap();
            assert_eq!(key.to_string(), text);
        }
        assert_eq!(FsKey::from_normalised("homework"), None);
    }

    #[test]
    fn modes_are_ordered() {
        assert!(
            FsMode::None < FsMode::Ro && FsMode::Ro < FsMode::Rw && FsMode::Rw < FsMode::Create
        );
        assert!(FsKey::HostReset < FsKey::Host);
    }
}
