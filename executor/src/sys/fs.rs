//! File-system calls on directory file descriptors: `openat2` with resolve flags,
//! `mkdirat`, `rmdirat`, `symlinkat`, `readlinkat`, `fstat`, `umask`, and listing a directory by
//! descriptor.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Never follow any symbolic link while resolving (`RESOLVE_NO_SYMLINKS`).
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
/// Never follow `/proc` magic links (`RESOLVE_NO_MAGICLINKS`).
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// Never leave the starting directory (`RESOLVE_BENEATH`).
pub const RESOLVE_BENEATH: u64 = 0x08;

/// `AT_FDCWD` as a directory argument.
pub const CWD: RawFd = libc::AT_FDCWD;

/// `struct open_how` (`linux/openat2.h`).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

fn cstring(text: &str) -> io::Result<CString> {
    CString::new(text).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `openat2(dir, path, {flags | O_CLOEXEC, mode, resolve})`.
pub fn openat2(dir: RawFd, path: &str, flags: i32, mode: u32, resolve: u64) -> io::Result<OwnedFd> {
    openat2_bytes(dir, path.as_bytes(), flags, mode, resolve)
}

/// [`openat2`] for a path that need not be UTF-8 (a name read from a directory).
pub fn openat2_bytes(
    dir: RawFd,
    path: &[u8],
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let path = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: u64::from(mode),
        resolve,
    };
    // SAFETY: `path` is a NUL-terminated string and `how` a fully initialised `open_how`
    // whose size is passed; both outlive the call. The kernel returns a new descriptor
    // that nothing else owns.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor returned by the kernel and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `mkdirat(dir, name, mode)`.
pub fn mkdirat(dir: BorrowedFd<'_>, name: &str, mode: u32) -> io::Result<()> {
    let name = cstring(name)?;
    // SAFETY: `name` is NUL-terminated and outlives the call; `dir` is an open descriptor.
    let rc = unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `unlinkat(dir, name, AT_REMOVEDIR)`: removes the empty directory `name` in `dir`.
pub fn rmdirat(dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    let name = cstring(name)?;
    // SAFETY: `name` is NUL-terminated and outlives the call; `dir` is an open descriptor.
    let rc = unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `symlinkat(target, dir, name)`.
pub fn symlinkat(target: &str, dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    let target = cstring(target)?;
    let name = cstring(name)?;
    // SAFETY: both strings are NUL-terminated and outlive the call; `dir` is open.
    let rc = unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The text of the symbolic link `name` in `dir`.
pub fn readlinkat(dir: BorrowedFd<'_>, name: &str) -> io::Result<String> {
    let name = cstring(name)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `buf` is writable for `buf.len()` bytes and the kernel writes at most that
    // many; `name` is NUL-terminated.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    String::from_utf8(buf).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// What kind of file a descriptor refers to, and on which device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// `st_mode & S_IFMT`.
    pub kind: u32,
    /// `st_dev`.
    pub dev: u64,
}

impl Stat {
    /// Whether it is a directory.
    pub fn is_dir(self) -> bool {
        self.kind == libc::S_IFDIR
    }

    /// Whether it is a symbolic link (only an `O_NOFOLLOW` descriptor can say so).
    pub fn is_symlink(self) -> bool {
        self.kind == libc::S_IFLNK
    }
}

/// Opens `path` for reading without blocking: opening a FIFO does not wait for a writer
/// (the caller then refuses what is not a regular file), and the descriptor is not
/// inherited across exec.
pub fn open_nonblocking(path: &str) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// `fstat(fd)` (works on `O_PATH` descriptors).
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<Stat> {
    // SAFETY: an all-zero `struct stat` is a valid value of the type.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let empty: &CStr = c"";
    // SAFETY: `st` is writable, `empty` is NUL-terminated, `fd` is open; AT_EMPTY_PATH
    // makes the call describe `fd` itself.
    let rc = unsafe { libc::fstatat(fd.as_raw_fd(), empty.as_ptr(), &mut st, libc::AT_EMPTY_PATH) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Stat {
        kind: st.st_mode & libc::S_IFMT,
        dev: st.st_dev,
    })
}

/// The names in directory `dir` (an `O_PATH` descriptor is fine), without `.` and `..`,
/// in the order the file system returns them.
pub fn entries(dir: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    // `O_PATH` descriptors cannot be read: open the directory itself again, for reading,
    // through the descriptor (no path is resolved again).
    let readable = openat2(
        dir.as_raw_fd(),
        ".",
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
    )?;
    let raw = std::os::fd::IntoRawFd::into_raw_fd(readable);
    // SAFETY: `raw` is an open directory descriptor that we own; on success `fdopendir`
    // takes it over (and `closedir` below closes it), on failure we close it ourselves.
    let stream = unsafe { libc::fdopendir(raw) };
    if stream.is_null() {
        let err = io::Error::last_os_error();
        // SAFETY: `fdopendir` failed, so `raw` is still ours to close, exactly once.
        unsafe { libc::close(raw) };
        return Err(err);
    }
    let mut names = Vec::new();
    let result = loop {
        // SAFETY: errno is thread-local; clearing it tells the end of the stream (NULL,
        // errno 0) from an error (NULL, errno set).
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: `stream` is a valid, open `DIR *` used by this thread alone.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            let err = io::Error::last_os_error();
            break match err.raw_os_error() {
                Some(0) | None => Ok(()),
                Some(_) => Err(err),
            };
        }
        // SAFETY: a non-NULL `readdir` result points at a `struct dirent` whose `d_name`
        // is NUL-terminated and valid until the next `readdir` or `closedir` on `stream`;
        // the bytes are copied before either.
        let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) }.to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    };
    // SAFETY: `stream` is valid and closed exactly once; it closes `raw` with it.
    unsafe { libc::closedir(stream) };
    result.map(|()| names)
}

/// Sets the file mode creation mask; returns the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: `umask` only swaps a per-process value and cannot fail.
    unsafe { libc::umask(mask) }
}
