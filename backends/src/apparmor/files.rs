//! File rules: the mount plan as AppArmor file rules.
//!
//! The plan is read through the same walk as the Landlock backend
//! ([`crate::landlock::fs::layer`]): later mounts cover earlier ones, and each remaining
//! mount gets rights that match it (read-only binds `r`, `m`, `ix`; writable ones add `w`,
//! `l`, `k`). Two things differ, because AppArmor sees path names where Landlock sees the
//! mount tree:
//!
//! * what the plan *hides* inside a granted tree — a deny mask, or a tmpfs laid over part of
//!   a bind (Flatpak's hidden `~/.local/share/flatpak` with its overrides, `~/.var/app`) —
//!   gets no allow rule of its own, and a `deny` rule unless something is mounted inside
//!   it later (a deny cannot be undone for the inner mount);
//! * plan conditions (`When`) cannot be expressed: the rule is written unconditionally,
//!   which grants nothing where the path does not exist.

use portcullis_blob::landlock::{fs_access, FsRule, FsTarget, Requirement};
use portcullis_blob::mounts::{MountOp, PathExpr};
use portcullis_ir::Origin;

use super::origins::Origins;
use super::paths::{pattern, tree};
use super::Rule;
use crate::landlock::fs::{is_within, layer};

/// A path the plan hides, in plan order.
struct Hidden {
    path: String,
    /// A deny mask of the policy (else a tmpfs Flatpak lays over part of a grant).
    mask: bool,
    /// Whether a later operation mounts something inside it.
    has_inner_mounts: bool,
}

fn dest(op: &MountOp) -> Option<&PathExpr> {
    match op {
        MountOp::Tmpfs { dest, .. }
        | MountOp::Bind { dest, .. }
        | MountOp::Proc { dest }
        | MountOp::Dev { dest }
        | MountOp::File { dest, .. }
        | MountOp::Mask { dest }
        | MountOp::BindEntries { dest, .. } => Some(dest),
        MountOp::When { then, .. } => dest(then),
        _ => None,
    }
}

/// The plan's operations with `Sorted` groups opened, in order.
pub fn flatten(plan: &[MountOp]) -> Vec<&MountOp> {
    let mut out = Vec::new();
    for op in plan {
        match op {
            MountOp::Sorted { ops } => out.extend(flatten(ops)),
            other => out.push(other),
        }
    }
    out
}

/// The paths the plan hides: masks, and tmpfs mounts strictly inside an earlier bind.
fn hidden(plan: &[&MountOp]) -> Vec<Hidden> {
    let mut out = Vec::new();
    for (i, op) in plan.iter().enumerate() {
        let inner = match op {
            MountOp::When { then, .. } => then.as_ref(),
            other => other,
        };
        let (path, mask) = match inner {
            MountOp::Mask { dest } => (dest.as_str(), true),
            MountOp::Tmpfs { dest, .. }
                if plan[..i].iter().any(|earlier| {
                    matches!(earlier, MountOp::Bind { dest: bound, .. }
                        if bound != dest && is_within(dest.as_str(), bound.as_str()))
                }) =>
            {
                (dest.as_str(), false)
            }
            _ => continue,
        };
        let has_inner_mounts = plan[i + 1..].iter().any(|later| {
            dest(later).is_some_and(|d| d.as_str() != path && is_within(d.as_str(), path))
        });
        out.push(Hidden {
            path: path.to_string(),
            mask,
            has_inner_mounts,
        });
    }
    out
}

/// Whether a plan destination is a UNIX socket: one a `socket` grant binds, or one of the
/// sockets Flatpak's layout always binds (journal, resolved, the bus proxies).
fn is_socket(path: &str, origins: &Origins) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let granted = origins.find(path).is_some_and(|(_, what)| {
        what.starts_with("socket ") && name != "config" && name != "Xauthority"
    });
    granted
        || matches!(name, "socket" | "stdout" | "io.systemd.Resolve")
        || name.starts_with("pipewire-")
        || name.ends_with(".sock")
        || name.ends_with(".comm")
}

/// AppArmor permissions for Landlock-style access bits.
fn perms(access: u64) -> String {
    let mut out = String::new();
    if access & fs_access::EXECUTE != 0 {
        out.push('m');
    }
    if access & (fs_access::READ_FILE | fs_access::READ_DIR) != 0 {
        out.push('r');
    }
    if access & fs_access::WRITE != 0 {
        out.push('w');
    }
    if access & fs_access::REFER != 0 {
        out.push('l');
    }
    if access & (fs_access::READ_FILE | fs_access::WRITE_FILE) != 0 {
        out.push('k');
    }
    if access & fs_access::EXECUTE != 0 {
        out.push_str("ix");
    }
    out
}

fn why(origins: &Origins, path: &str, name: &dyn Fn(Origin) -> String) -> String {
    match origins.find(path) {
        Some((origin, what)) => format!("{what} ({})", name(origin)),
        None => "implicit: Flatpak's sandbox layout".to_string(),
    }
}

/// The file rules for `plan`.
pub fn rules(
    plan: &[MountOp],
    app_id: &str,
    origins: &Origins,
    name: &dyn Fn(Origin) -> String,
) -> Vec<Rule> {
    let flat = flatten(plan);
    let hidden = hidden(&flat);
    let mut out = vec![Rule::new(
        "/{,**/} r",
        "every visible directory can be listed (the sandbox root is a fresh tmpfs)",
    )];
    let layer = layer(plan, Requirement::BestEffort);
    let writable: Vec<&FsRule> = layer
        .rules
        .iter()
        .filter(|r| r.access & fs_access::WRITE != 0)
        .collect();
    for rule in &layer.rules {
        let (path, entries) = match &rule.target {
            FsTarget::Path { path } if path.as_str() == "/" => continue,
            FsTarget::Path { path } => (path.as_str(), None),
            FsTarget::Entries { dir, except } => (dir.as_str(), Some(except)),
        };
        if hidden.iter().any(|h| h.path == path) {
            continue;
        }
        let Some(pat) = pattern(path, app_id) else {
            out.push(Rule::comment(format!(
                "not mirrored (host-only placeholder): {path}"
            )));
            continue;
        };
        let mut because = why(origins, path, name);
        if rule.condition.is_some() {
            because.push_str("; only when present at launch");
        }
        if entries.is_none() && is_socket(path, origins) {
            // connect() needs `w` on the socket file; the read-only mount does not stop it.
            out.push(Rule::new(
                format!("\"{pat}\" rw"),
                format!("{because}; a socket"),
            ));
            continue;
        }
        let target = match entries {
            None => tree(&pat),
            Some(_) => format!("{}/*{{,/**}}", pat.trim_end_matches('/')),
        };
        out.push(Rule::new(
            format!("\"{target}\" {}", perms(rule.access)),
            because.clone(),
        ));
        // Entries left out of a writable listing stay read-only unless a writable rule
        // of their own covers them.
        if let Some(except) = entries.filter(|_| rule.access & fs_access::WRITE != 0) {
            for name_left_out in except {
                let inner = format!("{}/{name_left_out}", path.trim_end_matches('/'));
                let written = writable.iter().any(|w| match &w.target {
                    FsTarget::Path { path } => is_within(path.as_str(), &inner),
                    FsTarget::Entries { .. } => false,
                });
                if !written {
                    if let Some(p) = pattern(&inner, app_id) {
                        out.push(Rule::new(
                            format!("deny \"{}\" w", tree(&p)),
                            format!("left out of the writable listing of {path}"),
                        ));
                    }
                }
            }
        }
    }
    let mut denied: Vec<&str> = Vec::new();
    for h in &hidden {
        if denied.contains(&h.path.as_str()) {
            continue;
        }
        denied.push(&h.path);
        let because = if h.mask {
            format!("hidden by the mount plan: {}", why(origins, &h.path, name))
        } else {
            format!(
                "implicit: Flatpak hides it inside a grant ({})",
                why(origins, &h.path, name)
            )
        };
        match pattern(&h.path, app_id) {
            Some(p) if !h.has_inner_mounts => {
                out.push(Rule::new(format!("deny \"{}\" mrwlkx", tree(&p)), because))
            }
            Some(_) => out.push(Rule::comment(format!(
                "{} is hidden but has mounts inside it: no rule grants it",
                h.path
            ))),
            None => out.push(Rule::comment(format!(
                "not mirrored (host-only placeholder): {}",
                h.path
            ))),
        }
    }
    dedup(out)
}

/// Drops repeated lines (alternatives of one `When` choice give the same rule), keeping
/// the first.
fn dedup(rules: Vec<Rule>) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::with_capacity(rules.len());
    for rule in rules {
        if !out.contains(&rule) {
            out.push(rule);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_the_rights() {
        assert_eq!(perms(fs_access::READ), "mrkix");
        assert_eq!(perms(fs_access::READ | fs_access::WRITE), "mrwlkix");
        assert_eq!(perms(fs_access::READ_FILE), "rk");
        assert_eq!(perms(fs_access::READ_DIR), "r");
    }
}
