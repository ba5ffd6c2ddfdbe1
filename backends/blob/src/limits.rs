//! The resource-limits section: memory, processes, open files, CPU time and CPU share.
//!
//! Written by `portcullis_backends::landlock::limits_section`, applied by the executor:
//! memory, processes and a CPU share by the launch's own cgroup (v2 where the caller can
//! write the unified hierarchy with the controller, else v1; `executor/src/cgroup.rs`),
//! open files, CPU time and core dumps by rlimits, and memory and processes by rlimits
//! too when no cgroup can hold them (`executor/src/limits.rs`). [`mechanism`] says so for
//! `explain` and `audit`.
//!
//! The memory limit also bounds the sandbox's RAM-backed file systems ([`tmpfs_bounds`]):
//! rlimits do not count the pages of a tmpfs, so without a bound an app under `memory 256M`
//! could still fill the machine's memory through `/dev/shm`.

use crate::landlock::Requirement;

/// The accepted range of each limit, `(name, lowest, highest)`, in the unit of its field:
/// memory 1 MiB to 128 TiB, processes 1 to 4194304 (`PID_MAX_LIMIT`), open files 1 to
/// 1048576 (the default `fs.nr_open`), CPU time 1 s to one year, CPU share 1 to 102400
/// percent. The same table as `portcullis_ir::beyond::LIMIT_RANGES` (the checker's); the
/// decoder refuses a value outside it, so that no value can mean "unlimited"
/// (`RLIM_INFINITY`) or overflow on its way to the kernel.
pub const RANGES: [(&str, u64, u64); 5] = [
    ("memory", 1 << 20, 128 << 40),
    ("processes", 1, 4_194_304),
    ("open-files", 1, 1_048_576),
    ("cpu-time", 1, 8760 * 3600),
    ("cpu-share", 1, 102_400),
];

/// The size of every tmpfs when the policy sets no memory limit: 1 GiB. Flatpak and
/// bubblewrap mount `/dev` (and so `/dev/shm`) and `--tmpfs` mounts without `size=`, which
/// lets each of them take half of the machine's RAM.
pub const DEFAULT_TMPFS_SIZE: u64 = 1 << 30;
/// The fewest inodes a tmpfs gets, whatever its size: enough for the directories and mount
/// points of a large plan in the root tmpfs.
pub const MIN_TMPFS_INODES: u64 = 16_384;
/// Bytes of tmpfs size per inode above [`MIN_TMPFS_INODES`] (inodes are kernel memory that
/// `size=` does not count).
pub const TMPFS_BYTES_PER_INODE: u64 = 16 << 10;

/// The `size=` and `nr_inodes=` of every tmpfs the executor mounts: the root, the scratch
/// area, `/dev` (and with it `/dev/shm`), the plan's tmpfs mounts and deny masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TmpfsBounds {
    /// Bytes (`size=`).
    pub size: u64,
    /// Inodes (`nr_inodes=`).
    pub nr_inodes: u64,
}

/// Each tmpfs may hold as much as the memory limit allows the app, or
/// [`DEFAULT_TMPFS_SIZE`] without one; its inodes are one per [`TMPFS_BYTES_PER_INODE`],
/// at least [`MIN_TMPFS_INODES`]. The bound is per mount: `/dev/shm` and a `/tmp`-like
/// tmpfs can each be filled up to it.
pub fn tmpfs_bounds(limits: &LimitsSection) -> TmpfsBounds {
    let size = limits.memory.unwrap_or(DEFAULT_TMPFS_SIZE);
    TmpfsBounds {
        size,
        nr_inodes: (size / TMPFS_BYTES_PER_INODE).max(MIN_TMPFS_INODES),
    }
}

/// The limits of one sandbox. A `None` value is not limited.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LimitsSection {
    /// How hard the limits must hold: with `Required`, a limit that cannot be applied
    /// aborts the launch (exit 125).
    pub level: Requirement,
    /// Bytes of memory (cgroup `memory.max`; else `RLIMIT_AS` and `RLIMIT_DATA`).
    pub memory: Option<u64>,
    /// Processes and threads of the sandbox (cgroup `pids.max`; else `RLIMIT_NPROC`).
    pub processes: Option<u64>,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: Option<u64>,
    /// Seconds of CPU time (`RLIMIT_CPU`).
    pub cpu_time: Option<u64>,
    /// Percent of one CPU (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`).
    pub cpu_share: Option<u64>,
}

impl LimitsSection {
    /// Each limit with its name in [`RANGES`], in that order.
    pub fn named(&self) -> [(&'static str, Option<u64>); 5] {
        [
            ("memory", self.memory),
            ("processes", self.processes),
            ("open-files", self.open_files),
            ("cpu-time", self.cpu_time),
            ("cpu-share", self.cpu_share),
        ]
    }

    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.memory.is_none()
            && self.processes.is_none()
            && self.open_files.is_none()
            && self.cpu_time.is_none()
            && self.cpu_share.is_none()
    }
}

/// How the executor enforces the limit called `name` (its policy-language word), as far
/// as it can be said before the launch: the cgroup limits depend on the launch host's
/// cgroup layout and on who launches.
pub fn mechanism(name: &str) -> &'static str {
    match name {
        "memory" => {
            "decided at launch: cgroup v2 memory.max (swap 0, OOM kills the group), \
             else cgroup v1 memory.limit_in_bytes, else RLIMIT_AS (counts reserved address space)"
        }
        "processes" => {
            "decided at launch: cgroup v2 pids.max, else cgroup v1 pids.max, \
             else RLIMIT_NPROC (never for the host's root: refused when required)"
        }
        "cpu-share" => {
            "decided at launch: cgroup v2 cpu.max, else cgroup v1 cpu.cfs_quota_us; \
             no rlimit (refused when required)"
        }
        "open-files" => "RLIMIT_NOFILE",
        "cpu-time" => "RLIMIT_CPU (SIGXCPU, then SIGKILL a second later)",
        _ => "unknown limit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_names_its_mechanism() {
        for name in ["memory", "processes", "cpu-share"] {
            assert!(
                mechanism(name).starts_with("decided at launch: cgroup v2"),
                "{name}"
            );
        }
        assert_eq!(mechanism("open-files"), "RLIMIT_NOFILE");
        assert!(mechanism("cpu-time").starts_with("RLIMIT_CPU"));
        assert!(mechanism("processes").contains("never for the host's root"));
        assert_eq!(mechanism("swap"), "unknown limit");
    }

    #[test]
    fn tmpfs_bounds_follow_the_memory_limit() {
        let none = LimitsSection::default();
        assert_eq!(
            tmpfs_bounds(&none),
            TmpfsBounds {
                size: 1 << 30,
                nr_inodes: 65_536
            }
        );
        let small = LimitsSection {
            memory: Some(64 << 20),
            ..LimitsSection::default()
        };
        assert_eq!(
            tmpfs_bounds(&small),
            TmpfsBounds {
                size: 64 << 20,
                nr_inodes: MIN_TMPFS_INODES
            }
        );
    }
}
