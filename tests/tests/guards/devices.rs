//! `device-node` grants only single character or block devices: the executor refuses a
//! blob from the real backends whose device-node grant is a directory (`/dev/shm`, the
//! host's whole shared memory) with 125 before anything exists on the host, while a real
//! device node is bound and usable. (The checker's side is in [`super::check`].)

use portcullis_blob::mounts::{MountOp, PathExpr};
use portcullis_ir::beyond::DeviceNode;
use portcullis_ir::Policy;

use crate::executor::{blob_with, default_policy, As, Stage};

fn with_node(path: &str, created: &std::path::Path) -> (Policy, Vec<MountOp>) {
    let mut policy = default_policy("org.test.Node");
    policy.beyond.device_nodes.push(DeviceNode {
        path: path.to_string(),
        writable: true,
        origin: Default::default(),
    });
    let extra = vec![MountOp::HostDir {
        path: PathExpr::new(created.to_string_lossy()),
        mode: 0o700,
    }];
    (policy, extra)
}

#[test]
fn a_device_node_grant_that_is_a_directory_is_refused_before_any_effect() {
    let Some(stage) = Stage::new() else {
        return;
    };
    for who in [As::Caller, As::Nobody] {
        let created = stage.home(who).join("created-by-the-plan");
        for dir in ["/dev/shm", "/dev/pts"] {
            let (policy, extra) = with_node(dir, &created);
            let blob = blob_with(&policy, extra);
            assert_eq!(blob.device_nodes, [PathExpr::new(dir)]);
            let path = stage.write_blob("node-dir.blob", &blob.encode());
            let out = stage.run(who, &[path.to_str().unwrap(), "--", "/bin/true"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(125), "{who:?} {dir}: {stderr}");
            assert!(
                stderr.contains("device nodes")
                    && stderr.contains(&format!("`{dir}` is a directory")),
                "{who:?} {dir}: {stderr}"
            );
            assert!(!created.exists(), "{who:?} {dir}: the plan ran on the host");
        }
        // A real character device is granted, and works.
        let (policy, extra) = with_node("/dev/full", &created);
        let path = stage.write_blob("node-dev.blob", &blob_with(&policy, extra).encode());
        let out = stage.run(
            who,
            &[
                path.to_str().unwrap(),
                "--",
                "/bin/sh",
                "-c",
                "test -c /dev/full && ! echo x > /dev/full",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{who:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(created.is_dir(), "{who:?}");
    }
}

#[test]
fn verify_checks_the_device_node_section_against_the_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("serial.policy");
    std::fs::write(
        &policy,
        "app org.test.Serial {\n    device-node /dev/ttyUSB0\n}\n",
    )
    .expect("policy");
    let blob = dir.path().join("serial.blob");
    let portcullis = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(crate::executor::workspace_bin("portcullis"))
            .args(args)
            .output()
            .expect("spawn portcullis")
    };
    let out = portcullis(&[
        "compile".as_ref(),
        policy.as_os_str(),
        "-o".as_ref(),
        blob.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = portcullis(&["verify".as_ref(), blob.as_os_str()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("device nodes: ok (1 checked at launch)"),
        "{text}"
    );
    // A blob whose section leaves the node out would let it be anything: refused.
    let mut decoded = portcullis_blob::Blob::decode(&std::fs::read(&blob).unwrap()).unwrap();
    decoded.device_nodes.clear();
    std::fs::write(&blob, decoded.encode()).unwrap();
    let out = portcullis(&["verify".as_ref(), blob.as_os_str()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("portcullis::verify::device-nodes"), "{text}");
}
