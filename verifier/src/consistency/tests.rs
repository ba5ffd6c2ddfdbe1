//! Each check on small hand-written artifacts: agreeing ones pass, each kind of mistake is
//! found.

use portcullis_blob::landlock::{
    fs_access, FsLayer, FsRule, FsTarget, LandlockSection, NetLayer, Ports, Requirement,
};
use portcullis_blob::mounts::{BindFlags, MountOp, PathExpr};
use portcullis_ir::beyond::{NetworkRules, PortRange};
use portcullis_ir::context::{Setting, Share};
use portcullis_ir::Policy;

use super::{check, Artifacts};

fn plan() -> Vec<MountOp> {
    vec![
        MountOp::Bind {
            source: PathExpr::new("${HOME}"),
            dest: PathExpr::new("${HOME}"),
            flags: BindFlags {
                readonly: true,
                ..BindFlags::default()
            },
        },
        MountOp::Tmpfs {
            dest: PathExpr::new("${HOME}/.local/share/flatpak"),
            mode: 0o755,
        },
        MountOp::Mask {
            dest: PathExpr::new("${HOME}/.ssh"),
        },
    ]
}

fn rule(path: &str, access: u64) -> FsRule {
    FsRule {
        target: FsTarget::Path {
            path: PathExpr::new(path),
        },
        access,
        condition: None,
        masked: vec![],
    }
}

fn landlock(rules: Vec<FsRule>, net: Option<NetLayer>) -> LandlockSection {
    LandlockSection {
        fs: Some(FsLayer {
            level: Requirement::BestEffort,
            rules,
        }),
        net,
        ..LandlockSection::default()
    }
}

const GOOD_PROFILE: &str = r#"
@{pc_home}=/home/*/ /root/
profile portcullis-x {
  /{,**/} r,
  "@{pc_home}{,/**}" mrkix,
  deny "@{pc_home}/.local/share/flatpak{,/**}" mrwlkx,
  deny "@{pc_home}/.ssh{,/**}" mrwlkx,
  network inet stream,
  network inet6 stream,
}
"#;

fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.context.shares.insert(
        Share::Network,
        Setting {
            enabled: true,
            origin: Default::default(),
        },
    );
    policy.beyond.network = Some(NetworkRules {
        connect: vec![PortRange {
            first: 8443,
            last: 8443,
        }],
        bind: vec![],
        udp_none: false,
        origin: Default::default(),
    });
    policy
}

fn net() -> Option<NetLayer> {
    Some(NetLayer {
        level: Requirement::Required,
        connect: vec![Ports {
            first: 8443,
            last: 8443,
        }],
        bind: vec![],
    })
}

fn codes(policy: &Policy, landlock: &LandlockSection, profile: &str) -> Vec<&'static str> {
    let plan = plan();
    check(
        policy,
        &Artifacts {
            plan: &plan,
            landlock,
            apparmor: Some(profile),
        },
    )
    .into_iter()
    .map(|f| f.code)
    .collect()
}

fn masked(path: &str, access: u64) -> FsRule {
    FsRule {
        masked: vec![PathExpr::new("${HOME}/.ssh")],
        ..rule(path, access)
    }
}

fn good_landlock() -> LandlockSection {
    landlock(
        vec![
            masked("/", fs_access::READ_DIR),
            masked("${HOME}", fs_access::READ),
            rule(
                "${HOME}/.local/share/flatpak",
                fs_access::READ | fs_access::WRITE,
            ),
        ],
        net(),
    )
}

#[test]
fn agreeing_artifacts_have_no_findings() {
    assert!(codes(&policy(), &good_landlock(), GOOD_PROFILE).is_empty());
}

#[test]
fn landlock_grants_beyond_the_plan_are_found() {
    let mut section = good_landlock();
    let rules = &mut section.fs.as_mut().unwrap().rules;
    rules.push(rule("${HOME}/.ssh", fs_access::READ));
    rules.push(rule("/srv", fs_access::READ));
    rules.push(rule("${HOME}/doc", fs_access::READ | fs_access::WRITE));
    assert_eq!(
        codes(&policy(), &section, GOOD_PROFILE),
        [
            "consistency::landlock-hidden",
            "consistency::landlock-beyond-plan",
            "consistency::landlock-write-beyond-plan"
        ]
    );
}

#[test]
fn apparmor_grants_of_hidden_paths_are_found() {
    let leaky = GOOD_PROFILE.replace("deny \"@{pc_home}/.ssh{,/**}\" mrwlkx,", "");
    assert_eq!(
        codes(&policy(), &good_landlock(), &leaky),
        [
            "consistency::apparmor-hidden",
            "consistency::apparmor-hidden"
        ]
    );
}

#[test]
fn network_rules_must_agree() {
    let udp = GOOD_PROFILE.replace("network inet stream,", "network inet,");
    assert_eq!(
        codes(&policy(), &good_landlock(), &udp),
        ["consistency::network-apparmor"]
    );

    let mut unshared = policy();
    unshared.context.shares.clear();
    assert_eq!(
        codes(&unshared, &good_landlock(), GOOD_PROFILE),
        ["consistency::network-apparmor"]
    );

    let mut other_port = good_landlock();
    other_port.net.as_mut().unwrap().connect[0].first = 443;
    other_port.net.as_mut().unwrap().connect[0].last = 443;
    assert_eq!(
        codes(&policy(), &other_port, GOOD_PROFILE),
        ["consistency::network-ports"]
    );

    let no_ports = landlock(good_landlock().fs.unwrap().rules, None);
    assert_eq!(
        codes(&policy(), &no_ports, GOOD_PROFILE),
        ["consistency::network-ports"]
    );
}

#[test]
fn a_mask_landlock_does_not_hold_is_found() {
    // Only the mount plan would hide `~/.ssh`, and only if it exists at launch.
    let mut section = good_landlock();
    for rule in &mut section.fs.as_mut().unwrap().rules {
        rule.masked.clear();
    }
    assert_eq!(
        codes(&policy(), &section, GOOD_PROFILE),
        ["consistency::landlock-mask-unheld"]
    );
    let mut section = good_landlock();
    section.fs = None;
    assert_eq!(
        codes(&policy(), &section, GOOD_PROFILE),
        ["consistency::landlock-mask-unheld"]
    );
}
