//! Host-independent verification of a plan (for `verify BLOB`): the plan is expanded for a
//! canonical user on two described hosts — one where every path the plan may test exists
//! (every optional bind and every `When` that tests for presence is taken), one where
//! nothing optional exists — and each expansion is checked against the policy. Together
//! they cover both sides of every presence test.

use std::collections::BTreeMap;

use portcullis_blob::expand::{DirEntry, FileKind, HostFs, Launch, Values};
use portcullis_blob::mounts::MountOp;
use portcullis_ir::Policy;

use super::{check, Finding};

/// A described host: everything exists (`full`), or only the base system does.
struct World {
    full: bool,
}

const SOCKETS: &[&str] = &[
    "/run/user/1000/wayland-0",
    "/run/user/1000/pulse/native",
    "/run/user/1000/ssh-agent.sock",
    "/tmp/.X11-unix/X0",
];

const ROOT: &[&str] = &[
    "bin", "boot", "dev", "etc", "home", "lib", "lib64", "media", "mnt", "opt", "proc", "root",
    "run", "sbin", "srv", "sys", "tmp", "usr", "var",
];

const USR_MERGED: &[&str] = &["/bin", "/lib", "/lib64", "/sbin"];

impl HostFs for World {
    fn kind(&self, path: &str) -> Option<FileKind> {
        if SOCKETS.contains(&path) {
            return Some(FileKind::Socket);
        }
        let base = [
            "/usr",
            "/home/user",
            "/run/user/1000",
            "/etc",
            "/sys",
            "/proc",
            "/dev",
        ]
        .iter()
        .any(|b| path == *b || path.starts_with(&format!("{b}/")));
        (self.full || base).then_some(FileKind::Dir)
    }

    fn list(&self, path: &str) -> Option<Vec<DirEntry>> {
        (self.full && path == "/").then(|| {
            ROOT.iter()
                .map(|name| DirEntry {
                    name: name.to_string(),
                    symlink: USR_MERGED
                        .contains(&format!("/{name}").as_str())
                        .then(|| format!("usr/{name}")),
                })
                .collect()
        })
    }

    fn is_symlink(&self, path: &str) -> bool {
        USR_MERGED.contains(&path)
    }
}

fn canonical_launch(policy: &Policy) -> Launch {
    let env: BTreeMap<String, String> = [
        ("HOME", "/home/user"),
        ("USER", "user"),
        ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ("DISPLAY", ":0"),
        ("WAYLAND_DISPLAY", "wayland-0"),
        ("SSH_AUTH_SOCK", "/run/user/1000/ssh-agent.sock"),
        ("XAUTHORITY", "/home/user/.Xauthority"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Launch {
        env,
        uid: 1000,
        gid: 1000,
        user: "user".into(),
        home: "/home/user".into(),
        app_id: policy.app_id().to_string(),
        runtime: None,
        app: Some("/srv/app".into()),
        extensions: Some("/srv/extensions".into()),
        user_dirs: Some(
            "XDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOCUMENTS_DIR=\"$HOME/Documents\"\n\
             XDG_DOWNLOAD_DIR=\"$HOME/Downloads\"\nXDG_MUSIC_DIR=\"$HOME/Music\"\n\
             XDG_PICTURES_DIR=\"$HOME/Pictures\"\nXDG_PUBLICSHARE_DIR=\"$HOME/Public\"\n\
             XDG_TEMPLATES_DIR=\"$HOME/Templates\"\nXDG_VIDEOS_DIR=\"$HOME/Videos\"\n"
                .into(),
        ),
    }
}

/// Checks a plan against its policy on both described hosts; an expansion failure is a
/// finding too (`mounts::expand`).
pub fn verify_static(ops: &[MountOp], policy: &Policy) -> Vec<Finding> {
    let values = Values::new(&canonical_launch(policy));
    let mut out = Vec::new();
    for (name, world) in [
        ("full", World { full: true }),
        ("bare", World { full: false }),
    ] {
        match check(ops, policy, &values, &world) {
            Ok(findings) => out.extend(findings.into_iter().map(|f| Finding {
                code: f.code,
                message: format!("{} (host with {name} paths)", f.message),
            })),
            Err(err) => out.push(Finding {
                code: "mounts::expand",
                message: format!("the plan does not expand: {err}"),
            }),
        }
    }
    out.sort_by(|a, b| (a.code, &a.message).cmp(&(b.code, &b.message)));
    out.dedup();
    out
}
