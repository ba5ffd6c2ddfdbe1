//! Lowering of what portcullis adds beyond Flatpak: TCP port rules, resource limits,
//! single device nodes, fine-grained D-Bus rules and requirement levels.

use portcullis_ir::beyond::{
    limit_range, BusRule, BusRuleKind, DeviceNode, Level, Limit, NetworkRules, PortRange,
};
use portcullis_ir::dbus::{self, BusName};
use portcullis_ir::{Beyond, Origin};
use portcullis_syntax::ast::{Bus, Item, ItemKind, RequirementWord};

use super::Lowering;
use crate::check::{strings, values};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// Merges an included fragment's layers: lists are appended, set limits and port rules
/// override, requirements are taken from the fragment only where it is stricter.
pub fn merge(base: &mut Beyond, upper: Beyond) {
    if let Some(upper_net) = upper.network {
        let net = base.network.get_or_insert_with(|| NetworkRules {
            origin: upper_net.origin,
            ..NetworkRules::default()
        });
        net.connect.extend(upper_net.connect);
        net.bind.extend(upper_net.bind);
        net.udp_none |= upper_net.udp_none;
    }
    // An included `allow io-uring` grants it, as an included `allow` of Flatpak's does.
    base.io_uring = upper.io_uring.or(base.io_uring);
    let limits = &mut base.limits;
    let up = upper.limits;
    limits.memory = up.memory.or(limits.memory);
    limits.processes = up.processes.or(limits.processes);
    limits.open_files = up.open_files.or(limits.open_files);
    limits.cpu_time = up.cpu_time.or(limits.cpu_time);
    limits.cpu_share = up.cpu_share.or(limits.cpu_share);
    base.deny.extend(upper.deny);
    base.device_nodes.extend(upper.device_nodes);
    base.bus_rules.extend(upper.bus_rules);
    let (r, u) = (&mut base.requirements, upper.requirements);
    r.landlock = r.landlock.max(u.landlock);
    r.landlock_network = r.landlock_network.max(u.landlock_network);
    r.scope_abstract_unix = r.scope_abstract_unix.max(u.scope_abstract_unix);
    r.scope_signal = r.scope_signal.max(u.scope_signal);
    r.limits = r.limits.max(u.limits);
}

/// A limit value in the unit the policy language writes it in.
fn describe_limit(name: &str, value: u64) -> String {
    match name {
        "memory" if value % (1 << 40) == 0 => format!("{}T", value >> 40),
        "memory" if value % (1 << 20) == 0 => format!("{}M", value >> 20),
        "cpu-time" if value % 3600 == 0 => format!("{}h", value / 3600),
        "cpu-time" => format!("{value}s"),
        "cpu-share" => format!("{value}%"),
        _ => value.to_string(),
    }
}

fn invalid(
    lowering: &mut Lowering<'_>,
    span: portcullis_syntax::Span,
    message: String,
    help: &str,
) {
    lowering.push(
        Diagnostic::error(Code::InvalidValue, message)
            .with_label(span, "cannot be read")
            .with_help(help.to_string()),
    );
}

/// The largest CPU share the checker accepts: 100% of each of 1024 CPUs (the upper end of
/// `cpu-share` in [`limit_range`]). A share is a percent of *one* CPU (`250%` is two and a
/// half), and how many CPUs the launch host has is only known there: a share at or above
/// 100% times its CPUs caps nothing, which is not an error. Above this bound no host can
/// honour it; it is refused (`limit-out-of-range`) as a typo.
pub const MAX_CPU_SHARE: u64 = 100 * 1024;

/// Lowers `limits { NAME VALUE }`: the value is read in the limit's unit, and zero, an
/// overflowing value, a CPU share above [`MAX_CPU_SHARE`] and a limit stated twice in the
/// same document are invalid input (exit 2), each on its own span.
fn limit(
    lowering: &mut Lowering<'_>,
    name: &portcullis_syntax::Spanned<String>,
    value: &portcullis_syntax::Spanned<String>,
    origin: Origin,
) {
    let raw = value.value.as_str();
    let (parsed, digits) = match name.value.as_str() {
        "memory" => (
            values::parse_size(raw),
            raw.trim_end_matches(['K', 'k', 'M', 'm', 'G', 'g', 'T', 't']),
        ),
        "processes" | "open-files" => (raw.parse::<u64>().ok(), raw),
        "cpu-time" => (
            values::parse_seconds(raw),
            raw.trim_end_matches(['s', 'm', 'h']),
        ),
        "cpu-share" => {
            let digits = raw.strip_suffix('%').unwrap_or(raw);
            (digits.parse::<u64>().ok(), digits)
        }
        other => {
            let message = format!("unknown limit `{other}`");
            invalid(
                lowering,
                name.span,
                message,
                "limits are memory, processes, open-files, cpu-time and cpu-share",
            );
            return;
        }
    };
    let what = &name.value;
    let Some(parsed) = parsed else {
        let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        let message = if all_digits {
            format!("`{raw}` is too large for a {what} limit")
        } else {
            format!("`{raw}` is not a valid {what} limit")
        };
        invalid(
            lowering,
            value.span,
            message,
            "sizes take K, M, G or T; times take s, m or h; shares a %; counts are plain numbers",
        );
        return;
    };
    if parsed == 0 {
        invalid(
            lowering,
            value.span,
            format!("a {what} limit of `{raw}` would stop the app before it starts"),
            "give a value above zero, or remove the limit",
        );
        return;
    }
    if let Some((low, high)) = limit_range(what) {
        if !(low..=high).contains(&parsed) {
            let unit = |v: u64| describe_limit(what, v);
            lowering.push(
                Diagnostic::error(
                    Code::LimitOutOfRange,
                    format!(
                        "the {what} limit `{raw}` is outside {} to {}",
                        unit(low),
                        unit(high)
                    ),
                )
                .with_label(value.span, "out of range")
                .with_help(format!(
                    "write a {what} limit from {} to {}; without a limit, leave the line out",
                    unit(low),
                    unit(high)
                )),
            );
            return;
        }
    }
    let limits = &mut lowering.beyond.limits;
    let slot = match what.as_str() {
        "memory" => &mut limits.memory,
        "processes" => &mut limits.processes,
        "open-files" => &mut limits.open_files,
        "cpu-time" => &mut limits.cpu_time,
        _ => &mut limits.cpu_share,
    };
    if let Some(earlier) = slot.filter(|l| l.origin.source == lowering.source) {
        let first = portcullis_syntax::Span::new(
            earlier.origin.start as usize,
            earlier.origin.end as usize,
        );
        lowering.push(
            Diagnostic::error(
                Code::DuplicateLimit,
                format!("the {what} limit is stated twice"),
            )
            .with_label(value.span, "stated again here")
            .with_label(first, "first stated here")
            .with_help(format!("keep one `{what}` limit")),
        );
        return;
    }
    *slot = Some(Limit {
        value: parsed,
        origin,
    });
}

/// Lowers one beyond-Flatpak statement.
pub fn item(lowering: &mut Lowering<'_>, item: &Item, origin: Origin) {
    match &item.kind {
        ItemKind::NetworkRule { direction, ports } => {
            let ranges: Vec<PortRange> = ports
                .iter()
                .map(|p| PortRange {
                    first: p.value.0,
                    last: p.value.1,
                })
                .collect();
            if let Some(bad) = ports.iter().find(|p| p.value.0 > p.value.1) {
                invalid(
                    lowering,
                    bad.span,
                    format!(
                        "the port range `{}-{}` is reversed",
                        bad.value.0, bad.value.1
                    ),
                    "write the lower port first",
                );
                return;
            }
            let net = lowering.beyond.network.get_or_insert_with(|| NetworkRules {
                origin,
                ..NetworkRules::default()
            });
            match direction.value.as_str() {
                "connect" => net.connect.extend(ranges),
                "bind" => net.bind.extend(ranges),
                // `udp none`: Landlock has no UDP rules, so UDP is either left alone (no
                // statement) or refused altogether by seccomp; ports cannot be listed.
                "udp" if ranges.is_empty() => net.udp_none = true,
                "udp" => invalid(
                    lowering,
                    direction.span,
                    "UDP takes no port list".to_string(),
                    "write `udp none` (Landlock has no UDP port rules; without `udp none` UDP is not restricted)",
                ),
                other => {
                    let message = format!("unknown network direction `{other}`");
                    invalid(
                        lowering,
                        direction.span,
                        message,
                        "use `connect`, `bind` or `udp none`",
                    );
                }
            }
        }
        ItemKind::Limit { name, value } => limit(lowering, name, value, origin),
        ItemKind::DeviceNode { path } => {
            let (node, writable) = match path.value.rsplit_once(':') {
                Some((p, "ro")) => (p, false),
                Some((p, "rw")) => (p, true),
                _ => (path.value.as_str(), true),
            };
            let clean = node.starts_with("/dev/")
                && node.len() > 5
                && !node.split('/').any(|c| c == ".." || c == ".");
            if !clean {
                let message = format!("`{}` is not a device node path", path.value);
                invalid(
                    lowering,
                    path.span,
                    message,
                    "name a node under /dev, such as `/dev/ttyUSB0:ro`",
                );
                return;
            }
            if let Err(why) = strings::check_path_length(node) {
                lowering.path_too_long(path.span, why);
                return;
            }
            if let Err(why) = values::check_device_node(node) {
                lowering.push(
                    Diagnostic::error(Code::NotADeviceNode, why)
                        .with_label(path.span, "not a single character or block device")
                        .with_help(
                            "name one device node, such as `/dev/ttyUSB0`; for a class of \
                             devices use `device` (dri, input, usb, kvm, shm, all)",
                        ),
                );
                return;
            }
            lowering.beyond.device_nodes.push(DeviceNode {
                path: node.to_string(),
                writable,
                origin,
            });
        }
        ItemKind::BusRule {
            bus,
            broadcast,
            raw,
        } => {
            let (name, rule) = raw
                .value
                .split_once('=')
                .unwrap_or((raw.value.as_str(), ""));
            let name = match BusName::new(name) {
                Ok(name) => name,
                Err(err) => {
                    lowering.push(
                        Diagnostic::error(
                            Code::InvalidBusName,
                            format!("invalid D-Bus name `{name}`: {err}"),
                        )
                        .with_label(raw.span, "refused by xdg-dbus-proxy")
                        .with_help("write `NAME=[METHOD][@PATH]`"),
                    );
                    return;
                }
            };
            if let Err(err) = dbus::validate_rule(rule) {
                let message = format!("invalid D-Bus rule `{rule}`: {err:?}");
                invalid(
                    lowering,
                    raw.span,
                    message,
                    "a rule is `[*|iface.*|iface.Member][@/path[/*]]`",
                );
                return;
            }
            let bus = match bus {
                Bus::Session => dbus::Bus::Session,
                Bus::System => dbus::Bus::System,
                Bus::Accessibility => dbus::Bus::Accessibility,
            };
            lowering.beyond.bus_rules.push(BusRule {
                bus,
                name,
                kind: if *broadcast {
                    BusRuleKind::Broadcast
                } else {
                    BusRuleKind::Call
                },
                rule: rule.to_string(),
                origin,
            });
        }
        ItemKind::Require { feature, level } => {
            let level = match level {
                RequirementWord::BestEffort => Level::BestEffort,
                RequirementWord::Required => Level::Required,
            };
            let r = &mut lowering.beyond.requirements;
            let slot = match feature.value.as_str() {
                "landlock" => &mut r.landlock,
                "landlock-network" => &mut r.landlock_network,
                "scope-abstract-unix" => &mut r.scope_abstract_unix,
                "scope-signal" => &mut r.scope_signal,
                "limits" => &mut r.limits,
                other => {
                    let message = format!("unknown requirement `{other}`");
                    invalid(lowering, feature.span, message, "requirements are landlock, landlock-network, scope-abstract-unix, scope-signal and limits");
                    return;
                }
            };
            *slot = level;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use portcullis_syntax::SourceFile;

    use crate::codes::Code;
    use crate::{compile, Options};

    /// The diagnostics of a policy with `limits` in its app block: code, message and the
    /// text under each label.
    fn findings(limits: &str) -> Vec<(Code, String, Vec<String>)> {
        let text = format!("app org.example.Limits {{\n    limits {{ {limits} }}\n}}\n");
        let file = SourceFile::new("limits.policy", text.clone());
        let compiled = compile(&file, &Options::default());
        compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_invalid_input())
            .map(|d| {
                let spans = d
                    .labels
                    .iter()
                    .map(|l| text[l.span.start..l.span.end].to_string())
                    .collect();
                (d.code, d.message.clone(), spans)
            })
            .collect()
    }

    #[test]
    fn sane_limits_are_accepted() {
        assert!(findings("memory 256M; processes 64; cpu-share 50%").is_empty());
        assert!(findings("cpu-share 250%; open-files 1024; cpu-time 2m").is_empty());
        assert!(findings(&format!("cpu-share {}%", super::MAX_CPU_SHARE)).is_empty());
    }

    #[test]
    fn zero_limits_are_refused_on_their_value() {
        for (limits, value) in [
            ("memory 0", "0"),
            ("processes 0", "0"),
            ("cpu-share 0%", "0%"),
            ("open-files 0", "0"),
        ] {
            let found = findings(limits);
            assert_eq!(found.len(), 1, "{limits}: {found:?}");
            let (code, message, spans) = &found[0];
            assert_eq!(*code, Code::InvalidValue);
            assert!(message.contains("would stop the app"), "{message}");
            assert_eq!(spans, &[value.to_string()]);
        }
    }

    #[test]
    fn overflowing_and_excessive_values_are_refused() {
        let found = findings("processes 99999999999999999999999");
        assert!(found[0].1.contains("too large"), "{found:?}");
        let found = findings("memory 99999999999T");
        assert!(found[0].1.contains("too large"), "{found:?}");
        let found = findings(&format!("cpu-share {}%", super::MAX_CPU_SHARE + 1));
        assert!(found[0].1.contains("outside 1% to 102400%"), "{found:?}");
        assert_eq!(found[0].2, [format!("{}%", super::MAX_CPU_SHARE + 1)]);
        let found = findings("cpu-share half");
        assert!(
            found[0].1.contains("not a valid cpu-share limit"),
            "{found:?}"
        );
    }

    #[test]
    fn a_limit_stated_twice_is_refused_with_both_places() {
        let found = findings("memory 256M; processes 8; memory 512M");
        assert_eq!(found.len(), 1, "{found:?}");
        let (code, message, spans) = &found[0];
        assert_eq!(*code, Code::DuplicateLimit);
        assert!(code.is_invalid_input());
        assert_eq!(message, "the memory limit is stated twice");
        assert_eq!(spans[0], "512M");
        assert!(spans[1].contains("256M"), "{spans:?}");
    }
}
