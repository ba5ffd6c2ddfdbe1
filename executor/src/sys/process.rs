//! Process and namespace calls: ids, `unshare`, `fork`, `waitpid`, the parent-death
//! signal, `setsid`, `close_range`, `execvp`, and bringing up loopback.

use std::ffi::CString;
use std::io;

/// The real uid and gid.
pub fn ids() -> (u32, u32) {
    // SAFETY: `getuid` and `getgid` cannot fail and touch no memory.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// `unshare(flags)`.
pub fn unshare(flags: i32) -> io::Result<()> {
    // SAFETY: `unshare` takes a flag word and touches no memory of ours.
    if unsafe { libc::unshare(flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Which side of a `fork` we are on.
pub enum Forked {
    /// The child.
    Child,
    /// The parent, with the child's pid.
    Parent(libc::pid_t),
}

/// `fork()`. The executor is single-threaded, so the child may run any code.
pub fn fork() -> io::Result<Forked> {
    // SAFETY: the executor never starts threads, so the child inherits a consistent
    // address space (no lock can be held by a thread that does not exist in the child).
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

impl Ended {
    /// The status a shell would report: the code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            Ended::Exited(code) => code,
            Ended::Signaled(sig) => 128 + sig,
        }
    }
}

/// Waits for `pid` (`-1`: any child); `None` when there is no child left.
pub fn wait(pid: libc::pid_t) -> io::Result<Option<(libc::pid_t, Ended)>> {
    wait_with(pid, 0)
}

/// Reaps one child that has ended, without blocking; `None` when none has (or there is
/// no child left).
pub fn wait_nohang() -> io::Result<Option<(libc::pid_t, Ended)>> {
    wait_with(-1, libc::WNOHANG)
}

fn wait_with(pid: libc::pid_t, options: i32) -> io::Result<Option<(libc::pid_t, Ended)>> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a writable int for the duration of the call.
        let got = unsafe { libc::waitpid(pid, &mut status, options) };
        if got == 0 {
            return Ok(None);
        }
        if got < 0 {
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(None),
                _ => return Err(err),
            }
        }
        let ended = if libc::WIFSIGNALED(status) {
            Ended::Signaled(libc::WTERMSIG(status))
        } else if libc::WIFEXITED(status) {
            Ended::Exited(libc::WEXITSTATUS(status))
        } else {
            continue;
        };
        return Ok(Some((got, ended)));
    }
}

/// Asks the kernel to send `SIGKILL` to this process when its parent dies.
pub fn die_with_parent() -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number; no memory is touched.
    if unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `setsid()`: a new session without a controlling terminal.
pub fn setsid() -> io::Result<()> {
    // SAFETY: `setsid` takes no arguments.
    if unsafe { libc::setsid() } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Closes every descriptor from `first` up.
pub fn close_from(first: u32) -> io::Result<()> {
    // SAFETY: closing descriptors the process does not use any more; every OwnedFd the
    // executor still holds is below `first` or already dropped by the caller.
    if unsafe { libc::close_range(first, u32::MAX, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `execvp(argv[0], argv)`; only returns on failure.
pub fn execvp(argv: &[String]) -> io::Error {
    let owned: Result<Vec<CString>, _> = argv.iter().map(|a| CString::new(a.as_bytes())).collect();
    let Ok(owned) = owned else {
        return io::Error::from_raw_os_error(libc::EINVAL);
    };
    let Some(first) = owned.first() else {
        return io::Error::from_raw_os_error(libc::ENOENT);
    };
    let mut ptrs: Vec<*const libc::c_char> = owned.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: `ptrs` is a NULL-terminated array of pointers to NUL-terminated strings
    // owned by `owned`, which outlives the call.
    unsafe { libc::execvp(first.as_ptr(), ptrs.as_ptr()) };
    io::Error::last_os_error()
}

#[repr(C)]
struct IfreqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    pad: [u8; 22],
}

/// Brings the loopback interface of the current network namespace up.
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: plain socket creation; the descriptor is closed below.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut req = IfreqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: `req` is a writable, correctly sized `struct ifreq` (name then the flags
    // union member) for both ioctls.
    let rc = unsafe {
        if libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) == 0 {
            req.flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(sock, libc::SIOCSIFFLAGS, &req)
        } else {
            -1
        }
    };
    let err = io::Error::last_os_error();
    // SAFETY: `sock` is our own descriptor and is not used afterwards.
    unsafe { libc::close(sock) };
    if rc != 0 {
        return Err(err);
    }
    Ok(())
}

extern "C" {
    /// First byte of the executable's image (provided by the linker).
    static __executable_start: u8;
    /// End of the executable's code (provided by the linker).
    static etext: u8;
}

/// Gives back memory a process that only waits from now on does not need: free heap
/// pages (`malloc_trim`) and the page mappings of the executable's headers and code
/// (`MADV_DONTNEED` on a clean, never-written, file-backed range only drops the mappings;
/// the few pages the waiting loop still runs are faulted back in from the page cache).
/// This is what keeps the two helper processes' PSS low while the app runs.
pub fn release_memory() {
    // SAFETY: `malloc_trim` only returns free heap memory to the kernel.
    unsafe { libc::malloc_trim(0) };
    // Only the addresses of the linker symbols are taken; they are never read.
    let (start, end) = (
        std::ptr::addr_of!(__executable_start) as usize,
        std::ptr::addr_of!(etext) as usize,
    );
    let page = 4096;
    let start = start & !(page - 1);
    let end = (end + page - 1) & !(page - 1);
    if end > start {
        // SAFETY: [start, end) is the executable's read-only headers and code: clean,
        // file-backed and never written, so dropping its page mappings loses nothing; a
        // failure leaves the mappings as they were.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
    }
}

/// `kill(pid, signal)` of one process, for what is left in a launch's cgroup; a process
/// that is already gone is not an error worth reporting, so the result is ignored. A pid
/// of 0 or below (a process group, or every process) is never signalled.
pub fn kill(pid: libc::pid_t, signal: i32) {
    if pid <= 0 {
        return;
    }
    // SAFETY: `kill` takes two integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}
