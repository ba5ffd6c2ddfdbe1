//! The policy blob: what `portcullis compile` writes and `portcullis-exec` applies.
//!
//! Sections (see `ARCHITECTURE.md` for the byte layout and versioning rules):
//! [`mounts`] — the ordered mount plan; [`dbus`] — how each D-Bus bus reaches the
//! sandbox. Further sections (header, seccomp, environment, namespaces, Landlock, limits)
//! are defined alongside their codec.

pub mod dbus;
pub mod expand;
pub mod landlock;
pub mod limits;
pub mod mounts;
