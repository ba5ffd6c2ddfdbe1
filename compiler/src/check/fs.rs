//! Flatpak's filesystem token parser (`flatpak_context_parse_filesystem`, semantics §1.8),
//! reproduced step by step: character check, token/suffix split with `\` escapes, mode,
//! `reset`, the 1.14 `..` check (with its gap), normalisation and classification.
//!
//! Also: the serialisation back to a token (`unparse`, §1.8 step 9) and the reserved-path
//! rule of the export stage (§5.3), both needed by the checker and the exporters.

use portcullis_ir::fs::{FsKey, FsMode, XdgDir};

/// Why Flatpak refuses a filesystem token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsError {
    /// A character that is neither graphic nor a space (`G_IO_ERROR_INVALID_DATA`).
    NonGraphical(char),
    /// Not one of the known locations.
    UnknownLocation(String),
    /// A `..` component that 1.14 refuses.
    DotDot,
    /// The token names `/` itself.
    Root,
    /// `:reset` without negation.
    ResetNotNegated,
    /// `:reset` on something other than `host`.
    ResetNotHost,
    /// `host-reset` without negation.
    HostResetNotNegated,
    /// `host-reset` with a suffix.
    HostResetSuffix,
    /// `xdg-run` without a subpath.
    XdgRunBare,
}

impl std::fmt::Display for FsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FsError::NonGraphical(c) => {
                write!(f, "non-graphical character U+{:04X} in the path", *c as u32)
            }
            FsError::UnknownLocation(t) => write!(f, "unknown filesystem location `{t}`"),
            FsError::DotDot => f.write_str("the path contains `..`"),
            FsError::Root => f.write_str("`/` is not available as a filesystem"),
            FsError::ResetNotNegated => {
                f.write_str("the suffix `reset` only applies to a negated filesystem")
            }
            FsError::ResetNotHost => f.write_str("`reset` only applies to a negated `host`"),
            FsError::HostResetNotNegated => {
                f.write_str("`host-reset` only applies to a negated filesystem")
            }
            FsError::HostResetSuffix => f.write_str("`host-reset` cannot be used with a suffix"),
            FsError::XdgRunBare => f.write_str("`xdg-run` needs a subpath (`xdg-run/NAME`)"),
        }
    }
}

impl FsError {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            FsError::NonGraphical(_) => {
                "Flatpak refuses control characters in paths (CVE-2023-28101)"
            }
            FsError::UnknownLocation(_) => {
                "valid locations are: host, host-os, host-etc, home, xdg-*[/…], ~/dir, /dir"
            }
            FsError::DotDot => "name the directory itself instead of going up with `..`",
            FsError::Root => "use `host` for a similar result",
            FsError::ResetNotNegated | FsError::ResetNotHost => {
                "write `!host:reset` (or `--nofilesystem=host:reset`) to drop lower-layer grants"
            }
            FsError::HostResetNotNegated | FsError::HostResetSuffix => {
                "write `!host-reset` or `!host:reset`"
            }
            FsError::XdgRunBare => "name the runtime-dir entry, for example `xdg-run/pipewire-0`",
        }
    }
}

/// A warning Flatpak prints while accepting the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsWarning {
    /// A suffix other than ro/rw/create/reset: ignored, the default mode is kept.
    UnknownSuffix(String),
    /// ro/rw/create on a negated token: ignored, the mode is none.
    NotApplicable(String),
    /// A `..` that 1.14 accepts (`~/..`, `xdg-download/..`, `/..`).
    DotDotGap,
}

/// The result of parsing one token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedFs {
    /// The normalised key.
    pub key: FsKey,
    /// The mode.
    pub mode: FsMode,
    /// Warnings Flatpak would print.
    pub warnings: Vec<FsWarning>,
}

/// Whether GLib's `g_unichar_isgraph` holds or the character is a space.
fn is_graphic_or_space(c: char) -> bool {
    c == ' ' || !(c.is_control() || c.is_whitespace() || is_format_or_unassigned(c))
}

fn is_format_or_unassigned(c: char) -> bool {
    matches!(c as u32, 0xD800..=0xDFFF | 0xFFFE | 0xFFFF | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0xFEFF)
}

/// Checks the characters of a path or token (`flatpak_validate_path_characters`).
pub fn validate_characters(text: &str) -> Result<(), FsError> {
    match text.chars().find(|c| !is_graphic_or_space(*c)) {
        Some(c) => Err(FsError::NonGraphical(c)),
        None => Ok(()),
    }
}

/// Parses a token as `--filesystem` (or `--nofilesystem` when `negated`) does.
pub fn parse(input: &str, negated: bool) -> Result<ParsedFs, FsError> {
    validate_characters(input)?;
    let mut warnings = Vec::new();

    // Token up to the first unescaped `:`; `\x` yields `x`.
    let mut token = String::new();
    let mut suffix = None;
    let mut chars = input.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    token.push(next);
                }
            }
            ':' => {
                suffix = Some(&input[i + 1..]);
                break;
            }
            _ => token.push(c),
        }
    }

    let mut mode = if negated { FsMode::None } else { FsMode::Rw };
    let mut reset = false;
    match suffix {
        None => {}
        Some("ro") | Some("rw") | Some("create") if negated => {
            warnings.push(FsWarning::NotApplicable(
                suffix.unwrap_or_default().to_string(),
            ));
        }
        Some("ro") => mode = FsMode::Ro,
        Some("rw") => mode = FsMode::Rw,
        Some("create") => mode = FsMode::Create,
        Some("reset") => reset = true,
        Some(other) => warnings.push(FsWarning::UnknownSuffix(other.to_string())),
    }

    if token == "host-reset" {
        if !negated {
            return Err(FsError::HostResetNotNegated);
        }
        if suffix.is_some() {
            return Err(FsError::HostResetSuffix);
        }
        return Ok(ParsedFs {
            key: FsKey::HostReset,
            mode: FsMode::None,
            warnings,
        });
    }
    if reset {
        if token != "host" {
            return Err(FsError::ResetNotHost);
        }
        if !negated {
            return Err(FsError::ResetNotNegated);
        }
        return Ok(ParsedFs {
            key: FsKey::HostReset,
            mode: FsMode::None,
            warnings,
        });
    }

    // The 1.14 `..` check looks only at the text after the first `/`.
    if let Some((_, after)) = token.split_once('/') {
        if after.starts_with("../") || after.ends_with("/..") || after.contains("/../") {
            return Err(FsError::DotDot);
        }
        if after == ".." {
            warnings.push(FsWarning::DotDotGap);
        }
    }

    let token = if token.contains('/') {
        let normalised = normalise(&token);
        if normalised == "/" {
            return Err(FsError::Root);
        }
        normalised
    } else {
        token
    };

    let key = classify(&token)?;
    Ok(ParsedFs {
        key,
        mode,
        warnings,
    })
}

/// Collapses `//` and `/./`, and strips trailing `/` and `/.` (a lone `/` stays).
fn normalise(token: &str) -> String {
    let mut parts = token.split('/');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.filter(|p| !p.is_empty() && *p != ".").collect();
    if rest.is_empty() {
        return if first.is_empty() {
            "/".to_string()
        } else {
            first.to_string()
        };
    }
    format!("{first}/{}", rest.join("/"))
}

fn classify(token: &str) -> Result<FsKey, FsError> {
    match token {
        "home" | "~" => return Ok(FsKey::Home),
        "host" => return Ok(FsKey::Host),
        "host-os" => return Ok(FsKey::HostOs),
        "host-etc" => return Ok(FsKey::HostEtc),
        "xdg-run" => return Err(FsError::XdgRunBare),
        _ => {}
    }
    let (head, sub) = match token.split_once('/') {
        Some((h, s)) => (h, Some(s)),
        None => (token, None),
    };
    if let Some(dir) = XdgDir::from_token(head) {
        return Ok(FsKey::Xdg {
            dir,
            sub: sub.map(str::to_string),
        });
    }
    if head == "xdg-run" {
        return match sub {
            Some(s) => Ok(FsKey::XdgRun(s.to_string())),
            None => Err(FsError::XdgRunBare),
        };
    }
    if head == "~" || head == "home" {
        return Ok(match sub {
            Some(s) => FsKey::HomePath(s.to_string()),
            None => FsKey::Home,
        });
    }
    if token.starts_with('/') {
        return Ok(FsKey::Absolute(token.to_string()));
    }
    Err(FsError::UnknownLocation(token.to_string()))
}

/// Writes a key and mode back as Flatpak does (`unparse_filesystem_flags`): `:` → `\:`,
/// `\` → `\\`, `:ro`/`:create` suffixes, a `!` prefix for none, `!host:reset` for the
/// reset key.
pub fn unparse(key: &FsKey, mode: FsMode) -> String {
    if *key == FsKey::HostReset {
        return "!host:reset".to_string();
    }
    let mut out = String::new();
    if mode == FsMode::None {
        out.push('!');
    }
    for c in key.to_string().chars() {
        if c == ':' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str(mode.suffix().unwrap_or(""));
    out
}

/// The paths Flatpak refuses to export (`dont_export_in`, §5.3).
const RESERVED: &[&str] = &[
    "/.flatpak-info",
    "/app",
    "/dev",
    "/etc",
    "/proc",
    "/run/flatpak",
    "/run/host",
    "/usr",
    "/bin",
    "/lib",
    "/lib32",
    "/lib64",
    "/sbin",
];

/// For an absolute path: the reserved path it is under or an ancestor of, if any. `..`
/// components are resolved lexically first (`/..` is `/`).
pub fn reserved_conflict(path: &str) -> Option<&'static str> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let canonical = format!("/{}", parts.join("/"));
    RESERVED.iter().copied().find(|reserved| {
        canonical == *reserved
            || canonical.starts_with(&format!("{reserved}/"))
            || canonical == "/"
            || reserved.starts_with(&format!("{canonical}/"))
    })
}

/// The top-level directories `host` does not expose (`dont_mount_in_root`).
pub const NOT_UNDER_HOST: &[&str] = &[
    "app", "bin", "boot", "dev", "efi", "etc", "lib", "lib32", "lib64", "proc", "root", "run",
    "sbin", "sys", "tmp", "usr", "var",
];

/// Whether `host` already exposes this absolute path.
pub fn exposed_by_host(path: &str) -> bool {
    if path == "/run/media" || path.starts_with("/run/media/") {
        return true;
    }
    let top = path.trim_start_matches('/').split('/').next().unwrap_or("");
    !top.is_empty() && top != ".." && !NOT_UNDER_HOST.contains(&top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_paths_match_flatpak() {
        for p in [
            "/",
            "/usr",
            "/usr/bin/env",
            "/run",
            "/run/host/foo",
            "/lib64",
            "/..",
        ] {
            assert!(reserved_conflict(p).is_some(), "{p}");
        }
        for p in [
            "/run/media",
            "/var",
            "/tmp",
            "/srv",
            "/opt",
            "/mnt",
            "/usrx",
        ] {
            assert_eq!(reserved_conflict(p), None, "{p}");
        }
    }

    #[test]
    fn unparse_escapes() {
        let key = FsKey::Absolute("/srv/c:\\x".into());
        assert_eq!(unparse(&key, FsMode::Create), "/srv/c\\:\\\\x:create");
        assert_eq!(unparse(&FsKey::Home, FsMode::None), "!home");
        assert_eq!(unparse(&FsKey::HostReset, FsMode::None), "!host:reset");
    }
}
