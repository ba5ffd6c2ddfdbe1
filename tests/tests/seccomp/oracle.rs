//! Our filter against Flatpak 1.14's own, captured by the oracle: on every probe the two
//! agree, or differ only by a documented [`Hardening`], and never in Flatpak's favour.
//! Two of those differences are new in kind: io_uring is refused by default (Flatpak 1.14
//! allows it), and a policy with port rules refuses what Landlock's TCP rules cannot see
//! (Flatpak has no port rules, so its filter lets MPTCP, SCTP and TCP Fast Open through).
//! Also checks that the verifier's interpreter reads Flatpak's programs the way the
//! oracle's own tool did (`seccomp.policy.txt`).

use std::path::PathBuf;

use portcullis_ir::seccomp::{Action, Arch, Features, Hardening, SeccompData};
use portcullis_verifier::bpf::compare::{compare, Difference};
use portcullis_verifier::bpf::{check, decode, run, Insn};

use super::support::program;

/// `$PORTCULLIS_SHARED/oracle/flatpak-1.14/cases`, if present.
fn cases_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("PORTCULLIS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let dir = shared.join("oracle/flatpak-1.14/cases");
    dir.is_dir().then_some(dir)
}

/// Every case with a captured filter: name, the features its overrides grant, the program.
fn cases() -> Option<Vec<(String, Features, Vec<Insn>)>> {
    let dir = cases_dir()?;
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).ok()?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let bpf = entry.path().join("seccomp.bpf");
        let Ok(bytes) = std::fs::read(&bpf) else {
            continue;
        };
        let case = std::fs::read_to_string(entry.path().join("case.txt")).unwrap_or_default();
        let overrides = case
            .lines()
            .find_map(|l| l.strip_prefix("override:"))
            .unwrap_or("");
        let allowed: Vec<&str> = overrides
            .split_whitespace()
            .filter_map(|a| a.strip_prefix("--allow="))
            .collect();
        let features = super::support::features(&allowed);
        let name = entry.file_name().to_string_lossy().into_owned();
        out.push((
            name,
            features,
            decode(&bytes).expect("oracle BPF is whole records"),
        ));
    }
    Some(out)
}

fn action(ret: &Result<u32, portcullis_verifier::bpf::Fault>) -> Option<Action> {
    ret.as_ref().ok().and_then(|&r| Action::from_ret(r))
}

/// Which documented hardening explains one difference (ours left, Flatpak's right).
fn explain(d: &Difference, features: Features) -> Result<Hardening, String> {
    let ours = action(&d.left);
    let theirs = action(&d.right);
    let data = d.data;
    let arch = Arch::from_audit(data.arch);
    let in_x32 = arch == Some(Arch::X86_64) && data.nr >= 0x4000_0000 && data.nr != u32::MAX;
    let name = arch
        .filter(|_| !in_x32)
        .and_then(|a| a.syscall_name(data.nr));
    let unexplained = || {
        Err(format!(
            "unexplained: {} nr {} ({}) args {:#x?}: ours {:?}, flatpak {:?}",
            arch.map(Arch::name).unwrap_or("foreign"),
            data.nr,
            name.unwrap_or("?"),
            data.args,
            ours,
            theirs
        ))
    };
    match (ours, theirs) {
        (Some(Action::KillProcess), Some(Action::KillThread)) => Ok(Hardening::KillProcess),
        (Some(Action::Errno(38)), Some(Action::Allow)) if name.is_none() && !in_x32 => {
            Ok(Hardening::UnknownSyscallsEnosys)
        }
        // A deliberate difference: Flatpak 1.14 allows io_uring, whose operations bypass
        // every argument rule; we refuse it unless the policy says `allow io-uring`.
        (Some(Action::Errno(38)), Some(Action::Allow))
            if !features.io_uring
                && matches!(
                    name,
                    Some("io_uring_setup" | "io_uring_enter" | "io_uring_register")
                ) =>
        {
            Ok(Hardening::IoUringRefused)
        }
        // With port rules only: inet sockets Landlock cannot see (EACCES), TCP Fast Open
        // (EOPNOTSUPP), the compat ABI's socketcall (ENOSYS).
        (Some(Action::Errno(13)), Some(Action::Allow))
            if features.port_rules && name == Some("socket") =>
        {
            Ok(Hardening::PortRuleBypasses)
        }
        // Both refuse: Flatpak because the family's high word is not zero, we because the
        // low word is an inet family whose type and protocol the port rules refuse.
        (Some(Action::Errno(13)), Some(Action::Errno(97)))
            if features.port_rules && name == Some("socket") && data.args[0] >> 32 != 0 =>
        {
            Ok(Hardening::PortRuleBypasses)
        }
        (Some(Action::Errno(95)), Some(Action::Allow))
            if features.port_rules && matches!(name, Some("sendto" | "sendmsg" | "sendmmsg")) =>
        {
            Ok(Hardening::PortRuleBypasses)
        }
        (Some(Action::Errno(38)), Some(Action::Allow))
            if features.port_rules && name == Some("socketcall") =>
        {
            Ok(Hardening::PortRuleBypasses)
        }
        (Some(Action::Errno(_)), Some(Action::Allow))
            if matches!(
                name,
                Some("quotactl_fd" | "set_mempolicy_home_node" | "open_tree_attr")
            ) =>
        {
            Ok(Hardening::NewerSiblings)
        }
        (Some(Action::Errno(97)), Some(Action::Allow))
            if name == Some("socket") && features.multiarch =>
        {
            Ok(Hardening::SocketFamiliesUnderMultiarch)
        }
        // Flatpak compares the family on 64 bits: high-word garbage refuses an allowed
        // family and nothing else; the kernel reads the low 32 bits, and so do we.
        (Some(Action::Allow), Some(Action::Errno(97)))
            if name == Some("socket") && data.args[0] >> 32 != 0 =>
        {
            Ok(Hardening::Low32Arguments)
        }
        _ => unexplained(),
    }
}

#[test]
fn every_oracle_case_agrees_up_to_documented_hardening() {
    let Some(cases) = cases() else {
        portcullis_tests::skip!("no Flatpak oracle (set PORTCULLIS_SHARED)");
        return;
    };
    assert!(cases.len() >= 20, "only {} oracle cases", cases.len());
    for (name, features, theirs) in &cases {
        let ours = program(*features, Arch::X86_64);
        let cmp = compare(&ours, theirs);
        assert!(cmp.probes > 4000, "{name}: {} probes", cmp.probes);
        let mut used = std::collections::BTreeSet::new();
        for d in &cmp.differences {
            match explain(d, *features) {
                Ok(h) => {
                    used.insert(h);
                }
                Err(why) => panic!("case {name}: {why}"),
            }
        }
        // The differences that must show up: x32 and foreign ABIs are killed as a
        // process, numbers above the table get ENOSYS.
        assert!(used.contains(&Hardening::KillProcess), "{name}");
        assert!(used.contains(&Hardening::UnknownSyscallsEnosys), "{name}");
        // No Flatpak form grants io_uring to us, and Flatpak's filter always allows it.
        assert!(used.contains(&Hardening::IoUringRefused), "{name}");
        assert_eq!(
            used.contains(&Hardening::SocketFamiliesUnderMultiarch),
            features.multiarch,
            "{name}"
        );
    }
}

/// Flatpak has no port rules; a policy with them (here on Flatpak's default and multiarch
/// cases) differs from Flatpak's filter by the port-rule hardening and nothing else new:
/// MPTCP, SCTP and raw inet sockets, `MSG_FASTOPEN` and (multiarch) `socketcall` all pass
/// Flatpak's filter and are refused by ours.
#[test]
fn port_rules_differ_from_flatpak_only_by_their_documented_hardening() {
    let Some(cases) = cases() else {
        portcullis_tests::skip!("no Flatpak oracle (set PORTCULLIS_SHARED)");
        return;
    };
    let mut checked = 0;
    for (name, base, theirs) in cases
        .iter()
        .filter(|(n, _, _)| n == "default" || n == "allow-multiarch")
    {
        for udp_none in [false, true] {
            let features = Features {
                port_rules: true,
                udp_none,
                ..*base
            };
            let ours = program(features, Arch::X86_64);
            let cmp = compare(&ours, theirs);
            let mut refused = std::collections::BTreeSet::new();
            for d in &cmp.differences {
                match explain(d, features) {
                    Ok(Hardening::PortRuleBypasses) => {
                        let arch = Arch::from_audit(d.data.arch).expect("a filtered ABI");
                        refused.insert(arch.syscall_name(d.data.nr).expect("named"));
                    }
                    Ok(_) => {}
                    Err(why) => panic!("case {name} with port rules: {why}"),
                }
            }
            let mut expected = vec!["sendmmsg", "sendmsg", "sendto", "socket"];
            if features.multiarch {
                expected.push("socketcall");
                expected.sort_unstable();
            }
            assert_eq!(refused.into_iter().collect::<Vec<_>>(), expected, "{name}");
            checked += 1;
        }
    }
    assert_eq!(checked, 4, "the default and multiarch oracle cases");
}

#[test]
fn the_oracle_filters_pass_the_static_checks() {
    let Some(cases) = cases() else {
        portcullis_tests::skip!("no Flatpak oracle (set PORTCULLIS_SHARED)");
        return;
    };
    for (name, _, theirs) in &cases {
        assert_eq!(check(theirs), vec![], "{name}");
    }
}

/// The interpreter agrees with the oracle's own simulator on every argument-free line of
/// `seccomp.policy.txt` and on its per-arch verdict counts.
#[test]
fn interpreter_reproduces_the_oracle_policy_files() {
    let Some(dir) = cases_dir() else {
        portcullis_tests::skip!("no Flatpak oracle (set PORTCULLIS_SHARED)");
        return;
    };
    for case in [
        "default",
        "allow-multiarch",
        "allow-devel",
        "allow-bluetooth",
    ] {
        let bytes = std::fs::read(dir.join(case).join("seccomp.bpf")).expect("bpf");
        let prog = decode(&bytes).expect("records");
        let policy = std::fs::read_to_string(dir.join(case).join("seccomp.policy.txt"))
            .expect("policy file");
        let mut lines = 0;
        for line in policy.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "x86_64     101 ptrace                   ERRNO(EPERM)"
            let [arch, nr, _name, verdict] = fields[..] else {
                continue;
            };
            let token = match arch {
                "x86_64" => Arch::X86_64.audit(),
                "x86" => Arch::I386.audit(),
                _ => continue,
            };
            let nr: u32 = nr.parse().expect("number");
            let data = SeccompData {
                nr,
                arch: token,
                ..SeccompData::default()
            };
            let got = Action::from_ret(run(&prog, &data).expect("runs").ret).expect("known");
            assert_eq!(got.to_string(), verdict, "{case}: {line}");
            lines += 1;
        }
        assert!(lines >= 20, "{case}: {lines} lines");
        // "# x86_64 (nr base 0x0, 512 numbers probed): ALLOW=483, ERRNO(ENOSYS)=8, ..."
        for line in policy.lines().filter(|l| l.contains("numbers probed")) {
            let arch = line
                .trim_start_matches("# ")
                .split(' ')
                .next()
                .expect("arch");
            let (token, base, count) = match arch {
                "x86_64" => (Arch::X86_64.audit(), 0u32, 512u32),
                "x32" => (Arch::X86_64.audit(), 0x4000_0000, 548),
                "x86" => (Arch::I386.audit(), 0, 512),
                "aarch64" => (Arch::Aarch64.audit(), 0, 512),
                _ => continue,
            };
            let mut counts = std::collections::BTreeMap::<String, u32>::new();
            for nr in base..base + count {
                let data = SeccompData {
                    nr,
                    arch: token,
                    ..SeccompData::default()
                };
                let ret = run(&prog, &data).expect("runs").ret;
                *counts
                    .entry(Action::from_ret(ret).expect("known").to_string())
                    .or_default() += 1;
            }
            let summary = line.split("): ").nth(1).expect("counts");
            for item in summary.split(", ") {
                let (verdict, n) = item.rsplit_once('=').expect("VERDICT=N");
                assert_eq!(
                    counts.get(verdict).copied().unwrap_or(0),
                    n.parse::<u32>().expect("count"),
                    "{case} {arch} {verdict}"
                );
            }
        }
    }
}
