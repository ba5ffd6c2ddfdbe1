//! Integration tests.
mod dbus;
