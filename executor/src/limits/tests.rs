//! The limits step against the running kernel. rlimits are per process, so each case runs
//! in a child: the test binary re-runs itself with `PORTCULLIS_LIMITS_CHILD` naming the
//! case, the child applies the limits and probes, and the parent asserts on its exit code
//! and output.

use std::process::Command;

use portcullis_blob::landlock::Requirement;
use portcullis_blob::limits::LimitsSection;

use super::{apply, LimitsError};
use crate::cgroup::Held;

const CHILD: &str = "PORTCULLIS_LIMITS_CHILD";

/// Runs `case` in a child process; returns its stdout.
fn run_child(case: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "limits::tests::child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, case)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "child {case} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The child side: does nothing unless the parent asked for a case.
#[test]
fn child() {
    let Ok(case) = std::env::var(CHILD) else {
        return;
    };
    match case.as_str() {
        "memory" => {
            let report = apply(
                &LimitsSection {
                    memory: Some(256 << 20),
                    ..LimitsSection::default()
                },
                &Held::default(),
            )
            .unwrap();
            println!("report: {report}");
            let mut big: Vec<u8> = Vec::new();
            let over = big.try_reserve_exact(512 << 20);
            println!("over-limit allocation fails: {}", over.is_err());
            let mut small: Vec<u8> = Vec::new();
            println!(
                "small allocation works: {}",
                small.try_reserve_exact(16 << 20).is_ok()
            );
        }
        "processes" => {
            let report = apply(
                &LimitsSection {
                    processes: Some(8),
                    ..LimitsSection::default()
                },
                &Held::default(),
            )
            .unwrap();
            println!("report: {report}");
            // Threads count against RLIMIT_NPROC like processes; stop at the first refusal.
            let mut started = 0;
            let mut handles = Vec::new();
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
            for _ in 0..64 {
                let rx = rx.clone();
                match std::thread::Builder::new().spawn(move || {
                    let _ = rx.lock().map(|r| r.recv());
                }) {
                    Ok(h) => {
                        handles.push(h);
                        started += 1;
                    }
                    Err(_) => break,
                }
            }
            println!("threads started under a limit of 8: {started}");
            drop(tx);
            for h in handles {
                let _ = h.join();
            }
        }
        "open-files" => {
            apply(
                &LimitsSection {
                    open_files: Some(16),
                    ..LimitsSection::default()
                },
                &Held::default(),
            )
            .unwrap();
            let files: Vec<_> = (0..32)
                .map_while(|_| std::fs::File::open("/dev/null").ok())
                .collect();
            println!("files opened under a limit of 16: {}", files.len());
        }
        "held" => {
            let before = crate::sys::getrlimit(crate::sys::Resource::AddressSpace).unwrap();
            let held = Held {
                memory: Some(Ok("cgroup v1 memory.limit_in_bytes")),
                processes: Some(Ok("cgroup v1 pids.max")),
                cpu_share: Some(Ok("cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us")),
            };
            let report = apply(
                &LimitsSection {
                    level: Requirement::Required,
                    memory: Some(256 << 20),
                    processes: Some(8),
                    cpu_share: Some(50),
                    ..LimitsSection::default()
                },
                &held,
            )
            .unwrap();
            println!("report: {report}");
            let after = crate::sys::getrlimit(crate::sys::Resource::AddressSpace).unwrap();
            println!("address space untouched: {}", before == after);
            let core = crate::sys::getrlimit(crate::sys::Resource::Core).unwrap();
            println!("core dumps: {core:?}");
        }
        other => panic!("unknown case {other}"),
    }
}

#[test]
fn an_allocation_over_the_memory_limit_fails() {
    let out = run_child("memory");
    assert!(
        out.contains("memory 268435456 (RLIMIT_AS, RLIMIT_DATA: no cgroup)"),
        "{out}"
    );
    assert!(out.contains("over-limit allocation fails: true"), "{out}");
    assert!(out.contains("small allocation works: true"), "{out}");
}

#[test]
fn process_creation_stops_at_the_limit() {
    let out = run_child("processes");
    let started: usize = out
        .lines()
        .find_map(|l| {
            l.split_once("threads started under a limit of 8: ")
                .map(|(_, n)| n)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {out}"));
    // The host's root is exempt from RLIMIT_NPROC: the step must say so; for anyone else
    // the limit binds and fewer than 8 threads start.
    if is_exempt() {
        assert!(
            out.contains(
                "processes 8 not applied: no cgroup, and the kernel exempts the host's root"
            ),
            "{out}"
        );
    } else {
        assert!(out.contains("processes 8 (RLIMIT_NPROC"), "{out}");
        assert!(started < 8, "{started} threads started");
    }
}

/// Whether this process is exempt from `RLIMIT_NPROC`: the host's root, or capable in the
/// initial namespace (CAP_SYS_ADMIN is bit 21, CAP_SYS_RESOURCE bit 24).
fn is_exempt() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let caps = field("CapEff:")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .unwrap_or(0);
    let in_initial_ns = std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"]);
    let root = field("Uid:").and_then(|ids| ids.split_whitespace().next()) == Some("0");
    in_initial_ns && (root || caps & ((1 << 21) | (1 << 24)) != 0)
}

#[test]
fn open_files_stop_at_the_limit() {
    let out = run_child("open-files");
    let opened: usize = out
        .lines()
        .find_map(|l| {
            l.split_once("files opened under a limit of 16: ")
                .map(|(_, n)| n)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {out}"));
    assert!(opened < 16, "{opened}");
}

#[test]
fn a_required_cpu_share_aborts_and_a_best_effort_one_is_reported() {
    let required = LimitsSection {
        level: Requirement::Required,
        cpu_share: Some(50),
        ..LimitsSection::default()
    };
    let err: LimitsError = apply(&required, &Held::default()).unwrap_err();
    assert_eq!(err.name, "cpu-share");
    assert!(err
        .to_string()
        .starts_with("`cpu-share` is required and could not be applied"));
    let best = LimitsSection {
        cpu_share: Some(50),
        ..required
    };
    let best = LimitsSection {
        level: Requirement::BestEffort,
        ..best
    };
    let report = apply(&best, &Held::default()).unwrap();
    assert!(
        report.to_string().contains("cpu-share 50 not applied"),
        "{report}"
    );
}

#[test]
fn limits_held_by_cgroups_set_no_rlimit_and_a_required_set_starts_as_root_too() {
    let out = run_child("held");
    assert!(
        out.contains(
            "memory 268435456 (cgroup v1 memory.limit_in_bytes); processes 8 (cgroup v1 pids.max); \
             cpu-share 50 (cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us)"
        ),
        "{out}"
    );
    assert!(out.contains("address space untouched: true"), "{out}");
    assert!(out.contains("core dumps: (0, 0)"), "{out}");
}

#[test]
fn a_cpu_share_above_every_usable_cpu_is_reported_as_capping_nothing() {
    let cpus = std::thread::available_parallelism().unwrap().get() as u64;
    let held = Held {
        cpu_share: Some(Ok("cgroup v1 cpu.cfs_quota_us/cpu.cfs_period_us")),
        ..Held::default()
    };
    let at = |share| {
        apply(
            &LimitsSection {
                cpu_share: Some(share),
                ..LimitsSection::default()
            },
            &held,
        )
        .unwrap()
        .to_string()
    };
    assert!(
        at(100 * cpus).contains("caps nothing"),
        "{}",
        at(100 * cpus)
    );
    assert!(!at(50).contains("caps nothing"), "{}", at(50));
}
