//! The one integration test binary of portcullis: a module per area.
//!
//! * `syntax`, `corpus`, `conformance`, `cli_foundation`: the policy language, the Flathub
//!   corpus, Flatpak's conformance cases, and the foundation subcommands end to end;
//! * `seccomp`, `mounts`, `dbus`, `defense`: each backend against its oracle, its snapshots,
//!   its verifier, and the real kernel, bwrap, xdg-dbus-proxy or apparmor_parser;
//! * `executor`, `escape`, `guards`, `pid1`: `portcullis-exec` for real, what it refuses
//!   before any effect and the bounds it sets, the escape battery run as root and as an
//!   unprivileged user, and the attacks on the executor's own processes
//!   (pid 1, `listen` supervision, the D-Bus proxy);
//! * `masks`: deny masks under attack (creating, renaming around, relinking across
//!   launches), for real, as root and as an unprivileged user;
//! * `network_attacks`: the ways around TCP port rules (MPTCP, SCTP, TCP Fast Open,
//!   io_uring) tried for real against a host listener;
//! * `audit`: risk, lints with flatpak-builder-lint parity, diff and SARIF;
//! * `verify`: `portcullis verify` on compiled blobs, every section, and malformed blobs;
//! * `sign`: signed blobs, keys and the trust check end to end;
//! * `run_app`: installed Flatpak apps (`portcullis run APP_ID`, overrides, every command)
//!   on synthetic installations and against `flatpak run` on the real one;
//! * `install`: the shell completions and manual pages a package installs;
//! * `tidy`: the dependency rules, module docs and no ignored tests, checked.
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
mod guards;
mod install;
mod masks;
mod mounts;
mod network_attacks;
mod pid1;
mod run_app;
mod seccomp;
mod sign;
mod syntax;
mod tidy;
mod verify;
