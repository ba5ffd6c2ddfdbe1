//! Signing keys and signatures for blobs: `portcullis keygen -o KEY [--comment TEXT]`,
//! `compile --sign KEY`, and the signature line `explain` and `verify` report.
//!
//! The key formats, the signature section and the trust rules are the blob crate's
//! ([`portcullis_blob::sign`]); the executor applies the same rules at launch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use portcullis_blob::sign::{self, SecretKey, Trust};

use super::input::{self, EXIT_INVALID, EXIT_OK};
use crate::cli::KeygenArgs;

/// The system's trust directory (the executor's too).
pub const SYSTEM_TRUST_DIR: &str = "/etc/portcullis/trusted.d";
/// The variable that adds one more trust directory (the executor reads it too).
pub const TRUST_DIR_VARIABLE: &str = "PORTCULLIS_TRUST_DIR";

/// `keygen`.
pub fn keygen(args: KeygenArgs) -> ExitCode {
    let public_path = PathBuf::from(format!("{}.pub", args.output.display()));
    for path in [&args.output, &public_path] {
        if path.exists() {
            eprintln!(
                "error: `{}` exists; keygen never overwrites a key",
                path.display()
            );
            eprintln!("  help: choose another name, or remove the old key first");
            return ExitCode::from(EXIT_INVALID);
        }
    }
    let key = match SecretKey::generate() {
        Ok(key) => key,
        Err(err) => {
            eprintln!("error: cannot read random bytes for the key: {err}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let public = key.public(args.comment.as_deref().unwrap_or(""));
    let written =
        input::write_atomic_new(&args.output, key.to_text().as_bytes(), 0o600).and_then(|()| {
            input::write_atomic_new(
                &public_path,
                format!("{}\n", public.to_line()).as_bytes(),
                0o644,
            )
        });
    if let Err(err) = written {
        eprintln!("error: cannot write `{}`: {err}", args.output.display());
        let _ = std::fs::remove_file(&args.output);
        return ExitCode::from(EXIT_INVALID);
    }
    println!(
        "key {} written: secret `{}` (mode 0600), public `{}`",
        key.id(),
        args.output.display(),
        public_path.display()
    );
    ExitCode::from(EXIT_OK)
}

/// `bytes` signed with the secret key in `key`, or unchanged without a key
/// (`compile --sign`, `run --sign`).
pub fn maybe_sign(bytes: Vec<u8>, key: Option<&Path>) -> Result<Vec<u8>, ExitCode> {
    match key {
        Some(key) => sign_blob(&bytes, key),
        None => Ok(bytes),
    }
}

/// Signs encoded blob `bytes` with the secret key in `key_path`.
pub fn sign_blob(bytes: &[u8], key_path: &Path) -> Result<Vec<u8>, ExitCode> {
    let text = std::fs::read_to_string(key_path).map_err(|err| {
        eprintln!("error: cannot read the key `{}`: {err}", key_path.display());
        ExitCode::from(EXIT_INVALID)
    })?;
    let key = SecretKey::parse(&text).map_err(|err| {
        eprintln!("error: `{}`: {err}", key_path.display());
        eprintln!(
            "  help: `portcullis keygen -o KEY` writes a key pair; sign with KEY, not KEY.pub"
        );
        ExitCode::from(EXIT_INVALID)
    })?;
    sign::sign(bytes, &key).map_err(|err| {
        eprintln!("error: cannot sign: {err}");
        ExitCode::from(EXIT_INVALID)
    })
}

/// The keys trusted on this machine (the system's trust directory and the one
/// `$PORTCULLIS_TRUST_DIR` names) plus `extra`, and the sources they came from.
pub fn trust_here(extra: &[PathBuf]) -> Result<(Trust, Vec<String>), String> {
    let mut trust = Trust::default();
    let mut sources = Vec::new();
    let from_env = std::env::var(TRUST_DIR_VARIABLE)
        .ok()
        .filter(|d| !d.is_empty());
    for dir in [Some(SYSTEM_TRUST_DIR.to_string()), from_env]
        .into_iter()
        .flatten()
    {
        if Path::new(&dir).is_dir() {
            trust.add(Path::new(&dir)).map_err(|e| e.to_string())?;
            sources.push(dir);
        }
    }
    for path in extra {
        let added = trust.add(path).map_err(|e| e.to_string())?;
        if added == 0 {
            return Err(format!("`{}` holds no public key", path.display()));
        }
        sources.push(path.display().to_string());
    }
    Ok((trust, sources))
}

/// What a blob's signature means here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureStatus {
    /// The signer's key id, when signed.
    pub key_id: Option<String>,
    /// Whether the trusted keys vouch for the blob.
    pub vouched: bool,
    /// One sentence: signed or not, by whom, and whether that is trusted here.
    pub summary: String,
}

/// The signature status of `bytes` (a decodable blob) against the keys trusted here and
/// `extra`.
pub fn status(bytes: &[u8], extra: &[PathBuf]) -> Result<SignatureStatus, String> {
    let found = sign::find(bytes).map_err(|e| e.to_string())?;
    let key_id = found.as_ref().map(|f| f.key_id.to_string());
    let (trust, sources) = trust_here(extra)?;
    let (vouched, summary) = match (&found, trust.is_empty()) {
        (None, true) => (
            false,
            "unsigned; no trusted key is configured here, so launchers run it".to_string(),
        ),
        (None, false) => (
            false,
            format!(
                "unsigned; launchers here refuse it (trusted keys in {})",
                sources.join(", ")
            ),
        ),
        (Some(f), true) => (
            false,
            format!(
                "signed by key {}; no trusted key is configured here to check it against",
                f.key_id
            ),
        ),
        (Some(f), false) => match trust.check(bytes, sign::today()) {
            Ok(v) => (
                true,
                format!(
                    "signed by key {} ({}), trusted here",
                    f.key_id,
                    if v.key.comment.is_empty() {
                        "no comment"
                    } else {
                        &v.key.comment
                    }
                ),
            ),
            Err(e) => (false, format!("not vouched for: {e}")),
        },
    };
    Ok(SignatureStatus {
        key_id,
        vouched,
        summary,
    })
}
