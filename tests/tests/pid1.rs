//! Attacks on the executor's own processes, performed for real from inside the sandbox,
//! as root and as an unprivileged user (issue 15, items 1–3):
//!
//! * the pid-1 takeover: `portcullis-attack pid1` reads pid 1's environment, tries
//!   ptrace, `process_vm_readv`, `pidfd_getfd`, `/proc/1/fd` and `/proc/1/mem`, and when
//!   the memory opens it writes `exit_group(77)` at pid 1's next instruction and wakes it
//!   (before the fix pid 1 then exited with 77 and ran the app's code unfiltered);
//! * pid 1's confinement as the kernel reports it (seccomp, no_new_privs, own session);
//! * `listen` on a socket that was never bound, under TCP port rules: refused, while a
//!   socket bound to an allowed port listens and is reachable, and swapping descriptors
//!   under the check does not get an unbound socket listening.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;

use portcullis_backends::bundle::bundle;
use portcullis_blob::Arch;
use portcullis_ir::beyond::{NetworkRules, PortRange};
use portcullis_ir::context::{EnvEntry, Setting, Share};
use portcullis_ir::Policy;

use crate::executor::{blob_with, default_policy, ro_bind, workspace_bin, As, Stage};

use portcullis_tests::output::describe as text;

/// Every probe `portcullis-attack pid1` must report.
const PID1_PROBES: &[&str] = &[
    "pid1-environ",
    "pid1-cmdline-secret",
    "app-environ-secret",
    "pid1-seccomp",
    "pid1-no-new-privs",
    "pid1-session",
    "pid1-fd",
    "pid1-ptrace",
    "pid1-pidfd-getfd",
    "pid1-process-vm",
    "pid1-syscall-file",
    "pid1-mem-write",
];

/// The status pid 1 exits with when the attack's code ran in it.
const TAKEN_OVER: i32 = 77;

fn stage_attack(stage: &Stage) -> PathBuf {
    let path = stage.dir.path().join("portcullis-attack");
    portcullis_tests::stage::copy_executable(&workspace_bin("portcullis-attack"), &path);
    path
}

fn pid1_attack(who: As) {
    let Some(stage) = Stage::new() else { return };
    let attack = stage_attack(&stage);
    // A credential the caller holds and the policy does not give the app.
    let secret = format!("s3cr3t-{}-{who:?}", std::process::id());
    let mut policy = default_policy("org.test.Pid1");
    policy.context.env.insert(
        "SECRET_TOKEN".into(),
        EnvEntry {
            value: None,
            origin: Default::default(),
        },
    );
    let blob = blob_with(&policy, vec![ro_bind(&attack, "/run/attack")]);
    let path = stage.write_blob("pid1.blob", &blob.encode());
    let out = stage.run_with_env(
        who,
        &[("SECRET_TOKEN", &secret)],
        &[
            path.to_str().unwrap(),
            "--",
            "/run/attack",
            "pid1",
            // Reversed (the attack turns it back), so that no command line holds it.
            "--secret-reversed",
            &secret.chars().rev().collect::<String>(),
        ],
    );
    let all = text(&out);
    assert_ne!(
        out.status.code(),
        Some(TAKEN_OVER),
        "{who:?}: the app's code ran in pid 1: {all}"
    );
    assert_eq!(out.status.code(), Some(0), "{who:?}: {all}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("attack JSON");
    let probes = report["probes"].as_array().expect("probes");
    let escaped: Vec<String> = probes
        .iter()
        .filter(|p| p["escaped"] != false)
        .map(|p| format!("{}: {}", p["name"], p["detail"]))
        .collect();
    assert!(escaped.is_empty(), "{who:?}: {}", escaped.join("\n"));
    for name in PID1_PROBES {
        assert!(
            probes.iter().any(|p| p["name"] == *name),
            "{who:?}: probe `{name}` did not run"
        );
    }
    // The attack names the secret reversed, so its own command line cannot give it
    // away; the secret itself must appear nowhere in what pid 1 exposes.
    assert!(!stdout.contains(&secret), "{who:?}: {stdout}");
}

#[test]
fn the_app_cannot_take_over_pid_1_as_root() {
    pid1_attack(As::Caller);
}

#[test]
fn the_app_cannot_take_over_pid_1_as_an_unprivileged_user() {
    pid1_attack(As::Nobody);
}

/// A policy that shares the network with TCP port rules: `bind` only `bind_port`,
/// connect nowhere.
fn port_rules(bind_port: u16) -> Policy {
    let mut policy = default_policy("org.test.Listen");
    policy.context.shares.insert(
        Share::Network,
        Setting {
            enabled: true,
            origin: Default::default(),
        },
    );
    policy.beyond.network = Some(NetworkRules {
        connect: vec![],
        bind: vec![PortRange {
            first: bind_port,
            last: bind_port,
        }],
        udp_none: false,
        origin: Default::default(),
    });
    policy
}

const LISTEN: &str = r#"
import ctypes, os, socket, sys, threading, time
port = int(sys.argv[1])
def attempt(what):
    try:
        what(); return "ok"
    except OSError as e:
        return "errno %d" % e.errno
s4 = socket.socket()
print("unbound4", attempt(lambda: s4.listen()), s4.getsockname()[1])
s6 = socket.socket(socket.AF_INET6)
print("unbound6", attempt(lambda: s6.listen()), s6.getsockname()[1])
u = socket.socket(socket.AF_UNIX)
u.bind(("\0portcullis-listen-" + sys.argv[2]).encode())
print("unix", attempt(lambda: u.listen()))
b = socket.socket()
b.bind(("127.0.0.1", port))
print("bound", attempt(lambda: b.listen()))
sys.stdout.flush()
# Swap an unbound TCP socket in under the check: the descriptor `fd` is a bound unix
# socket when listen starts and an unbound TCP socket from another thread's dup2.
libc = ctypes.CDLL(None, use_errno=True)
tcp = socket.socket()
stop = False
def swapper(fd):
    while not stop:
        os.dup2(tcp.fileno(), fd)
        os.dup2(spare.fileno(), fd)
spare = socket.socket(socket.AF_UNIX)
spare.bind(("\0portcullis-swap-" + sys.argv[2]).encode())
fd = os.dup(spare.fileno())
t = threading.Thread(target=swapper, args=(fd,))
t.start()
for _ in range(300):
    libc.listen(fd, 1)
stop = True
t.join()
print("swapped-tcp-port", tcp.getsockname()[1])
conn, _ = b.accept()
conn.sendall(b"hello")
conn.close()
"#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn listen_case(who: As) {
    let Some(stage) = Stage::new() else { return };
    let port = free_port();
    let blob = bundle(&port_rules(port), Arch::host().expect("supported machine"))
        .expect("bundle")
        .blob;
    let path = stage.write_blob("listen.blob", &blob.encode());
    let path = path.to_string_lossy().to_string();
    // The host connects to the bound port once the sandbox listens on it.
    let client = std::thread::spawn(move || {
        for _ in 0..200 {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                let mut got = String::new();
                let _ = std::io::Read::read_to_string(&mut stream, &mut got);
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        String::new()
    });
    let out = stage.run(
        who,
        &[
            &path,
            "--",
            "/usr/bin/python3",
            "-c",
            LISTEN,
            &port.to_string(),
            // Abstract names are per network namespace, shared here: unique per test.
            &format!("{}-{who:?}", std::process::id()),
        ],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{who:?}: {all}");
    let eacces = format!("errno {}", libc::EACCES);
    assert!(
        all.contains(&format!("unbound4 {eacces} 0")),
        "{who:?}: {all}"
    );
    assert!(
        all.contains(&format!("unbound6 {eacces} 0")),
        "{who:?}: {all}"
    );
    assert!(all.contains("unix ok"), "{who:?}: {all}");
    assert!(all.contains("bound ok"), "{who:?}: {all}");
    assert!(
        all.contains("swapped-tcp-port 0"),
        "{who:?}: an unbound socket swapped in under the check got a port: {all}"
    );
    assert_eq!(
        client.join().unwrap(),
        "hello",
        "{who:?}: the bound port serves"
    );
}

#[test]
fn listen_without_bind_is_refused_under_port_rules_as_root() {
    listen_case(As::Caller);
}

#[test]
fn listen_without_bind_is_refused_under_port_rules_as_an_unprivileged_user() {
    listen_case(As::Nobody);
}

#[test]
fn without_port_rules_listen_is_not_supervised() {
    let Some(stage) = Stage::new() else { return };
    let mut policy = port_rules(1);
    policy.beyond.network = None;
    let blob = bundle(&policy, Arch::host().expect("supported machine"))
        .expect("bundle")
        .blob;
    let path = stage.write_blob("plain.blob", &blob.encode());
    let script =
        "import socket\ns = socket.socket()\ns.listen()\nprint('port', s.getsockname()[1] != 0)";
    let out = stage.run(
        As::Caller,
        &[
            path.to_str().unwrap(),
            "--",
            "/usr/bin/python3",
            "-c",
            script,
        ],
    );
    // Flatpak's meaning: with the network shared and no port rules, an ephemeral
    // listening port is the app's right; so the refusal above is the supervisor's.
    assert!(text(&out).contains("port True"), "{}", text(&out));
}

/// The terminal (adversarial review, after the pid-1 fix): with the app in a session of
/// its own, an app in a *background* job could read what the user types into the shell
/// (no job control applies to it). The app now stays in the caller's session and process
/// group, as Flatpak's does (TIOCSTI is refused by seccomp), so reading the terminal from
/// the background stops the job. A harness makes a pseudo-terminal the controlling
/// terminal of a session, starts the launch as a background job in it, and types a line.
const BACKGROUND_READ: &str = r#"
import os, pty, select, signal, sys, time
exe, blob = sys.argv[1], sys.argv[2]
pid, master = pty.fork()
if pid == 0:
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)  # a background job: not the terminal's foreground group
        os.execv(exe, [exe, blob, "--", "/bin/sh", "-c", "read line; echo GOT:$line"])
    for _ in range(60):
        done, status = os.waitpid(job, os.WUNTRACED | os.WNOHANG)
        if done:
            if os.WIFSTOPPED(status):
                print("JOB-STOPPED", flush=True)
                os.killpg(job, signal.SIGKILL)
            else:
                print("JOB-EXITED", flush=True)
            os._exit(0)
        time.sleep(0.1)
    print("JOB-RUNNING", flush=True)
    os.killpg(job, signal.SIGKILL)
    os._exit(0)
time.sleep(1.0)
os.write(master, b"typed-secret\n")
out = b""
end = time.time() + 8
while time.time() < end:
    ready, _, _ = select.select([master], [], [], 0.2)
    if ready:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
print(out.decode(errors="replace"))
"#;

fn background_read(who: As) {
    let Some(stage) = Stage::new() else { return };
    let blob = blob_with(&default_policy("org.test.Tty"), vec![]);
    let path = stage.write_blob("tty.blob", &blob.encode());
    let mut command = match who {
        As::Caller => std::process::Command::new("python3"),
        As::Nobody => {
            let mut c = std::process::Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
                "python3",
            ]);
            c
        }
    };
    let out = command
        .args(["-c", BACKGROUND_READ])
        .arg(&stage.exec)
        .arg(&path)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", stage.home(who))
        .output()
        .expect("python3 runs");
    let all = text(&out);
    assert!(
        !all.contains("GOT:typed-secret"),
        "{who:?}: a background app read the terminal: {all}"
    );
    assert!(all.contains("JOB-STOPPED"), "{who:?}: {all}");
}

#[test]
fn a_background_app_cannot_read_the_terminal_as_root() {
    background_read(As::Caller);
}

#[test]
fn a_background_app_cannot_read_the_terminal_as_an_unprivileged_user() {
    background_read(As::Nobody);
}
