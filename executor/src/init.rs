//! Pid 1 of the sandbox once the app runs: it reaps every process of the namespace and,
//! when the policy has TCP port rules, answers the app's `listen` calls.
//!
//! Why `listen` needs an answer from outside the app: Landlock checks `bind(2)` against
//! the policy's bind ports, but `listen(2)` on a socket that was never bound makes the
//! kernel bind it to an ephemeral port without asking any hook, and the host can then
//! connect to that port. So a small seccomp filter of the app's (installed by the app's
//! process right before exec, see [`listen_program`]) turns every `listen` into a user
//! notification, and pid 1 answers it:
//!
//! 1. it takes a duplicate of the very socket the app named (`pidfd_getfd`: the same
//!    open file, so nothing the app does to its descriptor table afterwards changes what
//!    is checked), and checks that the notification is still pending (so the pid was not
//!    reused);
//! 2. an IPv4 or IPv6 socket whose local port is 0 (never bound: listening would pick an
//!    ephemeral port) or outside the policy's bind allowlist (a port the kernel chose, such
//!    as a connect's autobind) is refused with `EACCES`;
//! 3. any other socket is put into the listening state by pid 1 itself, on that
//!    duplicate, and the result is the app's (no `SECCOMP_USER_NOTIF_FLAG_CONTINUE`, whose
//!    re-read of the descriptor would be a check-then-use race).
//!
//! Pid 1 runs under the app's own seccomp filter (not the notifying one), is not
//! dumpable and has no terminal, so the app can neither take it over nor use it.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use portcullis_blob::landlock::Ports;
use portcullis_blob::Arch;

use crate::failure::{Context, Failure};
use crate::sys::confine;
use crate::sys::notify::{self, Notification, SocketKind};
use crate::sys::process;

/// `SECCOMP_RET_USER_NOTIF`.
const RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_ALLOW`.
const RET_ALLOW: u32 = 0x7fff_0000;
/// `AUDIT_ARCH_I386`, the compat ABI of x86-64.
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `AUDIT_ARCH_ARM`, the compat ABI of aarch64.
const AUDIT_ARCH_ARM: u32 = 0x4000_0028;

/// `(AUDIT_ARCH_*, listen's number)` for the native and the compat ABI of `arch`.
fn listen_numbers(arch: Arch) -> [(u32, u32); 2] {
    match arch {
        Arch::X86_64 => [(arch.audit_arch(), 50), (AUDIT_ARCH_I386, 363)],
        Arch::Aarch64 => [(arch.audit_arch(), 201), (AUDIT_ARCH_ARM, 284)],
    }
}

/// Whether `n` is a `listen` call of `arch` or its compat ABI.
fn is_listen(arch: Arch, n: &Notification) -> bool {
    listen_numbers(arch)
        .iter()
        .any(|&(audit, nr)| audit == n.arch && u32::try_from(n.nr) == Ok(nr))
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The notifying filter: `listen` of the native or compat ABI → user notification,
/// everything else allowed (the app's main filter, which also runs, decides the rest,
/// including killing x32 numbers and foreign ABIs).
pub fn listen_program(arch: Arch) -> Vec<libc::sock_filter> {
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    let [(native, native_listen), (compat, compat_listen)] = listen_numbers(arch);
    vec![
        insn(LD_W_ABS, 0, 0, ARCH),        // 0
        insn(JEQ_K, 1, 0, native),         // 1: native → 3
        insn(JEQ_K, 3, 6, compat),         // 2: compat → 6, else → 9
        insn(LD_W_ABS, 0, 0, NR),          // 3
        insn(JEQ_K, 3, 0, native_listen),  // 4: listen → 8
        insn(RET_K, 0, 0, RET_ALLOW),      // 5
        insn(LD_W_ABS, 0, 0, NR),          // 6
        insn(JEQ_K, 0, 1, compat_listen),  // 7: listen → 8, else → 9
        insn(RET_K, 0, 0, RET_USER_NOTIF), // 8
        insn(RET_K, 0, 0, RET_ALLOW),      // 9
    ]
}

/// The thread group (process) a thread belongs to, from the sandbox's `/proc`:
/// `pidfd_open` takes a process, and a notification names the calling thread.
fn thread_group(tid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// What pid 1 answers to one `listen`: `Ok(())` once it listened, `Err(errno)` for the
/// app's call to fail with, `None` when the call is gone (nothing to answer). `bind` is
/// the policy's bind allowlist: an IP socket may listen only on a port in it (a socket
/// that was never bound has port 0, and one whose port the kernel picked — a connect's
/// autobind, kept after a disconnect — is not in it either).
fn decide(
    listener: &OwnedFd,
    arch: Arch,
    bind: &[Ports],
    n: &Notification,
) -> Option<Result<(), i32>> {
    if !is_listen(arch, n) {
        return Some(Err(libc::ENOSYS));
    }
    // Both arguments are `int`: the kernel reads the low 32 bits.
    let (fd, backlog) = (n.args[0] as i32, n.args[1] as i32);
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EPERM);
    let pidfd = thread_group(n.pid)
        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::ESRCH))
        .and_then(notify::pidfd_open);
    let socket = pidfd.and_then(|pidfd| notify::pidfd_getfd(pidfd.as_fd(), fd));
    // The call must still be pending now that the descriptor is held: otherwise the pid
    // may belong to another process and the answer would go nowhere anyway.
    if !notify::still_pending(listener.as_fd(), n.id) {
        return None;
    }
    let socket = match socket {
        Ok(s) => s,
        Err(e) => return Some(Err(errno(e))),
    };
    Some(match notify::socket_kind(socket.as_fd()) {
        Err(e) => Err(errno(e)),
        // Listening would take a port that no bind rule allowed.
        Ok(SocketKind::Inet { port })
            if port == 0 || !bind.iter().any(|p| (p.first..=p.last).contains(&port)) =>
        {
            Err(libc::EACCES)
        }
        Ok(_) => notify::listen(socket.as_fd(), backlog).map_err(errno),
    })
}

/// Pid 1's state while the app runs.
pub struct Init {
    /// The app's pid (pid 1's child).
    pub app: libc::pid_t,
    /// `SIGCHLD` as a descriptor (the signal is blocked).
    pub signals: OwnedFd,
    /// The app's `listen` notifications, when the policy has port rules.
    pub listener: Option<OwnedFd>,
    /// The blob's architecture.
    pub arch: Arch,
    /// The policy's bind allowlist (the ports an IP socket may listen on).
    pub bind: Vec<Ports>,
}

impl Init {
    /// Reaps and answers until the app ends; returns its status as a shell reports it.
    pub fn run(mut self) -> Result<i32, Failure> {
        loop {
            let listener_fd = self.listener.as_ref().map_or(-1, |l| l.as_raw_fd());
            let ready = confine::poll(&[self.signals.as_raw_fd(), listener_fd]).step("reap")?;
            if ready[0] != 0 {
                confine::drain(self.signals.as_fd());
                while let Some((pid, ended)) = process::wait_nohang().step("reap")? {
                    if pid == self.app {
                        return Ok(ended.code());
                    }
                }
            }
            if let Some(listener) = &self.listener {
                if ready[1] & libc::POLLIN != 0 {
                    self.answer(listener);
                } else if ready[1] & (libc::POLLHUP | libc::POLLERR) != 0 {
                    // No process uses the filter any more.
                    self.listener = None;
                }
            }
        }
    }

    fn answer(&self, listener: &OwnedFd) {
        // ENOENT: the caller went away before its call was read; nothing to answer.
        let Ok(n) = notify::receive(listener.as_fd()) else {
            return;
        };
        if let Some(outcome) = decide(listener, self.arch, &self.bind, &n) {
            let errno = outcome.err().unwrap_or(0);
            // A failure here means the call is gone (the thread was killed): ignored.
            let _ = notify::answer(listener.as_fd(), n.id, 0, errno);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the notifying program on one `seccomp_data` prefix (nr, arch) the way the
    /// kernel would: enough of classic BPF for these four opcodes.
    fn run(program: &[libc::sock_filter], nr: u32, arch: u32) -> u32 {
        let mut pc = 0;
        let mut acc = 0;
        loop {
            let i = program[pc];
            match i.code {
                0x20 => acc = if i.k == 0 { nr } else { arch },
                0x15 => {
                    pc += usize::from(if acc == i.k { i.jt } else { i.jf });
                }
                0x06 => return i.k,
                other => panic!("unexpected opcode {other:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn only_listen_is_sent_to_pid_1() {
        for arch in [Arch::X86_64, Arch::Aarch64] {
            let program = listen_program(arch);
            let [(native, listen), (compat, compat_listen)] = listen_numbers(arch);
            assert_eq!(run(&program, listen, native), RET_USER_NOTIF);
            assert_eq!(run(&program, compat_listen, compat), RET_USER_NOTIF);
            for nr in 0..500 {
                if nr != listen {
                    assert_eq!(run(&program, nr, native), RET_ALLOW, "{arch:?} {nr}");
                }
                if nr != compat_listen {
                    assert_eq!(run(&program, nr, compat), RET_ALLOW, "{arch:?} compat {nr}");
                }
            }
            // Another ABI's listen number is not this ABI's listen.
            assert_eq!(run(&program, listen, 0x1234), RET_ALLOW);
        }
        // x32 numbers carry bit 30 and are never the native listen (the main filter
        // kills them).
        let program = listen_program(Arch::X86_64);
        assert_eq!(
            run(&program, 0x4000_0000 | 50, Arch::X86_64.audit_arch()),
            RET_ALLOW
        );
    }
}
