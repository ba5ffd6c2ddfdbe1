//! Seccomp benchmark: (a) BPF instructions executed per syscall, counted with the
//! verifier's interpreter, for our filter and Flatpak's captured one; (b) nanoseconds per
//! syscall under no filter, a one-instruction allow filter, Flatpak's filter and ours,
//! all in the same run. Prints tables; each timing runs in a fresh forked child that
//! installs the filter first and measures its own CPU time (so that time spent descheduled
//! under load does not count); the best and the median of the repetitions are shown.
//!
//! Usage: bench-seccomp FLATPAK_SECCOMP_BPF [CALLS] [REPS]

use portcullis_backends::seccomp::{compile, to_bytes};
use portcullis_ir::seccomp::{spec, Arch, Features, SeccompData};
use portcullis_verifier::bpf::{decode, run, Insn};

const FIONREAD: u64 = 0x541B;
const TIOCSTI: u64 = 0x5412;

fn steps(prog: &[Insn], nr: u32, args: [u64; 6]) -> usize {
    let data = SeccompData {
        nr,
        arch: Arch::X86_64.audit(),
        instruction_pointer: 0,
        args,
    };
    run(prog, &data).map(|r| r.steps).unwrap_or(0)
}

fn mean_over(prog: &[Insn], nrs: &[u32]) -> f64 {
    let total: usize = nrs.iter().map(|&nr| steps(prog, nr, [0; 6])).sum();
    total as f64 / nrs.len() as f64
}

fn nr(name: &str) -> u32 {
    Arch::X86_64.syscall_number(name).expect("x86_64 syscall")
}

/// Installs `filter` (if any) in a forked child, times `calls` syscalls there, and returns
/// the nanoseconds per call.
fn time_in_child(filter: Option<&[u8]>, which: i64, args: [u64; 3], calls: u64) -> f64 {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a valid array of two ints.
    unsafe { libc::pipe(fds.as_mut_ptr()) };
    // SAFETY: the child makes syscalls, measures time and writes eight bytes, then exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: raw syscalls; `prog` points at `filter`, alive for the call.
        unsafe {
            if let Some(filter) = filter {
                let prog = libc::sock_fprog {
                    len: (filter.len() / 8) as u16,
                    filter: filter.as_ptr() as *mut libc::sock_filter,
                };
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                    || libc::syscall(libc::SYS_seccomp, 1, 0, &prog as *const libc::sock_fprog) != 0
                {
                    libc::_exit(1);
                }
            }
            // Warm up, then measure.
            for _ in 0..calls / 10 {
                libc::syscall(which, args[0], args[1], args[2]);
            }
            // Thread CPU time (user + system) rather than wall time: time spent
            // descheduled while other processes run does not count.
            let start = thread_cpu_ns();
            for _ in 0..calls {
                libc::syscall(which, args[0], args[1], args[2]);
            }
            let ns = (thread_cpu_ns() - start) as f64 / calls as f64;
            libc::write(fds[1], (&ns as *const f64).cast(), 8);
            libc::_exit(0);
        }
    }
    let mut ns = 0f64;
    // SAFETY: reading eight bytes into a local f64 from our own pipe; reaping our child.
    unsafe {
        libc::close(fds[1]);
        libc::read(fds[0], (&mut ns as *mut f64).cast(), 8);
        libc::close(fds[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        if status != 0 {
            eprintln!("child failed (status {status:#x})");
        }
    }
    ns
}

/// CPU time consumed by the calling thread, in nanoseconds.
fn thread_cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let Some(flatpak_path) = argv.next() else {
        eprintln!("usage: bench-seccomp FLATPAK_SECCOMP_BPF [CALLS] [REPS]");
        std::process::exit(2);
    };
    let calls: u64 = argv
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let reps: usize = argv.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let flatpak_bytes = std::fs::read(&flatpak_path).unwrap_or_else(|e| {
        eprintln!("cannot read `{flatpak_path}`: {e}");
        std::process::exit(2);
    });
    let flatpak = decode(&flatpak_bytes).expect("whole records");
    let ours_raw = compile(&spec(Features::default(), Arch::X86_64)).expect("compiles");
    let ours_bytes = to_bytes(&ours_raw);
    let ours = decode(&ours_bytes).expect("whole records");

    // (a) Instructions executed, default feature set, x86_64.
    let table: Vec<u32> = Arch::X86_64.table().iter().map(|&(nr, _)| nr).collect();
    let all512: Vec<u32> = (0..512).collect();
    println!("## Instructions executed per syscall (x86_64, default features)");
    println!();
    println!(
        "program size: ours {} instructions, Flatpak {}",
        ours.len(),
        flatpak.len()
    );
    println!();
    println!("| syscall | ours | Flatpak 1.14 | ours / Flatpak |");
    println!("|---|---|---|---|");
    let row = |what: &str, a: f64, b: f64| {
        println!("| {what} | {a:.2} | {b:.2} | {:.3} |", a / b);
    };
    row(
        &format!("mean over the {} table entries", table.len()),
        mean_over(&ours, &table),
        mean_over(&flatpak, &table),
    );
    row(
        "mean over nr 0..511",
        mean_over(&ours, &all512),
        mean_over(&flatpak, &all512),
    );
    let probes: [(&str, &str, [u64; 6]); 8] = [
        ("ioctl(fd, FIONREAD)", "ioctl", [3, FIONREAD, 0, 0, 0, 0]),
        ("ioctl(fd, TIOCSTI)", "ioctl", [3, TIOCSTI, 0, 0, 0, 0]),
        ("socket(AF_INET)", "socket", [2, 1, 0, 0, 0, 0]),
        ("socket(AF_PACKET)", "socket", [17, 3, 0, 0, 0, 0]),
        ("clone(thread flags)", "clone", [0x3d0f00, 0, 0, 0, 0, 0]),
        (
            "clone(CLONE_NEWUSER)",
            "clone",
            [0x1000_0000 | 17, 0, 0, 0, 0, 0],
        ),
        ("getppid", "getppid", [0; 6]),
        ("read", "read", [0; 6]),
    ];
    for (what, name, args) in probes {
        row(
            what,
            steps(&ours, nr(name), args) as f64,
            steps(&flatpak, nr(name), args) as f64,
        );
    }
    println!();

    // (b) Time per call, same run.
    let allow_one: [u8; 8] = {
        let mut b = [0u8; 8];
        b[0] = 0x06;
        b[4..8].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
        b
    };
    // `ld a0; ret ALLOW`: reading an argument makes the kernel's action cache give up,
    // so this program really runs on every call: the floor of any argument check.
    let allow_running: [u8; 16] = {
        let mut b = [0u8; 16];
        b[0] = 0x20;
        b[4] = 16;
        b[8] = 0x06;
        b[12..16].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
        b
    };
    let variants: [(&str, Option<&[u8]>); 5] = [
        ("no filter", None),
        ("1-instruction allow", Some(&allow_one)),
        (
            "2-instruction allow, run on every call",
            Some(&allow_running),
        ),
        ("Flatpak 1.14 default", Some(&flatpak_bytes)),
        ("portcullis default", Some(&ours_bytes)),
    ];
    let calls_to_time: [(&str, i64, [u64; 3]); 2] = [
        ("getppid", libc::SYS_getppid, [0, 0, 0]),
        (
            "ioctl(-1, FIONREAD)",
            libc::SYS_ioctl,
            [u64::MAX, FIONREAD, 0],
        ),
    ];
    println!("## Nanoseconds per call ({reps} runs x {calls} calls each, same run)");
    println!();
    println!("Best run (least disturbed by other load) and median run; `vs floor` is the");
    println!("difference to the one-instruction allow filter, which the kernel's seccomp");
    println!("action cache skips for every syscall. A filter that checks an argument of a");
    println!("syscall always runs for it: its own floor is the 2-instruction filter.");
    println!();
    println!("| filter | getppid best | vs floor | median | ioctl(-1, FIONREAD) best | vs floor | median |");
    println!("|---|---|---|---|---|---|---|");
    // Interleave variants within each repetition so drift hits all of them alike.
    let mut samples = vec![[Vec::new(), Vec::new()]; variants.len()];
    for _ in 0..reps {
        for (v, (_, filter)) in variants.iter().enumerate() {
            for (c, (_, which, args)) in calls_to_time.iter().enumerate() {
                samples[v][c].push(time_in_child(*filter, *which, *args, calls));
            }
        }
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let results: Vec<[f64; 4]> = samples
        .into_iter()
        .map(|[a, b]| [best(&a), median(a), best(&b), median(b)])
        .collect();
    let floor = results[1];
    for (v, (name, _)) in variants.iter().enumerate() {
        let [g, gm, i, im] = results[v];
        println!(
            "| {name} | {g:.1} | {:+.1} | {gm:.1} | {i:.1} | {:+.1} | {im:.1} |",
            g - floor[0],
            i - floor[2]
        );
    }
}
