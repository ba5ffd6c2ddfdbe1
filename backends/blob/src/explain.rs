//! A readable dump of every section of a blob (`portcullis explain BLOB`).

use std::fmt::Write as _;

use crate::blob::{Blob, MAJOR, MINOR};
use crate::dbus::BusAccess;
use crate::landlock::{fs_access, FsTarget, Requirement};
use crate::mounts::{BindFlags, Condition, EnvOp, MountOp};

/// The whole blob as text, one block per section.
pub fn explain(blob: &Blob) -> String {
    let mut out = String::new();
    header(&mut out, blob);
    namespaces(&mut out, blob);
    mounts(&mut out, &blob.mounts);
    seccomp(&mut out, blob);
    environment(&mut out, &blob.env);
    landlock(&mut out, blob);
    limits(&mut out, blob);
    dbus(&mut out, blob);
    device_nodes(&mut out, blob);
    out
}

fn device_nodes(out: &mut String, blob: &Blob) {
    if blob.device_nodes.is_empty() {
        let _ = writeln!(out, "\ndevice nodes: none");
        return;
    }
    let _ = writeln!(
        out,
        "\ndevice nodes (each must be a character or block device at launch):"
    );
    for node in &blob.device_nodes {
        let _ = writeln!(out, "  {}", node.as_str());
    }
}

fn header(out: &mut String, blob: &Blob) {
    let _ = writeln!(out, "blob format {MAJOR}.{MINOR}");
    let _ = writeln!(out, "  architecture: {}", blob.arch.name());
    let _ = writeln!(out, "  compiler: portcullis {}", blob.compiler_version);
    let _ = writeln!(out, "  app id: {}", blob.app_id);
    let _ = writeln!(
        out,
        "  policy: {} ({} bytes of IR)",
        blob.policy_id(),
        blob.policy.len()
    );
}

fn namespaces(out: &mut String, blob: &Blob) {
    let mut list = vec!["user", "mount", "pid", "uts"];
    if blob.namespaces.ipc {
        list.push("ipc");
    }
    if blob.namespaces.net {
        list.push("net");
    }
    let _ = writeln!(out, "\nnamespaces: {}", list.join(", "));
    if !blob.namespaces.net {
        let _ = writeln!(out, "  network shared with the host (share=network)");
    }
    if !blob.namespaces.ipc {
        let _ = writeln!(out, "  ipc shared with the host (share=ipc)");
    }
}

fn flags(f: &BindFlags) -> String {
    let mut words = vec![if f.readonly { "ro" } else { "rw" }];
    if f.devices {
        words.push("dev");
    }
    if f.optional {
        words.push("try");
    }
    words.join(",")
}

fn condition(c: &Condition) -> String {
    match c {
        Condition::Exists(p) => format!("exists {}", p.as_str()),
        Condition::IsDir(p) => format!("is-dir {}", p.as_str()),
        Condition::IsSocket(p) => format!("is-socket {}", p.as_str()),
        Condition::IsSymlink(p) => format!("is-symlink {}", p.as_str()),
        Condition::Not(inner) => format!("not ({})", condition(inner)),
        Condition::All(inner) if inner.is_empty() => "always".to_string(),
        Condition::All(inner) => inner
            .iter()
            .map(condition)
            .collect::<Vec<_>>()
            .join(" and "),
    }
}

/// One plan operation on one line.
pub fn mount_line(op: &MountOp) -> String {
    match op {
        MountOp::Tmpfs { dest, mode } => format!("tmpfs      {} mode {mode:o}", dest.as_str()),
        MountOp::Dir { dest, mode } => format!("dir        {} mode {mode:o}", dest.as_str()),
        MountOp::HostDir { path, mode } => {
            format!(
                "host-dir   {} mode {mode:o} (created on the host)",
                path.as_str()
            )
        }
        MountOp::Bind {
            source,
            dest,
            flags: f,
        } => format!(
            "bind       {} <- {} [{}]",
            dest.as_str(),
            source.as_str(),
            flags(f)
        ),
        MountOp::Proc { dest } => format!("proc       {}", dest.as_str()),
        MountOp::Dev { dest } => format!("dev        {}", dest.as_str()),
        MountOp::Symlink { target, dest } => format!("symlink    {} -> {target}", dest.as_str()),
        MountOp::File {
            dest,
            content,
            mode,
            readonly,
            expand,
        } => format!(
            "file       {} mode {mode:o}, {} bytes{}{}",
            dest.as_str(),
            content.len(),
            if *readonly { ", read-only" } else { "" },
            if *expand {
                ", placeholders expanded"
            } else {
                ""
            }
        ),
        MountOp::RemountRo { dest } => format!("remount-ro {}", dest.as_str()),
        MountOp::Mask { dest } => format!("mask       {}", dest.as_str()),
        MountOp::When { condition: c, then } => {
            format!("{}  (when {})", mount_line(then), condition(c))
        }
        MountOp::Sorted { ops } => format!("sorted     {} operations", ops.len()),
        MountOp::BindEntries {
            source,
            dest,
            except,
            flags: f,
        } => format!(
            "entries    {}/* <- {}/* [{}]{}",
            dest.as_str(),
            source.as_str(),
            flags(f),
            if except.is_empty() {
                String::new()
            } else {
                format!(" except {}", except.join(", "))
            }
        ),
    }
}

fn mounts(out: &mut String, plan: &[MountOp]) {
    let _ = writeln!(
        out,
        "\nmount plan: {} operations on a fresh tmpfs root",
        plan.len()
    );
    for (i, op) in plan.iter().enumerate() {
        match op {
            MountOp::Sorted { ops } => {
                let _ = writeln!(
                    out,
                    "  {:>3}. sorted by expanded destination at launch:",
                    i + 1
                );
                for inner in ops {
                    let _ = writeln!(out, "         - {}", mount_line(inner));
                }
            }
            _ => {
                let _ = writeln!(out, "  {:>3}. {}", i + 1, mount_line(op));
            }
        }
    }
}

fn seccomp(out: &mut String, blob: &Blob) {
    if blob.seccomp.is_empty() {
        let _ = writeln!(out, "\nseccomp: no filter");
        return;
    }
    let _ = writeln!(
        out,
        "\nseccomp: {} BPF instructions for {} (installed last, right before exec)",
        blob.seccomp.len(),
        blob.arch.name()
    );
    for (i, insn) in blob.seccomp.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {i:>4}: code {:#06x} jt {:>3} jf {:>3} k {:#010x}",
            insn.code, insn.jt, insn.jf, insn.k
        );
    }
}

fn env_line(op: &EnvOp) -> String {
    match op {
        EnvOp::Set { name, value } => format!("set   {name}={}", value.as_str()),
        EnvOp::Unset { name } => format!("unset {name}"),
        EnvOp::When { condition: c, then } => {
            format!("{}  (when {})", env_line(then), condition(c))
        }
    }
}

fn environment(out: &mut String, env: &[EnvOp]) {
    let _ = writeln!(
        out,
        "\nenvironment: {} operations over the caller's environment",
        env.len()
    );
    for op in env {
        let _ = writeln!(out, "  {}", env_line(op));
    }
}

fn level(level: Requirement) -> &'static str {
    match level {
        Requirement::BestEffort => "best effort",
        Requirement::Required => "required",
    }
}

fn landlock(out: &mut String, blob: &Blob) {
    let ll = &blob.landlock;
    if ll.is_empty() {
        let _ = writeln!(out, "\nlandlock: none");
        return;
    }
    let _ = writeln!(out, "\nlandlock:");
    if let Some(fs) = &ll.fs {
        let _ = writeln!(
            out,
            "  filesystem ({}): {} rules",
            level(fs.level),
            fs.rules.len()
        );
        let masks = fs.masks();
        if !masks.is_empty() {
            let masks: Vec<&str> = masks.iter().map(|m| m.as_str()).collect();
            let _ = writeln!(
                out,
                "  deny masks (required): {}; held against every rule whose path contains one",
                masks.join(" ")
            );
        }
        for rule in &fs.rules {
            let target = match &rule.target {
                FsTarget::Path { path } => path.as_str().to_string(),
                FsTarget::Entries { dir, except } if except.is_empty() => {
                    format!("{}/*", dir.as_str())
                }
                FsTarget::Entries { dir, except } => {
                    format!("{}/* except {}", dir.as_str(), except.join(", "))
                }
            };
            let when = rule
                .condition
                .as_ref()
                .map(|c| format!("  (when {})", condition(c)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {target}: {}{when}",
                fs_access::names(rule.access).join(" ")
            );
            for masked in &rule.masked {
                let _ = writeln!(out, "      masked: {}", masked.as_str());
            }
            if rule.holds_masks() {
                let _ = writeln!(
                    out,
                    "      masks held (required): directories on the way get {}, their other entries the rights above",
                    if rule.ancestor_access() == 0 {
                        "no right".to_string()
                    } else {
                        fs_access::names(rule.ancestor_access()).join(" ")
                    }
                );
            }
        }
    }
    if let Some(net) = &ll.net {
        let ports = |list: &[crate::landlock::Ports]| {
            if list.is_empty() {
                "none".to_string()
            } else {
                list.iter()
                    .map(|p| {
                        if p.first == p.last {
                            p.first.to_string()
                        } else {
                            format!("{}-{}", p.first, p.last)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let _ = writeln!(
            out,
            "  tcp ({}): connect {}; bind {}",
            level(net.level),
            ports(&net.connect),
            ports(&net.bind)
        );
    }
    if let Some(scope) = &ll.scope_abstract_unix {
        let _ = writeln!(
            out,
            "  scope abstract unix sockets ({})",
            level(scope.level)
        );
    }
    if let Some(scope) = &ll.scope_signal {
        let _ = writeln!(out, "  scope signals ({})", level(scope.level));
    }
}

/// The bounds every tmpfs of the sandbox gets, and where they come from.
fn tmpfs_line(out: &mut String, blob: &Blob) {
    let bounds = crate::limits::tmpfs_bounds(&blob.limits);
    let from = if blob.limits.memory.is_some() {
        "the memory limit"
    } else {
        "the default without a memory limit"
    };
    let _ = writeln!(
        out,
        "  every tmpfs (root, /dev and /dev/shm, tmpfs mounts, masks): size={} nr_inodes={} ({from})",
        bounds.size, bounds.nr_inodes
    );
}

fn limits(out: &mut String, blob: &Blob) {
    let l = &blob.limits;
    if l.is_empty() {
        let _ = writeln!(out, "\nlimits: none");
        tmpfs_line(out, blob);
        return;
    }
    let _ = writeln!(out, "\nlimits ({}):", level(l.level));
    let rows = [
        ("memory (bytes)", "memory", l.memory),
        ("processes", "processes", l.processes),
        ("open files", "open-files", l.open_files),
        ("cpu time (s)", "cpu-time", l.cpu_time),
        ("cpu share (%)", "cpu-share", l.cpu_share),
    ];
    for (name, word, value) in rows {
        if let Some(v) = value {
            let how = crate::limits::mechanism(word);
            let _ = writeln!(out, "  {name}: {v} — {how}");
        }
    }
    tmpfs_line(out, blob);
}

fn dbus(out: &mut String, blob: &Blob) {
    if blob.dbus.routes.is_empty() {
        let _ = writeln!(out, "\nd-bus: no bus reachable");
        return;
    }
    let _ = writeln!(out, "\nd-bus:");
    for route in &blob.dbus.routes {
        match &route.access {
            BusAccess::Direct => {
                let _ = writeln!(
                    out,
                    "  {}: host socket at {} (unfiltered)",
                    route.bus.word(),
                    route.bus.sandbox_socket()
                );
            }
            BusAccess::Proxy { args } => {
                let _ = writeln!(
                    out,
                    "  {}: xdg-dbus-proxy at {} {}",
                    route.bus.word(),
                    route.bus.sandbox_socket(),
                    args.join(" ")
                );
            }
        }
    }
}
