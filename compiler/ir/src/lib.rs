//! The portcullis IR: what a sandbox may do, after parsing, importing, merging and checking.
//!
//! No syntax and no kernel here. Every value in a [`Policy`] has been validated by the
//! compiler, so backends and the verifier can rely on it. The shape follows Flatpak's own
//! model (`FlatpakContext`), so that Flatpak's meaning can be reproduced to the letter:
//!
//! * share, socket, device and feature *bitsets* are maps from the bit to a [`Setting`]; a
//!   bit that is present in the map is "valid" (this layer said something about it), and
//!   `enabled` is its value. That keeps the difference between "not granted" and
//!   "explicitly revoked" that Flatpak's merge and its keyfile writer need;
//! * filesystems are a map from the normalised [`fs::FsKey`] to a mode, last write wins;
//! * the bus maps hold one [`dbus::BusPolicy`] per name;
//! * environment entries are either a value or an explicit unset.
//!
//! What Flatpak cannot express lives in [`beyond`]: TCP port rules, Landlock scopes,
//! resource limits, single device nodes, deny masks and fine-grained D-Bus rules.
//!
//! Every item carries an [`Origin`] so that `explain`, `audit` and the verifier can point
//! back at the policy line or manifest entry it came from.

pub mod beyond;
pub mod context;
pub mod dbus;
pub mod fs;
pub mod identity;
pub mod keyfile;
pub mod origin;
pub mod seccomp;

pub use beyond::Beyond;
pub use context::Context;
pub use identity::Identity;
pub use origin::Origin;

/// A fully checked sandbox policy for one app (or runtime, or fragment).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    /// What is sandboxed: app id, runtime, command, extensions.
    pub identity: Identity,
    /// Flatpak's permissions, merged.
    pub context: Context,
    /// What portcullis adds beyond Flatpak.
    pub beyond: Beyond,
    /// The source files origins refer to, by index.
    pub sources: Vec<String>,
}

impl Policy {
    /// The app id, or `org.portcullis.Unnamed` for a policy without one (fragments).
    pub fn app_id(&self) -> &str {
        self.identity
            .id
            .as_deref()
            .unwrap_or(identity::UNNAMED_APP_ID)
    }
}
