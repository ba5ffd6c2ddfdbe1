//! Backends: IR to artifacts.
pub mod dbus;
pub mod landlock;
