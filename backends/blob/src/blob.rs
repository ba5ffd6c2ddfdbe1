//! The blob itself: header, section table, [`Blob::encode`] and [`Blob::decode`].
//!
//! # Byte layout (all integers little-endian)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `PCULBLOB` |
//! | 8 | 2 | major version ([`MAJOR`]) |
//! | 10 | 2 | minor version ([`MINOR`]) |
//! | 12 | 4 | architecture: its `AUDIT_ARCH_*` value |
//! | 16 | 16 | compiler version, ASCII, NUL-padded |
//! | 32 | 8 | payload length |
//! | 40 | 32 | SHA-256 of bytes 0..40 followed by the payload |
//! | 72 | … | payload: sections |
//!
//! Each section is a `u16` tag, a `u32` length and its body. Tags appear in increasing
//! order; every section this version defines must be present. A decoder skips tags it does
//! not know: a new minor version may add sections, never change one. A new major version
//! may change anything, and older decoders refuse it.
//!
//! | tag | section |
//! |---|---|
//! | 1 | identity: app id, then the policy record (the IR as JSON, for `verify`) |
//! | 2 | namespaces: one byte of flags |
//! | 3 | mount plan ([`MountOp`] list) |
//! | 4 | seccomp: `struct sock_filter` records, 8 bytes each, as `bwrap --seccomp` reads them; empty, or a program the kernel's checker accepts ([`crate::bpf`]) |
//! | 5 | environment ([`EnvOp`] list) |
//! | 6 | Landlock ([`LandlockSection`]) |
//! | 7 | resource limits ([`LimitsSection`]) |
//! | 8 | D-Bus ([`DbusSection`]) |
//! | 9 | device nodes (since 1.1): the host paths of single device-node grants, each of which must be a character or block device at launch |
//! | 0xFFFF | signature, optional, always last (since 1.1; see [`crate::sign`]) |
//!
//! Version 1.1 added section 9 and the signature section; a 1.0 blob has none and is read with an empty list (a 1.0
//! decoder skips the section). Its paths start with `/dev/`.
//!
//! Decoding checks, in this order and before anything is used: length, magic, major
//! version, architecture tag, payload length, checksum, then each section's values.

use crate::dbus::DbusSection;
use crate::landlock::LandlockSection;
use crate::limits::LimitsSection;
use crate::mounts::{EnvOp, MountOp, PathExpr};
use crate::sha256;
use crate::wire::{malformed, DecodeError, Reader, Wire, Writer};

/// The first bytes of every blob.
pub const MAGIC: [u8; 8] = *b"PCULBLOB";
/// The format's major version: a decoder refuses a larger one.
pub const MAJOR: u16 = 1;
/// The format's minor version: larger ones only add sections.
pub const MINOR: u16 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 72;
/// The kernel's limit on a classic BPF program (`BPF_MAXINSNS`).
pub const MAX_BPF_INSNS: usize = 4096;

/// A target architecture, named by its `AUDIT_ARCH_*` value (what seccomp programs check).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86-64 (`AUDIT_ARCH_X86_64`).
    X86_64,
    /// 64-bit Arm (`AUDIT_ARCH_AARCH64`).
    Aarch64,
}

impl Arch {
    /// The `AUDIT_ARCH_*` value.
    pub fn audit_arch(self) -> u32 {
        match self {
            Arch::X86_64 => 0xC000_003E,
            Arch::Aarch64 => 0xC000_00B7,
        }
    }

    /// The architecture with this `AUDIT_ARCH_*` value.
    pub fn from_audit_arch(tag: u32) -> Option<Arch> {
        match tag {
            0xC000_003E => Some(Arch::X86_64),
            0xC000_00B7 => Some(Arch::Aarch64),
            _ => None,
        }
    }

    /// The name used on the command line (`x86_64`, `aarch64`).
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The machine this code runs on, if portcullis supports it.
    pub fn host() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }
}

/// Which namespaces the sandbox gets. User, mount, pid and uts namespaces are always new;
/// the blob still records them so that a reader sees the whole set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Namespaces {
    /// A new IPC namespace (unless `share=ipc`).
    pub ipc: bool,
    /// A new network namespace with only loopback (unless `share=network`).
    pub net: bool,
}

const NS_USER: u8 = 1;
const NS_MOUNT: u8 = 2;
const NS_PID: u8 = 4;
const NS_UTS: u8 = 8;
const NS_IPC: u8 = 16;
const NS_NET: u8 = 32;
const NS_ALWAYS: u8 = NS_USER | NS_MOUNT | NS_PID | NS_UTS;

impl Wire for Namespaces {
    fn put(&self, w: &mut Writer) {
        w.u8(NS_ALWAYS | if self.ipc { NS_IPC } else { 0 } | if self.net { NS_NET } else { 0 });
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bits = r.u8()?;
        if bits & NS_ALWAYS != NS_ALWAYS {
            return Err(malformed(
                "namespaces",
                "user, mount, pid and uts namespaces are always required",
            ));
        }
        if bits & !(NS_ALWAYS | NS_IPC | NS_NET) != 0 {
            return Err(malformed("namespaces", format!("unknown flags {bits:#x}")));
        }
        Ok(Namespaces {
            ipc: bits & NS_IPC != 0,
            net: bits & NS_NET != 0,
        })
    }
}

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset when true.
    pub jt: u8,
    /// Jump offset when false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

impl SockFilter {
    /// The 8 bytes of the record, as `bwrap --seccomp` and `seccomp(2)` read them on a
    /// little-endian machine.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[0..2].copy_from_slice(&self.code.to_le_bytes());
        out[2] = self.jt;
        out[3] = self.jf;
        out[4..8].copy_from_slice(&self.k.to_le_bytes());
        out
    }
}

impl Wire for SockFilter {
    fn put(&self, w: &mut Writer) {
        w.bytes.extend_from_slice(&self.to_bytes());
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let b = r.take(8)?;
        Ok(SockFilter {
            code: u16::from_le_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        })
    }
}

/// A compiled policy, ready for the executor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// The architecture the seccomp program is for.
    pub arch: Arch,
    /// The version of the compiler that wrote the blob (at most 16 ASCII characters).
    pub compiler_version: String,
    /// The app id (`FLATPAK_ID`, `${APP_ID}`).
    pub app_id: String,
    /// The policy record: the checked IR as JSON, so that `verify` can compare the
    /// artifacts with the meaning they were compiled from.
    pub policy: Vec<u8>,
    /// Namespaces.
    pub namespaces: Namespaces,
    /// The mount plan, applied in order.
    pub mounts: Vec<MountOp>,
    /// The seccomp program; empty means no filter.
    pub seccomp: Vec<SockFilter>,
    /// Environment operations, applied in order over the caller's environment.
    pub env: Vec<EnvOp>,
    /// Landlock rules.
    pub landlock: LandlockSection,
    /// Resource limits.
    pub limits: LimitsSection,
    /// How each D-Bus bus reaches the sandbox.
    pub dbus: DbusSection,
    /// The host paths of single device-node grants (`device-node PATH`): the executor
    /// refuses the launch when one of them exists and is not a character or block device.
    pub device_nodes: Vec<PathExpr>,
}

/// Whether `bytes` start like a blob (for commands that accept a policy or a blob).
pub fn looks_like_blob(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

fn section<T: Wire>(w: &mut Writer, tag: u16, value: &T) {
    let mut body = Writer::default();
    value.put(&mut body);
    w.u16(tag);
    w.bytes(&body.bytes);
}

struct Identity {
    app_id: String,
    policy: Vec<u8>,
}

impl Wire for Identity {
    fn put(&self, w: &mut Writer) {
        w.str(&self.app_id);
        w.bytes(&self.policy);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let app_id = r.str()?;
        if app_id.is_empty() || app_id.contains('/') {
            return Err(malformed("identity", format!("bad app id `{app_id}`")));
        }
        Ok(Identity {
            app_id,
            policy: r.bytes()?,
        })
    }
}

struct Seccomp(Vec<SockFilter>);

impl Wire for Seccomp {
    fn put(&self, w: &mut Writer) {
        w.list(&self.0);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let program: Vec<SockFilter> = r.list()?;
        // Empty means no filter; anything else must be a program the kernel accepts, so
        // that the executor never finds out at its last step, after host-side work.
        if !program.is_empty() {
            crate::bpf::check(&program).map_err(|why| malformed("seccomp", why))?;
        }
        Ok(Seccomp(program))
    }
}

struct DeviceNodes(Vec<PathExpr>);

impl Wire for DeviceNodes {
    fn put(&self, w: &mut Writer) {
        w.list(&self.0);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let nodes: Vec<PathExpr> = r.list()?;
        let bad = |p: &PathExpr| {
            let text = p.as_str();
            !text.starts_with("/dev/") || text.split('/').any(|c| c == "..")
        };
        if let Some(node) = nodes.iter().find(|p| bad(p)) {
            return Err(malformed(
                "device nodes",
                format!("`{}` is not a path under /dev", node.as_str()),
            ));
        }
        Ok(DeviceNodes(nodes))
    }
}

struct List<T>(Vec<T>);

impl<T: Wire> Wire for List<T> {
    fn put(&self, w: &mut Writer) {
        w.list(&self.0);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(List(r.list()?))
    }
}

impl Blob {
    /// The bytes of the blob. Deterministic: equal blobs give equal bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut payload = Writer::default();
        let identity = Identity {
            app_id: self.app_id.clone(),
            policy: self.policy.clone(),
        };
        section(&mut payload, 1, &identity);
        section(&mut payload, 2, &self.namespaces);
        section(&mut payload, 3, &List(self.mounts.clone()));
        section(&mut payload, 4, &Seccomp(self.seccomp.clone()));
        section(&mut payload, 5, &List(self.env.clone()));
        section(&mut payload, 6, &self.landlock);
        section(&mut payload, 7, &self.limits);
        section(&mut payload, 8, &self.dbus);
        section(&mut payload, 9, &DeviceNodes(self.device_nodes.clone()));

        let mut out = Writer::default();
        out.bytes.extend_from_slice(&MAGIC);
        out.u16(MAJOR);
        out.u16(MINOR);
        out.u32(self.arch.audit_arch());
        // Only printable ASCII fits the field; anything else is dropped, so that the
        // decoder always accepts what the encoder wrote.
        let mut version = [0u8; 16];
        let text = self.compiler_version.bytes().filter(u8::is_ascii_graphic);
        for (slot, byte) in version.iter_mut().zip(text) {
            *slot = byte;
        }
        out.bytes.extend_from_slice(&version);
        out.u64(payload.bytes.len() as u64);
        let checksum = sha256::digest(&[&out.bytes, &payload.bytes]);
        out.bytes.extend_from_slice(&checksum);
        out.bytes.extend_from_slice(&payload.bytes);
        out.bytes
    }

    /// Decodes and validates a blob for any architecture.
    pub fn decode(bytes: &[u8]) -> Result<Blob, DecodeError> {
        if bytes.len() < MAGIC.len() || !looks_like_blob(bytes) {
            return if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
                Err(DecodeError::Truncated { what: "header" })
            } else {
                Err(DecodeError::BadMagic)
            };
        }
        let mut header = Reader::new(bytes, "header");
        header.take(MAGIC.len())?;
        let major = header.u16()?;
        if major > MAJOR {
            return Err(DecodeError::NewerMajor {
                found: major,
                supported: MAJOR,
            });
        }
        if major == 0 {
            return Err(malformed("header", "major version 0"));
        }
        let minor = header.u16()?;
        let arch_tag = header.u32()?;
        let arch = Arch::from_audit_arch(arch_tag).ok_or(DecodeError::UnknownArch(arch_tag))?;
        let version = header.take(16)?;
        let payload_len = header.u64()?;
        let checksum = header.take(32)?;
        let payload = &bytes[HEADER_LEN..];
        if (payload.len() as u64) < payload_len {
            return Err(DecodeError::Truncated { what: "payload" });
        }
        if payload.len() as u64 > payload_len {
            return Err(malformed("payload", "bytes after the payload"));
        }
        if sha256::digest(&[&bytes[..HEADER_LEN - 32], payload]) != checksum {
            return Err(DecodeError::Checksum);
        }
        let compiler_version = parse_version(version)?;
        decode_sections(payload, arch, minor, compiler_version)
    }

    /// Decodes a blob and refuses it unless it was compiled for this machine.
    pub fn decode_for_host(bytes: &[u8]) -> Result<Blob, DecodeError> {
        let blob = Blob::decode(bytes)?;
        match Arch::host() {
            Some(host) if host == blob.arch => Ok(blob),
            host => Err(DecodeError::ForeignArch {
                blob: blob.arch.name(),
                host: host.map(Arch::name).unwrap_or(std::env::consts::ARCH),
            }),
        }
    }

    /// A short identity of the policy record (the first 16 hex digits of its SHA-256).
    pub fn policy_id(&self) -> String {
        sha256::hex(&sha256::digest(&[&self.policy])[..8])
    }
}

fn parse_version(field: &[u8]) -> Result<String, DecodeError> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let (text, pad) = field.split_at(end);
    if pad.iter().any(|&b| b != 0) || !text.iter().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(
            "header",
            "compiler version is not NUL-padded ASCII",
        ));
    }
    Ok(String::from_utf8_lossy(text).into_owned())
}

fn decode_sections(
    payload: &[u8],
    arch: Arch,
    minor: u16,
    compiler_version: String,
) -> Result<Blob, DecodeError> {
    const NAMES: [&str; 9] = [
        "identity",
        "namespaces",
        "mounts",
        "seccomp",
        "environment",
        "landlock",
        "limits",
        "dbus",
        "device nodes",
    ];
    let mut bodies: [Option<&[u8]>; 9] = [None; 9];
    let mut r = Reader::new(payload, "section table");
    let mut last_tag = 0u16;
    while !r.is_empty() {
        let tag = r.u16()?;
        let len = r.u32()? as usize;
        let body = r.take(len)?;
        if tag <= last_tag {
            return Err(malformed("section table", "sections out of order"));
        }
        last_tag = tag;
        if let Some(slot) = bodies.get_mut(usize::from(tag).wrapping_sub(1)) {
            *slot = Some(body);
        }
    }
    // Section 9 came with minor version 1: an older blob has none.
    if minor == 0 && bodies[8].is_none() {
        bodies[8] = Some(&[0, 0, 0, 0]);
    }
    let mut readers = Vec::with_capacity(9);
    for (body, name) in bodies.iter().zip(NAMES) {
        let body = body.ok_or_else(|| malformed(name, "section missing"))?;
        readers.push(Reader::new(body, name));
    }
    fn read<T: Wire>(r: &mut Reader<'_>) -> Result<T, DecodeError> {
        let value = T::get(r)?;
        r.finish()?;
        Ok(value)
    }
    let mut it = readers.into_iter();
    // INVARIANT: `readers` holds exactly nine readers, one per name.
    let mut next = || it.next().expect("nine sections");
    let identity: Identity = read(&mut next())?;
    let namespaces: Namespaces = read(&mut next())?;
    let mounts: List<MountOp> = read(&mut next())?;
    let seccomp: Seccomp = read(&mut next())?;
    let env: List<EnvOp> = read(&mut next())?;
    let landlock: LandlockSection = read(&mut next())?;
    let limits: LimitsSection = read(&mut next())?;
    let dbus: DbusSection = read(&mut next())?;
    let device_nodes: DeviceNodes = read(&mut next())?;
    Ok(Blob {
        arch,
        compiler_version,
        app_id: identity.app_id,
        policy: identity.policy,
        namespaces,
        mounts: mounts.0,
        seccomp: seccomp.0,
        env: env.0,
        landlock,
        limits,
        dbus,
        device_nodes: device_nodes.0,
    })
}
