//! Issue 15, item 5: what the executor must refuse before it changes anything, and the
//! bounds it puts on what the sandbox can take: the blob decoder's seccomp checker agrees
//! with the kernel's; a kernel-invalid program, a FIFO or an endless blob, a device-node
//! grant that is not a device are refused with 125 and nothing on the host; `check` refuses
//! what the executor would refuse later (NUL bytes, limits out of range, impossible paths,
//! non-device nodes); a path too long once expanded is skipped like a missing one; every
//! tmpfs of the sandbox is bounded by the memory limit.
//!
//! `unsafe` is allowed here for `bpf`, which loads filters in a forked child.
//!
//! Uses the executor harness of [`crate::executor`] (`cargo build --workspace --bins`
//! first).

#![allow(unsafe_code)]

mod bpf;
mod check;
mod devices;
mod files;
mod output;
mod paths;
mod tmpfs;
