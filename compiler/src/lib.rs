//! Importers, checker, lowering and exporters: from what users write to the checked IR.
//!
//! * [`import`] reads Flatpak manifests (JSON with comments, YAML), metadata keyfiles and
//!   bare finish-args lists into the syntax crate's AST, with spans into the original text;
//! * [`lower`] applies the statements with Flatpak's exact semantics to build the IR,
//!   checking each value ([`check`]);
//! * [`check::conflicts`] finds conflicts and redundancy across a document;
//! * [`export`] writes the IR back as finish-args, a metadata keyfile or an AST;
//! * [`compile`] ties it together.
//!
//! Every finding is a [`Diagnostic`] with a stable [`Code`] from the registry in [`codes`].

pub mod check;
pub mod codes;
pub mod diagnostic;
pub mod driver;
pub mod export;
pub mod import;
pub mod lower;

pub use codes::Code;
pub use diagnostic::{Diagnostic, Label, Severity};
pub use driver::{apply_override, apply_runtime_metadata, compile, Compiled, Options};
pub use import::Form;
