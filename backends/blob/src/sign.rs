//! Signed blobs: Ed25519 keys in a one-line text form, the signature section, and the
//! trust check a launcher makes before anything else.
//!
//! # The signature section
//!
//! A signed blob is an ordinary blob (minor version 1 and later) whose *last* section has tag
//! [`SIGNATURE_TAG`] (`0xFFFF`, so it stays last whatever sections later versions add)
//! and a 73-byte body: one algorithm byte (1: Ed25519), the signer's 8-byte key id, and the
//! 64-byte signature. Decoders that predate it skip the unknown tag, as the format's rules
//! require, so a signed blob stays one file that every decoder reads.
//!
//! The signed message is [`DOMAIN`], then the header's first 40 bytes (magic, versions,
//! architecture, compiler version, payload length), then the whole payload with the 64
//! signature bytes set to zero. It covers every byte of the file but the checksum (which
//! is derived from the rest) and the signature itself, so header, sections and the key id
//! are all signed. Ed25519 signatures are deterministic: the same key and blob give the
//! same bytes.
//!
//! # Keys
//!
//! * public: `portcullis-ed25519 KEYID BASE64 [expires=YYYY-MM-DD] [comment…]` on one line;
//! * secret: `portcullis-ed25519-secret KEYID BASE64-SEED` (the file is written 0600).
//!
//! `KEYID` is the first 8 bytes of the SHA-256 of the public key, in hex.
//!
//! # Trust
//!
//! [`Trust::load`] reads public-key files, or directories of `*.pub` files, and a
//! `revoked` file in a directory (one `KEYID [reason]` a line). A blob is vouched for
//! when it is signed, the signature verifies (strictly) over the message above, and the
//! key is known, not revoked and not expired ([`Trust::check`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::blob::{Blob, HEADER_LEN};
use crate::sha256;
use crate::wire::DecodeError;

/// The tag of the signature section (always the last section).
pub const SIGNATURE_TAG: u16 = 0xFFFF;
/// The algorithm byte for Ed25519.
const ED25519: u8 = 1;
/// Algorithm byte, key id, signature.
const BODY_LEN: usize = 1 + 8 + 64;
/// Tag, length and body of the signature section.
const SECTION_LEN: usize = 2 + 4 + BODY_LEN;
/// What every signed message starts with, so that a signature over a blob can never be
/// taken for a signature over anything else.
pub const DOMAIN: &[u8] = b"portcullis blob signature v1\0";

const PUBLIC_WORD: &str = "portcullis-ed25519";
const SECRET_WORD: &str = "portcullis-ed25519-secret";

/// A key id: the first 8 bytes of the SHA-256 of the public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    fn of(key: &VerifyingKey) -> KeyId {
        let digest = sha256::digest(&[key.as_bytes()]);
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        KeyId(id)
    }

    fn parse(text: &str) -> Option<KeyId> {
        if text.len() != 16 {
            return None;
        }
        let mut id = [0u8; 8];
        for (i, slot) in id.iter_mut().enumerate() {
            *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(KeyId(id))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sha256::hex(&self.0))
    }
}

/// Why a key, a trust source or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// A key line or file that cannot be read as a key.
    BadKey(String),
    /// A trust source that cannot be read or holds no key.
    BadTrust(String),
    /// The blob has no signature.
    Unsigned,
    /// Signed by a key that is not trusted here.
    UnknownKey(KeyId),
    /// The signature does not match the content: altered after signing.
    BadSignature(KeyId),
    /// Signed by a key on the revocation list.
    Revoked(KeyId, String),
    /// Signed by a key past its expiry date.
    Expired(KeyId, String),
    /// The blob is already signed (signing twice is refused).
    AlreadySigned(KeyId),
    /// The signature section is not well formed.
    Malformed(String),
    /// The blob itself does not decode.
    Blob(DecodeError),
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::BadKey(why) => write!(f, "not a portcullis key: {why}"),
            SignError::BadTrust(why) => write!(f, "{why}"),
            SignError::Unsigned => f.write_str("the blob is not signed"),
            SignError::UnknownKey(id) => {
                write!(
                    f,
                    "the blob is signed by key {id}, which is not trusted here"
                )
            }
            SignError::BadSignature(id) => write!(
                f,
                "the signature by key {id} does not match the blob: it was altered after signing"
            ),
            SignError::Revoked(id, why) => write!(f, "key {id} is revoked ({why})"),
            SignError::Expired(id, date) => write!(f, "key {id} expired on {date}"),
            SignError::AlreadySigned(id) => write!(f, "the blob is already signed by key {id}"),
            SignError::Malformed(why) => write!(f, "malformed signature section: {why}"),
            SignError::Blob(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for SignError {}

/// A public key that may vouch for blobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// Its id.
    pub id: KeyId,
    key: VerifyingKey,
    /// The last day it is valid (`expires=YYYY-MM-DD`), as days since 1970-01-01.
    pub expires: Option<i64>,
    /// Free text after the key (who it belongs to).
    pub comment: String,
}

impl PublicKey {
    /// Parses one public-key line.
    pub fn parse(line: &str) -> Result<PublicKey, SignError> {
        let mut words = line.split_whitespace();
        let bad = |why: &str| SignError::BadKey(why.to_string());
        if words.next() != Some(PUBLIC_WORD) {
            return Err(bad(&format!(
                "a public key line starts with `{PUBLIC_WORD}`"
            )));
        }
        let id = words
            .next()
            .and_then(KeyId::parse)
            .ok_or_else(|| bad("the key id is 16 hex digits"))?;
        let bytes = words
            .next()
            .and_then(base64::decode)
            .ok_or_else(|| bad("the key is not base64"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad("an Ed25519 public key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not an Ed25519 point"))?;
        if KeyId::of(&key) != id {
            return Err(bad("the key id does not match the key"));
        }
        let mut expires = None;
        let mut comment = Vec::new();
        // `expires=` is read wherever it stands (an administrator appending it after the
        // comment must not see it silently become part of the comment); twice is an error.
        for word in words {
            match word.strip_prefix("expires=") {
                Some(_) if expires.is_some() => return Err(bad("`expires=` is given twice")),
                Some(date) => {
                    expires = Some(
                        days_from_date(date)
                            .ok_or_else(|| bad("`expires=` takes a date YYYY-MM-DD"))?,
                    );
                }
                None => comment.push(word),
            }
        }
        Ok(PublicKey {
            id,
            key,
            expires,
            comment: comment.join(" "),
        })
    }

    /// The key's line.
    pub fn to_line(&self) -> String {
        let mut line = format!(
            "{PUBLIC_WORD} {} {}",
            self.id,
            base64::encode(self.key.as_bytes())
        );
        if let Some(days) = self.expires {
            line.push_str(&format!(" expires={}", date_from_days(days)));
        }
        if !self.comment.is_empty() {
            line.push(' ');
            line.push_str(&self.comment);
        }
        line
    }
}

/// A secret signing key.
pub struct SecretKey {
    id: KeyId,
    key: SigningKey,
}

impl SecretKey {
    /// A new key from 32 bytes of the kernel's random generator (`/dev/urandom`).
    pub fn generate() -> std::io::Result<SecretKey> {
        use std::io::Read;
        let mut seed = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
        Ok(SecretKey::from_seed(&seed))
    }

    /// The key for a 32-byte seed (RFC 8032's secret key).
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        let key = SigningKey::from_bytes(seed);
        SecretKey {
            id: KeyId::of(&key.verifying_key()),
            key,
        }
    }

    /// Parses a secret-key file's text.
    pub fn parse(text: &str) -> Result<SecretKey, SignError> {
        let bad = |why: &str| SignError::BadKey(why.to_string());
        let mut words = text.split_whitespace();
        if words.next() != Some(SECRET_WORD) {
            return Err(bad(&format!(
                "a secret key file starts with `{SECRET_WORD}`"
            )));
        }
        let id = words
            .next()
            .and_then(KeyId::parse)
            .ok_or_else(|| bad("the key id is 16 hex digits"))?;
        let seed: [u8; 32] = words
            .next()
            .and_then(base64::decode)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the seed is 32 bytes of base64"))?;
        let key = SecretKey::from_seed(&seed);
        if key.id != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(key)
    }

    /// The secret key file's text.
    pub fn to_text(&self) -> String {
        format!(
            "{SECRET_WORD} {} {}\n",
            self.id,
            base64::encode(&self.key.to_bytes())
        )
    }

    /// Its id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The public half, with `comment`.
    pub fn public(&self, comment: &str) -> PublicKey {
        PublicKey {
            id: self.id,
            key: self.key.verifying_key(),
            expires: None,
            comment: comment.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }
}

/// A signature found in a blob, with the message it must verify over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The signer's key id.
    pub key_id: KeyId,
    signature: [u8; 64],
    message: Vec<u8>,
}

/// The sections of a decodable blob's payload: `(tag, offset of the body in the file,
/// body length)`.
fn sections(bytes: &[u8]) -> Result<Vec<(u16, usize, usize)>, SignError> {
    Blob::decode(bytes).map_err(SignError::Blob)?;
    let mut out = Vec::new();
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        // The decoder has checked the table: each entry fits.
        let tag = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let len = u32::from_le_bytes([bytes[at + 2], bytes[at + 3], bytes[at + 4], bytes[at + 5]])
            as usize;
        out.push((tag, at + 6, len));
        at += 6 + len;
    }
    Ok(out)
}

/// The signature of a blob, if it has one. The blob must decode (checksum included).
pub fn find(bytes: &[u8]) -> Result<Option<Found>, SignError> {
    let sections = sections(bytes)?;
    let Some(position) = sections.iter().position(|s| s.0 == SIGNATURE_TAG) else {
        return Ok(None);
    };
    let (_, body, len) = sections[position];
    if position + 1 != sections.len() {
        return Err(SignError::Malformed("it is not the last section".into()));
    }
    if len != BODY_LEN {
        return Err(SignError::Malformed(format!(
            "{len} bytes instead of {BODY_LEN}"
        )));
    }
    if bytes[body] != ED25519 {
        return Err(SignError::Malformed(format!(
            "unknown algorithm {}",
            bytes[body]
        )));
    }
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&bytes[body + 1..body + 9]);
    let mut signature = [0u8; 64];
    signature.copy_from_slice(&bytes[body + 9..body + BODY_LEN]);
    let mut message = Vec::with_capacity(DOMAIN.len() + bytes.len());
    message.extend_from_slice(DOMAIN);
    message.extend_from_slice(&bytes[..HEADER_LEN - 32]);
    message.extend_from_slice(&bytes[HEADER_LEN..body + 9]);
    message.extend_from_slice(&[0u8; 64]);
    Ok(Some(Found {
        key_id: KeyId(key_id),
        signature,
        message,
    }))
}

/// Signs an unsigned blob with `key`: appends the signature section, updates the
/// payload length and the checksum.
pub fn sign(unsigned: &[u8], key: &SecretKey) -> Result<Vec<u8>, SignError> {
    if let Some(found) = find(unsigned)? {
        return Err(SignError::AlreadySigned(found.key_id));
    }
    let mut out = unsigned[..HEADER_LEN - 32].to_vec();
    let mut payload = unsigned[HEADER_LEN..].to_vec();
    payload.extend_from_slice(&SIGNATURE_TAG.to_le_bytes());
    payload.extend_from_slice(&(BODY_LEN as u32).to_le_bytes());
    payload.push(ED25519);
    payload.extend_from_slice(&key.id.0);
    let signature_at = payload.len();
    payload.extend_from_slice(&[0u8; 64]);
    // The payload length grows by the section (the minor version, 1 since the format
    // defines the signature section, is the encoder's).
    out[32..40].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    let message = [DOMAIN, &out, &payload].concat();
    let signature = key.key.sign(&message).to_bytes();
    payload[signature_at..].copy_from_slice(&signature);
    let checksum = sha256::digest(&[&out, &payload]);
    out.extend_from_slice(&checksum);
    out.extend_from_slice(&payload);
    debug_assert_eq!(out.len(), unsigned.len() + SECTION_LEN);
    Ok(out)
}

/// The keys a launcher trusts, and the revoked ones.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// Trusted keys by id.
    pub keys: BTreeMap<KeyId, PublicKey>,
    /// Revoked key ids, with the reason given.
    pub revoked: BTreeMap<KeyId, String>,
}

/// What vouched for a blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vouched {
    /// The signer.
    pub key: PublicKey,
}

impl Trust {
    /// Adds the keys of `path`: a public-key file (one key a line, `#` comments), or a
    /// directory whose `*.pub` files are read and whose `revoked` file lists revoked keys.
    /// Returns how many keys it added.
    pub fn add(&mut self, path: &Path) -> Result<usize, SignError> {
        let unreadable =
            |e: std::io::Error| SignError::BadTrust(format!("`{}`: {e}", path.display()));
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if !meta.is_dir() {
            return self.add_file(path);
        }
        let mut names: Vec<_> = std::fs::read_dir(path)
            .map_err(unreadable)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        names.sort();
        let mut added = 0;
        for file in &names {
            if file.extension().is_some_and(|e| e == "pub") {
                added += self.add_file(file)?;
            }
        }
        let revoked = path.join("revoked");
        if revoked.exists() {
            let text = std::fs::read_to_string(&revoked).map_err(unreadable)?;
            for (n, line) in lines(&text) {
                let mut words = line.split_whitespace();
                let id = words.next().and_then(KeyId::parse).ok_or_else(|| {
                    SignError::BadTrust(format!(
                        "`{}` line {n}: expected a 16-hex-digit key id",
                        revoked.display()
                    ))
                })?;
                let reason = words.collect::<Vec<_>>().join(" ");
                self.revoked.insert(
                    id,
                    if reason.is_empty() {
                        "revoked".into()
                    } else {
                        reason
                    },
                );
            }
        }
        Ok(added)
    }

    fn add_file(&mut self, file: &Path) -> Result<usize, SignError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| SignError::BadTrust(format!("`{}`: {e}", file.display())))?;
        let mut added = 0;
        for (n, line) in lines(&text) {
            let key = PublicKey::parse(line)
                .map_err(|e| SignError::BadTrust(format!("`{}` line {n}: {e}", file.display())))?;
            // The same key listed twice keeps its earliest expiry: a later file without
            // one never lifts it.
            let mut key = key;
            key.expires = match (self.keys.get(&key.id).and_then(|k| k.expires), key.expires) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.keys.insert(key.id, key);
            added += 1;
        }
        Ok(added)
    }

    /// Whether any key is trusted (then every blob must be signed by one).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks that `bytes` are signed by a trusted key that is neither revoked nor expired
    /// on `today` (days since 1970-01-01), and that the signature matches every byte.
    pub fn check(&self, bytes: &[u8], today: i64) -> Result<Vouched, SignError> {
        let found = find(bytes)?.ok_or(SignError::Unsigned)?;
        let id = found.key_id;
        if let Some(reason) = self.revoked.get(&id) {
            return Err(SignError::Revoked(id, reason.clone()));
        }
        let key = self.keys.get(&id).ok_or(SignError::UnknownKey(id))?;
        let signature = ed25519_dalek::Signature::from_bytes(&found.signature);
        key.key
            .verify_strict(&found.message, &signature)
            .map_err(|_| SignError::BadSignature(id))?;
        if let Some(last) = key.expires {
            if today > last {
                return Err(SignError::Expired(id, date_from_days(last)));
            }
        }
        Ok(Vouched { key: key.clone() })
    }
}

/// Today, as days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs / 86_400) as i64
}

/// Numbered lines that are neither blank nor `#` comments.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Days since 1970-01-01 of a proleptic Gregorian `YYYY-MM-DD`.
fn days_from_date(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let last = month_days.get((m - 1) as usize)? + i64::from(m == 2 && leap);
    if !(1..=12).contains(&m) || d < 1 || d > last {
        return None;
    }
    // Shift the year to start in March, so that the leap day is the year's last day.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (m + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// `YYYY-MM-DD` of days since 1970-01-01.
fn date_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let d = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let m = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let y = year_of_era + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Standard base64 (RFC 4648, with padding), strict on decoding.
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let bytes = text.as_bytes();
        if bytes.len() % 4 != 0 {
            return None;
        }
        let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
        for (index, chunk) in bytes.chunks(4).enumerate() {
            let last = index + 1 == bytes.len() / 4;
            let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 || (pad > 0 && !last) {
                return None;
            }
            let mut n = 0u32;
            for &c in &chunk[..4 - pad] {
                let v = ALPHABET.iter().position(|&a| a == c)? as u32;
                n = (n << 6) | v;
            }
            n <<= 6 * pad as u32;
            let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            // Non-zero bits under the padding make the encoding ambiguous: refused.
            if decoded[3 - pad..].iter().any(|&b| b != 0) {
                return None;
            }
            out.extend_from_slice(&decoded[..3 - pad]);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests;
