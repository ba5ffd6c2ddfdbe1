//! The byte-level codec: little-endian integers, length-prefixed strings and lists, and
//! the [`Wire`] trait every section type implements.
//!
//! Lengths are checked against the bytes that remain before anything is allocated, so a
//! hostile length cannot make the decoder allocate more than the blob's own size.

use std::fmt;

/// Why a blob was refused. Nothing of a refused blob is applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the header or a field needs.
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// The file does not start with the blob magic.
    BadMagic,
    /// A major version this decoder does not know.
    NewerMajor {
        /// The blob's major version.
        found: u16,
        /// The newest major version this decoder reads.
        supported: u16,
    },
    /// An architecture tag this decoder does not know.
    UnknownArch(u32),
    /// The blob was compiled for another architecture than the one that runs it.
    ForeignArch {
        /// The blob's architecture.
        blob: &'static str,
        /// The running machine's.
        host: &'static str,
    },
    /// The checksum does not match the content.
    Checksum,
    /// A field holds a value that is not allowed.
    Malformed {
        /// Which section or field.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { what } => write!(f, "blob is truncated (in {what})"),
            DecodeError::BadMagic => f.write_str("not a portcullis blob (bad magic)"),
            DecodeError::NewerMajor { found, supported } => write!(
                f,
                "blob format version {found} is newer than this build reads ({supported})"
            ),
            DecodeError::UnknownArch(tag) => write!(f, "unknown architecture tag {tag:#x}"),
            DecodeError::ForeignArch { blob, host } => {
                write!(f, "blob is compiled for {blob}, this machine is {host}")
            }
            DecodeError::Checksum => f.write_str("blob is corrupted (checksum mismatch)"),
            DecodeError::Malformed { what, why } => write!(f, "malformed blob: {what}: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Shorthand for a [`DecodeError::Malformed`].
pub fn malformed(what: &'static str, why: impl Into<String>) -> DecodeError {
    DecodeError::Malformed {
        what,
        why: why.into(),
    }
}

/// Appends encoded values to a byte vector.
#[derive(Default)]
pub struct Writer {
    /// The bytes written so far.
    pub bytes: Vec<u8>,
}

impl Writer {
    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    /// A little-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    /// A little-endian `u32`.
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    /// A little-endian `u64`.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    /// A boolean as one byte, 0 or 1.
    pub fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }
    /// A `u32` length, then the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.len(v.len());
        self.bytes.extend_from_slice(v);
    }
    /// A string as [`Writer::bytes`].
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    /// A list: its `u32` length, then each item.
    pub fn list<T: Wire>(&mut self, items: &[T]) {
        self.len(items.len());
        for item in items {
            item.put(self);
        }
    }
    /// An option: a presence byte, then the value.
    pub fn option<T: Wire>(&mut self, item: &Option<T>) {
        match item {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                v.put(self);
            }
        }
    }

    fn len(&mut self, n: usize) {
        // INVARIANT: every blob is far below 4 GiB; a longer field cannot come from a policy.
        self.u32(u32::try_from(n).expect("blob field longer than 4 GiB"));
    }
}

/// Reads encoded values from a byte slice, never past its end.
pub struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Reads `bytes`; errors name `what`.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { rest: bytes, what }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(malformed(self.what, "trailing bytes"))
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated { what: self.what });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    /// A little-endian `u16`.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
    /// A boolean; any byte but 0 or 1 is refused.
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(malformed(self.what, format!("boolean byte {other}"))),
        }
    }
    /// Length-prefixed bytes.
    pub fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    /// A length-prefixed UTF-8 string without NUL bytes (every string ends up in a path,
    /// an argument or the environment, where NUL would cut it short).
    pub fn str(&mut self) -> Result<String, DecodeError> {
        let bytes = self.bytes()?;
        if bytes.contains(&0) {
            return Err(malformed(self.what, "string holds a NUL byte"));
        }
        String::from_utf8(bytes).map_err(|_| malformed(self.what, "string is not UTF-8"))
    }
    /// A list of items.
    pub fn list<T: Wire>(&mut self) -> Result<Vec<T>, DecodeError> {
        let n = self.u32()? as usize;
        // Every item takes at least one byte, so a count above what remains is a lie.
        if n > self.rest.len() {
            return Err(DecodeError::Truncated { what: self.what });
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(T::get(self)?);
        }
        Ok(items)
    }
    /// An option.
    pub fn option<T: Wire>(&mut self) -> Result<Option<T>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::get(self)?)),
            other => Err(malformed(self.what, format!("option byte {other}"))),
        }
    }
    /// A one-byte enum tag, refused when it is not below `count`.
    pub fn tag(&mut self, count: u8) -> Result<u8, DecodeError> {
        let tag = self.u8()?;
        if tag < count {
            Ok(tag)
        } else {
            Err(malformed(self.what, format!("unknown tag {tag}")))
        }
    }
    /// The section or field name used in errors.
    pub fn what(&self) -> &'static str {
        self.what
    }
}

/// A value with a byte encoding.
pub trait Wire: Sized {
    /// Appends the encoding.
    fn put(&self, w: &mut Writer);
    /// Reads one value, validating it.
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

impl Wire for String {
    fn put(&self, w: &mut Writer) {
        w.str(self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.str()
    }
}

impl Wire for u64 {
    fn put(&self, w: &mut Writer) {
        w.u64(*self);
    }
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u64()
    }
}
