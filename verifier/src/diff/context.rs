//! Changes in Flatpak's context: bitsets, filesystems, bus names, generic policy, USB
//! queries, persist and environment.

use std::collections::{BTreeMap, BTreeSet};

use portcullis_ir::context::{Context, Device, Feature, Setting, Socket};
use portcullis_ir::dbus::{BusName, BusPolicy};
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::Origin;

use super::{Change, Class};

pub(super) fn change(
    item: String,
    old: Option<String>,
    new: Option<String>,
    class: Class,
) -> Change {
    Change {
        item,
        old,
        new,
        class,
        flatpak_escalation: false,
        risk_before: None,
        risk_after: None,
        note: None,
        origin: None,
        in_new: true,
    }
}

fn on<K: Ord>(map: &BTreeMap<K, Setting>, k: &K) -> Option<Origin> {
    map.get(k).filter(|s| s.enabled).map(|s| s.origin)
}

fn bits<K: Ord + Copy + std::fmt::Display>(
    word: &str,
    all: &[K],
    old: &BTreeMap<K, Setting>,
    new: &BTreeMap<K, Setting>,
    out: &mut Vec<Change>,
    tweak: impl Fn(K, &mut Change),
) {
    for k in all {
        let (was, is) = (on(old, k), on(new, k));
        let mut c = match (was, is) {
            (None, Some(o)) => {
                let mut c = change(
                    format!("{word} {k}"),
                    None,
                    Some("granted".into()),
                    Class::Escalation,
                );
                c.flatpak_escalation = true;
                c.origin = Some(o);
                c
            }
            (Some(o), None) => {
                let mut c = change(
                    format!("{word} {k}"),
                    Some("granted".into()),
                    None,
                    Class::Reduction,
                );
                c.origin = Some(o);
                c.in_new = false;
                c
            }
            _ => continue,
        };
        tweak(*k, &mut c);
        out.push(c);
    }
}

pub(super) fn changes(old: &Context, new: &Context) -> Vec<Change> {
    let mut out = Vec::new();
    bits(
        "share",
        portcullis_ir::context::Share::ALL,
        &old.shares,
        &new.shares,
        &mut out,
        |_, _| {},
    );
    bits(
        "socket",
        Socket::ALL,
        &old.sockets,
        &new.sockets,
        &mut out,
        |s, c| {
            if s == Socket::FallbackX11
                && c.class == Class::Escalation
                && old.has_socket(Socket::X11)
            {
                c.class = Class::Reduction;
                c.flatpak_escalation = false;
                c.note =
                    Some("with `fallback-x11`, X11 is only used when there is no Wayland".into());
            }
            if s == Socket::FallbackX11 && c.old.is_some() && new.has_socket(Socket::X11) {
                c.class = Class::Escalation;
                c.note =
                    Some("without `fallback-x11`, X11 is bound on Wayland sessions too".into());
            }
        },
    );
    bits(
        "device",
        Device::ALL,
        &old.devices,
        &new.devices,
        &mut out,
        |d, c| {
            let all = |ctx: &Context| ctx.has_device(Device::All);
            if d != Device::All && d != Device::Shm && all(old) && all(new) {
                c.class = Class::Neutral;
                c.note = Some("`device=all` already includes it".into());
            }
        },
    );
    bits(
        "allow",
        Feature::ALL,
        &old.features,
        &new.features,
        &mut out,
        |f, c| {
            if matches!(f, Feature::Multiarch | Feature::PerAppDevShm) {
                c.flatpak_escalation = false;
                c.class = Class::Neutral;
                c.note = Some("Flatpak treats this feature as harmless".into());
            }
        },
    );
    filesystems(old, new, &mut out);
    for (word, a, b) in [
        ("session", &old.session_bus, &new.session_bus),
        ("system", &old.system_bus, &new.system_bus),
        ("a11y", &old.a11y_bus, &new.a11y_bus),
    ] {
        bus(word, a, b, &mut out);
    }
    generic(old, new, &mut out);
    sets(
        "usb",
        &old.usb_enumerable,
        &new.usb_enumerable,
        Class::Escalation,
        &mut out,
    );
    sets(
        "nousb",
        &old.usb_hidden,
        &new.usb_hidden,
        Class::Reduction,
        &mut out,
    );
    let old_p: BTreeSet<_> = old.persistent.keys().cloned().collect();
    let new_p: BTreeSet<_> = new.persistent.keys().cloned().collect();
    for p in new_p.symmetric_difference(&old_p) {
        let added = new_p.contains(p);
        let mut c = change(
            format!("persist {p}"),
            (!added).then(|| "persisted".into()),
            added.then(|| "persisted".into()),
            Class::Neutral,
        );
        c.note = Some("persist maps a directory of the app's own data".into());
        out.push(c);
    }
    env(old, new, &mut out);
    out
}

fn mode_word(m: FsMode) -> Option<String> {
    match m {
        FsMode::None => None,
        FsMode::Ro => Some("ro".into()),
        FsMode::Rw => Some("rw".into()),
        FsMode::Create => Some("create".into()),
    }
}

/// Whether `cover` (a key of the old policy) includes the place `key` names.
fn covers(cover: &FsKey, key: &FsKey) -> bool {
    let under_home = matches!(key, FsKey::HomePath(_) | FsKey::Xdg { .. });
    match cover {
        FsKey::Host => under_home || matches!(key, FsKey::Home | FsKey::HostOs | FsKey::HostEtc),
        FsKey::Home => under_home,
        FsKey::HomePath(base) => {
            matches!(key, FsKey::HomePath(p) if p.starts_with(base.as_str()) && p.as_bytes().get(base.len()) == Some(&b'/'))
        }
        FsKey::Absolute(base) => {
            matches!(key, FsKey::Absolute(p) if p.starts_with(base.as_str()) && p.as_bytes().get(base.len()) == Some(&b'/'))
        }
        FsKey::Xdg { dir, sub: None } => {
            matches!(key, FsKey::Xdg { dir: d, sub: Some(_) } if d == dir)
        }
        _ => false,
    }
}

fn filesystems(old: &Context, new: &Context, out: &mut Vec<Change>) {
    let keys: BTreeSet<&FsKey> = old
        .filesystems
        .keys()
        .chain(new.filesystems.keys())
        .collect();
    let old_host = old.fs_mode(&FsKey::Host);
    for key in keys {
        if *key == FsKey::HostReset {
            continue;
        }
        let (was, is) = (old.fs_mode(key), new.fs_mode(key));
        if was == is {
            continue;
        }
        let item = format!("filesystem {key}");
        let mut c = change(item, mode_word(was), mode_word(is), Class::Neutral);
        if is > was {
            c.class = Class::Escalation;
            c.flatpak_escalation = is > old_host;
            c.origin = new.filesystems.get(key).map(|e| e.origin);
            if is == FsMode::Create && was == FsMode::Rw {
                c.class = Class::Neutral;
                c.note = Some("`create` only makes the directory on the host first".into());
            } else if let Some((cover, _)) = old
                .filesystems
                .iter()
                .find(|(k, e)| e.mode >= is && covers(k, key))
            {
                c.class = Class::Neutral;
                c.note = Some(format!(
                    "already covered by `{cover}`; Flatpak still counts it because the path could be a symlink"
                ));
            }
        } else {
            c.class = Class::Reduction;
            c.origin = old.filesystems.get(key).map(|e| e.origin);
            c.in_new = false;
            if let Some((cover, _)) = new
                .filesystems
                .iter()
                .find(|(k, e)| e.mode >= was && covers(k, key))
            {
                c.class = Class::Neutral;
                c.note = Some(format!("still covered by `{cover}`"));
            } else if was == FsMode::Create && is == FsMode::Rw {
                c.class = Class::Neutral;
                c.note = Some("`create` only makes the directory on the host first".into());
            }
        }
        out.push(c);
    }
}

fn level(map: &BTreeMap<BusName, portcullis_ir::context::BusEntry>, name: &BusName) -> BusPolicy {
    map.get(name).map(|e| e.policy).unwrap_or(BusPolicy::None)
}

fn bus(
    word: &str,
    old: &BTreeMap<BusName, portcullis_ir::context::BusEntry>,
    new: &BTreeMap<BusName, portcullis_ir::context::BusEntry>,
    out: &mut Vec<Change>,
) {
    let names: BTreeSet<&BusName> = old.keys().chain(new.keys()).collect();
    let prefix = match word {
        "session" => "",
        "system" => "system-",
        _ => "a11y-",
    };
    for name in names {
        let (was, is) = (level(old, name), level(new, name));
        if was == is {
            continue;
        }
        let word_of = |p: BusPolicy| (p != BusPolicy::None).then(|| p.name().to_string());
        let item = format!("{prefix}talk-name {name}");
        let mut c = change(item, word_of(was), word_of(is), Class::Escalation);
        if is > was {
            c.flatpak_escalation = true;
            c.origin = new.get(name).map(|e| e.origin);
            let wider = old.iter().find(|(n, e)| {
                *n != name && e.policy >= is && n.covers(name.as_str().trim_end_matches(".*"))
            });
            if let Some((cover, _)) = wider {
                c.class = Class::Neutral;
                c.note = Some(format!("already covered by `{cover}`"));
            }
        } else {
            c.class = Class::Reduction;
            c.origin = old.get(name).map(|e| e.origin);
            c.in_new = false;
        }
        out.push(c);
    }
}

fn generic(old: &Context, new: &Context, out: &mut Vec<Change>) {
    let values = |ctx: &Context| -> BTreeSet<(String, String, bool)> {
        ctx.generic_policy
            .iter()
            .flat_map(|(k, vs)| {
                vs.iter()
                    .map(move |v| (k.clone(), v.value.clone(), v.removed))
            })
            .collect()
    };
    let (a, b) = (values(old), values(new));
    for (key, value, removed) in b.difference(&a) {
        let mut c = change(
            format!("policy {key}"),
            None,
            Some(if *removed {
                format!("!{value}")
            } else {
                value.clone()
            }),
            if *removed {
                Class::Reduction
            } else {
                Class::Escalation
            },
        );
        c.flatpak_escalation = true;
        out.push(c);
    }
    for (key, value, removed) in a.difference(&b) {
        let mut c = change(
            format!("policy {key}"),
            Some(if *removed {
                format!("!{value}")
            } else {
                value.clone()
            }),
            None,
            if *removed {
                Class::Escalation
            } else {
                Class::Reduction
            },
        );
        c.in_new = false;
        out.push(c);
    }
}

fn sets(
    word: &str,
    old: &BTreeSet<String>,
    new: &BTreeSet<String>,
    added: Class,
    out: &mut Vec<Change>,
) {
    let flip = |k: Class| {
        if k == Class::Escalation {
            Class::Reduction
        } else {
            Class::Escalation
        }
    };
    for q in new.difference(old) {
        let mut c = change(format!("{word} {q}"), None, Some("listed".into()), added);
        c.flatpak_escalation = added == Class::Escalation;
        out.push(c);
    }
    for q in old.difference(new) {
        let mut c = change(
            format!("{word} {q}"),
            Some("listed".into()),
            None,
            flip(added),
        );
        c.flatpak_escalation = added != Class::Escalation;
        c.in_new = false;
        out.push(c);
    }
}

fn env(old: &Context, new: &Context, out: &mut Vec<Change>) {
    let names: BTreeSet<&String> = old.env.keys().chain(new.env.keys()).collect();
    for name in names {
        let value = |ctx: &Context| ctx.env.get(name).and_then(|e| e.value.clone());
        let (was, is) = (value(old), value(new));
        if was == is {
            continue;
        }
        let mut c = change(format!("env {name}"), was, is, Class::Neutral);
        c.note = Some("environment variables are not sandbox permissions".into());
        c.origin = new.env.get(name).map(|e| e.origin);
        out.push(c);
    }
}
