//! The blob codec: round trips, determinism, and refusal of every kind of bad blob —
//! truncated, corrupted, foreign magic, newer major, unknown architecture — including
//! proptest fuzzing over random bytes and random mutations of a valid blob.

use portcullis_blob::blob::{HEADER_LEN, MAGIC};
use portcullis_blob::dbus::{BusAccess, BusKind, BusRoute, DbusSection};
use portcullis_blob::landlock::{
    fs_access, FsLayer, FsRule, FsTarget, LandlockSection, NetLayer, Ports, Requirement, ScopeLayer,
};
use portcullis_blob::limits::LimitsSection;
use portcullis_blob::mounts::{BindFlags, Condition, EnvOp, MountOp, PathExpr};
use portcullis_blob::{explain::explain, Arch, Blob, DecodeError, Namespaces, SockFilter};
use proptest::prelude::*;

fn p(text: &str) -> PathExpr {
    PathExpr::new(text)
}

/// A blob that uses every operation, condition and section.
fn sample() -> Blob {
    let ro = BindFlags {
        readonly: true,
        devices: false,
        optional: true,
    };
    Blob {
        arch: Arch::X86_64,
        compiler_version: "0.1.0".into(),
        app_id: "org.test.App".into(),
        policy: br#"{"identity":{}}"#.to_vec(),
        namespaces: Namespaces {
            ipc: true,
            net: false,
        },
        mounts: vec![
            MountOp::Tmpfs {
                dest: p("/tmp"),
                mode: 0o1777,
            },
            MountOp::Dir {
                dest: p("/run/host"),
                mode: 0o755,
            },
            MountOp::HostDir {
                path: p("${HOME}/.var/app/${APP_ID}"),
                mode: 0o700,
            },
            MountOp::Bind {
                source: p("${RUNTIME}"),
                dest: p("/usr"),
                flags: ro,
            },
            MountOp::Proc { dest: p("/proc") },
            MountOp::Dev { dest: p("/dev") },
            MountOp::Symlink {
                target: "usr/bin".into(),
                dest: p("/bin"),
            },
            MountOp::File {
                dest: p("/etc/passwd"),
                content: b"${USER}:x:${UID}:${GID}::${HOME}:/bin/sh\n".to_vec(),
                mode: 0o644,
                readonly: true,
                expand: true,
            },
            MountOp::RemountRo { dest: p("/usr") },
            MountOp::Mask {
                dest: p("${HOME}/.ssh"),
            },
            MountOp::When {
                condition: Condition::All(vec![
                    Condition::Not(Box::new(Condition::IsSocket(p("/tmp/x")))),
                    Condition::IsDir(p("/dev/dri")),
                    Condition::IsSymlink(p("/lib")),
                    Condition::Exists(p("/etc")),
                ]),
                then: Box::new(MountOp::Bind {
                    source: p("/dev/dri"),
                    dest: p("/dev/dri"),
                    flags: BindFlags {
                        readonly: false,
                        devices: true,
                        optional: false,
                    },
                }),
            },
            MountOp::BindEntries {
                source: p("${RUNTIME}/etc"),
                dest: p("/etc"),
                except: vec!["passwd".into(), "group".into()],
                flags: ro,
            },
            MountOp::Sorted {
                ops: vec![MountOp::Mask { dest: p("/a") }],
            },
        ],
        seccomp: vec![
            SockFilter {
                code: 0x20,
                jt: 0,
                jf: 0,
                k: 4,
            },
            SockFilter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 0x7fff_0000,
            },
        ],
        env: vec![
            EnvOp::Set {
                name: "FLATPAK_ID".into(),
                value: p("${APP_ID}"),
            },
            EnvOp::Unset {
                name: "LD_PRELOAD".into(),
            },
            EnvOp::When {
                condition: Condition::Exists(p("/x")),
                then: Box::new(EnvOp::Set {
                    name: "LD_LIBRARY_PATH".into(),
                    value: p(""),
                }),
            },
        ],
        landlock: LandlockSection {
            fs: Some(FsLayer {
                level: Requirement::BestEffort,
                rules: vec![
                    FsRule {
                        target: FsTarget::Path { path: p("/usr") },
                        access: fs_access::READ,
                        condition: None,
                        masked: vec![],
                    },
                    FsRule {
                        target: FsTarget::Entries {
                            dir: p("/etc"),
                            except: vec!["passwd".into()],
                        },
                        access: fs_access::READ | fs_access::WRITE,
                        condition: Some(Condition::Exists(p("/etc"))),
                        masked: vec![p("${HOME}/.ssh")],
                    },
                ],
            }),
            net: Some(NetLayer {
                level: Requirement::Required,
                connect: vec![Ports {
                    first: 443,
                    last: 443,
                }],
                bind: vec![],
            }),
            scope_abstract_unix: Some(ScopeLayer {
                level: Requirement::BestEffort,
            }),
            scope_signal: None,
        },
        limits: LimitsSection {
            level: Requirement::Required,
            memory: Some(512 << 20),
            processes: Some(128),
            open_files: None,
            cpu_time: Some(60),
            cpu_share: None,
        },
        dbus: DbusSection {
            routes: vec![
                BusRoute {
                    bus: BusKind::Session,
                    access: BusAccess::Proxy {
                        args: vec!["--filter".into(), "--own=org.test.App.*".into()],
                    },
                },
                BusRoute {
                    bus: BusKind::System,
                    access: BusAccess::Direct,
                },
            ],
        },
        device_nodes: vec![p("/dev/ttyUSB0")],
    }
}

/// Recomputes the checksum after a deliberate edit, to reach the checks behind it.
fn reseal(bytes: &mut [u8]) {
    let sum = portcullis_blob::sha256::digest(&[&bytes[..HEADER_LEN - 32], &bytes[HEADER_LEN..]]);
    bytes[HEADER_LEN - 32..HEADER_LEN].copy_from_slice(&sum);
}

#[test]
fn round_trips_every_section() {
    let blob = sample();
    let bytes = blob.encode();
    assert!(bytes.starts_with(&MAGIC));
    assert_eq!(Blob::decode(&bytes), Ok(blob));
}

#[test]
fn encoding_is_deterministic() {
    assert_eq!(sample().encode(), sample().encode());
    let mut other = sample();
    other.namespaces.net = true;
    assert_ne!(other.encode(), sample().encode());
}

#[test]
fn seccomp_records_are_kernel_sock_filters() {
    let insn = SockFilter {
        code: 0x0015,
        jt: 1,
        jf: 2,
        k: 0xC000_003E,
    };
    assert_eq!(insn.to_bytes(), [0x15, 0, 1, 2, 0x3E, 0, 0, 0xC0]);
}

#[test]
fn refuses_truncation_everywhere() {
    let bytes = sample().encode();
    for len in 0..bytes.len() {
        let err = Blob::decode(&bytes[..len]).unwrap_err();
        assert!(
            matches!(err, DecodeError::Truncated { .. } | DecodeError::BadMagic),
            "cut at {len}: {err}"
        );
    }
}

#[test]
fn refuses_a_flipped_bit_with_a_checksum_error() {
    let bytes = sample().encode();
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x40;
    assert_eq!(Blob::decode(&bad), Err(DecodeError::Checksum));
    let mut bad = bytes.clone();
    bad[10] ^= 1; // the minor version is covered too
    assert_eq!(Blob::decode(&bad), Err(DecodeError::Checksum));
}

#[test]
fn refuses_foreign_magic_newer_major_and_unknown_arch() {
    let bytes = sample().encode();
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(Blob::decode(&bad), Err(DecodeError::BadMagic));
    assert_eq!(Blob::decode(b"{\"app\": 1}"), Err(DecodeError::BadMagic));

    let mut newer = bytes.clone();
    newer[8..10].copy_from_slice(&2u16.to_le_bytes());
    let err = Blob::decode(&newer).unwrap_err();
    assert_eq!(
        err,
        DecodeError::NewerMajor {
            found: 2,
            supported: 1
        }
    );
    assert!(err.to_string().contains("newer"));

    let mut arch = bytes.clone();
    arch[12..16].copy_from_slice(&0x4000_0003u32.to_le_bytes());
    reseal(&mut arch);
    assert_eq!(
        Blob::decode(&arch),
        Err(DecodeError::UnknownArch(0x4000_0003))
    );
}

#[test]
fn refuses_a_foreign_arch_for_this_host() {
    let host = Arch::host().expect("tests run on a supported machine");
    let mut blob = sample();
    blob.arch = if host == Arch::X86_64 {
        Arch::Aarch64
    } else {
        Arch::X86_64
    };
    let bytes = blob.encode();
    assert!(Blob::decode(&bytes).is_ok());
    let err = Blob::decode_for_host(&bytes).unwrap_err();
    assert!(matches!(err, DecodeError::ForeignArch { .. }), "{err}");
    blob.arch = host;
    assert!(Blob::decode_for_host(&blob.encode()).is_ok());
}

#[test]
fn refuses_bad_values_behind_a_valid_checksum() {
    // A namespace byte without the always-on namespaces.
    let mut blob = sample();
    blob.namespaces.ipc = false;
    let mut bytes = blob.encode();
    let pos = find_section(&bytes, 2);
    bytes[pos] = 0b110000;
    reseal(&mut bytes);
    let err = Blob::decode(&bytes).unwrap_err();
    assert!(err.to_string().contains("always required"), "{err}");

    // Trailing bytes after the payload.
    let mut bytes = sample().encode();
    bytes.push(0);
    assert!(matches!(
        Blob::decode(&bytes),
        Err(DecodeError::Malformed { .. })
    ));
}

/// Offset of the body of section `tag`.
fn find_section(bytes: &[u8], tag: u16) -> usize {
    let mut at = HEADER_LEN;
    loop {
        let t = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let len = u32::from_le_bytes([bytes[at + 2], bytes[at + 3], bytes[at + 4], bytes[at + 5]]);
        if t == tag {
            return at + 6;
        }
        at += 6 + len as usize;
    }
}

#[test]
fn explain_names_every_section() {
    let text = explain(&sample());
    for needle in [
        "architecture: x86_64",
        "app id: org.test.App",
        "namespaces: user, mount, pid, uts, ipc",
        "network shared with the host",
        "bind       /usr <- ${RUNTIME} [ro,try]",
        "sorted by expanded destination",
        "seccomp: 2 BPF instructions",
        "set   FLATPAK_ID=${APP_ID}",
        "tcp (required): connect 443; bind none",
        "processes: 128",
        "every tmpfs (root, /dev and /dev/shm, tmpfs mounts, masks): size=536870912 nr_inodes=32768 (the memory limit)",
        "session: xdg-dbus-proxy at /run/flatpak/bus --filter",
        "device nodes (each must be a character or block device at launch):\n  /dev/ttyUSB0",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

/// `bytes` with the device-node section (the last one) cut off, the minor version set to
/// `minor`, the payload length fixed and the checksum recomputed.
fn without_device_nodes(mut bytes: Vec<u8>, minor: u16) -> Vec<u8> {
    let body = find_section(&bytes, 9);
    bytes.truncate(body - 6);
    bytes[10..12].copy_from_slice(&minor.to_le_bytes());
    let payload = (bytes.len() - HEADER_LEN) as u64;
    bytes[32..40].copy_from_slice(&payload.to_le_bytes());
    reseal(&mut bytes);
    bytes
}

#[test]
fn version_1_1_adds_the_device_node_section() {
    assert_eq!(portcullis_blob::blob::MINOR, 1);
    // A 1.0 blob has no device-node section: read with none.
    let old = without_device_nodes(sample().encode(), 0);
    let blob = Blob::decode(&old).expect("a 1.0 blob is still read");
    assert!(blob.device_nodes.is_empty());
    assert_eq!(blob.mounts, sample().mounts);
    // From 1.1 on, the section is required.
    let err = Blob::decode(&without_device_nodes(sample().encode(), 1)).unwrap_err();
    assert!(
        err.to_string().contains("device nodes: section missing"),
        "{err}"
    );
    // Its paths are under /dev.
    for bad in ["/home/x", "/dev/../etc/shadow", "/devx"] {
        let mut blob = sample();
        blob.device_nodes = vec![p(bad)];
        let err = Blob::decode(&blob.encode()).unwrap_err();
        assert!(
            err.to_string().contains("not a path under /dev"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn refuses_paths_that_can_never_exist_and_limits_out_of_range() {
    let long_name = format!("/{}", "n".repeat(256));
    let long_path = format!("/{}", ["d"; 2048].join("/"));
    for bad in [long_name.as_str(), long_path.as_str()] {
        let mut blob = sample();
        blob.mounts.push(MountOp::Mask { dest: p(bad) });
        let err = Blob::decode(&blob.encode()).unwrap_err();
        assert!(err.to_string().contains("longer than 4095 bytes"), "{err}");
    }
    // Placeholders count for nothing: they may expand to something short.
    let mut blob = sample();
    let ok = format!("${{HOME}}/{}/{}", "n".repeat(255), "${ENV:X}".repeat(600));
    blob.mounts.push(MountOp::Mask { dest: p(&ok) });
    assert!(Blob::decode(&blob.encode()).is_ok());

    for (edit, needle) in [
        (
            (|l: &mut LimitsSection| l.memory = Some(u64::MAX)) as fn(&mut LimitsSection),
            "memory",
        ),
        (|l| l.memory = Some(1 << 19), "memory"),
        (|l| l.processes = Some(0), "processes"),
        (|l| l.open_files = Some(1 << 21), "open-files"),
        (|l| l.cpu_time = Some(u64::MAX), "cpu-time"),
        (|l| l.cpu_share = Some(0), "cpu-share"),
    ] {
        let mut blob = sample();
        edit(&mut blob.limits);
        let err = Blob::decode(&blob.encode()).unwrap_err();
        assert!(
            err.to_string().contains(&format!("limits: {needle} ")),
            "{err}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Blob::decode(&bytes);
        let mut with_magic = MAGIC.to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = Blob::decode(&with_magic);
    }

    #[test]
    fn mutated_blobs_are_never_accepted(
        edits in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4)
    ) {
        let mut bytes = sample().encode();
        for (at, xor) in edits {
            let at = at % bytes.len();
            bytes[at] ^= xor;
        }
        prop_assert!(Blob::decode(&bytes).is_err());
    }

    #[test]
    fn resealed_mutations_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)
    ) {
        // With the checksum recomputed, the section decoders see hostile values directly.
        let mut bytes = sample().encode();
        for (at, value) in edits {
            let at = HEADER_LEN + at % (bytes.len() - HEADER_LEN);
            bytes[at] = value;
        }
        reseal(&mut bytes);
        if let Ok(blob) = Blob::decode(&bytes) {
            // Whatever is accepted must encode back to the same bytes.
            prop_assert_eq!(blob.encode(), bytes);
        }
    }
}
