//! `portcullis completions bash|zsh|fish` and `portcullis man [-o DIR]`: what a package
//! installs beside the binaries, generated from the command-line declaration itself
//! (`clap_complete`, `clap_mangen`) so that it cannot drift from the parser.
//!
//! `man` prints portcullis(1) on stdout; with `-o DIR` it writes portcullis.1, one
//! portcullis-SUBCOMMAND.1 per subcommand and portcullis-exec.1 into DIR, each atomically.
//! The executor has no clap parser (it stays tiny); its page comes from [`exec_command`],
//! which a test checks against `portcullis-exec --help`.

use std::path::Path;
use std::process::ExitCode;

use clap::{Arg, ArgAction, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;

use super::input::{self, EXIT_INVALID, EXIT_OK};
use crate::cli::{Cli, CompletionShell, CompletionsArgs, ManArgs};

/// `completions SHELL`: the completion script on stdout.
pub fn completions(args: CompletionsArgs) -> ExitCode {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut bytes = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "portcullis", &mut bytes);
    input::emit(None, &bytes)
}

/// The executor's command line, for its manual page only (it parses its own arguments).
pub fn exec_command() -> clap::Command {
    let dir = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .long(name)
            .value_name("DIR")
            .help(help)
            .action(ArgAction::Set)
    };
    clap::Command::new("portcullis-exec")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Apply a compiled portcullis policy blob and run a command inside the sandbox")
        .long_about(
            "Applies a compiled portcullis policy blob (namespaces, mounts, Landlock, limits, \
             the D-Bus proxy, seccomp last) and runs CMD inside the sandbox. `portcullis run` \
             calls it; it is installed next to `portcullis`.\n\n\
             Exit status: the command's own; 125 when the sandbox could not be set up or the \
             command line is wrong; 126 when CMD could not be executed; 127 when it was not \
             found.",
        )
        .arg(
            Arg::new("trust")
                .long("trust")
                .value_name("PATH")
                .action(ArgAction::Append)
                .help(
                    "A public-key file or a directory of *.pub keys: the blob must be signed \
                     by one of them (repeatable); keys in /etc/portcullis/trusted.d and in \
                     $PORTCULLIS_TRUST_DIR are trusted too, and make signatures mandatory",
                ),
        )
        .arg(dir(
            "runtime",
            "The tree mounted at /usr (default: the host's /usr)",
        ))
        .arg(dir(
            "app",
            "The tree mounted at /app (without it, /app operations are skipped)",
        ))
        .arg(dir("extensions", "The directory of extension trees"))
        .arg(
            Arg::new("blob")
                .value_name("BLOB")
                .required(true)
                .help("The compiled policy blob"),
        )
        .arg(
            Arg::new("command")
                .value_name("CMD")
                .last(true)
                .required(true)
                .num_args(1..)
                .help("The command and its arguments"),
        )
}

/// Every page: (file name, roff text).
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let mut commands = vec![top.clone()];
    commands.extend(top.get_subcommands().cloned());
    commands.push(exec_command());
    let mut out = Vec::new();
    for command in commands {
        let man = Man::new(command).manual("portcullis");
        let mut text = Vec::new();
        man.render(&mut text)?;
        out.push((man.get_filename(), text));
    }
    Ok(out)
}

/// `man [-o DIR]`.
pub fn man(args: ManArgs) -> ExitCode {
    let pages = match pages() {
        Ok(pages) => pages,
        Err(err) => {
            eprintln!("error: cannot render the manual pages: {err}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let Some(dir) = args.output else {
        return input::emit(None, &pages[0].1);
    };
    if let Err(err) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create `{}`: {err}", dir.display());
        return ExitCode::from(EXIT_INVALID);
    }
    for (name, text) in &pages {
        let path = dir.join(name);
        if let Err(err) = input::write_atomic(Path::new(&path), text) {
            input::eprint_findings(&[input::write_failure(&path, &err)]);
            return ExitCode::from(EXIT_INVALID);
        }
    }
    ExitCode::from(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_per_subcommand_plus_the_tool_and_the_executor() {
        let pages = pages().expect("pages");
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "portcullis.1");
        for name in ["portcullis-run.1", "portcullis-emit.1", "portcullis-exec.1"] {
            assert!(names.contains(&name), "{names:?}");
        }
        assert_eq!(
            pages.len(),
            Cli::command().get_subcommands().count() + 2,
            "{names:?}"
        );
    }
}
