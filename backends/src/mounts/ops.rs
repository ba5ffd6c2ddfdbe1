//! Small constructors for mount operations, so that the layout modules read like Flatpak's
//! argument lists.

use portcullis_blob::mounts::{BindFlags, Condition, MountOp, PathExpr};

/// A path expression.
pub fn p(text: impl Into<String>) -> PathExpr {
    PathExpr::new(text)
}

/// The app's data directory on the host, `~/.var/app/APPID`.
pub const APP_DIR: &str = "${HOME}/.var/app/${APP_ID}";

/// Flatpak's per-app runtime state on the host, `$XDG_RUNTIME_DIR/.flatpak/APPID`.
pub const APP_STATE: &str = "${XDG_RUNTIME_DIR}/.flatpak/${APP_ID}";

/// The sandbox's runtime dir.
pub const RUN_USER: &str = "/run/user/${UID}";

fn flags(readonly: bool, devices: bool, optional: bool) -> BindFlags {
    BindFlags {
        readonly,
        devices,
        optional,
    }
}

/// `--bind SRC DEST`.
pub fn bind(source: &str, dest: &str) -> MountOp {
    MountOp::Bind {
        source: p(source),
        dest: p(dest),
        flags: flags(false, false, false),
    }
}

/// `--ro-bind SRC DEST`.
pub fn ro_bind(source: &str, dest: &str) -> MountOp {
    MountOp::Bind {
        source: p(source),
        dest: p(dest),
        flags: flags(true, false, false),
    }
}

/// `--bind-try SRC DEST`.
pub fn bind_try(source: &str, dest: &str) -> MountOp {
    MountOp::Bind {
        source: p(source),
        dest: p(dest),
        flags: flags(false, false, true),
    }
}

/// `--ro-bind-try SRC DEST`.
pub fn ro_bind_try(source: &str, dest: &str) -> MountOp {
    MountOp::Bind {
        source: p(source),
        dest: p(dest),
        flags: flags(true, false, true),
    }
}

/// `--dev-bind-try SRC DEST` (read-only when `readonly`).
pub fn dev_bind_try(source: &str, dest: &str, readonly: bool) -> MountOp {
    MountOp::Bind {
        source: p(source),
        dest: p(dest),
        flags: flags(readonly, true, true),
    }
}

/// A bind with a Flatpak mode: read-only for `ro`, else read-write; optional when `try_`.
pub fn bind_mode(source: &str, dest: &str, writable: bool, try_: bool) -> MountOp {
    MountOp::Bind {
        source: p(source),
        dest: p(dest),
        flags: flags(!writable, false, try_),
    }
}

/// `--dir DEST` with mode 0755.
pub fn dir(dest: &str) -> MountOp {
    MountOp::Dir {
        dest: p(dest),
        mode: 0o755,
    }
}

/// `--perms MODE --dir DEST`.
pub fn dir_mode(dest: &str, mode: u32) -> MountOp {
    MountOp::Dir {
        dest: p(dest),
        mode,
    }
}

/// `--tmpfs DEST` with mode 0755.
pub fn tmpfs(dest: &str) -> MountOp {
    MountOp::Tmpfs {
        dest: p(dest),
        mode: 0o755,
    }
}

/// `--symlink TARGET DEST`.
pub fn symlink(target: &str, dest: &str) -> MountOp {
    MountOp::Symlink {
        target: target.to_string(),
        dest: p(dest),
    }
}

/// A read-only data file (`--ro-bind-data`), placeholders in it expanded when `expand`.
pub fn data(dest: &str, content: impl Into<Vec<u8>>, expand: bool) -> MountOp {
    MountOp::File {
        dest: p(dest),
        content: content.into(),
        mode: 0o644,
        readonly: true,
        expand,
    }
}

/// `mkdir -p` on the host (mode 0755 unless given).
pub fn host_dir(path: &str, mode: u32) -> MountOp {
    MountOp::HostDir {
        path: p(path),
        mode,
    }
}

/// `op` only when `condition` holds at launch.
pub fn when(condition: Condition, op: MountOp) -> MountOp {
    MountOp::When {
        condition,
        then: Box::new(op),
    }
}

/// The path exists on the host.
pub fn exists(path: &str) -> Condition {
    Condition::Exists(p(path))
}

/// The path is a directory on the host.
pub fn is_dir(path: &str) -> Condition {
    Condition::IsDir(p(path))
}

/// The path is a socket on the host.
pub fn is_socket(path: &str) -> Condition {
    Condition::IsSocket(p(path))
}

/// Negation.
pub fn not(condition: Condition) -> Condition {
    Condition::Not(Box::new(condition))
}
