//! The cgroup module: reading the host's layout (pure), and making, filling and removing
//! a launch's cgroups on this host's real cgroupfs (as root, where a hierarchy offers the
//! controllers; elsewhere the fallback reasons are checked instead).

use std::path::{Path, PathBuf};

use super::*;

const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

#[test]
fn hierarchies_are_read_from_mountinfo() {
    let found = hierarchies(HYBRID);
    assert_eq!(found.len(), 5, "{found:?}");
    assert_eq!(found[0].mount, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
    assert_eq!(found[0].controllers, ["cpu"]);
    assert_eq!(found[1].controllers, ["memory"]);
    assert!(found[3].controllers.is_empty(), "name=systemd has none");
    assert_eq!(found[4].version, Version::V2);
    assert_eq!(found[4].mount, Path::new("/sys/fs/cgroup/unified"));
}

#[test]
fn memberships_split_v2_and_each_v1_controller() {
    let (v2, v1) =
        memberships("4:memory:/a/b\n1:cpu,cpuacct:/\n9:name=systemd:/x\n0::/user.slice\n");
    assert_eq!(v2.as_deref(), Some("/user.slice"));
    assert!(v1.contains(&("memory".into(), "/a/b".into())));
    assert!(v1.contains(&("cpu".into(), "/".into())));
    assert!(v1.contains(&("cpuacct".into(), "/".into())));
}

#[test]
fn a_cgroup_path_maps_into_its_mount() {
    let whole = Hierarchy {
        mount: PathBuf::from("/sys/fs/cgroup/memory"),
        root: "/".into(),
        version: Version::V1,
        controllers: vec!["memory".into()],
    };
    assert_eq!(
        dir_of(&whole, "/a/b"),
        Some(PathBuf::from("/sys/fs/cgroup/memory/a/b"))
    );
    assert_eq!(dir_of(&whole, "/"), Some(whole.mount.clone()));
    assert_eq!(dir_of(&whole, "/a/../.."), None);
    let subtree = Hierarchy {
        root: "/container".into(),
        ..whole
    };
    assert_eq!(
        dir_of(&subtree, "/container/app"),
        Some(PathBuf::from("/sys/fs/cgroup/memory/app"))
    );
    assert_eq!(dir_of(&subtree, "/containerx"), None);
    assert_eq!(dir_of(&subtree, "/elsewhere"), None);
}

#[test]
fn a_cpu_share_is_a_quota_per_period() {
    assert_eq!(cpu_max(50), "50000 100000");
    assert_eq!(cpu_max(250), "250000 100000");
    assert_eq!(cpu_quota(1), 1000, "the kernel's minimum quota is 1 ms");
    assert_eq!(cpu_quota(u64::MAX), 1 << 40);
}

#[test]
fn counters_are_read_by_key() {
    let events = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
    assert_eq!(counter(events, "oom_kill"), 1);
    assert_eq!(counter(events, "max"), 12);
    assert_eq!(counter(events, "missing"), 0);
    let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
    assert_eq!(counter(v1, "oom_kill"), 3);
}

/// Whether this host lets the test make cgroups for `controller` (root, and a hierarchy
/// that offers it).
fn offered(host: &HostCgroups, controller: Controller) -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    root && host.hierarchies.iter().any(|h| match h.version {
        Version::V1 => h.controllers.iter().any(|c| c == controller.name()),
        Version::V2 => std::fs::read_to_string(h.mount.join("cgroup.controllers"))
            .unwrap_or_default()
            .split_whitespace()
            .any(|c| c == controller.name()),
    })
}

#[test]
fn cgroups_are_made_filled_and_removed_on_this_host() {
    let host = HostCgroups::read();
    let wanted = Wanted {
        memory: Some(256 << 20),
        processes: Some(64),
        cpu_share: Some(50),
    };
    let cgroups = create(wanted, "org.test.CgroupUnit", &host);
    let paths: Vec<PathBuf> = cgroups.paths().iter().map(|p| p.to_path_buf()).collect();
    let held = cgroups.held().clone();
    for (controller, how) in [
        (Controller::Memory, &held.memory),
        (Controller::Pids, &held.processes),
        (Controller::Cpu, &held.cpu_share),
    ] {
        let how = how.as_ref().expect("asked for");
        if !offered(&host, controller) {
            assert!(how.is_err(), "{controller:?}: {how:?}");
            continue;
        }
        let how = how
            .as_ref()
            .unwrap_or_else(|e| panic!("{controller:?}: {e}"));
        let dir = cgroups
            .dirs
            .iter()
            .find(|d| d.controllers.contains(&controller))
            .expect("a directory for an offered controller");
        assert!(dir.path.ends_with(format!(
            "portcullis/org.test.CgroupUnit-{}",
            std::process::id()
        )));
        let file = |name: &str| {
            std::fs::read_to_string(dir.path.join(name))
                .unwrap()
                .trim()
                .to_string()
        };
        match (dir.version, controller) {
            (Version::V2, Controller::Memory) => {
                assert_eq!(file("memory.max"), (256u64 << 20).to_string());
                assert_eq!(file("memory.oom.group"), "1");
            }
            (Version::V1, Controller::Memory) => {
                assert_eq!(file("memory.limit_in_bytes"), (256u64 << 20).to_string());
                if how.contains("memsw") {
                    assert_eq!(
                        file("memory.memsw.limit_in_bytes"),
                        (256u64 << 20).to_string()
                    );
                }
            }
            (_, Controller::Pids) => assert_eq!(file("pids.max"), "64"),
            (Version::V2, Controller::Cpu) => assert_eq!(file("cpu.max"), "50000 100000"),
            (Version::V1, Controller::Cpu) => {
                assert_eq!(file("cpu.cfs_quota_us"), "50000");
                assert_eq!(file("cpu.cfs_period_us"), "100000");
            }
        }
    }
    assert!(cgroups.events().is_empty(), "nothing ran in them");
    drop(cgroups);
    for path in &paths {
        assert!(!path.exists(), "{} left behind", path.display());
    }
}

#[test]
fn no_cgroup_is_made_when_no_hierarchy_is_mounted() {
    let host = HostCgroups {
        hierarchies: Vec::new(),
        v2: Some("/".into()),
        v1: Vec::new(),
    };
    let cgroups = create(
        Wanted {
            memory: Some(1 << 30),
            processes: None,
            cpu_share: Some(10),
        },
        "org.test.None",
        &host,
    );
    assert!(cgroups.paths().is_empty());
    let held = cgroups.held();
    assert_eq!(held.processes, None);
    let why = held.memory.clone().unwrap().unwrap_err();
    assert!(why.contains("no cgroup hierarchy offers `memory`"), "{why}");
    assert!(held.cpu_share.clone().unwrap().is_err());
}

#[test]
fn limit_events_name_the_limit() {
    let oom = LimitEvent::Memory {
        limit: 256 << 20,
        killed: 1,
    };
    assert!(oom.to_string().contains("out of memory"), "{oom}");
    let pids = LimitEvent::Processes {
        limit: 64,
        refused: 3,
    };
    assert_eq!(
        pids.to_string(),
        "processes 64: 3 process creation(s) refused (EAGAIN)"
    );
}

#[test]
fn a_stale_cgroup_of_an_executor_that_is_gone_is_swept_by_the_next_launch() {
    let host = HostCgroups::read();
    if !offered(&host, Controller::Pids) {
        return;
    }
    // A pid that no longer runs: a child that has been reaped.
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let gone = child.id();
    child.wait().expect("wait");
    let wanted = Wanted {
        processes: Some(8),
        ..Wanted::default()
    };
    let first = create(wanted, "org.test.Sweep", &host);
    let dir = first
        .dirs
        .iter()
        .find(|d| d.controllers.contains(&Controller::Pids))
        .expect("a pids cgroup");
    let base = dir.path.parent().expect("portcullis").to_path_buf();
    let stale = base.join(format!("org.test.Stale-{gone}"));
    let live = base.join(format!("org.test.Live-{}", std::process::id()));
    std::fs::create_dir(&stale).expect("stale cgroup");
    std::fs::create_dir(&live).expect("live cgroup");
    let second = create(wanted, "org.test.Sweep2", &host);
    assert!(!stale.exists(), "the stale cgroup was swept");
    assert!(live.exists(), "a running executor's cgroup stays");
    std::fs::remove_dir(&live).expect("remove live");
    drop(second);
    drop(first);
}
