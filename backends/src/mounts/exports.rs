//! The filesystem part of the plan (semantics §1.7, §1.8, §5.2, §5.3): persist binds, the
//! per-app runtime dir, Flatpak's export list (sorted at launch, the higher mode winning for
//! one path, hide entries, reserved paths refused), deny masks, the `/run/host` host-os and
//! host-etc material, `os-release`, the xdg-config/data/cache subpath binds and
//! `user-dirs.dirs`.

use std::collections::BTreeMap;

use portcullis_blob::mounts::{BindFlags, Condition, MountOp};
use portcullis_ir::fs::{FsKey, FsMode, XdgDir};
use portcullis_ir::Policy;

use super::ops::*;
use super::Warning;

/// Flatpak's `dont_export_in`: a grant under, or an ancestor of, one of these is refused.
pub const RESERVED: &[&str] = &[
    "/.flatpak-info",
    "/app",
    "/bin",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/proc",
    "/run/flatpak",
    "/run/host",
    "/sbin",
    "/usr",
];

/// Flatpak's `dont_mount_in_root`: top-level host entries `host` does not expose.
pub const NOT_IN_ROOT: &[&str] = &[
    ".", "..", "app", "bin", "boot", "dev", "efi", "etc", "lib", "lib32", "lib64", "proc", "root",
    "run", "sbin", "sys", "tmp", "usr", "var",
];

/// An export entry's kind, ordered as Flatpak orders them (the higher one wins).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The path must exist as an empty directory (`$HOME` itself).
    Dir,
    /// Hidden (`--nofilesystem` on a path).
    Hide,
    /// Read-only.
    Ro,
    /// Read-write (`rw` and `create`).
    Rw,
}

fn kind_of(mode: FsMode) -> Kind {
    match mode {
        FsMode::None => Kind::Hide,
        FsMode::Ro => Kind::Ro,
        FsMode::Rw | FsMode::Create => Kind::Rw,
    }
}

/// The placeholder holding an xdg location's host path.
fn xdg_base(dir: XdgDir) -> String {
    match dir {
        XdgDir::Data => "${XDG_DATA_HOME}".to_string(),
        XdgDir::Cache => "${XDG_CACHE_HOME}".to_string(),
        XdgDir::Config => "${XDG_CONFIG_HOME}".to_string(),
        other => format!("${{{}}}", other.user_dir_variable().unwrap_or("HOME")),
    }
}

fn join(base: &str, sub: &str) -> String {
    if sub.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{sub}")
    }
}

/// The host path (a path expression) a path-like key names.
pub fn key_path(key: &FsKey) -> Option<String> {
    Some(match key {
        FsKey::Xdg { dir, sub } => join(&xdg_base(*dir), sub.as_deref().unwrap_or("")),
        FsKey::XdgRun(sub) => join("${XDG_RUNTIME_DIR}", sub),
        FsKey::HomePath(path) => join("${HOME}", path),
        FsKey::Absolute(path) => path.clone(),
        FsKey::Home => "${HOME}".to_string(),
        _ => return None,
    })
}

/// The reserved path `path` collides with, if any (`path` is absolute and normalised).
pub fn reserved_by(path: &str) -> Option<&'static str> {
    let under =
        |a: &str, b: &str| a == b || (a.starts_with(b) && a.as_bytes().get(b.len()) == Some(&b'/'));
    RESERVED
        .iter()
        .find(|r| under(path, r) || path == "/" || under(r, path))
        .copied()
}

/// Why a path cannot be planned, if it cannot (`shown` is the key as the policy wrote it).
fn refusal(path: &str, shown: &str) -> Option<(&'static str, String)> {
    if path.split('/').any(|c| c == "..") {
        return Some((
            "mounts::dotdot",
            format!("`{shown}` contains `..`; it is not exported"),
        ));
    }
    if user_part(path).contains("${") {
        return Some((
            "mounts::placeholder-text",
            format!("`{shown}` contains `${{`, which the plan reserves for placeholders"),
        ));
    }
    if path.starts_with('/') {
        if let Some(r) = reserved_by(path) {
            return Some((
                "mounts::reserved-path",
                format!("path `{shown}` is reserved by flatpak (`{r}`); it is not exported"),
            ));
        }
    }
    None
}

/// The part of a path expression that came from the policy (after its root placeholder).
fn user_part(path: &str) -> &str {
    &path[root_of(path).len().min(path.len())..]
}

fn root_of(path: &str) -> &str {
    if path.starts_with("${") {
        path.find('}').map(|i| &path[..=i]).unwrap_or(path)
    } else {
        "/"
    }
}

fn under(path: &str, parent: &str) -> bool {
    parent == "/"
        || path == parent
        || (path.starts_with(parent) && path.as_bytes().get(parent.len()) == Some(&b'/'))
}

/// Whether the mapped entry `m` may be an ancestor of `e` once both are expanded.
fn may_contain(m: &str, e: &str) -> bool {
    if m == e {
        return false;
    }
    let (rm, re) = (root_of(m), root_of(e));
    if rm == re {
        return under(e, m);
    }
    let home_like = |r: &str| r != "/" && r != "${XDG_RUNTIME_DIR}";
    match (rm, re) {
        ("/", "${XDG_RUNTIME_DIR}") => ["/", "/run", "/run/user"].contains(&m),
        ("/", _) => ["/", "/home", "/var", "/var/home", "/root"].contains(&m),
        ("${HOME}", "/") => ["/home/", "/root/", "/var/home/"]
            .iter()
            .any(|h| e.starts_with(h)),
        ("${HOME}", r) => home_like(r),
        // A user directory placeholder (`${XDG_DATA_HOME}`, `${XDG_CONFIG_HOME}`, a user
        // dir…) expands to a path that may hold any path of the home directory: the hidden
        // `~/.local/share/flatpak` lies inside `${XDG_DATA_HOME}` (an app granted
        // `xdg-data` could otherwise write its own `flatpak override` and grant itself
        // `host` for the next launch — found by the adversarial review).
        (r, "${HOME}") => r.starts_with("${XDG_") && r != "${XDG_RUNTIME_DIR}",
        _ => false,
    }
}

/// Host directories `:create` grants and persist entries need, created before launch.
pub fn create_dirs(policy: &Policy) -> Vec<MountOp> {
    let mut ops = Vec::new();
    for (key, entry) in &policy.context.filesystems {
        let creatable = matches!(key, FsKey::HomePath(_) | FsKey::Absolute(_))
            || matches!(key, FsKey::Xdg { dir, .. } if dir.user_dir_variable().is_some());
        if entry.mode == FsMode::Create && creatable {
            if let Some(path) = key_path(key).filter(|p| refusal(p, "").is_none()) {
                ops.push(host_dir(&path, 0o755));
            }
        }
    }
    for (src, _) in persist_binds(policy, &mut Vec::new()) {
        ops.push(host_dir(&src, 0o755));
    }
    ops
}

/// Persist entries as (host source, sandbox destination); none with home access.
fn persist_binds(policy: &Policy, warnings: &mut Vec<Warning>) -> Vec<(String, String)> {
    if policy.context.has_home_access() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (path, origin) in &policy.context.persistent {
        let rel = path.trim_start_matches('/');
        let parts: Vec<&str> = rel
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        if rel.split('/').any(|c| c == "..") || rel.contains("${") {
            warnings.push(Warning {
                code: "mounts::persist-dotdot",
                message: format!("`..` not supported in persist path `{path}`; it is skipped"),
                origin: *origin,
            });
            continue;
        }
        if parts.is_empty() {
            out.push((APP_DIR.to_string(), "${HOME}".to_string()));
        } else {
            let rel = parts.join("/");
            out.push((format!("{APP_DIR}/{rel}"), format!("${{HOME}}/{rel}")));
        }
    }
    out
}

/// The entry list: path expression → (kind, origin), the higher kind winning.
fn entries(policy: &Policy, warnings: &mut Vec<Warning>) -> BTreeMap<String, Kind> {
    let ctx = &policy.context;
    let mut map: BTreeMap<String, Kind> = BTreeMap::new();
    let mut add = |path: String, kind: Kind| {
        let slot = map.entry(path).or_insert(kind);
        *slot = (*slot).max(kind);
    };
    add("${HOME}".to_string(), Kind::Dir);
    add("${HOME}/.local/share/flatpak".to_string(), Kind::Hide);
    add("${HOME}/.var/app".to_string(), Kind::Hide);
    add(APP_DIR.to_string(), Kind::Rw);
    // `host` exposes the home directory through `/home`; Flatpak adds `$HOME` itself only
    // for `home` (the oracle's filesystem-host case keeps `--dir $HOME`).
    let home = ctx.fs_mode(&FsKey::Home);
    if home > FsMode::None {
        add("${HOME}".to_string(), kind_of(home));
    }
    for (key, entry) in &ctx.filesystems {
        if !key.is_path_like() {
            continue;
        }
        let Some(path) = key_path(key) else { continue };
        if let Some((code, message)) = refusal(&path, &key.to_string()) {
            warnings.push(Warning {
                code,
                message,
                origin: entry.origin,
            });
            continue;
        }
        add(path, kind_of(entry.mode));
    }
    map
}

fn host_mode(policy: &Policy) -> FsMode {
    policy.context.fs_mode(&FsKey::Host)
}

/// The export list, sorted at launch.
fn export_list(policy: &Policy, warnings: &mut Vec<Warning>) -> MountOp {
    let map = entries(policy, warnings);
    let host = host_mode(policy);
    let mapped: Vec<&str> = map
        .iter()
        .filter(|(_, k)| **k >= Kind::Ro)
        .map(|(p, _)| p.as_str())
        .collect();
    let mut ops = Vec::new();
    if host > FsMode::None {
        ops.push(MountOp::BindEntries {
            source: p("/"),
            dest: p("/"),
            except: NOT_IN_ROOT.iter().map(|s| s.to_string()).collect(),
            flags: BindFlags {
                readonly: !host.is_writable(),
                devices: false,
                optional: true,
            },
        });
        ops.push(bind_mode(
            "/run/media",
            "/run/media",
            host.is_writable(),
            true,
        ));
    }
    for (path, kind) in &map {
        let ancestor_mapped = mapped.iter().any(|m| may_contain(m, path))
            || (host > FsMode::None && host_covers(path));
        ops.push(match kind {
            Kind::Dir => when(is_dir(path), dir(path)),
            Kind::Hide if ancestor_mapped => when(is_dir(path), tmpfs(path)),
            Kind::Hide => when(is_dir(path), dir(path)),
            Kind::Ro => bind_mode(path, path, false, true),
            Kind::Rw => bind_mode(path, path, true, true),
        });
    }
    MountOp::Sorted { ops }
}

/// Whether `host`'s top-level binds may cover `path`.
fn host_covers(path: &str) -> bool {
    if path.starts_with("${") {
        return path.starts_with("${HOME}") || !path.starts_with("${XDG_RUNTIME_DIR}");
    }
    let top = path.trim_start_matches('/').split('/').next().unwrap_or("");
    !NOT_IN_ROOT.contains(&top) || path.starts_with("/run/media")
}

/// Persist, the app's runtime dir, the export list, masks, `/run/host`, os-release, xdg
/// subpath binds and `user-dirs.dirs`, in Flatpak's order.
pub fn exports(policy: &Policy, warnings: &mut Vec<Warning>) -> Vec<MountOp> {
    let mut ops = Vec::new();
    for (src, dest) in persist_binds(policy, warnings) {
        ops.push(bind(&src, &dest));
    }
    ops.push(bind(
        "${XDG_RUNTIME_DIR}/app/${APP_ID}",
        "/run/flatpak/app/${APP_ID}",
    ));
    ops.push(export_list(policy, warnings));
    ops.extend(masks(policy, warnings));
    ops.extend(run_host(policy));
    ops.push(when(
        exists("/etc/os-release"),
        ro_bind("/etc/os-release", "/run/host/os-release"),
    ));
    ops.push(when(
        not(exists("/etc/os-release")),
        ro_bind_try("/usr/lib/os-release", "/run/host/os-release"),
    ));
    ops.extend(xdg_subpaths(policy));
    ops.extend(user_dirs(policy));
    ops
}

/// Deny masks (beyond Flatpak), applied after the grants they cut into.
fn masks(policy: &Policy, warnings: &mut Vec<Warning>) -> Vec<MountOp> {
    let mut out = Vec::new();
    for mask in &policy.beyond.deny {
        let path = match mask.path.strip_prefix("~/") {
            Some(rest) => join("${HOME}", rest.trim_end_matches('/')),
            None if mask.path == "~" => "${HOME}".to_string(),
            None => mask.path.clone(),
        };
        if path.split('/').any(|c| c == "..") || user_part(&path).contains("${") {
            warnings.push(Warning {
                code: "mounts::mask-path",
                message: format!("deny mask `{}` cannot be planned", mask.path),
                origin: mask.origin,
            });
            continue;
        }
        out.push(MountOp::Mask { dest: p(path) });
    }
    out
}

/// `host-os` and `host-etc` under `/run/host` (modes are the max with `host`).
fn run_host(policy: &Policy) -> Vec<MountOp> {
    let ctx = &policy.context;
    let host = host_mode(policy);
    let os = ctx.fs_mode(&FsKey::HostOs).max(host);
    let etc = ctx.fs_mode(&FsKey::HostEtc).max(host);
    let mut ops = Vec::new();
    if os > FsMode::None {
        let w = os.is_writable();
        ops.push(bind_mode("/usr", "/run/host/usr", w, false));
        ops.push(when(
            is_dir("/var/usrlocal"),
            bind_mode("/var/usrlocal", "/run/host/var/usrlocal", w, false),
        ));
        for name in super::base::USR_MERGED {
            let host_path = format!("/{name}");
            let dest = format!("/run/host/{name}");
            let link = Condition::IsSymlink(p(&host_path));
            ops.push(when(link.clone(), symlink(&format!("usr/{name}"), &dest)));
            ops.push(when(
                Condition::All(vec![not(link), is_dir(&host_path)]),
                bind_mode(&host_path, &dest, w, false),
            ));
        }
        if etc == FsMode::None {
            ops.push(bind_mode(
                "/etc/ld.so.cache",
                "/run/host/etc/ld.so.cache",
                w,
                true,
            ));
            ops.push(when(
                is_dir("/etc/alternatives"),
                bind_mode("/etc/alternatives", "/run/host/etc/alternatives", w, false),
            ));
        }
    }
    if etc > FsMode::None {
        ops.push(bind_mode("/etc", "/run/host/etc", etc.is_writable(), false));
    }
    ops
}

/// `xdg-config/sub` and friends are also bound into the app's own config/data/cache dir.
fn xdg_subpaths(policy: &Policy) -> Vec<MountOp> {
    let mut ops = Vec::new();
    for (key, entry) in &policy.context.filesystems {
        let FsKey::Xdg {
            dir,
            sub: Some(sub),
        } = key
        else {
            continue;
        };
        let app_sub = match dir {
            XdgDir::Data => "data",
            XdgDir::Cache => "cache",
            XdgDir::Config => "config",
            _ => continue,
        };
        if entry.mode == FsMode::None || sub.split('/').any(|c| c == "..") || sub.contains("${") {
            continue;
        }
        let src = join(&xdg_base(*dir), sub);
        let dest = format!("{APP_DIR}/{app_sub}/{sub}");
        let parent = dest.rsplit_once('/').map(|(a, _)| a).unwrap_or(APP_DIR);
        ops.push(when(
            Condition::All(vec![exists(&src), is_dir(parent)]),
            bind_mode(&src, &dest, entry.mode.is_writable(), false),
        ));
    }
    ops
}

/// `user-dirs.dirs` in the app's config dir: the host's with home access, else one line per
/// granted user dir.
fn user_dirs(policy: &Policy) -> Vec<MountOp> {
    let dest = format!("{APP_DIR}/config/user-dirs.dirs");
    if policy.context.has_home_access() {
        let src = "${XDG_CONFIG_HOME}/user-dirs.dirs";
        return vec![when(exists(src), ro_bind(src, &dest))];
    }
    let mut text = String::new();
    for dir in XdgDir::ALL {
        let Some(var) = dir.user_dir_variable() else {
            continue;
        };
        let granted = policy.context.filesystems.iter().any(|(k, e)| {
            matches!(k, FsKey::Xdg { dir: d, .. } if d == dir) && e.mode > FsMode::None
        });
        if granted {
            text.push_str(&format!("{var}=\"${{{var}}}\"\n"));
        }
    }
    if text.is_empty() {
        Vec::new()
    } else {
        vec![data(&dest, text, true)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_paths_cover_ancestors_and_descendants_x10() {
        for path in [
            "/",
            "/usr/bin/env",
            "/run",
            "/run/host/foo",
            "/etc/passwd",
            "/lib64",
            "/app/foo",
        ] {
            assert!(reserved_by(path).is_some(), "{path}");
        }
        for path in [
            "/run/media",
            "/var",
            "/tmp",
            "/opt",
            "/srv",
            "/run/user/1000",
            "/usrx",
        ] {
            assert_eq!(reserved_by(path), None, "{path}");
        }
    }

    #[test]
    fn hidden_paths_become_tmpfs_only_where_a_grant_may_contain_them() {
        assert!(may_contain("${HOME}", "${HOME}/.var/app"));
        assert!(!may_contain(
            "${HOME}/.var/app/${APP_ID}",
            "${HOME}/.var/app"
        ));
        assert!(may_contain("/home", "${HOME}/x"));
        assert!(!may_contain("/opt/data", "${HOME}/x"));
        assert!(may_contain("${HOME}", "${XDG_DOWNLOAD_DIR}/x"));
        // A user directory may be the home directory itself (or hold its `.local`).
        assert!(may_contain("${XDG_DOWNLOAD_DIR}", "${HOME}/x"));
        assert!(may_contain(
            "${XDG_DATA_HOME}",
            "${HOME}/.local/share/flatpak"
        ));
        assert!(!may_contain("${XDG_RUNTIME_DIR}", "${HOME}/x"));
        assert!(may_contain("${HOME}", "/home/u/x"));
    }

    #[test]
    fn refusals_name_the_key_as_written() {
        let (code, message) =
            refusal("${XDG_DOWNLOAD_DIR}/..", "xdg-download/..").expect("refused");
        assert_eq!(code, "mounts::dotdot");
        assert!(message.contains("`xdg-download/..`"));
        assert!(refusal("${HOME}/a${HOME}", "~/a${HOME}").is_some());
        assert!(refusal("${HOME}/a", "~/a").is_none());
    }
}
