//! The fixed part of Flatpak's layout (semantics §5.1 steps 1–7): host directories prepared
//! before launch, the runtime at `/usr`, the app at `/app`, extension mount points, `/proc`,
//! the base directories, the `/sys` subset, the generated `/etc` files, the runtime's `etc/`,
//! the app-id `/var` binds, the usr-merge symlinks, `/.flatpak-info`, the per-app runtime dir
//! and the per-app `/tmp`.

use std::fmt::Write;

use portcullis_blob::mounts::{BindFlags, MountOp};
use portcullis_ir::context::Device;
use portcullis_ir::context::Feature;
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::identity::Kind;
use portcullis_ir::keyfile::escape_value;
use portcullis_ir::Policy;

use super::ops::*;

/// Runtime `etc/` entries Flatpak does not copy into `/etc` (it generates or binds its own).
pub const ETC_EXCLUDED: &[&str] = &[
    "gai.conf",
    "group",
    "host.conf",
    "hosts",
    "localtime",
    "machine-id",
    "passwd",
    "pkcs11",
    "resolv.conf",
    "timezone",
];

/// The usr-merge symlinks Flatpak creates for the runtime's top-level dirs.
pub const USR_MERGED: &[&str] = &["bin", "lib", "lib32", "lib64", "sbin"];

/// The read-only `/sys` subset.
pub const SYS_SUBSET: &[&str] = &["block", "bus", "class", "dev", "devices"];

/// The app-id subdirectories Flatpak creates (`flatpak_ensure_data_dir`).
pub const APP_SUBDIRS: &[&str] = &[
    "data",
    "cache/fontconfig",
    "cache/tmp",
    "config",
    ".local/state",
];

/// Host directories created before anything is mounted: the app's data dirs, its runtime
/// dirs and, when used, the per-app `/dev/shm`.
pub fn host_preparation(policy: &Policy) -> Vec<MountOp> {
    let mut ops: Vec<MountOp> = APP_SUBDIRS
        .iter()
        .map(|sub| host_dir(&format!("{APP_DIR}/{sub}"), 0o755))
        .collect();
    ops.push(host_dir("${XDG_RUNTIME_DIR}/app/${APP_ID}", 0o700));
    ops.push(host_dir(&format!("{APP_STATE}/xdg-run"), 0o700));
    if !tmp_exported(policy) {
        ops.push(host_dir(&format!("{APP_STATE}/tmp"), 0o700));
    }
    if per_app_dev_shm(policy) {
        ops.push(host_dir(super::devices::PER_APP_SHM, 0o700));
    }
    ops
}

/// Whether the per-app `/dev/shm` is used (§1.4: the feature, without `shm`).
pub fn per_app_dev_shm(policy: &Policy) -> bool {
    let ctx = &policy.context;
    ctx.has_feature(Feature::PerAppDevShm) && !ctx.has_device(Device::Shm)
}

/// Whether `/tmp` is visible through the export list (then no per-app `/tmp`).
pub fn tmp_exported(policy: &Policy) -> bool {
    policy.context.fs_mode(&FsKey::Absolute("/tmp".to_string())) > FsMode::None
}

/// Steps 1–3: runtime, app, extensions.
pub fn runtime_and_app(policy: &Policy) -> Vec<MountOp> {
    let mut ops = vec![
        ro_bind("${RUNTIME}", "/usr"),
        when(exists("${APP}"), ro_bind("${APP}", "/app")),
        when(not(exists("${APP}")), dir("/app")),
    ];
    let root = match policy.identity.kind {
        Kind::Runtime => "/usr",
        _ => "/app",
    };
    let mut exts: Vec<(String, String)> = policy
        .identity
        .extensions
        .iter()
        .filter_map(|e| {
            let dir = e.directory.as_deref()?.trim_matches('/');
            let safe = !dir.is_empty()
                && dir
                    .split('/')
                    .all(|c| !c.is_empty() && c != "." && c != "..");
            safe.then(|| (format!("{root}/{dir}"), e.name.clone()))
        })
        .collect();
    exts.sort();
    for (dest, name) in exts {
        ops.push(ro_bind_try(&format!("${{EXTENSIONS}}/{name}"), &dest));
    }
    ops
}

/// Step 4: `flatpak_run_setup_base_argv`.
pub fn base_setup(_policy: &Policy) -> Vec<MountOp> {
    let mut ops = vec![
        MountOp::Proc { dest: p("/proc") },
        dir("/tmp"),
        dir("/var/tmp"),
        dir("/run/host"),
        dir_mode(RUN_USER, 0o700),
        symlink("../run", "/var/run"),
    ];
    for sub in SYS_SUBSET {
        let path = format!("/sys/{sub}");
        ops.push(ro_bind(&path, &path));
    }
    ops.push(ro_bind_try("/proc/self/ns/user", "/run/.userns"));
    ops.push(symlink("/etc/timezone", "/var/db/zoneinfo"));
    ops.push(data("/etc/passwd", PASSWD, true));
    ops.push(data("/etc/group", GROUP, true));
    ops.push(data("/etc/pkcs11/pkcs11.conf", PKCS11, false));
    ops.push(when(
        exists("/etc/machine-id"),
        ro_bind("/etc/machine-id", "/etc/machine-id"),
    ));
    ops.push(when(
        not(exists("/etc/machine-id")),
        ro_bind_try("/var/lib/dbus/machine-id", "/etc/machine-id"),
    ));
    ops.push(MountOp::BindEntries {
        source: p("${RUNTIME}/etc"),
        dest: p("/etc"),
        except: ETC_EXCLUDED.iter().map(|s| s.to_string()).collect(),
        flags: BindFlags {
            readonly: true,
            devices: false,
            optional: true,
        },
    });
    for (sub, dest) in [
        ("cache", "/var/cache"),
        ("data", "/var/data"),
        ("config", "/var/config"),
        ("cache/tmp", "/var/tmp"),
    ] {
        ops.push(bind(&format!("{APP_DIR}/{sub}"), dest));
    }
    for name in USR_MERGED {
        ops.push(when(
            exists(&format!("${{RUNTIME}}/{name}")),
            symlink(&format!("usr/{name}"), &format!("/{name}")),
        ));
    }
    ops.push(ro_bind_try("/etc/timezone", "/etc/timezone"));
    for name in ["resolv.conf", "host.conf", "hosts", "gai.conf"] {
        let path = format!("/etc/{name}");
        ops.push(ro_bind_try(&path, &path));
    }
    ops.push(when(
        not(exists("${RUNTIME}/etc/ld.so.cache")),
        ro_bind_try("/etc/ld.so.cache", "/etc/ld.so.cache"),
    ));
    ops
}

/// Steps 6–7: `/.flatpak-info`, the container-manager file, the per-app runtime dir.
pub fn instance_info(policy: &Policy) -> Vec<MountOp> {
    vec![
        MountOp::File {
            dest: p("/.flatpak-info"),
            content: flatpak_info(policy).into_bytes(),
            mode: 0o600,
            readonly: true,
            expand: false,
        },
        data("/run/host/container-manager", "flatpak\n", false),
        bind(&format!("{APP_STATE}/xdg-run"), RUN_USER),
    ]
}

/// Step 10, after `/dev`: the per-app `/tmp`, unless `/tmp` is exported.
pub fn per_app_tmp(policy: &Policy) -> Vec<MountOp> {
    if tmp_exported(policy) {
        Vec::new()
    } else {
        vec![bind(&format!("{APP_STATE}/tmp"), "/tmp")]
    }
}

/// The generated `/etc/passwd`: the caller and `nfsnobody`.
pub const PASSWD: &str = "${USER}:x:${UID}:${GID}:Unknown:${HOME}:/bin/sh\n\
                          nfsnobody:x:65534:65534:Unmapped user:/:/sbin/nologin\n";

/// The generated `/etc/group`: the caller's primary group and `nfsnobody`.
pub const GROUP: &str = "${USER}:x:${GID}:${USER}\nnfsnobody:x:65534:\n";

/// p11-kit configuration that disables the user's host modules.
pub const PKCS11: &str =
    "# Disable user pkcs11 config, because the host modules don't work in the runtime\n\
                          user-config: none\n";

fn escape_fs(text: &str) -> String {
    text.replace('\\', "\\\\").replace(':', "\\:")
}

/// The keyfile at `/.flatpak-info`: the app, its runtime and the granted context, in
/// Flatpak's flattened form (`[Context]`, the bus policies, `[Environment]`; a group only
/// when it has entries, bus names at `none` and unset variables left out).
pub fn flatpak_info(policy: &Policy) -> String {
    let mut out = format!("[Application]\nname={}\n", policy.app_id());
    if let Some(rt) = &policy.identity.runtime {
        let version = policy
            .identity
            .runtime_version
            .as_deref()
            .unwrap_or("master");
        let _ = writeln!(out, "runtime=runtime/{rt}/{version}");
    }
    let context = context_group(policy);
    if !context.is_empty() {
        let _ = write!(out, "\n[Context]\n{context}");
    }
    let ctx = &policy.context;
    for (group, names) in [
        ("Session Bus Policy", &ctx.session_bus),
        ("System Bus Policy", &ctx.system_bus),
    ] {
        let lines: String = names
            .iter()
            .filter(|(_, e)| e.policy != portcullis_ir::dbus::BusPolicy::None)
            .map(|(name, e)| format!("{name}={}\n", e.policy.name()))
            .collect();
        if !lines.is_empty() {
            let _ = write!(out, "\n[{group}]\n{lines}");
        }
    }
    let env: String = ctx
        .env
        .iter()
        .filter(|(name, _)| keyfile_key(name))
        .filter_map(|(name, e)| {
            e.value
                .as_ref()
                .map(|v| format!("{name}={}\n", escape_value(v)))
        })
        .collect();
    if !env.is_empty() {
        let _ = write!(out, "\n[Environment]\n{env}");
    }
    out
}

/// Whether `name` can be a keyfile key as written (no control character, `=`, `[` or
/// `]`): another name could not be read back, so it is left out of `/.flatpak-info`.
fn keyfile_key(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, '=' | '[' | ']'))
}

/// The `[Context]` lines of `/.flatpak-info`.
fn context_group(policy: &Policy) -> String {
    let ctx = &policy.context;
    let mut out = String::new();
    let mut line = |key: &str, words: Vec<String>| {
        if !words.is_empty() {
            let _ = writeln!(out, "{key}={};", words.join(";"));
        }
    };
    let bits = |m: Vec<(String, bool)>| -> Vec<String> {
        m.into_iter()
            .map(|(w, on)| if on { w } else { format!("!{w}") })
            .collect()
    };
    line(
        "shared",
        bits(
            ctx.shares
                .iter()
                .map(|(k, s)| (k.name().to_string(), s.enabled))
                .collect(),
        ),
    );
    line(
        "sockets",
        bits(
            ctx.sockets
                .iter()
                .map(|(k, s)| (k.name().to_string(), s.enabled))
                .collect(),
        ),
    );
    line(
        "devices",
        bits(
            ctx.devices
                .iter()
                .map(|(k, s)| (k.name().to_string(), s.enabled))
                .collect(),
        ),
    );
    line(
        "features",
        bits(
            ctx.features
                .iter()
                .map(|(k, s)| (k.name().to_string(), s.enabled))
                .collect(),
        ),
    );
    let fs: Vec<String> = ctx
        .filesystems
        .iter()
        .map(|(k, e)| match (k, e.mode.suffix()) {
            (FsKey::HostReset, _) => "!host:reset".to_string(),
            (_, None) => format!("!{}", escape_fs(&k.to_string())),
            (_, Some(suffix)) => format!("{}{suffix}", escape_fs(&k.to_string())),
        })
        .collect();
    line("filesystems", fs);
    line("persistent", ctx.persistent.keys().cloned().collect());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatpak_info_values_cannot_add_lines() {
        assert_eq!(escape_value(" a\\b\nc\td\r"), "\\sa\\\\b\\nc\\td\\r");
        assert_eq!(escape_value("a b"), "a b");
        assert!(keyfile_key("FOO_1"));
        assert!(!keyfile_key("A\n[Context]"));
        assert!(!keyfile_key("A]"));
        assert!(!keyfile_key(""));
    }
}
