//! `portcullis emit --backend bwrap`: a POSIX shell wrapper that runs the app's sandbox under
//! stock bubblewrap (`sh WRAPPER CMD [ARG...]`).
//!
//! Emitting has no side effects: it reads the policy and the caller's environment (the one
//! backend that expands the plan for the current user, here in the CLI layer) and prints
//! text, nothing else. Whatever a bwrap run needs on the host is made by the wrapper when it
//! runs:
//!
//! * the host directories of the plan (`~/.var/app/APP/...`) and its runtime-dir symlinks;
//! * a fresh private directory for the generated files (`/etc/passwd`, masks, the seccomp
//!   program), `mktemp -d` inside `${XDG_RUNTIME_DIR:-/tmp}/portcullis-bwrap-UID`. That
//!   parent is created with mode 0700 when absent and refused when it is a symlink, not a
//!   directory, not owned by the caller or not mode 0700 (another user could otherwise swap
//!   the files bwrap reads). The private directory is removed when bwrap exits.
//!
//! The wrapper passes the compiled seccomp program (the same bytes as `emit --backend
//! seccomp`) as `bwrap --seccomp 3`. It leaves out, and its header says so, what only
//! `portcullis run` applies: the Landlock rules, the resource limits, the D-Bus proxy (no bus
//! socket is bound), the device-node checks and pid 1's hardening.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use portcullis_backends::bwrap::{self, BwrapArgs, Namespaces};
use portcullis_backends::mounts::plan;
use portcullis_backends::seccomp::{compile_policy, to_bytes};
use portcullis_blob::expand::{expand_env, expand_plan, Launch, RealFs, Values};
use portcullis_ir::context::Share;
use portcullis_ir::Policy;

use super::emit_mounts::print_warnings;
use super::input::{self, EXIT_INVALID};
use crate::cli::EmitArgs;

/// What the wrapper leaves out, one line each, for its header.
pub const LEFT_OUT: &[&str] = &[
    "Landlock rules (filesystem access and TCP port rules)",
    "resource limits (memory, processes, files)",
    "the D-Bus proxy: no bus socket is bound, talk-name/own-name grants give no bus",
    "device-node checks made at launch",
    "pid 1 hardening (bwrap's pid 1 is dumpable)",
    "link-safe bind sources: bwrap follows symbolic links in a source, so a link an app \
     planted below the home directory (e.g. ~/.local/share/icons) redirects the next run's \
     bind; portcullis-exec refuses such links",
];

/// The placeholder data directory handed to the backend; no real path holds a NUL byte, so
/// every word starting with it refers to the wrapper's private directory.
const DATA: &str = "\u{0}data";

/// The caller's uid and gid from `/proc/self/status`.
fn ids() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u32> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("Uid:")?, field("Gid:")?))
}

/// The user name of `uid` from `/etc/passwd`, else `$USER`.
fn user_name(uid: u32, env: &BTreeMap<String, String>) -> String {
    let from_passwd = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
            })
        });
    from_passwd
        .or_else(|| env.get("USER").cloned())
        .unwrap_or_else(|| uid.to_string())
}

/// The launch as the current user would make it.
pub fn current_launch(policy: &Policy) -> Result<Launch, String> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let (uid, gid) = ids().ok_or("cannot read the caller's ids from `/proc/self/status`")?;
    let home = env
        .get("HOME")
        .cloned()
        .ok_or("`HOME` is not set; the plan needs the caller's home")?;
    let config = env
        .get("XDG_CONFIG_HOME")
        .cloned()
        .unwrap_or(format!("{home}/.config"));
    Ok(Launch {
        user: user_name(uid, &env),
        user_dirs: std::fs::read_to_string(format!("{config}/user-dirs.dirs")).ok(),
        env,
        uid,
        gid,
        home,
        app_id: policy.app_id().to_string(),
        runtime: None,
        app: None,
        extensions: None,
    })
}

/// `word` as one single-quoted shell word.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `word` as a shell word, with the placeholder data directory as `"$dir"`.
fn shell_word(word: &str) -> String {
    match word.strip_prefix(DATA) {
        Some(rest) => format!("\"$dir\"{}", quote(rest)),
        None => quote(word),
    }
}

/// Shell lines writing `content` byte for byte to `target` (a shell word): `printf` with
/// octal escapes for everything but a few plain characters, 48 bytes a line.
fn write_file(out: &mut String, target: &str, content: &[u8]) {
    if content.is_empty() {
        let _ = writeln!(out, ": > {target}");
        return;
    }
    let _ = writeln!(out, "{{");
    for chunk in content.chunks(48) {
        let mut text = String::new();
        for &byte in chunk {
            if byte.is_ascii_alphanumeric() || b" ,._+:@/=-".contains(&byte) {
                text.push(byte as char);
            } else {
                let _ = write!(text, "\\{byte:03o}");
            }
        }
        let _ = writeln!(out, "    printf '{text}'");
    }
    let _ = writeln!(out, "}} > {target}");
}

/// The wrapper script for `app_id` run by `uid`.
pub fn script(app_id: &str, uid: u32, out: &BwrapArgs, seccomp: &[u8]) -> String {
    let mut s = String::new();
    s.push_str("#!/bin/sh\n");
    let _ = writeln!(
        s,
        "# Written by `portcullis emit --backend bwrap` for {app_id}, run by uid {uid}.\n\
         # Usage: sh THIS-FILE CMD [ARG...]: runs CMD in the app's sandbox under stock bwrap.\n\
         #\n\
         # Carried: the mount plan, the environment, the namespaces and the seccomp filter\n\
         # (bwrap --seccomp 3). Left out (only `portcullis run` applies them):"
    );
    for item in LEFT_OUT {
        let _ = writeln!(s, "#   - {item}");
    }
    s.push_str(
        "#\n\
         # Made here at run time, not when emitted: the plan's host directories and symlinks,\n\
         # and a fresh private directory for the generated files inside\n\
         # ${XDG_RUNTIME_DIR:-/tmp}/portcullis-bwrap-UID (mode 0700, owned by the caller,\n\
         # refused otherwise), removed when bwrap exits.\n\
         set -eu\n\
         if [ \"$#\" -eq 0 ]; then\n    \
             echo \"usage: sh $0 CMD [ARG...]\" >&2\n    \
             exit 2\n\
         fi\n\
         uid=$(id -u)\n\
         base=${XDG_RUNTIME_DIR:-/tmp}\n\
         [ -d \"$base\" ] || base=/tmp\n\
         parent=$base/portcullis-bwrap-$uid\n\
         if [ ! -e \"$parent\" ] && [ ! -L \"$parent\" ]; then\n    \
             (umask 077 && mkdir -- \"$parent\")\n\
         fi\n\
         if [ -L \"$parent\" ] || [ ! -d \"$parent\" ] || \
         [ \"$(stat -c '%u %a' -- \"$parent\")\" != \"$uid 700\" ]; then\n    \
             echo \"error: refusing $parent: it must be a directory (not a symlink) owned by uid $uid with mode 0700\" >&2\n    \
             exit 125\n\
         fi\n",
    );
    let _ = writeln!(
        s,
        "dir=$(mktemp -d -- \"$parent\"/{})",
        quote(&format!("{app_id}.XXXXXXXX"))
    );
    s.push_str(
        "trap 'rm -rf -- \"$dir\"' EXIT\n\
         trap 'exit 129' HUP\n\
         trap 'exit 130' INT\n\
         trap 'exit 143' TERM\n",
    );
    for (path, mode) in &out.host_dirs {
        let p = quote(path);
        let _ = writeln!(
            s,
            "[ -d {p} ] || {{ mkdir -p -- {p} && chmod {mode:04o} -- {p}; }}"
        );
    }
    for (path, target) in &out.host_symlinks {
        let p = quote(path);
        let _ = writeln!(
            s,
            "[ -e {p} ] || [ -L {p} ] || {{ mkdir -p -- \"$(dirname -- {p})\" && ln -s -- {} {p}; }}",
            quote(target)
        );
    }
    for (path, content) in &out.data_files {
        write_file(&mut s, &shell_word(path), content);
    }
    write_file(&mut s, "\"$dir\"/seccomp.bpf", seccomp);
    s.push_str("status=0\n\"${BWRAP:-bwrap}\"");
    for word in &out.args {
        let _ = write!(s, " \\\n    {}", shell_word(word));
    }
    s.push_str(
        " \\\n    --seccomp 3 -- \"$@\" 3< \"$dir\"/seccomp.bpf || status=$?\nexit \"$status\"\n",
    );
    s
}

/// `emit --backend bwrap`.
pub fn bwrap(args: &EmitArgs) -> ExitCode {
    let (_, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let target = match super::emit::seccomp_target(args.arch) {
        Ok(target) => target,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let program = match compile_policy(&policy, target) {
        Ok(program) => to_bytes(&program),
        Err(err) => {
            eprintln!("error: cannot build the seccomp filter: {err}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let planned = plan(&policy);
    print_warnings(&planned);
    let launch = match current_launch(&policy) {
        Ok(launch) => launch,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let values = Values::new(&launch);
    let expanded = expand_plan(&planned.ops, &values, &RealFs)
        .and_then(|ops| Ok((ops, expand_env(&planned.env, &values, &RealFs)?)));
    let (ops, env) = match expanded {
        Ok(pair) => pair,
        Err(err) => {
            eprintln!("error: cannot expand the plan for this user: {err}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let ns = Namespaces {
        share_network: policy.context.has_share(Share::Network),
        share_ipc: policy.context.has_share(Share::Ipc),
    };
    let out = bwrap::args(&ops, &env, ns, DATA, &RealFs);
    let text = script(&launch.app_id, launch.uid, &out, &program);
    input::emit(args.output.as_deref(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_and_the_data_dir_is_the_private_one() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(shell_word(&format!("{DATA}/001-etc")), "\"$dir\"'/001-etc'");
        assert_eq!(shell_word("/usr"), "'/usr'");
    }

    #[test]
    fn files_are_written_byte_for_byte_with_octal_escapes() {
        let mut out = String::new();
        write_file(&mut out, "f", b"a'%\\\n\0z");
        assert_eq!(out, "{\n    printf 'a\\047\\045\\134\\012\\000z'\n} > f\n");
        let mut empty = String::new();
        write_file(&mut empty, "f", b"");
        assert_eq!(empty, ": > f\n");
    }
}
