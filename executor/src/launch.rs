//! Who launches: the caller's environment, ids, user name, home and user dirs, gathered
//! once before anything changes, for placeholder expansion (`portcullis_blob::expand`).

use std::collections::BTreeMap;

use portcullis_blob::expand::Launch;

use crate::args::Args;
use crate::sys::process;

/// The user name and home directory of `uid` from `/etc/passwd`.
fn passwd_entry(uid: u32) -> Option<(String, String)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 6 && fields[2].parse() == Ok(uid))
            .then(|| (fields[0].to_string(), fields[5].to_string()))
    })
}

/// Gathers the launch inputs for `args` and the blob's app id.
pub fn gather(args: &Args, app_id: &str) -> Launch {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let (uid, gid) = process::ids();
    let from_env = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();
    let (mut user, mut home) = (from_env("USER"), from_env("HOME"));
    if user.is_none() || home.is_none() {
        let (pw_user, pw_home) = passwd_entry(uid).unwrap_or((uid.to_string(), "/".to_string()));
        user.get_or_insert(pw_user);
        home.get_or_insert(pw_home);
    }
    let home = home.unwrap_or_else(|| "/".to_string());
    let config = from_env("XDG_CONFIG_HOME").unwrap_or_else(|| format!("{home}/.config"));
    Launch {
        user_dirs: std::fs::read_to_string(format!("{config}/user-dirs.dirs")).ok(),
        env,
        uid,
        gid,
        user: user.unwrap_or_default(),
        home,
        app_id: app_id.to_string(),
        runtime: args.runtime.clone(),
        app: args.app.clone(),
        extensions: args.extensions.clone(),
    }
}
