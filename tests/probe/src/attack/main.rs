//! `portcullis-attack pid1 [--secret-reversed TEXT]`: run inside a sandbox as the app, attacks
//! the sandbox's pid 1 the way an adversarial review did, and prints one JSON object
//! `{"probes": [{"name", "escaped", "detail"}]}` like `portcullis-probe`.
//!
//! The last probe is the real takeover: when `/proc/1/mem` opens for writing, it writes
//! `exit_group(77)` at the instruction pid 1 will run when its current system call
//! returns, then makes that call return (a grandchild is orphaned to pid 1 and exits).
//! Pid 1 then exits with 77 and the whole sandbox with it, so the test sees 77 as the
//! launch's status: the attack worked. The report is printed before that happens.
#![allow(unsafe_code)]

mod pid1;

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let mut secret = None;
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--secret-reversed", Some(value)) => {
                secret = Some(value.chars().rev().collect::<String>())
            }
            _ => {
                eprintln!("portcullis-attack: unknown option {flag}");
                std::process::exit(2);
            }
        }
    }
    match mode.as_str() {
        "pid1" => pid1::run(secret.as_deref()),
        other => {
            eprintln!("portcullis-attack: unknown attack `{other}` (known: pid1)");
            std::process::exit(2);
        }
    }
}
