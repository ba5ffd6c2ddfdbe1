//! The D-Bus section: how each bus reaches the sandbox.
//!
//! One [`BusRoute`] per bus the sandbox gets, in Flatpak's order (session, system,
//! accessibility). A bus without a route is not reachable at all. A route is either the
//! host socket bound as it is ([`BusAccess::Direct`], `socket=session-bus` /
//! `socket=system-bus`: unfiltered) or an `xdg-dbus-proxy` instance with the compiled rules
//! ([`BusAccess::Proxy`]). Written by `portcullis_backends::dbus`, checked by
//! `portcullis_verifier::dbus`, applied by the executor (`executor/src/dbus_proxy.rs`).
//!
//! What is host-dependent is left to the executor: the bus address (from
//! `DBUS_SESSION_BUS_ADDRESS`, `DBUS_SYSTEM_BUS_ADDRESS`, or the accessibility bus's
//! `org.a11y.Bus.GetAddress`), the proxy's listening socket and the sync fd. The proxy
//! arguments here are exactly those that follow `ADDRESS PATH` on `xdg-dbus-proxy`'s
//! command line.

/// Which bus a route is for.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum BusKind {
    /// The user's session bus.
    Session,
    /// The system bus.
    System,
    /// The AT-SPI accessibility bus.
    Accessibility,
}

impl BusKind {
    /// Where the bus socket appears inside the sandbox.
    pub fn sandbox_socket(self) -> &'static str {
        match self {
            BusKind::Session => "/run/flatpak/bus",
            BusKind::System => "/run/dbus/system_bus_socket",
            BusKind::Accessibility => "/run/flatpak/at-spi-bus",
        }
    }

    /// The variable that tells clients inside the sandbox where the bus is.
    pub fn address_variable(self) -> &'static str {
        match self {
            BusKind::Session => "DBUS_SESSION_BUS_ADDRESS",
            BusKind::System => "DBUS_SYSTEM_BUS_ADDRESS",
            BusKind::Accessibility => "AT_SPI_BUS_ADDRESS",
        }
    }

    /// The prefix of the proxy's listening socket name, as Flatpak names it.
    pub fn proxy_socket_prefix(self) -> &'static str {
        match self {
            BusKind::Session => "session-bus-proxy",
            BusKind::System => "system-bus-proxy",
            BusKind::Accessibility => "a11y-bus-proxy",
        }
    }

    /// A short word for messages (`session`, `system`, `a11y`).
    pub fn word(self) -> &'static str {
        match self {
            BusKind::Session => "session",
            BusKind::System => "system",
            BusKind::Accessibility => "a11y",
        }
    }
}

/// How one bus reaches the sandbox.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "access", rename_all = "kebab-case")]
pub enum BusAccess {
    /// The host's socket, bound read-only at [`BusKind::sandbox_socket`]: no filtering.
    /// Only the session and the system bus can be direct. When the host address is not a
    /// `unix:path=` address, Flatpak (and the executor) fall back to a proxy without
    /// `--filter`, which is just as unfiltered.
    Direct,
    /// An `xdg-dbus-proxy` listening on a private socket that is bound at
    /// [`BusKind::sandbox_socket`].
    Proxy {
        /// The arguments after `ADDRESS PATH`: `--filter`, `--own=…`, `--call=…`, ….
        args: Vec<String>,
    },
}

/// One bus the sandbox gets.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BusRoute {
    /// Which bus.
    pub bus: BusKind,
    /// Direct or through the proxy.
    #[serde(flatten)]
    pub access: BusAccess,
}

/// The D-Bus section of the blob.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DbusSection {
    /// The routes, session first, then system, then accessibility; at most one per bus.
    pub routes: Vec<BusRoute>,
}

impl DbusSection {
    /// The route of one bus, if the sandbox gets that bus.
    pub fn route(&self, bus: BusKind) -> Option<&BusRoute> {
        self.routes.iter().find(|r| r.bus == bus)
    }

    /// Whether any route needs an `xdg-dbus-proxy`.
    pub fn needs_proxy(&self) -> bool {
        self.routes
            .iter()
            .any(|r| matches!(r.access, BusAccess::Proxy { .. }))
    }
}
