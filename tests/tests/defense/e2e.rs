//! The defense layers under the real executor on this kernel: the TCP port allowlist
//! (through `portcullis run`), abstract-socket scoping, memory and process limits, deny
//! masks and a single device node. The sandboxed side is `python3` from the host's `/usr`
//! (the default runtime). Host listeners bind 127.0.0.1 only; the port test shares the
//! network so that loopback is the host's.

use std::net::TcpListener;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::process::{Command, Output};

use portcullis_backends::bundle::bundle;
use portcullis_blob::Arch;
use portcullis_ir::beyond::{DeviceNode, Level, Limit};
use portcullis_ir::context::{Setting, Share};
use portcullis_ir::Policy;

use super::{load, policies_dir};
use crate::executor::{default_policy, workspace_bin, As, Stage, NOBODY};

use portcullis_tests::output::describe as text;

/// Runs `python3 -c SCRIPT` in the sandbox of `policy`, as `who`.
fn python(stage: &Stage, who: As, policy: &Policy, script: &str) -> Output {
    let blob = bundle(policy, Arch::host().expect("supported machine"))
        .expect("bundle")
        .blob;
    let path = stage.write_blob("defense.blob", &blob.encode());
    let path = path.to_string_lossy().to_string();
    stage.run(who, &[&path, "--", "/usr/bin/python3", "-c", script])
}

fn shared_network(mut policy: Policy) -> Policy {
    policy.context.shares.insert(
        Share::Network,
        Setting {
            enabled: true,
            origin: Default::default(),
        },
    );
    policy
}

const CONNECT: &str = r#"
import socket, sys
def attempt(what):
    try:
        what(); return "ok"
    except OSError as e:
        return e.strerror
for port in sys.argv[1:]:
    s = socket.socket()
    print("connect", port, attempt(lambda: s.connect(("127.0.0.1", int(port)))))
b = socket.socket()
print("bind", attempt(lambda: b.bind(("127.0.0.1", 0))))
"#;

#[test]
fn only_the_allowed_port_connects_and_nothing_binds() {
    if Stage::new().is_none() {
        return;
    }
    // The stock example allows 8443; a listener on another port must stay unreachable.
    let allowed = match TcpListener::bind("127.0.0.1:8443") {
        Ok(listener) => listener,
        Err(err) => panic!("port 8443 must be free on 127.0.0.1 for this test: {err}"),
    };
    let other = TcpListener::bind("127.0.0.1:0").expect("a second listener");
    let other_port = other.local_addr().expect("address").port().to_string();
    // The launch makes the app's directories under HOME: a temporary one, not the real one.
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(workspace_bin("portcullis"))
        .arg("run")
        .arg(policies_dir().join("examples/net-connect-8443.policy"))
        .args(["--", "/usr/bin/python3", "-c", CONNECT, "8443", &other_port])
        .env("PORTCULLIS_EXEC_REPORT", "1")
        .env("HOME", home.path())
        .output()
        .expect("portcullis run");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("connect 8443 ok"), "{all}");
    assert!(
        all.contains(&format!("connect {other_port} Permission denied")),
        "{all}"
    );
    assert!(all.contains("bind Permission denied"), "{all}");
    assert!(
        all.contains("tcp port rules"),
        "the executor reports the layer: {all}"
    );
    drop(allowed);
}

#[test]
fn host_abstract_sockets_are_unreachable() {
    let Some(stage) = Stage::new() else { return };
    let name = format!("portcullis-defense-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract name");
    let _listener = UnixListener::bind_addr(&addr).expect("host abstract listener");
    let script = format!(
        "import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(b'\\0{name}'); print('reached')\nexcept OSError as e:\n    print('refused', e.errno)\n"
    );
    let policy = shared_network(default_policy("org.test.Scope"));
    let out = python(&stage, As::Caller, &policy, &script);
    let all = text(&out);
    assert!(all.contains(&format!("refused {}", libc_eperm())), "{all}");

    // With the scope turned off and the network shared, the same socket is reachable:
    // the refusal above is Landlock's doing.
    let mut open = policy.clone();
    open.beyond.requirements.scope_abstract_unix = Level::Off;
    let out = python(&stage, As::Caller, &open, &script);
    assert!(text(&out).contains("reached"), "{}", text(&out));
}

fn libc_eperm() -> i32 {
    1
}

#[test]
fn an_allocation_over_the_memory_limit_fails() {
    let Some(stage) = Stage::new() else { return };
    let mut policy = default_policy("org.test.Memory");
    policy.beyond.limits.memory = Some(Limit {
        value: 256 << 20,
        origin: Default::default(),
    });
    let script = "
small = bytearray(16 * 1024 * 1024); print('small ok', flush=True)
try:
    big = bytearray(512 * 1024 * 1024); print('big ok')
except MemoryError:
    print('big refused')
";
    // Held by a memory cgroup (the allocation is touched and the OOM killer ends the
    // app, which portcullis-exec reports) or, without one, by RLIMIT_AS (refused).
    let out = python(&stage, As::Caller, &policy, script);
    let all = text(&out);
    assert!(all.contains("small ok") && !all.contains("big ok"), "{all}");
    assert!(
        all.contains("big refused") || all.contains("limit hit: memory 268435456 bytes"),
        "{all}"
    );
}

const FORK_LOOP: &str = "
import os, time
children = []
try:
    for _ in range(200):
        pid = os.fork()
        if pid == 0:
            time.sleep(2); os._exit(0)
        children.append(pid)
except OSError as e:
    print('fork refused', e.strerror)
print('children', len(children))
for pid in children:
    os.waitpid(pid, 0)
";

#[test]
fn a_fork_loop_stops_at_the_process_limit() {
    let Some(stage) = Stage::new() else { return };
    let mut policy = default_policy("org.test.Processes");
    policy.beyond.limits.processes = Some(Limit {
        value: 16,
        origin: Default::default(),
    });
    // An ordinary user: the sandbox's processes count against the limit.
    let out = python(&stage, As::Nobody, &policy, FORK_LOOP);
    let all = text(&out);
    let children: usize = all
        .lines()
        .find_map(|l| l.strip_prefix("children "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count: {all}"));
    assert!(all.contains("fork refused"), "{all}");
    assert!(
        children < 16,
        "{children} children under a limit of 16: {all}"
    );
    // The host's root is exempt from RLIMIT_NPROC; the launch's pids cgroup holds the
    // limit for root instead (see `defense::cgroup`).
    let out = python(&stage, As::Caller, &policy, FORK_LOOP);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let children: usize = all
        .lines()
        .find_map(|l| l.strip_prefix("children "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count: {all}"));
    assert!(children < 16, "{children} children as root: {all}");
    let _ = NOBODY;
}

#[test]
fn a_masked_subpath_is_invisible_while_its_parent_is_granted() {
    let Some(stage) = Stage::new() else { return };
    let home = stage.home(As::Caller);
    std::fs::create_dir_all(home.join(".ssh")).expect("mkdir .ssh");
    std::fs::write(home.join(".ssh/id_ed25519"), "secret key").expect("key");
    std::fs::write(home.join("notes.txt"), "visible").expect("notes");
    std::fs::create_dir_all(home.join("Documents")).expect("mkdir Documents");
    let (_, policy) = load(&policies_dir().join("examples/home-minus-secrets.policy"));
    let script = "
import os
home = os.environ['HOME']
print('notes', open(home + '/notes.txt').read())
print('ssh entries', os.listdir(home + '/.ssh'))
try:
    open(home + '/.ssh/id_ed25519').read(); print('key read')
except OSError as e:
    print('key hidden', e.strerror)
open(home + '/Documents/new.txt', 'w').write('x'); print('home writable')
try:
    open(home + '/new.txt', 'w').write('x'); print('new in home')
except OSError as e:
    print('nothing new directly in home', e.strerror)
";
    let out = python(&stage, As::Caller, &policy, script);
    let all = text(&out);
    assert!(all.contains("notes visible"), "{all}");
    assert!(all.contains("ssh entries []"), "{all}");
    assert!(all.contains("key hidden"), "{all}");
    assert!(all.contains("home writable"), "{all}");
    // The price of holding `~/.ssh` (ARCHITECTURE.md): `~` itself is on the way to it.
    assert!(all.contains("nothing new directly in home"), "{all}");
    assert_eq!(
        std::fs::read_to_string(home.join(".ssh/id_ed25519")).unwrap(),
        "secret key"
    );
}

#[test]
fn a_single_device_node_is_the_only_extra_device() {
    let Some(stage) = Stage::new() else { return };
    let candidates = [
        "/dev/kmsg",
        "/dev/loop-control",
        "/dev/rtc0",
        "/dev/ttyS0",
        "/dev/mem",
    ];
    let present: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|p| std::path::Path::new(p).exists())
        .collect();
    if present.len() < 2 {
        portcullis_tests::skip!("this host has fewer than two of {candidates:?}");
        return;
    }
    let mut policy = default_policy("org.test.Device");
    policy.beyond.device_nodes.push(DeviceNode {
        path: present[0].to_string(),
        writable: false,
        origin: Default::default(),
    });
    let script = format!(
        "import os, stat\nfor p in {present:?}:\n    print(p, 'char' if os.path.exists(p) and stat.S_ISCHR(os.stat(p).st_mode) else 'absent')\n"
    );
    let out = python(&stage, As::Caller, &policy, &script);
    let all = text(&out);
    assert!(all.contains(&format!("{} char", present[0])), "{all}");
    for other in &present[1..] {
        assert!(all.contains(&format!("{other} absent")), "{all}");
    }
}
