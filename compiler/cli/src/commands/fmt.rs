//! `portcullis fmt FILE... [--check]`: canonical formatting of policy files.
//!
//! Each file is parsed and printed back by the syntax crate. The result is parsed again
//! before anything is written, so a printer bug can never destroy a file; files are
//! replaced atomically (temporary file, then rename). `-` formats stdin to stdout. With
//! `--check` nothing is written: files that would change are listed and the exit code is 1.

use std::path::Path;
use std::process::ExitCode;

use portcullis_compiler::{Code, Form, Severity};
use portcullis_syntax::SourceFile;

use super::input::{self, EXIT_FINDINGS, EXIT_INVALID, EXIT_OK};
use crate::cli::FmtArgs;
use crate::report::Finding;

enum Outcome {
    Unchanged,
    Changed,
    Failed,
}

fn parse_error(file: &SourceFile, err: &portcullis_syntax::ParseError) -> Finding {
    let diag = portcullis_compiler::driver::parse_error(file, err);
    Finding::from_diagnostic(&diag)
}

fn format_one(path: &Path, check: bool) -> Outcome {
    let file = match input::read_source(path) {
        Ok(file) => file,
        Err(finding) => {
            input::eprint_findings(&[finding]);
            return Outcome::Failed;
        }
    };
    let form = portcullis_compiler::import::detect(&file);
    if form != Form::Policy && path != Path::new("-") {
        let finding = Finding::new(
            Code::NotAManifest.to_string(),
            Severity::Error,
            format!("`{}` is not a policy file", file.name),
        )
        .with_help("fmt formats the policy language; `portcullis import` turns a manifest or keyfile into one")
        .with_file(file.name.to_string());
        input::eprint_findings(&[finding]);
        return Outcome::Failed;
    }
    let document = match portcullis_syntax::parse(&file) {
        Ok(document) => document,
        Err(err) => {
            input::eprint_findings(&[parse_error(&file, &err)]);
            return Outcome::Failed;
        }
    };
    let formatted = portcullis_syntax::print(&document);
    let reparsed = SourceFile::new(file.name.to_string(), formatted.clone());
    if let Err(err) = portcullis_syntax::parse(&reparsed) {
        let finding = Finding::new(
            Code::SyntaxError.to_string(),
            Severity::Error,
            format!(
                "formatting `{}` gave text that does not parse ({err}); the file is left as it is",
                file.name
            ),
        )
        .with_help("this is a bug in the printer; please report it with the file");
        input::eprint_findings(&[finding]);
        return Outcome::Failed;
    }
    let changed = formatted != *file.text;
    if path == Path::new("-") {
        if check {
            return if changed {
                Outcome::Changed
            } else {
                Outcome::Unchanged
            };
        }
        return match input::emit(None, formatted.as_bytes()) == ExitCode::from(EXIT_OK) {
            true => Outcome::Unchanged,
            false => Outcome::Failed,
        };
    }
    if !changed {
        return Outcome::Unchanged;
    }
    if check {
        println!("would reformat {}", file.name);
        return Outcome::Changed;
    }
    match input::write_atomic(path, formatted.as_bytes()) {
        Ok(()) => Outcome::Changed,
        Err(err) => {
            let finding = Finding::new(
                Code::ReadError.to_string(),
                Severity::Error,
                format!("cannot write `{}`: {err}", file.name),
            )
            .with_help("check that the file and its directory are writable");
            input::eprint_findings(&[finding]);
            Outcome::Failed
        }
    }
}

/// Runs `fmt`.
pub fn run(args: FmtArgs) -> ExitCode {
    let mut failed = false;
    let mut changed = false;
    for path in &args.files {
        match format_one(path, args.check) {
            Outcome::Unchanged => {}
            Outcome::Changed => changed = true,
            Outcome::Failed => failed = true,
        }
    }
    ExitCode::from(if failed {
        EXIT_INVALID
    } else if changed && args.check {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
