//! Which blobs this launch accepts: the signature check, right after the blob is decoded
//! and before anything else happens.
//!
//! Trusted keys come from `/etc/portcullis/trusted.d/` (the system's), from the directory
//! `$PORTCULLIS_TRUST_DIR` names (added to the system's, never replacing it), and from
//! every `--trust PATH`. When any of them holds a key, every blob must be signed by a
//! trusted key that is not revoked (the `revoked` file of a directory) or expired, and
//! must not have been altered after signing; otherwise the launch fails with 125 before
//! any effect. When none holds a key, an unsigned blob runs (with a note when a trust
//! directory exists but is empty). A `--trust PATH` that holds no key is a mistake and
//! fails the launch.

use std::path::Path;

use portcullis_blob::sign::{self, Trust};

use crate::failure::Failure;

/// The system's trust directory.
pub const SYSTEM_DIR: &str = "/etc/portcullis/trusted.d";
/// The variable that names one more trust directory (for tests and staging).
pub const DIR_VARIABLE: &str = "PORTCULLIS_TRUST_DIR";

const STEP: &str = "signature";

/// Checks `bytes` (a decoded blob) against the trusted keys.
pub fn check(bytes: &[u8], explicit: &[String]) -> Result<(), Failure> {
    let mut trust = Trust::default();
    let mut directories = Vec::new();
    let from_env = std::env::var(DIR_VARIABLE).ok().filter(|d| !d.is_empty());
    for dir in [Some(SYSTEM_DIR.to_string()), from_env]
        .into_iter()
        .flatten()
    {
        if Path::new(&dir).is_dir() {
            trust
                .add(Path::new(&dir))
                .map_err(|e| Failure::setup(STEP, e))?;
            directories.push(dir);
        }
    }
    for path in explicit {
        let added = trust
            .add(Path::new(path))
            .map_err(|e| Failure::setup(STEP, e))?;
        if added == 0 {
            return Err(Failure::setup(
                STEP,
                format!("`--trust {path}` holds no public key"),
            ));
        }
    }
    if trust.is_empty() {
        if !directories.is_empty() && sign::find(bytes).is_ok_and(|f| f.is_none()) {
            eprintln!(
                "portcullis-exec: note: running an unsigned blob: no trusted key in {}",
                directories.join(", ")
            );
        }
        return Ok(());
    }
    let vouched = trust
        .check(bytes, sign::today())
        .map_err(|e| Failure::setup(STEP, format!("refused: {e}")))?;
    if std::env::var_os(crate::landlock::REPORT_VARIABLE).is_some() {
        eprintln!(
            "portcullis-exec: signed by trusted key {} {}",
            vouched.key.id, vouched.key.comment
        );
    }
    Ok(())
}
