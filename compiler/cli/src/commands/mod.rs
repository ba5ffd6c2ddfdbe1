//! One module per subcommand; [`dispatch`] maps the parsed command line to them.

pub mod audit;
pub mod check;
pub mod compile;
pub mod diff;
pub mod emit;
pub mod emit_bwrap;
pub mod emit_dbus;
pub mod emit_defense;
pub mod emit_mounts;
pub mod explain;
pub mod export;
pub mod fmt;
pub mod generate;
pub mod import;
pub mod input;
pub mod installed;
pub mod keys;
pub mod run;
pub mod verify;
pub mod verify_dbus;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Emit(args) => emit::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Run(args) => run::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Keygen(args) => keys::keygen(args),
        Command::Completions(args) => generate::completions(args),
        Command::Man(args) => generate::man(args),
    }
}
