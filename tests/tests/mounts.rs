//! The mount plan: parity with Flatpak 1.14's oracle, snapshots of `--text` plans, the
//! verifier's model (unit cases and a safety proptest), the bwrap arguments under real
//! bubblewrap, and the model against what a probe sees inside the real sandbox.

mod cli;
mod host;
mod ir;
mod model;
mod oracle;
mod sandbox;
mod snapshots;
