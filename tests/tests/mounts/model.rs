//! The verifier's mount-plan model: it catches plans that expose, widen or drop, and a
//! proptest that no plan the backend emits, for any policy, ever exposes a host path the
//! policy does not allow or loses a grant or a deny mask.

use portcullis_backends::mounts::plan;
use portcullis_blob::expand::{expand_plan, FileKind};
use portcullis_blob::mounts::{BindFlags, MountOp, PathExpr};
use portcullis_ir::beyond::{DenyMask, DeviceNode};
use portcullis_ir::context::{Device, Feature, FsEntry, Setting, Share, Socket};
use portcullis_ir::{Origin, Policy};
use portcullis_verifier::mounts::{check, check_expanded, Model, Source};
use proptest::prelude::*;

use super::host::{oracle_fs, oracle_values, FakeFs, HOME};
use super::ir::{from_flatpak_args, fs_key};

const APP: &str = "org.example.App";

fn expanded(policy: &Policy, fs: &FakeFs) -> Vec<MountOp> {
    expand_plan(&plan(policy).ops, &oracle_values(APP), fs).expect("expands")
}

fn codes(policy: &Policy, ops: &[MountOp], fs: &FakeFs) -> Vec<&'static str> {
    check_expanded(ops, policy, &oracle_values(APP), fs)
        .into_iter()
        .map(|f| f.code)
        .collect()
}

#[test]
fn the_model_answers_where_each_path_comes_from() {
    let policy = from_flatpak_args(APP, "--filesystem=home:ro --filesystem=~/Music");
    let fs = oracle_fs(APP, "");
    let model = Model::apply(&expanded(&policy, &fs));
    let music = format!("{HOME}/Music/a.ogg");
    let view = model.view(&music);
    assert_eq!(view.source, Source::Host(music.clone()));
    assert!(view.writable);
    let doc = model.view(&format!("{HOME}/Documents/x"));
    assert!(!doc.writable, "home is read-only");
    assert_eq!(
        model.view("/usr/bin/sh").source,
        Source::Host("/oracle/runtime/bin/sh".into())
    );
    assert_eq!(
        model.view("/bin/sh").source,
        Source::Host("/oracle/runtime/bin/sh".into())
    );
    assert_eq!(model.view("/etc/shadow").source, Source::Tmpfs);
    assert_eq!(model.view("/etc/passwd").source, Source::Data);
    let flatpak_dir = model.view(&format!("{HOME}/.local/share/flatpak/x"));
    assert_eq!(
        flatpak_dir.source,
        Source::Tmpfs,
        "hidden under the home grant"
    );
}

#[test]
fn an_extra_bind_is_reported_as_exposure() {
    let policy = from_flatpak_args(APP, "");
    let fs = oracle_fs(APP, "");
    let mut ops = expanded(&policy, &fs);
    assert!(codes(&policy, &ops, &fs).is_empty());
    ops.push(MountOp::Bind {
        source: PathExpr::new("/etc"),
        dest: PathExpr::new("/mnt/etc"),
        flags: BindFlags {
            readonly: true,
            ..BindFlags::default()
        },
    });
    assert_eq!(codes(&policy, &ops, &fs), vec!["mounts::exposed"]);
}

#[test]
fn a_widened_or_dropped_grant_is_reported() {
    let policy = from_flatpak_args(APP, "--filesystem=/opt/data:ro");
    let fs = oracle_fs(APP, "");
    let ops = expanded(&policy, &fs);
    assert!(codes(&policy, &ops, &fs).is_empty());
    let widened: Vec<MountOp> = ops
        .iter()
        .cloned()
        .map(|op| match op {
            MountOp::Bind {
                source,
                dest,
                flags,
            } if dest.as_str() == "/opt/data" => MountOp::Bind {
                source,
                dest,
                flags: BindFlags {
                    readonly: false,
                    ..flags
                },
            },
            other => other,
        })
        .collect();
    assert_eq!(codes(&policy, &widened, &fs), vec!["mounts::writable"]);
    let dropped: Vec<MountOp> = ops
        .into_iter()
        .filter(|op| !matches!(op, MountOp::Bind { dest, .. } if dest.as_str() == "/opt/data"))
        .collect();
    assert_eq!(codes(&policy, &dropped, &fs), vec!["mounts::grant-missing"]);
}

#[test]
fn a_deny_mask_hides_its_path_and_a_missing_one_is_reported() {
    let mut policy = from_flatpak_args(APP, "--filesystem=home");
    policy.beyond.deny.push(DenyMask {
        path: "~/Documents".into(),
        origin: Origin::default(),
    });
    let fs = oracle_fs(APP, "");
    let ops = expanded(&policy, &fs);
    let model = Model::apply(&ops);
    assert_eq!(
        model.view(&format!("{HOME}/Documents/cv.pdf")).source,
        Source::Masked
    );
    assert!(codes(&policy, &ops, &fs).is_empty());
    let unmasked: Vec<MountOp> = ops
        .into_iter()
        .filter(|op| !matches!(op, MountOp::Mask { .. }))
        .collect();
    assert_eq!(codes(&policy, &unmasked, &fs), vec!["mounts::mask-missing"]);
}

const KEYS: &[&str] = &[
    "home",
    "host",
    "host-os",
    "host-etc",
    "~/Music",
    "~/Music/sub",
    "~/.ssh",
    "~/.local/share/flatpak",
    "~/.var/app",
    "/opt/data",
    "/opt",
    "/srv",
    "/tmp",
    "/run/media",
    "/usr/share",
    "/etc/passwd",
    "/home/fporacle/Documents",
    "/home",
    "xdg-download",
    "xdg-download/sub",
    "xdg-music",
    "xdg-config/git",
    "xdg-data/fonts",
    "xdg-run/pulse",
    "/var",
    "/media",
];
const MODES: &[&str] = &["", ":ro", ":create", "!"];
const MASKS: &[&str] = &["~/.ssh", "~/Music/sub", "/srv", "/opt/data", "~/Documents"];

fn policy_strategy() -> impl Strategy<Value = Policy> {
    (
        proptest::collection::vec((0..KEYS.len(), 0..MODES.len()), 0..8),
        proptest::collection::vec(0..MASKS.len(), 0..3),
        any::<[bool; 12]>(),
        proptest::collection::vec(
            prop_oneof![Just(".mozilla"), Just("."), Just("a/b"), Just("../x")],
            0..2,
        ),
    )
        .prop_map(|(grants, masks, bits, persist)| {
            let mut p = from_flatpak_args(APP, "");
            let on = |b: bool| Setting {
                enabled: b,
                origin: Origin::default(),
            };
            for (k, m) in grants {
                let text = if MODES[m] == "!" {
                    format!("!{}", KEYS[k])
                } else {
                    format!("{}{}", KEYS[k], MODES[m])
                };
                let (key, mode) = fs_key(&text);
                p.context.filesystems.insert(
                    key,
                    FsEntry {
                        mode,
                        origin: Origin::default(),
                    },
                );
            }
            for m in masks {
                p.beyond.deny.push(DenyMask {
                    path: MASKS[m].into(),
                    origin: Origin::default(),
                });
            }
            let sockets = [
                Socket::X11,
                Socket::Wayland,
                Socket::FallbackX11,
                Socket::Pulseaudio,
                Socket::SshAuth,
            ];
            for (i, s) in sockets.iter().enumerate() {
                p.context.sockets.insert(*s, on(bits[i]));
            }
            let devices = [Device::Dri, Device::All, Device::Shm, Device::Kvm];
            for (i, d) in devices.iter().enumerate() {
                p.context.devices.insert(*d, on(bits[5 + i]));
            }
            p.context.shares.insert(Share::Network, on(bits[9]));
            p.context
                .features
                .insert(Feature::PerAppDevShm, on(bits[10]));
            if bits[11] {
                p.beyond.device_nodes.push(DeviceNode {
                    path: "/dev/ttyUSB0".into(),
                    writable: false,
                    origin: Origin::default(),
                });
            }
            for path in persist {
                p.context
                    .persistent
                    .insert(path.to_string(), Origin::default());
            }
            p
        })
}

fn rich_host() -> FakeFs {
    let mut fs = oracle_fs(APP, "fake-dri");
    for dir in [
        "/home/fporacle/Music/sub",
        "/home/fporacle/.ssh",
        "/home/fporacle/.config/git",
        "/home/fporacle/.local/share/fonts",
        "/srv",
        "/var",
        "/run/media",
    ] {
        fs.add(dir, FileKind::Dir);
    }
    fs.add("/dev/ttyUSB0", FileKind::Other);
    fs
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn emitted_plans_never_expose_more_than_the_policy(policy in policy_strategy()) {
        let fs = rich_host();
        let findings = check(&plan(&policy).ops, &policy, &oracle_values(APP), &fs)
            .expect("plans expand");
        prop_assert!(findings.is_empty(), "{:#?}\npolicy: {:#?}", findings, policy.context.filesystems);
    }
}

#[test]
fn static_verification_passes_emitted_plans_and_catches_a_widened_one() {
    use portcullis_verifier::mounts::verify_static;
    let policy = from_flatpak_args(
        APP,
        "--filesystem=home:ro --filesystem=xdg-download --socket=wayland --socket=fallback-x11 --device=dri",
    );
    let ops = plan(&policy).ops;
    assert_eq!(verify_static(&ops, &policy), vec![]);
    let mut widened = ops.clone();
    widened.push(MountOp::Bind {
        source: PathExpr::new("${HOME}"),
        dest: PathExpr::new("${HOME}"),
        flags: BindFlags::default(),
    });
    let codes: Vec<&str> = verify_static(&widened, &policy)
        .iter()
        .map(|f| f.code)
        .collect();
    assert!(codes.contains(&"mounts::writable"), "{codes:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn static_verification_accepts_every_emitted_plan(policy in policy_strategy()) {
        let findings = portcullis_verifier::mounts::verify_static(&plan(&policy).ops, &policy);
        prop_assert!(findings.is_empty(), "{:#?}", findings);
    }
}
