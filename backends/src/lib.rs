//! Backends: the checked IR to the artifacts the kernel, the bus and bubblewrap read.
//!
//! Every backend is a pure, deterministic function of its inputs: no I/O, no clock, no
//! environment. What Flatpak decides by looking at the host becomes a placeholder or a
//! condition in the artifact, decided by the executor at launch.
//!
//! * [`seccomp`]: classic-BPF programs per architecture (a weighted search tree over
//!   syscall numbers with argument blocks at the leaves);
//! * [`mounts`]: Flatpak 1.14's mount plan and environment, plus deny masks and device nodes;
//! * [`dbus`]: xdg-dbus-proxy arguments per bus, in Flatpak's order;
//! * [`landlock`]: filesystem rules mirroring the plan, TCP port rules and scopes;
//! * [`apparmor`]: one profile per app (askama template);
//! * [`limits`]: resource limits;
//! * [`bwrap`]: an expanded plan as bubblewrap arguments, for interoperability;
//! * [`bundle`]: every artifact assembled into a [`portcullis_blob::Blob`].

pub mod apparmor;
pub mod bundle;
pub mod bwrap;
pub mod dbus;
pub mod landlock;
pub mod limits;
pub mod mounts;
pub mod seccomp;
