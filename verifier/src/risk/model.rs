//! Builds the risk graph of a policy: which grants reach which capabilities, and which
//! capabilities lead to which impacts.
//!
//! Escape paths modelled (the set the audit calls "known escape found via …"):
//! * session-bus talk to `org.freedesktop.Flatpak` (or a wildcard covering it):
//!   `flatpak-spawn --host` runs commands on the host;
//! * `socket=session-bus`, or the session bus socket exposed as a file (`xdg-run/bus`,
//!   `/run/user/UID`): no proxy, so the app reaches `org.freedesktop.Flatpak` and
//!   `org.freedesktop.systemd1` itself;
//! * session-bus talk to `org.freedesktop.systemd1`: the user manager starts transient
//!   units outside the sandbox;
//! * write access to home or host, or to any directory on the way to
//!   `~/.local/share/flatpak/overrides` (the app grants itself everything at its next
//!   start), `~/.config/autostart`, `~/.config/systemd/user`, or shell start-up files
//!   (`~/.bashrc`-like), through `~/…`, `xdg-config`, `xdg-data`, a parent of home
//!   (`/home`, `/var/home`) or a `..` path Flatpak before 1.17.3 accepts; a grant of the
//!   whole home (`home`, `host`, `/home`) does not reach the overrides, which Flatpak
//!   hides under a tmpfs below it, but still reaches the others;
//! * beyond the list: a container engine socket (`/run/docker.sock`,
//!   `xdg-run/podman`, …): the engine runs containers outside the sandbox.
//!
//! Serious but not an escape: X11 (input injection, screen capture), `device=all`,
//! `ssh-auth`, `gpg-agent`, read access to home or to secret stores, `devel`, the raw
//! system bus, and portcullis's own `allow io-uring` (io_uring operations bypass the
//! seccomp filter's argument rules). Deny masks (`home except ~/.config/autostart`) cut the
//! paths they cover.

use portcullis_ir::context::{Device, Feature, Socket};
use portcullis_ir::dbus::BusPolicy;
use portcullis_ir::fs::{FsKey, FsMode, XdgDir};
use portcullis_ir::{Origin, Policy};

use super::graph::{Node, NodeKind, RiskGraph};
use crate::severity::Severity;

/// The impact every escape path ends in.
pub const HOST_EXEC: &str = "run commands on the host, outside the sandbox";

const REF_SPAWN: &str = "flatpak-spawn(1) --host; Flathub linter: finish-args-flatpak-spawn-access";
const REF_BUS: &str = "Flatpak docs, sandbox permissions: session-bus gives unfiltered access";
const REF_SYSTEMD: &str =
    "systemd-run(1) --user; org.freedesktop.systemd1.Manager.StartTransientUnit";
const REF_OVERRIDES: &str = "flatpak/flatpak#3637 (home write lets an app edit its own overrides)";
const REF_AUTOSTART: &str = "XDG Autostart specification ($XDG_CONFIG_HOME/autostart)";
const REF_UNITS: &str = "systemd.unit(5): user units in ~/.config/systemd/user";
const REF_SHELL: &str = "bash(1) INVOCATION: start-up files run at login";
const REF_X11: &str = "X11 protocol: no client isolation (XTEST, XGetImage, XRecord)";
const REF_DEV: &str = "Flatpak docs: device=all binds the host /dev";
const REF_AGENT: &str = "ssh-agent(1) / gpg-agent(1): the agent signs for any client";
const REF_SECRETS: &str = "home contains keys, tokens and browser profiles";
const REF_DEVEL: &str = "Flatpak docs: allow=devel permits ptrace and perf_event_open";
const REF_IO_URING: &str =
    "io_uring(7): submitted operations run in the kernel without meeting the seccomp filter";
const REF_FS: &str = "Flatpak semantics §1.8: the token's export";
const REF_CONTAINER: &str =
    "Docker/Podman API: containers run outside the sandbox with any host bind mount";
const REF_TRAVERSAL: &str =
    "Flatpak semantics §1.8 step 5: `..` after the first `/` is not rejected before 1.17.3";

/// Where the model looks inside home, as paths relative to home.
const OVERRIDES: &str = ".local/share/flatpak/overrides";
const AUTOSTART: &str = ".config/autostart";
const UNITS: &str = ".config/systemd/user";

/// Secret stores below home that a read grant exposes.
const SECRET_STORES: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".local/share/keyrings",
    ".password-store",
    ".aws",
    ".kube",
    ".docker",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
];

/// A place a filesystem key names, relative to home when it is inside home.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    /// Home itself or a path below it (`""` is home).
    Home(String),
    /// A directory that contains home (`/home`, `~/..`).
    AboveHome,
    /// Somewhere else.
    Elsewhere,
}

/// Resolves `.` and `..` in a home-relative path; `None` when it climbs above home.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The default location of an xdg user directory below home (for `..` resolution only).
fn user_dir(dir: XdgDir) -> &'static str {
    match dir {
        XdgDir::Desktop => "Desktop",
        XdgDir::Documents => "Documents",
        XdgDir::Download => "Downloads",
        XdgDir::Music => "Music",
        XdgDir::Pictures => "Pictures",
        XdgDir::PublicShare => "Public",
        XdgDir::Templates => "Templates",
        XdgDir::Videos => "Videos",
        XdgDir::Data => ".local/share",
        XdgDir::Cache => ".cache",
        XdgDir::Config => ".config",
    }
}

fn place(key: &FsKey) -> Place {
    let rel = match key {
        FsKey::Home => return Place::Home(String::new()),
        FsKey::HomePath(p) => p.clone(),
        FsKey::Xdg { dir, sub } => match sub {
            Some(s) => format!("{}/{}", user_dir(*dir), s),
            None => user_dir(*dir).to_string(),
        },
        FsKey::Absolute(p) => {
            let p = p.trim_end_matches('/');
            return if matches!(p, "/home" | "/var/home") {
                Place::AboveHome
            } else {
                Place::Elsewhere
            };
        }
        _ => return Place::Elsewhere,
    };
    match normalise(&rel) {
        Some(p) => Place::Home(p),
        None => Place::AboveHome,
    }
}

/// The grant exports the whole home directory (`home`, `host`, `/home`), under which
/// Flatpak's own hide entries still apply.
fn whole_home(place: &Place) -> bool {
    match place {
        Place::AboveHome => true,
        Place::Home(p) => p.is_empty(),
        Place::Elsewhere => false,
    }
}

/// `path` is `base` or below it.
fn at_or_below(path: &str, base: &str) -> bool {
    base.is_empty()
        || path == base
        || (path.starts_with(base) && path.as_bytes().get(base.len()) == Some(&b'/'))
}

/// A grant at `granted` reaches `target` when one contains the other.
fn reaches(granted: &Place, target: &str) -> bool {
    match granted {
        Place::AboveHome => true,
        Place::Home(p) => at_or_below(target, p) || at_or_below(p, target),
        Place::Elsewhere => false,
    }
}

struct Builder<'p> {
    g: RiskGraph,
    policy: &'p Policy,
}

impl Builder<'_> {
    fn grant(&mut self, label: String, origin: Origin) -> petgraph::graph::NodeIndex {
        self.g.node(Node {
            kind: NodeKind::Grant,
            label,
            origin: Some(origin),
            severity: None,
            escape: false,
        })
    }

    fn capability(&mut self, label: &str) -> petgraph::graph::NodeIndex {
        self.g.node(Node {
            kind: NodeKind::Capability,
            label: label.to_string(),
            origin: None,
            severity: None,
            escape: false,
        })
    }

    fn impact(&mut self, label: &str, severity: Severity) -> petgraph::graph::NodeIndex {
        self.g.node(Node {
            kind: NodeKind::Impact,
            label: label.to_string(),
            origin: None,
            severity: Some(severity),
            escape: label == HOST_EXEC,
        })
    }

    /// Whether a deny mask hides `target` (a home-relative path).
    fn masked(&self, target: &str) -> bool {
        self.policy.beyond.deny.iter().any(|m| {
            m.path
                .strip_prefix("~/")
                .and_then(normalise)
                .is_some_and(|mask| at_or_below(target, &mask))
        })
    }

    fn build(mut self) -> RiskGraph {
        let ctx = &self.policy.context;
        let host = self.impact(HOST_EXEC, Severity::Critical);

        // D-Bus: org.freedesktop.Flatpak and systemd1 on the session bus.
        let spawn = self.capability("call org.freedesktop.Flatpak (flatpak-spawn --host)");
        self.g.link(
            spawn,
            host,
            "Development.HostCommand starts any command on the host",
            REF_SPAWN,
        );
        let units = self.capability("start transient systemd user units");
        self.g.link(
            units,
            host,
            "the user manager runs the unit's command outside the sandbox",
            REF_SYSTEMD,
        );
        let raw_bus = self.capability("unfiltered session bus (no xdg-dbus-proxy)");
        self.g.link(
            raw_bus,
            spawn,
            "every name is reachable without the proxy",
            REF_BUS,
        );
        self.g.link(
            raw_bus,
            units,
            "every name is reachable without the proxy",
            REF_BUS,
        );

        let session_bus_socket = ctx.sockets.get(&Socket::SessionBus).filter(|s| s.enabled);
        if let Some(s) = session_bus_socket {
            let g = self.grant("socket session-bus".into(), s.origin);
            self.g.link(
                g,
                raw_bus,
                "the real bus socket is bound into the sandbox",
                REF_BUS,
            );
        }
        for (name, entry) in &ctx.session_bus {
            if entry.policy < BusPolicy::Talk || session_bus_socket.is_some() {
                continue;
            }
            let word = if entry.policy == BusPolicy::Own {
                "own-name"
            } else {
                "talk-name"
            };
            if name.covers("org.freedesktop.Flatpak") {
                let g = self.grant(format!("{word} {name}"), entry.origin);
                self.g.link(
                    g,
                    spawn,
                    "the proxy lets calls to org.freedesktop.Flatpak through",
                    REF_SPAWN,
                );
            }
            if name.covers("org.freedesktop.systemd1") {
                let g = self.grant(format!("{word} {name}"), entry.origin);
                self.g.link(
                    g,
                    units,
                    "the proxy lets calls to the user manager through",
                    REF_SYSTEMD,
                );
            }
        }
        for rule in &self.policy.beyond.bus_rules {
            let flatpak = rule.name.covers("org.freedesktop.Flatpak");
            if rule.bus == portcullis_ir::dbus::Bus::Session
                && flatpak
                && (rule.rule.is_empty() || rule.rule.contains("HostCommand"))
            {
                let g = self.grant(
                    format!("dbus-call {}={}", rule.name, rule.rule),
                    rule.origin,
                );
                self.g
                    .link(g, spawn, "the call rule admits HostCommand", REF_SPAWN);
            }
        }

        // Files: the session bus socket, and writes that reach host start-up paths.
        let self_grant =
            self.capability("edit its own Flatpak overrides (~/.local/share/flatpak/overrides)");
        self.g.link(
            self_grant,
            spawn,
            "an override can add talk-name org.freedesktop.Flatpak at the next start",
            REF_OVERRIDES,
        );
        let autostart = self.capability("add autostart entries (~/.config/autostart)");
        self.g.link(
            autostart,
            host,
            "the session starts the entry's command at the next login",
            REF_AUTOSTART,
        );
        let user_units = self.capability("install systemd user units (~/.config/systemd/user)");
        self.g.link(
            user_units,
            host,
            "the user manager runs installed units outside the sandbox",
            REF_UNITS,
        );
        let shell = self.capability("edit shell start-up files (~/.bashrc, ~/.profile, …)");
        self.g.link(
            shell,
            host,
            "the host shell runs them at the next login or terminal",
            REF_SHELL,
        );
        let engine = self.capability("drive a container engine (Docker or Podman API)");
        self.g.link(
            engine,
            host,
            "the engine starts containers outside the sandbox, with any host directory mounted",
            REF_CONTAINER,
        );
        let read_secrets = self.impact(
            "read the user's private keys, tokens and browser profiles",
            Severity::High,
        );

        for (key, entry) in &ctx.filesystems {
            if entry.mode == FsMode::None {
                continue;
            }
            let label = format!("filesystem {key}{}", entry.mode.suffix().unwrap_or(""));
            if is_session_bus_socket(key) {
                let g = self.grant(label.clone(), entry.origin);
                self.g.link(
                    g,
                    raw_bus,
                    "the session bus socket is exported as a file",
                    REF_FS,
                );
            }
            let text = key.to_string();
            let text = text.trim_end_matches('/');
            let own = crate::lint::own::CONTAINER_SOCKETS;
            if own
                .iter()
                .any(|c| text == *c || text.starts_with(&format!("{c}/")))
            {
                let g = self.grant(label.clone(), entry.origin);
                self.g.link(
                    g,
                    engine,
                    "the engine's socket is exported as a file",
                    REF_FS,
                );
            }
            let mut at = place(key);
            if matches!(key, FsKey::Host) {
                at = Place::Home(String::new());
            }
            if at == Place::Elsewhere {
                continue;
            }
            let g = self.grant(label, entry.origin);
            let traversal = matches!(key, FsKey::HomePath(p) | FsKey::Xdg { sub: Some(p), .. } if p.split('/').any(|c| c == ".."));
            let why = if traversal { REF_TRAVERSAL } else { REF_FS };
            if SECRET_STORES
                .iter()
                .any(|s| reaches(&at, s) && !self.masked(s))
            {
                let cap =
                    self.capability("read secret stores in home (~/.ssh, ~/.gnupg, keyrings)");
                self.g.link(g, cap, "the grant covers them", why);
                self.g.link(
                    cap,
                    read_secrets,
                    "private keys and tokens are plain files",
                    REF_SECRETS,
                );
            }
            if !entry.mode.is_writable() {
                continue;
            }
            for (target, cap) in [
                (OVERRIDES, self_grant),
                (AUTOSTART, autostart),
                (UNITS, user_units),
            ] {
                if target == OVERRIDES && whole_home(&at) {
                    // Flatpak hides `~/.local/share/flatpak` under a tmpfs whatever the
                    // grant (flatpak-semantics §5.1, a "hide" entry below the export of
                    // `home`, `host` or `/home`), and so does our mount plan.
                    continue;
                }
                if reaches(&at, target) && !self.masked(target) {
                    self.g
                        .link(g, cap, &format!("write access covers ~/{target}"), why);
                }
            }
            let shell_files = crate::lint::own::SHELL_STARTUP;
            if shell_files
                .iter()
                .any(|f| reaches(&at, f) && !self.masked(f))
            {
                self.g
                    .link(g, shell, "write access covers shell start-up files", why);
            }
        }

        self.serious();
        self.g
    }

    /// The serious-but-not-escape class.
    fn serious(&mut self) {
        let ctx = &self.policy.context;
        if let Some(s) = ctx.sockets.get(&Socket::X11).filter(|s| s.enabled) {
            let fallback = ctx.has_socket(Socket::FallbackX11);
            let (label, severity) = if fallback {
                ("socket fallback-x11", Severity::Medium)
            } else {
                ("socket x11", Severity::High)
            };
            let g = self.grant(label.into(), s.origin);
            let cap = self.capability("connect to the X server");
            let why = if fallback {
                "X11 is used when the session has no Wayland"
            } else {
                "the X11 socket is bound on every session"
            };
            self.g.link(g, cap, why, REF_X11);
            let imp = self.impact(
                "log keystrokes, inject input and capture the screen of other X11 clients",
                severity,
            );
            self.g
                .link(cap, imp, "X11 does not isolate clients", REF_X11);
        }
        if let Some(s) = ctx.devices.get(&Device::All).filter(|s| s.enabled) {
            let g = self.grant("device all".into(), s.origin);
            let cap = self.capability("open every host device node");
            self.g.link(g, cap, "the host /dev is bound", REF_DEV);
            let imp = self.impact(
                "use webcams, microphones, raw input and block devices",
                Severity::High,
            );
            self.g
                .link(cap, imp, "device permissions are the only guard", REF_DEV);
        }
        for (socket, cap, imp) in [
            (
                Socket::SshAuth,
                "use the host SSH agent",
                "authenticate as the user with their SSH keys",
            ),
            (
                Socket::GpgAgent,
                "use the host GnuPG agent",
                "sign and decrypt with the user's GnuPG keys",
            ),
        ] {
            if let Some(s) = ctx.sockets.get(&socket).filter(|s| s.enabled) {
                let g = self.grant(format!("socket {}", socket.name()), s.origin);
                let c = self.capability(cap);
                self.g.link(
                    g,
                    c,
                    "the agent socket is bound into the sandbox",
                    REF_AGENT,
                );
                let i = self.impact(imp, Severity::High);
                self.g
                    .link(c, i, "the agent serves any client on its socket", REF_AGENT);
            }
        }
        if let Some(s) = ctx.features.get(&Feature::Devel).filter(|s| s.enabled) {
            let g = self.grant("allow devel".into(), s.origin);
            let c = self.capability("ptrace and perf_event_open inside the sandbox");
            self.g
                .link(g, c, "the seccomp filter allows them", REF_DEVEL);
            let i = self.impact(
                "reach more of the kernel (a weaker seccomp filter)",
                Severity::Medium,
            );
            self.g
                .link(c, i, "more syscalls reach the kernel", REF_DEVEL);
        }
        if let Some(origin) = self.policy.beyond.io_uring {
            let g = self.grant("allow io-uring".into(), origin);
            let c = self.capability(
                "io_uring: socket, connect, send, listen and file operations past the seccomp filter",
            );
            self.g.link(
                g,
                c,
                "the filter allows io_uring_setup, io_uring_enter and io_uring_register",
                REF_IO_URING,
            );
            let i = self.impact(
                "bypass the seccomp filter's argument rules (socket families; MPTCP, SCTP and TCP Fast Open past port rules)",
                Severity::Medium,
            );
            self.g.link(
                c,
                i,
                "io_uring operations never meet the filter's argument checks",
                REF_IO_URING,
            );
        }
        if let Some(s) = ctx.sockets.get(&Socket::SystemBus).filter(|s| s.enabled) {
            let g = self.grant("socket system-bus".into(), s.origin);
            let c = self.capability("unfiltered system bus (no xdg-dbus-proxy)");
            self.g.link(
                g,
                c,
                "the real system bus socket is bound into the sandbox",
                REF_BUS,
            );
            let i = self.impact(
                "call every system service (polkit still asks for privileged actions)",
                Severity::High,
            );
            self.g.link(c, i, "every system name is reachable", REF_BUS);
        }
    }
}

/// `xdg-run/bus`, `/run/user`, `/run/user/UID` or `/run/user/UID/bus`.
fn is_session_bus_socket(key: &FsKey) -> bool {
    match key {
        FsKey::XdgRun(sub) => sub.trim_end_matches('/') == "bus",
        FsKey::Absolute(p) => {
            let parts: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
            matches!(
                parts.as_slice(),
                ["run", "user"] | ["run", "user", _] | ["run", "user", _, "bus"]
            )
        }
        _ => false,
    }
}

/// Builds the risk graph of one policy.
pub fn build(policy: &Policy) -> RiskGraph {
    Builder {
        g: RiskGraph::default(),
        policy,
    }
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_resolve_dot_dot() {
        let xdg = |dir, sub: &str| FsKey::Xdg {
            dir,
            sub: Some(sub.to_string()),
        };
        assert_eq!(
            place(&xdg(XdgDir::Download, "..")),
            Place::Home(String::new())
        );
        assert_eq!(place(&FsKey::HomePath("..".into())), Place::AboveHome);
        assert_eq!(
            place(&xdg(XdgDir::Config, "autostart")),
            Place::Home(AUTOSTART.into())
        );
        assert_eq!(
            place(&FsKey::Absolute("/var/home/".into())),
            Place::AboveHome
        );
        assert!(reaches(&Place::Home(".local".into()), OVERRIDES));
        assert!(reaches(
            &Place::Home(".local/share/flatpak/overrides/a.b.C".into()),
            OVERRIDES
        ));
        assert!(!reaches(
            &Place::Home(".local/share/fonts".into()),
            OVERRIDES
        ));
    }
}
