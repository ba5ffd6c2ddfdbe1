//! The `dbus` arm of `portcullis emit`: the `xdg-dbus-proxy` arguments per bus, as JSON
//! (each argument with the reason it is there), or with `--text` one argument per line
//! with a comment naming its origin (`FILE:LINE:COLUMN` for the input's own statements).

use std::process::ExitCode;

use portcullis_backends::dbus::{self, text};
use portcullis_ir::{Origin, Policy};
use portcullis_syntax::SourceFile;

use super::input::{self, EXIT_INVALID};
use crate::cli::EmitArgs;

/// Names an origin as `FILE:LINE:COLUMN` in the input's own text, else by byte range.
fn namer<'a>(file: &'a SourceFile, policy: &'a Policy) -> impl Fn(Origin) -> String + 'a {
    let by_bytes = text::origin_by_bytes(policy);
    move |origin: Origin| {
        let source = policy.sources.get(origin.source as usize);
        if !origin.is_implicit() && source.is_some_and(|s| s.as_str() == &*file.name) {
            let (line, column) = file.line_col(origin.start as usize);
            format!("{}:{line}:{column}", file.name)
        } else {
            by_bytes(origin)
        }
    }
}

/// `emit --backend dbus`.
pub fn dbus(args: &EmitArgs) -> ExitCode {
    let (file, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let plan = dbus::compile(&policy);
    let bytes = if args.text {
        text::render_with(&plan, &namer(&file, &policy)).into_bytes()
    } else {
        match serde_json::to_vec_pretty(&plan) {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                bytes
            }
            Err(err) => {
                eprintln!("error: cannot write the proxy arguments as json: {err}");
                return ExitCode::from(EXIT_INVALID);
            }
        }
    };
    input::emit(args.output.as_deref(), &bytes)
}
