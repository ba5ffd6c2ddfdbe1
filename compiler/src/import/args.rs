//! Flatpak command-line options (a manifest's `finish-args`, a bare list) to AST items.
//!
//! Each element is one argv element, as flatpak-builder passes it to `flatpak
//! build-finish`. GLib also accepts `--option VALUE` as two elements; that form is joined
//! here. Values are kept as written; the checker validates them.

use portcullis_syntax::ast::{Bus, BusPolicyWord, Dialect, Item, ItemKind};
use portcullis_syntax::{Span, Spanned};

use super::tree::Node;

/// What an option means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meaning {
    Share(bool),
    Socket(bool),
    Device(bool),
    Allow(bool),
    Filesystem(bool),
    Persist,
    Env,
    UnsetEnv,
    Name(Bus, BusPolicyWord),
    Policy(bool),
    Usb(bool),
    /// A build-finish option that is not a permission and takes a value.
    OtherWithValue,
    /// A build-finish option without a value.
    OtherFlag,
}

/// Every option a finish-args element may use, with its meaning.
const OPTIONS: &[(&str, Meaning)] = &[
    ("share", Meaning::Share(false)),
    ("unshare", Meaning::Share(true)),
    ("socket", Meaning::Socket(false)),
    ("nosocket", Meaning::Socket(true)),
    ("device", Meaning::Device(false)),
    ("nodevice", Meaning::Device(true)),
    ("allow", Meaning::Allow(false)),
    ("disallow", Meaning::Allow(true)),
    ("filesystem", Meaning::Filesystem(false)),
    ("nofilesystem", Meaning::Filesystem(true)),
    ("persist", Meaning::Persist),
    ("env", Meaning::Env),
    ("unset-env", Meaning::UnsetEnv),
    ("own-name", Meaning::Name(Bus::Session, BusPolicyWord::Own)),
    (
        "talk-name",
        Meaning::Name(Bus::Session, BusPolicyWord::Talk),
    ),
    (
        "no-talk-name",
        Meaning::Name(Bus::Session, BusPolicyWord::None),
    ),
    (
        "system-own-name",
        Meaning::Name(Bus::System, BusPolicyWord::Own),
    ),
    (
        "system-talk-name",
        Meaning::Name(Bus::System, BusPolicyWord::Talk),
    ),
    (
        "system-no-talk-name",
        Meaning::Name(Bus::System, BusPolicyWord::None),
    ),
    (
        "a11y-own-name",
        Meaning::Name(Bus::Accessibility, BusPolicyWord::Own),
    ),
    ("add-policy", Meaning::Policy(false)),
    ("remove-policy", Meaning::Policy(true)),
    ("usb", Meaning::Usb(false)),
    ("nousb", Meaning::Usb(true)),
    ("command", Meaning::OtherWithValue),
    ("require-version", Meaning::OtherWithValue),
    ("extension", Meaning::OtherWithValue),
    ("remove-extension", Meaning::OtherWithValue),
    ("extension-priority", Meaning::OtherWithValue),
    ("sdk", Meaning::OtherWithValue),
    ("runtime", Meaning::OtherWithValue),
    ("metadata", Meaning::OtherWithValue),
    ("env-fd", Meaning::OtherWithValue),
    ("usb-list", Meaning::OtherWithValue),
    ("usb-list-file", Meaning::OtherWithValue),
    ("socket-if", Meaning::OtherWithValue),
    ("device-if", Meaning::OtherWithValue),
    ("share-if", Meaning::OtherWithValue),
    ("allow-if", Meaning::OtherWithValue),
    ("no-inherit-permissions", Meaning::OtherFlag),
    ("no-exports", Meaning::OtherFlag),
    ("no-desktop", Meaning::OtherFlag),
    ("extra-data", Meaning::OtherWithValue),
];

/// The option names (without `--`), for "did you mean" suggestions.
pub fn option_names() -> impl Iterator<Item = &'static str> {
    OPTIONS.iter().map(|(name, _)| *name)
}

fn lookup(name: &str) -> Option<Meaning> {
    OPTIONS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

/// Turns a list of argv elements into items (dialect: finish-args).
pub fn items_from_args(elements: &[Node]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut i = 0;
    while i < elements.len() {
        let element = &elements[i];
        i += 1;
        let Some(text) = element.as_str() else {
            items.push(item(
                ItemKind::Unknown {
                    raw: Spanned::new(format!("({})", element.kind_name()), element.span),
                },
                element.span,
            ));
            continue;
        };
        let Some(option) = text.strip_prefix("--") else {
            items.push(unknown(text, element.span));
            continue;
        };
        let (name, value) = match option.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (option, None),
        };
        let Some(meaning) = lookup(name) else {
            items.push(unknown(text, element.span));
            continue;
        };
        if meaning == Meaning::OtherFlag {
            items.push(item(
                ItemKind::OtherOption {
                    raw: Spanned::new(text.to_string(), element.span),
                },
                element.span,
            ));
            continue;
        }
        // The value: after `=`, or the next element (`--share network`).
        let (value, value_span, span) = match value {
            Some(v) => {
                let from = 2 + name.len() + 1;
                (v.to_string(), element.inner(from, text.len()), element.span)
            }
            None => match elements.get(i).and_then(|n| n.as_str().map(|s| (n, s))) {
                Some((next, s)) if !s.starts_with("--") => {
                    i += 1;
                    (s.to_string(), next.span, element.span.join(next.span))
                }
                _ => {
                    items.push(unknown(text, element.span));
                    continue;
                }
            },
        };
        let value = Spanned::new(value, value_span);
        let kind = match meaning {
            Meaning::Share(negated) => ItemKind::Share { negated, value },
            Meaning::Socket(negated) => ItemKind::Socket { negated, value },
            Meaning::Device(negated) => ItemKind::Device { negated, value },
            Meaning::Allow(negated) => ItemKind::Allow { negated, value },
            Meaning::Filesystem(negated) => ItemKind::Filesystem {
                negated,
                value,
                except: Vec::new(),
            },
            Meaning::Persist => ItemKind::Persist { path: value },
            Meaning::Env => ItemKind::Env { raw: value },
            Meaning::UnsetEnv => ItemKind::UnsetEnv { name: value },
            Meaning::Name(bus, policy) => ItemKind::BusName {
                bus,
                policy,
                name: value,
            },
            Meaning::Policy(remove) => ItemKind::GenericPolicy { remove, raw: value },
            Meaning::Usb(hidden) => ItemKind::Usb {
                hidden,
                query: value,
            },
            Meaning::OtherWithValue | Meaning::OtherFlag => ItemKind::OtherOption {
                raw: Spanned::new(format!("--{name}={}", value.value), span),
            },
        };
        items.push(item(kind, span));
    }
    items
}

fn unknown(text: &str, span: Span) -> Item {
    item(
        ItemKind::Unknown {
            raw: Spanned::new(text.to_string(), span),
        },
        span,
    )
}

fn item(kind: ItemKind, span: Span) -> Item {
    Item {
        kind,
        span,
        dialect: Dialect::FinishArgs,
        leading_comments: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::tree::Value;

    fn node(text: &str, at: usize) -> Node {
        Node {
            value: Value::Scalar(text.to_string()),
            span: Span::new(at, at + text.len()),
            verbatim_start: Some(at),
        }
    }

    #[test]
    fn options_with_values_and_split_form() {
        let items = items_from_args(&[
            node("--share=network", 0),
            node("--filesystem", 20),
            node("home:ro", 40),
            node("--bogus", 60),
            node("--no-desktop", 70),
        ]);
        assert_eq!(items.len(), 4);
        match &items[0].kind {
            ItemKind::Share { negated, value } => {
                assert!(!negated);
                assert_eq!(value.value, "network");
                assert_eq!(value.span, Span::new(8, 15));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&items[1].kind, ItemKind::Filesystem { value, .. } if value.value == "home:ro")
        );
        assert!(matches!(&items[2].kind, ItemKind::Unknown { .. }));
        assert!(matches!(&items[3].kind, ItemKind::OtherOption { .. }));
    }
}
