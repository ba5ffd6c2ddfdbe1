//! Calls that keep the executor's own processes out of the app's reach: not dumpable,
//! the initial environment and arguments wiped from memory, a clean environment for
//! exec, the signal mask and `signalfd` pid 1 waits with, `poll`, and descriptor passing
//! over a socket pair.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// `PR_SET_DUMPABLE 0`: no core dump, and — what matters here — `/proc/PID/mem`,
/// `environ`, `fd/`, `ptrace`, `process_vm_writev` and `pidfd_getfd` on this process need
/// `CAP_SYS_PTRACE` over its memory's user namespace (the host's), which nothing in the
/// sandbox has. `exec` resets it, so it protects the processes that never exec.
pub fn not_dumpable() -> io::Result<()> {
    // SAFETY: PR_SET_DUMPABLE takes an integer; no memory is touched.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Fields 48 to 51 of `/proc/self/stat`: `arg_start`, `arg_end`, `env_start`, `env_end`.
fn initial_areas() -> io::Result<[usize; 4]> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other("malformed /proc/self/stat"))?;
    // `rest` starts at field 3, so field N is at index N - 3.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let get = |n: usize| -> io::Result<usize> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other(format!("/proc/self/stat has no field {n}")))
    };
    Ok([get(48)?, get(49)?, get(50)?, get(51)?])
}

/// Overwrites the strings the kernel placed on this process's initial stack: every byte
/// of the environment (`/proc/PID/environ`) becomes NUL, and the argument area
/// (`/proc/PID/cmdline`) holds `name` and NULs. Afterwards this process must not read its
/// environment through libc (`getenv`); the caller has copied what it needs.
pub fn wipe_initial_strings(name: &str) -> io::Result<()> {
    let [arg_start, arg_end, env_start, env_end] = initial_areas()?;
    let fill = |start: usize, end: usize, text: &[u8]| {
        for (i, addr) in (start..end).enumerate() {
            let byte = text.get(i).copied().unwrap_or(0);
            // SAFETY: [start, end) is this process's own argument or environment area on
            // its initial stack, as the kernel reports it: mapped, writable, and holding
            // only the strings that `argv`/`environ` point at, which nothing reads again.
            // Volatile, so the writes are not elided.
            unsafe { std::ptr::write_volatile(addr as *mut u8, byte) };
        }
    };
    if env_end > env_start {
        fill(env_start, env_end, b"");
    }
    if arg_end > arg_start {
        // Keep the last byte NUL so that the kernel reads the area as plain arguments.
        let mut text = name.as_bytes().to_vec();
        text.truncate(arg_end - arg_start - 1);
        fill(arg_start, arg_end, &text);
    }
    Ok(())
}

/// Empties libc's environment (`clearenv`): the entries that pointed into the wiped
/// area go, and variables set afterwards form a fresh array.
pub fn clear_environment() {
    // SAFETY: the executor is single-threaded; nothing holds a pointer into `environ`.
    unsafe { libc::clearenv() };
}

fn sigchld_set() -> libc::sigset_t {
    // SAFETY: `sigemptyset` initialises the set it is given; an all-zero set is a valid
    // starting value.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable sigset.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
    }
    set
}

/// Blocks `SIGCHLD` (pid 1 reads it from a `signalfd` instead); returns the old mask.
pub fn block_sigchld() -> io::Result<libc::sigset_t> {
    let set = sigchld_set();
    // SAFETY: all-zero is a valid sigset to receive the old mask.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: both sets are valid for the call.
    let rc = unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(old)
}

/// Restores a signal mask saved by [`block_sigchld`] (the app must not start with
/// `SIGCHLD` blocked: the mask survives exec).
pub fn set_signal_mask(mask: &libc::sigset_t) -> io::Result<()> {
    // SAFETY: `mask` is a valid sigset; the old mask is not asked for.
    let rc = unsafe { libc::sigprocmask(libc::SIG_SETMASK, mask, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A `signalfd` for `SIGCHLD` (which must be blocked).
pub fn sigchld_fd() -> io::Result<OwnedFd> {
    let set = sigchld_set();
    // SAFETY: `set` is a valid sigset; -1 asks for a new descriptor.
    let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads and discards every pending `signalfd` record.
pub fn drain(fd: BorrowedFd<'_>) {
    let mut buf = [0u8; 128 * 8];
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return;
        }
    }
}

/// `poll` on `fds` (a negative descriptor is ignored, as poll does) with no timeout;
/// returns each descriptor's `revents`.
pub fn poll(fds: &[RawFd]) -> io::Result<Vec<i16>> {
    let mut set: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `set` is a valid array of `set.len()` pollfd structs.
        let rc = unsafe { libc::poll(set.as_mut_ptr(), set.len() as libc::nfds_t, -1) };
        if rc >= 0 {
            return Ok(set.iter().map(|p| p.revents).collect());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// A connected pair of `AF_UNIX` datagram-boundary sockets, close-on-exec.
pub fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is writable for two descriptors.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

const FD_SPACE: usize = std::mem::size_of::<RawFd>();

/// Room for one descriptor's control message, aligned for `cmsghdr`.
#[repr(C)]
struct Control {
    _align: [libc::cmsghdr; 0],
    bytes: [u8; 64],
}

/// One data byte and room for one descriptor's control message: what both ends of
/// [`send_fd`] / [`recv_fd`] exchange.
struct Message {
    byte: [u8; 1],
    iov: libc::iovec,
    control: Control,
}

impl Message {
    fn new(byte: u8) -> Box<Message> {
        let mut message = Box::new(Message {
            byte: [byte],
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 1,
            },
            control: Control {
                _align: [],
                bytes: [0; 64],
            },
        });
        // The box does not move: the iovec may point into it.
        message.iov.iov_base = message.byte.as_mut_ptr().cast();
        message
    }

    /// A `msghdr` over this message with `control_len` bytes of control data.
    fn header(&mut self, control_len: usize) -> libc::msghdr {
        // SAFETY: an all-zero msghdr is valid; the pointers set below point into `self`,
        // which the caller keeps alive for the call that uses the header.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut self.iov;
        msg.msg_iovlen = 1;
        msg.msg_control = self.control.bytes.as_mut_ptr().cast();
        msg.msg_controllen = control_len;
        msg
    }
}

/// Sends `fd` with one data byte over `socket` (`SCM_RIGHTS`).
pub fn send_fd(socket: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut message = Message::new(1);
    // SAFETY: CMSG_SPACE only computes a size.
    let msg = message.header(unsafe { libc::CMSG_SPACE(FD_SPACE as u32) } as usize);
    // SAFETY: the control buffer is aligned and large enough for one header and one
    // descriptor (CMSG_SPACE(4) <= 64), so CMSG_FIRSTHDR is non-null and CMSG_DATA
    // points inside it.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(FD_SPACE as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<RawFd>(), fd.as_raw_fd());
    }
    // SAFETY: `msg` describes buffers inside `message`, alive for the call.
    let rc = unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
    if rc != 1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Receives one descriptor sent by [`send_fd`]; `None` when the peer closed without
/// sending one.
pub fn recv_fd(socket: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    let mut message = Message::new(0);
    let mut msg = message.header(64);
    let n = loop {
        // SAFETY: `msg` describes valid, writable buffers inside `message`.
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n;
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    };
    if n == 0 {
        return Ok(None);
    }
    // SAFETY: the kernel filled `msg`'s control area; CMSG_FIRSTHDR checks its length.
    let header = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    if header.is_null() {
        return Ok(None);
    }
    // SAFETY: `header` points inside `control`, which the kernel initialised.
    let (level, kind, len) = unsafe {
        (
            (*header).cmsg_level,
            (*header).cmsg_type,
            (*header).cmsg_len,
        )
    };
    // SAFETY: CMSG_LEN only computes a size.
    let want = unsafe { libc::CMSG_LEN(FD_SPACE as u32) } as usize;
    if level != libc::SOL_SOCKET || kind != libc::SCM_RIGHTS || len < want {
        return Ok(None);
    }
    // SAFETY: the header is an SCM_RIGHTS message holding at least one descriptor.
    let fd = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(header).cast::<RawFd>()) };
    // SAFETY: the kernel installed `fd` in this process for us alone.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Confines a helper the executor starts on the host (the D-Bus proxy) between its fork
/// and its exec: a new session (no controlling terminal to push input into),
/// `no_new_privs`, and `program` as its seccomp filter (the app's own, so the helper the
/// app talks to is never less confined than the app). Only async-signal-safe calls run
/// in the forked child: the program is prepared here, before the fork.
pub fn confine_helper(command: &mut std::process::Command, program: Vec<libc::sock_filter>) {
    use std::os::unix::process::CommandExt;
    let hook = move || -> io::Result<()> {
        // SAFETY: setsid, prctl and seccomp are async-signal-safe system calls with
        // integer arguments or a pointer to `program`, which the closure owns and which
        // outlives the calls; nothing allocates.
        unsafe {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if !program.is_empty() {
            super::secure::set_filter(&program, 0)?;
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe system calls (see above).
    unsafe { command.pre_exec(hook) };
}

/// Sends one byte over `socket` (a step of a handshake).
pub fn send_byte(socket: BorrowedFd<'_>) -> io::Result<()> {
    let byte = [1u8];
    // SAFETY: `byte` is readable for one byte.
    let rc = unsafe {
        libc::send(
            socket.as_raw_fd(),
            byte.as_ptr().cast(),
            1,
            libc::MSG_NOSIGNAL,
        )
    };
    if rc != 1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits for one byte on `socket`; `false` when the peer closed its end instead.
pub fn recv_byte(socket: BorrowedFd<'_>) -> io::Result<bool> {
    let mut byte = [0u8];
    loop {
        // SAFETY: `byte` is writable for one byte.
        let n = unsafe { libc::recv(socket.as_raw_fd(), byte.as_mut_ptr().cast(), 1, 0) };
        if n >= 0 {
            return Ok(n == 1);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}
