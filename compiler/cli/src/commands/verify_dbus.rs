//! The D-Bus section's check for `portcullis verify`: the proxy arguments in the blob,
//! re-read as `xdg-dbus-proxy` reads them, against the buses and names the policy grants
//! (`portcullis_verifier::dbus`).

use portcullis_blob::dbus::BusAccess;
use portcullis_blob::Blob;
use portcullis_compiler::Severity;
use portcullis_ir::Policy;
use portcullis_verifier::dbus::verify;

use super::verify::SectionResult;
use crate::report::Finding;

/// Checks the blob's D-Bus section.
pub fn dbus(blob: &Blob, policy: &Policy) -> SectionResult {
    let findings = verify(&blob.dbus, policy)
        .into_iter()
        .map(|f| {
            Finding::new(
                format!("portcullis::verify::{}", f.kind.code()),
                Severity::Error,
                f.message,
            )
            .with_help("the proxy rules do not mean what the policy says; recompile it")
        })
        .collect();
    let routes: Vec<String> = blob
        .dbus
        .routes
        .iter()
        .map(|r| match &r.access {
            BusAccess::Direct => format!("{} direct", r.bus.word()),
            BusAccess::Proxy { args } => format!("{} proxy, {} rules", r.bus.word(), args.len()),
        })
        .collect();
    SectionResult {
        section: "dbus",
        summary: if routes.is_empty() {
            "no bus".to_string()
        } else {
            routes.join("; ")
        },
        findings,
    }
}
