//! Integration tests.
mod dbus;
mod audit;
mod seccomp;
mod mounts;
mod corpus;
