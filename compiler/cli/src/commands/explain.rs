//! `portcullis explain INPUT|BLOB [--json]`: the checked IR in readable form, every item with
//! the `file:line:col` of the statement that decided it, and a note where Flatpak's run
//! time reads it differently from how it looks (x11 under fallback-x11, persist with home
//! access, name rules under a full bus socket, …), then what the seccomp filter adds
//! beyond Flatpak (io_uring, the port-rule hardening, UDP) with each hardening's reason.
//! A compiled blob (a `*.blob` name, or
//! content that starts like the blob magic; see [`super::compile`]) is explained by
//! [`super::compile::explain_blob`], and a malformed one is refused with exit 2.

use std::collections::BTreeMap;
use std::process::ExitCode;

use portcullis_ir::beyond::Level;
use portcullis_ir::context::{Device, Feature, Socket};
use portcullis_ir::dbus::BusPolicy;
use portcullis_ir::fs::FsMode;
use portcullis_ir::seccomp::{Features, Hardening};
use portcullis_ir::{Origin, Policy};
use portcullis_syntax::SourceFile;
use serde::Serialize;

use super::input;
use crate::cli::ExplainArgs;

/// One line of the explanation.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    /// The part of the policy (`socket`, `filesystem`, `session-bus`, …).
    pub section: &'static str,
    /// The item (`wayland`, `home`, `org.freedesktop.Notifications`).
    pub name: String,
    /// Its value (`granted`, `read-only`, `talk`).
    pub value: String,
    /// Where it was decided, `file:line:col`, or `default`.
    pub origin: String,
    /// How Flatpak reads it at run time, when that is not obvious.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Turns origins into `file:line:col`, reading included files when needed.
struct Origins<'a> {
    policy: &'a Policy,
    main: &'a SourceFile,
    cache: BTreeMap<u32, Option<SourceFile>>,
}

impl Origins<'_> {
    fn resolve(&mut self, origin: Origin) -> String {
        if origin.is_implicit() {
            return "default".to_string();
        }
        let Some(name) = self.policy.sources.get(origin.source as usize) else {
            return "?".to_string();
        };
        let main = self.main;
        let file = self.cache.entry(origin.source).or_insert_with(|| {
            if origin.source == 0 {
                Some(main.clone())
            } else {
                std::fs::read_to_string(name)
                    .ok()
                    .map(|t| SourceFile::new(name.clone(), t))
            }
        });
        match file {
            Some(file) => {
                let (line, column) = file.line_col(origin.start as usize);
                format!("{name}:{line}:{column}")
            }
            None => name.clone(),
        }
    }
}

fn mode_word(mode: FsMode) -> &'static str {
    match mode {
        FsMode::None => "hidden (no access)",
        FsMode::Ro => "read-only",
        FsMode::Rw => "read-write",
        FsMode::Create => "read-write, created if missing",
    }
}

/// Every entry of the explanation, in a fixed order.
pub fn entries(policy: &Policy, main: &SourceFile) -> Vec<Entry> {
    let mut origins = Origins {
        policy,
        main,
        cache: BTreeMap::new(),
    };
    let mut out = Vec::new();
    let mut push = |section,
                    name: String,
                    value: String,
                    origin: Origin,
                    note: Option<String>,
                    origins: &mut Origins<'_>| {
        out.push(Entry {
            section,
            name,
            value,
            origin: origins.resolve(origin),
            note,
        });
    };
    let id = &policy.identity;
    let kind = format!("{:?}", id.kind).to_lowercase();
    push(
        "identity",
        kind,
        policy.app_id().to_string(),
        id.origin,
        None,
        &mut origins,
    );
    for (name, value) in [
        ("runtime", id.runtime.clone()),
        ("runtime-version", id.runtime_version.clone()),
        ("sdk", id.sdk.clone()),
        ("command", id.command.clone()),
        ("base", id.base.clone()),
    ] {
        if let Some(value) = value {
            push(
                "identity",
                name.to_string(),
                value,
                id.origin,
                None,
                &mut origins,
            );
        }
    }
    for ext in &id.sdk_extensions {
        push(
            "identity",
            "sdk-extension".into(),
            ext.clone(),
            id.origin,
            None,
            &mut origins,
        );
    }
    for ext in &id.extensions {
        let dir = ext
            .directory
            .clone()
            .unwrap_or_else(|| "(no directory)".into());
        push(
            "extension",
            ext.name.clone(),
            dir,
            ext.origin,
            None,
            &mut origins,
        );
    }
    let ctx = &policy.context;
    let granted = |on: bool| if on { "granted" } else { "revoked" }.to_string();
    for (share, s) in &ctx.shares {
        push(
            "share",
            share.to_string(),
            granted(s.enabled),
            s.origin,
            None,
            &mut origins,
        );
    }
    for (socket, s) in &ctx.sockets {
        let note = match socket {
            Socket::X11 if s.enabled && ctx.has_socket(Socket::FallbackX11) => Some(
                "ignored: fallback-x11 gives X11 only when Wayland is missing at run time".into(),
            ),
            Socket::InheritWaylandSocket if s.enabled && !ctx.has_socket(Socket::Wayland) => {
                Some("no effect without wayland".into())
            }
            Socket::SessionBus if s.enabled => {
                Some("the whole session bus, no proxy: name rules are ignored".into())
            }
            Socket::SystemBus if s.enabled => {
                Some("the whole system bus, no proxy: name rules are ignored".into())
            }
            _ => None,
        };
        push(
            "socket",
            socket.to_string(),
            granted(s.enabled),
            s.origin,
            note,
            &mut origins,
        );
    }
    for (device, s) in &ctx.devices {
        let note = (s.enabled
            && matches!(
                device,
                Device::Dri | Device::Kvm | Device::Input | Device::Usb
            )
            && ctx.has_device(Device::All))
        .then(|| "no-op: device all binds the whole of /dev".to_string());
        push(
            "device",
            device.to_string(),
            granted(s.enabled),
            s.origin,
            note,
            &mut origins,
        );
    }
    for (feature, s) in &ctx.features {
        let note = match feature {
            Feature::PerAppDevShm if s.enabled && ctx.has_device(Device::Shm) => {
                Some("ignored: device shm is set".into())
            }
            Feature::Bluetooth | Feature::Canbus
                if s.enabled && !ctx.has_share(portcullis_ir::context::Share::Network) =>
            {
                Some("the socket family is allowed, but the network namespace is private".into())
            }
            _ => None,
        };
        push(
            "feature",
            feature.to_string(),
            granted(s.enabled),
            s.origin,
            note,
            &mut origins,
        );
    }
    for (key, e) in &ctx.filesystems {
        push(
            "filesystem",
            key.to_string(),
            mode_word(e.mode).into(),
            e.origin,
            None,
            &mut origins,
        );
    }
    for (path, origin) in &ctx.persistent {
        let note = ctx
            .has_home_access()
            .then(|| "ignored: the app has home access".to_string());
        push(
            "persist",
            path.clone(),
            format!("~/{path} → ~/.var/app/{}/{path}", policy.app_id()),
            *origin,
            note,
            &mut origins,
        );
    }
    for (name, e) in &ctx.env {
        let value = match &e.value {
            Some(v) => format!("= {v:?}"),
            None => "unset".into(),
        };
        push("env", name.clone(), value, e.origin, None, &mut origins);
    }
    for (section, map, full) in [
        (
            "session-bus",
            &ctx.session_bus,
            ctx.has_socket(Socket::SessionBus),
        ),
        (
            "system-bus",
            &ctx.system_bus,
            ctx.has_socket(Socket::SystemBus),
        ),
        ("a11y-bus", &ctx.a11y_bus, false),
    ] {
        for (name, e) in map {
            let note = if full {
                Some("ignored: the whole bus is granted".to_string())
            } else if e.policy == BusPolicy::None {
                Some("grants nothing; cannot subtract from a wildcard".to_string())
            } else {
                None
            };
            push(
                section,
                name.to_string(),
                e.policy.name().into(),
                e.origin,
                note,
                &mut origins,
            );
        }
    }
    for (key, values) in &ctx.generic_policy {
        for v in values {
            let value = if v.removed {
                format!("!{}", v.value)
            } else {
                v.value.clone()
            };
            push("policy", key.clone(), value, v.origin, None, &mut origins);
        }
    }
    for q in &ctx.usb_enumerable {
        push(
            "usb",
            q.clone(),
            "enumerable".into(),
            Origin::IMPLICIT,
            None,
            &mut origins,
        );
    }
    for q in &ctx.usb_hidden {
        push(
            "usb",
            q.clone(),
            "hidden".into(),
            Origin::IMPLICIT,
            None,
            &mut origins,
        );
    }
    beyond(policy, &mut origins, &mut out);
    out
}

fn beyond(policy: &Policy, origins: &mut Origins<'_>, out: &mut Vec<Entry>) {
    let b = &policy.beyond;
    let mut push_noted = |section, name: String, value: String, origin: Origin, note| {
        let origin = origins.resolve(origin);
        out.push(Entry {
            section,
            name,
            value,
            origin,
            note,
        });
    };
    if let Some(net) = &b.network {
        for (dir, ranges) in [("connect", &net.connect), ("bind", &net.bind)] {
            let value = portcullis_ir::beyond::describe_ports(ranges, ", ");
            let note = (dir == "connect").then(|| {
                "seccomp also refuses inet sockets other than TCP, UDP and ping (MPTCP, SCTP, raw: \
                 EACCES) and TCP Fast Open (EOPNOTSUPP), which Landlock's TCP rules do not see"
                    .to_string()
            });
            push_noted("network", format!("tcp {dir}"), value, net.origin, note);
        }
        let (value, note) = if net.udp_none {
            (
                "refused",
                "udp none: seccomp refuses inet datagram sockets (UDP, ping), so plain DNS over UDP fails too",
            )
        } else {
            (
                "not restricted",
                "Landlock's port rules cover TCP alone: UDP reaches any port unless `udp none`",
            )
        };
        push_noted(
            "network",
            "udp".into(),
            value.into(),
            net.origin,
            Some(note.into()),
        );
    }
    // io_uring: refused unless `allow io-uring` (portcullis only; Flatpak allows it).
    let (value, origin) = match b.io_uring {
        Some(origin) => ("granted", origin),
        None => ("refused (ENOSYS)", Origin::IMPLICIT),
    };
    push_noted(
        "io-uring",
        "io_uring".into(),
        value.into(),
        origin,
        Some("io_uring operations (socket, connect, send, listen, …) bypass the seccomp filter's argument rules".into()),
    );
    // The filter's deliberate differences from Flatpak 1.14 that apply to this policy.
    let features = Features::from_policy(policy);
    for hardening in Hardening::ALL {
        let applies = match hardening {
            Hardening::SocketFamiliesUnderMultiarch => features.multiarch,
            Hardening::IoUringRefused => !features.io_uring,
            Hardening::PortRuleBypasses => features.port_rules,
            Hardening::Low32Arguments
            | Hardening::UnknownSyscallsEnosys
            | Hardening::KillProcess
            | Hardening::NewerSiblings => true,
        };
        if applies {
            push_noted(
                "seccomp",
                "hardening".into(),
                hardening.tag().into(),
                Origin::IMPLICIT,
                Some(hardening.describe().into()),
            );
        }
    }
    let mut push = |section, name: String, value: String, origin: Origin| {
        push_noted(section, name, value, origin, None)
    };
    let l = &b.limits;
    for (name, limit, unit) in [
        ("memory", l.memory, "bytes"),
        ("processes", l.processes, ""),
        ("open-files", l.open_files, ""),
        ("cpu-time", l.cpu_time, "s"),
        ("cpu-share", l.cpu_share, "%"),
    ] {
        if let Some(limit) = limit {
            push(
                "limit",
                name.into(),
                format!("{} {unit}", limit.value).trim_end().to_string(),
                limit.origin,
            );
        }
    }
    for mask in &b.deny {
        // Held by Landlock rules around the mask, not only by the mount plan; required
        // (the `deny-masks` line of `require` below).
        push(
            "deny",
            mask.path.clone(),
            "masked (landlock)".into(),
            mask.origin,
        );
    }
    for node in &b.device_nodes {
        let value = if node.writable {
            "read-write"
        } else {
            "read-only"
        };
        push("device-node", node.path.clone(), value.into(), node.origin);
    }
    for rule in &b.bus_rules {
        let value = format!(
            "{:?} {}",
            rule.kind,
            if rule.rule.is_empty() {
                "*"
            } else {
                &rule.rule
            }
        )
        .to_lowercase();
        push(
            "bus-rule",
            format!("{:?} {}", rule.bus, rule.name).to_lowercase(),
            value,
            rule.origin,
        );
    }
    let r = &b.requirements;
    for (name, level) in [
        ("landlock", r.landlock),
        ("landlock-network", r.landlock_network),
        ("scope-abstract-unix", r.scope_abstract_unix),
        ("scope-signal", r.scope_signal),
        ("limits", r.limits),
    ] {
        let word = match level {
            Level::Off => "off",
            Level::BestEffort => "best-effort",
            Level::Required => "required",
        };
        push("require", name.into(), word.into(), Origin::IMPLICIT);
    }
    if !b.deny.is_empty() {
        // Whatever `require landlock` says: a mask never degrades to the mount plan alone.
        push(
            "require",
            "deny-masks".into(),
            "required".into(),
            Origin::IMPLICIT,
        );
    }
    // How each limit will be enforced, as far as it can be said before the launch.
    for entry in out.iter_mut().filter(|e| e.section == "limit") {
        entry.note = Some(portcullis_blob::limits::mechanism(&entry.name).to_string());
    }
    // The memory limit also bounds the sandbox's RAM-backed file systems (the executor's
    // `size=`, from `portcullis_blob::limits::tmpfs_bounds`).
    if let Some(entry) = out
        .iter_mut()
        .find(|e| e.section == "limit" && e.name == "memory")
    {
        let mechanism = entry.note.take().unwrap_or_default();
        entry.note = Some(format!(
            "{mechanism}; also the size of every tmpfs of the sandbox (/dev and /dev/shm, \
             tmpfs mounts); without a memory limit each gets 1 GiB"
        ));
    }
}

/// The text form: one section heading per part, aligned columns.
pub fn render_text(entries: &[Entry]) -> String {
    let mut out = String::new();
    let mut section = "";
    let name_width = entries
        .iter()
        .map(|e| e.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    let value_width = entries
        .iter()
        .map(|e| e.value.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    for entry in entries {
        if entry.section != section {
            section = entry.section;
            out.push_str(section);
            out.push('\n');
        }
        out.push_str(&format!(
            "  {:<nw$}  {:<vw$}  {}\n",
            entry.name,
            entry.value,
            entry.origin,
            nw = name_width,
            vw = value_width
        ));
        if let Some(note) = &entry.note {
            out.push_str(&format!("  {:<nw$}  ↳ {note}\n", "", nw = name_width));
        }
    }
    out
}

/// Runs `explain`.
pub fn run(args: ExplainArgs) -> ExitCode {
    let json = args.wants_json();
    if super::compile::is_blob(&args.input) {
        return super::compile::explain_blob(&args.input, json);
    }
    let (file, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let list = entries(&policy, &file);
    let text = if json {
        #[derive(Serialize)]
        struct Explained<'a> {
            entries: &'a [Entry],
            policy: &'a Policy,
        }
        // INVARIANT: plain data with string keys; serialising cannot fail.
        serde_json::to_string_pretty(&Explained {
            entries: &list,
            policy: &policy,
        })
        .unwrap_or_default()
            + "\n"
    } else {
        input::printable(&render_text(&list))
    };
    input::emit(None, text.as_bytes())
}
