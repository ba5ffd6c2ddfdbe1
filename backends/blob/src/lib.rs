//! The policy blob: what `portcullis compile` writes and `portcullis-exec` applies.
//!
//! Sections (see `ARCHITECTURE.md` for the byte layout and versioning rules):
//! [`mounts`] — the ordered mount plan. Further sections (header, seccomp, environment,
//! namespaces, Landlock, limits, D-Bus proxies) are defined alongside their codec.

pub mod mounts;
