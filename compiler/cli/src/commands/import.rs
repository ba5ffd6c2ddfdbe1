//! `portcullis import INPUT [-o FILE]`: a Flatpak manifest, metadata keyfile or
//! finish-args list as canonical policy-language text.
//!
//! The input is checked and lowered to the IR first, so what is printed is what Flatpak
//! would make of it (merged, normalised), not a transliteration; findings go to stderr.

use std::process::ExitCode;

use portcullis_compiler::export;

use super::input;
use crate::cli::ImportArgs;

/// Runs `import`.
pub fn run(args: ImportArgs) -> ExitCode {
    let (_, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let text = portcullis_syntax::print(&export::document(&policy));
    input::emit(args.output.as_deref(), text.as_bytes())
}
