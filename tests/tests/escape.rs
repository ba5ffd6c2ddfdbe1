//! The escape battery: `portcullis-probe` runs inside the Flatpak-default sandbox (as
//! compiled by the real backends, seccomp included) as root and as an unprivileged user,
//! tries every way out the issue names, and every attempt must fail.

use std::net::{TcpListener, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::process::{Child, Command, Stdio};

use crate::executor::{blob_with, default_policy, ro_bind, As, Stage};

/// Probes that must be present in every report, so the battery cannot pass empty.
const EXPECTED: &[&str] = &[
    "host-file",
    "etc-shadow",
    "write-runtime",
    "write-root",
    "read-only-grant",
    "other-processes",
    "ptrace",
    "unshare-user",
    "clone-newuser",
    "clone3",
    "mount",
    "fsopen",
    "open-tree",
    "move-mount",
    "tiocsti-filter",
    "tiocsti-high-bits",
    "tioclinux-filter",
    "tioclinux-high-bits",
    "tiocsti-pty",
    "keyctl",
    "perf-event-open",
    "init-module",
    "chroot",
    "personality",
    "tcp-host",
    "abstract-socket",
    "network-interfaces",
    "device",
    "sys-write",
    "signal-host",
    "no-new-privs",
    "seccomp-mode",
    "cap-effective",
];

/// A host process the sandbox must neither see nor signal; killed on drop.
struct Marker(Child);

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The host's first non-loopback address, if it has one.
fn host_address() -> Option<std::net::IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

fn battery(who: As) {
    let Some(stage) = Stage::new() else {
        return;
    };
    // Host things the sandbox must not reach.
    let secret = stage.dir.path().join("host-secret");
    std::fs::write(&secret, "secret").unwrap();
    let granted = stage.dir.path().join("granted-ro");
    std::fs::write(&granted, "read me").unwrap();
    std::fs::set_permissions(
        &granted,
        std::os::unix::fs::PermissionsExt::from_mode(0o666),
    )
    .unwrap();
    let loopback = TcpListener::bind("127.0.0.1:0").unwrap();
    let wildcard = TcpListener::bind("0.0.0.0:0").unwrap();
    let abstract_name = format!("portcullis-escape-{}-{who:?}", std::process::id());
    let _abstract =
        UnixListener::bind_addr(&SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap())
            .unwrap();
    let marker_text = format!("{}.25", 4000 + std::process::id() % 1000);
    let marker = Marker(
        Command::new("sleep")
            .arg(&marker_text)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let devices: Vec<&str> = [
        "/dev/kmsg",
        "/dev/mem",
        "/dev/vda",
        "/dev/sda",
        "/dev/nvme0n1",
    ]
    .into_iter()
    .filter(|d| std::path::Path::new(d).exists())
    .collect();

    let blob = blob_with(
        &default_policy("org.test.Escape"),
        vec![
            ro_bind(&stage.probe, "/run/probe/portcullis-probe"),
            ro_bind(&granted, "/run/granted/file"),
        ],
    );
    let path = stage.write_blob("escape.blob", &blob.encode());
    let mut args: Vec<String> = vec![
        path.to_string_lossy().into(),
        "--".into(),
        "/run/probe/portcullis-probe".into(),
        "--host-file".into(),
        secret.to_string_lossy().into(),
        "--ro-file".into(),
        "/run/granted/file".into(),
        "--tcp".into(),
        loopback.local_addr().unwrap().to_string(),
        "--abstract".into(),
        abstract_name.clone(),
        // Reversed, so that the probe's own command line does not hold the marker.
        "--marker-reversed".into(),
        marker_text.chars().rev().collect(),
        "--host-pid".into(),
        marker.0.id().to_string(),
    ];
    if let Some(ip) = host_address() {
        let port = wildcard.local_addr().unwrap().port();
        args.extend([
            "--tcp".into(),
            std::net::SocketAddr::new(ip, port).to_string(),
        ]);
    }
    for device in &devices {
        args.extend(["--device".into(), device.to_string()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = stage.run(who, &refs);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{who:?}: probe failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("probe JSON");
    let probes = report["probes"].as_array().expect("probes");
    let escaped: Vec<String> = probes
        .iter()
        .filter(|p| p["escaped"] != false)
        .map(|p| format!("{}: {}", p["name"], p["detail"]))
        .collect();
    assert!(
        escaped.is_empty(),
        "{who:?}: escapes:\n{}",
        escaped.join("\n")
    );
    for name in EXPECTED {
        if *name == "device" && devices.is_empty() {
            continue;
        }
        assert!(
            probes.iter().any(|p| p["name"] == *name),
            "{who:?}: probe `{name}` did not run"
        );
    }
    drop(marker);
}

#[test]
fn nothing_escapes_as_root() {
    battery(As::Caller);
}

#[test]
fn nothing_escapes_as_an_unprivileged_user() {
    battery(As::Nobody);
}
