//! The one integration test binary of portcullis: a module per area.
//!
//! * `syntax`, `corpus`, `conformance`, `cli_foundation`: the policy language, the Flathub
//!   corpus, Flatpak's conformance cases, and the foundation subcommands end to end;
//! * `seccomp`, `mounts`, `dbus`, `defense`: each backend against its oracle, its snapshots,
//!   its verifier, and the real kernel, bwrap, xdg-dbus-proxy or apparmor_parser;
//! * `executor`, `escape`, `guards`: `portcullis-exec` for real, what it refuses before any
//!   effect and the bounds it sets, and the escape battery run as root
//!   and as an unprivileged user;
//! * `audit`: risk, lints with flatpak-builder-lint parity, diff and SARIF;
//! * `verify`: `portcullis verify` on compiled blobs, every section, and malformed blobs.
//!
//! The end-to-end modules use the binaries from the target directory: build them first
//! (`cargo build --workspace --bins`, as `scripts/test.sh` does).

mod audit;
mod cli_foundation;
mod conformance;
mod corpus;
mod dbus;
mod defense;
mod escape;
mod executor;
mod guards;
mod mounts;
mod seccomp;
mod syntax;
mod verify;
