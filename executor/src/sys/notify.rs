//! Seccomp user notification (`SECCOMP_RET_USER_NOTIF`) and what pid 1 needs to answer
//! one: installing a filter with a listener, receiving and answering notifications,
//! `pidfd_open` / `pidfd_getfd` to hold the very socket the app named, and the socket
//! calls that inspect it and listen on it.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
const FLAG_NEW_LISTENER: libc::c_ulong = 1 << 3;
/// `SECCOMP_GET_NOTIF_SIZES`.
const GET_NOTIF_SIZES: libc::c_uint = 3;
/// `SECCOMP_IOCTL_NOTIF_RECV` = `_IOWR('!', 0, struct seccomp_notif)` (80 bytes).
const IOCTL_RECV: libc::c_ulong = 0xC050_2100;
/// `SECCOMP_IOCTL_NOTIF_SEND` = `_IOWR('!', 1, struct seccomp_notif_resp)` (24 bytes).
const IOCTL_SEND: libc::c_ulong = 0xC018_2101;
/// `SECCOMP_IOCTL_NOTIF_ID_VALID` = `_IOW('!', 2, __u64)`.
const IOCTL_ID_VALID: libc::c_ulong = 0x4008_2102;

/// `struct seccomp_notif` as this code reads it (the kernel may report a larger size;
/// the receive buffer is then that large and only this prefix is read).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct RawNotif {
    id: u64,
    pid: u32,
    flags: u32,
    nr: i32,
    arch: u32,
    ip: u64,
    args: [u64; 6],
}

/// `struct seccomp_notif_resp`.
#[repr(C)]
struct RawResp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

/// One intercepted syscall.
#[derive(Clone, Copy, Debug)]
pub struct Notification {
    /// The kernel's cookie for the answer.
    pub id: u64,
    /// The calling thread, in pid 1's pid namespace.
    pub pid: i32,
    /// The syscall number.
    pub nr: i32,
    /// Its `AUDIT_ARCH_*`.
    pub arch: u32,
    /// Its arguments.
    pub args: [u64; 6],
}

/// Installs `program` on the calling thread with a notification listener and returns the
/// listener (close-on-exec, as the kernel creates it). `no_new_privs` must be set.
pub fn install_with_listener(program: &[libc::sock_filter]) -> io::Result<OwnedFd> {
    let fd = super::secure::set_filter(program, FLAG_NEW_LISTENER)?;
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The size of `struct seccomp_notif` on this kernel (at least this code's).
fn notif_size() -> usize {
    let mut sizes = [0u16; 3];
    // SAFETY: GET_NOTIF_SIZES writes three u16 values into `sizes`.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            GET_NOTIF_SIZES,
            0 as libc::c_uint,
            sizes.as_mut_ptr(),
        )
    };
    let ours = std::mem::size_of::<RawNotif>();
    if rc != 0 {
        return ours;
    }
    usize::from(sizes[0]).max(ours)
}

/// Receives the next notification. `ENOENT` means the caller went away (or was
/// interrupted) before it was read: not an error of the listener.
pub fn receive(listener: BorrowedFd<'_>) -> io::Result<Notification> {
    // u64 words, so the buffer is aligned for `RawNotif`; the kernel requires it zeroed.
    let mut buf = vec![0u64; notif_size().div_ceil(8)];
    // SAFETY: `buf` is writable for at least the kernel's `struct seccomp_notif`.
    let rc = unsafe { libc::ioctl(listener.as_raw_fd(), IOCTL_RECV, buf.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `buf` is aligned and at least `size_of::<RawNotif>()` bytes, all written
    // by the kernel or zero; every bit pattern is a valid `RawNotif`.
    let raw: RawNotif = unsafe { std::ptr::read(buf.as_ptr().cast::<RawNotif>()) };
    Ok(Notification {
        id: raw.id,
        pid: raw.pid as i32,
        nr: raw.nr,
        arch: raw.arch,
        args: raw.args,
    })
}

/// Whether notification `id` is still pending (its thread still waits in the syscall,
/// so its pid and descriptors still belong to it).
pub fn still_pending(listener: BorrowedFd<'_>, id: u64) -> bool {
    // SAFETY: the ioctl reads one u64.
    unsafe { libc::ioctl(listener.as_raw_fd(), IOCTL_ID_VALID, &id as *const u64) == 0 }
}

/// Answers notification `id`: the syscall returns `value`, or fails with `errno` when it
/// is non-zero.
pub fn answer(listener: BorrowedFd<'_>, id: u64, value: i64, errno: i32) -> io::Result<()> {
    let resp = RawResp {
        id,
        val: if errno == 0 { value } else { 0 },
        error: -errno,
        flags: 0,
    };
    // SAFETY: `resp` is a valid `struct seccomp_notif_resp` the kernel only reads.
    let rc = unsafe { libc::ioctl(listener.as_raw_fd(), IOCTL_SEND, &resp as *const RawResp) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `pidfd_open(pid, 0)`.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0 as libc::c_uint) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_getfd(pidfd, fd, 0)`: a duplicate of descriptor `fd` of that process (the same
/// open file, so the same socket).
pub fn pidfd_getfd(pidfd: BorrowedFd<'_>, fd: i32) -> io::Result<OwnedFd> {
    // SAFETY: plain integer arguments.
    let got = unsafe {
        libc::syscall(
            libc::SYS_pidfd_getfd,
            pidfd.as_raw_fd(),
            fd,
            0 as libc::c_uint,
        )
    };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(got as RawFd) })
}

/// What a socket is, as far as the listen check cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketKind {
    /// `AF_INET` or `AF_INET6`, with its local port (0: not bound).
    Inet { port: u16 },
    /// Any other family.
    Other,
}

/// The family and (for IP) local port of socket `fd`.
pub fn socket_kind(fd: BorrowedFd<'_>) -> io::Result<SocketKind> {
    let mut domain: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `domain` is writable for `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_DOMAIN,
            (&mut domain as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    if domain != libc::AF_INET && domain != libc::AF_INET6 {
        return Ok(SocketKind::Other);
    }
    // SAFETY: an all-zero sockaddr_storage is valid.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `addr` is writable for `len` bytes.
    let rc = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // sin_port and sin6_port sit at the same offset, right after the family.
    // SAFETY: both layouts start with the family and the port in network order.
    let port =
        unsafe { (*(&addr as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>()).sin_port };
    Ok(SocketKind::Inet {
        port: u16::from_be(port),
    })
}

/// `listen(fd, backlog)`.
pub fn listen(fd: BorrowedFd<'_>, backlog: i32) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    if unsafe { libc::listen(fd.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
