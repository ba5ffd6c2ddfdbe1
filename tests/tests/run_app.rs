//! Installed apps end to end: `portcullis run APP_ID` and every command that takes an
//! input, on synthetic installations (ambiguity, missing app or runtime, corrupt deploy,
//! overrides and their origins, the default command) and against the real Flatpak 1.14
//! installation of the oracle (`scripts/setup-flatpak-oracle.sh`: user `fporacle` with
//! org.test.App and org.test.Browser): same mount points with ro/rw, environment and exit
//! status as `flatpak run`, except the documented differences; an override file changes
//! what both grant. Also a launch without a login session (no `XDG_RUNTIME_DIR`, no
//! `/run/user/UID`).
//!
//! The tests that need the real installation, or root to switch users, fail under CI
//! (`CI` set) when it is missing, and skip with the reason otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const USER: &str = "fporacle";

/// `target/<profile>/NAME`, next to this test's own `deps/` directory.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join(name);
    assert!(
        path.is_file(),
        "{name} is not built: run `cargo build --workspace --bins`"
    );
    path
}

/// `portcullis` and `portcullis-exec` copied (by a `cp` child process) into a fresh
/// world-readable directory, with `policies/flatpak-default.policy`, so that another user
/// can run them wherever the checkout lives (a CI clone under `/root` included).
fn shared_binaries() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/flatpak-default.policy");
    let copied = Command::new("cp")
        .arg(binary("portcullis"))
        .arg(binary("portcullis-exec"))
        .arg(policy)
        .arg(dir.path())
        .status()
        .expect("cp");
    assert!(copied.success());
    let modes = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(dir.path())
        .status()
        .expect("chmod");
    assert!(modes.success());
    let portcullis = dir.path().join("portcullis");
    (dir, portcullis)
}

/// Skips outside CI with the reason, fails under CI.
fn unavailable(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{reason} (CI must have it: scripts/test.sh sets it up)");
    }
    eprintln!("skipped: {reason}");
}

fn is_root() -> bool {
    // The real uid of this process, from procfs.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ------------------------------------------------------------------ synthetic installations

/// A scratch set of installations: FLATPAK_USER_DIR, FLATPAK_SYSTEM_DIR and
/// FLATPAK_CONFIG_DIR all under one temporary directory.
struct Installs {
    dir: tempfile::TempDir,
}

impl Installs {
    fn new() -> Installs {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["user", "system", "etc/installations.d", "extra"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Installs { dir }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// Deploys an app (metadata with `extra`, `files/bin/COMMAND` exiting 5).
    fn app(&self, inst: &str, id: &str, branch: &str, extra: &str) {
        let commit = self
            .path(inst)
            .join(format!("app/{id}/{}/{branch}/c0ffee", arch()));
        std::fs::create_dir_all(commit.join("files/bin")).unwrap();
        let metadata = format!(
            "[Application]\nname={id}\nruntime=org.syn.Platform/{}/1\ncommand=syn-command\n{extra}",
            arch()
        );
        std::fs::write(commit.join("metadata"), metadata).unwrap();
        let cmd = commit.join("files/bin/syn-command");
        std::fs::write(&cmd, "#!/bin/sh\nexit 5\n").unwrap();
        std::process::Command::new("chmod")
            .args(["0755"])
            .arg(&cmd)
            .status()
            .unwrap();
        symlink("c0ffee", commit.with_file_name("active")).unwrap();
    }

    /// Deploys the runtime org.syn.Platform//1 whose `files` is the host's `/usr`.
    fn runtime(&self, inst: &str) {
        self.runtime_with(inst, "");
    }

    /// The same, with more metadata after its `[Runtime]` group.
    fn runtime_with(&self, inst: &str, extra: &str) {
        let commit = self
            .path(inst)
            .join(format!("runtime/org.syn.Platform/{}/1/beef", arch()));
        std::fs::create_dir_all(&commit).unwrap();
        std::fs::write(
            commit.join("metadata"),
            format!("[Runtime]\nname=org.syn.Platform\n{extra}"),
        )
        .unwrap();
        symlink("/usr", commit.join("files")).unwrap();
        symlink("beef", commit.with_file_name("active")).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary("portcullis"));
        // A home of the test's own: a launch creates the app's `~/.var/app/ID`.
        let home = self.path("home");
        std::fs::create_dir_all(&home).unwrap();
        cmd.args(args)
            .env("HOME", &home)
            .env("FLATPAK_USER_DIR", self.path("user"))
            .env("FLATPAK_SYSTEM_DIR", self.path("system"))
            .env("FLATPAK_CONFIG_DIR", self.path("etc"));
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("portcullis runs")
    }
}

fn arch() -> &'static str {
    std::env::consts::ARCH
}

#[test]
fn a_missing_app_is_exit_2_naming_where_it_looked() {
    let installs = Installs::new();
    let out = installs.run(&["run", "org.syn.Missing", "--", "true"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("org.syn.Missing") && err.contains("not installed"));
    assert!(err.contains(&installs.path("user").display().to_string()));
    assert!(err.contains(&installs.path("system").display().to_string()));
    // Every command reads the same way.
    for cmd in ["check", "audit", "explain", "import"] {
        let out = installs.run(&[cmd, "org.syn.Missing"]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
    }
}

#[test]
fn several_branches_or_installations_are_an_error_listing_them() {
    let installs = Installs::new();
    installs.runtime("system");
    installs.app("user", "org.syn.App", "stable", "");
    installs.app("user", "org.syn.App", "beta", "");
    let out = installs.run(&["run", "org.syn.App", "--", "true"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("ambiguous"), "{err}");
    assert!(
        err.contains(&format!("org.syn.App/{}/stable", arch())),
        "{err}"
    );
    assert!(
        err.contains(&format!("org.syn.App/{}/beta", arch())),
        "{err}"
    );
    // A branch decides; so does a `current` link, as in Flatpak.
    let out = installs.run(&["run", "org.syn.App//beta", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    symlink(
        format!("{}/stable", arch()),
        installs.path("user/app/org.syn.App/current"),
    )
    .unwrap();
    let out = installs.run(&["run", "org.syn.App", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);

    // The same app in the system installation too: ambiguous across installations.
    installs.app("system", "org.syn.App", "stable", "");
    let out = installs.run(&["run", "org.syn.App//stable", "--", "true"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("in user (") && err.contains("in system ("),
        "{err}"
    );
    for pick in ["--user", "--system"] {
        let out = installs.run(&["run", pick, "org.syn.App//stable", "--", "true"]);
        assert_eq!(out.status.code(), Some(0), "{pick}: {}", text(&out).1);
    }
}

#[test]
fn installations_d_and_installation_dir_are_searched() {
    let installs = Installs::new();
    installs.runtime("extra");
    installs.app("extra", "org.syn.Extra", "stable", "");
    let out = installs.run(&["run", "org.syn.Extra", "--", "true"]);
    assert_eq!(out.status.code(), Some(2), "not configured yet");
    let conf = format!(
        "[Installation \"extra\"]\nPath={}\nDisplayName=Extra\n",
        installs.path("extra").display()
    );
    std::fs::write(installs.path("etc/installations.d/extra.conf"), conf).unwrap();
    let out = installs.run(&["run", "org.syn.Extra", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let dir = installs.path("extra").display().to_string();
    let out = installs.run(&["run", "--installation", &dir, "org.syn.Extra", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let out = installs.run(&["run", "--user", "org.syn.Extra", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_missing_runtime_or_a_corrupt_deploy_is_exit_2_with_the_path() {
    let installs = Installs::new();
    installs.app("user", "org.syn.App", "stable", "");
    let out = installs.run(&["run", "org.syn.App", "--", "true"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("org.syn.Platform/{}/1", arch())) && err.contains("not installed"),
        "{err}"
    );
    installs.runtime("user");
    // `active` leading nowhere.
    let active = installs.path(&format!("user/app/org.syn.App/{}/stable/active", arch()));
    std::fs::remove_file(&active).unwrap();
    symlink("gone", &active).unwrap();
    let out = installs.run(&["run", "org.syn.App", "--", "true"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("corrupt"), "{err}");
    // A deploy without metadata.
    std::fs::remove_file(&active).unwrap();
    symlink("c0ffee", &active).unwrap();
    std::fs::remove_file(active.with_file_name("c0ffee/metadata")).unwrap();
    let out = installs.run(&["run", "org.syn.App", "--", "true"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("corrupt") && err.contains("metadata"), "{err}");
}

#[test]
fn the_default_command_is_the_metadatas_and_files_are_at_app() {
    let installs = Installs::new();
    installs.runtime("system");
    installs.app("user", "org.syn.App", "stable", "");
    let out = installs.run(&["run", "org.syn.App"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out).1);
    let out = installs.run(&[
        "run",
        "org.syn.App",
        "--",
        "sh",
        "-c",
        "test -x /app/bin/syn-command && grep -q syn.App /.flatpak-info && exit 6",
    ]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out).1);
    // A file input takes no installation options; without `--` it runs the policy's own
    // `command` (the stock default names one the host's /usr lacks: not found, 127).
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/flatpak-default.policy");
    let policy = policy.to_str().unwrap();
    let out = installs.run(&["run", "--user", policy, "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    let out = installs.run(&["run", policy]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out).1);
}

#[test]
fn overrides_merge_in_flatpak_order_with_their_origins() {
    let installs = Installs::new();
    installs.runtime("system");
    installs.app(
        "user",
        "org.syn.App",
        "stable",
        "\n[Context]\nshared=network;\nsockets=x11;\nfilesystems=/srv/one;\n\n[Environment]\nFROM_APP=1\n",
    );
    let write = |inst: &str, name: &str, text: &str| {
        let dir = installs.path(inst).join("overrides");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    };
    // system global < system app < user global < user app.
    write("system", "global", "[Context]\nsockets=wayland;\n");
    write(
        "system",
        "org.syn.App",
        "[Context]\nsockets=!x11;\n[Environment]\nFROM_SYSTEM=1\n",
    );
    write("user", "global", "[Context]\nsockets=!wayland;\n");
    write(
        "user",
        "org.syn.App",
        "[Context]\nshared=!network;\nfilesystems=!host:reset;/srv/two:ro;\n[Session Bus Policy]\norg.syn.Talk=talk\n[Context]\nunset-environment=FROM_APP;\n",
    );
    let out = installs.run(&["explain", "org.syn.App", "--json"]);
    let (stdout, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let explained: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let entries = explained["entries"].as_array().expect("array of entries");
    let find = |section: &str, name: &str| -> (String, String) {
        let e = entries
            .iter()
            .find(|e| e["section"] == section && e["name"] == name)
            .unwrap_or_else(|| panic!("no {section} {name} in {stdout}"));
        (
            e["value"].as_str().unwrap().to_string(),
            e["origin"].as_str().unwrap().to_string(),
        )
    };
    let user_app = installs.path("user/overrides/org.syn.App");
    let (value, origin) = find("share", "network");
    assert_eq!(value, "revoked");
    assert_eq!(origin, format!("{}:2:8", user_app.display()));
    let (value, origin) = find("socket", "x11");
    assert_eq!(value, "revoked");
    assert!(
        origin.ends_with("system/overrides/org.syn.App:2:9"),
        "{origin}"
    );
    let (value, origin) = find("socket", "wayland");
    assert_eq!(value, "revoked");
    assert!(origin.ends_with("user/overrides/global:2:9"), "{origin}");
    let (value, _) = find("filesystem", "/srv/two");
    assert_eq!(value, "read-only");
    assert!(
        !entries.iter().any(|e| e["name"] == "/srv/one"),
        "host:reset clears the metadata's filesystems: {stdout}"
    );
    let (value, origin) = find("env", "FROM_SYSTEM");
    assert!(value.contains('1'));
    assert!(
        origin.contains("system/overrides/org.syn.App:4:"),
        "{origin}"
    );
    let (value, origin) = find("session-bus", "org.syn.Talk");
    assert_eq!(value, "talk");
    assert!(origin.contains("user/overrides/org.syn.App:5:"), "{origin}");
    let (_, origin) = find("env", "FROM_APP");
    assert!(origin.contains("user/overrides/org.syn.App:7:"), "{origin}");

    // import prints the effective policy; check, audit and compile accept the app too.
    let out = installs.run(&["import", "org.syn.App"]);
    let (printed, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(printed.contains("org.syn.App"), "{printed}");
    assert!(printed.contains("/srv/two"), "{printed}");
    assert!(!printed.contains("/srv/one"), "{printed}");
    assert!(printed.contains("org.syn.Talk"), "{printed}");
    // check reads the metadata's statements: `sockets=x11` is a Flathub lint error (1).
    let out = installs.run(&["check", "org.syn.App"]);
    let (shown, err) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(format!("{shown}{err}").contains("x11"), "{shown}{err}");
    for args in [vec!["audit", "org.syn.App"], vec!["explain", "org.syn.App"]] {
        let out = installs.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out).1);
    }
    let blob = installs.path("app.blob");
    let out = installs.run(&["compile", "org.syn.App", "-o", blob.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let out = installs.run(&["explain", blob.to_str().unwrap()]);
    let (shown, _) = text(&out);
    assert!(shown.contains("org.syn.App"), "{shown}");
    // The override reaches the sandbox: the network is unshared again.
    let out = installs.run(&[
        "run",
        "org.syn.App",
        "--",
        "sh",
        "-c",
        "test -z \"$FROM_APP\" && test \"$FROM_SYSTEM\" = 1 && exit 9",
    ]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out).1);
}

#[test]
fn only_the_runtime_metadatas_environment_is_inherited() {
    let installs = Installs::new();
    installs.runtime_with(
        "system",
        "\n[Context]\nshared=network;\nfilesystems=host;\n\n[Environment]\nRT_VAR=rt\nRT_SHADOWED=rt\n",
    );
    installs.app(
        "user",
        "org.syn.App",
        "stable",
        "\n[Environment]\nRT_SHADOWED=app\n",
    );
    let out = installs.run(&["explain", "org.syn.App", "--json"]);
    let (stdout, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let explained: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let entries = explained["entries"].as_array().expect("entries");
    let entry = |section: &str, name: &str| {
        entries
            .iter()
            .find(|e| e["section"] == section && e["name"] == name)
            .cloned()
    };
    let rt_var = entry("env", "RT_VAR").expect("RT_VAR from the runtime");
    assert!(
        rt_var["origin"]
            .as_str()
            .unwrap()
            .contains("runtime/org.syn.Platform/"),
        "{rt_var}"
    );
    let shadowed = entry("env", "RT_SHADOWED").expect("RT_SHADOWED");
    assert!(
        shadowed["value"].as_str().unwrap().contains("app"),
        "{shadowed}"
    );
    assert!(
        entry("share", "network").is_none(),
        "no permission from the runtime"
    );
    assert!(
        entry("filesystem", "host").is_none(),
        "no permission from the runtime"
    );
    let out = installs.run(&[
        "run",
        "org.syn.App",
        "--",
        "sh",
        "-c",
        "test \"$RT_VAR.$RT_SHADOWED\" = rt.app && exit 8",
    ]);
    assert_eq!(out.status.code(), Some(8), "{}", text(&out).1);
}

#[test]
fn a_broken_override_is_exit_2_and_nothing_runs() {
    let installs = Installs::new();
    installs.runtime("system");
    installs.app("user", "org.syn.App", "stable", "");
    std::fs::create_dir_all(installs.path("user/overrides")).unwrap();
    std::fs::write(
        installs.path("user/overrides/org.syn.App"),
        "[Context]\nnot a keyfile line\n",
    )
    .unwrap();
    let marker = installs.path("ran");
    let script = format!("touch {}", marker.display());
    let out = installs.run(&["run", "org.syn.App", "--", "sh", "-c", &script]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("overrides/org.syn.App"), "{err}");
    assert!(!marker.exists());
}

// ------------------------------------------------------------------ no login session

#[test]
fn a_launch_without_a_login_session_starts_with_a_note() {
    if !is_root() {
        return unavailable("switching to user nobody needs root");
    }
    let home = tempfile::tempdir().unwrap();
    let chown = Command::new("chown")
        .arg("nobody")
        .arg(home.path())
        .status()
        .unwrap();
    assert!(chown.success());
    let (shared, portcullis) = shared_binaries();
    let policy = shared.path().join("flatpak-default.policy");
    let uid = 65534;
    assert!(
        !Path::new(&format!("/run/user/{uid}")).exists(),
        "the test needs a user without /run/user/UID"
    );
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--", "env", "-i"])
        .arg(format!("HOME={}", home.path().display()))
        .arg("PATH=/usr/bin:/bin")
        .arg(&portcullis)
        .arg("run")
        .arg(&policy)
        .args([
            "--",
            "sh",
            "-c",
            "test \"$XDG_RUNTIME_DIR\" = /run/user/65534 && test -d /run/user/65534 && exit 4",
        ])
        .output()
        .expect("runuser");
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("no login session"), "{err}");
    assert!(home.path().join(".cache/.flatpak").is_dir());
}

// ------------------------------------------------------------------ the real Flatpak

/// The oracle user's home, when the real installation is there.
fn oracle() -> Option<PathBuf> {
    if !is_root() {
        unavailable("comparing with flatpak run as user fporacle needs root");
        return None;
    }
    let home = PathBuf::from(format!("/home/{USER}"));
    let ok = Path::new("/usr/bin/flatpak").is_file()
        && home.join(".local/share/flatpak/app/org.test.App").is_dir()
        && home
            .join(".local/share/flatpak/app/org.test.Browser")
            .is_dir();
    if !ok {
        unavailable("the Flatpak oracle installation is missing (scripts/setup-flatpak-oracle.sh)");
        return None;
    }
    if !Path::new("/run/dbus/system_bus_socket").exists() {
        unavailable("no system bus (scripts/setup-flatpak-oracle.sh starts one)");
        return None;
    }
    ensure_user_dirs(&home);
    Some(home)
}

/// The oracle's host fixture (`lib.sh`): `~/.config/user-dirs.dirs` and the directories it
/// names, as when the oracle cases were captured.
fn ensure_user_dirs(home: &Path) {
    let file = home.join(".config/user-dirs.dirs");
    if file.is_file() {
        return;
    }
    let mut text = String::new();
    for (var, dir) in [
        ("DESKTOP", "Desktop"),
        ("DOWNLOAD", "Downloads"),
        ("DOCUMENTS", "Documents"),
        ("MUSIC", "Music"),
        ("PICTURES", "Pictures"),
        ("VIDEOS", "Videos"),
    ] {
        std::fs::create_dir_all(home.join(dir)).unwrap();
        text.push_str(&format!("XDG_{var}_DIR=\"$HOME/{dir}\"\n"));
    }
    std::fs::create_dir_all(home.join(".config")).unwrap();
    std::fs::write(&file, text).unwrap();
    let owned = Command::new("chown")
        .args(["-R", &format!("{USER}:{USER}")])
        .arg(home.join(".config"))
        .args(
            [
                "Desktop",
                "Downloads",
                "Documents",
                "Music",
                "Pictures",
                "Videos",
            ]
            .map(|d| home.join(d)),
        )
        .status()
        .unwrap();
    assert!(owned.success());
}

/// Runs `args` as the oracle user under a private session bus, in its home, with a
/// small fixed environment.
fn as_oracle(home: &Path, args: &[&str]) -> Output {
    let uid = std::fs::metadata(home)
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap();
    let runtime_dir = format!("/run/user/{uid}");
    Command::new("runuser")
        .args(["-u", USER, "--", "env", "-i", "-C"])
        .arg(home)
        .arg(format!("HOME={}", home.display()))
        .arg(format!("USER={USER}"))
        .arg(format!("LOGNAME={USER}"))
        .arg("PATH=/usr/local/bin:/usr/bin:/bin")
        .arg("LANG=C.UTF-8")
        .arg(format!("XDG_RUNTIME_DIR={runtime_dir}"))
        .args(["dbus-run-session", "--"])
        .args(args)
        .output()
        .expect("runuser")
}

/// What the app saw: mount point → read-only, and the environment.
struct Seen {
    mounts: BTreeMap<String, bool>,
    env: BTreeMap<String, String>,
    status: Option<i32>,
}

const PROBE: &str = "awk '{print $5, $6}' /proc/self/mountinfo; echo '=='; env; exit 7";

fn seen(out: &Output) -> Seen {
    let (stdout, stderr) = text(out);
    let (mounts, env) = stdout
        .split_once("==\n")
        .unwrap_or_else(|| panic!("no probe output: {stdout}\n{stderr}"));
    let mounts = mounts
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(dest, opts)| (dest.to_string(), opts.split(',').any(|o| o == "ro")))
        .collect();
    let env = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Seen {
        mounts,
        env,
        status: out.status.code(),
    }
}

/// Mount points only Flatpak has, each a documented difference (ARCHITECTURE.md): the
/// instance machinery, the session helper's monitor and the p11-kit server.
fn flatpak_only(dest: &str) -> bool {
    dest.starts_with("/run/flatpak/.flatpak/")
        || dest == "/run/flatpak/per-app-dirs-ref"
        || dest == "/run/host/monitor"
        || dest.starts_with("/run/flatpak/p11-kit")
        || dest == "/etc/pkcs11/modules/p11-kit-trust.module"
}

/// Mount points only portcullis has, each a documented difference: the host's resolver
/// files bound read-only (no session helper), and /proc's sensitive parts read-only.
fn portcullis_only(dest: &str, ro: bool) -> bool {
    // Flatpak's installation data and the apps' data, hidden by an empty tmpfs where a
    // user-directory grant may contain them (a documented difference: Flatpak decides on
    // the expanded paths and makes a plain directory there).
    if dest.ends_with("/.local/share/flatpak") || dest.ends_with("/.var/app") {
        return true;
    }
    ro && ([
        "/etc/resolv.conf",
        "/etc/hosts",
        "/etc/host.conf",
        "/etc/gai.conf",
    ]
    .contains(&dest)
        || ["/proc/sys", "/proc/irq", "/proc/bus", "/proc/sysrq-trigger"].contains(&dest))
}

fn compare(flatpak: &Seen, ours: &Seen) {
    assert_eq!(flatpak.status, Some(7), "flatpak run's exit status");
    assert_eq!(ours.status, flatpak.status, "the same exit status");
    let mut problems = Vec::new();
    for (dest, ro) in &flatpak.mounts {
        match ours.mounts.get(dest) {
            None if flatpak_only(dest) => {}
            None => problems.push(format!("missing {dest}")),
            // The root is a read-only tmpfs (stricter; documented).
            Some(true) if dest == "/" && !ro => {}
            Some(our_ro) if our_ro != ro => {
                problems.push(format!("{dest}: ro {our_ro}, flatpak ro {ro}"))
            }
            Some(_) => {}
        }
    }
    for (dest, ro) in &ours.mounts {
        if !flatpak.mounts.contains_key(dest) && !portcullis_only(dest, *ro) {
            problems.push(format!("extra {dest} (ro {ro})"));
        }
    }
    // PS1 is only a prompt and LD_LIBRARY_PATH is set by the runtime's ldconfig rule
    // (documented); the rest must be equal.
    let skip: BTreeSet<&str> = ["PS1", "LD_LIBRARY_PATH"].into_iter().collect();
    let keys: BTreeSet<&String> = flatpak.env.keys().chain(ours.env.keys()).collect();
    for key in keys {
        if skip.contains(key.as_str()) {
            continue;
        }
        let (a, b) = (flatpak.env.get(key), ours.env.get(key));
        // With x11 granted and no DISPLAY on the host, Flatpak leaves XAUTHORITY unset;
        // portcullis names the (absent) cookie file anyway (documented, harmless).
        let xauth_without_display = key.as_str() == "XAUTHORITY"
            && a.is_none()
            && b.map(String::as_str) == Some("/run/flatpak/Xauthority");
        if a != b && !xauth_without_display {
            problems.push(format!("env {key}: flatpak {a:?}, portcullis {b:?}"));
        }
    }
    assert!(problems.is_empty(), "differences: {problems:#?}");
}

#[test]
fn run_app_matches_flatpak_run_on_the_real_installation() {
    let Some(home) = oracle() else { return };
    let (_shared, portcullis) = shared_binaries();
    let portcullis = portcullis.to_str().unwrap();
    for app in ["org.test.App", "org.test.Browser"] {
        let flatpak = as_oracle(&home, &["flatpak", "run", "--command=sh", app, "-c", PROBE]);
        let ours = as_oracle(&home, &[portcullis, "run", app, "--", "sh", "-c", PROBE]);
        compare(&seen(&flatpak), &seen(&ours));
    }
    // /.flatpak-info: the same groups and keys ([Application], [Instance] with the same
    // paths, commits, branch, arch and proxy flags, the context), the instance id aside;
    // bus names come in Flatpak's hash-table order, so lines compare per group, sorted.
    for app in ["org.test.App", "org.test.Browser"] {
        let info = |out: Output| -> BTreeMap<String, BTreeSet<String>> {
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(0), "{stderr}");
            let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut group = String::new();
            for line in stdout.lines().filter(|l| !l.is_empty()) {
                if line.starts_with('[') {
                    group = line.to_string();
                    groups.entry(group.clone()).or_default();
                } else if let Some(id) = line.strip_prefix("instance-id=") {
                    assert!(id.parse::<u32>().is_ok(), "{line}");
                    groups
                        .entry(group.clone())
                        .or_default()
                        .insert("instance-id=N".into());
                } else {
                    groups
                        .entry(group.clone())
                        .or_default()
                        .insert(line.to_string());
                }
            }
            groups
        };
        let flatpak = info(as_oracle(
            &home,
            &["flatpak", "run", "--command=cat", app, "/.flatpak-info"],
        ));
        let ours = info(as_oracle(
            &home,
            &[portcullis, "run", app, "--", "cat", "/.flatpak-info"],
        ));
        assert!(flatpak.contains_key("[Instance]"), "{flatpak:?}");
        assert_eq!(ours, flatpak, "/.flatpak-info of {app}");
    }
    // The default command is the metadata's (oracle-probe, which prints `== id`).
    let out = as_oracle(&home, &[portcullis, "run", "org.test.App"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("== id\n"), "{stdout}");
    // A missing app: exit 2, nothing started.
    let out = as_oracle(&home, &[portcullis, "run", "org.test.Nope", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    // After the parity runs (the same test, so that no override is in place for them).
    a_flatpak_override_changes_what_run_grants(&home);
}

/// Removes an override file when dropped (a failed assertion included).
struct OverrideFile(PathBuf);

impl Drop for OverrideFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An override file written by `flatpak override` changes what both launchers grant.
fn a_flatpak_override_changes_what_run_grants(home: &Path) {
    let home = home.to_path_buf();
    std::fs::create_dir_all("/opt/data").unwrap();
    let (_shared, portcullis) = shared_binaries();
    let portcullis = portcullis.to_str().unwrap();
    let app = "org.test.Browser";
    let check = "test -d /opt/data; a=$?; touch /opt/data/x 2>/dev/null; b=$?; echo \"$a $b ${PC_OVERRIDE:-unset} $MOZ_USE_XINPUT2\"";
    let before = as_oracle(&home, &[portcullis, "run", app, "--", "sh", "-c", check]);
    assert_eq!(text(&before).0.trim(), "1 1 unset 1", "{}", text(&before).1);
    let file = OverrideFile(home.join(format!(".local/share/flatpak/overrides/{app}")));
    let set = as_oracle(
        &home,
        &[
            "flatpak",
            "override",
            "--user",
            "--filesystem=/opt/data:ro",
            "--env=PC_OVERRIDE=yes",
            "--unset-env=MOZ_USE_XINPUT2",
            app,
        ],
    );
    assert!(set.status.success(), "{}", text(&set).1);
    assert!(file.0.is_file());
    let flatpak = as_oracle(&home, &["flatpak", "run", "--command=sh", app, "-c", check]);
    let ours = as_oracle(&home, &[portcullis, "run", app, "--", "sh", "-c", check]);
    assert_eq!(text(&flatpak).0.trim(), "0 1 yes", "{}", text(&flatpak).1);
    assert_eq!(text(&ours).0, text(&flatpak).0, "{}", text(&ours).1);
    // explain names the override file and its line.
    let out = as_oracle(&home, &[portcullis, "explain", app]);
    let (shown, _) = text(&out);
    let line = shown
        .lines()
        .find(|l| l.contains("/opt/data"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(line.contains(&format!("overrides/{app}:")), "{line}");
}
