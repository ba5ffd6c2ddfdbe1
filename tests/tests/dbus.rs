//! D-Bus: the compiled proxy rules against Flatpak's oracle, and enforced by the real
//! `xdg-dbus-proxy` in front of a private `dbus-daemon` with a small test service.

mod oracle;
mod policies;
mod proxy;
mod run;
mod snapshots;
