//! The bwrap interop backend: an *expanded* mount plan and environment (see
//! `portcullis_blob::expand`) → the arguments that run the same mounts under stock
//! bubblewrap (`bwrap ARGS -- CMD`), for interoperability and comparison.
//!
//! Pure: the caller (the CLI, the only place allowed to read the environment) expands the
//! plan for the current user; what must exist on the host, [`BwrapArgs::host_dirs`],
//! [`BwrapArgs::host_symlinks`] and [`BwrapArgs::data_files`], is made at run time by the
//! wrapper `portcullis emit --backend bwrap` prints, never when emitting. bubblewrap cannot
//! read data from a path given on a JSON command line through an fd, so generated files are
//! written under a data directory and bound read-only. A mask becomes a read-only tmpfs on
//! a directory or an empty read-only file on anything else, decided through [`HostFs`] on
//! the host path the plan maps there.
//!
//! Differences from the executor: the seccomp filter is not among these arguments (the
//! wrapper adds `--seccomp FD`); `--new-session` keeps TIOCSTI away from the caller's
//! terminal; no Landlock, no limits, no D-Bus proxy.

use portcullis_blob::expand::{FileKind, HostFs};
use portcullis_blob::mounts::{EnvOp, MountOp};

/// What to run bubblewrap with.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BwrapArgs {
    /// The arguments, without the program name and without `-- CMD`.
    pub args: Vec<String>,
    /// Host directories to create (`mkdir -p`, mode) before running bwrap.
    pub host_dirs: Vec<(String, u32)>,
    /// Files to write before running bwrap: (host path, content).
    pub data_files: Vec<(String, Vec<u8>)>,
    /// Symlinks to create on the host before running bwrap: (host path, link text). A
    /// symlink whose destination lies inside a host bind lands on the host anyway, and
    /// bubblewrap 0.8 fails when it exists from an earlier run; Flatpak creates these
    /// (the runtime-dir members) on the host too.
    pub host_symlinks: Vec<(String, String)>,
}

/// Namespaces to unshare beyond bubblewrap's defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Namespaces {
    /// Keep the host network (`share=network`).
    pub share_network: bool,
    /// Keep the host IPC namespace (`share=ipc`).
    pub share_ipc: bool,
}

fn push(args: &mut Vec<String>, words: &[&str]) {
    args.extend(words.iter().map(|w| w.to_string()));
}

fn data_name(index: usize, dest: &str) -> String {
    let clean: String = dest
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{index:03}-{clean}")
}

/// Where `dest` comes from on the host according to the binds so far (for masks).
fn host_path_of(binds: &[(String, String)], dest: &str) -> Option<String> {
    binds.iter().rev().find_map(|(src, dst)| {
        if dest == dst {
            Some(src.clone())
        } else {
            let rest = dest.strip_prefix(dst.as_str())?;
            let rest = if dst == "/" {
                rest
            } else {
                rest.strip_prefix('/')?
            };
            Some(format!("{}/{rest}", src.trim_end_matches('/')))
        }
    })
}

/// Translates an expanded plan. `data_dir` is where generated files will be written.
pub fn args(
    ops: &[MountOp],
    env: &[EnvOp],
    ns: Namespaces,
    data_dir: &str,
    fs: &dyn HostFs,
) -> BwrapArgs {
    let mut out = BwrapArgs::default();
    let a = &mut out.args;
    push(a, &["--unshare-pid", "--new-session"]);
    if !ns.share_ipc {
        push(a, &["--unshare-ipc"]);
    }
    if !ns.share_network {
        push(a, &["--unshare-net"]);
    }
    let mut binds: Vec<(String, String)> = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        match op {
            MountOp::Tmpfs { dest, mode } => {
                push(
                    a,
                    &["--perms", &format!("{mode:04o}"), "--tmpfs", dest.as_str()],
                );
                binds.retain(|(_, d)| !d.starts_with(dest.as_str()));
            }
            MountOp::Dir { dest, mode } => push(
                a,
                &["--perms", &format!("{mode:04o}"), "--dir", dest.as_str()],
            ),
            MountOp::HostDir { path, mode } => out.host_dirs.push((path.0.clone(), *mode)),
            MountOp::Bind {
                source,
                dest,
                flags,
            } => {
                let verb = match (flags.devices, flags.readonly, flags.optional) {
                    (true, _, false) => "--dev-bind",
                    (true, _, true) => "--dev-bind-try",
                    (false, true, false) => "--ro-bind",
                    (false, true, true) => "--ro-bind-try",
                    (false, false, false) => "--bind",
                    (false, false, true) => "--bind-try",
                };
                push(a, &[verb, source.as_str(), dest.as_str()]);
                if flags.devices && flags.readonly {
                    push(a, &["--remount-ro", dest.as_str()]);
                }
                binds.push((source.0.clone(), dest.0.clone()));
            }
            MountOp::Proc { dest } => push(a, &["--proc", dest.as_str()]),
            MountOp::Dev { dest } => push(a, &["--dev", dest.as_str()]),
            MountOp::Symlink { target, dest } => match host_path_of(&binds, dest.as_str()) {
                Some(host) => out.host_symlinks.push((host, target.clone())),
                None => push(a, &["--symlink", target, dest.as_str()]),
            },
            MountOp::File {
                dest,
                content,
                readonly,
                ..
            } => {
                let path = format!(
                    "{}/{}",
                    data_dir.trim_end_matches('/'),
                    data_name(index, dest.as_str())
                );
                let verb = if *readonly { "--ro-bind" } else { "--bind" };
                push(a, &[verb, &path, dest.as_str()]);
                out.data_files.push((path, content.clone()));
            }
            MountOp::RemountRo { dest } => push(a, &["--remount-ro", dest.as_str()]),
            MountOp::Mask { dest } => {
                let host = host_path_of(&binds, dest.as_str());
                match host.as_deref().and_then(|h| fs.kind(h)) {
                    Some(FileKind::Dir) => {
                        push(a, &["--perms", "0755", "--tmpfs", dest.as_str()]);
                        push(a, &["--remount-ro", dest.as_str()]);
                    }
                    Some(_) => {
                        let path = format!(
                            "{}/{}",
                            data_dir.trim_end_matches('/'),
                            data_name(index, dest.as_str())
                        );
                        push(a, &["--ro-bind", &path, dest.as_str()]);
                        out.data_files.push((path, Vec::new()));
                    }
                    None => {}
                }
            }
            // Expanded plans hold none of these; an unexpanded one is refused by leaving
            // them out rather than guessing.
            MountOp::When { .. } | MountOp::BindEntries { .. } | MountOp::Sorted { .. } => {}
        }
    }
    for op in env {
        match op {
            EnvOp::Set { name, value } => push(a, &["--setenv", name, value.as_str()]),
            EnvOp::Unset { name } => push(a, &["--unsetenv", name]),
            EnvOp::When { .. } => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_blob::expand::DirEntry;
    use portcullis_blob::mounts::{BindFlags, PathExpr};

    struct Fs;
    impl HostFs for Fs {
        fn kind(&self, path: &str) -> Option<FileKind> {
            match path {
                "/home/u/.ssh" => Some(FileKind::Dir),
                "/home/u/.netrc" => Some(FileKind::File),
                _ => None,
            }
        }
        fn list(&self, _: &str) -> Option<Vec<DirEntry>> {
            None
        }
        fn is_symlink(&self, _: &str) -> bool {
            false
        }
    }

    #[test]
    fn masks_follow_the_host_path_behind_the_bind() {
        let p = PathExpr::new;
        let ops = vec![
            MountOp::Bind {
                source: p("/home/u"),
                dest: p("/home/u"),
                flags: BindFlags::default(),
            },
            MountOp::Mask {
                dest: p("/home/u/.ssh"),
            },
            MountOp::Mask {
                dest: p("/home/u/.netrc"),
            },
            MountOp::Mask {
                dest: p("/home/u/absent"),
            },
        ];
        let out = args(&ops, &[], Namespaces::default(), "/d", &Fs);
        let text = out.args.join(" ");
        assert!(text.contains("--bind /home/u /home/u --perms 0755 --tmpfs /home/u/.ssh --remount-ro /home/u/.ssh --ro-bind /d/002-home_u_.netrc /home/u/.netrc"), "{text}");
        assert!(!text.contains("absent"));
        assert_eq!(
            out.data_files,
            vec![("/d/002-home_u_.netrc".to_string(), Vec::new())]
        );
        assert!(text.starts_with("--unshare-pid --new-session --unshare-ipc --unshare-net"));
    }
}
