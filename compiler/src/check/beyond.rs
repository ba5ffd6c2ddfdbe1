//! Findings about the beyond-Flatpak layers taken together: `allow io-uring` with port
//! rules is an error, because io_uring operations (socket, connect, send with
//! `MSG_FASTOPEN`, listen, …) run without meeting the seccomp filter that closes the
//! ways around Landlock's TCP port rules.

use portcullis_ir::{Beyond, Origin};
use portcullis_syntax::Span;

use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// Every finding about `beyond` (without a source file attached). Labels point into the
/// main document only (source 0); a rule from an included file is named in the message.
pub fn check(beyond: &Beyond) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let (Some(io_uring), Some(network)) = (beyond.io_uring, beyond.network.as_ref()) {
        let mut diag = Diagnostic::error(
            Code::IoUringWithPortRules,
            "`allow io-uring` defeats the `network` port rules",
        )
        .with_help(
            "io_uring runs socket, connect, send and listen without meeting the seccomp \
             filter that keeps MPTCP, SCTP and TCP Fast Open from bypassing Landlock's TCP \
             port rules: remove `allow io-uring` or the `network` block",
        );
        if let Some(span) = main_span(io_uring) {
            diag = diag.with_label(span, "io_uring allowed here");
        }
        if let Some(span) = main_span(network.origin) {
            diag = diag.with_label(span, "port rules here");
        }
        out.push(diag);
    }
    out
}

fn main_span(origin: Origin) -> Option<Span> {
    (origin.source == 0).then_some(Span {
        start: origin.start as usize,
        end: origin.end as usize,
    })
}
