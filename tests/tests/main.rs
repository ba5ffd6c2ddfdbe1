//! The one integration test binary of portcullis: a module per area.
//!
//! * `syntax`, `corpus`, `conformance`, `cli_foundation`: the policy language, the Flathub
//!   corpus, Flatpak's conformance cases, and the foundation subcommands end to end;
//! * `seccomp`, `mounts`, `dbus`, `defense`: each backend against its oracle, its snapshots,
//!   its verifier, and the real kernel, bwrap, xdg-dbus-proxy or apparmor_parser;
//! * `executor`, `escape`, `pid1`: `portcullis-exec` for real, the escape battery run as
//!   root and as an unprivileged user, and the attacks on the executor's own processes
//!   (pid 1, `listen` supervision, the D-Bus proxy);
//! * `masks`: deny masks under attack (creating, renaming around, relinking across
//!   launches), for real, as root and as an unprivileged user;
//! * `audit`: risk, lints with flatpak-builder-lint parity, diff and SARIF;
//! * `verify`: `portcullis verify` on compiled blobs, every section, and malformed blobs;
//! * `sign`: signed blobs, keys and the trust check end to end.
//!
//! The end-to-end modules use the binaries from the target directory: build them first
//! (`cargo build --workspace --bins`, as `scripts/test.sh` does).

mod audit;
mod cli_foundation;
mod cli_robust;
mod conformance;
mod corpus;
mod dbus;
mod defense;
mod escape;
mod executor;
mod masks;
mod mounts;
mod pid1;
mod seccomp;
mod sign;
mod syntax;
mod verify;
