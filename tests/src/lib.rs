//! Shared test helpers.

pub mod dbus_bus;
pub mod dbus_wire;
pub mod output;
pub mod skip;
pub mod stage;
