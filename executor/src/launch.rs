//! Who launches: the caller's environment, ids, user name, home and user dirs, gathered
//! once before anything changes, for placeholder expansion (`portcullis_blob::expand`).
//!
//! Without a login session (a service account, `su`, cron) there is no
//! `XDG_RUNTIME_DIR` and no `/run/user/UID`. Flatpak then still starts, because GLib's
//! `g_get_user_runtime_dir()` falls back to the user cache directory
//! (`$XDG_CACHE_HOME`, else `~/.cache`), creating it 0700; [`runtime_dir_fallback`] does
//! the same here, with a note on stderr, so every `${XDG_RUNTIME_DIR}` of the plan (the
//! per-app state, the proxy sockets) lives there. Inside the sandbox the directory is
//! still `/run/user/UID`, as in Flatpak.

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
    let run_user = format!("/run/user/{uid}");
    let mut env = env;
    if let Some(dir) = runtime_dir_fallback(&env, &home, std::path::Path::new(&run_user).is_dir()) {
        use std::os::unix::fs::DirBuilderExt;
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir);
        eprintln!(
            "portcullis-exec: note: no XDG_RUNTIME_DIR and no `{run_user}` (no login session): using `{dir}` for the runtime directory, as Flatpak (GLib) does"
        );
        env.insert("XDG_RUNTIME_DIR".to_string(), dir);
    }
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

/// The runtime directory to use when the session has none: `None` when
/// `XDG_RUNTIME_DIR` is set or `/run/user/UID` exists (`run_user_exists`), else GLib's
/// fallback, the user cache directory (`$XDG_CACHE_HOME` when absolute, else
/// `HOME/.cache`).
pub fn runtime_dir_fallback(
    env: &BTreeMap<String, String>,
    home: &str,
    run_user_exists: bool,
) -> Option<String> {
    let set = |name: &str| env.get(name).filter(|v| !v.is_empty());
    if set("XDG_RUNTIME_DIR").is_some() || run_user_exists {
        return None;
    }
    Some(match set("XDG_CACHE_HOME").filter(|v| v.starts_with('/')) {
        Some(cache) => cache.clone(),
        None => format!("{}/.cache", home.trim_end_matches('/')),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn runtime_dir_falls_back_to_the_cache_dir_like_glib() {
        assert_eq!(
            runtime_dir_fallback(&env(&[("XDG_RUNTIME_DIR", "/run/user/5")]), "/h", false),
            None
        );
        assert_eq!(runtime_dir_fallback(&env(&[]), "/h", true), None);
        assert_eq!(
            runtime_dir_fallback(&env(&[]), "/h/", false).as_deref(),
            Some("/h/.cache")
        );
        assert_eq!(
            runtime_dir_fallback(&env(&[("XDG_RUNTIME_DIR", "")]), "/h", false).as_deref(),
            Some("/h/.cache")
        );
        assert_eq!(
            runtime_dir_fallback(&env(&[("XDG_CACHE_HOME", "/c")]), "/h", false).as_deref(),
            Some("/c")
        );
        assert_eq!(
            runtime_dir_fallback(&env(&[("XDG_CACHE_HOME", "rel")]), "/h", false).as_deref(),
            Some("/h/.cache")
        );
    }
}
