//! Installed apps: an input that is not an existing file but a valid app id
//! (`APP_ID[//BRANCH]`) names an app deployed in a Flatpak installation, found the way
//! `flatpak run` finds it.
//!
//! Installations, in the order searched: the per-user one (`$FLATPAK_USER_DIR`, else
//! `$XDG_DATA_HOME/flatpak`, else `~/.local/share/flatpak`), the system one
//! (`$FLATPAK_SYSTEM_DIR`, else `/var/lib/flatpak`) and every `[Installation "ID"]
//! Path=` of `$FLATPAK_CONFIG_DIR/installations.d/*.conf` (default `/etc/flatpak`).
//! An app is deployed at `INST/app/ID/ARCH/BRANCH/active` (a link to the commit's
//! directory), with `metadata` and `files/`; the runtime its `[Application] runtime=`
//! names is `INST/runtime/ID/ARCH/BRANCH/active/files`, looked up in the app's
//! installation first, then in the others.
//!
//! Choosing: `--user`, `--system` or `--installation DIR` restrict the search to one
//! installation, `--arch` picks the architecture (default: this machine's). Without a
//! branch, the app's one branch is used, or the one its `current` link names (as
//! `flatpak run` does); otherwise the branches are listed and nothing runs. An app found
//! in several installations is refused with the list (stricter than `flatpak run`,
//! which takes the first: a launch never depends on search order silently).
//!
//! Overrides (`flatpak override`) are merged over the metadata in Flatpak's order:
//! system `overrides/global`, system `overrides/ID`, user `overrides/global`, user
//! `overrides/ID` ([`Resolved::override_files`]).

use std::path::{Path, PathBuf};

use portcullis_compiler::check::values::check_app_id;

/// Which installations to search, and for which architecture.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    /// Only the per-user installation.
    pub user: bool,
    /// Only the system installation.
    pub system: bool,
    /// Only this installation directory.
    pub installation: Option<PathBuf>,
    /// The architecture (default: this machine's).
    pub arch: Option<String>,
}

/// One Flatpak installation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installation {
    /// `user`, `system`, or the id of an `installations.d` entry (`--installation` for a
    /// directory named on the command line).
    pub name: String,
    /// Its directory.
    pub path: PathBuf,
}

/// An app reference as written: `APP_ID` or `APP_ID//BRANCH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRef {
    /// The app id.
    pub id: String,
    /// The branch, when given.
    pub branch: Option<String>,
}

/// Parses `APP_ID[//BRANCH]`; `None` when the text is not a valid app id (then it is
/// taken as a path).
pub fn parse_ref(text: &str) -> Option<AppRef> {
    let (id, branch) = match text.split_once("//") {
        Some((id, branch)) => (id, Some(branch)),
        None => (text, None),
    };
    check_app_id(id).ok()?;
    let branch = match branch {
        Some(b) if valid_branch(b) => Some(b.to_string()),
        Some(_) => return None,
        None => None,
    };
    Some(AppRef {
        id: id.to_string(),
        branch,
    })
}

/// Flatpak's branch rule: `[A-Za-z0-9_.-]`, not starting with `-` or `.`, not empty.
fn valid_branch(branch: &str) -> bool {
    !branch.is_empty()
        && !branch.starts_with(['-', '.'])
        && branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Whether `input` names an installed app rather than a file: it does not exist as a
/// path and it is a valid `APP_ID[//BRANCH]`.
pub fn as_app_ref(input: &Path) -> Option<AppRef> {
    if input == Path::new("-") || input.symlink_metadata().is_ok() {
        return None;
    }
    parse_ref(input.to_str()?)
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The per-user installation's directory.
pub fn user_dir() -> Option<PathBuf> {
    if let Some(dir) = env_dir("FLATPAK_USER_DIR") {
        return Some(dir);
    }
    if let Some(data) = env_dir("XDG_DATA_HOME").filter(|d| d.is_absolute()) {
        return Some(data.join("flatpak"));
    }
    env_dir("HOME").map(|home| home.join(".local/share/flatpak"))
}

/// The system installation's directory.
pub fn system_dir() -> PathBuf {
    env_dir("FLATPAK_SYSTEM_DIR").unwrap_or_else(|| PathBuf::from("/var/lib/flatpak"))
}

/// The extra installations of `installations.d/*.conf`, sorted by file name.
pub fn configured() -> Vec<Installation> {
    let config = env_dir("FLATPAK_CONFIG_DIR").unwrap_or_else(|| PathBuf::from("/etc/flatpak"));
    let Ok(entries) = std::fs::read_dir(config.join("installations.d")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        out.extend(parse_installations_conf(&text));
    }
    out
}

/// The `[Installation "ID"]` groups with a `Path=` of one `installations.d` file.
pub fn parse_installations_conf(text: &str) -> Vec<Installation> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(group) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = group
                .strip_prefix("Installation \"")
                .and_then(|g| g.strip_suffix('"'))
                .map(str::to_string);
            continue;
        }
        if let (Some(name), Some((key, value))) = (&current, line.split_once('=')) {
            if key.trim() == "Path" && !value.trim().is_empty() {
                out.push(Installation {
                    name: name.clone(),
                    path: PathBuf::from(value.trim()),
                });
            }
        }
    }
    out
}

/// Every installation, in search order.
pub fn all_installations() -> Vec<Installation> {
    let mut out = Vec::new();
    if let Some(path) = user_dir() {
        out.push(Installation {
            name: "user".into(),
            path,
        });
    }
    out.push(Installation {
        name: "system".into(),
        path: system_dir(),
    });
    for inst in configured() {
        if !out.iter().any(|o| o.path == inst.path) {
            out.push(inst);
        }
    }
    out
}

/// The installations a selector allows.
pub fn selected(selector: &Selector) -> Result<Vec<Installation>, String> {
    if let Some(dir) = &selector.installation {
        // An id of installations.d, or a directory.
        if let Some(inst) = configured()
            .into_iter()
            .find(|i| Path::new(&i.name) == dir.as_path())
        {
            return Ok(vec![inst]);
        }
        if !dir.is_dir() {
            return Err(format!(
                "`--installation {}` is neither a directory nor an installation named in installations.d",
                dir.display()
            ));
        }
        return Ok(vec![Installation {
            name: "--installation".into(),
            path: dir.clone(),
        }]);
    }
    if selector.user {
        let path = user_dir().ok_or("`--user`: neither HOME nor FLATPAK_USER_DIR is set")?;
        return Ok(vec![Installation {
            name: "user".into(),
            path,
        }]);
    }
    if selector.system {
        return Ok(vec![Installation {
            name: "system".into(),
            path: system_dir(),
        }]);
    }
    Ok(all_installations())
}

/// An installed app, ready to compile and launch.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The app id.
    pub id: String,
    /// Its architecture.
    pub arch: String,
    /// Its branch.
    pub branch: String,
    /// The deployed commit's directory (`active` resolved).
    pub deploy: PathBuf,
    /// `deploy/metadata`.
    pub metadata: PathBuf,
    /// `deploy/files`, mounted at /app.
    pub app_files: PathBuf,
    /// The runtime's deployed `files`, mounted at /usr.
    pub runtime_files: PathBuf,
    /// The runtime ref, `ID/ARCH/BRANCH`.
    pub runtime_ref: String,
    /// The runtime's deployed commit directory.
    pub runtime_deploy: PathBuf,
    /// `[Application] command=`.
    pub command: Option<String>,
}

impl Resolved {
    /// The override files that exist, in Flatpak's merge order: system global, system
    /// per-app, user global, user per-app.
    pub fn override_files(&self) -> Vec<PathBuf> {
        let mut dirs = vec![system_dir()];
        if let Some(user) = user_dir() {
            dirs.push(user);
        }
        let mut out = Vec::new();
        for dir in dirs {
            for name in ["global", self.id.as_str()] {
                let path = dir.join("overrides").join(name);
                if path.is_file() {
                    out.push(path);
                }
            }
        }
        out
    }
}

/// This machine's architecture in Flatpak's words.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86" => "i386",
        "arm" => "arm",
        other => other,
    }
}

fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn where_looked(installations: &[Installation]) -> String {
    installations
        .iter()
        .map(|i| format!("{} ({})", i.name, i.path.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The branches of `id` deployed for `arch` in one installation (those with `active`).
fn branches(inst: &Installation, kind: &str, id: &str, arch: &str) -> Vec<String> {
    let dir = inst.path.join(kind).join(id).join(arch);
    list_dir(&dir)
        .into_iter()
        .filter(|b| dir.join(b).join("active").symlink_metadata().is_ok())
        .collect()
}

/// The `ARCH/BRANCH` the app's `current` link names, if any.
fn current(inst: &Installation, id: &str) -> Option<String> {
    let link = std::fs::read_link(inst.path.join("app").join(id).join("current")).ok()?;
    Some(link.to_string_lossy().into_owned())
}

/// A deploy's `active` directory, resolved, checked to hold `metadata` and `files/`.
fn deploy_dir(branch_dir: &Path) -> Result<PathBuf, String> {
    let active = branch_dir.join("active");
    let deploy = std::fs::canonicalize(&active).map_err(|err| {
        format!(
            "the deploy `{}` is corrupt: `active` does not lead to a commit ({err})",
            active.display()
        )
    })?;
    for (what, is_ok) in [
        ("metadata", deploy.join("metadata").is_file()),
        ("files", deploy.join("files").is_dir()),
    ] {
        if !is_ok {
            return Err(format!(
                "the deploy `{}` is corrupt: it has no `{what}`",
                deploy.display()
            ));
        }
    }
    Ok(deploy)
}

/// `[Application]` `runtime=` and `command=` of a metadata file.
fn application_keys(text: &str) -> (Option<String>, Option<String>) {
    let mut in_app = false;
    let (mut runtime, mut command) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_app = line == "[Application]";
            continue;
        }
        if !in_app {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            match key.trim() {
                "runtime" => runtime = Some(value.trim().to_string()),
                "command" => command = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    (runtime, command)
}

/// Finds an installed app and its runtime. The error is a full sentence naming what was
/// looked for and where.
pub fn resolve(app: &AppRef, selector: &Selector) -> Result<Resolved, String> {
    let installations = selected(selector)?;
    let arch = selector
        .arch
        .clone()
        .unwrap_or_else(|| host_arch().to_string());
    // (installation, branch) pairs deployed.
    let mut found: Vec<(Installation, String)> = Vec::new();
    for inst in &installations {
        let mut deployed = branches(inst, "app", &app.id, &arch);
        if let Some(branch) = &app.branch {
            deployed.retain(|b| b == branch);
        } else if deployed.len() > 1 && selector.arch.is_none() {
            let wanted = current(inst, &app.id);
            if let Some(pick) = deployed
                .iter()
                .find(|b| wanted.as_deref() == Some(format!("{arch}/{b}").as_str()))
                .cloned()
            {
                deployed = vec![pick];
            }
        }
        found.extend(deployed.into_iter().map(|b| (inst.clone(), b)));
    }
    let wanted = match &app.branch {
        Some(b) => format!("{}//{b}", app.id),
        None => app.id.clone(),
    };
    match found.as_slice() {
        [] => {
            let other_arches: Vec<String> = installations
                .iter()
                .flat_map(|i| list_dir(&i.path.join("app").join(&app.id)))
                .filter(|a| a != "current" && *a != arch)
                .collect();
            let hint = if other_arches.is_empty() {
                String::new()
            } else {
                format!(
                    " (it is installed for {}: pass `--arch`)",
                    other_arches.join(", ")
                )
            };
            Err(format!(
                "app `{wanted}` is not installed for {arch}{hint}; looked in {}",
                where_looked(&installations)
            ))
        }
        [(inst, branch)] => finish(app, inst, &arch, branch, &installations),
        many => {
            let choices: Vec<String> = many
                .iter()
                .map(|(inst, branch)| {
                    format!(
                        "{}/{arch}/{branch} in {} ({})",
                        app.id,
                        inst.name,
                        inst.path.display()
                    )
                })
                .collect();
            let several_installations = many.iter().any(|(i, _)| *i != many[0].0);
            let how = if several_installations {
                "choose one with `--user`, `--system` or `--installation DIR` (and `APP_ID//BRANCH`)"
            } else {
                "choose one with `APP_ID//BRANCH`"
            };
            Err(format!(
                "`{wanted}` is ambiguous, {} matches: {}; {how}",
                many.len(),
                choices.join("; ")
            ))
        }
    }
}

fn finish(
    app: &AppRef,
    inst: &Installation,
    arch: &str,
    branch: &str,
    installations: &[Installation],
) -> Result<Resolved, String> {
    let branch_dir = inst.path.join("app").join(&app.id).join(arch).join(branch);
    let deploy = deploy_dir(&branch_dir)?;
    let metadata = deploy.join("metadata");
    let text = std::fs::read_to_string(&metadata)
        .map_err(|err| format!("cannot read `{}`: {err}", metadata.display()))?;
    let (runtime, command) = application_keys(&text);
    let runtime_ref = runtime.ok_or_else(|| {
        format!(
            "the deploy `{}` is corrupt: its metadata has no `[Application] runtime=`",
            deploy.display()
        )
    })?;
    let parts: Vec<&str> = runtime_ref.split('/').collect();
    let [rt_id, rt_arch, rt_branch] = parts.as_slice() else {
        return Err(format!(
            "`{}`: `runtime={runtime_ref}` is not `ID/ARCH/BRANCH`",
            metadata.display()
        ));
    };
    if check_app_id(rt_id).is_err() || rt_arch.is_empty() || !valid_branch(rt_branch) {
        return Err(format!(
            "`{}`: `runtime={runtime_ref}` is not a valid runtime ref",
            metadata.display()
        ));
    }
    // The app's own installation first, then the others (a user app may use a system
    // runtime).
    let mut order = vec![inst.clone()];
    order.extend(all_installations().into_iter().filter(|i| i != inst));
    for extra in installations {
        if !order.contains(extra) {
            order.push(extra.clone());
        }
    }
    let runtime_dir = order
        .iter()
        .map(|i| {
            i.path
                .join("runtime")
                .join(rt_id)
                .join(rt_arch)
                .join(rt_branch)
        })
        .find(|d| d.join("active").symlink_metadata().is_ok())
        .ok_or_else(|| {
            format!(
                "the runtime `{runtime_ref}` that `{}` needs is not installed; looked in {}",
                app.id,
                where_looked(&order)
            )
        })?;
    let runtime_deploy = deploy_dir(&runtime_dir)?;
    // The trees are resolved here, by the launcher that chose them: the executor walks
    // sources below the home directory or /tmp without following any link (a link an app
    // planted there must never redirect a bind), so it gets link-free paths.
    let files = |dir: &Path| {
        let path = dir.join("files");
        std::fs::canonicalize(&path)
            .map_err(|err| format!("`{}` cannot be resolved: {err}", path.display()))
    };
    let app_files = files(&deploy)?;
    let runtime_files = files(&runtime_deploy)?;
    Ok(Resolved {
        id: app.id.clone(),
        arch: arch.to_string(),
        branch: branch.to_string(),
        app_files,
        metadata,
        deploy,
        runtime_files,
        runtime_ref,
        runtime_deploy,
        command,
    })
}

/// The Flatpak version whose meaning portcullis implements, written as
/// `flatpak-version` in `/.flatpak-info` (apps and portals read it for features).
pub const FLATPAK_VERSION: &str = "1.14.10";

/// What `flatpak run` writes in `/.flatpak-info` about one launch.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The instance id (Flatpak: a random 32-bit number).
    pub id: u32,
    /// The caller's home (for `instance-path`), when known.
    pub home: Option<String>,
    /// A filtering session-bus proxy is used (no `socket=session-bus`).
    pub session_bus_proxy: bool,
    /// A filtering system-bus proxy is used (no `socket=system-bus`).
    pub system_bus_proxy: bool,
}

impl Resolved {
    /// The `[Instance]` group as `flatpak run` writes it (1.14's keys, in its order).
    pub fn instance_group(&self, instance: &Instance) -> String {
        let mut out = String::from("[Instance]\n");
        let mut put = |key: &str, value: String| {
            out.push_str(&format!("{key}={value}\n"));
        };
        put("instance-id", instance.id.to_string());
        if let Some(home) = &instance.home {
            put(
                "instance-path",
                format!("{}/.var/app/{}", home.trim_end_matches('/'), self.id),
            );
        }
        put("app-path", self.app_files.display().to_string());
        put("app-commit", commit_name(&self.deploy));
        put("runtime-path", self.runtime_files.display().to_string());
        put("runtime-commit", commit_name(&self.runtime_deploy));
        put("branch", self.branch.clone());
        put("arch", self.arch.clone());
        put("flatpak-version", FLATPAK_VERSION.to_string());
        if instance.session_bus_proxy {
            put("session-bus-proxy", "true".into());
        }
        if instance.system_bus_proxy {
            put("system-bus-proxy", "true".into());
        }
        out
    }

    /// `/.flatpak-info` as compiled (`[Application]`, then `[Context]` and the rest) with
    /// the runtime written as Flatpak does (`runtime/ID/ARCH/BRANCH`) and the `[Instance]`
    /// group after `[Application]`.
    pub fn flatpak_info(&self, compiled: &str, instance: &Instance) -> String {
        let mut application = String::new();
        let mut rest = String::new();
        let mut in_application = true;
        for line in compiled.split_inclusive('\n') {
            if line.starts_with('[') && line.trim_end() != "[Application]" {
                in_application = false;
            }
            if !in_application {
                rest.push_str(line);
            } else if line.starts_with("runtime=") {
                application.push_str(&format!("runtime=runtime/{}\n", self.runtime_ref));
            } else if !line.trim().is_empty() {
                application.push_str(line);
            }
        }
        let instance = self.instance_group(instance);
        if rest.is_empty() {
            format!("{application}\n{instance}")
        } else {
            format!("{application}\n{instance}\n{rest}")
        }
    }
}

fn commit_name(deploy: &Path) -> String {
    deploy
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_parse_like_flatpak() {
        assert_eq!(
            parse_ref("org.test.App//master"),
            Some(AppRef {
                id: "org.test.App".into(),
                branch: Some("master".into())
            })
        );
        assert_eq!(parse_ref("org.test.App").unwrap().branch, None);
        assert!(parse_ref("app.policy").is_none());
        assert!(parse_ref("policies/x.policy").is_none());
        assert!(parse_ref("org.test.App//").is_none());
        assert!(parse_ref("org.test.App//-x").is_none());
        assert!(parse_ref("org.1test.App").is_none());
    }

    #[test]
    fn installations_conf_groups() {
        let text = "# x\n[Installation \"extra\"]\nPath=/opt/fp\nDisplayName=Extra\n[Other]\nPath=/no\n[Installation \"empty\"]\nPath=\n";
        assert_eq!(
            parse_installations_conf(text),
            vec![Installation {
                name: "extra".into(),
                path: "/opt/fp".into()
            }]
        );
    }

    #[test]
    fn flatpak_info_gets_the_instance_group_like_flatpak_run() {
        let resolved = Resolved {
            id: "org.test.App".into(),
            arch: "x86_64".into(),
            branch: "master".into(),
            deploy: "/i/app/org.test.App/x86_64/master/abc".into(),
            metadata: "/i/app/org.test.App/x86_64/master/abc/metadata".into(),
            app_files: "/i/app/org.test.App/x86_64/master/abc/files".into(),
            runtime_files: "/i/runtime/org.test.Platform/x86_64/master/def/files".into(),
            runtime_ref: "org.test.Platform/x86_64/master".into(),
            runtime_deploy: "/i/runtime/org.test.Platform/x86_64/master/def".into(),
            command: None,
        };
        let compiled = "[Application]\nname=org.test.App\nruntime=runtime/org.test.Platform/master\n\n[Context]\nshared=network;\n";
        let instance = Instance {
            id: 42,
            home: Some("/home/u/".into()),
            session_bus_proxy: true,
            system_bus_proxy: false,
        };
        let expected =
            "[Application]\nname=org.test.App\nruntime=runtime/org.test.Platform/x86_64/master\n\n\
            [Instance]\ninstance-id=42\ninstance-path=/home/u/.var/app/org.test.App\n\
            app-path=/i/app/org.test.App/x86_64/master/abc/files\napp-commit=abc\n\
            runtime-path=/i/runtime/org.test.Platform/x86_64/master/def/files\nruntime-commit=def\n\
            branch=master\narch=x86_64\nflatpak-version=1.14.10\nsession-bus-proxy=true\n\n\
            [Context]\nshared=network;\n";
        assert_eq!(resolved.flatpak_info(compiled, &instance), expected);
    }

    #[test]
    fn application_keys_only_from_the_application_group() {
        let text = "[Application]\nname=a.b.C\nruntime=org.x.P/x86_64/1\ncommand=run-me\n[Context]\ncommand=no\n";
        assert_eq!(
            application_keys(text),
            (Some("org.x.P/x86_64/1".into()), Some("run-me".into()))
        );
    }
}
