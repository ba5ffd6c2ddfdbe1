//! Every system call of the executor that needs `unsafe`, each with a `// SAFETY:` comment.
//! The rest of the executor stays safe code.
#![allow(unsafe_code)]

pub mod confine;
pub mod fs;
pub mod mount;
pub mod notify;
pub mod process;
pub mod secure;

/// A resource the executor limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// `RLIMIT_AS`: bytes of address space.
    AddressSpace,
    /// `RLIMIT_DATA`: bytes of data (heap and private writable mappings).
    Data,
    /// `RLIMIT_NPROC`: processes and threads of the real uid (per user namespace).
    Processes,
    /// `RLIMIT_NOFILE`: one more than the highest file descriptor number.
    OpenFiles,
    /// `RLIMIT_CPU`: seconds of CPU time.
    Cpu,
    /// `RLIMIT_CORE`: bytes of a core dump.
    Core,
}

impl Resource {
    fn raw(self) -> libc::__rlimit_resource_t {
        match self {
            Resource::AddressSpace => libc::RLIMIT_AS,
            Resource::Data => libc::RLIMIT_DATA,
            Resource::Processes => libc::RLIMIT_NPROC,
            Resource::OpenFiles => libc::RLIMIT_NOFILE,
            Resource::Cpu => libc::RLIMIT_CPU,
            Resource::Core => libc::RLIMIT_CORE,
        }
    }
}

/// The soft and hard limits of `resource` (`RLIM_INFINITY` as `u64::MAX`).
pub fn getrlimit(resource: Resource) -> std::io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `struct rlimit` for the duration of the call.
    let rc = unsafe { libc::getrlimit(resource.raw(), &mut limit) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

/// Sets the soft and hard limits of `resource` for this process and its future children.
pub fn setrlimit(resource: Resource, soft: u64, hard: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: `limit` is a valid `struct rlimit` that the kernel only reads.
    let rc = unsafe { libc::setrlimit(resource.raw(), &limit) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
