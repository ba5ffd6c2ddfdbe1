//! The blob decoder's seccomp checker (`portcullis_blob::bpf`) against the kernel: every
//! opcode with telling constants, jumps and scratch-memory flows are loaded for real in a
//! forked child, and the checker must accept exactly what `seccomp(2)` accepts. Then a
//! blob whose checksum is right but whose program the kernel refuses is refused by
//! `portcullis-exec` with 125 before anything exists on the host.

use portcullis_blob::mounts::{MountOp, PathExpr};
use portcullis_blob::{bpf, SockFilter};

use crate::executor::{blob_with, default_policy, As, Stage};

const ALLOW: u32 = 0x7fff_0000;

fn i(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

fn ret_allow() -> SockFilter {
    i(0x06, 0, 0, ALLOW)
}

/// Whether the kernel accepts `program` as a seccomp filter: loaded in a forked child,
/// which then exits. `None` when seccomp cannot be used here at all.
fn kernel_accepts(program: &[SockFilter]) -> Option<bool> {
    let bytes: Vec<u8> = program.iter().flat_map(|f| f.to_bytes()).collect();
    let prog = libc::sock_fprog {
        len: program.len() as u16,
        filter: bytes.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: fork(2) has no preconditions; the child only makes raw syscalls with
    // pointers into memory allocated before the fork, then leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return None;
    }
    if pid == 0 {
        // SAFETY: raw syscalls with valid pointers (`prog` points at `bytes`).
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                libc::_exit(3);
            }
            let r = libc::syscall(libc::SYS_seccomp, 1, 0, &prog as *const libc::sock_fprog);
            let errno = *libc::__errno_location();
            libc::_exit(match (r, errno) {
                (0, _) => 0,
                (_, libc::EINVAL) => 1,
                _ => 2,
            });
        }
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFSIGNALED(status) {
        // Loaded, and the filter then refused the child's own exit: accepted.
        return Some(true);
    }
    match libc::WEXITSTATUS(status) {
        0 => Some(true),
        1 => Some(false),
        _ => None,
    }
}

/// Programs that probe each rule: every opcode with a few constants in front of a `ret`,
/// jumps at and past the end, and scratch memory written on some paths only.
fn probes() -> Vec<Vec<SockFilter>> {
    let mut out = Vec::new();
    for code in 0..=0xffu16 {
        for k in [0, 2, 4, 16, 32, 64] {
            out.push(vec![i(code, 0, 0, k), ret_allow()]);
        }
    }
    out.push(vec![i(0x115, 0, 0, 0), ret_allow()]);
    out.push(vec![]);
    out.push(vec![ret_allow(); 4096]);
    out.push(vec![ret_allow(); 4097]);
    out.push(vec![i(0x20, 0, 0, 0)]);
    out.push(vec![i(0x05, 0, 0, 0), ret_allow()]);
    out.push(vec![i(0x05, 0, 0, 1), ret_allow()]);
    out.push(vec![i(0x15, 0, 1, 0), ret_allow(), ret_allow()]);
    out.push(vec![i(0x15, 2, 0, 0), ret_allow(), ret_allow()]);
    out.push(vec![i(0x02, 0, 0, 5), i(0x60, 0, 0, 5), ret_allow()]);
    // Written on one branch only / on both.
    for both in [false, true] {
        out.push(vec![
            i(0x20, 0, 0, 0),
            i(0x15, 0, 2, 1),
            i(0x02, 0, 0, 7),
            i(0x05, 0, 0, 1),
            if both {
                i(0x02, 0, 0, 7)
            } else {
                i(0x00, 0, 0, 0)
            },
            i(0x60, 0, 0, 7),
            ret_allow(),
        ]);
    }
    // A word written, then a `ret`, then a read reached only by falling through it.
    out.push(vec![
        i(0x20, 0, 0, 0),
        i(0x15, 1, 0, 0),
        i(0x02, 0, 0, 3),
        ret_allow(),
        i(0x60, 0, 0, 3),
        ret_allow(),
    ]);
    out
}

#[test]
fn the_decoders_seccomp_checker_agrees_with_the_kernel() {
    if kernel_accepts(&[ret_allow()]) != Some(true) {
        portcullis_tests::skip!("this process cannot load a seccomp filter");
        return;
    }
    let mut disagreements = Vec::new();
    for program in probes() {
        let ours = bpf::check(&program).is_ok();
        let Some(kernel) = kernel_accepts(&program) else {
            panic!(
                "the kernel gave an unexpected error for {:?}",
                &program[..1]
            );
        };
        if ours != kernel {
            disagreements.push(format!(
                "{:?}…: kernel {kernel}, ours {ours}",
                &program[..program.len().min(2)]
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn a_kernel_invalid_program_is_refused_before_anything_happens_on_the_host() {
    let Some(stage) = Stage::new() else {
        return;
    };
    for who in [As::Caller, As::Nobody] {
        let created = stage.home(who).join("created-by-the-plan");
        let mut blob = blob_with(
            &default_policy("org.test.Bpf"),
            vec![MountOp::HostDir {
                path: PathExpr::new(created.to_string_lossy()),
                mode: 0o700,
            }],
        );
        // The compiled program with an unaligned load in front: checksum-valid, but
        // `seccomp(2)` would say EINVAL at the very last step.
        blob.seccomp.insert(0, i(0x20, 0, 0, 2));
        let path = stage.write_blob("bad-bpf.blob", &blob.encode());
        let out = stage.run(who, &[path.to_str().unwrap(), "--", "/bin/true"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{who:?}: {stderr}");
        assert!(
            stderr.contains("read blob") && stderr.contains("seccomp"),
            "{who:?}: {stderr}"
        );
        assert!(!created.exists(), "{who:?}: the plan ran on the host");
        // The same blob with the compiled program runs and creates the directory: the
        // refusal above is the program's doing.
        blob.seccomp.remove(0);
        let path = stage.write_blob("good-bpf.blob", &blob.encode());
        let out = stage.run(who, &[path.to_str().unwrap(), "--", "/bin/true"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{who:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(created.is_dir(), "{who:?}");
    }
}
