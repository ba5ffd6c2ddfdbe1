//! `portcullis emit INPUT --backend B [--arch A] [--text] [-o FILE]`: one backend's
//! artifact. Each backend has its own arm; `seccomp` writes the raw `struct sock_filter`
//! records `bwrap --seccomp FD` reads, or with `--text` a disassembly with syscall names
//! preceded by the filter's rules and the hardening it applies.

use std::process::ExitCode;

use portcullis_backends::seccomp::{compile, to_bytes};
use portcullis_ir::seccomp::{spec, Arch, Features};
use portcullis_verifier::bpf::{decode, disasm::disassemble};

use super::input::{self, EXIT_INVALID};
use crate::cli::{self, Backend, EmitArgs};

/// `emit`.
pub fn run(args: EmitArgs) -> ExitCode {
    match args.backend {
        Backend::Seccomp => seccomp(&args),
        Backend::Mounts => super::emit_mounts::mounts(&args),
        Backend::Dbus => super::emit_dbus::dbus(&args),
        Backend::Landlock => super::emit_defense::landlock(&args),
        Backend::Apparmor => super::emit_defense::apparmor(&args),
        Backend::Bwrap => super::emit_bwrap::bwrap(&args),
    }
}

/// The seccomp architecture for `--arch` (default: this machine's).
pub fn seccomp_target(arch: Option<cli::Arch>) -> Result<Arch, String> {
    match arch {
        Some(cli::Arch::X86_64) => Ok(Arch::X86_64),
        Some(cli::Arch::Aarch64) => Ok(Arch::Aarch64),
        None => match Arch::host() {
            Some(arch @ (Arch::X86_64 | Arch::Aarch64)) => Ok(arch),
            _ => Err(format!(
                "this machine (`{}`) is not a supported target; pass `--arch`",
                std::env::consts::ARCH
            )),
        },
    }
}

fn seccomp(args: &EmitArgs) -> ExitCode {
    let target = match seccomp_target(args.arch) {
        Ok(target) => target,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let (_, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let features = Features::from_policy(&policy);
    let filter = spec(features, target);
    let program = match compile(&filter) {
        Ok(program) => program,
        Err(err) => {
            eprintln!("error: cannot build the seccomp filter: {err}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let bytes = to_bytes(&program);
    if !args.text {
        return input::emit(args.output.as_deref(), &bytes);
    }
    // INVARIANT: `to_bytes` writes whole 8-byte records.
    let listing = disassemble(&decode(&bytes).expect("whole records"));
    let text = format!(
        "{}# {} instructions\n{listing}",
        filter.describe(),
        program.len()
    );
    input::emit(args.output.as_deref(), text.as_bytes())
}
