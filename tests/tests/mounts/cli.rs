//! `portcullis emit --backend mounts|bwrap` through the real binary: output forms and
//! exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn portcullis() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join("portcullis");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        path.display()
    );
    path
}

fn stock(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .join(name)
}

#[test]
fn mounts_emits_the_plan_as_json_and_as_a_table() {
    let out = Command::new(portcullis())
        .args(["emit", "--backend", "mounts"])
        .arg(stock("flatpak-default.policy"))
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ops = json["ops"].as_array().expect("ops");
    assert!(ops
        .iter()
        .any(|op| op["op"] == "bind" && op["dest"] == "/usr"));
    assert!(json["env"].as_array().is_some_and(|e| !e.is_empty()));
    let out = Command::new(portcullis())
        .args(["emit", "--backend", "mounts", "--text"])
        .arg(stock("flatpak-default.policy"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# mount plan\n"), "{text}");
    assert!(text.contains("# environment"));
}

/// Every entry under `root`: path, type, mode, owner and size (symlinks not followed).
fn tree(root: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(path) = todo.pop() {
        let meta = std::fs::symlink_metadata(&path).expect("lstat");
        out.push(format!(
            "{} {:o} {} {}",
            path.display(),
            meta.mode(),
            meta.uid(),
            meta.len()
        ));
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read_dir") {
                todo.push(entry.expect("entry").path());
            }
        }
    }
    out.sort();
    out
}

/// A caller with its own HOME and XDG_RUNTIME_DIR under a fresh temporary directory.
struct Caller {
    root: tempfile::TempDir,
}

impl Caller {
    fn new() -> Caller {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(root.path().join("home")).expect("home");
        std::fs::create_dir(root.path().join("run")).expect("run");
        std::fs::set_permissions(
            root.path().join("run"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("chmod");
        Caller { root }
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("HOME", self.root.path().join("home"))
            .env("XDG_RUNTIME_DIR", self.root.path().join("run"))
            .env("PATH", "/usr/bin:/bin");
        command
    }

    /// `emit --backend bwrap` of the default policy: the wrapper's text.
    fn wrapper(&self) -> PathBuf {
        let out = self
            .command(&portcullis())
            .args(["emit", "--backend", "bwrap"])
            .arg(stock("flatpak-default.policy"))
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = self.root.path().join("wrapper.sh");
        std::fs::write(&path, &out.stdout).expect("write wrapper");
        path
    }

    fn private_parent(&self) -> PathBuf {
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next())
            .expect("uid")
            .to_string();
        self.root.path().join(format!("run/portcullis-bwrap-{uid}"))
    }
}

#[test]
fn bwrap_emit_writes_nothing_and_its_wrapper_runs_the_plan_with_the_filter() {
    let caller = Caller::new();
    let (home, run) = (
        caller.root.path().join("home"),
        caller.root.path().join("run"),
    );
    let before = (tree(&home), tree(&run));
    let wrapper = caller.wrapper();
    let wrapper_text = std::fs::read_to_string(&wrapper).expect("utf-8");
    assert_eq!(
        (tree(&home), tree(&run)),
        before,
        "emitting touched HOME or XDG_RUNTIME_DIR"
    );
    let home_text = home.display().to_string();
    assert!(wrapper_text.starts_with("#!/bin/sh\n"));
    assert!(wrapper_text.contains("'--ro-bind' \\\n    '/usr' \\\n    '/usr'"));
    assert!(wrapper_text.contains(&home_text), "placeholders expanded");
    assert!(wrapper_text.contains("--seccomp 3 -- \"$@\""));
    assert!(wrapper_text.contains("Left out"), "{wrapper_text}");
    assert!(
        Path::new("/usr/bin/bwrap").is_file(),
        "/usr/bin/bwrap is missing (apt package `bubblewrap`)"
    );
    let out = caller
        .command(Path::new("/bin/sh"))
        .arg(&wrapper)
        .args([
            "/bin/sh",
            "-c",
            "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status",
        ])
        .output()
        .expect("run the wrapper");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains("Seccomp:\t2"),
        "the filter is installed: {stdout}"
    );
    assert!(stdout.contains("NoNewPrivs:\t1"), "{stdout}");
    // The run made the plan's host directories, and its private directory is gone again.
    assert!(home.join(".var/app/org.flatpak.Default/data").is_dir());
    let parent = caller.private_parent();
    let meta = std::fs::symlink_metadata(&parent).expect("the private parent");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777,
        0o700
    );
    assert_eq!(
        std::fs::read_dir(&parent).expect("list").count(),
        0,
        "the per-run directory is removed"
    );
}

#[test]
fn the_bwrap_wrapper_refuses_a_private_directory_that_is_not_the_callers_alone() {
    use std::os::unix::fs::PermissionsExt;
    let caller = Caller::new();
    let wrapper = caller.wrapper();
    let parent = caller.private_parent();
    let run = |label: &str| {
        let out = caller
            .command(Path::new("/bin/sh"))
            .arg(&wrapper)
            .args(["/bin/echo", "sandboxed"])
            .output()
            .expect("run the wrapper");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{label}: {out:?}");
        assert!(stderr.contains("refusing"), "{label}: {stderr}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("sandboxed"),
            "{label}: bwrap ran"
        );
    };
    // World-writable: anyone could swap the files bwrap reads.
    std::fs::create_dir(&parent).expect("mkdir");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    run("mode 0777");
    assert_eq!(std::fs::read_dir(&parent).expect("list").count(), 0);
    // A symlink to a directory of the right mode.
    std::fs::remove_dir(&parent).expect("rmdir");
    let elsewhere = caller.root.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::symlink(&elsewhere, &parent).expect("symlink");
    run("a symlink");
    assert_eq!(std::fs::read_dir(&elsewhere).expect("list").count(), 0);
    // Another user's directory with mode 0700 (needs root to make one).
    std::fs::remove_file(&parent).expect("rm symlink");
    std::fs::create_dir(&parent).expect("mkdir");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    if std::os::unix::fs::chown(&parent, Some(65534), Some(65534)).is_ok() {
        run("owned by nobody");
    }
}

#[test]
fn invalid_input_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.policy");
    std::fs::write(&bad, "app {").expect("write");
    for backend in ["mounts", "bwrap"] {
        let out = Command::new(portcullis())
            .args(["emit", "--backend", backend])
            .arg(&bad)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{backend}");
    }
}
