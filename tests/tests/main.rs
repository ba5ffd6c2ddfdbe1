//! Integration tests.
mod dbus;
mod seccomp;
mod corpus;
mod mounts;
mod conformance;
mod audit;
mod syntax;
mod executor;
mod escape;
mod defense;
mod cli_foundation;
