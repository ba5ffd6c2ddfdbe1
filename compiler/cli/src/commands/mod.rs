//! One module per subcommand; [`dispatch`] maps the parsed command line to them.

pub mod audit;
pub mod check;
pub mod compile;
pub mod diff;
pub mod explain;
pub mod export;
pub mod fmt;
pub mod import;
pub mod input;
pub mod run;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Emit(_) => pending("emit"),
        Command::Compile(args) => compile::run(args),
        Command::Run(args) => run::run(args),
        Command::Verify(_) => pending("verify"),
    };
    result
}

// INTERIM: replaced command by command as the subcommands land.
fn pending(what: &str) -> ExitCode {
    eprintln!("portcullis: `{what}` is not available in this build");
    ExitCode::from(2)
}
