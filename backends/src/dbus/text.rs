//! `emit --backend dbus --text`: one proxy argument per line, each with a comment that
//! says where it comes from.

use std::fmt::Write;

use portcullis_ir::{Origin, Policy};

use super::{Access, DbusPlan, Why};

/// Names an origin as `SOURCE@START..END` from the policy's source list; the CLI passes
/// its own namer (file, line and column) to [`render_with`] when it has the text.
pub fn origin_by_bytes(policy: &Policy) -> impl Fn(Origin) -> String + '_ {
    move |origin: Origin| {
        if origin.is_implicit() {
            return "implicit".to_string();
        }
        let source = policy
            .sources
            .get(origin.source as usize)
            .map(String::as_str)
            .unwrap_or("<unknown source>");
        format!("{source}@{}..{}", origin.start, origin.end)
    }
}

/// The text form with origins named by [`origin_by_bytes`].
pub fn render(plan: &DbusPlan, policy: &Policy) -> String {
    render_with(plan, &origin_by_bytes(policy))
}

fn because(arg: &str, why: &Why, name: &dyn Fn(Origin) -> String) -> String {
    match why {
        Why::Filtering if arg == "--sloppy-names" => {
            "accessibility: every unique name's changes are reported".into()
        }
        Why::Filtering => "filtering: nothing passes but what the rules allow".into(),
        Why::AppId => "implicit: the app owns its own id and names below it".into(),
        Why::Mpris => "implicit: the app owns its MPRIS media-player name".into(),
        Why::Portal => "implicit: portals are reachable from every app".into(),
        Why::Accessibility => "implicit: Flatpak's accessibility-bus rules".into(),
        Why::Grant { origin } => format!("granted at {}", name(*origin)),
        Why::Rule { origin } => format!("fine-grained rule at {}", name(*origin)),
    }
}

/// The text form; `name` turns an origin into something a reader can find.
pub fn render_with(plan: &DbusPlan, name: &dyn Fn(Origin) -> String) -> String {
    let mut out = String::new();
    for route in &plan.routes {
        let bus = route.bus.word();
        // Writing to a String cannot fail.
        match &route.access {
            Access::Direct { origin } => {
                let _ = writeln!(
                    out,
                    "# {bus} bus: the host socket at {} ({}), unfiltered: socket granted at {}",
                    route.socket,
                    route.bus.address_variable(),
                    name(*origin)
                );
            }
            Access::Absent { reason } => {
                let _ = writeln!(out, "# {bus} bus: none ({reason})");
            }
            Access::Proxy { args } => {
                let _ = writeln!(
                    out,
                    "# {bus} bus: xdg-dbus-proxy at {} ({})",
                    route.socket,
                    route.bus.address_variable()
                );
                let width = args.iter().map(|a| a.arg.len()).max().unwrap_or(0);
                for a in args {
                    let _ = writeln!(
                        out,
                        "{:<width$}  # {}",
                        a.arg,
                        because(&a.arg, &a.why, name),
                        width = width
                    );
                }
            }
        }
    }
    for origin in &plan.unused_rules {
        let _ = writeln!(
            out,
            "# note: the fine-grained rule at {} has no effect: its bus is unfiltered",
            name(*origin)
        );
    }
    out
}
