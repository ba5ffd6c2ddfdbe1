//! Backends: IR to artifacts.
pub mod dbus;
