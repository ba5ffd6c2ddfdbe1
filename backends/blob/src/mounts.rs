//! The mount plan: an ordered list of operations the executor performs on a fresh tmpfs
//! root, in the spirit of bubblewrap's `SetupOp` list, and the environment operations that
//! go with it.
//!
//! Paths are [`PathExpr`]s: text that may contain placeholders, which the executor expands
//! at launch for the user who runs it. Destinations are inside the sandbox; sources are on
//! the host. Later operations cover earlier ones at the same path.
//!
//! # Placeholders (the complete list; written by the mount backend, expanded at launch)
//!
//! | placeholder | value | when it cannot be expanded |
//! |---|---|---|
//! | `${HOME}`, `${UID}`, `${GID}`, `${USER}` | the caller's home, ids and user name | never |
//! | `${APP_ID}` | the policy's app id | never |
//! | `${XDG_RUNTIME_DIR}` | the host's `$XDG_RUNTIME_DIR`, default `/run/user/${UID}` | never |
//! | `${RUNTIME}` | the runtime tree for `/usr` (`portcullis run --runtime`), default the host's `/usr` | never |
//! | `${APP}` | the app tree for `/app` (`portcullis run --app`) | no app tree given |
//! | `${XDG_DESKTOP_DIR}`, `${XDG_DOCUMENTS_DIR}`, `${XDG_DOWNLOAD_DIR}`, `${XDG_MUSIC_DIR}`, `${XDG_PICTURES_DIR}`, `${XDG_PUBLICSHARE_DIR}`, `${XDG_TEMPLATES_DIR}`, `${XDG_VIDEOS_DIR}` | the host's user dirs from `${XDG_CONFIG_HOME}/user-dirs.dirs` (`$HOME/...` expanded); the desktop dir defaults to `${HOME}/Desktop` as in GLib | the dir is not configured, or equals `${HOME}` |
//! | `${XDG_DATA_HOME}`, `${XDG_CONFIG_HOME}`, `${XDG_CACHE_HOME}` | the host's values, defaults `${HOME}/.local/share`, `${HOME}/.config`, `${HOME}/.cache` | never |
//! | `${ENV:NAME}` | the host's environment variable `NAME` | unset or empty |
//! | `${WAYLAND_SOCKET}` | the host Wayland socket: `$WAYLAND_DISPLAY` when absolute, else `${XDG_RUNTIME_DIR}/$WAYLAND_DISPLAY` (default `wayland-0`) | never |
//! | `${WAYLAND_NAME}` | the socket's name in the sandbox: `$WAYLAND_DISPLAY` when it starts with `wayland-` and has no `/`, else `wayland-0` | never |
//! | `${X11_SOCKET}` | `/tmp/.X11-unix/X<N>` for a `$DISPLAY` of `:N` or `unix:N` (parsed at the last `:`, screen suffix dropped) | `DISPLAY` unset, remote or unparsable |
//! | `${PULSE_SOCKET}` | the path of a `unix:` `$PULSE_SERVER`, else `${XDG_RUNTIME_DIR}/pulse/native` | `PULSE_SERVER` is not a `unix:` address |
//! | `${PCSC_SOCKET}` | `$PCSCLITE_CSOCK_NAME`, default `/run/pcscd/pcscd.comm` | never |
//! | `${CUPS_SOCKET}` | `$CUPS_SERVER` when it is an absolute path without `:`, default `/var/run/cups/cups.sock` | never |
//! | `${GPG_AGENT_SOCKET}` | `${XDG_RUNTIME_DIR}/gnupg/S.gpg-agent` (gpgconf's default; gpgconf is not run) | never |
//! | `${EXTENSIONS}` | a directory holding one tree per extension, by name (`portcullis run --extensions`) | not given |
//!
//! `$${` stands for a literal `${` (how a policy's own text is written into a plan).
//!
//! An operation that holds a placeholder that cannot be expanded is **skipped** (as Flatpak
//! skips an unconfigured user dir), except `${ENV:NAME}` in an operation that is not
//! optional (a [`BindFlags::optional`] bind, or one under [`MountOp::When`]): that is a
//! launch error. In [`EnvOp::Set`] an unexpandable value unsets the variable instead. In the
//! content of a [`MountOp::File`] with `expand`, a line holding an unexpandable placeholder
//! is dropped. [`crate::expand`] implements these rules once for every consumer.
//!
//! What Flatpak decides by looking at the host (does `/dev/dri` exist, is the Wayland socket
//! there, which entries does the runtime's `etc/` have) is decided by the executor at launch:
//! optional binds, [`MountOp::When`] conditions and [`MountOp::BindEntries`].

/// A path with launch-time placeholders (`${HOME}/.var/app/${APP_ID}`).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct PathExpr(pub String);

impl PathExpr {
    /// Wraps text.
    pub fn new(text: impl Into<String>) -> Self {
        PathExpr(text.into())
    }

    /// The raw text, placeholders unexpanded.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a bind mount behaves.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct BindFlags {
    /// Read-only (recursively), like `--ro-bind`.
    pub readonly: bool,
    /// Device nodes stay usable (no `nodev`), like `--dev-bind`.
    pub devices: bool,
    /// A missing source is skipped silently, like the `-try` variants.
    pub optional: bool,
}

/// One step of the mount plan.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum MountOp {
    /// A new tmpfs at `dest` (`--tmpfs`), with permissions `mode`.
    Tmpfs {
        /// Mount point in the sandbox.
        dest: PathExpr,
        /// Permission bits of the tmpfs root.
        mode: u32,
    },
    /// A directory created in the sandbox tree (`--dir`).
    Dir {
        /// Path in the sandbox.
        dest: PathExpr,
        /// Permission bits.
        mode: u32,
    },
    /// A directory created on the host before binding (`mkdir -p`, Flatpak's `:create` and
    /// the app's `~/.var/app/APPID` directories). Never follows symlinks.
    HostDir {
        /// Host path.
        path: PathExpr,
        /// Permission bits for the directories created.
        mode: u32,
    },
    /// A recursive bind mount of a host path (`--bind`, `--ro-bind`, `--dev-bind`, `-try`).
    Bind {
        /// Host path.
        source: PathExpr,
        /// Path in the sandbox.
        dest: PathExpr,
        /// Read-only, devices, optional.
        flags: BindFlags,
    },
    /// A new procfs (`--proc`).
    Proc {
        /// Mount point, normally `/proc`.
        dest: PathExpr,
    },
    /// A minimal `/dev` (`--dev`): null, zero, full, random, urandom, tty, a private devpts,
    /// shm, and the standard symlinks.
    Dev {
        /// Mount point, normally `/dev`.
        dest: PathExpr,
    },
    /// A symbolic link (`--symlink TARGET DEST`).
    Symlink {
        /// Link text.
        target: String,
        /// Path in the sandbox.
        dest: PathExpr,
    },
    /// A file with given content (`--file`, or `--ro-bind-data` when `readonly`).
    File {
        /// Path in the sandbox.
        dest: PathExpr,
        /// File content (placeholders in it are expanded too when `expand` is set).
        content: Vec<u8>,
        /// Permission bits.
        mode: u32,
        /// Bound read-only over itself.
        readonly: bool,
        /// Expand placeholders inside the content (generated `/etc/passwd`).
        expand: bool,
    },
    /// Remount an existing mount read-only (`--remount-ro`, not recursive).
    RemountRo {
        /// Path in the sandbox.
        dest: PathExpr,
    },
    /// A deny mask (beyond Flatpak): hide what lies at `dest` inside a granted tree. A
    /// directory is covered by an empty read-only tmpfs, any other file by an empty
    /// read-only file; nothing happens when the path does not exist.
    Mask {
        /// Path in the sandbox.
        dest: PathExpr,
    },
    /// `then` is applied only when `condition` holds on the host at launch (Flatpak's
    /// host-dependent choices: fallback-x11, usr-merge symlinks the runtime has, hiding only
    /// directories). Added by the mount backend; `then` is never itself a `When`.
    When {
        /// Evaluated on the host before the new root is built.
        condition: Condition,
        /// The operation to apply.
        then: Box<MountOp>,
    },
    /// Every entry of the host directory `source`, except the names in `except`, made
    /// visible at `dest/<name>`: a symlink entry is re-created as a symlink with the same
    /// text, any other entry is bind-mounted with `flags`. A missing `source` does nothing.
    /// This is how Flatpak fills `/etc` from the runtime's `etc/` and `host` from `/`.
    BindEntries {
        /// Host directory whose entries are listed at launch.
        source: PathExpr,
        /// Directory in the sandbox that receives them.
        dest: PathExpr,
        /// Entry names left out, sorted.
        except: Vec<String>,
        /// Read-only, devices, optional (for the binds).
        flags: BindFlags,
    },
    /// Flatpak's export list: the inner operations are applied in the byte order of their
    /// expanded destinations (stable), so that a parent is always mounted before its
    /// children whatever `${HOME}` or a user dir expands to; at one destination,
    /// directories come first, then tmpfs and masks, then read-only binds, then
    /// read-write binds (Flatpak keeps the higher mode of a path). Inner operations are binds,
    /// directories, tmpfs, masks, symlinks or `When` around one of those.
    Sorted {
        /// The operations, sorted at launch.
        ops: Vec<MountOp>,
    },
}

/// A test on the host, evaluated by the executor at launch after placeholders are
/// expanded. A path whose placeholders cannot be expanded does not exist.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "test", content = "path", rename_all = "kebab-case")]
pub enum Condition {
    /// The path exists (`stat`, symlinks followed).
    Exists(PathExpr),
    /// The path is a directory (symlinks followed).
    IsDir(PathExpr),
    /// The path is a UNIX socket (symlinks followed), Flatpak's "has wayland" test.
    IsSocket(PathExpr),
    /// The path itself is a symbolic link (`lstat`), Flatpak's usr-merge test for
    /// `host-os`.
    IsSymlink(PathExpr),
    /// The inner test does not hold.
    Not(Box<Condition>),
    /// Every inner test holds (true when empty).
    All(Vec<Condition>),
}

/// One step of the sandbox environment, applied in order on top of the caller's
/// environment (Flatpak inherits the host environment, then forces its own variables,
/// semantics §5.4). Computed by `portcullis_backends::mounts::environment`; the blob's
/// environment section carries these.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum EnvOp {
    /// Sets `name` to `value` with placeholders expanded; when a placeholder cannot be
    /// expanded the variable is unset instead.
    Set {
        /// Variable name.
        name: String,
        /// Value, may hold placeholders.
        value: PathExpr,
    },
    /// Removes `name`.
    Unset {
        /// Variable name.
        name: String,
    },
    /// `then` is applied only when `condition` holds on the host at launch.
    When {
        /// Evaluated on the host.
        condition: Condition,
        /// The operation to apply (never itself a `When`).
        then: Box<EnvOp>,
    },
}
