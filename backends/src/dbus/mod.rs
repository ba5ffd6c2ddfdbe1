//! D-Bus backend: the IR's bus grants as `xdg-dbus-proxy` arguments, per bus.
//!
//! Flatpak 1.14's rules (semantics §6), reproduced argument for argument:
//!
//! * **session**: `socket=session-bus` binds the host socket directly (no filtering);
//!   otherwise a proxy with `--filter`, the app's implicit own names (`APPID.*` and
//!   `org.mpris.MediaPlayer2.APPID.*`), one `--see`/`--talk`/`--own` per session-policy
//!   entry above `none` in GLib hash-table order ([`hash_order`]), then the portal rules;
//! * **system**: `socket=system-bus` binds the host socket directly; otherwise a proxy
//!   with `--filter` and the system-policy entries, but only when the system map has any
//!   entry (even a `none` one); otherwise no system bus at all;
//! * **accessibility**: a proxy with `--filter --sloppy-names` and Flatpak's fixed AT-SPI
//!   call rules; names granted with `a11y-own-name` (Flatpak 1.15.11+) add a second
//!   `--filter`, their `--own=` rules and the `APPID.Sandboxed.*` `Socket.Embedded` call.
//!
//! Beyond Flatpak, the policy's fine-grained rules (`beyond.bus_rules`) are appended to
//! their bus's proxy as `--call=NAME=RULE` / `--broadcast=NAME=RULE`; a system-bus rule
//! starts a system proxy on its own. On a direct (unfiltered) bus they have nothing to
//! restrict and are left out.
//!
//! Every argument carries [`Why`] it is there, for `emit --text` and `explain`. The blob
//! gets the bare arguments ([`DbusPlan::to_section`]); the host-dependent parts (bus
//! addresses, the proxy's socket, the sync fd) are the executor's.

pub mod hash_order;
mod rules;
pub mod text;

use portcullis_blob::dbus::{BusAccess, BusKind, BusRoute, DbusSection};
use portcullis_ir::{Origin, Policy};

pub use rules::{A11Y_CALLS, PORTAL_BROADCAST, PORTAL_CALL};

/// Why an argument is in the proxy's command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Why {
    /// `--filter` (only what the rules allow passes) and `--sloppy-names` (every unique
    /// name's changes are reported, which AT-SPI needs): how the proxy filters.
    Filtering,
    /// Implicit: the app may own its own id and everything below it.
    AppId,
    /// Implicit: the app may own its MPRIS media-player name.
    Mpris,
    /// Implicit: every app may call the portals and hear their broadcasts.
    Portal,
    /// Implicit: Flatpak's fixed AT-SPI rules on the accessibility bus.
    Accessibility,
    /// A name grant of the policy.
    Grant {
        /// Where it was written.
        origin: Origin,
    },
    /// A fine-grained rule of the policy (beyond Flatpak).
    Rule {
        /// Where it was written.
        origin: Origin,
    },
}

/// One proxy argument and the reason it is there.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ProxyArg {
    /// The argument as `xdg-dbus-proxy` reads it.
    pub arg: String,
    /// Why it is there.
    pub why: Why,
}

/// How one bus reaches the sandbox, with the reasons.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "access", rename_all = "kebab-case")]
pub enum Access {
    /// The host socket, unfiltered (`socket=session-bus` / `socket=system-bus`).
    Direct {
        /// The socket grant.
        origin: Origin,
    },
    /// Through `xdg-dbus-proxy` with these arguments.
    Proxy {
        /// Arguments after `ADDRESS PATH`.
        args: Vec<ProxyArg>,
    },
    /// The sandbox does not get this bus.
    Absent {
        /// Why not, in a few words.
        reason: String,
    },
}

/// One bus.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Route {
    /// Which bus.
    pub bus: BusKind,
    /// Where it appears in the sandbox (`/run/flatpak/bus`, …).
    pub socket: &'static str,
    /// How.
    #[serde(flatten)]
    pub access: Access,
}

/// The D-Bus artifact of a policy: session, system and accessibility bus, in that order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DbusPlan {
    /// One route per bus, absent ones included.
    pub routes: Vec<Route>,
    /// Fine-grained rules that have no effect because their bus is unfiltered or absent.
    pub unused_rules: Vec<Origin>,
}

impl DbusPlan {
    /// The blob's D-Bus section: present buses only, bare arguments.
    pub fn to_section(&self) -> DbusSection {
        let routes = self
            .routes
            .iter()
            .filter_map(|route| {
                let access = match &route.access {
                    Access::Direct { .. } => BusAccess::Direct,
                    Access::Proxy { args } => BusAccess::Proxy {
                        args: args.iter().map(|a| a.arg.clone()).collect(),
                    },
                    Access::Absent { .. } => return None,
                };
                Some(BusRoute {
                    bus: route.bus,
                    access,
                })
            })
            .collect();
        DbusSection { routes }
    }

    /// The route of one bus.
    pub fn route(&self, bus: BusKind) -> &Route {
        // INVARIANT: `compile` always produces one route per bus.
        self.routes
            .iter()
            .find(|r| r.bus == bus)
            .expect("one route per bus")
    }
}

/// Compiles a policy's D-Bus grants. Pure and deterministic.
pub fn compile(policy: &Policy) -> DbusPlan {
    let mut unused_rules = Vec::new();
    let routes = vec![
        rules::session(policy, &mut unused_rules),
        rules::system(policy, &mut unused_rules),
        rules::accessibility(policy, &mut unused_rules),
    ];
    DbusPlan {
        routes,
        unused_rules,
    }
}

/// The blob's D-Bus section of a policy (`compile(policy).to_section()`).
pub fn section(policy: &Policy) -> DbusSection {
    compile(policy).to_section()
}

#[cfg(test)]
mod tests;
