//! `portcullis run INPUT|BLOB [--runtime DIR] [--app DIR] -- CMD...`: compiles when given a
//! policy, then launches through the `portcullis-exec` binary that sits next to this one
//! (spawned, never linked in). Without `--runtime` the host's `/usr` serves as the runtime.
//! Without a command after `--` the policy's own `command` runs; `--app` and `--runtime`
//! must name existing directories.
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
use portcullis_ir::Policy;

use super::compile::{compile_input, is_blob, target};
use super::input::{self, EXIT_INVALID};
use crate::cli::RunArgs;
use crate::report;

/// The variable that makes the executor report what it set up (`-v`).
const EXEC_REPORT: &str = "PORTCULLIS_EXEC_REPORT";

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

fn blob_input(path: &Path) -> Result<Blob, ExitCode> {
    let bytes = input::read_bytes(path).map_err(|finding| {
        input::eprint_findings(&[finding]);
        ExitCode::from(EXIT_INVALID)
    })?;
    Blob::decode_for_host(&bytes).map_err(|err| {
        eprintln!("error: `{}`: {err}", path.display());
        ExitCode::from(EXIT_INVALID)
    })
}

/// `--app` and `--runtime` must name directories: a typo would otherwise launch without
/// the tree and fail later as a command that is not found (127).
fn check_tree(option: &str, dir: Option<&Path>) -> Result<(), ExitCode> {
    let Some(dir) = dir else {
        return Ok(());
    };
    let problem = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => "is not a directory".to_string(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => "does not exist".to_string(),
        Err(err) => format!("cannot be read: {err}"),
    };
    eprintln!(
        "error: the {option} directory `{}` {problem}",
        report::bounded(&dir.display().to_string())
    );
    eprintln!("  help: name the tree to mount, or leave {option} out");
    Err(ExitCode::from(EXIT_INVALID))
}

/// The command to launch: the one given after `--`, else the policy's own `command`.
fn command_line(given: &[String], blob: &Blob, input: &Path) -> Result<Vec<String>, ExitCode> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let policy: Option<Policy> = serde_json::from_slice(&blob.policy).ok();
    match policy.and_then(|p| p.identity.command) {
        Some(command) if !command.is_empty() => Ok(vec![command]),
        _ => {
            eprintln!(
                "error: no command to run: `{}` names none",
                report::bounded(&input.display().to_string())
            );
            eprintln!(
                "  help: give one after `--`: portcullis run INPUT -- CMD [ARGS...], \
                 or add `command NAME` to the policy"
            );
            Err(ExitCode::from(EXIT_INVALID))
        }
    }
}

/// `run`.
pub fn run(args: RunArgs) -> ExitCode {
    let Some(executor) = executor_path() else {
        eprintln!("error: `portcullis-exec` is not installed next to `portcullis`");
        return ExitCode::from(SETUP_FAILED);
    };
    if let Err(code) = check_tree("--app", args.app.as_deref())
        .and_then(|()| check_tree("--runtime", args.runtime.as_deref()))
    {
        return code;
    }
    let temp;
    let blob;
    let blob_path = if is_blob(&args.input) {
        blob = match blob_input(&args.input) {
            Ok(blob) => blob,
            Err(code) => return code,
        };
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
        let bytes = bundled.blob.encode();
        blob = bundled.blob;
        let bytes = match &args.sign {
            Some(key) => match super::keys::sign_blob(&bytes, key) {
                Ok(signed) => signed,
                Err(code) => return code,
            },
            None => bytes,
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
    let argv = match command_line(&args.command, &blob, &args.input) {
        Ok(argv) => argv,
        Err(code) => return code,
    };
    let mut command = Command::new(&executor);
    if args.verbose {
        command.env(EXEC_REPORT, "1");
    }
    for path in &args.trust {
        command.arg("--trust").arg(path);
    }
    if let Some(runtime) = &args.runtime {
        command.arg("--runtime").arg(runtime);
    }
    if let Some(app) = &args.app {
        command.arg("--app").arg(app);
    }
    command.arg(&blob_path).arg("--").args(&argv);
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
