//! Integration tests.
mod dbus;
mod corpus;
