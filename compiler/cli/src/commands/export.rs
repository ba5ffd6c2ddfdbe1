//! `portcullis export INPUT --to finish-args|metadata [-o FILE]`: a policy back in one of
//! Flatpak's forms. finish-args are printed as a JSON array of strings, one per line.
//!
//! What the target form cannot say (deny masks, `network` and `limits` rules, single
//! device nodes, D-Bus call/broadcast rules, `see` rules on the command line) is left out
//! with a warning on stderr naming each rule and whether the export grants more or less
//! than the policy; the exit status stays 0, since the export itself succeeded.

use std::process::ExitCode;

use portcullis_compiler::export;

use super::input;
use crate::cli::{ExportArgs, ExportTarget};

/// Runs `export`.
pub fn run(args: ExportArgs) -> ExitCode {
    let (_, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let (text, diags) = match args.to {
        ExportTarget::FinishArgs => {
            let (list, diags) = export::finish_args(&policy);
            (finish_args_json(&list), diags)
        }
        ExportTarget::Metadata => export::metadata(&policy),
    };
    input::eprint_findings(&input::findings(&diags));
    input::emit(args.output.as_deref(), text.as_bytes())
}

/// A JSON array of strings, one element per line (stable, diff-friendly).
pub fn finish_args_json(list: &[String]) -> String {
    if list.is_empty() {
        return "[]\n".to_string();
    }
    let lines: Vec<String> = list
        .iter()
        .map(|arg| format!("  {}", serde_json::Value::String(arg.clone())))
        .collect();
    format!("[\n{}\n]\n", lines.join(",\n"))
}
