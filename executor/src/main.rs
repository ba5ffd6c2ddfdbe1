//! `portcullis-exec BLOB -- CMD...`: applies a compiled policy blob and execs the command.
//!
//! Small on purpose: the blob codec, libc and Landlock, nothing else. The order of the
//! launch is in [`steps`]; every `unsafe` system call is in [`sys`].
//!
//! Exit status: the command's own; 125 when the sandbox could not be set up (the message
//! names the failed step); 126 when the command could not be executed; 127 when it was
//! not found.

mod args;
mod dbus_proxy;
mod failure;
mod landlock;
mod launch;
mod limits;
mod root;
mod steps;
mod sys;
mod walk;

fn main() {
    let code = match args::parse(std::env::args().skip(1)) {
        Err(message) => {
            eprintln!("portcullis-exec: {message}\n{}", args::USAGE);
            failure::SETUP
        }
        Ok(args) => match steps::run(&args) {
            Ok(status) => status,
            Err(failure) => {
                eprintln!("portcullis-exec: {failure}");
                failure.code
            }
        },
    };
    std::process::exit(code);
}
