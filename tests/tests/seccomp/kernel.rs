//! Kernel agreement: emitted filters are loaded for real in a forked child
//! (`PR_SET_NO_NEW_PRIVS`, then `seccomp(SECCOMP_SET_MODE_FILTER)`), the child makes probe
//! syscalls with raw `syscall(2)` (and `int 0x80` for the i386 ABI), and the errno the
//! kernel returns must be the one the verifier's interpreter predicts for the same
//! `seccomp_data`. Kill verdicts are checked as a child dying of `SIGSYS`.
//!
//! Every probe is harmless if it runs: bad pointers (`1`), bad descriptors (`-1`) or
//! invalid flags, so an allowed probe fails in the kernel with a known errno instead of
//! doing anything.
#![allow(unsafe_code)]

use portcullis_ir::seccomp::{Action, Arch, Features, SeccompData};
use portcullis_verifier::bpf::{run, Insn};

use super::support::{bytes, features, program};

/// One probe: a syscall number and six arguments, and what the kernel does if it runs.
#[derive(Clone, Copy, Debug)]
struct Probe {
    what: &'static str,
    nr: i64,
    args: [u64; 6],
    /// The errno the syscall itself gives when the filter lets it run (`0`: it succeeds).
    natural: Natural,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Natural {
    Errno(i32),
    Success,
    /// Only ever probed where the filter refuses it.
    Refused,
}

const BAD: u64 = 1;
const NO_FD: u64 = u64::MAX; // -1
const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541C;
const FIONREAD: u64 = 0x541B;
const CLONE_NEWUSER: u64 = 0x1000_0000;
/// CLONE_SIGHAND without CLONE_VM: `clone` refuses it with EINVAL before doing anything.
const CLONE_INVALID: u64 = 0x800;
/// An invalid socket type: `socket` gives EINVAL for a family below `NPROTO` it reaches.
const BAD_TYPE: u64 = 0xffff;
/// A flag bit outside `SOCK_TYPE_MASK`, `SOCK_NONBLOCK` and `SOCK_CLOEXEC`: the kernel
/// refuses the call with EINVAL before creating anything, while the filter still reads the
/// type through the mask.
const BAD_FLAG: u64 = 0x100;
const SOCK_NONBLOCK: u64 = 0x800;
const MSG_FASTOPEN: u64 = 0x2000_0000;

fn sys(name: &str) -> i64 {
    i64::from(
        Arch::X86_64
            .syscall_number(name)
            .unwrap_or_else(|| panic!("x86_64 has no `{name}`")),
    )
}

fn probe(what: &'static str, name: &str, args: [u64; 6], natural: Natural) -> Probe {
    Probe {
        what,
        nr: sys(name),
        args,
        natural,
    }
}

/// The conformance cases of flatpak-semantics §7.5 plus every restricted syscall.
fn probes() -> Vec<Probe> {
    use Natural::*;
    let mut out = vec![
        probe(
            "S-1 chmod(bad ptr)",
            "chmod",
            [BAD, 0, 0, 0, 0, 0],
            Errno(libc::EFAULT),
        ),
        probe("S-2 chroot", "chroot", [BAD, 0, 0, 0, 0, 0], Refused),
        probe("S-3 clone3", "clone3", [BAD, 0, 0, 0, 0, 0], Refused),
        probe(
            "S-4 ioctl(-1, TIOCNOTTY)",
            "ioctl",
            [NO_FD, 0x5422, 0, 0, 0, 0],
            Errno(libc::EBADF),
        ),
        probe(
            "S-4 ioctl(-1, FIONREAD)",
            "ioctl",
            [NO_FD, FIONREAD, 0, 0, 0, 0],
            Errno(libc::EBADF),
        ),
        probe(
            "S-5 ioctl(-1, TIOCSTI)",
            "ioctl",
            [NO_FD, TIOCSTI, 0, 0, 0, 0],
            Refused,
        ),
        probe(
            "S-6 ioctl(-1, hi|TIOCSTI)",
            "ioctl",
            [NO_FD, (0x123 << 32) | TIOCSTI, 0, 0, 0, 0],
            Refused,
        ),
        probe(
            "S-7 ioctl(-1, TIOCLINUX)",
            "ioctl",
            [NO_FD, TIOCLINUX, 0, 0, 0, 0],
            Refused,
        ),
        probe(
            "S-7 ioctl(-1, hi|TIOCLINUX)",
            "ioctl",
            [NO_FD, (1 << 63) | TIOCLINUX, 0, 0, 0, 0],
            Refused,
        ),
        probe(
            "S-8 listen(-1)",
            "listen",
            [NO_FD, 0, 0, 0, 0, 0],
            Errno(libc::EBADF),
        ),
        probe(
            "S-9 prctl(PR_GET_CHILD_SUBREAPER, bad)",
            "prctl",
            [37, BAD, 0, 0, 0, 0],
            Errno(libc::EFAULT),
        ),
        probe("S-13 unshare(0)", "unshare", [0; 6], Refused),
        probe(
            "S-13 unshare(CLONE_NEWUSER)",
            "unshare",
            [CLONE_NEWUSER, 0, 0, 0, 0, 0],
            Refused,
        ),
        probe(
            "S-14 clone(NEWUSER|invalid)",
            "clone",
            [CLONE_NEWUSER | CLONE_INVALID, 0, 0, 0, 0, 0],
            Refused,
        ),
        probe(
            "S-14 clone(invalid)",
            "clone",
            [CLONE_INVALID, 0, 0, 0, 0, 0],
            Errno(libc::EINVAL),
        ),
        probe(
            "S-15 ptrace(PEEKDATA, -1)",
            "ptrace",
            [2, NO_FD, 0, 0, 0, 0],
            Errno(libc::ESRCH),
        ),
        probe(
            "S-15 perf_event_open(bad)",
            "perf_event_open",
            [BAD, 0, NO_FD, NO_FD, 0, 0],
            Errno(libc::EFAULT),
        ),
        probe(
            "S-16 personality(query)",
            "personality",
            [0xffff_ffff, 0, 0, 0, 0, 0],
            Success,
        ),
        probe(
            "S-17 modify_ldt(read, bad, 1)",
            "modify_ldt",
            [0, BAD, 1, 0, 0, 0],
            Refused,
        ),
        probe("S-18 fsopen(bad)", "fsopen", [BAD, 0, 0, 0, 0, 0], Refused),
        probe(
            "S-18 open_tree(-1, bad)",
            "open_tree",
            [NO_FD, BAD, 0, 0, 0, 0],
            Refused,
        ),
        probe(
            "S-18 mount_setattr(-1, bad)",
            "mount_setattr",
            [NO_FD, BAD, 0, BAD, 0, 0],
            Refused,
        ),
        probe("getppid", "getppid", [0; 6], Success),
        probe(
            "hardening: open_tree_attr",
            "open_tree_attr",
            [NO_FD, BAD, 0, BAD, 0, 0],
            Refused,
        ),
        probe(
            "hardening: quotactl_fd",
            "quotactl_fd",
            [NO_FD, 0, 0, BAD, 0, 0],
            Refused,
        ),
        probe(
            "hardening: set_mempolicy_home_node",
            "set_mempolicy_home_node",
            [BAD, 0, 0, 0, 0, 0],
            Refused,
        ),
        Probe {
            what: "hardening: number above the table",
            nr: 0x3fff_0000,
            args: [0; 6],
            natural: Errno(libc::ENOSYS),
        },
        Probe {
            what: "nr -1 (tracer skip)",
            nr: -1,
            args: [0; 6],
            natural: Errno(libc::ENOSYS),
        },
    ];
    for (what, family) in [
        ("S-10 socket(AF_PACKET)", 17u64),
        ("S-11 socket(AF_BLUETOOTH)", 31),
        ("S-12 socket(AF_CAN)", 29),
        ("socket(AF_UNIX)", 1),
        ("socket(AF_INET6)", 10),
        ("socket(AF_NETLINK)", 16),
        ("socket(AF_KEY)", 15),
        ("socket(AF_ALG)", 38),
        ("socket(AF_VSOCK)", 40),
        (
            "socket(hi|AF_INET): the kernel reads AF_INET",
            (7 << 32) | 2,
        ),
        ("socket(hi|AF_PACKET)", (1 << 32) | 17),
    ] {
        out.push(probe(
            what,
            "socket",
            [family, BAD_TYPE, 0, 0, 0, 0],
            Errno(libc::EINVAL),
        ));
    }
    // Port rules: inet sockets by (family, type, protocol); each type carries BAD_FLAG so
    // that an allowed probe fails with EINVAL instead of creating a socket.
    for (what, family, ty, protocol) in [
        ("socket(AF_INET, STREAM, 0)", 2u64, 1u64, 0u64),
        (
            "socket(AF_INET6, STREAM|NONBLOCK, TCP)",
            10,
            1 | SOCK_NONBLOCK,
            6,
        ),
        ("socket(AF_INET, STREAM, MPTCP)", 2, 1, 262),
        ("socket(AF_INET6, STREAM, SCTP)", 10, 1, 132),
        ("socket(AF_INET, SEQPACKET, 0): SCTP", 2, 5, 0),
        ("socket(AF_INET, DGRAM, 0)", 2, 2, 0),
        ("socket(AF_INET, DGRAM, ICMP): ping", 2, 2, 1),
        (
            "socket(AF_INET6, DGRAM|NONBLOCK, UDPLITE)",
            10,
            2 | SOCK_NONBLOCK,
            136,
        ),
        ("socket(AF_INET, RAW, 255)", 2, 3, 255),
        ("socket(AF_UNIX, SEQPACKET, 0)", 1, 5, 0),
    ] {
        out.push(probe(
            what,
            "socket",
            [family, ty | BAD_FLAG, protocol, 0, 0, 0],
            Errno(libc::EINVAL),
        ));
    }
    // TCP Fast Open: on a bad descriptor, so an allowed call fails with EBADF.
    for (what, name, args) in [
        (
            "sendto(-1, MSG_FASTOPEN)",
            "sendto",
            [NO_FD, 0, 0, MSG_FASTOPEN, 0, 0],
        ),
        ("sendto(-1, 0)", "sendto", [NO_FD, 0, 0, 0, 0, 0]),
        (
            "sendmsg(-1, MSG_FASTOPEN)",
            "sendmsg",
            [NO_FD, 0, MSG_FASTOPEN, 0, 0, 0],
        ),
        ("sendmsg(-1, hi|0)", "sendmsg", [NO_FD, 0, 1 << 40, 0, 0, 0]),
        (
            "sendmmsg(-1, MSG_FASTOPEN)",
            "sendmmsg",
            [NO_FD, 0, 0, MSG_FASTOPEN, 0, 0],
        ),
    ] {
        out.push(probe(what, name, args, Errno(libc::EBADF)));
    }
    // io_uring: refused unless `allow io-uring`; harmless with a bad descriptor or params.
    out.push(probe(
        "io_uring_setup(1, bad)",
        "io_uring_setup",
        [1, BAD, 0, 0, 0, 0],
        Errno(libc::EFAULT),
    ));
    out.push(probe(
        "io_uring_enter(-1)",
        "io_uring_enter",
        [NO_FD, 0, 0, 0, 0, 0],
        Errno(libc::EBADF),
    ));
    // A descriptor that is not open (fd -1 asks newer kernels for a "blind" register).
    out.push(probe(
        "io_uring_register(9999)",
        "io_uring_register",
        [9999, 0, 0, 0, 0, 0],
        Errno(libc::EBADF),
    ));
    // Every always-refused syscall, with arguments that are harmless if it ran.
    for name in [
        "syslog",
        "uselib",
        "acct",
        "quotactl",
        "add_key",
        "keyctl",
        "request_key",
        "move_pages",
        "mbind",
        "get_mempolicy",
        "set_mempolicy",
        "migrate_pages",
        "setns",
        "mount",
        "umount2",
        "pivot_root",
        "move_mount",
        "fsconfig",
        "fsmount",
        "fspick",
    ] {
        out.push(probe("always refused", name, [BAD; 6], Refused));
    }
    out
}

/// Raw results of running the probes: `(return value, errno)` per probe.
fn run_in_child(filter: &[u8], probes: &[Probe]) -> Result<Vec<(i64, i32)>, String> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe(2) to fill.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err("pipe failed".into());
    }
    let prog = libc::sock_fprog {
        len: (filter.len() / 8) as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // Everything the child touches is allocated before fork: it only makes syscalls.
    let mut results: Vec<i64> = Vec::with_capacity(probes.len() * 2);
    // SAFETY: fork(2) has no preconditions; the child below only makes raw syscalls into
    // memory allocated before the fork, then leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("fork failed".into());
    }
    if pid == 0 {
        // SAFETY: raw syscalls with valid pointers (`prog` lives on this stack and points
        // at `filter`); probe arguments are plain integers the kernel validates.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                libc::_exit(10);
            }
            if libc::syscall(libc::SYS_seccomp, 1, 0, &prog as *const libc::sock_fprog) != 0 {
                libc::_exit(11);
            }
            for p in probes {
                let a = p.args;
                let ret = libc::syscall(p.nr, a[0], a[1], a[2], a[3], a[4], a[5]);
                let errno = *libc::__errno_location();
                results.push(ret);
                results.push(i64::from(errno));
            }
            let len = results.len() * 8;
            libc::write(fds[1], results.as_ptr().cast(), len);
            libc::_exit(0);
        }
    }
    // SAFETY: closing our copy of the write end, a descriptor we own.
    unsafe { libc::close(fds[1]) };
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: reading into a local buffer of the stated size from a pipe we own.
        let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n as usize]);
    }
    let mut status = 0;
    // SAFETY: waiting for our own child, closing our own descriptor.
    unsafe {
        libc::close(fds[0]);
        libc::waitpid(pid, &mut status, 0);
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("child ended with status {status:#x}"));
    }
    let words: Vec<i64> = raw
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    Ok(words.chunks_exact(2).map(|p| (p[0], p[1] as i32)).collect())
}

/// Whether this kernel lets a test process install a seccomp filter.
fn seccomp_available() -> bool {
    // A one-instruction allow-all filter.
    let allow = Action::Allow.to_ret().to_le_bytes();
    let filter = [0x06, 0x00, 0, 0, allow[0], allow[1], allow[2], allow[3]];
    run_in_child(&filter, &[]).is_ok()
}

fn predict(prog: &[Insn], p: &Probe) -> Action {
    let data = SeccompData {
        nr: p.nr as u32,
        arch: Arch::X86_64.audit(),
        instruction_pointer: 0,
        args: p.args,
    };
    Action::from_ret(run(prog, &data).expect("the program runs").ret).expect("a known action")
}

#[cfg(target_arch = "x86_64")]
#[test]
fn kernel_errno_matches_the_interpreter_for_every_feature_set() {
    if !seccomp_available() {
        portcullis_tests::skip!("seccomp filters cannot be installed here");
        return;
    }
    let probes = probes();
    let mut checked = 0;
    for names in [
        &[][..],
        &["devel"],
        &["multiarch"],
        &["bluetooth"],
        &["canbus"],
        &["devel", "multiarch", "bluetooth", "canbus"],
        &["port-rules"],
        &["udp-none"],
        &["io-uring"],
        &["multiarch", "port-rules", "io-uring"],
    ] {
        let features = features(names);
        let prog = program(features, Arch::X86_64);
        let results = run_in_child(&bytes(features, Arch::X86_64), &probes)
            .unwrap_or_else(|e| panic!("{names:?}: {e}"));
        assert_eq!(results.len(), probes.len());
        for (p, &(ret, errno)) in probes.iter().zip(&results) {
            let predicted = predict(&prog, p);
            match predicted {
                Action::Errno(e) => assert!(
                    ret == -1 && errno == i32::from(e),
                    "{names:?} {}: predicted {predicted}, kernel gave ret {ret} errno {errno}",
                    p.what
                ),
                Action::Allow => match p.natural {
                    Natural::Errno(e) => assert!(
                        ret == -1 && errno == e,
                        "{names:?} {}: predicted ALLOW (errno {e} from the syscall), kernel gave ret {ret} errno {errno}",
                        p.what
                    ),
                    Natural::Success => assert!(
                        ret >= 0,
                        "{names:?} {}: predicted ALLOW, kernel gave errno {errno}",
                        p.what
                    ),
                    Natural::Refused => {
                        panic!("{names:?} {}: the filter allows a probe it must refuse", p.what)
                    }
                },
                other => panic!("{names:?} {}: unexpected prediction {other}", p.what),
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

/// Runs `body` in a forked child under `filter`; returns the child's wait status.
fn status_under(filter: &[u8], body: fn() -> i32) -> i32 {
    let prog = libc::sock_fprog {
        len: (filter.len() / 8) as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: as in `run_in_child`: the child only makes raw syscalls, then _exit.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::syscall(libc::SYS_seccomp, 1, 0, &prog as *const libc::sock_fprog) != 0
            {
                libc::_exit(99);
            }
            libc::_exit(body());
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        status
    }
}

/// An x32 syscall (`getpid` with the x32 bit) from the x86_64 ABI.
fn x32_getpid() -> i32 {
    // SAFETY: getpid has no arguments and no effect.
    unsafe { libc::syscall(0x4000_0000 | 39) };
    0
}

/// An i386 `int 0x80` syscall: `getpid` (20). Returns 0 when it succeeded.
#[cfg(target_arch = "x86_64")]
fn i386_getpid() -> i32 {
    if i386_call(20, 0, 0, 0) > 0 {
        0
    } else {
        3
    }
}

/// An i386 `int 0x80` syscall with three arguments; the raw return (`-errno` on error).
#[cfg(target_arch = "x86_64")]
fn i386_call(nr: u32, a: u32, b: u32, c: u32) -> i32 {
    let mut eax = nr as i32;
    // SAFETY: the compat entry clobbers only eax (the return) and, per the ABI, preserves
    // every other register; the arguments are plain integers. rbx is reserved by LLVM, so
    // it is swapped in and out around the call.
    unsafe {
        std::arch::asm!(
            "xchg rbx, {a:r}",
            "int 0x80",
            "xchg rbx, {a:r}",
            a = inout(reg) u64::from(a) => _,
            inout("eax") eax,
            in("ecx") b,
            in("edx") c,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
        );
    }
    eax
}

#[cfg(target_arch = "x86_64")]
#[test]
fn foreign_abis_are_killed_unless_multiarch_adds_i386() {
    if !seccomp_available() {
        portcullis_tests::skip!("seccomp filters cannot be installed here");
        return;
    }
    let sigsys = |status: i32| libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS;
    let plain = bytes(Features::default(), Arch::X86_64);
    let multi = bytes(features(&["multiarch"]), Arch::X86_64);
    // x32 is never allowed.
    assert!(sigsys(status_under(&plain, x32_getpid)));
    assert!(sigsys(status_under(&multi, x32_getpid)));
    // The i386 ABI: killed without multiarch, allowed with it (when the kernel has it).
    let unfiltered = [0x06u8, 0, 0, 0, 0, 0, 0xff, 0x7f];
    if status_under(&unfiltered, i386_getpid) != 0 {
        portcullis_tests::skip!("the i386 half: no IA-32 emulation in this kernel");
        return;
    }
    assert!(sigsys(status_under(&plain, i386_getpid)));
    assert_eq!(status_under(&multi, i386_getpid), 0);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn the_i386_section_agrees_with_the_interpreter() {
    if !seccomp_available() {
        portcullis_tests::skip!("seccomp filters cannot be installed here");
        return;
    }
    let unfiltered = [0x06u8, 0, 0, 0, 0, 0, 0xff, 0x7f];
    if status_under(&unfiltered, i386_getpid) != 0 {
        portcullis_tests::skip!("no IA-32 emulation in this kernel");
        return;
    }
    // (i386 nr, a, b, c, what the kernel gives if the call runs)
    let cases: [(&str, u32, [u32; 3], i32); 11] = [
        (
            "ioctl(-1, TIOCSTI)",
            54,
            [u32::MAX, 0x5412, 0],
            -libc::EBADF,
        ),
        (
            "ioctl(-1, FIONREAD)",
            54,
            [u32::MAX, 0x541B, 0],
            -libc::EBADF,
        ),
        ("unshare(0)", 310, [0, 0, 0], 0),
        (
            "socket(AF_PACKET) direct",
            359,
            [17, 0xffff, 0],
            -libc::EINVAL,
        ),
        ("socket(AF_UNIX) direct", 359, [1, 0xffff, 0], -libc::EINVAL),
        (
            "socket(AF_INET, STREAM, MPTCP) direct",
            359,
            [2, 1 | BAD_FLAG as u32, 262],
            -libc::EINVAL,
        ),
        (
            "socket(AF_INET, STREAM, 0) direct",
            359,
            [2, 1 | BAD_FLAG as u32, 0],
            -libc::EINVAL,
        ),
        // socketcall(SYS_SOCKET, bad pointer): the kernel cannot read the arguments.
        ("socketcall(SYS_SOCKET, bad)", 102, [1, 1, 0], -libc::EFAULT),
        ("io_uring_enter(-1)", 426, [u32::MAX, 0, 0], -libc::EBADF),
        ("clone3(bad)", 435, [1, 0, 0], -libc::EFAULT),
        ("umount(bad)", 22, [1, 0, 0], -libc::EFAULT),
    ];
    for names in [&["multiarch"][..], &["multiarch", "port-rules"]] {
        let features = features(names);
        let prog = program(features, Arch::X86_64);
        let filter = bytes(features, Arch::X86_64);
        for (what, nr, [a, b, c], natural) in cases {
            let data = SeccompData {
                nr,
                arch: Arch::I386.audit(),
                instruction_pointer: 0,
                args: [u64::from(a), u64::from(b), u64::from(c), 0, 0, 0],
            };
            let predicted = Action::from_ret(run(&prog, &data).expect("runs").ret).expect("known");
            let expected = match predicted {
                Action::Errno(e) => -i32::from(e),
                Action::Allow => natural,
                other => panic!("{what}: unexpected {other}"),
            };
            // The child reports whether the raw return matched (exit 0) or not (exit 1);
            // the case travels in a thread-local the forked child reads without allocating.
            CASE.with(|cell| cell.set((nr, a, b, c, expected)));
            let status = status_under(&filter, run_case);
            assert_eq!(status, 0, "{names:?} {what}: predicted {predicted}");
        }
    }
}

thread_local! {
    static CASE: std::cell::Cell<(u32, u32, u32, u32, i32)> = const { std::cell::Cell::new((0, 0, 0, 0, 0)) };
}

#[cfg(target_arch = "x86_64")]
fn run_case() -> i32 {
    let (nr, a, b, c, expected) = CASE.with(|cell| cell.get());
    i32::from(i386_call(nr, a, b, c) != expected)
}
