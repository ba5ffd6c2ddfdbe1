//! What a policy allows the sandbox to see of the host, re-derived from the IR alone (no
//! backend code): the grants with their modes, and the host paths Flatpak exposes without a
//! grant (runtime, app, the `/sys` subset, fonts, the app's own data, granted sockets and
//! devices). Placeholders are resolved with the launch's [`Values`].

use portcullis_blob::expand::Values;
use portcullis_ir::context::{Device, Feature, Share, Socket};
use portcullis_ir::fs::{FsKey, FsMode, XdgDir};
use portcullis_ir::Policy;

use super::model::{is_under, normal};

/// A host path the sandbox may see, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// Host path (normalised).
    pub path: String,
    /// Writes allowed.
    pub writable: bool,
    /// Device nodes usable.
    pub devices: bool,
    /// Top-level names left out (`host`'s exclusion list), when `path` is `/`.
    pub except: Vec<&'static str>,
    /// Why it is allowed.
    pub why: String,
}

/// A grant the plan must make visible: host path at the same sandbox path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Host path (= sandbox path).
    pub path: String,
    /// Read-write grant.
    pub writable: bool,
    /// The key as written.
    pub key: String,
}

/// Top-level host entries `host` leaves out (Flatpak's `dont_mount_in_root`).
pub const HOST_EXCLUDED: &[&str] = &[
    "app", "bin", "boot", "dev", "efi", "etc", "lib", "lib32", "lib64", "proc", "root", "run",
    "sbin", "sys", "tmp", "usr", "var",
];

/// Flatpak's reserved paths: a grant under one, or above one, is refused.
const RESERVED: &[&str] = &[
    "/.flatpak-info",
    "/app",
    "/bin",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/proc",
    "/run/flatpak",
    "/run/host",
    "/sbin",
    "/usr",
];

/// Whether Flatpak refuses to export `path` (normalised).
pub fn refused(path: &str) -> bool {
    path == "/"
        || RESERVED
            .iter()
            .any(|r| is_under(path, r) || is_under(r, path))
}

/// The host path a path-like key names for this launch (`None`: not exported here).
pub fn host_path(key: &FsKey, values: &Values) -> Option<String> {
    let get = |name: &str| values.get(name).map(str::to_string);
    let join = |base: String, sub: &str| {
        if sub.is_empty() {
            base
        } else {
            format!("{base}/{sub}")
        }
    };
    let path = match key {
        FsKey::Home => get("HOME")?,
        FsKey::HomePath(p) => join(get("HOME")?, p),
        FsKey::Absolute(p) => p.clone(),
        FsKey::XdgRun(sub) => join(get("XDG_RUNTIME_DIR")?, sub),
        FsKey::Xdg { dir, sub } => {
            let base = match dir {
                XdgDir::Data => get("XDG_DATA_HOME")?,
                XdgDir::Cache => get("XDG_CACHE_HOME")?,
                XdgDir::Config => get("XDG_CONFIG_HOME")?,
                other => get(other.user_dir_variable()?)?,
            };
            join(base, sub.as_deref().unwrap_or(""))
        }
        _ => return None,
    };
    if path.split('/').any(|c| c == "..") || path.contains("${") {
        return None;
    }
    Some(normal(&path))
}

/// The grants the plan must show, for this launch.
pub fn grants(policy: &Policy, values: &Values) -> Vec<Grant> {
    let mut out = Vec::new();
    for (key, entry) in &policy.context.filesystems {
        if entry.mode == FsMode::None {
            continue;
        }
        let Some(path) = host_path(key, values) else {
            continue;
        };
        if refused(&path) {
            continue;
        }
        out.push(Grant {
            path,
            writable: entry.mode.is_writable(),
            key: key.to_string(),
        });
    }
    out
}

/// Everything the sandbox may see of the host, for this launch.
pub fn allowances(policy: &Policy, values: &Values) -> Vec<Allowance> {
    let ctx = &policy.context;
    let mut out = Vec::new();
    let v = |name: &str| values.get(name).map(str::to_string);
    let mut allow = |path: Option<String>, writable: bool, devices: bool, why: &str| {
        if let Some(path) = path {
            out.push(Allowance {
                path: normal(&path),
                writable,
                devices,
                except: Vec::new(),
                why: why.to_string(),
            });
        }
    };
    let home = v("HOME");
    let in_home = |sub: &str| home.as_ref().map(|h| format!("{h}/{sub}"));
    let run = v("XDG_RUNTIME_DIR");
    let in_run = |sub: &str| run.as_ref().map(|r| format!("{r}/{sub}"));
    let app = v("APP_ID").unwrap_or_default();

    allow(v("RUNTIME"), false, false, "the runtime");
    allow(v("APP"), false, false, "the app");
    allow(v("EXTENSIONS"), false, false, "extensions");
    for fixed in [
        "/sys/block",
        "/sys/bus",
        "/sys/class",
        "/sys/dev",
        "/sys/devices",
        "/proc/self/ns/user",
        "/etc/machine-id",
        "/var/lib/dbus/machine-id",
        "/etc/timezone",
        "/etc/resolv.conf",
        "/etc/host.conf",
        "/etc/hosts",
        "/etc/gai.conf",
        "/etc/ld.so.cache",
        "/etc/os-release",
        "/usr/lib/os-release",
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        "/var/cache/fontconfig",
        "/usr/lib/fontconfig/cache",
        "/usr/share/icons",
        "/run/systemd/journal/socket",
        "/run/systemd/journal/stdout",
    ] {
        allow(
            Some(fixed.to_string()),
            false,
            false,
            "flatpak's base layout",
        );
    }
    for sub in [
        ".local/share/fonts",
        ".fonts",
        ".cache/fontconfig",
        ".local/share/icons",
    ] {
        allow(in_home(sub), false, false, "host fonts and icons");
    }
    allow(
        in_home(&format!(".var/app/{app}")),
        true,
        false,
        "the app's data",
    );
    allow(
        in_run(&format!("app/{app}")),
        true,
        false,
        "the app's runtime dir",
    );
    allow(
        in_run(&format!(".flatpak/{app}")),
        true,
        false,
        "the app's state",
    );

    if ctx.has_device(Device::All) {
        allow(Some("/dev".into()), true, true, "device=all");
    } else {
        if ctx.has_device(Device::Dri) {
            for node in [
                "/dev/dri",
                "/dev/mali",
                "/dev/mali0",
                "/dev/umplock",
                "/dev/nvidiactl",
                "/dev/nvidia-modeset",
                "/dev/nvidia-uvm",
                "/dev/nvidia-uvm-tools",
            ] {
                allow(Some(node.into()), true, true, "device=dri");
            }
            for n in 0..20 {
                allow(Some(format!("/dev/nvidia{n}")), true, true, "device=dri");
            }
        }
        for (d, node) in [
            (Device::Kvm, "/dev/kvm"),
            (Device::Input, "/dev/input"),
            (Device::Usb, "/dev/bus/usb"),
        ] {
            if ctx.has_device(d) {
                allow(Some(node.into()), true, true, d.name());
            }
        }
    }
    if ctx.has_device(Device::Shm) {
        allow(Some("/dev/shm".into()), true, false, "device=shm");
    }
    if ctx.has_feature(Feature::PerAppDevShm) {
        allow(
            Some(format!("/dev/shm/portcullis-{app}")),
            true,
            false,
            "per-app-dev-shm",
        );
    }
    for node in &policy.beyond.device_nodes {
        if is_under(&normal(&node.path), "/dev") {
            allow(Some(node.path.clone()), node.writable, true, "device node");
        }
    }
    let sock = |s: Socket| ctx.has_socket(s);
    if sock(Socket::Wayland) {
        allow(v("WAYLAND_SOCKET"), false, false, "socket=wayland");
    }
    if sock(Socket::X11) || sock(Socket::FallbackX11) {
        allow(v("X11_SOCKET"), false, false, "socket=x11");
        allow(v("ENV:XAUTHORITY"), false, false, "socket=x11");
        allow(in_home(".Xauthority"), false, false, "socket=x11");
    }
    if sock(Socket::SshAuth) {
        allow(v("ENV:SSH_AUTH_SOCK"), false, false, "socket=ssh-auth");
    }
    for (s, name) in [
        (Socket::Pulseaudio, "PULSE_SOCKET"),
        (Socket::Pcsc, "PCSC_SOCKET"),
        (Socket::Cups, "CUPS_SOCKET"),
        (Socket::GpgAgent, "GPG_AGENT_SOCKET"),
    ] {
        if sock(s) {
            allow(v(name), false, false, s.name());
        }
    }
    if ctx.has_share(Share::Network) {
        allow(
            Some("/run/systemd/resolve/io.systemd.Resolve".into()),
            true,
            false,
            "share=network",
        );
    }
    if ctx.has_home_access() {
        let config = v("XDG_CONFIG_HOME").map(|c| format!("{c}/user-dirs.dirs"));
        allow(config, false, false, "home access");
    }

    let host = ctx.fs_mode(&FsKey::Host);
    let os = ctx.fs_mode(&FsKey::HostOs).max(host);
    let etc = ctx.fs_mode(&FsKey::HostEtc).max(host);
    if os > FsMode::None {
        for p in [
            "/usr",
            "/var/usrlocal",
            "/bin",
            "/lib",
            "/lib32",
            "/lib64",
            "/sbin",
            "/etc/ld.so.cache",
            "/etc/alternatives",
        ] {
            allow(Some(p.into()), os.is_writable(), false, "host-os");
        }
    }
    if etc > FsMode::None {
        allow(Some("/etc".into()), etc.is_writable(), false, "host-etc");
    }
    if host > FsMode::None {
        allow(Some("/run/media".into()), host.is_writable(), false, "host");
    }
    for grant in grants(policy, values) {
        let why = format!("filesystem={}", grant.key);
        allow(Some(grant.path), grant.writable, false, &why);
    }
    if host > FsMode::None {
        out.push(Allowance {
            path: "/".into(),
            writable: host.is_writable(),
            devices: false,
            except: HOST_EXCLUDED.to_vec(),
            why: "filesystem=host".into(),
        });
    }
    out
}

/// Whether `path` (normalised) may be seen, and written when `writable`, through `a`.
pub fn covers(a: &Allowance, path: &str, writable: bool, devices: bool) -> bool {
    if !is_under(path, &a.path) || (writable && !a.writable) || (devices && !a.devices) {
        return false;
    }
    if a.path == "/" {
        let top = path.trim_start_matches('/').split('/').next().unwrap_or("");
        return !top.is_empty() && !a.except.contains(&top);
    }
    true
}
