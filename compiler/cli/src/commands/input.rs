//! Loading any INPUT for any subcommand: a path or `-` for stdin, read as UTF-8 text,
//! form detected, compiled, diagnostics rendered, exit codes decided.
//!
//! Other subcommands get a checked [`Policy`] with [`policy`]: it prints the findings to
//! stderr and returns the exit code to use when the input is not usable (2).

// A `Finding` is returned at most once per input, never in a loop that matters for speed;
// keeping it unboxed keeps every caller simple.
#![allow(clippy::result_large_err)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use portcullis_compiler::{compile, Code, Compiled, Diagnostic, Options, Severity};
use portcullis_ir::Policy;
use portcullis_syntax::SourceFile;

use super::installed;
use crate::cli::ReportFormat;
use crate::report::{self, Finding};
use crate::sarif;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: findings at or above the failing level.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: invalid input or usage.
pub const EXIT_INVALID: u8 = 2;

/// The code of a finding about output that could not be written (`-o FILE`, `fmt`).
pub const WRITE_ERROR: &str = "portcullis::output::write-error";

/// A finding for an output file that could not be written, with help fitting the cause.
pub fn write_failure(path: &Path, err: &std::io::Error) -> Finding {
    let dir = parent_dir(path);
    let help = match err.kind() {
        std::io::ErrorKind::NotFound if !dir.is_dir() => {
            "the directory does not exist: create it or name another path"
        }
        // The directory is there but a file cannot be made in it: /proc, /sys and the
        // like answer "no such file" to a create.
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ReadOnlyFilesystem => {
            "that directory does not take new files (a kernel or read-only file system): \
             name a path in an ordinary writable directory"
        }
        std::io::ErrorKind::PermissionDenied => "check that the directory is writable",
        std::io::ErrorKind::InvalidInput => "name a regular file, or `-` for standard output",
        _ => "check that the directory exists and is writable",
    };
    Finding::new(
        WRITE_ERROR,
        Severity::Error,
        format!(
            "cannot write `{}`: {err}",
            report::bounded(&path.display().to_string())
        ),
    )
    .with_help(help)
}

/// The directory a path's file is in (`.` for a bare name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The display name of a path argument (`<stdin>` for `-`).
pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// The largest input text read: 64 MiB (the largest Flathub manifest is well under 1 MiB),
/// so that a device such as `/dev/zero` given as an input ends in an error, not in memory
/// exhaustion.
pub const MAX_INPUT_LEN: u64 = 64 << 20;

/// Reads at most [`MAX_INPUT_LEN`] bytes, and refuses more.
fn read_capped(reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_LEN + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_LEN {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_INPUT_LEN >> 20
        )));
    }
    Ok(bytes)
}

/// Reads a path (or stdin for `-`) as raw bytes, with a diagnostic for what went wrong.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Finding> {
    let name = display_name(path);
    let fail = |message: String, help: &str| {
        Finding::new(Code::ReadError.to_string(), Severity::Error, message)
            .with_help(help.to_string())
            .with_file(name.clone())
    };
    if path == Path::new("-") {
        return match read_capped(std::io::stdin().lock()) {
            Ok(bytes) => Ok(bytes),
            Err(err) => Err(fail(
                format!("cannot read standard input: {err}"),
                "pipe a file into the command",
            )),
        };
    }
    if path.is_dir() {
        return Err(fail(
            format!("`{name}` is a directory"),
            "name a policy, manifest or keyfile",
        ));
    }
    std::fs::File::open(path)
        .and_then(read_capped)
        .map_err(|err| {
            let help = match err.kind() {
                std::io::ErrorKind::NotFound => "check the path",
                std::io::ErrorKind::PermissionDenied => "check the file's permissions",
                _ => "check that the path names a readable file",
            };
            fail(format!("cannot read `{name}`: {err}"), help)
        })
}

/// Reads a blob file (or stdin for `-`) as raw bytes: opened without blocking, a regular
/// file only, at most `portcullis_blob::file::MAX_BLOB_LEN` bytes, so that a FIFO cannot
/// hang the command and a device such as `/dev/zero` is never read.
pub fn read_blob_bytes(path: &Path) -> Result<Vec<u8>, Finding> {
    use portcullis_blob::file::{read_bounded, read_opened};
    use std::os::unix::fs::OpenOptionsExt;
    let name = display_name(path);
    let fail = |err: portcullis_blob::file::FileError| {
        Finding::new(
            Code::ReadError.to_string(),
            Severity::Error,
            format!("cannot read `{name}` as a blob: {err}"),
        )
        .with_help("name a blob written by `portcullis compile`")
        .with_file(name.clone())
    };
    if path == Path::new("-") {
        return read_bounded(std::io::stdin().lock()).map_err(fail);
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(portcullis_blob::file::FileError::Io)
        .and_then(read_opened)
        .map_err(fail)
}

/// Reads a path as a source file: UTF-8 text, no NUL bytes outside a keyfile's reach.
/// A compiled blob is recognised by its magic and pointed to `explain` and `verify`.
pub fn read_source(path: &Path) -> Result<SourceFile, Finding> {
    let bytes = read_bytes(path)?;
    let name = display_name(path);
    if portcullis_blob::looks_like_blob(&bytes) {
        let (what, help) = if path == Path::new("-") {
            (
                "standard input holds".to_string(),
                "save it to a file, then use `portcullis explain FILE` or `portcullis verify FILE`"
                    .to_string(),
            )
        } else {
            (
                format!("`{name}` is"),
                format!("read it with `portcullis explain {name}`, check it with `portcullis verify {name}`"),
            )
        };
        return Err(Finding::new(
            Code::BinaryInput.to_string(),
            Severity::Error,
            format!("{what} a compiled policy blob, not a policy, manifest or keyfile"),
        )
        .with_help(help)
        .with_file(name));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            Err(Finding::new(
                Code::BinaryInput.to_string(),
                Severity::Error,
                format!("`{name}` is not UTF-8 text (invalid byte at offset {at})"),
            )
            .with_help("portcullis reads policy files, Flatpak manifests, metadata keyfiles and finish-args lists")
            .with_file(name))
        }
    }
}

/// Compiler options for the CLI. An include is looked up next to the including file, then
/// in the first of these directories that exists: `$PORTCULLIS_POLICIES` when set, the
/// installed `../share/portcullis/policies` beside this binary's directory, `policies/` in
/// the working directory, and last the repository's `policies/` this binary was built from.
pub fn options() -> Options {
    Options {
        policies_dir: policies_dirs().into_iter().next(),
        form: None,
    }
}

/// The policies directories that exist, in order of preference (see [`options`]).
fn policies_dirs() -> Vec<PathBuf> {
    let from_env = std::env::var_os("PORTCULLIS_POLICIES")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let installed = std::env::current_exe().ok().and_then(|exe| {
        exe.parent()
            .map(|bin| bin.join("../share/portcullis/policies"))
    });
    let built = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies"));
    let here = Some(PathBuf::from("policies"));
    [from_env, installed, here, Some(built)]
        .into_iter()
        .flatten()
        .filter(|p| p.is_dir())
        .collect()
}

/// One loaded input: its text and what compiling it gave.
pub struct Loaded {
    /// The source text.
    pub file: SourceFile,
    /// The compile result.
    pub compiled: Compiled,
}

/// The code of a finding about an input that holds nothing.
pub const EMPTY_INPUT: &str = "portcullis::check::empty-input";

/// Reads and compiles an input; a read failure comes back as one finding, and so does an
/// input with nothing but white space in it (it would otherwise be a valid policy for an
/// app without a name, which is never what an empty file or an empty pipe means). An
/// input that is no file but a valid `APP_ID[//BRANCH]` is an installed app (see
/// [`super::installed`]): its deployed metadata with the overrides merged.
pub fn load(path: &Path) -> Result<Loaded, Finding> {
    if let Some(app) = installed::as_app_ref(path) {
        let resolved = installed::resolve(&app, &installed::Selector::default())
            .map_err(|message| not_installed(path, message))?;
        return load_installed(&resolved);
    }
    let file = read_source(path)?;
    if file.text.trim().is_empty() {
        let (what, help) = if path == Path::new("-") {
            (
                "standard input is empty".to_string(),
                "pipe a policy, manifest or keyfile into the command",
            )
        } else {
            (
                format!("`{}` is empty", report::bounded(&file.name)),
                "write a policy (`app ID { … }`), or name a Flatpak manifest or keyfile",
            )
        };
        return Err(Finding::new(EMPTY_INPUT, Severity::Error, what)
            .with_help(help)
            .with_file(file.name.to_string()));
    }
    let compiled = compile(&file, &options());
    Ok(Loaded { file, compiled })
}

/// The finding for an installed app that could not be resolved.
pub fn not_installed(path: &Path, message: String) -> Finding {
    Finding::new(Code::ReadError.to_string(), Severity::Error, message)
        .with_help(
            "name a policy, manifest or keyfile, or an installed app (`flatpak list --app` lists them)",
        )
        .with_file(display_name(path))
}

/// An installed app's effective policy: its deployed metadata compiled, its runtime's
/// metadata environment beneath it, then each override file merged over it in Flatpak's
/// order, with the findings of every file added.
pub fn load_installed(resolved: &installed::Resolved) -> Result<Loaded, Finding> {
    let file = read_source(&resolved.metadata)?;
    let mut compiled = compile(&file, &options());
    // The runtime's metadata lies beneath (only its environment counts), the overrides
    // above, as in `flatpak run`.
    let runtime_metadata = resolved.runtime_deploy.join("metadata");
    if let (Some(policy), true) = (compiled.policy.as_mut(), runtime_metadata.is_file()) {
        let runtime = read_source(&runtime_metadata)?;
        let diags = portcullis_compiler::apply_runtime_metadata(policy, &runtime);
        let failed = diags.iter().any(|d| d.severity == Severity::Error);
        compiled.diagnostics.extend(diags);
        if failed {
            compiled.policy = None;
        }
    }
    for path in resolved.override_files() {
        let over = read_source(&path)?;
        match compiled.policy.as_mut() {
            Some(policy) => {
                let diags = portcullis_compiler::apply_override(policy, &over);
                let failed = diags.iter().any(|d| d.severity == Severity::Error);
                compiled.diagnostics.extend(diags);
                if failed {
                    compiled.policy = None;
                }
            }
            None => break,
        }
    }
    Ok(Loaded { file, compiled })
}

/// The findings of a compile result.
pub fn findings(diagnostics: &[Diagnostic]) -> Vec<Finding> {
    diagnostics.iter().map(Finding::from_diagnostic).collect()
}

/// Prints findings to stderr in the human form.
pub fn eprint_findings(findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    let text = report::render_human(findings, report::stderr_is_terminal());
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Loads an input and returns its checked policy, with the source file and the warnings.
/// Findings are printed to stderr; on failure the exit code to return is given (2).
pub fn policy(path: &Path) -> Result<(SourceFile, Policy, Vec<Diagnostic>), ExitCode> {
    checked(load(path))
}

/// The checked policy of a loaded input (see [`policy`]).
pub fn checked(
    loaded: Result<Loaded, Finding>,
) -> Result<(SourceFile, Policy, Vec<Diagnostic>), ExitCode> {
    checked_or_errors(loaded).map_err(|_| ExitCode::from(EXIT_INVALID))
}

/// [`policy`], giving the errors that made the input unusable on failure (they are
/// printed to stderr as well), for reports that must say why a run stopped.
pub fn policy_or_errors(
    path: &Path,
) -> Result<(SourceFile, Policy, Vec<Diagnostic>), Vec<Finding>> {
    checked_or_errors(load(path))
}

fn checked_or_errors(
    loaded: Result<Loaded, Finding>,
) -> Result<(SourceFile, Policy, Vec<Diagnostic>), Vec<Finding>> {
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(finding) => {
            eprint_findings(std::slice::from_ref(&finding));
            return Err(vec![finding]);
        }
    };
    let all = findings(&loaded.compiled.diagnostics);
    eprint_findings(&all);
    match loaded.compiled.policy {
        Some(policy) => Ok((loaded.file, policy, loaded.compiled.diagnostics)),
        None => Err(all
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect()),
    }
}

/// For a run that stops on `errors` (already on stderr): writes what the format needs on
/// stdout so that a machine reading it learns why (a SARIF log whose invocation failed,
/// or a JSON report of the errors; nothing more for people) and returns exit code 2.
pub fn stop_report(format: ReportFormat, errors: &[Finding]) -> ExitCode {
    let text = match format {
        ReportFormat::Human => return ExitCode::from(EXIT_INVALID),
        ReportFormat::Json => report::render_json(errors),
        ReportFormat::Sarif => {
            let mut log = sarif::Log::default();
            for f in errors {
                log.fail(&f.code, &f.message, f.file.as_deref());
            }
            if errors.is_empty() {
                log.fail(
                    EXIT_INVALID_CODE,
                    "the run stopped: see standard error",
                    None,
                );
            }
            log.render()
        }
    };
    let _ = emit(None, text.as_bytes());
    ExitCode::from(EXIT_INVALID)
}

/// The notification code of a run that stopped without a finding to name.
const EXIT_INVALID_CODE: &str = "portcullis::input::invalid";

/// Writes bytes to a file atomically: a temporary file in the same directory, flushed,
/// then renamed over the target. Errors say which step failed: the target is not a
/// regular file (a device, a directory), the directory is missing or takes no new files,
/// or the rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_through_temp(path, bytes, None)
}

/// Like [`write_atomic`] for a new file of `mode`: the temporary file is created with that
/// mode from the start (`O_EXCL`), so a secret key is never readable by others, not even
/// for a moment.
pub fn write_atomic_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    write_through_temp(path, bytes, Some(mode))
}

fn write_through_temp(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    use std::os::unix::fs::OpenOptionsExt;
    let dir = parent_dir(path);
    let shown = |p: &Path| report::bounded(&p.display().to_string());
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("`{}` is not a regular file", shown(path)),
            ));
        }
    }
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("`{}` is not a directory", shown(&dir)),
            ))
        }
        Err(err) => {
            return Err(Error::new(
                err.kind(),
                format!("the directory `{}` does not exist", shown(&dir)),
            ))
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "output".to_string());
    // The temporary file is always a new one (`O_CREAT | O_EXCL`: never an existing file,
    // never through a symbolic link someone planted at a guessable name), under a name
    // with a random part; it is renamed over the target, which replaces a link there
    // rather than writing through it.
    let mut attempt = 0u32;
    let (temp, mut file) = loop {
        let mut random = [0u8; 6];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
        let tag: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let temp = dir.join(format!(".{name}.{}.{tag}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options
            .write(true)
            .create_new(true)
            .mode(mode.unwrap_or(0o666));
        match options.open(&temp) {
            Ok(file) => break (temp, file),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(err) => {
                return Err(Error::new(
                    err.kind(),
                    format!("cannot create a file in `{}`: {err}", shown(&dir)),
                ))
            }
        }
    };
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        if mode.is_none() {
            // Keep the mode of a file of ours being replaced (not of a link's target, nor
            // of a file someone else planted there: it might be writable by them).
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                use std::os::unix::fs::MetadataExt;
                // The new temporary file's owner is this process's effective uid.
                let ours = std::fs::metadata(&temp).map(|m| m.uid()).ok();
                if meta.file_type().is_file() && Some(meta.uid()) == ours {
                    std::fs::set_permissions(&temp, meta.permissions())?;
                }
            }
        }
        std::fs::rename(&temp, path)
            .map_err(|err| Error::new(err.kind(), format!("cannot replace the file: {err}")))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// `text` safe to print on a terminal: control characters other than newline and tab
/// (escape sequences that retitle, clear or rewrite the screen, as a policy or blob under
/// review could carry in a value) become visible `\u{…}` escapes.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes output to `-o FILE` (atomically) or stdout; exit code 2 when it cannot.
pub fn emit(output: Option<&Path>, bytes: &[u8]) -> ExitCode {
    match output {
        Some(path) if path != Path::new("-") => match write_atomic(path, bytes) {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(err) => {
                eprint_findings(&[write_failure(path, &err)]);
                ExitCode::from(EXIT_INVALID)
            }
        },
        _ => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(_) => ExitCode::from(EXIT_INVALID),
            }
        }
    }
}
