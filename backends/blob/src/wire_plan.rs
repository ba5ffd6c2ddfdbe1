//! Byte encoding of the mount plan and the environment operations ([`crate::mounts`]).
//!
//! Each operation is a one-byte tag followed by its fields in declaration order. A `When`
//! inside a `When` and conditions nested deeper than [`MAX_CONDITION_DEPTH`] are refused, so
//! the executor never recurses on attacker-chosen depth.

use crate::mounts::{BindFlags, Condition, EnvOp, MountOp, PathExpr};
use crate::wire::{malformed, DecodeError, Reader, Wire, Writer};

/// How deeply `Not` conditions may nest.
pub const MAX_CONDITION_DEPTH: usize = 8;

/// The longest path the kernel resolves, without its NUL (`PATH_MAX` is 4096 with it).
pub const PATH_MAX: usize = 4095;
/// The longest file name (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// The bytes of `text` outside placeholders (`${…}`): what expansion cannot shorten.
fn literal_len(text: &str) -> usize {
    let mut len = 0;
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        len += at;
        match rest[at..].find('}') {
            Some(end) => rest = &rest[at + end + 1..],
            None => return len + rest.len() - at,
        }
    }
    len + rest.len()
}

impl Wire for PathExpr {
    fn put(&self, w: &mut Writer) {
        w.str(&self.0);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let text = r.str()?;
        if text.is_empty() {
            return Err(malformed(r.what(), "empty path"));
        }
        // A path that can never exist: refused here, before anything is done, rather than
        // aborting the launch half-way (other missing paths are skipped there).
        let long_name = text
            .split('/')
            .any(|c| !c.contains('$') && c.len() > NAME_MAX);
        if long_name || literal_len(&text) > PATH_MAX {
            return Err(malformed(
                r.what(),
                format!(
                    "a path longer than {PATH_MAX} bytes or with a name longer than {NAME_MAX}"
                ),
            ));
        }
        Ok(PathExpr(text))
    }
}

impl Wire for BindFlags {
    fn put(&self, w: &mut Writer) {
        w.u8(self.readonly as u8 | (self.devices as u8) << 1 | (self.optional as u8) << 2);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bits = r.u8()?;
        if bits & !0b111 != 0 {
            return Err(malformed(r.what(), format!("unknown bind flags {bits:#x}")));
        }
        Ok(BindFlags {
            readonly: bits & 1 != 0,
            devices: bits & 2 != 0,
            optional: bits & 4 != 0,
        })
    }
}

impl Wire for Condition {
    fn put(&self, w: &mut Writer) {
        match self {
            Condition::Exists(p) => {
                w.u8(0);
                p.put(w);
            }
            Condition::IsDir(p) => {
                w.u8(1);
                p.put(w);
            }
            Condition::IsSocket(p) => {
                w.u8(2);
                p.put(w);
            }
            Condition::Not(inner) => {
                w.u8(3);
                inner.put(w);
            }
            Condition::All(inner) => {
                w.u8(4);
                w.u32(inner.len() as u32);
                for c in inner {
                    c.put(w);
                }
            }
            Condition::IsSymlink(p) => {
                w.u8(5);
                p.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        get_condition(r, 0)
    }
}

fn get_condition(r: &mut Reader<'_>, depth: usize) -> Result<Condition, DecodeError> {
    if depth > MAX_CONDITION_DEPTH {
        return Err(malformed(r.what(), "condition nested too deeply"));
    }
    Ok(match r.tag(6)? {
        0 => Condition::Exists(PathExpr::get(r)?),
        1 => Condition::IsDir(PathExpr::get(r)?),
        2 => Condition::IsSocket(PathExpr::get(r)?),
        3 => Condition::Not(Box::new(get_condition(r, depth + 1)?)),
        4 => {
            let n = r.u32()? as usize;
            let mut inner = Vec::new();
            for _ in 0..n {
                // Each condition takes at least two bytes: a count beyond the rest fails
                // here, before it can allocate.
                inner.push(get_condition(r, depth + 1)?);
            }
            Condition::All(inner)
        }
        _ => Condition::IsSymlink(PathExpr::get(r)?),
    })
}

const MOUNT_TAGS: u8 = 13;

impl Wire for MountOp {
    fn put(&self, w: &mut Writer) {
        match self {
            MountOp::Tmpfs { dest, mode } => {
                w.u8(0);
                dest.put(w);
                w.u32(*mode);
            }
            MountOp::Dir { dest, mode } => {
                w.u8(1);
                dest.put(w);
                w.u32(*mode);
            }
            MountOp::HostDir { path, mode } => {
                w.u8(2);
                path.put(w);
                w.u32(*mode);
            }
            MountOp::Bind {
                source,
                dest,
                flags,
            } => {
                w.u8(3);
                source.put(w);
                dest.put(w);
                flags.put(w);
            }
            MountOp::Proc { dest } => {
                w.u8(4);
                dest.put(w);
            }
            MountOp::Dev { dest } => {
                w.u8(5);
                dest.put(w);
            }
            MountOp::Symlink { target, dest } => {
                w.u8(6);
                w.str(target);
                dest.put(w);
            }
            MountOp::File {
                dest,
                content,
                mode,
                readonly,
                expand,
            } => {
                w.u8(7);
                dest.put(w);
                w.bytes(content);
                w.u32(*mode);
                w.bool(*readonly);
                w.bool(*expand);
            }
            MountOp::RemountRo { dest } => {
                w.u8(8);
                dest.put(w);
            }
            MountOp::Mask { dest } => {
                w.u8(9);
                dest.put(w);
            }
            MountOp::When { condition, then } => {
                w.u8(10);
                condition.put(w);
                then.put(w);
            }
            MountOp::BindEntries {
                source,
                dest,
                except,
                flags,
            } => {
                w.u8(11);
                source.put(w);
                dest.put(w);
                w.list(except);
                flags.put(w);
            }
            MountOp::Sorted { ops } => {
                w.u8(12);
                w.list(ops);
            }
        }
    }

    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        get_mount(r, Nesting::Top)
    }
}

fn mode(r: &mut Reader<'_>) -> Result<u32, DecodeError> {
    let mode = r.u32()?;
    if mode & !0o7777 != 0 {
        return Err(malformed(
            r.what(),
            format!("mode {mode:#o} has bits beyond 0o7777"),
        ));
    }
    Ok(mode)
}

/// Where an operation sits: `When` and `Sorted` do not nest in themselves, and nothing
/// nests deeper than a `When` inside a `Sorted`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Nesting {
    Top,
    InSorted,
    InWhen,
}

fn get_mount(r: &mut Reader<'_>, nesting: Nesting) -> Result<MountOp, DecodeError> {
    Ok(match r.tag(MOUNT_TAGS)? {
        0 => MountOp::Tmpfs {
            dest: PathExpr::get(r)?,
            mode: mode(r)?,
        },
        1 => MountOp::Dir {
            dest: PathExpr::get(r)?,
            mode: mode(r)?,
        },
        2 => MountOp::HostDir {
            path: PathExpr::get(r)?,
            mode: mode(r)?,
        },
        3 => MountOp::Bind {
            source: PathExpr::get(r)?,
            dest: PathExpr::get(r)?,
            flags: BindFlags::get(r)?,
        },
        4 => MountOp::Proc {
            dest: PathExpr::get(r)?,
        },
        5 => MountOp::Dev {
            dest: PathExpr::get(r)?,
        },
        6 => MountOp::Symlink {
            target: r.str()?,
            dest: PathExpr::get(r)?,
        },
        7 => MountOp::File {
            dest: PathExpr::get(r)?,
            content: r.bytes()?,
            mode: mode(r)?,
            readonly: r.bool()?,
            expand: r.bool()?,
        },
        8 => MountOp::RemountRo {
            dest: PathExpr::get(r)?,
        },
        9 => MountOp::Mask {
            dest: PathExpr::get(r)?,
        },
        10 => {
            if nesting == Nesting::InWhen {
                return Err(malformed(r.what(), "`when` inside `when`"));
            }
            MountOp::When {
                condition: Condition::get(r)?,
                then: Box::new(get_mount(r, Nesting::InWhen)?),
            }
        }
        12 => {
            if nesting != Nesting::Top {
                return Err(malformed(r.what(), "`sorted` inside another operation"));
            }
            let n = r.u32()? as usize;
            let mut ops = Vec::new();
            for _ in 0..n {
                ops.push(get_mount(r, Nesting::InSorted)?);
            }
            MountOp::Sorted { ops }
        }
        _ => {
            let source = PathExpr::get(r)?;
            let dest = PathExpr::get(r)?;
            let except: Vec<String> = r.list()?;
            if except
                .iter()
                .any(|name| name.is_empty() || name.contains('/'))
            {
                return Err(malformed(r.what(), "an excepted entry is not a plain name"));
            }
            MountOp::BindEntries {
                source,
                dest,
                except,
                flags: BindFlags::get(r)?,
            }
        }
    })
}

/// A variable name the environment can hold: not empty, no `=`.
fn env_name(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let name = r.str()?;
    if name.is_empty() || name.contains('=') {
        return Err(malformed(r.what(), format!("bad variable name `{name}`")));
    }
    Ok(name)
}

impl Wire for EnvOp {
    fn put(&self, w: &mut Writer) {
        match self {
            EnvOp::Set { name, value } => {
                w.u8(0);
                w.str(name);
                w.str(value.as_str());
            }
            EnvOp::Unset { name } => {
                w.u8(1);
                w.str(name);
            }
            EnvOp::When { condition, then } => {
                w.u8(2);
                condition.put(w);
                then.put(w);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        get_env(r, true)
    }
}

fn get_env(r: &mut Reader<'_>, allow_when: bool) -> Result<EnvOp, DecodeError> {
    Ok(match r.tag(3)? {
        0 => EnvOp::Set {
            name: env_name(r)?,
            // An empty value is legitimate here (`LD_LIBRARY_PATH=`).
            value: PathExpr(r.str()?),
        },
        1 => EnvOp::Unset { name: env_name(r)? },
        _ => {
            if !allow_when {
                return Err(malformed(r.what(), "`when` inside `when`"));
            }
            EnvOp::When {
                condition: Condition::get(r)?,
                then: Box::new(get_env(r, false)?),
            }
        }
    })
}
