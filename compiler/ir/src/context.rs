//! Flatpak's permission context: bitsets with validity, filesystems, env, bus maps.
//!
//! Mirrors `FlatpakContext` (semantics §1.1). Enum variants are declared in Flatpak's bit
//! order, which is also its serialisation order, so iterating a `BTreeMap` keyed by them
//! yields Flatpak's order.

use std::collections::{BTreeMap, BTreeSet};

use crate::dbus::{BusName, BusPolicy};
use crate::fs::{FsKey, FsMode};
use crate::origin::Origin;

macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in Flatpak's bit order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word Flatpak uses for this value.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// Parses Flatpak's word; `None` for anything unknown.
            pub fn from_name(word: &str) -> Option<Self> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

word_enum! {
    /// `--share` values.
    Share { Network = "network", Ipc = "ipc" }
}

word_enum! {
    /// `--socket` values, in Flatpak's bit order.
    Socket {
        X11 = "x11",
        Wayland = "wayland",
        Pulseaudio = "pulseaudio",
        SessionBus = "session-bus",
        SystemBus = "system-bus",
        FallbackX11 = "fallback-x11",
        SshAuth = "ssh-auth",
        Pcsc = "pcsc",
        Cups = "cups",
        GpgAgent = "gpg-agent",
        /// Flatpak 1.15.7+.
        InheritWaylandSocket = "inherit-wayland-socket",
    }
}

word_enum! {
    /// `--device` values, in Flatpak's bit order.
    Device {
        Dri = "dri",
        All = "all",
        Kvm = "kvm",
        Shm = "shm",
        /// Flatpak 1.15.6+.
        Input = "input",
        /// Flatpak 1.15.11+.
        Usb = "usb",
    }
}

word_enum! {
    /// `--allow` values, in Flatpak's bit order.
    Feature {
        Devel = "devel",
        Multiarch = "multiarch",
        Bluetooth = "bluetooth",
        Canbus = "canbus",
        PerAppDevShm = "per-app-dev-shm",
    }
}

/// One bit of a bitset that a layer said something about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Setting {
    /// Granted (`--socket=x11`) or revoked (`--nosocket=x11`).
    pub enabled: bool,
    /// The statement that decided it last.
    pub origin: Origin,
}

/// A filesystem grant or revocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FsEntry {
    /// The mode; [`FsMode::None`] for `--nofilesystem`.
    pub mode: FsMode,
    /// The statement that decided it last.
    pub origin: Origin,
}

/// An environment entry: a value, or an explicit unset.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnvEntry {
    /// `Some(value)` for `--env=NAME=value` (possibly empty); `None` for `--unset-env`.
    pub value: Option<String>,
    /// The statement that decided it last.
    pub origin: Origin,
}

/// A D-Bus name rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BusEntry {
    /// The level; [`BusPolicy::None`] entries are kept (they are written back) but grant nothing.
    pub policy: BusPolicy,
    /// The statement that decided it last.
    pub origin: Origin,
}

/// One value of a generic `[Policy SUBSYSTEM]` list; `removed` for a `!value`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyValue {
    /// The value without `!`.
    pub value: String,
    /// Written as `!value` (`--remove-policy`).
    pub removed: bool,
    /// Where it was written.
    pub origin: Origin,
}

/// Flatpak's permission context after merging all layers of one policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Context {
    /// `--share` / `--unshare`.
    pub shares: BTreeMap<Share, Setting>,
    /// `--socket` / `--nosocket`.
    pub sockets: BTreeMap<Socket, Setting>,
    /// `--device` / `--nodevice`.
    pub devices: BTreeMap<Device, Setting>,
    /// `--allow` / `--disallow`.
    pub features: BTreeMap<Feature, Setting>,
    /// `--filesystem` / `--nofilesystem`, by normalised key.
    pub filesystems: BTreeMap<FsKey, FsEntry>,
    /// `--persist` paths (relative to home, leading `/` stripped).
    pub persistent: BTreeMap<String, Origin>,
    /// `--env` / `--unset-env`.
    pub env: BTreeMap<String, EnvEntry>,
    /// `[Session Bus Policy]`.
    pub session_bus: BTreeMap<BusName, BusEntry>,
    /// `[System Bus Policy]`.
    pub system_bus: BTreeMap<BusName, BusEntry>,
    /// `--a11y-own-name` (Flatpak 1.15.11+; never read back from a keyfile by Flatpak).
    pub a11y_bus: BTreeMap<BusName, BusEntry>,
    /// `[Policy SUBSYSTEM] KEY=…` lists, keyed by `SUBSYSTEM.KEY`, in list order.
    pub generic_policy: BTreeMap<String, Vec<PolicyValue>>,
    /// `--usb` enumerable queries (1.15.11+).
    pub usb_enumerable: BTreeSet<String>,
    /// `--nousb` hidden queries (1.15.11+).
    pub usb_hidden: BTreeSet<String>,
}

fn enabled<K: Ord>(map: &BTreeMap<K, Setting>, key: &K) -> bool {
    map.get(key).is_some_and(|s| s.enabled)
}

impl Context {
    /// Whether `share` is granted.
    pub fn has_share(&self, share: Share) -> bool {
        enabled(&self.shares, &share)
    }

    /// Whether the socket bit is set (before run-time rules such as fallback-x11).
    pub fn has_socket(&self, socket: Socket) -> bool {
        enabled(&self.sockets, &socket)
    }

    /// Whether the device bit is set (before `all` makes the others no-ops).
    pub fn has_device(&self, device: Device) -> bool {
        enabled(&self.devices, &device)
    }

    /// Whether the feature is allowed.
    pub fn has_feature(&self, feature: Feature) -> bool {
        enabled(&self.features, &feature)
    }

    /// The mode of one filesystem key ([`FsMode::None`] when absent).
    pub fn fs_mode(&self, key: &FsKey) -> FsMode {
        self.filesystems
            .get(key)
            .map(|e| e.mode)
            .unwrap_or(FsMode::None)
    }

    /// Flatpak's "home access": `home` or `host` with a mode above none. Persist entries
    /// are ignored when this holds.
    pub fn has_home_access(&self) -> bool {
        self.fs_mode(&FsKey::Home) > FsMode::None || self.fs_mode(&FsKey::Host) > FsMode::None
    }

    /// Merges `upper` over `self` with Flatpak's rules (`flatpak_context_merge`, §2.2):
    /// the upper layer decides every bit and key it mentions; `host-reset` in the upper
    /// layer first clears all lower filesystem keys; persist entries and USB queries are
    /// unions; generic policy values are re-applied with the list rule.
    pub fn merge(&mut self, upper: &Context) {
        for (k, v) in &upper.shares {
            self.shares.insert(*k, *v);
        }
        for (k, v) in &upper.sockets {
            self.sockets.insert(*k, *v);
        }
        for (k, v) in &upper.devices {
            self.devices.insert(*k, *v);
        }
        for (k, v) in &upper.features {
            self.features.insert(*k, *v);
        }
        if upper.filesystems.contains_key(&FsKey::HostReset) {
            self.filesystems.clear();
        }
        for (k, v) in &upper.filesystems {
            self.filesystems.insert(k.clone(), *v);
        }
        for (k, v) in &upper.persistent {
            self.persistent.entry(k.clone()).or_insert(*v);
        }
        for (k, v) in &upper.env {
            self.env.insert(k.clone(), v.clone());
        }
        for (k, v) in &upper.session_bus {
            self.session_bus.insert(k.clone(), *v);
        }
        for (k, v) in &upper.system_bus {
            self.system_bus.insert(k.clone(), *v);
        }
        for (k, v) in &upper.a11y_bus {
            self.a11y_bus.insert(k.clone(), *v);
        }
        for (key, values) in &upper.generic_policy {
            self.apply_generic_policies(key, values.iter().cloned());
        }
        self.usb_enumerable
            .extend(upper.usb_enumerable.iter().cloned());
        self.usb_hidden.extend(upper.usb_hidden.iter().cloned());
    }

    /// Flatpak's list rule for `[Policy …]` values (§1.11): drop any earlier `V` or `!V`,
    /// then append the new entry.
    pub fn apply_generic_policy(&mut self, key: &str, value: PolicyValue) {
        self.apply_generic_policies(key, [value]);
    }

    /// [`Context::apply_generic_policy`] for many values of one key in order, in linear
    /// time: the list keeps the last entry of each value, in the order of those entries.
    pub fn apply_generic_policies(
        &mut self,
        key: &str,
        values: impl IntoIterator<Item = PolicyValue>,
    ) {
        let list = self.generic_policy.entry(key.to_string()).or_default();
        list.extend(values);
        let mut seen = std::collections::HashSet::with_capacity(list.len());
        let mut keep: Vec<bool> = list
            .iter()
            .rev()
            .map(|v| seen.insert(v.value.clone()))
            .collect();
        keep.reverse();
        let mut keep = keep.into_iter();
        list.retain(|_| keep.next().unwrap_or(true));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(enabled: bool) -> Setting {
        Setting {
            enabled,
            origin: Origin::default(),
        }
    }

    fn fs(mode: FsMode) -> FsEntry {
        FsEntry {
            mode,
            origin: Origin::default(),
        }
    }

    #[test]
    fn upper_layer_decides_the_bits_it_mentions() {
        let mut base = Context::default();
        base.sockets.insert(Socket::X11, set(true));
        base.sockets.insert(Socket::Wayland, set(true));
        let mut upper = Context::default();
        upper.sockets.insert(Socket::X11, set(false));
        base.merge(&upper);
        assert!(!base.has_socket(Socket::X11));
        assert!(base.has_socket(Socket::Wayland));
    }

    #[test]
    fn host_reset_clears_lower_filesystems_m1() {
        // M-1: /one ; !host:reset /two ; !host /three
        let abs = |p: &str| FsKey::Absolute(p.to_string());
        let mut l1 = Context::default();
        l1.filesystems.insert(abs("/one"), fs(FsMode::Rw));
        let mut l2 = Context::default();
        l2.filesystems.insert(FsKey::HostReset, fs(FsMode::None));
        l2.filesystems.insert(FsKey::Host, fs(FsMode::None));
        l2.filesystems.insert(abs("/two"), fs(FsMode::Rw));
        let mut l3 = Context::default();
        l3.filesystems.insert(FsKey::Host, fs(FsMode::None));
        l3.filesystems.insert(abs("/three"), fs(FsMode::Rw));

        let mut left = l1.clone();
        left.merge(&l2);
        left.merge(&l3);
        let mut right_upper = l2.clone();
        right_upper.merge(&l3);
        let mut right = l1.clone();
        right.merge(&right_upper);
        for ctx in [&left, &right] {
            assert_eq!(ctx.fs_mode(&abs("/one")), FsMode::None);
            assert!(!ctx.filesystems.contains_key(&abs("/one")));
            assert_eq!(ctx.fs_mode(&abs("/two")), FsMode::Rw);
            assert_eq!(ctx.fs_mode(&abs("/three")), FsMode::Rw);
            assert!(ctx.filesystems.contains_key(&FsKey::HostReset));
        }
    }

    #[test]
    fn generic_policy_list_rule_m23() {
        let mut ctx = Context::default();
        let val = |v: &str, removed| PolicyValue {
            value: v.to_string(),
            removed,
            origin: Origin::default(),
        };
        ctx.apply_generic_policy("a.b", val("x", false));
        ctx.apply_generic_policy("a.b", val("x", true));
        assert_eq!(ctx.generic_policy["a.b"], vec![val("x", true)]);
        // Many at once: the last entry of each value, in the order of those entries.
        ctx.apply_generic_policies(
            "a.b",
            [
                val("y", false),
                val("x", false),
                val("z", false),
                val("y", true),
            ],
        );
        assert_eq!(
            ctx.generic_policy["a.b"],
            vec![val("x", false), val("z", false), val("y", true)]
        );
    }

    #[test]
    fn words_round_trip() {
        for s in Socket::ALL {
            assert_eq!(Socket::from_name(s.name()), Some(*s));
        }
        assert_eq!(Socket::from_name("foo"), None);
    }
}
