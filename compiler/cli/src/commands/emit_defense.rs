//! The `landlock` and `apparmor` arms of `emit`.
//!
//! * `--backend landlock`: the blob's Landlock section as JSON; with `--text`, the rules
//!   and what each Landlock ABI (0 to 7) would enforce of them;
//! * `--backend apparmor`: the AppArmor profile (text either way), every rule commented
//!   with the policy line it comes from.

use std::process::ExitCode;

use portcullis_backends::{apparmor, dbus, landlock, mounts};
use portcullis_ir::{Origin, Policy};
use portcullis_syntax::SourceFile;

use super::input::{self, EXIT_INVALID};
use crate::cli::EmitArgs;

/// Names an origin as `FILE:LINE` for the input's own text, else by byte range.
fn namer<'a>(file: &'a SourceFile, policy: &'a Policy) -> impl Fn(Origin) -> String + 'a {
    let by_bytes = dbus::text::origin_by_bytes(policy);
    move |origin: Origin| {
        let source = policy.sources.get(origin.source as usize);
        if !origin.is_implicit() && source.is_some_and(|s| s.as_str() == &*file.name) {
            let (line, _) = file.line_col(origin.start as usize);
            format!("{}:{line}", file.name)
        } else {
            by_bytes(origin)
        }
    }
}

/// `emit --backend landlock`.
pub fn landlock(args: &EmitArgs) -> ExitCode {
    let (_, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let plan = mounts::plan(&policy);
    let section = landlock::section(&policy, &plan.ops);
    if args.text {
        let text = landlock::text::render(policy.app_id(), &section);
        return input::emit(args.output.as_deref(), text.as_bytes());
    }
    match serde_json::to_string_pretty(&section) {
        Ok(mut json) => {
            json.push('\n');
            input::emit(args.output.as_deref(), json.as_bytes())
        }
        Err(err) => {
            eprintln!("error: cannot write the landlock section: {err}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

/// `emit --backend apparmor`.
pub fn apparmor(args: &EmitArgs) -> ExitCode {
    let (file, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let plan = mounts::plan(&policy);
    let bus = dbus::compile(&policy);
    let name = namer(&file, &policy);
    let profile = apparmor::render_with(&policy, &plan.ops, &bus, &name);
    input::emit(args.output.as_deref(), profile.as_bytes())
}
