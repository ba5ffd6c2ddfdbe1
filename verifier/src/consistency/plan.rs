//! The mount plan as the consistency checks see it: for a sandbox path, is it visible, is
//! it writable, is it hidden. Re-derived from the plan's operations (no backend code):
//! later mounts cover earlier ones at and beneath their destination; conditional
//! operations count as happening (the checks must hold either way, so a grant has to fit
//! the plan with and without them).

use portcullis_blob::mounts::MountOp;

/// What the plan puts at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Nothing mounted there or above, apart from the sandbox root.
    RootOnly,
    /// Visible, read-only.
    ReadOnly,
    /// Visible and writable.
    Writable,
    /// Hidden by a deny mask (an empty read-only mount).
    Masked,
}

/// One mount of the plan, flattened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Destination in the sandbox (placeholders unexpanded).
    pub dest: String,
    /// What it makes of the tree beneath it.
    pub visibility: Visibility,
    /// It hides host content of an earlier bind (a mask, or a tmpfs over part of a bind).
    pub hides: bool,
    /// Entries of a host directory (`BindEntries`): the destination itself is not mounted.
    pub entries: bool,
    /// For entries: the names left out.
    pub except: Vec<String>,
}

/// Whether `path` is `base` or lies beneath it (text at `/` boundaries).
pub fn is_within(path: &str, base: &str) -> bool {
    base == "/"
        || path == base
        || (path.starts_with(base) && path.as_bytes().get(base.len()) == Some(&b'/'))
}

fn push(out: &mut Vec<Mount>, op: &MountOp) {
    let mount = |dest: &str, visibility, entries| Mount {
        dest: dest.to_string(),
        visibility,
        hides: false,
        entries,
        except: Vec::new(),
    };
    let m = match op {
        MountOp::Tmpfs { dest, .. } => mount(dest.as_str(), Visibility::Writable, false),
        MountOp::Bind { dest, flags, .. } => mount(
            dest.as_str(),
            if flags.readonly {
                Visibility::ReadOnly
            } else {
                Visibility::Writable
            },
            false,
        ),
        MountOp::Proc { dest } | MountOp::Dev { dest } => {
            mount(dest.as_str(), Visibility::Writable, false)
        }
        MountOp::File { dest, readonly, .. } => mount(
            dest.as_str(),
            if *readonly {
                Visibility::ReadOnly
            } else {
                Visibility::Writable
            },
            false,
        ),
        MountOp::Mask { dest } => mount(dest.as_str(), Visibility::Masked, false),
        MountOp::BindEntries {
            dest,
            flags,
            except,
            ..
        } => Mount {
            except: except.clone(),
            ..mount(
                dest.as_str(),
                if flags.readonly {
                    Visibility::ReadOnly
                } else {
                    Visibility::Writable
                },
                true,
            )
        },
        MountOp::RemountRo { dest } => {
            if let Some(last) = out.iter_mut().rev().find(|m| m.dest == dest.as_str()) {
                last.visibility = Visibility::ReadOnly;
            }
            return;
        }
        MountOp::When { then, .. } => return push(out, then),
        MountOp::Sorted { ops } => {
            for inner in ops {
                push(out, inner);
            }
            return;
        }
        MountOp::Dir { .. } | MountOp::HostDir { .. } | MountOp::Symlink { .. } => return,
    };
    let hides = m.visibility == Visibility::Masked
        || (matches!(op, MountOp::Tmpfs { .. })
            && out.iter().any(|e| {
                e.visibility != Visibility::Masked
                    && !e.entries
                    && e.dest != m.dest
                    && is_within(&m.dest, &e.dest)
                    && e.dest != "/"
            }));
    out.push(Mount { hides, ..m });
}

/// The plan's mounts, in order.
pub fn mounts(plan: &[MountOp]) -> Vec<Mount> {
    let mut out = Vec::new();
    for op in plan {
        push(&mut out, op);
    }
    out
}

/// Whether `mount` covers `path`: at or beneath its destination, and for entries strictly
/// beneath it through a name that is not left out.
pub fn covers(mount: &Mount, path: &str) -> bool {
    if !is_within(path, &mount.dest) {
        return false;
    }
    if !mount.entries {
        return true;
    }
    let rest = path[mount.dest.len()..].trim_start_matches('/');
    let first = rest.split('/').next().unwrap_or("");
    !first.is_empty() && !mount.except.iter().any(|e| e == first)
}

/// What the plan makes of `path`: the last mount that covers it decides.
pub fn visibility(mounts: &[Mount], path: &str) -> Visibility {
    mounts
        .iter()
        .rev()
        .find(|m| covers(m, path))
        .map(|m| m.visibility)
        .unwrap_or(Visibility::RootOnly)
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_blob::mounts::{BindFlags, PathExpr};

    #[test]
    fn later_mounts_decide_and_masks_hide() {
        let ro = BindFlags {
            readonly: true,
            ..BindFlags::default()
        };
        let plan = [
            MountOp::Bind {
                source: PathExpr::new("${HOME}"),
                dest: PathExpr::new("${HOME}"),
                flags: ro,
            },
            MountOp::Tmpfs {
                dest: PathExpr::new("${HOME}/.cache"),
                mode: 0o700,
            },
            MountOp::Mask {
                dest: PathExpr::new("${HOME}/.ssh"),
            },
        ];
        let m = mounts(&plan);
        assert_eq!(visibility(&m, "${HOME}/doc"), Visibility::ReadOnly);
        assert_eq!(visibility(&m, "${HOME}/.cache/x"), Visibility::Writable);
        assert_eq!(visibility(&m, "${HOME}/.ssh/id"), Visibility::Masked);
        assert_eq!(visibility(&m, "/etc"), Visibility::RootOnly);
        assert!(m[1].hides && m[2].hides && !m[0].hides);
    }

    #[test]
    fn entries_leave_their_excepted_names_alone() {
        let plan = [
            MountOp::Bind {
                source: PathExpr::new("/dev/dri"),
                dest: PathExpr::new("/dev/dri"),
                flags: BindFlags::default(),
            },
            MountOp::BindEntries {
                source: PathExpr::new("/"),
                dest: PathExpr::new("/"),
                except: vec!["dev".to_string(), "proc".to_string()],
                flags: BindFlags {
                    readonly: true,
                    ..BindFlags::default()
                },
            },
        ];
        let m = mounts(&plan);
        assert_eq!(visibility(&m, "/dev/dri"), Visibility::Writable);
        assert_eq!(visibility(&m, "/srv/x"), Visibility::ReadOnly);
        assert_eq!(visibility(&m, "/"), Visibility::RootOnly);
    }
}
