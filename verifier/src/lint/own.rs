//! portcullis' own lints: what flatpak-builder-lint does not see.
//!
//! The linter matches a fixed list of spellings; these rules cover sandbox escapes and
//! traps it misses: X11 and `device=all` without a finding, shell start-up files,
//! `xdg-config/autostart` and the Flatpak overrides reached through `xdg-*` tokens, bus and
//! container sockets exposed as files, `..` paths Flatpak before 1.17.3 accepts, host
//! launchers on the session bus, and options that other options make ineffective.

use super::fblint::Hit;
use super::view::{FinishArg, FinishArgs, Subject};

/// Files and directories below home whose contents the host runs at login or in a shell.
pub const SHELL_STARTUP: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".xprofile",
    ".xsession",
    ".xsessionrc",
    ".xinitrc",
    ".pam_environment",
    ".config/environment.d",
    ".config/fish",
    ".config/plasma-workspace",
    ".local/bin",
];

/// Session-bus services that start programs on the host.
const HOST_LAUNCHERS: &[&str] = &[
    "org.kde.klauncher",
    "org.kde.klauncher5",
    "org.kde.klauncher6",
    "org.gnome.Shell",
];

/// Runs our own rules on one input.
pub fn check(view: &FinishArgs) -> Vec<Hit> {
    let mut out = Vec::new();
    if view.subject == Subject::NotApp {
        return out;
    }
    let has =
        |key: &'static str, value: &'static str| view.values(key).find(move |a| a.value == value);
    // With `wayland` granted too, X11 is not the only display: that pairing is
    // flatpak-builder-lint's `finish-args-contains-both-x11-and-wayland`, not this rule.
    if let (Some(arg), None, None) = (
        has("socket", "x11"),
        has("socket", "fallback-x11"),
        has("socket", "wayland"),
    ) {
        out.push(hit("portcullis-x11", arg));
    }
    if let Some(all) = has("device", "all") {
        out.push(hit("portcullis-device-all", all));
        for dev in ["dri", "kvm", "input", "usb"] {
            if let Some(arg) = has("device", dev) {
                out.push(hit("portcullis-device-ignored", arg));
            }
        }
    }
    if let Some(arg) = has("allow", "devel") {
        out.push(hit("portcullis-devel", arg));
    }
    for arg in view.values("filesystem") {
        filesystem(arg, &mut out);
    }
    for arg in view.values("talk-name") {
        if HOST_LAUNCHERS.contains(&arg.value.as_str()) {
            out.push(hit("portcullis-host-launcher-talk-name", arg));
        }
    }
    let broad_home = view.values("filesystem").any(|a| {
        let (token, _) = split_mode(&a.value);
        matches!(token, "home" | "~" | "~/" | "host")
    });
    if broad_home {
        if let Some(arg) = view.values("persist").next() {
            out.push(hit("portcullis-persist-ignored", arg));
        }
    }
    for (socket, keys) in [
        ("session-bus", ["talk-name", "own-name"]),
        ("system-bus", ["system-talk-name", "system-own-name"]),
    ] {
        if has("socket", socket).is_some() {
            if let Some(arg) = view.args.iter().find(|a| keys.contains(&a.key.as_str())) {
                out.push(hit("portcullis-bus-names-ignored", arg));
            }
        }
    }
    out
}

fn hit(code: &str, arg: &FinishArg) -> Hit {
    Hit {
        code: code.to_string(),
        origin: arg.origin,
        option: Some(arg.text()),
    }
}

/// Splits a trailing `:ro`, `:rw` or `:create`.
pub fn split_mode(fs: &str) -> (&str, Option<&str>) {
    match fs.rsplit_once(':') {
        Some((token, mode)) if matches!(mode, "ro" | "rw" | "create") => (token, Some(mode)),
        _ => (fs, None),
    }
}

/// The path below home a token names (`~/x`, `home/x` → `x`), if any.
pub fn home_relative(token: &str) -> Option<&str> {
    token
        .strip_prefix("~/")
        .or_else(|| token.strip_prefix("home/"))
        .map(|p| p.trim_end_matches('/'))
}

/// The path below `~/.config` a token names, through `xdg-config` or home.
pub fn config_relative(token: &str) -> Option<&str> {
    if let Some(rest) = token.strip_prefix("xdg-config/") {
        return Some(rest.trim_end_matches('/'));
    }
    home_relative(token).and_then(|p| p.strip_prefix(".config/"))
}

/// The path below `~/.local/share` a token names, through `xdg-data` or home.
pub fn data_relative(token: &str) -> Option<&str> {
    if let Some(rest) = token.strip_prefix("xdg-data/") {
        return Some(rest.trim_end_matches('/'));
    }
    home_relative(token).and_then(|p| p.strip_prefix(".local/share/"))
}

/// `path` is `base` or below it.
pub fn at_or_below(path: &str, base: &str) -> bool {
    path == base || (path.starts_with(base) && path.as_bytes().get(base.len()) == Some(&b'/'))
}

/// Container engine sockets (or their directories): the engine runs containers outside
/// the sandbox with any host mount.
pub const CONTAINER_SOCKETS: &[&str] = &[
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/podman",
    "/var/run/podman",
    "xdg-run/podman",
    "xdg-run/docker.sock",
];

fn filesystem(arg: &FinishArg, out: &mut Vec<Hit>) {
    let (token, mode) = split_mode(&arg.value);
    let writable = mode != Some("ro");
    if token.split('/').any(|part| part == "..") {
        out.push(hit("portcullis-parent-traversal", arg));
    }
    if writable {
        if let Some(rel) = home_relative(token) {
            if SHELL_STARTUP.iter().any(|f| at_or_below(rel, f)) {
                out.push(hit("portcullis-shell-startup-write", arg));
            }
        }
        if let Some(rel) = token.strip_prefix("xdg-config/") {
            let rel = rel.trim_end_matches('/');
            if SHELL_STARTUP
                .iter()
                .filter_map(|f| f.strip_prefix(".config/"))
                .any(|f| at_or_below(rel, f))
            {
                out.push(hit("portcullis-shell-startup-write", arg));
            }
            if at_or_below(rel, "autostart") {
                out.push(hit("portcullis-autostart-write", arg));
            }
        }
        let overrides = data_relative(token)
            .is_some_and(|rel| at_or_below(rel, "flatpak/overrides") || matches!(rel, "flatpak"));
        if overrides {
            out.push(hit("portcullis-flatpak-overrides-write", arg));
        }
    }
    if token == "xdg-run/bus" || run_user_bus(token) {
        out.push(hit("portcullis-bus-socket-filesystem", arg));
    }
    if ["/run/dbus", "/var/run/dbus"]
        .iter()
        .any(|d| at_or_below(token.trim_end_matches('/'), d))
        || matches!(token.trim_end_matches('/'), "/run" | "/var/run")
    {
        out.push(hit("portcullis-system-bus-socket-filesystem", arg));
    }
    if CONTAINER_SOCKETS
        .iter()
        .any(|c| at_or_below(token.trim_end_matches('/'), c))
    {
        out.push(hit("portcullis-container-socket", arg));
    }
}

/// `/run/user`, `/run/user/UID` or `/run/user/UID/bus`: the session bus socket is inside.
fn run_user_bus(token: &str) -> bool {
    let token = token.trim_end_matches('/');
    let Some(rest) = token.strip_prefix("/run/user") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [] | [_] => rest.is_empty() || rest.starts_with('/'),
        [_, "bus"] => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_ir::Origin;

    fn codes(args: &[&str]) -> Vec<String> {
        let view = FinishArgs::from_strings(Some("a.b.C"), args, Origin::default());
        let mut codes: Vec<String> = check(&view).into_iter().map(|h| h.code).collect();
        codes.sort();
        codes
    }

    #[test]
    fn escapes_the_linter_misses() {
        assert_eq!(
            codes(&["--filesystem=xdg-config/autostart:create"]),
            vec!["portcullis-autostart-write"]
        );
        assert_eq!(
            codes(&["--filesystem=~/.bashrc"]),
            vec!["portcullis-shell-startup-write"]
        );
        assert_eq!(
            codes(&["--filesystem=xdg-data/flatpak/overrides"]),
            vec!["portcullis-flatpak-overrides-write"]
        );
        assert_eq!(
            codes(&["--filesystem=xdg-run/bus"]),
            vec!["portcullis-bus-socket-filesystem"]
        );
        assert_eq!(
            codes(&["--filesystem=/run/user/1000"]),
            vec!["portcullis-bus-socket-filesystem"]
        );
        assert_eq!(
            codes(&["--filesystem=/run/user/1000/doc"]),
            Vec::<String>::new()
        );
        assert_eq!(
            codes(&["--filesystem=xdg-download/.."]),
            vec!["portcullis-parent-traversal"]
        );
        assert_eq!(
            codes(&["--filesystem=/var/run/docker.sock"]),
            vec!["portcullis-container-socket"]
        );
    }

    #[test]
    fn sockets_devices_and_ignored_options() {
        assert_eq!(codes(&["--socket=x11"]), vec!["portcullis-x11"]);
        assert!(
            codes(&["--socket=x11", "--socket=wayland"]).is_empty(),
            "wayland is an alternative: the linter's both-x11-and-wayland code reports it"
        );
        assert!(codes(&["--socket=x11", "--socket=fallback-x11"]).is_empty());
        assert_eq!(
            codes(&["--device=all", "--device=dri"]),
            vec!["portcullis-device-all", "portcullis-device-ignored"]
        );
        assert_eq!(
            codes(&["--filesystem=home", "--persist=.foo"]),
            vec!["portcullis-persist-ignored"]
        );
        assert_eq!(
            codes(&["--socket=session-bus", "--talk-name=org.a.B"]),
            vec!["portcullis-bus-names-ignored"]
        );
    }
}
