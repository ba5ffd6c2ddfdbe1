//! Launch-time expansion of a mount plan for one user on one host: placeholders,
//! [`MountOp::When`] conditions, [`MountOp::BindEntries`] listings and [`MountOp::Sorted`]
//! groups become a flat list of plain operations, and [`EnvOp`]s become plain sets and unsets.
//!
//! One implementation of the rules documented in [`crate::mounts`], shared by every
//! consumer of a plan: the executor, `portcullis emit --backend bwrap` (which expands for
//! the current user at emit time) and the verifier's model. Host access goes through
//! [`HostFs`] so that tests can describe a host; [`RealFs`] is the running machine.
//! (Maintained by the mount-plan owner; additive changes only.)

use std::collections::BTreeMap;

use crate::mounts::{BindFlags, Condition, EnvOp, MountOp, PathExpr};

/// What a host path is (after following symlinks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A UNIX socket.
    Socket,
    /// Anything else (device node, FIFO).
    Other,
}

/// One entry of a host directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name.
    pub name: String,
    /// The link text when the entry is a symlink.
    pub symlink: Option<String>,
}

/// The host file system as far as expansion needs it.
pub trait HostFs {
    /// The kind of `path`, symlinks followed; `None` when it does not exist.
    fn kind(&self, path: &str) -> Option<FileKind>;
    /// The entries of the directory `path`, sorted by name; `None` when it cannot be read.
    fn list(&self, path: &str) -> Option<Vec<DirEntry>>;
    /// Whether `path` itself is a symbolic link (`lstat`).
    fn is_symlink(&self, path: &str) -> bool;
}

/// The running machine's file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl HostFs for RealFs {
    fn kind(&self, path: &str) -> Option<FileKind> {
        use std::os::unix::fs::FileTypeExt;
        let meta = std::fs::metadata(path).ok()?;
        let ty = meta.file_type();
        Some(if ty.is_dir() {
            FileKind::Dir
        } else if ty.is_file() {
            FileKind::File
        } else if ty.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        })
    }

    fn list(&self, path: &str) -> Option<Vec<DirEntry>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(path).ok()? {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let symlink = match entry.file_type() {
                Ok(t) if t.is_symlink() => std::fs::read_link(entry.path())
                    .ok()
                    .and_then(|t| t.into_os_string().into_string().ok()),
                _ => None,
            };
            out.push(DirEntry { name, symlink });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Some(out)
    }

    fn is_symlink(&self, path: &str) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    }
}

/// Who launches, and with what: the inputs placeholders are computed from.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    /// The caller's environment.
    pub env: BTreeMap<String, String>,
    /// The caller's uid and gid.
    pub uid: u32,
    /// The caller's primary gid.
    pub gid: u32,
    /// The caller's user name.
    pub user: String,
    /// The caller's home directory.
    pub home: String,
    /// The policy's app id.
    pub app_id: String,
    /// The runtime tree (`--runtime`); the host's `/usr` when `None`.
    pub runtime: Option<String>,
    /// The app tree (`--app`).
    pub app: Option<String>,
    /// The directory of extension trees (`--extensions`).
    pub extensions: Option<String>,
    /// The content of the host's `user-dirs.dirs`, if there is one.
    pub user_dirs: Option<String>,
}

/// Placeholder values for one launch (placeholder name without `${}` → value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values {
    map: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
}

/// A placeholder that has no value for this launch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The placeholder text without `${}`, e.g. `ENV:SSH_AUTH_SOCK`.
    pub name: String,
}

impl Missing {
    fn is_env(&self) -> bool {
        self.name.starts_with("ENV:")
    }
}

/// Why a plan cannot be expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// `${ENV:NAME}` is unset in an operation that is not optional.
    MissingVariable {
        /// The variable.
        name: String,
        /// The operation's destination (as written in the plan).
        dest: String,
    },
    /// A placeholder that is not in the documented list.
    UnknownPlaceholder(String),
}

impl std::fmt::Display for ExpandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpandError::MissingVariable { name, dest } => {
                write!(
                    f,
                    "environment variable `{name}` is unset (needed for `{dest}`)"
                )
            }
            ExpandError::UnknownPlaceholder(p) => write!(f, "unknown placeholder `${{{p}}}`"),
        }
    }
}

impl std::error::Error for ExpandError {}

const USER_DIRS: &[&str] = &[
    "XDG_DESKTOP_DIR",
    "XDG_DOCUMENTS_DIR",
    "XDG_DOWNLOAD_DIR",
    "XDG_MUSIC_DIR",
    "XDG_PICTURES_DIR",
    "XDG_PUBLICSHARE_DIR",
    "XDG_TEMPLATES_DIR",
    "XDG_VIDEOS_DIR",
];

fn trim_slash(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        "/"
    } else {
        t
    }
}

/// Reads `user-dirs.dirs` lines `XDG_X_DIR="$HOME/x"` (or an absolute path).
fn parse_user_dirs(text: &str, home: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if line.starts_with('#') || !USER_DIRS.contains(&name) {
            continue;
        }
        let value = value.trim().trim_matches('"');
        let path = if let Some(rest) = value.strip_prefix("$HOME") {
            format!("{home}{rest}")
        } else if value.starts_with('/') {
            value.to_string()
        } else {
            continue;
        };
        out.insert(name.to_string(), path);
    }
    out
}

/// The X11 socket for a local `DISPLAY` (`:N`, `unix:N`, screen suffix allowed).
fn x11_socket(display: &str) -> Option<String> {
    let (host, rest) = display.rsplit_once(':')?;
    if !(host.is_empty() || host == "unix") {
        return None;
    }
    let number = rest.split('.').next()?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("/tmp/.X11-unix/X{number}"))
}

impl Values {
    /// Computes every placeholder of the documented list for one launch.
    pub fn new(launch: &Launch) -> Values {
        let env = |name: &str| launch.env.get(name).filter(|v| !v.is_empty()).cloned();
        let home = trim_slash(&launch.home).to_string();
        let mut map = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            map.insert(k.to_string(), v);
        };
        put("HOME", home.clone());
        put("UID", launch.uid.to_string());
        put("GID", launch.gid.to_string());
        put("USER", launch.user.clone());
        put("APP_ID", launch.app_id.clone());
        let runtime_dir = env("XDG_RUNTIME_DIR").unwrap_or(format!("/run/user/{}", launch.uid));
        put("XDG_RUNTIME_DIR", runtime_dir.clone());
        put(
            "RUNTIME",
            launch.runtime.clone().unwrap_or("/usr".to_string()),
        );
        if let Some(app) = &launch.app {
            put("APP", app.clone());
        }
        if let Some(ext) = &launch.extensions {
            put("EXTENSIONS", ext.clone());
        }
        let config = env("XDG_CONFIG_HOME").unwrap_or(format!("{home}/.config"));
        put(
            "XDG_DATA_HOME",
            env("XDG_DATA_HOME").unwrap_or(format!("{home}/.local/share")),
        );
        put("XDG_CONFIG_HOME", config);
        put(
            "XDG_CACHE_HOME",
            env("XDG_CACHE_HOME").unwrap_or(format!("{home}/.cache")),
        );
        let mut dirs = launch
            .user_dirs
            .as_deref()
            .map(|t| parse_user_dirs(t, &home))
            .unwrap_or_default();
        dirs.entry("XDG_DESKTOP_DIR".to_string())
            .or_insert(format!("{home}/Desktop"));
        for (name, path) in dirs {
            if trim_slash(&path) != home {
                put(&name, trim_slash(&path).to_string());
            }
        }
        let wayland = env("WAYLAND_DISPLAY").unwrap_or("wayland-0".to_string());
        let wayland_socket = if wayland.starts_with('/') {
            wayland.clone()
        } else {
            format!("{runtime_dir}/{wayland}")
        };
        put("WAYLAND_SOCKET", wayland_socket);
        let name = if wayland.starts_with("wayland-") && !wayland.contains('/') {
            wayland
        } else {
            "wayland-0".to_string()
        };
        put("WAYLAND_NAME", name);
        if let Some(sock) = env("DISPLAY").as_deref().and_then(x11_socket) {
            put("X11_SOCKET", sock);
        }
        match env("PULSE_SERVER") {
            None => put("PULSE_SOCKET", format!("{runtime_dir}/pulse/native")),
            Some(server) => {
                if let Some(path) = server.strip_prefix("unix:") {
                    put("PULSE_SOCKET", path.to_string());
                }
            }
        }
        put(
            "PCSC_SOCKET",
            env("PCSCLITE_CSOCK_NAME").unwrap_or("/run/pcscd/pcscd.comm".to_string()),
        );
        let cups = env("CUPS_SERVER")
            .filter(|s| s.starts_with('/') && !s.contains(':'))
            .unwrap_or("/var/run/cups/cups.sock".to_string());
        put("CUPS_SOCKET", cups);
        put(
            "GPG_AGENT_SOCKET",
            format!("{runtime_dir}/gnupg/S.gpg-agent"),
        );
        let env = launch
            .env
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Values { map, env }
    }

    /// The value of one placeholder (`HOME`, `ENV:DISPLAY`).
    pub fn get(&self, name: &str) -> Option<&str> {
        match name.strip_prefix("ENV:") {
            Some(var) => self.env.get(var).map(String::as_str),
            None => self.map.get(name).map(String::as_str),
        }
    }

    /// Whether `name` is in the documented list (with or without a value here).
    fn known(name: &str) -> bool {
        name.starts_with("ENV:")
            || USER_DIRS.contains(&name)
            || [
                "HOME",
                "UID",
                "GID",
                "USER",
                "APP_ID",
                "XDG_RUNTIME_DIR",
                "RUNTIME",
                "APP",
                "EXTENSIONS",
                "XDG_DATA_HOME",
                "XDG_CONFIG_HOME",
                "XDG_CACHE_HOME",
                "WAYLAND_SOCKET",
                "WAYLAND_NAME",
                "X11_SOCKET",
                "PULSE_SOCKET",
                "PCSC_SOCKET",
                "CUPS_SOCKET",
                "GPG_AGENT_SOCKET",
            ]
            .contains(&name)
    }

    /// Expands every `${…}` in `text`.
    pub fn expand(&self, text: &str) -> Result<String, Lookup> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            if start > 0 && rest.as_bytes()[start - 1] == b'$' {
                // `$${` is the escape for a literal `${`.
                out.push_str(&rest[..start - 1]);
                out.push_str("${");
                rest = &rest[start + 2..];
                continue;
            }
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = &after[..end];
            if !Values::known(name) {
                return Err(Lookup::Unknown(name.to_string()));
            }
            match self.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    return Err(Lookup::Missing(Missing {
                        name: name.to_string(),
                    }))
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Why one text did not expand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A documented placeholder without a value for this launch.
    Missing(Missing),
    /// Not a documented placeholder.
    Unknown(String),
}

/// Evaluates a condition on the host.
pub fn holds(condition: &Condition, values: &Values, fs: &dyn HostFs) -> bool {
    let kind = |p: &PathExpr| values.expand(p.as_str()).ok().and_then(|p| fs.kind(&p));
    match condition {
        Condition::Exists(p) => kind(p).is_some(),
        Condition::IsDir(p) => kind(p) == Some(FileKind::Dir),
        Condition::IsSocket(p) => kind(p) == Some(FileKind::Socket),
        Condition::IsSymlink(p) => values
            .expand(p.as_str())
            .is_ok_and(|path| fs.is_symlink(&path)),
        Condition::Not(c) => !holds(c, values, fs),
        Condition::All(cs) => cs.iter().all(|c| holds(c, values, fs)),
    }
}

struct Expander<'a> {
    values: &'a Values,
    fs: &'a dyn HostFs,
}

fn dest_of(op: &MountOp) -> Option<&PathExpr> {
    match op {
        MountOp::Tmpfs { dest, .. }
        | MountOp::Dir { dest, .. }
        | MountOp::Bind { dest, .. }
        | MountOp::Proc { dest }
        | MountOp::Dev { dest }
        | MountOp::Symlink { dest, .. }
        | MountOp::File { dest, .. }
        | MountOp::RemountRo { dest }
        | MountOp::Mask { dest }
        | MountOp::BindEntries { dest, .. } => Some(dest),
        MountOp::HostDir { path, .. } => Some(path),
        MountOp::When { then, .. } => dest_of(then),
        MountOp::Sorted { .. } => None,
    }
}

/// The order of operations at one destination in a [`MountOp::Sorted`] group: what
/// exposes more comes later and wins, as Flatpak keeps the higher mode of one path.
fn rank(op: &MountOp) -> u8 {
    match op {
        MountOp::Dir { .. } | MountOp::HostDir { .. } | MountOp::Symlink { .. } => 0,
        MountOp::Tmpfs { .. } | MountOp::Mask { .. } => 1,
        MountOp::Bind { flags, .. } if flags.readonly => 2,
        _ => 3,
    }
}

impl Expander<'_> {
    /// Expands one path; `Ok(None)` means "skip the operation".
    fn path(
        &self,
        p: &PathExpr,
        optional: bool,
        dest: &PathExpr,
    ) -> Result<Option<PathExpr>, ExpandError> {
        match self.values.expand(p.as_str()) {
            Ok(text) => Ok(Some(PathExpr(text))),
            Err(Lookup::Unknown(name)) => Err(ExpandError::UnknownPlaceholder(name)),
            Err(Lookup::Missing(m)) if m.is_env() && !optional => {
                Err(ExpandError::MissingVariable {
                    name: m.name.trim_start_matches("ENV:").to_string(),
                    dest: dest.0.clone(),
                })
            }
            Err(Lookup::Missing(_)) => Ok(None),
        }
    }

    fn content(&self, content: &[u8]) -> Result<Vec<u8>, ExpandError> {
        let text = String::from_utf8_lossy(content);
        let mut out = String::new();
        for line in text.split_inclusive('\n') {
            match self.values.expand(line) {
                Ok(l) => out.push_str(&l),
                Err(Lookup::Unknown(name)) => return Err(ExpandError::UnknownPlaceholder(name)),
                Err(Lookup::Missing(_)) => {}
            }
        }
        Ok(out.into_bytes())
    }

    fn op(&self, op: &MountOp, optional: bool, out: &mut Vec<MountOp>) -> Result<(), ExpandError> {
        macro_rules! path {
            ($p:expr, $dest:expr) => {
                match self.path($p, optional, $dest)? {
                    Some(p) => p,
                    None => return Ok(()),
                }
            };
        }
        match op {
            MountOp::Tmpfs { dest, mode } => out.push(MountOp::Tmpfs {
                dest: path!(dest, dest),
                mode: *mode,
            }),
            MountOp::Dir { dest, mode } => out.push(MountOp::Dir {
                dest: path!(dest, dest),
                mode: *mode,
            }),
            MountOp::HostDir { path, mode } => out.push(MountOp::HostDir {
                path: path!(path, path),
                mode: *mode,
            }),
            MountOp::Bind {
                source,
                dest,
                flags,
            } => {
                let optional = optional || flags.optional;
                let source = match self.path(source, optional, dest)? {
                    Some(p) => p,
                    None => return Ok(()),
                };
                let dest = match self.path(dest, optional, dest)? {
                    Some(p) => p,
                    None => return Ok(()),
                };
                // A bind under a host condition (or with a source that may be missing)
                // stays optional once expanded: the executor then skips a source that
                // became unusable since the condition was decided (gone, or a symbolic
                // link in a place an app may write) instead of failing every launch.
                out.push(MountOp::Bind {
                    source,
                    dest,
                    flags: BindFlags { optional, ..*flags },
                });
            }
            MountOp::Proc { dest } => out.push(MountOp::Proc {
                dest: path!(dest, dest),
            }),
            MountOp::Dev { dest } => out.push(MountOp::Dev {
                dest: path!(dest, dest),
            }),
            MountOp::Symlink { target, dest } => {
                let target = match self.path(&PathExpr(target.clone()), optional, dest)? {
                    Some(t) => t.0,
                    None => return Ok(()),
                };
                out.push(MountOp::Symlink {
                    target,
                    dest: path!(dest, dest),
                });
            }
            MountOp::File {
                dest,
                content,
                mode,
                readonly,
                expand,
            } => {
                let dest = path!(dest, dest);
                let content = if *expand {
                    self.content(content)?
                } else {
                    content.clone()
                };
                out.push(MountOp::File {
                    dest,
                    content,
                    mode: *mode,
                    readonly: *readonly,
                    expand: false,
                });
            }
            MountOp::RemountRo { dest } => out.push(MountOp::RemountRo {
                dest: path!(dest, dest),
            }),
            MountOp::Mask { dest } => out.push(MountOp::Mask {
                dest: path!(dest, dest),
            }),
            MountOp::When { condition, then } => {
                if holds(condition, self.values, self.fs) {
                    self.op(then, true, out)?;
                }
            }
            MountOp::BindEntries {
                source,
                dest,
                except,
                flags,
            } => {
                let optional = optional || flags.optional;
                let Some(src) = self.path(source, optional, dest)? else {
                    return Ok(());
                };
                let Some(dst) = self.path(dest, optional, dest)? else {
                    return Ok(());
                };
                let base = |dir: &str, name: &str| {
                    if dir.ends_with('/') {
                        format!("{dir}{name}")
                    } else {
                        format!("{dir}/{name}")
                    }
                };
                for entry in self.fs.list(&src.0).unwrap_or_default() {
                    if except.contains(&entry.name) || entry.name == "." || entry.name == ".." {
                        continue;
                    }
                    let to = PathExpr(base(&dst.0, &entry.name));
                    match entry.symlink {
                        Some(target) => out.push(MountOp::Symlink { target, dest: to }),
                        None => out.push(MountOp::Bind {
                            source: PathExpr(base(&src.0, &entry.name)),
                            dest: to,
                            flags: *flags,
                        }),
                    }
                }
            }
            MountOp::Sorted { ops } => {
                let mut inner = Vec::new();
                for op in ops {
                    self.op(op, optional, &mut inner)?;
                }
                inner.sort_by(|a, b| (dest_of(a), rank(a)).cmp(&(dest_of(b), rank(b))));
                out.extend(inner);
            }
        }
        Ok(())
    }
}

/// Expands a plan: the result holds no placeholder, `When`, `BindEntries` or `Sorted`.
pub fn expand_plan(
    ops: &[MountOp],
    values: &Values,
    fs: &dyn HostFs,
) -> Result<Vec<MountOp>, ExpandError> {
    let ex = Expander { values, fs };
    let mut out = Vec::new();
    for op in ops {
        ex.op(op, false, &mut out)?;
    }
    Ok(out)
}

/// Expands environment operations into plain `Set`/`Unset`, in order.
pub fn expand_env(
    ops: &[EnvOp],
    values: &Values,
    fs: &dyn HostFs,
) -> Result<Vec<EnvOp>, ExpandError> {
    let mut out = Vec::new();
    for op in ops {
        expand_env_op(op, values, fs, &mut out)?;
    }
    Ok(out)
}

fn expand_env_op(
    op: &EnvOp,
    values: &Values,
    fs: &dyn HostFs,
    out: &mut Vec<EnvOp>,
) -> Result<(), ExpandError> {
    match op {
        EnvOp::Set { name, value } => match values.expand(value.as_str()) {
            Ok(v) => out.push(EnvOp::Set {
                name: name.clone(),
                value: PathExpr(v),
            }),
            Err(Lookup::Unknown(p)) => return Err(ExpandError::UnknownPlaceholder(p)),
            Err(Lookup::Missing(_)) => out.push(EnvOp::Unset { name: name.clone() }),
        },
        EnvOp::Unset { name } => out.push(EnvOp::Unset { name: name.clone() }),
        EnvOp::When { condition, then } => {
            if holds(condition, values, fs) {
                expand_env_op(then, values, fs, out)?;
            }
        }
    }
    Ok(())
}

/// Applies expanded environment operations to an environment.
pub fn apply_env(ops: &[EnvOp], env: &mut BTreeMap<String, String>) {
    for op in ops {
        match op {
            EnvOp::Set { name, value } => {
                env.insert(name.clone(), value.0.clone());
            }
            EnvOp::Unset { name } => {
                env.remove(name);
            }
            EnvOp::When { .. } => {}
        }
    }
}

/// Read-only, no devices, required: the most common bind.
pub const RO: BindFlags = BindFlags {
    readonly: true,
    devices: false,
    optional: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFs;
    impl HostFs for NoFs {
        fn kind(&self, path: &str) -> Option<FileKind> {
            (path == "/present").then_some(FileKind::Dir)
        }
        fn list(&self, _: &str) -> Option<Vec<DirEntry>> {
            None
        }
        fn is_symlink(&self, _: &str) -> bool {
            false
        }
    }

    fn values() -> Values {
        let mut env = BTreeMap::new();
        env.insert("DISPLAY".to_string(), "unix:3.0".to_string());
        Values::new(&Launch {
            env,
            uid: 1000,
            gid: 1000,
            user: "u".into(),
            home: "/home/u/".into(),
            app_id: "org.x.A".into(),
            user_dirs: Some(
                "XDG_DOWNLOAD_DIR=\"$HOME/Downloads\"\nXDG_MUSIC_DIR=\"$HOME/\"\n".into(),
            ),
            ..Launch::default()
        })
    }

    #[test]
    fn placeholders_expand_with_documented_defaults() {
        let v = values();
        assert_eq!(
            v.expand("${HOME}/.var/app/${APP_ID}").unwrap(),
            "/home/u/.var/app/org.x.A"
        );
        assert_eq!(v.get("XDG_RUNTIME_DIR"), Some("/run/user/1000"));
        assert_eq!(v.get("XDG_DOWNLOAD_DIR"), Some("/home/u/Downloads"));
        assert_eq!(
            v.get("XDG_MUSIC_DIR"),
            None,
            "a user dir equal to home is unset"
        );
        assert_eq!(v.get("XDG_DESKTOP_DIR"), Some("/home/u/Desktop"));
        assert_eq!(v.get("X11_SOCKET"), Some("/tmp/.X11-unix/X3"));
        assert_eq!(v.get("RUNTIME"), Some("/usr"));
        assert!(matches!(v.expand("${NOPE}"), Err(Lookup::Unknown(_))));
        assert_eq!(
            v.expand("a$${HOME}b$$${HOME}").unwrap(),
            "a${HOME}b$${HOME}"
        );
    }

    #[test]
    fn unset_placeholders_skip_or_fail() {
        let v = values();
        let plan = vec![
            MountOp::Dir {
                dest: PathExpr::new("${XDG_MUSIC_DIR}"),
                mode: 0o755,
            },
            MountOp::Bind {
                source: PathExpr::new("${ENV:SSH_AUTH_SOCK}"),
                dest: PathExpr::new("/run/flatpak/ssh-auth"),
                flags: BindFlags {
                    optional: true,
                    ..RO
                },
            },
            MountOp::When {
                condition: Condition::Exists(PathExpr::new("/present")),
                then: Box::new(MountOp::Dir {
                    dest: PathExpr::new("/yes"),
                    mode: 0o755,
                }),
            },
        ];
        let out = expand_plan(&plan, &v, &NoFs).unwrap();
        assert_eq!(
            out,
            vec![MountOp::Dir {
                dest: PathExpr::new("/yes"),
                mode: 0o755
            }]
        );
        let strict = vec![MountOp::Bind {
            source: PathExpr::new("${ENV:SSH_AUTH_SOCK}"),
            dest: PathExpr::new("/x"),
            flags: RO,
        }];
        assert!(matches!(
            expand_plan(&strict, &v, &NoFs),
            Err(ExpandError::MissingVariable { .. })
        ));
    }

    #[test]
    fn sorted_groups_order_by_expanded_destination() {
        let v = values();
        let dir = |d: &str| MountOp::Dir {
            dest: PathExpr::new(d),
            mode: 0o755,
        };
        let plan = vec![MountOp::Sorted {
            ops: vec![dir("/opt/z"), dir("${HOME}/a"), dir("/home")],
        }];
        let out = expand_plan(&plan, &v, &NoFs).unwrap();
        assert_eq!(out, vec![dir("/home"), dir("/home/u/a"), dir("/opt/z")]);
        let bind = |src: &str, readonly| MountOp::Bind {
            source: PathExpr::new(src),
            dest: PathExpr::new("/home/u/x"),
            flags: BindFlags {
                readonly,
                ..BindFlags::default()
            },
        };
        let hide = MountOp::Tmpfs {
            dest: PathExpr::new("/home/u/x"),
            mode: 0o755,
        };
        let plan = vec![MountOp::Sorted {
            ops: vec![
                bind("${HOME}/x", false),
                hide.clone(),
                bind("/home/u/x", true),
            ],
        }];
        let out = expand_plan(&plan, &v, &NoFs).unwrap();
        assert_eq!(
            out,
            vec![hide, bind("/home/u/x", true), bind("/home/u/x", false)]
        );
    }

    #[test]
    fn file_lines_with_unset_placeholders_are_dropped() {
        let v = values();
        let plan = vec![MountOp::File {
            dest: PathExpr::new("/f"),
            content: b"A=${XDG_DOWNLOAD_DIR}\nB=${XDG_MUSIC_DIR}\n".to_vec(),
            mode: 0o644,
            readonly: true,
            expand: true,
        }];
        let out = expand_plan(&plan, &v, &NoFs).unwrap();
        let MountOp::File { content, .. } = &out[0] else {
            panic!("not a file")
        };
        assert_eq!(content, b"A=/home/u/Downloads\n");
    }
}
