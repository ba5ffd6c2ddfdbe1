//! `portcullis run INPUT|BLOB [--runtime DIR] [--app DIR] -- CMD...`: compiles when given a
//! policy, then launches through the `portcullis-exec` binary that sits next to this one
//! (spawned, never linked in). Without `--runtime` the host's `/usr` serves as the runtime.
//!
//! Exit status: the command's own (forwarded by the executor), 125 when the sandbox
//! could not be set up or the executor is missing, 126/127 when the command could not be
//! executed or found, 2 for an input that is not a usable policy or blob.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use portcullis_blob::Blob;

use super::compile::{compile_input, is_blob, target};
use super::input::{self, EXIT_INVALID};
use crate::cli::RunArgs;

/// The executor's exit code for a setup failure.
const SETUP_FAILED: u8 = 125;

/// `portcullis-exec` in the directory of the running binary.
pub fn executor_path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.with_file_name("portcullis-exec");
    path.is_file().then_some(path)
}

/// A compiled blob in a private temporary file, removed when dropped.
struct TempBlob(PathBuf);

impl TempBlob {
    fn write(bytes: &[u8]) -> std::io::Result<TempBlob> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "portcullis-{}-{nanos:08x}.blob",
            std::process::id()
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let temp = TempBlob(path);
        file.write_all(bytes)?;
        Ok(temp)
    }
}

impl Drop for TempBlob {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn blob_input(path: &Path) -> Result<(), ExitCode> {
    let bytes = input::read_blob_bytes(path).map_err(|finding| {
        input::eprint_findings(&[finding]);
        ExitCode::from(EXIT_INVALID)
    })?;
    Blob::decode_for_host(&bytes).map(drop).map_err(|err| {
        eprintln!("error: `{}`: {err}", path.display());
        ExitCode::from(EXIT_INVALID)
    })
}

/// `run`.
pub fn run(args: RunArgs) -> ExitCode {
    let Some(executor) = executor_path() else {
        eprintln!("error: `portcullis-exec` is not installed next to `portcullis`");
        return ExitCode::from(SETUP_FAILED);
    };
    let temp;
    let blob_path = if is_blob(&args.input) {
        if let Err(code) = blob_input(&args.input) {
            return code;
        }
        args.input.clone()
    } else {
        let arch = match target(None) {
            Ok(arch) => arch,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(EXIT_INVALID);
            }
        };
        let bundled = match compile_input(&args.input, arch) {
            Ok(bundled) => bundled,
            Err(code) => return code,
        };
        let bytes = match super::keys::maybe_sign(bundled.blob.encode(), args.sign.as_deref()) {
            Ok(bytes) => bytes,
            Err(code) => return code,
        };
        temp = match TempBlob::write(&bytes) {
            Ok(temp) => temp,
            Err(err) => {
                eprintln!("error: cannot write the compiled blob: {err}");
                return ExitCode::from(SETUP_FAILED);
            }
        };
        temp.0.clone()
    };
    let mut command = Command::new(&executor);
    for path in &args.trust {
        command.arg("--trust").arg(path);
    }
    if let Some(runtime) = &args.runtime {
        command.arg("--runtime").arg(runtime);
    }
    if let Some(app) = &args.app {
        command.arg("--app").arg(app);
    }
    command.arg(&blob_path).arg("--").args(&args.command);
    match command.status() {
        Ok(status) => {
            let code = status
                .code()
                .or_else(|| status.signal().map(|s| 128 + s))
                .unwrap_or(i32::from(SETUP_FAILED));
            ExitCode::from(u8::try_from(code).unwrap_or(SETUP_FAILED))
        }
        Err(err) => {
            eprintln!("error: cannot start `{}`: {err}", executor.display());
            ExitCode::from(SETUP_FAILED)
        }
    }
}
