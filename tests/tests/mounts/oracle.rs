//! Parity with real Flatpak 1.14: for every oracle case, our plan, expanded for the oracle's
//! machine ([`super::host`]) and rendered as bubblewrap arguments, gives the same mounts in
//! the same order as `bwrap.argv.txt`, and our environment gives the same variables as its
//! `--setenv`s, modulo the differences documented in `portcullis_backends::mounts`
//! (listed one by one in [`oracle_only`], [`ours_only`] and [`same_content`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use portcullis_backends::bwrap::{self, Namespaces};
use portcullis_backends::mounts::plan;
use portcullis_blob::expand::{apply_env, expand_env, expand_plan, HostFs};
use portcullis_ir::context::Share;

use super::host::{normalise, oracle_env, oracle_fs, oracle_values};
use super::ir::from_flatpak_args;

pub fn oracle_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTCULLIS_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/oracle/flatpak-1.14"));
    dir.join("cases").is_dir().then_some(dir)
}

/// One mount-affecting argument: verb, source (`?` when passed as an fd), destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    verb: String,
    source: String,
    dest: String,
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.verb, self.source, self.dest)
    }
}

/// Reads bwrap arguments into mount entries and `--setenv`/`--unsetenv` pairs.
pub fn parse_argv(args: &[String], data_dir: &str) -> (Vec<Entry>, Vec<(String, Option<String>)>) {
    let mut entries = Vec::new();
    let mut env = Vec::new();
    let mut i = 0;
    let e = |verb: &str, source: &str, dest: &str| Entry {
        verb: verb.to_string(),
        source: source.to_string(),
        dest: dest.to_string(),
    };
    while i < args.len() {
        let a = args[i].as_str();
        let arg = |n: usize| args.get(i + n).cloned().unwrap_or_default();
        let step = match a {
            "--" => break,
            "--bind" | "--ro-bind" | "--dev-bind" | "--bind-try" | "--ro-bind-try"
            | "--dev-bind-try" => {
                let verb = a.trim_start_matches("--");
                let (src, dest) = (arg(1), arg(2));
                if src.starts_with(data_dir) && !data_dir.is_empty() {
                    entries.push(e("data", "?", &dest));
                } else {
                    entries.push(e(verb, &src, &dest));
                }
                3
            }
            "--ro-bind-fd" | "--bind-fd" => {
                entries.push(e(
                    a.trim_start_matches("--").trim_end_matches("-fd"),
                    "?",
                    &arg(2),
                ));
                3
            }
            "--ro-bind-data" | "--bind-data" => {
                entries.push(e("data", "?", &arg(2)));
                3
            }
            "--file" => {
                entries.push(e("file", "?", &arg(2)));
                3
            }
            "--symlink" => {
                entries.push(e("symlink", &arg(1), &arg(2)));
                3
            }
            "--tmpfs" | "--dir" | "--proc" | "--dev" | "--remount-ro" => {
                entries.push(e(a.trim_start_matches("--"), "", &arg(1)));
                2
            }
            "--setenv" => {
                env.push((arg(1), Some(arg(2))));
                3
            }
            "--unsetenv" => {
                env.push((arg(1), None));
                2
            }
            "--perms" | "--lock-file" | "--seccomp" | "--info-fd" | "--sync-fd" | "--args" => 2,
            _ => 1,
        };
        i += step;
    }
    (entries, env)
}

/// Destinations only Flatpak mounts (instance machinery, portals, session helper, D-Bus,
/// the generated ld.so.cache; `/.flatpak-info`'s `--file` under its read-only bind).
fn oracle_only(entry: &Entry) -> bool {
    let d = entry.dest.as_str();
    d.starts_with("/run/flatpak/.flatpak/")
        || d.starts_with("/run/host/monitor")
        || d.starts_with("/run/flatpak/p11-kit")
        || d == "/etc/pkcs11/modules/p11-kit-trust.module"
        || d == "/run/flatpak/doc"
        || d == "/run/flatpak/bus"
        || d == "/run/flatpak/at-spi-bus"
        || d == "/run/dbus/system_bus_socket"
        || d == "/run/flatpak/per-app-dirs-ref"
        || d == "/etc/ld.so.cache"
        || (entry.verb == "symlink" && entry.source.starts_with("/run/host/monitor/"))
        || (entry.verb == "file" && d == "/.flatpak-info")
}

/// Destinations only we mount: the host resolver files (no session helper), the host
/// ld.so.cache fallback, and the runtime-dir members Flatpak creates on the host.
fn ours_only(entry: &Entry) -> bool {
    let d = entry.dest.as_str();
    [
        "/etc/resolv.conf",
        "/etc/host.conf",
        "/etc/hosts",
        "/etc/gai.conf",
        "/etc/ld.so.cache",
    ]
    .contains(&d)
        || (entry.verb == "symlink" && d.starts_with("@XDG_RUNTIME_DIR@/"))
}

/// Destinations where Flatpak writes a generated copy and we bind the host's file.
fn same_content(dest: &str) -> bool {
    ["/etc/timezone", "/run/flatpak/Xauthority"].contains(&dest)
}

fn canonical(mut e: Entry) -> Entry {
    e.verb = e.verb.trim_end_matches("-try").to_string();
    if same_content(&e.dest) {
        e.verb = "data".into();
        e.source = "?".into();
    }
    if e.source.starts_with("/dev/shm/flatpak-") || e.source.starts_with("/dev/shm/portcullis-") {
        e.source = "@PER_APP_SHM@".into();
    }
    for (ours, theirs) in [("/farm", "@HOSTDIR_A@"), ("/work", "@HOSTDIR_B@")] {
        if e.source == ours {
            e.source = theirs.into();
        }
        if e.dest == ours {
            e.dest = theirs.into();
        }
    }
    e
}

fn matches(ours: &Entry, theirs: &Entry) -> bool {
    // Documented difference: Flatpak's installation data and the apps' data (`~/.var/app`)
    // are hidden by an empty tmpfs
    // whenever a user-directory grant may contain it once expanded (Flatpak compares the
    // expanded paths at launch and makes a plain directory when it cannot).
    if ours.verb == "tmpfs"
        && theirs.verb == "dir"
        && ours.dest == theirs.dest
        && (ours.dest.ends_with("/.local/share/flatpak") || ours.dest.ends_with("/.var/app"))
    {
        return true;
    }
    ours.verb == theirs.verb
        && ours.dest == theirs.dest
        && (ours.source == theirs.source || theirs.source == "?" || ours.verb == "data")
}

fn case_field<'a>(case: &'a str, key: &str) -> &'a str {
    case.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
        .unwrap_or("")
}

/// Ours, for one case: (mount entries, environment).
pub fn our_side(
    app: &str,
    overrides: &str,
    fixtures: &str,
) -> (Vec<Entry>, BTreeMap<String, String>) {
    let policy = from_flatpak_args(app, overrides);
    let planned = plan(&policy);
    let values = oracle_values(app);
    let fs = oracle_fs(app, fixtures);
    let ops = expand_plan(&planned.ops, &values, &fs).expect("the oracle launch expands");
    let env_ops = expand_env(&planned.env, &values, &fs).expect("env expands");
    let ns = Namespaces {
        share_network: policy.context.has_share(Share::Network),
        share_ipc: policy.context.has_share(Share::Ipc),
    };
    let out = bwrap::args(&ops, &env_ops, ns, "/data", &fs);
    let args: Vec<String> = out.args.iter().map(|a| normalise(a)).collect();
    let (entries, _) = parse_argv(&args, "/data");
    // A `-try` bind whose source is missing does nothing under bwrap either.
    let present =
        |e: &Entry| !e.verb.ends_with("-try") || fs.kind(&denormalise(&e.source)).is_some();
    let entries = entries
        .into_iter()
        .filter(|e| present(e) && !ours_only(e))
        .map(canonical)
        .collect();
    let mut env = oracle_env();
    apply_env(&env_ops, &mut env);
    let env = env.into_iter().map(|(k, v)| (k, normalise(&v))).collect();
    (entries, env)
}

fn denormalise(text: &str) -> String {
    text.replace(
        "@XDG_RUNTIME_DIR@",
        &format!("/run/user/{}", super::host::UID),
    )
    .replace("@HOME@", super::host::HOME)
}

/// Theirs, for one case.
fn their_side(dir: &Path) -> (Vec<Entry>, BTreeMap<String, String>) {
    let argv = std::fs::read_to_string(dir.join("bwrap.argv.txt")).expect("argv");
    let args: Vec<String> = argv.lines().skip(1).map(str::to_string).collect();
    let (entries, env) = parse_argv(&args, "");
    let entries = entries
        .into_iter()
        .filter(|e| !oracle_only(e))
        .map(canonical)
        .collect();
    let env = env
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    (entries, env)
}

/// Variables outside the mount plan's reach: D-Bus (the blob's D-Bus section), `PS1` and
/// the runtime's empty `LD_LIBRARY_PATH` (documented differences).
fn env_compared(name: &str) -> bool {
    !matches!(
        name,
        "DBUS_SESSION_BUS_ADDRESS"
            | "DBUS_SYSTEM_BUS_ADDRESS"
            | "AT_SPI_BUS_ADDRESS"
            | "PS1"
            | "LD_LIBRARY_PATH"
    )
}

fn check_case(dir: &Path) -> Result<(), String> {
    let case = std::fs::read_to_string(dir.join("case.txt")).map_err(|e| e.to_string())?;
    let app = case_field(&case, "app:");
    let (ours, our_env) = our_side(
        app,
        case_field(&case, "override:"),
        case_field(&case, "fixtures:"),
    );
    let (theirs, their_env) = their_side(dir);
    let mut problems = Vec::new();
    let n = ours.len().max(theirs.len());
    for i in 0..n {
        match (ours.get(i), theirs.get(i)) {
            (Some(a), Some(b)) if matches(a, b) => {}
            (a, b) => {
                problems.push(format!(
                    "mount #{i}: ours `{}`, flatpak `{}`",
                    a.map(|e| e.to_string()).unwrap_or_default(),
                    b.map(|e| e.to_string()).unwrap_or_default()
                ));
                break;
            }
        }
    }
    let keys: std::collections::BTreeSet<&String> = our_env
        .keys()
        .chain(their_env.keys())
        .filter(|k| env_compared(k))
        .collect();
    for k in keys {
        if our_env.get(k) != their_env.get(k) {
            problems.push(format!(
                "env {k}: ours {:?}, flatpak {:?}",
                our_env.get(k),
                their_env.get(k)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}:\n  {}", dir.display(), problems.join("\n  ")))
    }
}

#[test]
fn every_oracle_case_matches_flatpak_modulo_documented_differences() {
    let Some(root) = oracle_dir() else {
        portcullis_tests::skip!("no Flatpak oracle (set PORTCULLIS_ORACLE)");
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join("cases"))
        .expect("cases dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("bwrap.argv.txt").is_file())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 29,
        "expected the 29 oracle cases, found {}",
        cases.len()
    );
    let failures: Vec<String> = cases.iter().filter_map(|c| check_case(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
