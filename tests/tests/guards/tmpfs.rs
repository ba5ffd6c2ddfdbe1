//! Every tmpfs of the sandbox is bounded: under `limits { memory 64M }`, writing 128 MiB to
//! `/dev/shm` (inside the sandbox's `/dev` tmpfs) and to a tmpfs mount of the real plan
//! (`/tmp/.X11-unix`) stops at 64 MiB — with ENOSPC from the tmpfs bound, or killed first
//! where a memory cgroup holds the limit (it charges tmpfs pages) — as root and as uid
//! 65534; rlimits do not count tmpfs pages, so without `size=` both writes would succeed. Without a memory
//! limit the mounts carry the documented default.

use portcullis_blob::limits::{tmpfs_bounds, DEFAULT_TMPFS_SIZE};
use portcullis_blob::mounts::MountOp;
use portcullis_ir::beyond::Limit;

use crate::executor::{blob_with, default_policy, As, Stage};

const FILL: &str = r#"
for d in /dev/shm /tmp/.X11-unix; do
    err=$(dd if=/dev/zero of="$d/fill" bs=1M count=128 2>&1)
    echo "$d $? $(stat -c %s "$d/fill") $(echo "$err" | grep -c 'No space left on device')"
    rm -f "$d/fill"
done
"#;

#[test]
fn tmpfs_mounts_and_dev_shm_are_bounded_by_the_memory_limit() {
    let Some(stage) = Stage::new() else {
        return;
    };
    let mut policy = default_policy("org.test.Tmpfs");
    policy.beyond.limits.memory = Some(Limit {
        value: 64 << 20,
        origin: Default::default(),
    });
    let blob = blob_with(&policy, vec![]);
    assert!(
        blob.mounts.iter().any(|op| matches!(
            op,
            MountOp::Tmpfs { dest, .. } if dest.as_str() == "/tmp/.X11-unix"
        )),
        "the default plan mounts a tmpfs at /tmp/.X11-unix"
    );
    assert_eq!(tmpfs_bounds(&blob.limits).size, 64 << 20);
    let path = stage.write_blob("tmpfs.blob", &blob.encode());
    for who in [As::Caller, As::Nobody] {
        let out = stage.run(who, &[path.to_str().unwrap(), "--", "/bin/sh", "-c", FILL]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(137) {
            // A memory cgroup holds the limit and charges tmpfs pages: the kernel's OOM
            // killer may pick any process of the sandbox (a v1 cgroup has no group kill),
            // pid 1 included, which ends the launch. Bounded all the same, and reported.
            assert!(stderr.contains("limit hit: memory"), "{who:?}: {stderr}");
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{who:?}: {stderr}");
        let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split(' ').collect()).collect();
        assert_eq!(lines.len(), 2, "{who:?}: {stdout}");
        for (line, dir) in lines.iter().zip(["/dev/shm", "/tmp/.X11-unix"]) {
            let size: u64 = line[2].parse().expect("size");
            assert_eq!(line[0], dir);
            // Never past the bound: either the tmpfs is full (ENOSPC at exactly 64 MiB),
            // or — where a memory cgroup holds the limit, which charges tmpfs pages to the
            // sandbox — the kernel kills the writer first (128 + SIGKILL).
            let full = line[1] == "1" && size == 64 << 20 && line[3] == "1";
            let killed = line[1] == "137" && size <= 64 << 20;
            assert!(
                full || killed,
                "{who:?}: dd must stop at 64 MiB (ENOSPC, or killed by the memory cgroup): {stdout}"
            );
        }
    }
}

#[test]
fn without_a_memory_limit_every_tmpfs_gets_the_default_bound() {
    let Some(stage) = Stage::new() else {
        return;
    };
    let blob = blob_with(&default_policy("org.test.Tmpfs"), vec![]);
    let path = stage.write_blob("tmpfs-default.blob", &blob.encode());
    let script = "grep ' - tmpfs ' /proc/self/mountinfo";
    let out = stage.run(
        As::Nobody,
        &[path.to_str().unwrap(), "--", "/bin/sh", "-c", script],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let size = format!("size={}k", DEFAULT_TMPFS_SIZE >> 10);
    let mounts: Vec<&str> = stdout.lines().collect();
    // The root, /dev and /tmp/.X11-unix at least; every one of them bounded.
    assert!(mounts.len() >= 3, "{stdout}");
    for line in &mounts {
        assert!(
            line.contains(&size) && line.contains("nr_inodes=65536"),
            "unbounded tmpfs: {line}"
        );
    }
}
