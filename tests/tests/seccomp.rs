//! Seccomp: the compiled filter against the IR's intended decision (translation validation
//! over every feature set and random policies), against Flatpak 1.14's captured filters,
//! against the kernel, and the verifier against deliberately broken programs.

mod broken;
mod cli;
mod kernel;
mod oracle;
mod props;
mod snapshots;
mod support;
mod validation;
