//! Blob files that are not blobs: a FIFO must not hang `portcullis-exec` or the
//! `portcullis` commands that read a blob, a device such as `/dev/zero` must not be read
//! without end, and a file larger than the documented maximum is refused before it is
//! read. Each run is bounded by a deadline, so a regression fails instead of hanging.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use portcullis_blob::file::MAX_BLOB_LEN;

use crate::executor::{workspace_bin, As, Stage};

/// Runs `command`, killing it after 20 seconds; `None` when it had to be killed.
fn within_deadline(mut command: Command) -> Option<Output> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if child.try_wait().expect("wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// The special and oversized files, with what the refusal must say.
fn bad_files(stage: &Stage) -> Vec<(String, &'static str)> {
    let fifo = stage.dir.path().join("fifo.blob");
    mkfifo(&fifo);
    let big = stage.dir.path().join("big.blob");
    let file = std::fs::File::create(&big).expect("big");
    file.set_len(MAX_BLOB_LEN + 1).expect("sparse");
    let path = |p: &Path| p.to_string_lossy().into_owned();
    vec![
        (path(&fifo), "a FIFO, not a regular file"),
        ("/dev/zero".to_string(), "a character device"),
        (path(&big), "larger than a blob can be"),
    ]
}

#[test]
fn the_executor_refuses_fifos_devices_and_oversized_blobs_without_hanging() {
    let Some(stage) = Stage::new() else {
        return;
    };
    for (blob, needle) in bad_files(&stage) {
        let mut command = Command::new(&stage.exec);
        command.args([blob.as_str(), "--", "/bin/true"]);
        let out = within_deadline(command).unwrap_or_else(|| panic!("{blob}: hangs"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{blob}: {stderr}");
        assert!(
            stderr.contains("read blob") && stderr.contains(needle),
            "{blob}: {stderr}"
        );
    }
    // The same refusal for the unprivileged user (the FIFO is readable by everyone).
    let fifo = stage.dir.path().join("fifo.blob");
    std::fs::set_permissions(&fifo, std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .expect("chmod");
    let out = stage.run(As::Nobody, &[fifo.to_str().unwrap(), "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn portcullis_commands_that_read_a_blob_refuse_them_too() {
    let Some(stage) = Stage::new() else {
        return;
    };
    for (blob, needle) in bad_files(&stage) {
        for args in [
            vec!["explain", blob.as_str()],
            vec!["verify", blob.as_str()],
            vec!["run", blob.as_str(), "--", "/bin/true"],
        ] {
            if blob == "/dev/zero" && args[0] != "verify" {
                // Not named `.blob` and not a regular file: read as a policy input,
                // which is bounded too (below).
                continue;
            }
            let mut command = Command::new(workspace_bin("portcullis"));
            command.args(&args);
            let out = within_deadline(command).unwrap_or_else(|| panic!("{args:?}: hangs"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
        }
    }
    // `/dev/zero` as a policy input: read up to the input limit, then refused.
    for sub in ["check", "explain"] {
        let mut command = Command::new(workspace_bin("portcullis"));
        command.args([sub, "/dev/zero"]);
        let out = within_deadline(command).unwrap_or_else(|| panic!("{sub}: hangs"));
        // `check` reports on stdout, the others on stderr.
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{sub}: {shown}");
        assert!(shown.contains("larger than 64 MiB"), "{sub}: {shown}");
    }
}
