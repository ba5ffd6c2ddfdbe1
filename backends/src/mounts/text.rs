//! A readable table of a mount plan and its environment (`emit --backend mounts --text`):
//! one operation per line, numbered, with conditions written in front of what they guard.

use std::fmt::Write;

use portcullis_blob::mounts::{BindFlags, Condition, EnvOp, MountOp};

use super::MountPlan;

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

/// A condition in words.
pub fn condition(c: &Condition) -> String {
    match c {
        Condition::Exists(p) => format!("exists {}", p.as_str()),
        Condition::IsDir(p) => format!("dir {}", p.as_str()),
        Condition::IsSocket(p) => format!("socket {}", p.as_str()),
        Condition::IsSymlink(p) => format!("symlink {}", p.as_str()),
        Condition::Not(inner) => format!("not ({})", condition(inner)),
        Condition::All(cs) if cs.is_empty() => "always".to_string(),
        Condition::All(cs) => cs.iter().map(condition).collect::<Vec<_>>().join(" and "),
    }
}

/// One operation as a table row (without its number).
pub fn row(op: &MountOp) -> String {
    match op {
        MountOp::Tmpfs { dest, mode } => {
            format!("{:<12} {:<48} {:o}", "tmpfs", dest.as_str(), mode)
        }
        MountOp::Dir { dest, mode } => format!("{:<12} {:<48} {:o}", "dir", dest.as_str(), mode),
        MountOp::HostDir { path, mode } => {
            format!("{:<12} {:<48} {:o}", "host-dir", path.as_str(), mode)
        }
        MountOp::Bind {
            source,
            dest,
            flags: f,
        } => format!(
            "{:<12} {:<48} <- {} ({})",
            "bind",
            dest.as_str(),
            source.as_str(),
            flags(f)
        ),
        MountOp::Proc { dest } => format!("{:<12} {}", "proc", dest.as_str()),
        MountOp::Dev { dest } => format!("{:<12} {}", "dev", dest.as_str()),
        MountOp::Symlink { target, dest } => {
            format!("{:<12} {:<48} -> {}", "symlink", dest.as_str(), target)
        }
        MountOp::File {
            dest,
            content,
            mode,
            readonly,
            expand,
        } => format!(
            "{:<12} {:<48} {} bytes, {:o}{}{}",
            "file",
            dest.as_str(),
            content.len(),
            mode,
            if *readonly { ", ro" } else { "" },
            if *expand { ", expanded" } else { "" }
        ),
        MountOp::RemountRo { dest } => format!("{:<12} {}", "remount-ro", dest.as_str()),
        MountOp::Mask { dest } => format!("{:<12} {}", "mask", dest.as_str()),
        MountOp::When { condition: c, then } => {
            format!("{}    if {}", row(then), condition(c))
        }
        MountOp::BindEntries {
            source,
            dest,
            except,
            flags: f,
        } => format!(
            "{:<12} {:<48} <- {}/* ({}) except {}",
            "bind-entries",
            dest.as_str(),
            source.as_str().trim_end_matches('/'),
            flags(f),
            except.join(" ")
        ),
        MountOp::Sorted { ops } => format!(
            "{:<12} {} operations, by destination at launch",
            "sorted",
            ops.len()
        ),
    }
}

fn env_row(op: &EnvOp) -> String {
    match op {
        EnvOp::Set { name, value } => format!("set   {name}={}", value.as_str()),
        EnvOp::Unset { name } => format!("unset {name}"),
        EnvOp::When { condition: c, then } => format!("{}    if {}", env_row(then), condition(c)),
    }
}

/// The whole plan as text: operations, environment, warnings.
pub fn render(plan: &MountPlan) -> String {
    let mut out = String::from("# mount plan\n");
    let mut n = 0;
    for op in &plan.ops {
        n += 1;
        let _ = writeln!(out, "{n:>3}  {}", row(op));
        if let MountOp::Sorted { ops } = op {
            for inner in ops {
                let _ = writeln!(out, "       {}", row(inner));
            }
        }
    }
    out.push_str("\n# environment\n");
    for op in &plan.env {
        let _ = writeln!(out, "     {}", env_row(op));
    }
    if !plan.warnings.is_empty() {
        out.push_str("\n# warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "     {}: {}", w.code, w.message);
        }
    }
    out
}
