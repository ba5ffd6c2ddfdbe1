//! Backends: IR to artifacts.
pub mod apparmor;
pub mod bundle;
pub mod bwrap;
pub mod dbus;
pub mod landlock;
pub mod limits;
pub mod mounts;
pub mod seccomp;
