//! The verifier.

pub mod dbus;
