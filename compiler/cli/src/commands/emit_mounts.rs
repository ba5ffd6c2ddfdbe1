//! The `mounts` and `bwrap` arms of `portcullis emit`.
//!
//! `--backend mounts` prints the pure plan (JSON, or a table with `--text`): placeholders,
//! conditions and all, exactly what goes into the blob. `--backend bwrap` prints a JSON
//! array of bubblewrap arguments running the same plan for the current user: it is the one
//! backend that reads the environment, and it does so here, in the CLI layer. It expands the
//! plan for the caller (host `/usr` as runtime, no app tree), creates the host directories
//! and runtime-dir symlinks the plan asks for and writes the generated files under
//! `${XDG_RUNTIME_DIR:-/tmp}/portcullis-bwrap-UID/APP_ID/`, so that
//! `bwrap $(jq -r '.[]' args.json) -- CMD` runs at once.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::ExitCode;

use portcullis_backends::bwrap::{self, Namespaces};
use portcullis_backends::mounts::{plan, text, MountPlan};
use portcullis_blob::expand::{expand_env, expand_plan, Launch, RealFs, Values};
use portcullis_ir::context::Share;
use portcullis_ir::Policy;

use super::input::{self, EXIT_INVALID};
use crate::cli::EmitArgs;

fn print_warnings(planned: &MountPlan) {
    for w in &planned.warnings {
        eprintln!("warning[{}]: {}", w.code, w.message);
    }
}

/// `emit --backend mounts`.
pub fn mounts(args: &EmitArgs) -> ExitCode {
    let (_, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let planned = plan(&policy);
    print_warnings(&planned);
    let bytes = if args.text {
        text::render(&planned).into_bytes()
    } else {
        match serde_json::to_vec_pretty(&planned) {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                bytes
            }
            Err(err) => {
                eprintln!("error: cannot write the plan as json: {err}");
                return ExitCode::from(EXIT_INVALID);
            }
        }
    };
    input::emit(args.output.as_deref(), &bytes)
}

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

fn write_data(out: &bwrap::BwrapArgs) -> std::io::Result<()> {
    for (dir, mode) in &out.host_dirs {
        if !Path::new(dir).is_dir() {
            std::fs::create_dir_all(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(*mode))?;
        }
    }
    for (path, target) in &out.host_symlinks {
        let link = Path::new(path);
        if std::fs::symlink_metadata(link).is_err() {
            if let Some(parent) = link.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::os::unix::fs::symlink(target, link)?;
        }
    }
    for (path, content) in &out.data_files {
        if let Some(parent) = Path::new(path).parent() {
            std::fs::create_dir_all(parent)?;
        }
        input::write_atomic(Path::new(path), content)?;
    }
    Ok(())
}

/// `emit --backend bwrap`.
pub fn bwrap(args: &EmitArgs) -> ExitCode {
    let (_, policy, _) = match input::policy(&args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
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
    let base = launch
        .env
        .get("XDG_RUNTIME_DIR")
        .filter(|d| Path::new(d).is_dir())
        .cloned()
        .unwrap_or("/tmp".to_string());
    let data_dir = format!("{base}/portcullis-bwrap-{}/{}", launch.uid, launch.app_id);
    let ns = Namespaces {
        share_network: policy.context.has_share(Share::Network),
        share_ipc: policy.context.has_share(Share::Ipc),
    };
    let out = bwrap::args(&ops, &env, ns, &data_dir, &RealFs);
    if let Err(err) = write_data(&out) {
        eprintln!("error: cannot prepare the host side of the plan under `{data_dir}`: {err}");
        return ExitCode::from(EXIT_INVALID);
    }
    match serde_json::to_vec_pretty(&out.args) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            input::emit(args.output.as_deref(), &bytes)
        }
        Err(err) => {
            eprintln!("error: cannot write the arguments as json: {err}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}
