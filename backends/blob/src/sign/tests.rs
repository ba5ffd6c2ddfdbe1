//! Signing, key text forms, the trust check, and the date and base64 helpers.

use super::*;
use crate::blob::{Arch, Blob, Namespaces, SockFilter};
use crate::mounts::{MountOp, PathExpr};

fn blob() -> Vec<u8> {
    Blob {
        arch: Arch::X86_64,
        compiler_version: "0.1.0".into(),
        app_id: "org.test.Signed".into(),
        policy: br#"{"identity":{}}"#.to_vec(),
        namespaces: Namespaces {
            ipc: true,
            net: true,
        },
        mounts: vec![MountOp::Tmpfs {
            dest: PathExpr::new("/tmp"),
            mode: 0o1777,
        }],
        seccomp: vec![SockFilter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: 0x7fff_0000,
        }],
        env: Vec::new(),
        landlock: Default::default(),
        limits: Default::default(),
        dbus: Default::default(),
        device_nodes: Vec::new(),
    }
    .encode()
}

fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

fn trust(keys: &[&SecretKey]) -> Trust {
    let mut trust = Trust::default();
    for k in keys {
        let public = k.public("test");
        trust.keys.insert(public.id, public);
    }
    trust
}

/// Recomputes the checksum after an edit, as an attacker who can write the file would.
fn rechecksum(bytes: &mut [u8]) {
    let sum = sha256::digest(&[&bytes[..HEADER_LEN - 32], &bytes[HEADER_LEN..]]);
    bytes[HEADER_LEN - 32..HEADER_LEN].copy_from_slice(&sum);
}

#[test]
fn a_signed_blob_decodes_as_before_and_verifies() {
    let unsigned = blob();
    let signed = sign(&unsigned, &key(1)).unwrap();
    assert_eq!(signed.len(), unsigned.len() + SECTION_LEN);
    // Every decoder reads it (the section is skipped), to the same blob.
    assert_eq!(
        Blob::decode(&signed).unwrap(),
        Blob::decode(&unsigned).unwrap()
    );
    let vouched = trust(&[&key(1)]).check(&signed, 0).unwrap();
    assert_eq!(vouched.key.id, key(1).id());
    // Deterministic: same key and blob, same bytes.
    assert_eq!(sign(&unsigned, &key(1)).unwrap(), signed);
    assert_ne!(sign(&unsigned, &key(2)).unwrap(), signed);
    assert_eq!(
        sign(&signed, &key(1)).unwrap_err(),
        SignError::AlreadySigned(key(1).id())
    );
}

#[test]
fn every_altered_byte_is_refused() {
    let signed = sign(&blob(), &key(1)).unwrap();
    let trust = trust(&[&key(1)]);
    for at in 0..signed.len() {
        if (HEADER_LEN - 32..HEADER_LEN).contains(&at) {
            continue; // the checksum itself: derived, checked by the decoder
        }
        let mut edited = signed.clone();
        edited[at] ^= 0x01;
        // The plain edit fails the checksum.
        assert!(trust.check(&edited, 0).is_err(), "byte {at}");
        // Recomputing the checksum does not help.
        rechecksum(&mut edited);
        let err = trust.check(&edited, 0).unwrap_err();
        assert!(
            matches!(
                err,
                SignError::BadSignature(_)
                    | SignError::UnknownKey(_)
                    | SignError::Malformed(_)
                    | SignError::Blob(_)
                    | SignError::Unsigned
            ),
            "byte {at}: {err}"
        );
    }
    let mut flipped_signature = signed.clone();
    let last = flipped_signature.len() - 1;
    flipped_signature[last] ^= 0x80;
    rechecksum(&mut flipped_signature);
    assert_eq!(
        trust.check(&flipped_signature, 0).unwrap_err(),
        SignError::BadSignature(key(1).id())
    );
}

#[test]
fn unsigned_untrusted_revoked_and_expired_are_refused() {
    let unsigned = blob();
    let signed = sign(&unsigned, &key(2)).unwrap();
    let mut trust = trust(&[&key(1)]);
    assert_eq!(trust.check(&unsigned, 0).unwrap_err(), SignError::Unsigned);
    assert_eq!(
        trust.check(&signed, 0).unwrap_err(),
        SignError::UnknownKey(key(2).id())
    );
    let mut public = key(2).public("ci");
    public.expires = days_from_date("2026-01-31");
    trust.keys.insert(public.id, public);
    let jan31 = days_from_date("2026-01-31").unwrap();
    assert!(trust.check(&signed, jan31).is_ok(), "valid on its last day");
    assert_eq!(
        trust.check(&signed, jan31 + 1).unwrap_err(),
        SignError::Expired(key(2).id(), "2026-01-31".into())
    );
    trust.revoked.insert(key(2).id(), "leaked".into());
    assert_eq!(
        trust.check(&signed, 0).unwrap_err(),
        SignError::Revoked(key(2).id(), "leaked".into())
    );
}

#[test]
fn keys_round_trip_through_their_text() {
    let secret = key(7);
    let again = SecretKey::parse(&secret.to_text()).unwrap();
    assert_eq!(again.id(), secret.id());
    let public = secret.public("integrator  CI key");
    let line = public.to_line();
    assert!(line.starts_with("portcullis-ed25519 "), "{line}");
    assert!(line.ends_with(" integrator CI key"), "{line}");
    assert_eq!(PublicKey::parse(&line).unwrap(), public);
    let mut dated = public.clone();
    dated.expires = Some(days_from_date("2030-02-28").unwrap());
    assert!(dated.to_line().contains(" expires=2030-02-28 "));
    assert_eq!(PublicKey::parse(&dated.to_line()).unwrap(), dated);
    // A wrong id, a bad key, a bad date.
    let other = key(8).public("").to_line();
    let swapped = format!(
        "portcullis-ed25519 {} {}",
        other.split(' ').nth(1).unwrap(),
        line.split(' ').nth(2).unwrap()
    );
    assert!(PublicKey::parse(&swapped).is_err());
    assert!(PublicKey::parse("portcullis-ed25519 0011223344556677 !!!!").is_err());
    // `expires=` after the comment is still the expiry, never comment text.
    let appended = PublicKey::parse(&format!("{} expires=2030-02-28", public.to_line())).unwrap();
    assert_eq!(appended.expires, days_from_date("2030-02-28"));
    assert_eq!(appended.comment, "integrator CI key");
    assert!(PublicKey::parse(&format!("{} expires=2030-02-30", public.to_line())).is_err());
    assert!(PublicKey::parse(&format!(
        "{} expires=2030-02-28 expires=2031-01-01",
        public.to_line()
    ))
    .is_err());
    let bad_date = format!(
        "portcullis-ed25519 {} {} expires=2030-02-30",
        public.id,
        line.split(' ').nth(2).unwrap()
    );
    assert!(PublicKey::parse(&bad_date).is_err());
    assert!(SecretKey::parse(&public.to_line()).is_err());
}

#[test]
fn trust_directories_read_pub_files_and_the_revocation_list() {
    let dir = std::env::temp_dir().join(format!("portcullis-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.pub"),
        format!("# CI\n{}\n", key(1).public("a").to_line()),
    )
    .unwrap();
    std::fs::write(dir.join("b.pub"), key(2).public("b").to_line()).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a key").unwrap();
    std::fs::write(
        dir.join("revoked"),
        format!("{} lost laptop\n", key(2).id()),
    )
    .unwrap();
    let mut trust = Trust::default();
    assert_eq!(trust.add(&dir).unwrap(), 2);
    assert_eq!(
        trust.revoked.get(&key(2).id()).map(String::as_str),
        Some("lost laptop")
    );
    // The same key again without an expiry never lifts the first file's.
    std::fs::write(
        dir.join("a.pub"),
        format!("{} expires=2020-01-01\n", key(1).public("a").to_line()),
    )
    .unwrap();
    std::fs::write(dir.join("z.pub"), key(1).public("again").to_line()).unwrap();
    let mut dated = Trust::default();
    dated.add(&dir).unwrap();
    assert_eq!(
        dated.keys[&key(1).id()].expires,
        days_from_date("2020-01-01")
    );
    std::fs::remove_file(dir.join("z.pub")).unwrap();
    std::fs::write(dir.join("c.pub"), "portcullis-ed25519 nonsense").unwrap();
    let err = Trust::default().add(&dir).unwrap_err().to_string();
    assert!(err.contains("c.pub") && err.contains("line 1"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dates_and_base64_are_exact() {
    assert_eq!(days_from_date("1970-01-01"), Some(0));
    assert_eq!(days_from_date("2000-03-01"), Some(11_017));
    assert_eq!(days_from_date("2024-02-29"), Some(19_782));
    assert_eq!(days_from_date("2023-02-29"), None);
    assert_eq!(days_from_date("2024-13-01"), None);
    for days in [-1000, 0, 59, 60, 11_016, 19_782, 20_000, 100_000] {
        assert_eq!(days_from_date(&date_from_days(days)), Some(days), "{days}");
    }
    for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
        let encoded = base64::encode(text.as_bytes());
        assert_eq!(base64::decode(&encoded).unwrap(), text.as_bytes());
    }
    assert_eq!(base64::encode(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64::encode(b"fo"), "Zm8=");
    assert_eq!(base64::decode("Zm9="), None, "bits under the padding");
    assert_eq!(base64::decode("Zm8"), None);
    assert_eq!(base64::decode("Z=8="), None);
}
