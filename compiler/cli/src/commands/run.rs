//! `portcullis run INPUT|BLOB|APP_ID[//BRANCH] [--runtime DIR] [--app DIR] [-- CMD...]`:
//! compiles when given a policy, then launches through the `portcullis-exec` binary that
//! sits next to this one (spawned, never linked in). Without `--runtime` the host's `/usr`
//! serves as the runtime; `--app` and `--runtime` must name existing directories. Without
//! a command after `--` the policy's own `command` runs. An installed app (see
//! [`super::installed`]) brings its own trees, its effective policy (overrides merged) and,
//! without `--`, its metadata's command; its `/.flatpak-info` gets the `[Instance]` group
//! `flatpak run` writes.
//!
//! Exit status: the command's own (forwarded by the executor), 125 when the sandbox
//! could not be set up or the executor is missing, 126/127 when the command could not be
//! executed or found, 2 for an input that is not a usable policy or blob.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use portcullis_blob::mounts::MountOp;
use portcullis_blob::Blob;
use portcullis_ir::context::Socket;
use portcullis_ir::Policy;

use super::compile::{compile_policy, is_blob, target};
use super::input::{self, EXIT_INVALID};
use super::installed;
use crate::cli::RunArgs;
use crate::report;

/// The executor's exit code for a setup failure.
const SETUP_FAILED: u8 = 125;

/// The variable that makes the executor report what it set up (`-v`).
const EXEC_REPORT: &str = "PORTCULLIS_EXEC_REPORT";

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
    let bytes = input::read_blob_bytes(path).map_err(|finding| {
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
fn command_line(
    given: &[String],
    default: Option<String>,
    input: &Path,
) -> Result<Vec<String>, ExitCode> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    match default {
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

/// What to launch: the blob, the trees and the command.
struct Launch {
    blob: PathBuf,
    runtime: Option<PathBuf>,
    app: Option<PathBuf>,
    command: Vec<String>,
    /// Keeps a compiled blob's temporary file alive until the launch ends.
    _temp: Option<TempBlob>,
}

/// Compiles a checked policy for this machine (signed when asked) into a temporary blob.
/// `patch` may adjust the blob before it is encoded (an installed app's
/// `/.flatpak-info`).
fn temp_blob(
    policy: &portcullis_ir::Policy,
    name: &str,
    sign: Option<&Path>,
    patch: &dyn Fn(&mut Blob),
) -> Result<TempBlob, ExitCode> {
    let arch = target(None).map_err(|message| {
        eprintln!("error: {message}");
        ExitCode::from(EXIT_INVALID)
    })?;
    let mut bundled = compile_policy(policy, name, arch)?;
    patch(&mut bundled.blob);
    let bytes = bundled.blob.encode();
    let bytes = match sign {
        Some(key) => super::keys::sign_blob(&bytes, key)?,
        None => bytes,
    };
    TempBlob::write(&bytes).map_err(|err| {
        eprintln!("error: cannot write the compiled blob: {err}");
        ExitCode::from(SETUP_FAILED)
    })
}

/// A fresh instance id, as Flatpak's: a random 32-bit number (from the kernel's
/// random source; the clock and pid when it cannot be read).
fn instance_id() -> u32 {
    use std::io::Read;
    let mut bytes = [0u8; 4];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
        Ok(()) => u32::from_ne_bytes(bytes),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            nanos ^ std::process::id().rotate_left(16)
        }
    }
}

/// An installed app: resolved in the installations, its effective policy (overrides
/// merged) compiled, its deployed `files` at /app and its runtime's at /usr, and its
/// metadata's `command` unless a command is given.
fn installed_launch(app: &installed::AppRef, args: &RunArgs) -> Result<Launch, ExitCode> {
    let selector = installed::Selector {
        user: args.user,
        system: args.system,
        installation: args.installation.clone(),
        arch: args.app_arch.clone(),
    };
    let resolved = installed::resolve(app, &selector).map_err(|message| {
        input::eprint_findings(&[input::not_installed(&args.input, message)]);
        ExitCode::from(EXIT_INVALID)
    })?;
    if resolved.arch != installed::host_arch() {
        eprintln!(
            "error: `{}` is installed for {}, which this machine ({}) cannot run",
            resolved.id,
            resolved.arch,
            installed::host_arch()
        );
        return Err(ExitCode::from(EXIT_INVALID));
    }
    let (_, policy, _) = input::checked(input::load_installed(&resolved))?;
    let command = if args.command.is_empty() {
        match &resolved.command {
            Some(command) if !command.is_empty() => vec![command.clone()],
            _ => {
                eprintln!(
                    "error: `{}` has no `[Application] command=` in `{}`: give the command after `--`",
                    resolved.id,
                    resolved.metadata.display()
                );
                return Err(ExitCode::from(EXIT_INVALID));
            }
        }
    } else {
        args.command.clone()
    };
    let instance = installed::Instance {
        id: instance_id(),
        home: std::env::var("HOME").ok().filter(|h| h.starts_with('/')),
        session_bus_proxy: !policy.context.has_socket(Socket::SessionBus),
        system_bus_proxy: !policy.context.has_socket(Socket::SystemBus),
    };
    let patch = |blob: &mut Blob| {
        for op in &mut blob.mounts {
            if let MountOp::File { dest, content, .. } = op {
                if dest.as_str() == "/.flatpak-info" {
                    let compiled = String::from_utf8_lossy(content).into_owned();
                    *content = resolved.flatpak_info(&compiled, &instance).into_bytes();
                }
            }
        }
    };
    let temp = temp_blob(&policy, &resolved.id, args.sign.as_deref(), &patch)?;
    Ok(Launch {
        blob: temp.0.clone(),
        runtime: Some(
            args.runtime
                .clone()
                .unwrap_or_else(|| resolved.runtime_files.clone()),
        ),
        app: Some(
            args.app
                .clone()
                .unwrap_or_else(|| resolved.app_files.clone()),
        ),
        command,
        _temp: Some(temp),
    })
}

/// A policy, manifest, keyfile or blob file.
fn file_launch(args: &RunArgs) -> Result<Launch, ExitCode> {
    if args.user || args.system || args.installation.is_some() || args.app_arch.is_some() {
        eprintln!(
            "error: `--user`, `--system`, `--installation` and `--arch` choose an installed app, and `{}` is a file",
            args.input.display()
        );
        return Err(ExitCode::from(EXIT_INVALID));
    }
    let (blob, temp, default) = if is_blob(&args.input) {
        let blob = blob_input(&args.input)?;
        let recorded: Option<Policy> = serde_json::from_slice(&blob.policy).ok();
        let default = recorded.and_then(|p| p.identity.command);
        (args.input.clone(), None, default)
    } else {
        let (_, policy, _) = input::policy(&args.input)?;
        let temp = temp_blob(
            &policy,
            &args.input.display().to_string(),
            args.sign.as_deref(),
            &|_| {},
        )?;
        (temp.0.clone(), Some(temp), policy.identity.command.clone())
    };
    let command = command_line(&args.command, default, &args.input)?;
    Ok(Launch {
        blob,
        runtime: args.runtime.clone(),
        app: args.app.clone(),
        command,
        _temp: temp,
    })
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
    let launch = match installed::as_app_ref(&args.input) {
        Some(app) => installed_launch(&app, &args),
        None => file_launch(&args),
    };
    let launch = match launch {
        Ok(launch) => launch,
        Err(code) => return code,
    };
    let mut command = Command::new(&executor);
    if args.verbose {
        command.env(EXEC_REPORT, "1");
    }
    for path in &args.trust {
        command.arg("--trust").arg(path);
    }
    if let Some(runtime) = &launch.runtime {
        command.arg("--runtime").arg(runtime);
    }
    if let Some(app) = &launch.app {
        command.arg("--app").arg(app);
    }
    command.arg(&launch.blob).arg("--").args(&launch.command);
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
