//! D-Bus rule checks: the blob's proxy arguments against the policy's meaning.
//!
//! [`model`] re-reads the emitted arguments the way `xdg-dbus-proxy` does; [`expect`]
//! derives from the IR which buses the sandbox should get and which filters each proxy
//! must hold. [`verify`] compares the two by coverage, not by text: every emitted filter
//! must be covered by an expected one (otherwise it grants more than the policy, e.g. a
//! broader wildcard) and every expected filter must be covered by an emitted one
//! (otherwise a grant or an implicit rule is missing). It never calls backend code.
//! [`advisory`] marks the fine-grained rules for `audit`: advisory, or without effect.

pub mod advisory;
pub mod expect;
pub mod model;

use portcullis_blob::dbus::{BusAccess, BusKind, DbusSection};
use portcullis_ir::Policy;

use expect::{expected, Expected};
use model::ProxyModel;

/// What is wrong with one bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// The sandbox gets a bus the policy does not give it.
    UnexpectedBus,
    /// The sandbox lacks a bus the policy gives it.
    MissingBus,
    /// The host socket is bound directly where the policy asks for filtering.
    Unfiltered,
    /// A filtering proxy was expected but the route is direct (or the reverse).
    WrongAccess,
    /// An emitted filter grants more than any grant of the policy.
    Broader,
    /// A grant or implicit rule of the policy has no emitted filter.
    MissingRule,
    /// The proxy would refuse or misread an argument.
    Rejected,
    /// `--sloppy-names` or `--log` where they do not belong, or missing.
    Flags,
}

impl FindingKind {
    /// A stable code for reports.
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::UnexpectedBus => "dbus-unexpected-bus",
            FindingKind::MissingBus => "dbus-missing-bus",
            FindingKind::Unfiltered => "dbus-unfiltered",
            FindingKind::WrongAccess => "dbus-wrong-access",
            FindingKind::Broader => "dbus-broader",
            FindingKind::MissingRule => "dbus-missing-rule",
            FindingKind::Rejected => "dbus-rejected-argument",
            FindingKind::Flags => "dbus-flags",
        }
    }
}

/// One discrepancy between the blob and the policy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The bus.
    pub bus: BusKind,
    /// What kind.
    pub kind: FindingKind,
    /// Lower-case, user input in backticks.
    pub message: String,
}

fn finding(bus: BusKind, kind: FindingKind, message: String) -> Finding {
    Finding { bus, kind, message }
}

/// Checks the D-Bus section against the policy; empty when they agree.
pub fn verify(section: &DbusSection, policy: &Policy) -> Vec<Finding> {
    let mut findings = Vec::new();
    for bus in [BusKind::Session, BusKind::System, BusKind::Accessibility] {
        let routes: Vec<_> = section.routes.iter().filter(|r| r.bus == bus).collect();
        if routes.len() > 1 {
            findings.push(finding(
                bus,
                FindingKind::UnexpectedBus,
                format!("{} routes for one bus", routes.len()),
            ));
        }
        let access = routes.first().map(|r| &r.access);
        check_bus(bus, access, &expected(policy, bus), &mut findings);
    }
    findings
}

fn check_bus(
    bus: BusKind,
    access: Option<&BusAccess>,
    expected: &Expected,
    out: &mut Vec<Finding>,
) {
    let word = bus.word();
    match (expected, access) {
        (Expected::Absent, None) => {}
        (Expected::Absent, Some(_)) => out.push(finding(
            bus,
            FindingKind::UnexpectedBus,
            format!("the sandbox gets the {word} bus, which the policy does not grant"),
        )),
        (_, None) => out.push(finding(
            bus,
            FindingKind::MissingBus,
            format!("the policy grants the {word} bus but the blob has no route for it"),
        )),
        (Expected::Direct, Some(BusAccess::Direct)) => {}
        (Expected::Direct, Some(BusAccess::Proxy { .. })) => out.push(finding(
            bus,
            FindingKind::WrongAccess,
            format!("the policy grants the whole {word} bus but the blob filters it"),
        )),
        (Expected::Filtered { .. }, Some(BusAccess::Direct)) => out.push(finding(
            bus,
            FindingKind::Unfiltered,
            format!("the host {word} bus socket is bound unfiltered, the policy asks for a filtering proxy"),
        )),
        (
            Expected::Filtered {
                filters,
                sloppy_names,
            },
            Some(BusAccess::Proxy { args }),
        ) => check_proxy(bus, &ProxyModel::parse(args), filters, *sloppy_names, out),
    }
}

fn check_proxy(
    bus: BusKind,
    model: &ProxyModel,
    expected: &[(model::Filter, String)],
    sloppy_names: bool,
    out: &mut Vec<Finding>,
) {
    let word = bus.word();
    if !model.filtering {
        out.push(finding(
            bus,
            FindingKind::Unfiltered,
            format!("the {word} proxy has no `--filter`: it lets everything through"),
        ));
    }
    for (arg, why) in &model.rejected {
        out.push(finding(
            bus,
            FindingKind::Rejected,
            format!("`{arg}` on the {word} bus: {why}"),
        ));
    }
    if model.sloppy_names != sloppy_names {
        let state = if model.sloppy_names { "has" } else { "lacks" };
        out.push(finding(
            bus,
            FindingKind::Flags,
            format!("the {word} proxy {state} `--sloppy-names`"),
        ));
    }
    if model.log {
        out.push(finding(
            bus,
            FindingKind::Flags,
            format!("the {word} proxy logs all traffic (`--log`)"),
        ));
    }
    for emitted in &model.filters {
        if !expected.iter().any(|(e, _)| e.covers(emitted)) {
            let wider = expected
                .iter()
                .find(|(e, _)| emitted.covers(e) && emitted.subtree && !e.subtree)
                .map(|(_, why)| format!(" (broader wildcard than {why})"))
                .unwrap_or_default();
            out.push(finding(
                bus,
                FindingKind::Broader,
                format!(
                    "`{}` on the {word} bus grants more than the policy{wider}",
                    emitted.describe()
                ),
            ));
        }
    }
    for (wanted, why) in expected {
        if !model.filters.iter().any(|f| f.covers(wanted)) {
            out.push(finding(
                bus,
                FindingKind::MissingRule,
                format!("{why}: no `{}` on the {word} bus", wanted.describe()),
            ));
        }
    }
}

#[cfg(test)]
mod tests;
