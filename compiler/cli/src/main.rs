//! The `portcullis` command-line tool.
//!
//! One binary, one subcommand per job (the contract in the design brief): `check`,
//! `audit`, `diff`, `explain`, `fmt`, `import`, `export`, `emit`, `compile`, `verify`,
//! `run`, `keygen`, and for packagers `completions` and `man`. Each subcommand lives in its own module under `commands/` and returns an
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
            if let Some(tip) = run_tip(&err) {
                eprintln!("{tip}");
            }
            return ExitCode::from(code);
        }
    };
    commands::dispatch(args)
}

/// `portcullis run INPUT CMD` without `--`: the command is taken for an unexpected
/// argument; say how to write it.
fn run_tip(err: &clap::Error) -> Option<String> {
    if err.kind() != clap::error::ErrorKind::UnknownArgument {
        return None;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let run = args.iter().position(|a| a == "run")?;
    if args[run..].iter().any(|a| a == "--") {
        return None;
    }
    Some(
        "tip: put `--` between the input and the command: \
         `portcullis run INPUT -- CMD [ARGS...]`"
            .to_string(),
    )
}
