//! The policy blob: what `portcullis compile` writes and `portcullis-exec` applies.
//!
//! [`blob`] — the header, the section table, [`Blob::encode`] and [`Blob::decode`] (byte
//! layout and versioning rules in its module doc); [`mounts`] — the ordered mount plan and
//! the environment operations; [`landlock`] — Landlock rules; [`limits`] — resource limits;
//! [`dbus`] — how each D-Bus bus reaches the sandbox; [`explain`] — a readable dump of every
//! section; [`sign`] — Ed25519 signatures and the trust check; [`bpf`] — the kernel's rules
//! for a seccomp program, checked while decoding; [`file`] — reading a blob file without
//! hanging on a FIFO or reading a device forever. The codec ([`wire`], `wire_plan`,
//! `wire_sections`) is hand-written and small so that the executor needs no serialisation
//! framework.

pub mod blob;
pub mod bpf;
pub mod dbus;
pub mod expand;
pub mod explain;
pub mod file;
pub mod landlock;
pub mod limits;
pub mod mounts;
pub mod sha256;
pub mod sign;
pub mod wire;
mod wire_plan;
mod wire_sections;

pub use blob::{looks_like_blob, Arch, Blob, Namespaces, SockFilter};
pub use wire::DecodeError;
