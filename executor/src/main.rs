//! `portcullis-exec BLOB -- CMD...`: applies a compiled policy blob and execs the command.
//!
//! Small on purpose: the blob codec, libc and Landlock, nothing else. The order of the
//! launch is in [`steps`]; every `unsafe` system call is in [`sys`].
//!
//! `--help` and `--version` print to stdout and exit 0.
//!
//! Exit status: the command's own; 125 when the sandbox could not be set up (the message
//! names the failed step) or the command line is wrong (the message ends with the usage
//! line); 126 when the command could not be executed; 127 when it was
//! not found.

mod args;
mod cgroup;
mod dbus_proxy;
mod failure;
mod init;
mod landlock;
mod launch;
mod limits;
mod root;
mod steps;
mod sys;
mod trust;
mod walk;

fn main() {
    let code = match args::parse(std::env::args().skip(1)) {
        Err(message) => {
            eprintln!(
                "portcullis-exec: {message}\n{}\nrun `portcullis-exec --help` for the options",
                args::USAGE
            );
            failure::SETUP
        }
        Ok(args::Request::Help) => {
            println!("{}\n\n{}", args::USAGE, args::HELP);
            0
        }
        Ok(args::Request::Version) => {
            println!("{}", args::version());
            0
        }
        Ok(args::Request::Run(args)) => match steps::run(&args) {
            Ok(status) => status,
            Err(failure) => {
                eprintln!("portcullis-exec: {failure}");
                failure.code
            }
        },
    };
    std::process::exit(code);
}
