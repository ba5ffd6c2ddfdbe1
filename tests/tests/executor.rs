//! End-to-end tests of `portcullis-exec` on the real kernel, as root and as an ordinary
//! user (`setpriv` to uid 65534): exit statuses, refusal of bad blobs before anything is
//! applied, pid 1, the environment, deny masks, and symlink-safe destinations and sources
//! (the CVE-2024-42472 class). Also the shared harness the escape battery uses.
//!
//! The binaries come from the target directory this test binary was built into
//! (`cargo build --workspace --bins` builds them; `scripts/test.sh` does).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use portcullis_backends::bundle::bundle;
use portcullis_blob::mounts::{BindFlags, MountOp, PathExpr};
use portcullis_blob::{Arch, Blob};
use portcullis_ir::Policy;

/// The unprivileged user the tests switch to.
pub const NOBODY: u32 = 65534;

/// Who runs the executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum As {
    /// The test's own user (root in CI).
    Caller,
    /// uid and gid 65534, no supplementary groups.
    Nobody,
}

/// A binary of the workspace, next to this test binary's `deps/` directory.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Why the end-to-end tests cannot run here, if they cannot.
pub fn missing_kernel_feature() -> Option<String> {
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    if max.trim().parse::<u64>().unwrap_or(0) == 0 {
        return Some("user namespaces are disabled (user.max_user_namespaces = 0)".into());
    }
    if std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone")
        .is_ok_and(|v| v.trim() == "0")
    {
        return Some("unprivileged user namespaces are disabled".into());
    }
    None
}

/// A staging directory every user can read: the executor, the probe, blobs, and a home
/// and runtime directory for each user.
pub struct Stage {
    /// The directory (removed on drop).
    pub dir: tempfile::TempDir,
    /// The staged `portcullis-exec`.
    pub exec: PathBuf,
    /// The staged `portcullis-probe`.
    pub probe: PathBuf,
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

impl Stage {
    /// Stages the binaries; `None` (with the reason printed) when the kernel lacks a
    /// feature the sandbox needs.
    pub fn new() -> Option<Stage> {
        if let Some(why) = missing_kernel_feature() {
            portcullis_tests::skip!("{why}");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("portcullis-e2e-")
            .tempdir()
            .expect("tempdir");
        chmod(dir.path(), 0o755);
        let exec = dir.path().join("portcullis-exec");
        let probe = dir.path().join("portcullis-probe");
        portcullis_tests::stage::copy_executable(&workspace_bin("portcullis-exec"), &exec);
        portcullis_tests::stage::copy_executable(&workspace_bin("portcullis-probe"), &probe);
        chmod(&exec, 0o755);
        chmod(&probe, 0o755);
        for who in ["caller", "nobody"] {
            for sub in ["home", "run"] {
                let path = dir.path().join(who).join(sub);
                std::fs::create_dir_all(&path).expect("mkdir");
                chmod(&path, 0o700);
                if who == "nobody" {
                    std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).expect("chown");
                }
            }
            chmod(&dir.path().join(who), 0o755);
        }
        Some(Stage { dir, exec, probe })
    }

    /// The home directory `who` runs with.
    pub fn home(&self, who: As) -> PathBuf {
        self.dir.path().join(self.user_dir(who)).join("home")
    }

    fn user_dir(&self, who: As) -> &'static str {
        match who {
            As::Caller => "caller",
            As::Nobody => "nobody",
        }
    }

    /// Writes `blob` as `name` in the stage, readable by everyone.
    pub fn write_blob(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write blob");
        chmod(&path, 0o644);
        path
    }

    /// Runs the executor as `who` with `args` (options, blob, `--`, command).
    pub fn run(&self, who: As, args: &[&str]) -> Output {
        self.run_with_env(who, &[], args)
    }

    /// Like [`Stage::run`], with `extra` variables in the caller's environment.
    pub fn run_with_env(&self, who: As, extra: &[(&str, &str)], args: &[&str]) -> Output {
        let mut command = match who {
            As::Caller => Command::new(&self.exec),
            As::Nobody => {
                let mut c = Command::new("setpriv");
                c.args([
                    &format!("--reuid={NOBODY}"),
                    &format!("--regid={NOBODY}"),
                    "--clear-groups",
                    "--",
                ]);
                c.arg(&self.exec);
                c
            }
        };
        let user = match who {
            As::Caller => "root",
            As::Nobody => "nobody",
        };
        command
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.home(who))
            .env("USER", user)
            .env(
                "XDG_RUNTIME_DIR",
                self.dir.path().join(self.user_dir(who)).join("run"),
            )
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("spawn portcullis-exec")
    }
}

/// A policy for app `id` with Flatpak's defaults (what an app that asks for nothing gets).
pub fn default_policy(id: &str) -> Policy {
    let mut policy = Policy::default();
    policy.identity.id = Some(id.to_string());
    policy
}

/// The blob of `policy` for this machine, with `extra` operations appended to its plan
/// (and the Landlock rules that mirror the plan recomputed to cover them).
pub fn blob_with(policy: &Policy, extra: Vec<MountOp>) -> Blob {
    let mut blob = bundle(policy, Arch::host().expect("supported machine"))
        .expect("bundle")
        .blob;
    blob.mounts.extend(extra);
    blob.landlock = portcullis_backends::landlock::section(policy, &blob.mounts);
    blob
}

/// A read-only bind of a host path.
pub fn ro_bind(source: &Path, dest: &str) -> MountOp {
    MountOp::Bind {
        source: PathExpr::new(source.to_string_lossy()),
        dest: PathExpr::new(dest),
        flags: BindFlags {
            readonly: true,
            devices: false,
            optional: false,
        },
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stage_and_default_blob() -> Option<(Stage, PathBuf)> {
    let stage = Stage::new()?;
    let blob = blob_with(&default_policy("org.test.Exec"), vec![]);
    let path = stage.write_blob("default.blob", &blob.encode());
    Some((stage, path))
}

#[test]
fn forwards_the_status_and_runs_the_app_as_pid_2() {
    let Some((stage, blob)) = stage_and_default_blob() else {
        return;
    };
    let blob = blob.to_str().expect("utf-8 path");
    for who in [As::Caller, As::Nobody] {
        let out = stage.run(who, &[blob, "--", "/bin/sh", "-c", "echo $$; exit 7"]);
        assert_eq!(out.status.code(), Some(7), "{who:?}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout).trim(),
            "2",
            "{who:?}: the app is pid 2, under a reaper"
        );
        // An orphaned background child is reaped; the status is still the app's.
        let out = stage.run(who, &[blob, "--", "/bin/sh", "-c", "(sleep 0.2 &); exit 3"]);
        assert_eq!(out.status.code(), Some(3), "{who:?}: {}", text(&out.stderr));
    }
}

#[test]
fn not_found_is_127_and_not_executable_is_126() {
    let Some((stage, blob)) = stage_and_default_blob() else {
        return;
    };
    let blob = blob.to_str().expect("utf-8 path");
    for who in [As::Caller, As::Nobody] {
        let out = stage.run(who, &[blob, "--", "/no/such/command"]);
        assert_eq!(
            out.status.code(),
            Some(127),
            "{who:?}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("not found"));
        let out = stage.run(who, &[blob, "--", "/etc/passwd"]);
        assert_eq!(
            out.status.code(),
            Some(126),
            "{who:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn refuses_bad_blobs_before_applying_anything() {
    let Some((stage, blob)) = stage_and_default_blob() else {
        return;
    };
    let good = std::fs::read(&blob).expect("blob");
    let mut corrupted = good.clone();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 1;
    let mut newer = good.clone();
    newer[8] = 9;
    let mut foreign = blob_with(&default_policy("org.test.Exec"), vec![]);
    foreign.arch = if Arch::host() == Some(Arch::X86_64) {
        Arch::Aarch64
    } else {
        Arch::X86_64
    };
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("corrupted", corrupted, "checksum"),
        ("truncated", good[..good.len() / 2].to_vec(), "truncated"),
        ("newer", newer, "newer"),
        ("foreign", foreign.encode(), "compiled for"),
        ("policy-text", b"app x {}".to_vec(), "bad magic"),
    ];
    for (name, bytes, needle) in cases {
        let path = stage.write_blob(&format!("{name}.blob"), &bytes);
        // The command would leave a trace on the host if it ever ran.
        let trace = stage.dir.path().join(format!("{name}.ran"));
        let script = format!("touch {}", trace.display());
        let out = stage.run(
            As::Caller,
            &[path.to_str().unwrap(), "--", "/bin/sh", "-c", &script],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{name}: {stderr}");
        assert!(
            stderr.contains("read blob") && stderr.contains(needle),
            "{name}: {stderr}"
        );
        assert!(!trace.exists(), "{name}: the command ran");
    }
    let out = stage.run(As::Caller, &["/no/such.blob", "--", "true"]);
    assert_eq!(out.status.code(), Some(125));
    let out = stage.run(As::Caller, &[blob.to_str().unwrap(), "true"]);
    assert_eq!(out.status.code(), Some(125), "a command needs `--`");
    assert!(text(&out.stderr).contains("usage"));
}

#[test]
fn environment_and_identity_follow_the_plan() {
    let Some((stage, blob)) = stage_and_default_blob() else {
        return;
    };
    let blob = blob.to_str().expect("utf-8 path");
    for who in [As::Caller, As::Nobody] {
        let out = stage.run(
            who,
            &[
                blob,
                "--",
                "/bin/sh",
                "-c",
                "echo $FLATPAK_ID; id -u; id -G",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{who:?}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        let uid = if who == As::Nobody {
            NOBODY
        } else {
            portcullis_uid()
        };
        assert_eq!(lines[0], "org.test.Exec");
        assert_eq!(lines[1], uid.to_string(), "the uid maps to itself");
        assert_eq!(
            lines[2].split_whitespace().count(),
            1,
            "no supplementary groups"
        );
    }
}

fn portcullis_uid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(0)
}

#[test]
fn deny_masks_hide_files_and_directories() {
    let Some(stage) = Stage::new() else {
        return;
    };
    let tree = stage.dir.path().join("granted");
    std::fs::create_dir_all(tree.join("secret-dir")).unwrap();
    std::fs::write(tree.join("secret-dir/key"), "k").unwrap();
    std::fs::write(tree.join("secret-file"), "s").unwrap();
    std::fs::write(tree.join("open"), "o\n").unwrap();
    for p in [&tree, &tree.join("secret-dir")] {
        chmod(p, 0o755);
    }
    let blob = blob_with(
        &default_policy("org.test.Mask"),
        vec![
            ro_bind(&tree, "/granted"),
            MountOp::Mask {
                dest: PathExpr::new("/granted/secret-dir"),
            },
            MountOp::Mask {
                dest: PathExpr::new("/granted/secret-file"),
            },
            MountOp::Mask {
                dest: PathExpr::new("/granted/absent"),
            },
        ],
    );
    let path = stage.write_blob("mask.blob", &blob.encode());
    // A masked file is empty under its mount and has no Landlock rule: reading it is
    // refused (or empty), never its content.
    let script = "cat /granted/open; ls -A /granted/secret-dir | wc -l; \
                  cat /granted/secret-file 2>/dev/null | wc -c";
    let out = stage.run(
        As::Caller,
        &[path.to_str().unwrap(), "--", "/bin/sh", "-c", script],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .collect();
    assert_eq!(lines, ["o", "0", "0"]);
}

#[test]
fn app_controlled_symlinks_never_redirect_destinations_or_sources() {
    let Some(stage) = Stage::new() else {
        return;
    };
    let app_id = "org.test.Links";
    let home = stage.home(As::Caller);
    let data = home.join(".var/app").join(app_id);
    std::fs::create_dir_all(&data).unwrap();
    let target = stage.dir.path().join("host-target");
    std::fs::create_dir_all(&target).unwrap();
    // What an app could have planted in its own writable data on an earlier run.
    std::os::unix::fs::symlink(&target, data.join("link")).unwrap();
    std::os::unix::fs::symlink("/etc", data.join("persist")).unwrap();

    // A destination through the planted link: refused, nothing created on the host.
    let blob = blob_with(
        &default_policy(app_id),
        vec![MountOp::Dir {
            dest: PathExpr::new("${HOME}/.var/app/${APP_ID}/link/created"),
            mode: 0o755,
        }],
    );
    let path = stage.write_blob("dest-link.blob", &blob.encode());
    let out = stage.run(As::Caller, &[path.to_str().unwrap(), "--", "true"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(
        !target.join("created").exists(),
        "a directory was created through the link"
    );

    // A persist-style source through a planted link: refused too.
    let blob = blob_with(
        &default_policy(app_id),
        vec![MountOp::Bind {
            source: PathExpr::new("${HOME}/.var/app/${APP_ID}/persist"),
            dest: PathExpr::new("/persist"),
            flags: BindFlags::default(),
        }],
    );
    let path = stage.write_blob("source-link.blob", &blob.encode());
    let out = stage.run(
        As::Caller,
        &[path.to_str().unwrap(), "--", "ls", "/persist"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
}

/// Runs the `portcullis` binary with `args` in `dir`, as the caller.
fn portcullis(stage: &Stage, args: &[&str]) -> Output {
    Command::new(workspace_bin("portcullis"))
        .args(args)
        .current_dir(stage.dir.path())
        .env("HOME", stage.home(As::Caller))
        .env("XDG_RUNTIME_DIR", stage.dir.path().join("caller/run"))
        .stdin(Stdio::null())
        .output()
        .expect("spawn portcullis")
}

#[test]
fn cli_compiles_explains_and_runs_policies_and_blobs() {
    let Some(stage) = Stage::new() else {
        return;
    };
    let policy = stage.dir.path().join("app.policy");
    std::fs::write(&policy, "app org.test.Cli {\n    share network\n}\n").unwrap();
    let policy = policy.to_str().unwrap();

    let out = portcullis(&stage, &["compile", policy, "-o", "app.blob"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bytes = std::fs::read(stage.dir.path().join("app.blob")).unwrap();
    let blob = Blob::decode(&bytes).expect("compile writes a valid blob");
    assert_eq!(blob.app_id, "org.test.Cli");
    assert!(!blob.namespaces.net, "share=network keeps the host network");
    let again = portcullis(&stage, &["compile", policy, "-o", "again.blob"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        std::fs::read(stage.dir.path().join("again.blob")).unwrap(),
        bytes
    );

    let out = portcullis(&stage, &["explain", "app.blob"]);
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for needle in [
        "app id: org.test.Cli",
        "namespaces: user, mount, pid, uts, ipc",
        "mount plan:",
        "seccomp:",
    ] {
        assert!(shown.contains(needle), "missing `{needle}`:\n{shown}");
    }

    // `run` from the policy (compiled on the fly) and from the blob.
    for input in [policy, "app.blob"] {
        let out = portcullis(
            &stage,
            &[
                "run",
                input,
                "--",
                "/bin/sh",
                "-c",
                "echo $FLATPAK_ID; exit 5",
            ],
        );
        assert_eq!(out.status.code(), Some(5), "{input}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), "org.test.Cli");
    }
    let out = portcullis(&stage, &["run", "app.blob", "--", "/no/such/thing"]);
    assert_eq!(out.status.code(), Some(127));

    // A blob for another machine, or a damaged one, is refused before launching.
    let other = if Arch::host() == Some(Arch::X86_64) {
        "aarch64"
    } else {
        "x86_64"
    };
    let out = portcullis(
        &stage,
        &["compile", policy, "-o", "other.blob", "--arch", other],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = portcullis(&stage, &["run", "other.blob", "--", "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("compiled for"));
    let mut damaged = bytes.clone();
    damaged[100] ^= 0xff;
    std::fs::write(stage.dir.path().join("damaged.blob"), damaged).unwrap();
    for command in [
        &["run", "damaged.blob", "--", "true"][..],
        &["explain", "damaged.blob"],
    ] {
        let out = portcullis(&stage, command);
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        assert!(
            text(&out.stderr).contains("checksum"),
            "{command:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn help_and_version_exit_0_and_usage_errors_125() {
    let exec = workspace_bin("portcullis-exec");
    for flag in ["--help", "-h"] {
        let out = Command::new(&exec).arg(flag).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("usage: portcullis-exec"));
        assert!(text(&out.stdout).contains("--runtime DIR"));
    }
    let out = Command::new(&exec).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("portcullis-exec "));
    let out = Command::new(&exec).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("unknown option `--bogus`"));
    assert!(text(&out.stderr).contains("usage: portcullis-exec"));
}
