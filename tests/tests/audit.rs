//! Audit, lint and CI gating: flatpak-builder-lint parity, escape classification on the
//! corpus, the audit of real manifests, and SARIF validated against the 2.1.0 schema.

mod corpus;
mod diff;
mod escapes;
mod parity;
mod sarif;
pub(crate) mod schema;
mod snapshots;
mod trial;
