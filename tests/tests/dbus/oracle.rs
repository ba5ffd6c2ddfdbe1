//! Parity with real Flatpak 1.14: for every oracle case, our arguments rendered the way
//! Flatpak passes them to `xdg-dbus-proxy --args` equal `dbus-proxy.args.txt` line for
//! line. Documented differences: none in these cases (the host-dependent address and
//! socket names are the oracle's own placeholders).

use std::path::{Path, PathBuf};

use portcullis_backends::dbus::section;
use portcullis_blob::dbus::{BusAccess, BusKind, DbusSection};
use portcullis_verifier::dbus::verify;

use super::policies::from_flatpak_args;

fn oracle_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTCULLIS_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/oracle/flatpak-1.14"));
    dir.join("cases").is_dir().then_some(dir)
}

/// The NUL-separated `--args` content Flatpak builds, one entry per line, with the
/// oracle's placeholders for what only the host knows.
fn flatpak_lines(section: &DbusSection) -> Vec<String> {
    let mut lines = Vec::new();
    for route in &section.routes {
        let BusAccess::Proxy { args } = &route.access else {
            continue;
        };
        lines.push(
            match route.bus {
                BusKind::Session => "unix:path=@SESSION_BUS_SOCKET@,guid=@GUID@",
                BusKind::System => "unix:path=/var/run/dbus/system_bus_socket",
                BusKind::Accessibility => "unix:path=@XDG_RUNTIME_DIR@/at-spi/bus_99,guid=@GUID@",
            }
            .to_string(),
        );
        lines.push(format!(
            "@XDG_RUNTIME_DIR@/.dbus-proxy/{}-@RAND@",
            route.bus.proxy_socket_prefix()
        ));
        lines.extend(args.iter().cloned());
    }
    if lines.is_empty() {
        return vec!["no proxy".into()];
    }
    lines.insert(0, "--fd=@FD@".into());
    lines
}

fn case_field<'a>(case: &'a str, key: &str) -> &'a str {
    case.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
        .unwrap_or("")
}

fn check_case(dir: &Path) -> Result<(), String> {
    let case = std::fs::read_to_string(dir.join("case.txt")).map_err(|e| e.to_string())?;
    let expected =
        std::fs::read_to_string(dir.join("dbus-proxy.args.txt")).map_err(|e| e.to_string())?;
    let policy = from_flatpak_args(case_field(&case, "app:"), case_field(&case, "override:"));
    let section = section(&policy);
    let ours = flatpak_lines(&section);
    let theirs: Vec<&str> = expected.lines().collect();
    if ours != theirs {
        return Err(format!(
            "{}: ours\n{}\n--- oracle\n{}",
            dir.display(),
            ours.join("\n"),
            theirs.join("\n")
        ));
    }
    let findings = verify(&section, &policy);
    if !findings.is_empty() {
        return Err(format!("{}: verifier: {findings:?}", dir.display()));
    }
    Ok(())
}

#[test]
fn every_oracle_case_matches_flatpak_line_for_line() {
    let Some(oracle) = oracle_dir() else {
        portcullis_tests::skip!("no Flatpak oracle (set PORTCULLIS_ORACLE)");
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(oracle.join("cases"))
        .expect("readable oracle")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("dbus-proxy.args.txt").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "too few oracle cases: {}", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| check_case(c).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
