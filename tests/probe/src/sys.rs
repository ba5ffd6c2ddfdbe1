//! Raw system calls for the probes: each returns the kernel's result or the errno, and
//! never panics. All `unsafe` of the probe is here.
#![allow(unsafe_code)]

use std::ffi::CString;

/// A raw result: `Ok(value)` or `Err(errno)`.
pub type Raw = Result<i64, i32>;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn done(rc: i64) -> Raw {
    if rc < 0 {
        Err(errno())
    } else {
        Ok(rc)
    }
}

/// `syscall(nr, a, b, c, d, e, f)` with integer arguments only.
pub fn syscall6(nr: libc::c_long, args: [u64; 6]) -> Raw {
    // SAFETY: every probe passes integers or null pointers; a call the kernel rejects
    // or that the filter blocks returns an error, and none of them write memory we own
    // (their pointer arguments are null).
    let rc = unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]) };
    done(rc)
}

/// `ioctl(fd, request, &byte)`.
pub fn ioctl_byte(fd: i32, request: u64, byte: u8) -> Raw {
    let value = byte;
    // SAFETY: the argument points at one readable byte, which is all TIOCSTI reads;
    // for TIOCLINUX the first byte is the subcode. Both only read it.
    let rc = unsafe { libc::syscall(libc::SYS_ioctl, fd, request, &value as *const u8) };
    done(rc)
}

/// `mount(source, target, fstype, 0, NULL)`.
pub fn mount(source: &str, target: &str, fstype: &str) -> Raw {
    let (Ok(s), Ok(t), Ok(f)) = (
        CString::new(source),
        CString::new(target),
        CString::new(fstype),
    ) else {
        return Err(libc::EINVAL);
    };
    // SAFETY: three NUL-terminated strings that outlive the call; null data.
    let rc = unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), 0, std::ptr::null()) };
    done(i64::from(rc))
}

/// `fsopen(name, 0)`.
pub fn fsopen(name: &str) -> Raw {
    let Ok(n) = CString::new(name) else {
        return Err(libc::EINVAL);
    };
    // SAFETY: a NUL-terminated string that outlives the call.
    let rc = unsafe { libc::syscall(libc::SYS_fsopen, n.as_ptr(), 0) };
    done(rc)
}

/// `open_tree(AT_FDCWD, path, OPEN_TREE_CLONE)`.
pub fn open_tree(path: &str) -> Raw {
    let Ok(p) = CString::new(path) else {
        return Err(libc::EINVAL);
    };
    // SAFETY: a NUL-terminated string that outlives the call.
    let rc = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, p.as_ptr(), 1) };
    done(rc)
}

/// `chroot(path)`.
pub fn chroot(path: &str) -> Raw {
    let Ok(p) = CString::new(path) else {
        return Err(libc::EINVAL);
    };
    // SAFETY: a NUL-terminated string that outlives the call.
    done(i64::from(unsafe { libc::chroot(p.as_ptr()) }))
}

/// `kill(pid, sig)`.
pub fn kill(pid: i32, sig: i32) -> Raw {
    // SAFETY: integer arguments only.
    done(i64::from(unsafe { libc::kill(pid, sig) }))
}

/// `fork()`, the child runs `child` and exits with its value; returns the child's exit
/// status (or the signal + 128).
pub fn in_child(child: impl FnOnce() -> i32) -> Raw {
    // SAFETY: the probe is single-threaded, so the child may run arbitrary code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(errno());
    }
    if pid == 0 {
        let code = child();
        // SAFETY: `_exit` ends the child at once without unwinding into the parent's state.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: `status` is writable for the duration of the call.
    if unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        return Err(errno());
    }
    if libc::WIFEXITED(status) {
        Ok(i64::from(libc::WEXITSTATUS(status)))
    } else {
        Ok(128 + i64::from(libc::WTERMSIG(status)))
    }
}

/// Connects a new UNIX stream socket to the abstract name `name` (without the NUL).
pub fn connect_abstract(name: &str) -> Raw {
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: an all-zero sockaddr_un is valid.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = name.as_bytes();
    let n = bytes.len().min(addr.sun_path.len() - 1);
    for (slot, b) in addr.sun_path[1..=n].iter_mut().zip(bytes) {
        *slot = *b as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + 1 + n;
    // SAFETY: `addr` is a valid sockaddr_un and `len` covers the family and the name.
    let rc = unsafe { libc::connect(fd, &addr as *const _ as *const libc::sockaddr, len as u32) };
    let result = done(i64::from(rc));
    // SAFETY: our own descriptor, closed once.
    unsafe { libc::close(fd) };
    result
}

/// `mknod(path, S_IFCHR | 0600, makedev(major, minor))`.
pub fn mknod_char(path: &str, major: u32, minor: u32) -> Raw {
    let Ok(p) = CString::new(path) else {
        return Err(libc::EINVAL);
    };
    // SAFETY: a NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::mknod(
            p.as_ptr(),
            libc::S_IFCHR | 0o600,
            libc::makedev(major, minor),
        )
    };
    done(i64::from(rc))
}

/// Opens `/dev/ptmx` and returns the (master, slave) descriptors.
pub fn open_pty() -> Result<(i32, i32), i32> {
    // SAFETY: plain calls on our own descriptors; `name` is a writable buffer whose size
    // is passed to ptsname_r.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        if master < 0 || libc::grantpt(master) != 0 || libc::unlockpt(master) != 0 {
            return Err(errno());
        }
        let mut name = [0 as libc::c_char; 64];
        if libc::ptsname_r(master, name.as_mut_ptr(), name.len()) != 0 {
            return Err(errno());
        }
        let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        if slave < 0 {
            return Err(errno());
        }
        Ok((master, slave))
    }
}

/// `socket(domain, type, protocol)`.
pub fn socket(domain: i32, ty: i32, protocol: i32) -> Raw {
    // SAFETY: integer arguments only.
    done(i64::from(unsafe { libc::socket(domain, ty, protocol) }))
}

/// `close(fd)` on a descriptor the caller owns.
pub fn close(fd: i32) {
    // SAFETY: the caller's own descriptor, closed once.
    unsafe { libc::close(fd) };
}

fn sockaddr_in(addr: std::net::SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: an all-zero sockaddr_in is valid.
    let mut out: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    out.sin_family = libc::AF_INET as libc::sa_family_t;
    out.sin_port = addr.port().to_be();
    out.sin_addr.s_addr = u32::from_ne_bytes(addr.ip().octets());
    out
}

const SOCKADDR_IN_LEN: u32 = std::mem::size_of::<libc::sockaddr_in>() as u32;

/// `connect(fd, addr)`.
pub fn connect_in(fd: i32, addr: std::net::SocketAddrV4) -> Raw {
    let sa = sockaddr_in(addr);
    // SAFETY: `sa` is a valid sockaddr_in of the length passed.
    let rc = unsafe {
        libc::connect(
            fd,
            &sa as *const _ as *const libc::sockaddr,
            SOCKADDR_IN_LEN,
        )
    };
    done(i64::from(rc))
}

/// `bind(fd, addr)`.
pub fn bind_in(fd: i32, addr: std::net::SocketAddrV4) -> Raw {
    let sa = sockaddr_in(addr);
    // SAFETY: `sa` is a valid sockaddr_in of the length passed.
    let rc = unsafe {
        libc::bind(
            fd,
            &sa as *const _ as *const libc::sockaddr,
            SOCKADDR_IN_LEN,
        )
    };
    done(i64::from(rc))
}

/// `sendto(fd, data, flags, addr)`.
pub fn sendto_in(fd: i32, data: &[u8], flags: i32, addr: std::net::SocketAddrV4) -> Raw {
    let sa = sockaddr_in(addr);
    // SAFETY: `data` is readable for its length; `sa` is a valid sockaddr_in.
    let rc = unsafe {
        libc::sendto(
            fd,
            data.as_ptr().cast(),
            data.len(),
            flags,
            &sa as *const _ as *const libc::sockaddr,
            SOCKADDR_IN_LEN,
        )
    };
    done(rc as i64)
}

/// `sendmsg(fd, {addr, [data]}, flags)`.
pub fn sendmsg_in(fd: i32, data: &[u8], flags: i32, addr: std::net::SocketAddrV4) -> Raw {
    let mut sa = sockaddr_in(addr);
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: an all-zero msghdr is valid; its pointers are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = &mut sa as *mut _ as *mut libc::c_void;
    msg.msg_namelen = SOCKADDR_IN_LEN;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: `msg` points at `sa` and `iov`, which point at live, readable memory; the
    // kernel only reads them.
    let rc = unsafe { libc::sendmsg(fd, &msg, flags) };
    done(rc as i64)
}

/// `io_uring_setup(entries, &params)` with zeroed parameters; returns the ring's fd.
pub fn io_uring_setup(entries: u32) -> Raw {
    // struct io_uring_params is 120 bytes; the kernel reads and writes back that much.
    let mut params = [0u64; 16];
    // SAFETY: `params` is 128 writable bytes, more than the kernel's struct.
    let rc = unsafe { libc::syscall(libc::SYS_io_uring_setup, entries, params.as_mut_ptr()) };
    done(rc)
}
