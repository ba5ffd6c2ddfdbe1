//! The resource-limits section: memory, processes, open files, CPU time and CPU share.
//!
//! Written by `portcullis_backends::landlock::limits_section`, applied by the executor:
//! memory, processes and a CPU share by the launch's own cgroup (v2 where the caller can
//! write the unified hierarchy with the controller, else v1; `executor/src/cgroup.rs`),
//! open files, CPU time and core dumps by rlimits, and memory and processes by rlimits
//! too when no cgroup can hold them (`executor/src/limits.rs`). [`mechanism`] says so for
//! `explain` and `audit`.

use crate::landlock::Requirement;

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
    use super::mechanism;

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
}
