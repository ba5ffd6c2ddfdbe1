//! The ways around TCP port rules, tried for real (issue 15): with a policy of
//! `share network; network { connect tcp ALLOWED; bind none }`, `portcullis-probe
//! --net-attacks` aims MPTCP, SCTP (by protocol and by `SOCK_SEQPACKET`), TCP Fast Open
//! through `sendto` and `sendmsg`, and io_uring at a host listener on a port the policy
//! does not list, as root and as uid 65534.
//!
//! Each attack runs three times: on the host (it works there), in a sandbox with the same
//! Landlock rules but Flatpak's filter (no port-rule hardening: it still works, because
//! Landlock's rules see TCP alone), and in the sandbox as compiled (refused, each with the
//! errno the filter documents, which no kernel answer for a missing protocol shares).
//! Also: `udp none` refuses UDP while TCP to the allowed port works, and `allow io-uring`
//! really lets `io_uring_setup` through.

use std::collections::BTreeMap;
use std::net::{SocketAddr, SocketAddrV4, TcpListener};

use portcullis_blob::{Blob, SockFilter};
use portcullis_compiler::{compile, Options};
use portcullis_ir::seccomp::{spec, Arch, Features};
use portcullis_ir::Policy;
use portcullis_syntax::SourceFile;

use crate::executor::{blob_with, ro_bind, As, Stage};

const EACCES: i32 = 13;
const ENOSYS: i32 = 38;
const EOPNOTSUPP: i32 = 95;

/// Outcome per attack: `Ok(())` got through, `Err(errno)` refused.
type Outcomes = BTreeMap<String, Result<(), i32>>;

fn policy(text: &str) -> Policy {
    let compiled = compile(&SourceFile::new("net.policy", text), &Options::default());
    compiled.policy.unwrap_or_else(|| {
        panic!("{text}: {:?}", compiled.diagnostics);
    })
}

fn listener() -> (TcpListener, SocketAddrV4) {
    let l = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
    let SocketAddr::V4(addr) = l.local_addr().expect("address") else {
        unreachable!("bound to an IPv4 address")
    };
    (l, addr)
}

fn parse(stdout: &[u8]) -> Outcomes {
    let report: serde_json::Value = serde_json::from_slice(stdout).expect("the probe prints JSON");
    report["attacks"]
        .as_array()
        .expect("attacks")
        .iter()
        .map(|a| {
            let name = a["name"].as_str().expect("name").to_string();
            let result = if a["ok"] == true {
                Ok(())
            } else {
                Err(a["errno"].as_i64().expect("errno") as i32)
            };
            (name, result)
        })
        .collect()
}

fn probe_args(target: SocketAddrV4, allowed: Option<SocketAddrV4>) -> Vec<String> {
    let mut args = vec!["--net-attacks".to_string(), target.to_string()];
    if let Some(allowed) = allowed {
        args.extend(["--net-allowed".to_string(), allowed.to_string()]);
    }
    args
}

/// The attacks on the host, without any sandbox.
fn on_host(stage: &Stage, target: SocketAddrV4) -> Outcomes {
    let out = std::process::Command::new(&stage.probe)
        .args(probe_args(target, None))
        .output()
        .expect("run the probe");
    assert!(out.status.success(), "{out:?}");
    parse(&out.stdout)
}

/// The attacks inside `blob` as `who`; `None` (with the reason printed) when the kernel
/// cannot hold the required Landlock network rules.
fn in_sandbox(
    stage: &Stage,
    who: As,
    blob: &Blob,
    target: SocketAddrV4,
    allowed: Option<SocketAddrV4>,
) -> Option<Outcomes> {
    let path = stage.write_blob(&format!("net-{who:?}.blob"), &blob.encode());
    let mut args = vec![
        path.to_string_lossy().into_owned(),
        "--".to_string(),
        "/run/probe/portcullis-probe".to_string(),
    ];
    args.extend(probe_args(target, allowed));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = stage.run(who, &refs);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(125) && stderr.to_lowercase().contains("landlock") {
        portcullis_tests::skip!("the kernel cannot hold Landlock TCP port rules: {stderr}");
        return None;
    }
    assert!(out.status.success(), "{who:?}: {stderr}");
    Some(parse(&out.stdout))
}

/// `blob` with the filter of `features` instead of its own (same Landlock rules).
fn with_filter(blob: &Blob, features: Features) -> Blob {
    let arch = Arch::host().expect("supported machine");
    let program = portcullis_backends::seccomp::compile(&spec(features, arch)).expect("filter");
    let mut out = blob.clone();
    out.seccomp = program
        .into_iter()
        .map(|i| SockFilter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    out
}

fn port_rule_attacks(who: As) {
    let Some(stage) = Stage::new() else {
        return;
    };
    let (_denied, target) = listener();
    let (_allowed, allowed) = listener();
    let policy = policy(&format!(
        "app org.test.Ports {{\n    share network\n    \
         network {{ connect tcp {}; bind none }}\n    \
         require landlock-network required\n}}\n",
        allowed.port()
    ));
    let features = Features::from_policy(&policy);
    assert!(features.port_rules && !features.io_uring);
    let blob = blob_with(
        &policy,
        vec![ro_bind(&stage.probe, "/run/probe/portcullis-probe")],
    );

    let host = on_host(&stage, target);
    let Some(ours) = in_sandbox(&stage, who, &blob, target, Some(allowed)) else {
        return;
    };
    let flatpak_filter = Features {
        port_rules: false,
        io_uring: true,
        ..features
    };
    let without = in_sandbox(
        &stage,
        who,
        &with_filter(&blob, flatpak_filter),
        target,
        Some(allowed),
    )
    .expect("the same Landlock rules held a moment ago");
    let report = format!("{who:?}\nhost: {host:?}\nflatpak's filter: {without:?}\nours: {ours:?}");

    // Landlock holds in both sandboxes: plain TCP to the unlisted port, and any bind,
    // are refused; TCP to the listed port works.
    for outcomes in [&ours, &without] {
        assert_eq!(outcomes["tcp-connect"], Err(EACCES), "{report}");
        assert_eq!(outcomes["tcp-bind"], Err(EACCES), "{report}");
        assert_eq!(outcomes["tcp-allowed"], Ok(()), "{report}");
    }
    // Each bypass that works on the host also works past Landlock alone (this is what the
    // hardening is for) and is refused by our filter with its own errno.
    for (attack, errno) in [
        ("mptcp-connect", EACCES),
        ("mptcp-bind", EACCES),
        ("sctp-stream", EACCES),
        ("sctp-seqpacket", EACCES),
        ("tfo-sendto", EOPNOTSUPP),
        ("tfo-sendmsg", EOPNOTSUPP),
        ("io-uring-setup", ENOSYS),
    ] {
        assert_eq!(ours[attack], Err(errno), "{attack}: {report}");
        match host[attack] {
            Ok(()) => assert_eq!(
                without[attack],
                Ok(()),
                "{attack} works on the host but not past Landlock alone: {report}"
            ),
            // The kernel lacks the protocol (SCTP not loaded, say): it answers with its
            // own errno, never ours, so the refusal above is the filter's.
            Err(kernel) => {
                assert_ne!(kernel, errno, "{attack}: {report}");
                assert_eq!(without[attack], Err(kernel), "{attack}: {report}");
            }
        }
    }
    // MPTCP and TCP Fast Open exist on the kernels CI runs (they are on by default):
    // the demonstration must not pass vacuously.
    assert_eq!(host["mptcp-connect"], Ok(()), "{report}");
    assert_eq!(host["tfo-sendto"], Ok(()), "{report}");
    eprintln!("{report}");
    // UDP is outside the port rules unless `udp none`.
    assert_eq!(ours["udp-socket"], Ok(()), "{report}");
}

#[test]
fn port_rule_bypasses_are_refused_as_root() {
    port_rule_attacks(As::Caller);
}

#[test]
fn port_rule_bypasses_are_refused_as_an_unprivileged_user() {
    port_rule_attacks(As::Nobody);
}

fn udp_none(who: As) {
    let Some(stage) = Stage::new() else {
        return;
    };
    let (_denied, target) = listener();
    let (_allowed, allowed) = listener();
    let policy = policy(&format!(
        "app org.test.NoUdp {{\n    share network\n    \
         network {{ connect tcp {}; bind none; udp none }}\n}}\n",
        allowed.port()
    ));
    assert!(Features::from_policy(&policy).udp_none);
    let blob = blob_with(
        &policy,
        vec![ro_bind(&stage.probe, "/run/probe/portcullis-probe")],
    );
    let Some(ours) = in_sandbox(&stage, who, &blob, target, Some(allowed)) else {
        return;
    };
    assert_eq!(on_host(&stage, target)["udp-socket"], Ok(()));
    assert_eq!(ours["udp-socket"], Err(EACCES), "{who:?}: {ours:?}");
    assert_eq!(ours["tcp-allowed"], Ok(()), "{who:?}: {ours:?}");
    assert_eq!(ours["tcp-connect"], Err(EACCES), "{who:?}: {ours:?}");
}

#[test]
fn udp_none_refuses_udp_while_tcp_to_the_allowed_port_works() {
    udp_none(As::Caller);
    udp_none(As::Nobody);
}

fn io_uring(who: As) {
    let Some(stage) = Stage::new() else {
        return;
    };
    let (_listener, target) = listener();
    if on_host(&stage, target)["io-uring-setup"].is_err() {
        portcullis_tests::skip!("io_uring is disabled on this host");
        return;
    }
    let mut outcome = BTreeMap::new();
    for (name, text) in [
        ("default", "app org.test.Ring {\n}\n"),
        ("allowed", "app org.test.Ring {\n    allow io-uring\n}\n"),
    ] {
        let policy = policy(text);
        let blob = blob_with(
            &policy,
            vec![ro_bind(&stage.probe, "/run/probe/portcullis-probe")],
        );
        let Some(outcomes) = in_sandbox(&stage, who, &blob, target, None) else {
            return;
        };
        outcome.insert(name, outcomes["io-uring-setup"]);
    }
    assert_eq!(outcome["default"], Err(ENOSYS), "{who:?}");
    assert_eq!(outcome["allowed"], Ok(()), "{who:?}");
}

#[test]
fn io_uring_is_refused_by_default_and_allow_io_uring_grants_it() {
    io_uring(As::Caller);
    io_uring(As::Nobody);
}
