//! The `mounts` arm of `portcullis emit`: the pure plan (JSON, or a table with `--text`):
//! placeholders, conditions and all, exactly what goes into the blob. The `bwrap` arm, which
//! expands the plan for the caller, is in `emit_bwrap`.

use std::process::ExitCode;

use portcullis_backends::mounts::{plan, text, MountPlan};

use super::input::{self, EXIT_INVALID};
use crate::cli::EmitArgs;

/// Prints the plan's warnings on stderr.
pub fn print_warnings(planned: &MountPlan) {
    for w in &planned.warnings {
        eprintln!("warning[{}]: {}", w.code, w.message);
    }
}

/// `emit --backend mounts`.
pub fn mounts(args: &EmitArgs) -> ExitCode {
    let (_, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let planned = plan(&policy);
    print_warnings(&planned);
    let bytes = if args.text {
        text::render(&planned).into_bytes()
    } else {
        match serde_json::to_vec_pretty(&planned) {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                bytes
            }
            Err(err) => {
                eprintln!("error: cannot write the plan as json: {err}");
                return ExitCode::from(EXIT_INVALID);
            }
        }
    };
    input::emit(args.output.as_deref(), &bytes)
}
