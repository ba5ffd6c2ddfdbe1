//! Copying an executable that a test will run.
//!
//! `std::fs::copy` writes the copy through a descriptor of the test process. Another test
//! thread that forks meanwhile gives its child a duplicate of that descriptor, open until
//! the child execs; running the copy in that window fails with `ETXTBSY` ("Text file
//! busy"). The copy is therefore made by a `cp` child process, whose descriptors no thread
//! of the test process can inherit.

use std::path::Path;
use std::process::Command;

/// Copies the executable `from` to `to` (mode 0755) without ever holding a writable
/// descriptor to it in this process.
pub fn copy_executable(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("--")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp runs");
    assert!(status.success(), "cp {} {}", from.display(), to.display());
    std::fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
}
