//! A described host for expanding plans without touching the machine: the oracle's capture
//! machine (Debian 12, user `fporacle`, the fixtures of the oracle's `lib.sh`), as a
//! [`FakeFs`] and a [`Launch`].

use std::collections::{BTreeMap, BTreeSet};

use portcullis_blob::expand::{DirEntry, FileKind, HostFs, Launch, Values};

/// The oracle machine's home and runtime dir (normalised to `@HOME@` and
/// `@XDG_RUNTIME_DIR@` after expansion).
pub const HOME: &str = "/home/fporacle";
/// The oracle user's uid.
pub const UID: u32 = 1001;
/// The runtime and app trees.
pub const RUNTIME: &str = "/oracle/runtime";
/// The app tree.
pub const APP: &str = "/oracle/app";

/// A host described by its paths.
#[derive(Clone, Debug, Default)]
pub struct FakeFs {
    /// Path → kind.
    pub kinds: BTreeMap<String, FileKind>,
    /// Paths that are symlinks themselves.
    pub symlinks: BTreeSet<String>,
    /// Directory listings.
    pub listings: BTreeMap<String, Vec<DirEntry>>,
}

impl FakeFs {
    /// Adds a path.
    pub fn add(&mut self, path: &str, kind: FileKind) -> &mut Self {
        self.kinds.insert(path.to_string(), kind);
        self
    }
}

impl HostFs for FakeFs {
    fn kind(&self, path: &str) -> Option<FileKind> {
        self.kinds.get(path).copied()
    }
    fn list(&self, path: &str) -> Option<Vec<DirEntry>> {
        self.listings.get(path).cloned()
    }
    fn is_symlink(&self, path: &str) -> bool {
        self.symlinks.contains(path)
    }
}

/// The oracle user's desktop-session environment (`as_user_session` in `lib.sh`).
pub fn oracle_env() -> BTreeMap<String, String> {
    let run = format!("/run/user/{UID}");
    [
        ("HOME", HOME.to_string()),
        ("USER", "fporacle".to_string()),
        ("LOGNAME", "fporacle".to_string()),
        (
            "PATH",
            "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin".to_string(),
        ),
        ("LANG", "C.UTF-8".to_string()),
        ("SHELL", "/bin/bash".to_string()),
        ("XDG_RUNTIME_DIR", run.clone()),
        ("DISPLAY", ":99".to_string()),
        ("WAYLAND_DISPLAY", "wayland-0".to_string()),
        ("SSH_AUTH_SOCK", format!("{run}/ssh-agent.sock")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The oracle launch of `app_id`.
pub fn oracle_launch(app_id: &str) -> Launch {
    Launch {
        env: oracle_env(),
        uid: UID,
        gid: UID,
        user: "fporacle".into(),
        home: HOME.into(),
        app_id: app_id.into(),
        runtime: Some(RUNTIME.into()),
        app: Some(APP.into()),
        extensions: None,
        user_dirs: Some(
            "XDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_DOWNLOAD_DIR=\"$HOME/Downloads\"\n\
             XDG_DOCUMENTS_DIR=\"$HOME/Documents\"\nXDG_MUSIC_DIR=\"$HOME/Music\"\n\
             XDG_PICTURES_DIR=\"$HOME/Pictures\"\nXDG_VIDEOS_DIR=\"$HOME/Videos\"\n"
                .into(),
        ),
    }
}

/// Placeholder values of the oracle launch.
pub fn oracle_values(app_id: &str) -> Values {
    Values::new(&oracle_launch(app_id))
}

/// The oracle machine's file system (`fixtures` names the case's extra fixtures).
pub fn oracle_fs(app_id: &str, fixtures: &str) -> FakeFs {
    use FileKind::*;
    let run = format!("/run/user/{UID}");
    let app_dir = format!("{HOME}/.var/app/{app_id}");
    let mut fs = FakeFs::default();
    for dir in [
        "/",
        "/dev",
        "/dev/shm",
        "/etc",
        "/home",
        "/media",
        "/mnt",
        "/opt",
        "/opt/data",
        "/srv",
        "/sys/block",
        "/sys/bus",
        "/sys/class",
        "/sys/dev",
        "/sys/devices",
        "/usr",
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        "/usr/share/icons",
        "/var/cache/fontconfig",
        "/tmp",
        "/tmp/.X11-unix",
        "/farm",
        "/work",
        "/lost+found",
        "/old_root",
    ] {
        fs.add(dir, Dir);
    }
    for file in [
        "/etc/machine-id",
        "/etc/os-release",
        "/etc/timezone",
        "/etc/passwd",
        "/.dockerenv",
        "/container_info.json",
        "/pyenv-installer",
        "/proc/self/ns/user",
    ] {
        fs.add(file, File);
    }
    for dir in [
        RUNTIME,
        APP,
        "/oracle/runtime/bin",
        "/oracle/runtime/lib",
        "/oracle/runtime/lib64",
    ] {
        fs.add(dir, Dir);
    }
    fs.add("/oracle/runtime/bin/ldconfig", File);
    for dir in [
        HOME.to_string(),
        format!("{HOME}/.config"),
        format!("{HOME}/.local/share/flatpak"),
        format!("{HOME}/.var/app"),
        app_dir.clone(),
        format!("{app_dir}/config"),
        format!("{app_dir}/data"),
        format!("{app_dir}/cache"),
        format!("{HOME}/Downloads"),
        format!("{HOME}/Downloads/sub"),
        format!("{HOME}/Music"),
        format!("{HOME}/Documents"),
        format!("{HOME}/Pictures"),
        format!("{HOME}/Videos"),
        format!("{HOME}/Desktop"),
        run.clone(),
        format!("{run}/pulse"),
    ] {
        fs.add(&dir, Dir);
    }
    fs.add(&format!("{HOME}/.config/user-dirs.dirs"), File);
    fs.add(&format!("{HOME}/.Xauthority"), File);
    for sock in [
        format!("{run}/wayland-0"),
        format!("{run}/pulse/native"),
        format!("{run}/ssh-agent.sock"),
        "/tmp/.X11-unix/X99".to_string(),
    ] {
        fs.add(&sock, Socket);
    }
    for link in ["/bin", "/lib", "/lib64", "/sbin"] {
        fs.symlinks.insert(link.to_string());
        fs.add(link, Dir);
    }
    let root: Vec<DirEntry> = [
        ".dockerenv",
        "bin",
        "boot",
        "container_info.json",
        "dev",
        "etc",
        "farm",
        "home",
        "lib",
        "lib64",
        "lost+found",
        "media",
        "mnt",
        "old_root",
        "opt",
        "proc",
        "pyenv-installer",
        "root",
        "run",
        "sbin",
        "srv",
        "sys",
        "tmp",
        "usr",
        "var",
        "work",
    ]
    .iter()
    .map(|name| DirEntry {
        name: name.to_string(),
        symlink: ["bin", "lib", "lib64", "sbin"]
            .contains(name)
            .then(|| format!("usr/{name}")),
    })
    .collect();
    fs.listings.insert("/".into(), root);
    if fixtures.contains("fake-dri") {
        fs.add("/dev/dri", Dir);
    }
    fs
}

/// Replaces the oracle machine's concrete values by the oracle's placeholders.
pub fn normalise(text: &str) -> String {
    text.replace(&format!("/run/user/{UID}"), "@XDG_RUNTIME_DIR@")
        .replace(HOME, "@HOME@")
        .replace("fporacle", "@USER@")
}
