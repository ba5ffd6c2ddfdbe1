//! The mount plan: an ordered list of operations the executor performs on a fresh tmpfs
//! root, in the spirit of bubblewrap's `SetupOp` list.
//!
//! Paths are [`PathExpr`]s: text that may contain the placeholders `${HOME}`, `${UID}`,
//! `${GID}`, `${XDG_RUNTIME_DIR}` (the host's, for sources) and `${APP_ID}`, which the executor
//! expands at launch for the user who runs it. Destinations are inside the sandbox; sources
//! are on the host. Later operations cover earlier ones at the same path.

/// A path with launch-time placeholders (`${HOME}/.var/app/${APP_ID}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
}
