//! `portcullis compile INPUT -o BLOB [--arch ARCH] [--sign KEY]`: every backend's artifact
//! in one blob, signed when asked, written atomically; and `explain BLOB`, the blob's sections in readable form.

use std::path::Path;
use std::process::ExitCode;

use portcullis_backends::bundle::{bundle, Bundle};
use portcullis_blob::{explain, Arch, Blob};

use super::input::{self, EXIT_INVALID};
use crate::cli::{self, CompileArgs};

/// The blob architecture for `--arch` (default: this machine's).
pub fn target(arch: Option<cli::Arch>) -> Result<Arch, String> {
    match arch {
        Some(cli::Arch::X86_64) => Ok(Arch::X86_64),
        Some(cli::Arch::Aarch64) => Ok(Arch::Aarch64),
        None => Arch::host().ok_or_else(|| {
            format!(
                "this machine (`{}`) is not a supported target; pass `--arch`",
                std::env::consts::ARCH
            )
        }),
    }
}

/// Compiles `input` for `arch`, printing findings and the plan's warnings to stderr.
pub fn compile_input(input: &Path, arch: Arch) -> Result<Bundle, ExitCode> {
    let (_, policy, _) = input::policy(input)?;
    compile_policy(&policy, &input.display().to_string(), arch)
}

/// Compiles a checked policy for `arch` (`name` for messages), printing the plan's
/// warnings to stderr.
pub fn compile_policy(
    policy: &portcullis_ir::Policy,
    name: &str,
    arch: Arch,
) -> Result<Bundle, ExitCode> {
    let bundled = bundle(policy, arch).map_err(|e| {
        eprintln!(
            "error: cannot compile `{}`: {}",
            crate::report::bounded(name),
            crate::report::bound_quotes(&e.to_string())
        );
        ExitCode::from(EXIT_INVALID)
    })?;
    // Messages quote the policy's values: bounded, like every finding's.
    for warning in &bundled.warnings {
        eprintln!(
            "warning[{}]: {}",
            warning.code,
            crate::report::bound_quotes(&warning.message)
        );
    }
    Ok(bundled)
}

/// `compile`.
pub fn run(args: CompileArgs) -> ExitCode {
    let arch = match target(args.arch) {
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
    match super::keys::maybe_sign(bundled.blob.encode(), args.sign.as_deref()) {
        Ok(bytes) => input::emit(Some(&args.output), &bytes),
        Err(code) => code,
    }
}

/// `explain BLOB` (the branch `explain` takes when [`is_blob`] holds).
pub fn explain_blob(path: &Path, json: bool) -> ExitCode {
    match input::read_blob_bytes(path) {
        Ok(bytes) => explain_bytes(&bytes, &input::display_name(path), json),
        Err(finding) => {
            input::eprint_findings(&[finding]);
            ExitCode::from(EXIT_INVALID)
        }
    }
}

/// Every section of a blob, or a JSON object with the same content.
pub fn explain_bytes(bytes: &[u8], name: &str, json: bool) -> ExitCode {
    let blob = match Blob::decode(bytes) {
        Ok(blob) => blob,
        Err(err) => {
            eprintln!("error: `{name}`: {err}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let signature = match super::keys::status(bytes, &[]) {
        Ok(status) => status,
        Err(err) => {
            eprintln!("error: `{name}`: {err}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let text = if json {
        let value = serde_json::json!({
            "signature": {
                "key_id": signature.key_id,
                "trusted_here": signature.vouched,
                "summary": signature.summary,
            },
            "format": {"major": portcullis_blob::blob::MAJOR, "minor": portcullis_blob::blob::MINOR},
            "arch": blob.arch,
            "compiler_version": blob.compiler_version,
            "app_id": blob.app_id,
            "policy_id": blob.policy_id(),
            "namespaces": blob.namespaces,
            "mounts": blob.mounts,
            "seccomp": blob.seccomp,
            "env": blob.env,
            "landlock": blob.landlock,
            "limits": blob.limits,
            "dbus": blob.dbus,
        });
        // INVARIANT: plain data with string keys; serialising cannot fail.
        serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
    } else {
        input::printable(&format!(
            "signature: {}\n{}",
            signature.summary,
            explain::explain(&blob)
        ))
    };
    input::emit(None, text.as_bytes())
}

/// Whether `path` must be read as a blob: it is named `*.blob`, or it starts like one
/// (its magic, or a non-empty beginning of the magic in a file too short to hold it). Such
/// an input goes through the blob decoder, which refuses it when it is malformed — an
/// empty or truncated blob is never read as an empty policy.
pub fn is_blob(path: &Path) -> bool {
    use std::io::Read;
    let named_blob = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("blob"));
    if named_blob {
        return true;
    }
    // Only a regular file is peeked at (opened without blocking, so a FIFO cannot hang
    // here, and never a device or a pipe whose bytes the peek would consume).
    use std::os::unix::fs::OpenOptionsExt;
    let mut head = Vec::with_capacity(8);
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .and_then(|f| {
            if f.metadata()?.is_file() {
                f.take(8).read_to_end(&mut head)
            } else {
                Ok(0)
            }
        })
        .is_ok_and(|_| starts_like_blob(&head))
}

/// Whether `head` (at most the first 8 bytes of a file) is a blob's beginning.
fn starts_like_blob(head: &[u8]) -> bool {
    let magic = &portcullis_blob::blob::MAGIC;
    if head.len() >= magic.len() {
        portcullis_blob::looks_like_blob(head)
    } else {
        !head.is_empty() && magic.starts_with(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_target_is_this_machine() {
        assert_eq!(target(None).ok(), Arch::host());
        assert_eq!(target(Some(cli::Arch::Aarch64)), Ok(Arch::Aarch64));
    }

    #[test]
    fn blob_inputs_are_recognised_by_name_and_beginning() {
        let dir = std::env::temp_dir().join(format!("portcullis-is-blob-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        assert!(is_blob(&write("empty.blob", b"")));
        assert!(is_blob(&write("garbage.BLOB", b"app x {}")));
        assert!(is_blob(&write("short", b"PCUL")));
        assert!(is_blob(&write("whole", b"PCULBLOB\x01\x00")));
        assert!(!is_blob(&write("empty.policy", b"")));
        assert!(!is_blob(&write("app.policy", b"app com.foo.Bar {}\n")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn explain_refuses_a_broken_blob() {
        assert_eq!(
            explain_bytes(b"PCULBLOB\x01", "x", false),
            ExitCode::from(EXIT_INVALID)
        );
    }
}
