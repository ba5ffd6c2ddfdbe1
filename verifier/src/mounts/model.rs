//! An abstract sandbox tree built by applying an *expanded* mount plan in order, as the
//! executor (or bubblewrap) would: later mounts cover earlier ones at and below their
//! destination, directories and symlinks made in a tmpfs exist only there, remounts turn a
//! mount read-only. [`Model::view`] answers, for any sandbox path, what is visible there,
//! from which host path, and whether it is writable.

use portcullis_blob::mounts::MountOp;

/// What a sandbox path shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A host path, through a bind mount.
    Host(String),
    /// A tmpfs (the sandbox's root, `--tmpfs`, `--dev`'s own tmpfs), or something created
    /// in one.
    Tmpfs,
    /// procfs.
    Proc,
    /// A generated file.
    Data,
    /// A deny mask: an empty read-only directory or file.
    Masked,
}

/// The answer for one sandbox path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Where the content comes from.
    pub source: Source,
    /// Whether the app can write there.
    pub writable: bool,
    /// The destination of the mount that decides it (`/` for the root).
    pub mount: String,
}

#[derive(Clone, Debug)]
enum Kind {
    Host { source: String, devices: bool },
    Tmpfs,
    Proc,
    Dev,
    Data,
    Mask,
}

#[derive(Clone, Debug)]
struct Mount {
    dest: String,
    kind: Kind,
    readonly: bool,
}

/// The sandbox tree of one plan.
#[derive(Clone, Debug, Default)]
pub struct Model {
    mounts: Vec<Mount>,
    symlinks: Vec<(String, String)>,
}

/// `path` split into normal components (`.` and empty ones dropped, `..` applied).
pub fn components(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            other => out.push(other.to_string()),
        }
    }
    out
}

/// The normalised absolute form of `path`.
pub fn normal(path: &str) -> String {
    format!("/{}", components(path).join("/"))
}

/// Whether `path` is `parent` or below it (both normalised).
pub fn is_under(path: &str, parent: &str) -> bool {
    parent == "/"
        || path == parent
        || (path.starts_with(parent) && path.as_bytes().get(parent.len()) == Some(&b'/'))
}

fn rest_of<'a>(path: &'a str, parent: &str) -> &'a str {
    if parent == "/" {
        path.trim_start_matches('/')
    } else {
        path[parent.len()..].trim_start_matches('/')
    }
}

impl Model {
    /// Applies an expanded plan (no `When`, `BindEntries` or `Sorted` left).
    pub fn apply(ops: &[MountOp]) -> Model {
        let mut model = Model::default();
        for op in ops {
            model.step(op);
        }
        model
    }

    fn mount(&mut self, dest: &str, kind: Kind, readonly: bool) {
        let dest = self.resolve(dest);
        self.symlinks
            .retain(|(p, _)| !is_under(p, &dest) || p == &dest);
        self.mounts.push(Mount {
            dest,
            kind,
            readonly,
        });
    }

    fn step(&mut self, op: &MountOp) {
        match op {
            MountOp::Tmpfs { dest, .. } => self.mount(dest.as_str(), Kind::Tmpfs, false),
            MountOp::Bind {
                source,
                dest,
                flags,
            } => self.mount(
                dest.as_str(),
                Kind::Host {
                    source: normal(source.as_str()),
                    devices: flags.devices,
                },
                flags.readonly,
            ),
            MountOp::Proc { dest } => self.mount(dest.as_str(), Kind::Proc, false),
            MountOp::Dev { dest } => self.mount(dest.as_str(), Kind::Dev, false),
            MountOp::File { dest, readonly, .. } => {
                self.mount(dest.as_str(), Kind::Data, *readonly)
            }
            MountOp::Mask { dest } => self.mount(dest.as_str(), Kind::Mask, true),
            MountOp::RemountRo { dest } => {
                let dest = self.resolve(dest.as_str());
                if let Some(m) = self.mounts.iter_mut().rev().find(|m| m.dest == dest) {
                    m.readonly = true;
                }
            }
            MountOp::Symlink { target, dest } => {
                let dest = normal(dest.as_str());
                // A symlink made inside a tmpfs is part of the sandbox's own tree; one made
                // inside a bind mount lands on the host and is seen through the bind.
                if matches!(
                    self.covering(&dest).map(|m| &m.kind),
                    None | Some(Kind::Tmpfs)
                ) {
                    self.symlinks.push((dest, target.clone()));
                }
            }
            MountOp::Dir { .. } | MountOp::HostDir { .. } => {}
            MountOp::When { .. } | MountOp::BindEntries { .. } | MountOp::Sorted { .. } => {}
        }
    }

    fn covering(&self, path: &str) -> Option<&Mount> {
        self.mounts.iter().rev().find(|m| is_under(path, &m.dest))
    }

    /// `path` with the sandbox's own symlinks resolved (at most 40 of them).
    pub fn resolve(&self, path: &str) -> String {
        let mut current = normal(path);
        for _ in 0..40 {
            let comps = components(&current);
            let mut changed = false;
            for i in 1..=comps.len() {
                let prefix = format!("/{}", comps[..i].join("/"));
                if let Some((_, target)) = self.symlinks.iter().rev().find(|(p, _)| *p == prefix) {
                    let parent = format!("/{}", comps[..i - 1].join("/"));
                    let base = if target.starts_with('/') {
                        target.clone()
                    } else {
                        format!("{parent}/{target}")
                    };
                    current = normal(&format!("{base}/{}", comps[i..].join("/")));
                    changed = true;
                    break;
                }
            }
            if !changed {
                break;
            }
        }
        current
    }

    /// What the sandbox shows at `path`.
    pub fn view(&self, path: &str) -> View {
        let path = self.resolve(path);
        let Some(m) = self.covering(&path) else {
            // The root tmpfs; the executor makes it read-only after setup.
            return View {
                source: Source::Tmpfs,
                writable: false,
                mount: "/".to_string(),
            };
        };
        let rest = rest_of(&path, &m.dest);
        let source = match &m.kind {
            Kind::Host { source, .. } => Source::Host(if rest.is_empty() {
                source.clone()
            } else {
                normal(&format!("{source}/{rest}"))
            }),
            Kind::Tmpfs => Source::Tmpfs,
            Kind::Dev => Source::Tmpfs,
            Kind::Proc => Source::Proc,
            Kind::Data => Source::Data,
            Kind::Mask => Source::Masked,
        };
        View {
            source,
            writable: !m.readonly,
            mount: m.dest.clone(),
        }
    }

    /// Every host bind still reachable: (host source, sandbox destination, writable,
    /// device nodes usable). A bind fully covered by a later mount at or above its
    /// destination is left out.
    pub fn host_binds(&self) -> Vec<(String, String, bool, bool)> {
        let mut out = Vec::new();
        for (i, m) in self.mounts.iter().enumerate() {
            let Kind::Host { source, devices } = &m.kind else {
                continue;
            };
            let covered = self.mounts[i + 1..]
                .iter()
                .any(|later| is_under(&m.dest, &later.dest));
            if !covered {
                out.push((source.clone(), m.dest.clone(), !m.readonly, *devices));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_blob::mounts::{BindFlags, PathExpr};

    fn bind(src: &str, dest: &str, readonly: bool) -> MountOp {
        MountOp::Bind {
            source: PathExpr::new(src),
            dest: PathExpr::new(dest),
            flags: BindFlags {
                readonly,
                ..BindFlags::default()
            },
        }
    }

    #[test]
    fn later_mounts_cover_earlier_ones() {
        let ops = vec![
            bind("/home/u", "/home/u", true),
            bind("/home/u/Downloads", "/home/u/Downloads", false),
            MountOp::Mask {
                dest: PathExpr::new("/home/u/.ssh"),
            },
            MountOp::Symlink {
                target: "../run".into(),
                dest: PathExpr::new("/var/run"),
            },
            MountOp::Tmpfs {
                dest: PathExpr::new("/run"),
                mode: 0o755,
            },
        ];
        let m = Model::apply(&ops);
        assert_eq!(m.view("/home/u/a").source, Source::Host("/home/u/a".into()));
        assert!(!m.view("/home/u/a").writable);
        assert!(m.view("/home/u/Downloads/x").writable);
        assert_eq!(m.view("/home/u/.ssh/id").source, Source::Masked);
        assert_eq!(m.view("/var/run/x").mount, "/run");
        assert_eq!(m.view("/etc/shadow").source, Source::Tmpfs);
        assert!(!m.view("/etc/shadow").writable);
    }

    #[test]
    fn covered_binds_are_not_reachable() {
        let ops = vec![
            bind("/srv/a", "/data/a", false),
            MountOp::Tmpfs {
                dest: PathExpr::new("/data"),
                mode: 0o755,
            },
        ];
        assert!(Model::apply(&ops).host_binds().is_empty());
    }
}
