//! End to end: `portcullis-exec` starts the real `xdg-dbus-proxy` for a compiled blob,
//! and an app inside the sandbox (`dbus-send` from the host's `/usr`) talks to a private
//! `dbus-daemon` through it.

use std::path::PathBuf;
use std::process::{Command, Output};

use portcullis_backends::bundle::bundle;
use portcullis_blob::Arch;
use portcullis_ir::Policy;
use portcullis_tests::dbus_bus::{have, scratch_dir, PrivateBus};
use portcullis_tests::dbus_wire::Conn;

use super::policies::from_flatpak_args;

const APP: &str = "org.portcullis.App";
const VISIBLE: &str = "org.portcullis.test.Visible";
const HIDDEN: &str = "org.portcullis.test.Hidden";

/// `target/<profile>/portcullis-exec`, next to this test's own `deps/` directory.
fn executor() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("portcullis-exec");
    path.is_file().then_some(path)
}

fn arch() -> Arch {
    if cfg!(target_arch = "aarch64") {
        Arch::Aarch64
    } else {
        Arch::X86_64
    }
}

/// Everything the test needs, or why it skips.
fn ready() -> Option<PathBuf> {
    let tools = ["dbus-daemon", "xdg-dbus-proxy", "dbus-send"];
    if let Some(missing) = tools.iter().find(|t| !have(t)) {
        portcullis_tests::skip!("`{missing}` is not installed (scripts/test.sh installs it)");
        return None;
    }
    let exe = executor();
    if exe.is_none() {
        portcullis_tests::skip!("portcullis-exec is not built (cargo build --workspace --bins)");
    }
    exe
}

fn bus_with_services(names: &[&str]) -> PrivateBus {
    let bus = PrivateBus::start().expect("dbus-daemon starts");
    for name in names {
        let mut service = Conn::connect(&bus.socket).expect("service connects");
        assert_eq!(service.request_name(name).unwrap(), Ok(1), "{name}");
        std::thread::spawn(move || service.serve());
    }
    bus
}

/// Runs `script` with `sh -c` in the sandbox of `policy`, with `session` (if any) as the
/// caller's session bus.
fn run_in_sandbox(exe: &PathBuf, policy: &Policy, session: Option<&str>, script: &str) -> Output {
    run_command(exe, policy, session, &[], &["sh", "-c", script])
}

/// Runs `portcullis-exec [OPTIONS] BLOB -- COMMAND`.
fn run_command(
    exe: &PathBuf,
    policy: &Policy,
    session: Option<&str>,
    options: &[&str],
    command_line: &[&str],
) -> Output {
    let dir = scratch_dir("dbus-run").expect("scratch dir");
    let blob = bundle(policy, arch()).expect("the policy bundles").blob;
    let blob_path = dir.join("app.blob");
    std::fs::write(&blob_path, blob.encode()).expect("blob written");
    let mut command = Command::new(exe);
    command
        .args(options)
        .arg(&blob_path)
        .arg("--")
        .args(command_line)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DBUS_SYSTEM_BUS_ADDRESS")
        .env_remove("AT_SPI_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", &dir)
        .env("HOME", &dir);
    if let Some(address) = session {
        command.env("DBUS_SESSION_BUS_ADDRESS", address);
    }
    let output = command.output().expect("portcullis-exec runs");
    let _ = std::fs::remove_dir_all(&dir);
    output
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const SEND: &str = "dbus-send --session --print-reply";
const BUS: &str = "--dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus";

fn call(name: &str) -> String {
    format!("{SEND} --dest={name} /org/portcullis/test org.portcullis.test.Iface.Ping")
}

fn request(name: &str) -> String {
    format!("{SEND} {BUS}.RequestName string:{name} uint32:0")
}

#[test]
fn talk_name_callable_unlisted_invisible_own_name_limited() {
    let Some(exe) = ready() else { return };
    let bus = bus_with_services(&[VISIBLE, HIDDEN]);
    let policy = from_flatpak_args(
        APP,
        &format!("--talk-name={VISIBLE} --own-name=org.portcullis.Granted"),
    );
    let script = format!(
        "echo \"address=$DBUS_SESSION_BUS_ADDRESS\"\n\
         test -S /run/flatpak/bus && echo socket-present\n\
         test -e {host} || echo host-socket-absent\n\
         {call_visible} && echo visible-called\n\
         {call_hidden} || echo hidden-refused\n\
         {list} | grep -c {HIDDEN} || true\n\
         {list} | grep -q {VISIBLE} && echo visible-listed\n\
         {own_app} | grep -q 'uint32 1' && echo own-app-id\n\
         {own_granted} | grep -q 'uint32 1' && echo own-granted\n\
         {own_other} || echo own-other-refused\n",
        host = bus.socket.display(),
        call_visible = call(VISIBLE),
        call_hidden = call(HIDDEN),
        list = format!("{SEND} {BUS}.ListNames"),
        own_app = request("org.portcullis.App.Window1"),
        own_granted = request("org.portcullis.Granted"),
        own_other = request("org.portcullis.Other"),
    );
    let output = run_in_sandbox(&exe, &policy, Some(&bus.address()), &script);
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    for expected in [
        "address=unix:path=/run/flatpak/bus",
        "socket-present",
        "host-socket-absent",
        "visible-called",
        "hidden-refused",
        "visible-listed",
        "own-app-id",
        "own-granted",
        "own-other-refused",
    ] {
        assert!(
            out.lines().any(|l| l == expected),
            "no `{expected}`:\n{report}"
        );
    }
    // `grep -c HIDDEN` on ListNames printed 0.
    assert!(out.lines().any(|l| l == "0"), "{report}");
}

#[test]
fn session_bus_socket_gives_the_unfiltered_bus() {
    let Some(exe) = ready() else { return };
    let bus = bus_with_services(&[HIDDEN]);
    let policy = from_flatpak_args(APP, "--socket=session-bus");
    let script = format!(
        "echo \"address=$DBUS_SESSION_BUS_ADDRESS\"\n\
         {} && echo hidden-called\n\
         {} | grep -q 'uint32 1' && echo own-anything\n",
        call(HIDDEN),
        request("org.portcullis.Other"),
    );
    let output = run_in_sandbox(&exe, &policy, Some(&bus.address()), &script);
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    for expected in [
        "address=unix:path=/run/flatpak/bus",
        "hidden-called",
        "own-anything",
    ] {
        assert!(
            out.lines().any(|l| l == expected),
            "no `{expected}`:\n{report}"
        );
    }
}

#[test]
fn without_a_session_bus_the_app_still_starts() {
    let Some(exe) = ready() else { return };
    let policy = from_flatpak_args(APP, "--talk-name=org.portcullis.test.Visible");
    let output = run_in_sandbox(
        &exe,
        &policy,
        None,
        "echo \"address=${DBUS_SESSION_BUS_ADDRESS-unset}\"; test -e /run/flatpak/bus || echo no-socket",
    );
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(out.lines().any(|l| l == "address=unset"), "{report}");
    assert!(out.lines().any(|l| l == "no-socket"), "{report}");
    assert!(err.contains("no session bus on the host"), "{report}");
}

#[test]
fn the_proxy_does_not_outlive_the_app_nor_a_failed_launch() {
    let Some(exe) = ready() else { return };
    let bus = bus_with_services(&[]);
    let policy = from_flatpak_args(APP, "");
    // The app ends: afterwards no proxy for this bus is left.
    let output = run_in_sandbox(&exe, &policy, Some(&bus.address()), "true");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // A command that cannot be found fails after the proxy started (127).
    let output = run_command(
        &exe,
        &policy,
        Some(&bus.address()),
        &[],
        &["/nonexistent/command"],
    );
    assert_eq!(output.status.code(), Some(127), "{}", text(&output));
    // A setup failure after the proxy started (a runtime that does not exist): 125.
    let output = run_command(
        &exe,
        &policy,
        Some(&bus.address()),
        &["--runtime", "/nonexistent/runtime"],
        &["true"],
    );
    assert_eq!(output.status.code(), Some(125), "{}", text(&output));
    // Each proxy exits when the launch's sync pipe closes; give a loaded machine time.
    let address = bus.address();
    let proxies_left = || -> Vec<String> {
        std::fs::read_dir("/proc")
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                    .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                    .filter(|c| c.starts_with("xdg-dbus-proxy") && c.contains(&address))
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut left = proxies_left();
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        left = proxies_left();
    }
    assert!(left.is_empty(), "proxies left behind: {left:?}");
}

#[test]
fn portcullis_run_enforces_a_policy_written_in_the_language() {
    let Some(exe) = ready() else { return };
    let cli = exe.with_file_name("portcullis");
    if !cli.is_file() {
        portcullis_tests::skip!(
            "the portcullis binary is not built (cargo build --workspace --bins)"
        );
        return;
    }
    let bus = bus_with_services(&[VISIBLE, HIDDEN]);
    let dir = scratch_dir("dbus-cli").expect("scratch dir");
    let policy = dir.join("app.policy");
    std::fs::write(
        &policy,
        format!("app org.portcullis.RunTest {{\n    talk-name {VISIBLE}\n}}\n"),
    )
    .expect("policy written");
    let script = format!(
        "{} && echo visible-called\n{} || echo hidden-refused\n\
         {SEND} {BUS}.ListNames | grep -c {HIDDEN} || true\n",
        call(VISIBLE),
        call(HIDDEN),
    );
    let output = Command::new(&cli)
        .arg("run")
        .arg(&policy)
        .args(["--", "sh", "-c", &script])
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .env_remove("DBUS_SYSTEM_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", &dir)
        .env("HOME", &dir)
        .output()
        .expect("portcullis runs");
    let _ = std::fs::remove_dir_all(&dir);
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    for expected in ["visible-called", "hidden-refused", "0"] {
        assert!(
            out.lines().any(|l| l == expected),
            "no `{expected}`:\n{report}"
        );
    }
}

#[test]
fn accessibility_bus_found_through_the_session_bus_is_proxied() {
    let Some(exe) = ready() else { return };
    // The host's a11y bus, with a registry answering every call.
    let a11y = bus_with_services(&["org.a11y.atspi.Registry"]);
    // The session bus knows where it is, like at-spi-bus-launcher.
    let session = bus_with_services(&[]);
    let mut launcher = Conn::connect(&session.socket).expect("launcher connects");
    assert_eq!(launcher.request_name("org.a11y.Bus").unwrap(), Ok(1));
    let address = a11y.address();
    std::thread::spawn(move || launcher.serve_with(move |_, _| address.clone()));

    let policy = from_flatpak_args(APP, "");
    let a11y_send =
        "dbus-send --bus=$AT_SPI_BUS_ADDRESS --print-reply --dest=org.a11y.atspi.Registry";
    let script = format!(
        "echo \"a11y=$AT_SPI_BUS_ADDRESS\"\n\
         {a11y_send} /org/a11y/atspi/accessible/root org.a11y.atspi.Socket.Embed && echo embed-allowed\n\
         {a11y_send} /org/a11y/atspi/accessible/root org.a11y.atspi.Socket.Other || echo other-refused\n"
    );
    let output = run_in_sandbox(&exe, &policy, Some(&session.address()), &script);
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    for expected in [
        "a11y=unix:path=/run/flatpak/at-spi-bus",
        "embed-allowed",
        "other-refused",
    ] {
        assert!(
            out.lines().any(|l| l == expected),
            "no `{expected}`:\n{report}"
        );
    }
}

#[test]
fn system_talk_name_goes_through_a_system_bus_proxy() {
    let Some(exe) = ready() else { return };
    let system = bus_with_services(&[VISIBLE, HIDDEN]);
    let policy = from_flatpak_args(APP, &format!("--system-talk-name={VISIBLE}"));
    let dir = scratch_dir("dbus-system").expect("scratch dir");
    let blob = bundle(&policy, arch()).expect("the policy bundles").blob;
    let blob_path = dir.join("app.blob");
    std::fs::write(&blob_path, blob.encode()).expect("blob written");
    let system_send = "dbus-send --system --print-reply";
    let script = format!(
        "echo \"system=$DBUS_SYSTEM_BUS_ADDRESS\"\n\
         {system_send} --dest={VISIBLE} /org/portcullis/test org.portcullis.test.Iface.Ping && echo visible-called\n\
         {system_send} --dest={HIDDEN} /org/portcullis/test org.portcullis.test.Iface.Ping || echo hidden-refused\n"
    );
    let output = Command::new(&exe)
        .arg(&blob_path)
        .args(["--", "sh", "-c", &script])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("DBUS_SYSTEM_BUS_ADDRESS", system.address())
        .env("XDG_RUNTIME_DIR", &dir)
        .env("HOME", &dir)
        .output()
        .expect("portcullis-exec runs");
    let _ = std::fs::remove_dir_all(&dir);
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    for expected in [
        "system=unix:path=/run/dbus/system_bus_socket",
        "visible-called",
        "hidden-refused",
    ] {
        assert!(
            out.lines().any(|l| l == expected),
            "no `{expected}`:\n{report}"
        );
    }
}

/// The proxy parses what the app sends, so it must not be a softer target than the app:
/// while the app runs, the proxy has a seccomp filter, `no_new_privs`, and a session of
/// its own without a controlling terminal (issue 15: every process the app can reach).
#[test]
fn the_proxy_is_as_confined_as_the_app() {
    let Some(exe) = ready() else { return };
    let bus = bus_with_services(&[]);
    let address = bus.address();
    let policy = from_flatpak_args(APP, "");
    let launch = {
        let (exe, address) = (exe.clone(), address.clone());
        std::thread::spawn(move || run_in_sandbox(&exe, &policy, Some(&address), "sleep 3"))
    };
    let find = || -> Option<std::path::PathBuf> {
        std::fs::read_dir("/proc")
            .ok()?
            .filter_map(|e| e.ok())
            .find_map(|e| {
                let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                (cmdline.starts_with("xdg-dbus-proxy") && cmdline.contains(&address))
                    .then(|| e.path())
            })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut proc_dir = find();
    while proc_dir.is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        proc_dir = find();
    }
    let proc_dir = proc_dir.expect("the proxy runs while the app runs");
    let status = std::fs::read_to_string(proc_dir.join("status")).expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(field("Seccomp:"), "2", "{status}");
    assert_eq!(field("NoNewPrivs:"), "1", "{status}");
    let stat = std::fs::read_to_string(proc_dir.join("stat")).expect("stat");
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let pid = proc_dir.file_name().unwrap().to_string_lossy().to_string();
    // Fields 6 (session) and 7 (tty_nr), at index N - 3 after the command name.
    assert_eq!(rest[3], pid, "the proxy leads its own session: {stat}");
    assert_eq!(
        rest[4], "0",
        "the proxy has no controlling terminal: {stat}"
    );
    let output = launch.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}
