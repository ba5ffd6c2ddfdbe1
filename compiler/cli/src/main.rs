//! The `portcullis` command-line tool.
//!
//! One binary, one subcommand per job (the contract in the design brief): `check`,
//! `audit`, `diff`, `explain`, `fmt`, `import`, `export`, `emit`, `compile`, `verify`,
//! `run`. Each subcommand lives in its own module under `commands/` and returns an
//! [`ExitCode`]: 0 success, 1 findings at or above the failing level, 2 invalid input
//! or usage. Diagnostics are rendered with miette.

mod cli;
mod commands;
mod report;
mod sarif;
mod snippet;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(err) => {
            // clap prints help/version to stdout with exit 0, usage errors with 2.
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    commands::dispatch(args)
}
