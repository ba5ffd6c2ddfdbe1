//! The resource-limits step: rlimits from the blob's limits section, for what the
//! launch's cgroups ([`crate::cgroup`]) do not already hold.
//!
//! Runs inside the sandbox's user namespace, before exec; rlimits are inherited by every
//! process the command starts and can only be lowered from there.
//!
//! | limit | held by |
//! |---|---|
//! | memory | the memory cgroup (v2, else v1); else `RLIMIT_AS` and `RLIMIT_DATA` (an allocation past it fails with `ENOMEM`; this also counts address space that is only reserved) |
//! | processes | the pids cgroup (v2, else v1), for root too; else `RLIMIT_NPROC` (a `fork`/`clone` past it fails with `EAGAIN`), which cannot hold for the host's root |
//! | open files | `RLIMIT_NOFILE` (`EMFILE`) |
//! | cpu time | `RLIMIT_CPU` soft (`SIGXCPU`), hard one second later (`SIGKILL`) |
//! | cpu share | the cpu cgroup (v2 `cpu.max`, else v1 CFS quota); no rlimit can hold it |
//! | core dumps | `RLIMIT_CORE` 0 whenever a limits section exists: a dump of a process killed at a limit would be written where the app's files are |
//!
//! `RLIMIT_NPROC` counts the processes of the *real uid*, and since Linux 5.14 the count
//! is kept per user namespace (`ucounts`): processes of the sandbox's own user namespace
//! are charged to that namespace's counter for the uid they run as, not to the host
//! user's other processes. Because the executor always enters a new user namespace, the
//! limit therefore counts the sandbox's processes (and threads) only, including the
//! executor itself. The kernel skips the check for tasks with `CAP_SYS_ADMIN` or
//! `CAP_SYS_RESOURCE` in the *initial* user namespace, which a sandboxed process never has,
//! even when the executor was started by root.
//!
//! The kernel also exempts every task whose *host* uid is 0 (`INIT_USER`), whatever its
//! namespace: when root launches the sandbox with its own uid mapped and no pids cgroup
//! could be made, `RLIMIT_NPROC` is still set but cannot bind, and the step says so (a
//! required process limit then aborts the launch).
//!
//! A value is never raised: when the current hard limit is already lower, it stays. A
//! note names the mechanism of every limit when one of them fell back to an rlimit or
//! was not applied (always with `PORTCULLIS_EXEC_REPORT` set).

use std::fmt;

use portcullis_blob::landlock::Requirement;
use portcullis_blob::limits::LimitsSection;

use crate::cgroup::Held;
use crate::sys;

/// One limit that was applied or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The limit's name in the policy language.
    pub name: &'static str,
    /// The value asked for.
    pub value: u64,
    /// How it was applied (`RLIMIT_AS, RLIMIT_DATA`, `cgroup v1 pids.max`), or why not.
    pub how: Result<String, String>,
}

/// What the limits step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitsReport {
    /// One entry per limit in the section, in the table's order.
    pub limits: Vec<Applied>,
}

impl fmt::Display for LimitsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.limits.is_empty() {
            return write!(f, "limits: none");
        }
        let parts: Vec<String> = self
            .limits
            .iter()
            .map(|a| match &a.how {
                Ok(how) => format!("{} {} ({how})", a.name, a.value),
                Err(why) => format!("{} {} not applied: {why}", a.name, a.value),
            })
            .collect();
        write!(f, "limits: {}", parts.join("; "))
    }
}

/// A required limit that could not be applied; the launch is aborted (exit 125).
#[derive(Debug, PartialEq, Eq)]
pub struct LimitsError {
    /// The limit's name.
    pub name: &'static str,
    /// Why.
    pub why: String,
}

impl fmt::Display for LimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is required and could not be applied: {}",
            self.name, self.why
        )
    }
}

/// Lowers one resource to `soft`/`hard` (never above the current hard limit).
fn lower(resource: sys::Resource, soft: u64, hard: u64) -> Result<(), String> {
    let (_, current_hard) = sys::getrlimit(resource).map_err(|e| e.to_string())?;
    let hard = hard.min(current_hard);
    sys::setrlimit(resource, soft.min(hard), hard).map_err(|e| e.to_string())
}

/// Whether this process runs as the host's root: its uid, mapped through the user
/// namespace it is in, is 0 outside (`/proc/self/status` and `/proc/self/uid_map`).
fn host_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let Some(uid) = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next())
        .and_then(|id| id.parse::<u64>().ok())
    else {
        return false;
    };
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    map.lines().any(|line| {
        let f: Vec<u64> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        f.len() == 3 && f[0] <= uid && uid < f[0] + f[2] && f[1] + (uid - f[0]) == 0
    })
}

/// Lowers each of `resources` to `soft`/`hard`.
fn rlimits(resources: &[sys::Resource], soft: u64, hard: u64) -> Result<(), String> {
    resources.iter().try_for_each(|r| lower(*r, soft, hard))
}

/// Applies the section to the calling process: `held` says which limits the launch's
/// cgroups already hold (and why the others fall to rlimits).
pub fn apply(section: &LimitsSection, held: &Held) -> Result<LimitsReport, LimitsError> {
    use sys::Resource::{AddressSpace, Core, Cpu, Data, OpenFiles, Processes};
    let mut report = LimitsReport::default();
    let mut fell_back = false;
    let mut push = |name: &'static str,
                    value: Option<u64>,
                    how: &mut dyn FnMut(u64) -> Result<String, String>| {
        if let Some(value) = value {
            report.limits.push(Applied {
                name,
                value,
                how: how(value),
            });
        }
    };
    push("memory", section.memory, &mut |v| match &held.memory {
        Some(Ok(how)) => Ok(how.to_string()),
        other => {
            fell_back = true;
            rlimits(&[AddressSpace, Data], v, v)?;
            Ok(format!("RLIMIT_AS, RLIMIT_DATA: {}", no_cgroup(other)))
        }
    });
    push(
        "processes",
        section.processes,
        &mut |v| match &held.processes {
            Some(Ok(how)) => Ok(how.to_string()),
            other => {
                fell_back = true;
                rlimits(&[Processes], v, v)?;
                if host_root() {
                    return Err(format!(
                        "{}, and the kernel exempts the host's root from RLIMIT_NPROC (it is \
                     set, but cannot bind); launch as an ordinary user, or where a pids \
                     cgroup can be made",
                        no_cgroup(other)
                    ));
                }
                Ok(format!(
                    "RLIMIT_NPROC, counted in the sandbox's user namespace: {}",
                    no_cgroup(other)
                ))
            }
        },
    );
    push("open-files", section.open_files, &mut |v| {
        rlimits(&[OpenFiles], v, v).map(|()| "RLIMIT_NOFILE".to_string())
    });
    push("cpu-time", section.cpu_time, &mut |v| {
        rlimits(&[Cpu], v, v.saturating_add(1)).map(|()| "RLIMIT_CPU".to_string())
    });
    push(
        "cpu-share",
        section.cpu_share,
        &mut |v| match &held.cpu_share {
            Some(Ok(how)) => Ok(match usable_cpus() {
                // A share is a percent of one CPU: from 100% per usable CPU up, it caps
                // nothing.
                Some(n) if v >= 100 * n => {
                    format!("{how}; at or above 100% x this host's {n} usable CPUs it caps nothing")
                }
                _ => how.to_string(),
            }),
            other => Err(format!(
                "{}; no rlimit can hold a cpu share",
                no_cgroup(other)
            )),
        },
    );
    if !section.is_empty() {
        // Best effort: a process killed at a limit dumps no core into the app's files.
        let _ = rlimits(&[Core], 0, 0);
    }
    if section.level == Requirement::Required {
        for applied in &report.limits {
            if let Err(why) = &applied.how {
                return Err(LimitsError {
                    name: applied.name,
                    why: why.clone(),
                });
            }
        }
    }
    let unapplied = report.limits.iter().any(|a| a.how.is_err());
    if unapplied || fell_back || std::env::var_os(crate::landlock::REPORT_VARIABLE).is_some() {
        eprintln!("portcullis-exec: note: {report}");
    }
    Ok(report)
}

/// How many CPUs this process may run on (its affinity mask), when the kernel says.
fn usable_cpus() -> Option<u64> {
    std::thread::available_parallelism()
        .ok()
        .map(|n| n.get() as u64)
}

/// Why no cgroup holds a limit, for the report.
fn no_cgroup(held: &Option<Result<&'static str, String>>) -> String {
    match held {
        Some(Err(why)) if !why.is_empty() => format!("no cgroup ({why})"),
        _ => "no cgroup".to_string(),
    }
}

#[cfg(test)]
mod tests;
