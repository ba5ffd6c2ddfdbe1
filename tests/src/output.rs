//! A child process's outcome as one readable block, for assertion messages.

use std::process::Output;

/// `status …`, then its stdout and stderr.
pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
