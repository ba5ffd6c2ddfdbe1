//! Integration tests.
mod dbus;
mod audit;
mod seccomp;
mod mounts;
mod corpus;
mod syntax;
mod conformance;
mod executor;
mod escape;
mod defense;
mod cli_foundation;
