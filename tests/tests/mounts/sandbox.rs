//! The model against real sandboxes: for every stock policy and a hand-built one with
//! grants and deny masks, the plan runs under stock `/usr/bin/bwrap` (arguments from the
//! bwrap backend) and under `portcullis-exec` (the compiled blob). A probe inside stats a
//! list of paths (device and inode, writable or not); each answer must agree with what
//! [`Model::view`] predicts: the very host file where the model says a host path is
//! visible, never the host file where it says tmpfs, generated file or mask, and no write
//! access where it says read-only.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use portcullis_backends::bundle::bundle;
use portcullis_backends::bwrap::{self, Namespaces};
use portcullis_backends::mounts::plan;
use portcullis_blob::expand::{expand_env, expand_plan, Launch, RealFs, Values};
use portcullis_blob::Arch;
use portcullis_ir::beyond::{DenyMask, Level};
use portcullis_ir::context::Share;
use portcullis_ir::{Origin, Policy};
use portcullis_verifier::mounts::{check_expanded, Model, Source};

use super::ir::from_flatpak_args;
use super::snapshots::stock;

const PROBE: &str = r#"for p in "$@"; do
  if [ -e "$p" ]; then
    s=$(stat -L -c %d:%i "$p" 2>/dev/null || echo ?)
    w=0; [ -w "$p" ] && w=1
    echo "$p|$s|$w"
  else
    echo "$p|-|-"
  fi
done"#;

/// The unprivileged user the executor also runs as.
const NOBODY: u32 = 65534;

/// A scratch home, runtime dir and granted tree for one run, owned by the user who runs
/// the sandbox (`owner`: `None` for the caller).
struct Scratch {
    dir: tempfile::TempDir,
    owner: Option<u32>,
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).expect("chown");
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).expect("read_dir").flatten() {
            chown_tree(&entry.path(), uid);
        }
    }
}

impl Scratch {
    fn new() -> Scratch {
        Scratch::owned_by(None)
    }

    fn owned_by(owner: Option<u32>) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("portcullis-mounts-")
            .tempdir()
            .expect("tempdir");
        for sub in [
            "home/.ssh",
            "home/Music",
            "run",
            "granted/ro",
            "granted/rw",
            "secret",
        ] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        std::fs::set_permissions(
            dir.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .expect("chmod");
        for file in [
            "home/.ssh/id",
            "home/Music/a.ogg",
            "granted/ro/f",
            "granted/rw/f",
            "secret/f",
        ] {
            std::fs::write(dir.path().join(file), "x").expect("write");
        }
        if let Some(uid) = owner {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            chown_tree(dir.path(), uid);
        }
        Scratch { dir, owner }
    }

    fn user(&self) -> &'static str {
        if self.owner.is_some() {
            "nobody"
        } else {
            "root"
        }
    }

    fn path(&self, sub: &str) -> String {
        self.dir.path().join(sub).to_string_lossy().into_owned()
    }

    fn env(&self) -> BTreeMap<String, String> {
        [
            ("HOME", self.path("home")),
            ("XDG_RUNTIME_DIR", self.path("run")),
            ("PATH", "/usr/bin:/bin".to_string()),
            ("USER", self.user().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn launch(&self, policy: &Policy) -> Launch {
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let id = |name: &str| -> u32 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .expect("id")
        };
        Launch {
            env: self.env(),
            uid: self.owner.unwrap_or_else(|| id("Uid:")),
            gid: self.owner.unwrap_or_else(|| id("Gid:")),
            user: self.user().into(),
            home: self.path("home"),
            app_id: policy.app_id().to_string(),
            ..Launch::default()
        }
    }
}

/// The hand-built policy: a read-only and a read-write grant, home with deny masks.
fn granted_policy(scratch: &Scratch) -> Policy {
    let args = format!(
        "--filesystem=home:ro --filesystem={}:ro --filesystem={} --filesystem=~/Music",
        scratch.path("granted/ro"),
        scratch.path("granted/rw")
    );
    let mut policy = from_flatpak_args("org.example.Probe", &args);
    policy.beyond.deny.push(DenyMask {
        path: "~/.ssh".into(),
        origin: Origin::default(),
    });
    policy
}

/// Paths worth probing for a plan: every bind destination, a child of each, and the
/// usual suspects.
fn probe_paths(
    model: &Model,
    scratch: &Scratch,
    ops: &[portcullis_blob::mounts::MountOp],
) -> Vec<String> {
    let mut paths: Vec<String> = [
        "/etc/shadow",
        "/etc/passwd",
        "/usr/bin/sh",
        "/bin/sh",
        "/etc/os-release",
        "/root",
        "/run/host/os-release",
        "/tmp",
        "/var/tmp",
        "/sys/class",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for sub in [
        "home",
        "home/.ssh/id",
        "home/Music/a.ogg",
        "granted/ro/f",
        "granted/rw/f",
        "secret/f",
    ] {
        paths.push(scratch.path(sub));
    }
    for (_, dest, _, _) in model.host_binds() {
        paths.push(dest);
    }
    for op in ops {
        if let portcullis_blob::mounts::MountOp::Mask { dest } = op {
            paths.push(dest.0.clone());
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// One probe answer: device:inode (or `-` when absent) and writability.
type Answers = BTreeMap<String, (String, bool)>;

fn parse(stdout: &str) -> Answers {
    stdout
        .lines()
        .filter_map(|l| {
            let mut f = l.rsplitn(3, '|');
            let w = f.next()?;
            let s = f.next()?;
            let p = f.next()?;
            Some((p.to_string(), (s.to_string(), w == "1")))
        })
        .collect()
}

fn host_id(path: &str) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    Some(format!("{}:{}", m.dev(), m.ino()))
}

/// Compares the sandbox's answers with the model; returns the disagreements.
fn compare(model: &Model, answers: &Answers, scratch_root: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (path, (seen, writable)) in answers {
        let view = model.view(path);
        let host_same = host_id(path);
        match &view.source {
            // `/proc/self/...` names the process that looks: the sandbox's own namespace
            // handle at `/run/.userns` is by design not the test's.
            Source::Host(h) if h.starts_with("/proc/self/") => {}
            Source::Host(h) => {
                let Some(expected) = host_id(h) else { continue };
                if seen != &expected {
                    out.push(format!(
                        "{path}: model says host `{h}` ({expected}), sandbox shows {seen}"
                    ));
                }
                if !view.writable && *writable {
                    out.push(format!(
                        "{path}: model says read-only, sandbox lets the app write"
                    ));
                }
                if view.writable && !*writable && h.starts_with(scratch_root) {
                    out.push(format!(
                        "{path}: model says writable, sandbox refuses writes"
                    ));
                }
            }
            other => {
                if host_same.is_some() && host_same.as_ref() == Some(seen) {
                    out.push(format!(
                        "{path}: model says {other:?}, sandbox shows the host's file"
                    ));
                }
                if *other == Source::Masked && *writable {
                    out.push(format!("{path}: masked, yet writable"));
                }
            }
        }
    }
    out
}

fn bwrap_available() -> bool {
    Path::new("/usr/bin/bwrap").is_file()
}

/// Runs the probe under stock bwrap with the bwrap backend's arguments.
fn run_bwrap(policy: &Policy, scratch: &Scratch) -> Result<(Model, Answers, Vec<String>), String> {
    let planned = plan(policy);
    let launch = scratch.launch(policy);
    let values = Values::new(&launch);
    let ops = expand_plan(&planned.ops, &values, &RealFs).map_err(|e| e.to_string())?;
    let env = expand_env(&planned.env, &values, &RealFs).map_err(|e| e.to_string())?;
    let findings = check_expanded(&ops, policy, &values, &RealFs);
    if !findings.is_empty() {
        return Err(format!("verifier: {findings:?}"));
    }
    let ns = Namespaces {
        share_network: policy.context.has_share(Share::Network),
        share_ipc: policy.context.has_share(Share::Ipc),
    };
    let data_dir = scratch.path("data");
    let out = bwrap::args(&ops, &env, ns, &data_dir, &RealFs);
    for (dir, _) in &out.host_dirs {
        std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    }
    for (path, target) in &out.host_symlinks {
        if std::fs::symlink_metadata(path).is_err() {
            std::fs::create_dir_all(Path::new(path).parent().expect("parent"))
                .map_err(|e| e.to_string())?;
            std::os::unix::fs::symlink(target, path).map_err(|e| format!("{path}: {e}"))?;
        }
    }
    for (path, content) in &out.data_files {
        std::fs::create_dir_all(Path::new(path).parent().expect("parent"))
            .map_err(|e| e.to_string())?;
        std::fs::write(path, content).map_err(|e| e.to_string())?;
    }
    let model = Model::apply(&ops);
    let paths = probe_paths(&model, scratch, &ops);
    let output = Command::new("/usr/bin/bwrap")
        .args(&out.args)
        .args(["--", "/bin/sh", "-c", PROBE, "sh"])
        .args(&paths)
        .env_clear()
        .envs(scratch.env())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "bwrap failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok((
        model,
        parse(&String::from_utf8_lossy(&output.stdout)),
        paths,
    ))
}

fn exec_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join("portcullis-exec");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Runs the probe under portcullis-exec with the compiled blob.
fn run_exec(policy: &Policy, scratch: &Scratch) -> Result<(Model, Answers, Vec<String>), String> {
    // Resource limits are not what this test looks at, and a required process limit
    // cannot hold for the host's root (the escape battery covers limits as an ordinary
    // user): here they are best effort.
    let mut policy = policy.clone();
    policy.beyond.requirements.limits = Level::BestEffort;
    let policy = &policy;
    let arch = Arch::host().ok_or("unsupported machine")?;
    let blob = bundle(policy, arch).map_err(|e| e.to_string())?.blob;
    let blob_path = scratch.path("policy.blob");
    std::fs::write(&blob_path, blob.encode()).map_err(|e| e.to_string())?;
    std::fs::set_permissions(&blob_path, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| e.to_string())?;
    let launch = scratch.launch(policy);
    let values = Values::new(&launch);
    let ops = expand_plan(&blob.mounts, &values, &RealFs).map_err(|e| e.to_string())?;
    let model = Model::apply(&ops);
    let paths = probe_paths(&model, scratch, &ops);
    let mut command = match scratch.owner {
        None => Command::new(exec_binary()),
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
                "--",
            ]);
            c.arg(exec_binary());
            c
        }
    };
    let output = command
        .arg(&blob_path)
        .args(["--", "/bin/sh", "-c", PROBE, "sh"])
        .args(&paths)
        .env_clear()
        .envs(scratch.env())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "portcullis-exec failed ({:?}): {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok((
        model,
        parse(&String::from_utf8_lossy(&output.stdout)),
        paths,
    ))
}

fn policies(scratch: &Scratch) -> Vec<(String, Policy)> {
    let mut out = vec![("granted".to_string(), granted_policy(scratch))];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("policies dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "policy") {
                files.push(path);
            }
        }
    }
    files.sort();
    for file in files {
        out.push((file.display().to_string(), stock(&file)));
    }
    out
}

type Runner = fn(&Policy, &Scratch) -> Result<(Model, Answers, Vec<String>), String>;

fn differential(runner: Runner, name: &str, owner: Option<u32>) {
    if let Some(why) = missing_userns() {
        portcullis_tests::skip!("{why}");
        return;
    }
    let mut failures = Vec::new();
    let scratch = Scratch::owned_by(owner);
    for (policy_name, policy) in policies(&scratch) {
        match runner(&policy, &scratch) {
            Ok((model, answers, paths)) => {
                if answers.len() != paths.len() {
                    failures.push(format!(
                        "{policy_name}: {} answers for {} paths",
                        answers.len(),
                        paths.len()
                    ));
                }
                for problem in compare(&model, &answers, &scratch.path("")) {
                    failures.push(format!("{policy_name}: {problem}"));
                }
            }
            Err(e) => failures.push(format!("{policy_name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: the model and the sandbox disagree:\n{}",
        failures.join("\n")
    );
}

fn missing_userns() -> Option<String> {
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    (max.trim().parse::<u64>().unwrap_or(0) == 0)
        .then(|| "user namespaces are disabled".to_string())
}

#[test]
fn bwrap_runs_the_plan_and_the_model_predicts_what_it_shows() {
    assert!(
        bwrap_available(),
        "/usr/bin/bwrap is missing (apt package `bubblewrap`)"
    );
    differential(run_bwrap, "bwrap", None);
}

#[test]
fn portcullis_exec_runs_the_plan_and_the_model_predicts_what_it_shows() {
    differential(run_exec, "portcullis-exec", None);
}

#[test]
fn portcullis_exec_as_an_ordinary_user_shows_what_the_model_predicts() {
    let caller = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let is_root = caller
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if !is_root {
        portcullis_tests::skip!(
            "switching to an ordinary user needs root (the caller-run test covers this user)"
        );
        return;
    }
    differential(run_exec, "portcullis-exec as nobody", Some(NOBODY));
}

#[test]
fn bwrap_enforces_grants_and_masks() {
    assert!(
        bwrap_available(),
        "/usr/bin/bwrap is missing (apt package `bubblewrap`)"
    );
    if missing_userns().is_some() {
        return;
    }
    let scratch = Scratch::new();
    let policy = granted_policy(&scratch);
    let (_, answers, _) = run_bwrap(&policy, &scratch).expect("bwrap runs");
    let at = |sub: &str| answers.get(&scratch.path(sub)).cloned().expect("probed");
    assert_eq!(
        at("granted/ro/f").0,
        host_id(&scratch.path("granted/ro/f")).expect("host file")
    );
    assert!(!at("granted/ro/f").1, "a read-only grant is not writable");
    assert!(at("granted/rw/f").1, "a read-write grant is writable");
    assert_eq!(at("secret/f").0, "-", "an ungranted host file is absent");
    assert_ne!(
        at("home/.ssh/id").0,
        host_id(&scratch.path("home/.ssh/id")).expect("host file")
    );
    assert_eq!(answers["/etc/shadow"].0, "-");
}
