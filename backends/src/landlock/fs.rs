//! The filesystem layer: `PathBeneath` rules that mirror the mount plan.
//!
//! The plan is walked in order, as the executor applies it. A mount at a path (bind, tmpfs,
//! proc, dev, file, mask) covers whatever earlier operations put at or beneath that path, so
//! their rules go; then the new mount gets the rights that match it:
//!
//! | plan operation | rights |
//! |---|---|
//! | the root (always) | `read-dir`, so visible directories can be listed |
//! | read-only bind | execute, read-file, read-dir (+ ioctl-dev when devices stay usable) |
//! | writable bind, tmpfs | the read rights plus every write right but device creation |
//! | `/proc` | read, write-file, truncate |
//! | `/dev` | read, write-file, truncate, ioctl-dev; `/dev/shm` writable |
//! | generated file | read-file (+ write-file, truncate unless read-only) |
//! | remount read-only | write rights dropped from the rule at that path |
//! | mask | no rule; every covering rule (the root's too) lists it in `masked`, and the executor grants the tree around it (`FsRule::masked`) |
//! | symlink, dir, host dir | no rule (the target's or the parent's rule applies) |
//!
//! Paths are compared as text at `/` boundaries, placeholders unexpanded.

use portcullis_blob::landlock::{fs_access, FsLayer, FsRule, FsTarget, Requirement};
use portcullis_blob::mounts::{BindFlags, Condition, MountOp, PathExpr};

/// Whether `path` is `base` or lies beneath it.
pub fn is_within(path: &str, base: &str) -> bool {
    if base == "/" {
        // Every sandbox path is absolute once placeholders are expanded.
        return true;
    }
    path == base || (path.starts_with(base) && path.as_bytes().get(base.len()) == Some(&b'/'))
}

/// The rights a bind mount with `flags` gets.
pub fn bind_access(flags: &BindFlags) -> u64 {
    let mut access = fs_access::READ;
    if !flags.readonly {
        access |= fs_access::WRITE;
    }
    if flags.devices {
        access |= fs_access::IOCTL_DEV;
    }
    access
}

struct Builder {
    rules: Vec<FsRule>,
}

impl Builder {
    /// A mount at `dest` hides what earlier operations put at or beneath it.
    fn cover(&mut self, dest: &str) {
        self.rules.retain(|rule| match &rule.target {
            FsTarget::Path { path } => !is_within(path.as_str(), dest),
            FsTarget::Entries { dir, .. } => !is_within(dir.as_str(), dest),
        });
        for rule in &mut self.rules {
            if let FsTarget::Entries { dir, except } = &mut rule.target {
                if let Some(rest) = dest
                    .strip_prefix(dir.as_str())
                    .and_then(|r| r.strip_prefix('/'))
                {
                    if !rest.is_empty() && !rest.contains('/') && !except.iter().any(|e| e == rest)
                    {
                        except.push(rest.to_string());
                        except.sort();
                    }
                }
            }
        }
    }

    fn push(&mut self, target: FsTarget, access: u64, condition: Option<&Condition>) {
        self.rules.push(FsRule {
            target,
            access,
            condition: condition.cloned(),
            masked: Vec::new(),
        });
    }

    fn path(&mut self, dest: &PathExpr, access: u64, condition: Option<&Condition>) {
        if condition.is_none() {
            self.cover(dest.as_str());
        }
        self.push(FsTarget::Path { path: dest.clone() }, access, condition);
    }

    fn mask(&mut self, dest: &PathExpr, condition: Option<&Condition>) {
        if condition.is_none() {
            self.cover(dest.as_str());
        }
        for rule in &mut self.rules {
            let covers = match &rule.target {
                FsTarget::Path { path } => is_within(dest.as_str(), path.as_str()),
                FsTarget::Entries { dir, except } => {
                    is_within(dest.as_str(), dir.as_str())
                        && dest.as_str() != dir.as_str()
                        && !except
                            .iter()
                            .any(|e| is_within(dest.as_str(), &format!("{}/{e}", dir.as_str())))
                }
            };
            if covers && !rule.masked.contains(dest) {
                rule.masked.push(dest.clone());
            }
        }
    }

    fn remount_ro(&mut self, dest: &PathExpr) {
        for rule in &mut self.rules {
            if matches!(&rule.target, FsTarget::Path { path } if path == dest) {
                rule.access &= !fs_access::WRITE;
            }
        }
    }

    fn op(&mut self, op: &MountOp, condition: Option<&Condition>) {
        match op {
            MountOp::Tmpfs { dest, .. } if dest.as_str() == "/" => {
                self.rules.clear();
                self.push(
                    FsTarget::Path { path: dest.clone() },
                    fs_access::READ_DIR,
                    condition,
                );
            }
            MountOp::Tmpfs { dest, .. } => {
                self.path(dest, fs_access::READ | fs_access::WRITE, condition)
            }
            MountOp::Bind { dest, flags, .. } => self.path(dest, bind_access(flags), condition),
            MountOp::Proc { dest } => self.path(
                dest,
                fs_access::READ | fs_access::WRITE_FILE | fs_access::TRUNCATE,
                condition,
            ),
            MountOp::Dev { dest } => {
                let devices = fs_access::READ
                    | fs_access::WRITE_FILE
                    | fs_access::TRUNCATE
                    | fs_access::IOCTL_DEV;
                self.path(dest, devices, condition);
                let shm = PathExpr::new(format!("{}/shm", dest.as_str().trim_end_matches('/')));
                self.push(
                    FsTarget::Path { path: shm },
                    fs_access::READ | fs_access::WRITE,
                    condition,
                );
            }
            MountOp::File { dest, readonly, .. } => {
                let mut access = fs_access::READ_FILE;
                if !readonly {
                    access |= fs_access::WRITE_FILE | fs_access::TRUNCATE;
                }
                self.path(dest, access, condition);
            }
            MountOp::RemountRo { dest } => self.remount_ro(dest),
            MountOp::Mask { dest } => self.mask(dest, condition),
            MountOp::BindEntries {
                dest,
                except,
                flags,
                ..
            } => {
                let target = FsTarget::Entries {
                    dir: dest.clone(),
                    except: except.clone(),
                };
                self.push(target, bind_access(flags), condition);
            }
            MountOp::When {
                condition: inner,
                then,
            } => {
                // INVARIANT: the mount backend never nests `When`; a nested one would
                // still be handled, with the innermost condition.
                self.op(then, Some(inner));
            }
            MountOp::Sorted { ops } => {
                // The executor orders these by expanded destination, parents first; the
                // mount backend already lists them in that order for textual paths.
                for inner in ops {
                    self.op(inner, condition);
                }
            }
            MountOp::Dir { .. } | MountOp::HostDir { .. } | MountOp::Symlink { .. } => {}
        }
    }
}

/// The filesystem layer for `plan`: the root is always listable, then one rule per mount.
pub fn layer(plan: &[MountOp], level: Requirement) -> FsLayer {
    let mut builder = Builder { rules: Vec::new() };
    builder.push(
        FsTarget::Path {
            path: PathExpr::new("/"),
        },
        fs_access::READ_DIR,
        None,
    );
    for op in plan {
        builder.op(op, None);
    }
    FsLayer {
        level,
        rules: builder.rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(source: &str, dest: &str, readonly: bool) -> MountOp {
        MountOp::Bind {
            source: PathExpr::new(source),
            dest: PathExpr::new(dest),
            flags: BindFlags {
                readonly,
                ..BindFlags::default()
            },
        }
    }

    fn paths(layer: &FsLayer) -> Vec<(String, u64)> {
        layer
            .rules
            .iter()
            .map(|r| match &r.target {
                FsTarget::Path { path } => (path.as_str().to_string(), r.access),
                FsTarget::Entries { dir, except } => (
                    format!("{}/* except {}", dir.as_str(), except.join(",")),
                    r.access,
                ),
            })
            .collect()
    }

    #[test]
    fn boundaries_are_whole_components() {
        assert!(is_within("/home/u/.ssh", "/home/u"));
        assert!(is_within("/home/u", "/home/u"));
        assert!(!is_within("/home/user", "/home/u"));
        assert!(is_within("/anything", "/"));
    }

    #[test]
    fn read_only_and_writable_binds_get_matching_rights() {
        let plan = [
            bind("${RUNTIME}", "/usr", true),
            bind("${HOME}", "${HOME}", false),
        ];
        let layer = layer(&plan, Requirement::BestEffort);
        assert_eq!(
            paths(&layer),
            [
                ("/".to_string(), fs_access::READ_DIR),
                ("/usr".to_string(), fs_access::READ),
                ("${HOME}".to_string(), fs_access::READ | fs_access::WRITE),
            ]
        );
    }

    #[test]
    fn later_mounts_cover_earlier_rules_beneath_them() {
        let plan = [
            bind("${HOME}/a", "${HOME}/a", false),
            bind("${HOME}/a/b", "${HOME}/a/b", true),
            MountOp::Tmpfs {
                dest: PathExpr::new("${HOME}/a"),
                mode: 0o755,
            },
        ];
        let layer = layer(&plan, Requirement::BestEffort);
        assert_eq!(
            paths(&layer)[1..],
            [("${HOME}/a".to_string(), fs_access::READ | fs_access::WRITE)]
        );
    }

    #[test]
    fn masks_leave_no_rule_and_are_listed_on_the_parent() {
        let plan = [
            bind("${HOME}", "${HOME}", true),
            bind("${HOME}/.ssh/keys", "${HOME}/.ssh/keys", true),
            MountOp::Mask {
                dest: PathExpr::new("${HOME}/.ssh"),
            },
        ];
        let layer = layer(&plan, Requirement::Required);
        assert_eq!(layer.rules.len(), 2);
        assert_eq!(layer.rules[1].masked, [PathExpr::new("${HOME}/.ssh")]);
        // The root's read-dir rule covers the mask too (listing an empty mount).
        assert_eq!(layer.rules[0].masked, [PathExpr::new("${HOME}/.ssh")]);
    }

    #[test]
    fn remount_ro_and_files_and_entries() {
        let plan = [
            MountOp::BindEntries {
                source: PathExpr::new("${RUNTIME}/etc"),
                dest: PathExpr::new("/etc"),
                except: vec!["passwd".to_string()],
                flags: BindFlags {
                    readonly: true,
                    ..BindFlags::default()
                },
            },
            MountOp::File {
                dest: PathExpr::new("/etc/passwd"),
                content: Vec::new(),
                mode: 0o644,
                readonly: true,
                expand: true,
            },
            MountOp::File {
                dest: PathExpr::new("/etc/hosts"),
                content: Vec::new(),
                mode: 0o644,
                readonly: true,
                expand: false,
            },
            MountOp::Tmpfs {
                dest: PathExpr::new("/run/x"),
                mode: 0o700,
            },
            MountOp::RemountRo {
                dest: PathExpr::new("/run/x"),
            },
        ];
        let layer = layer(&plan, Requirement::BestEffort);
        assert_eq!(
            paths(&layer)[1..],
            [
                ("/etc/* except hosts,passwd".to_string(), fs_access::READ),
                ("/etc/passwd".to_string(), fs_access::READ_FILE),
                ("/etc/hosts".to_string(), fs_access::READ_FILE),
                ("/run/x".to_string(), fs_access::READ),
            ]
        );
    }

    #[test]
    fn conditional_mounts_keep_their_condition_and_cover_nothing() {
        let plan = [
            bind("/dev", "/dev", false),
            MountOp::When {
                condition: Condition::Exists(PathExpr::new("/dev/dri")),
                then: Box::new(MountOp::Bind {
                    source: PathExpr::new("/dev/dri"),
                    dest: PathExpr::new("/dev/dri"),
                    flags: BindFlags {
                        devices: true,
                        ..BindFlags::default()
                    },
                }),
            },
        ];
        let layer = layer(&plan, Requirement::BestEffort);
        assert_eq!(layer.rules.len(), 3);
        assert!(layer.rules[2].condition.is_some());
        assert_ne!(layer.rules[2].access & fs_access::IOCTL_DEV, 0);
    }
}
