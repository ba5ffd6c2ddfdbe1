//! The printer's properties over generated documents: `parse(print(d))` is `d` (spans
//! aside) and printing is idempotent; plus a few exact canonical outputs.

use portcullis_syntax::ast::{
    Bus, BusPolicyWord, Dialect, Document, Extension, Header, HeaderKind, InputKind, Item,
    ItemKind, RequirementWord,
};
use portcullis_syntax::lexical::STATEMENT_KEYWORDS;
use portcullis_syntax::{parse, print, SourceFile, Span, Spanned};
use proptest::prelude::*;

/// The document as JSON with every span removed, for comparing "ignoring spans".
fn without_spans(doc: &Document) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove("span");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(list) => list.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(doc).expect("documents serialise");
    strip(&mut value);
    value
}

fn reparse(text: &str) -> Document {
    match parse(&SourceFile::new("printed.policy", text)) {
        Ok(doc) => doc,
        Err(err) => panic!(
            "printed text does not parse: {err} at {:?}\n{text}",
            err.span
        ),
    }
}

// --- generators ------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9.:/~_-]{0,12}",
        2 => proptest::sample::select(STATEMENT_KEYWORDS).prop_map(str::to_string),
        1 => proptest::sample::select(&["except", "none", "tcp", "required", "best-effort", "{", "}", "#x", "a#b", "", " "][..]).prop_map(str::to_string),
        2 => any::<String>(),
        1 => "[ -~]{0,16}",
    ]
}

fn spanned() -> impl Strategy<Value = Spanned<String>> {
    text().prop_map(|v| Spanned::new(v, Span::default()))
}

fn comment() -> impl Strategy<Value = Spanned<String>> {
    prop_oneof!["[^\n\r]{0,24}", "[ -~]{0,24}"]
        .prop_map(|c| Spanned::new(c.trim_end().to_string(), Span::default()))
}

fn bus() -> impl Strategy<Value = Bus> {
    prop_oneof![
        Just(Bus::Session),
        Just(Bus::System),
        Just(Bus::Accessibility)
    ]
}

fn item_kind() -> impl Strategy<Value = ItemKind> {
    let port = (any::<u16>(), any::<u16>(), any::<bool>()).prop_map(|(a, b, single)| {
        Spanned::new(if single { (a, a) } else { (a, b) }, Span::default())
    });
    prop_oneof![
        (any::<bool>(), spanned()).prop_map(|(negated, value)| ItemKind::Share { negated, value }),
        (any::<bool>(), spanned()).prop_map(|(negated, value)| ItemKind::Socket { negated, value }),
        (any::<bool>(), spanned()).prop_map(|(negated, value)| ItemKind::Device { negated, value }),
        (any::<bool>(), spanned()).prop_map(|(negated, value)| ItemKind::Allow { negated, value }),
        (
            any::<bool>(),
            spanned(),
            prop::collection::vec(spanned(), 0..3)
        )
            .prop_map(|(negated, value, except)| ItemKind::Filesystem {
                negated,
                value,
                except
            }),
        spanned().prop_map(|path| ItemKind::Persist { path }),
        spanned().prop_map(|raw| ItemKind::Env { raw }),
        spanned().prop_map(|name| ItemKind::UnsetEnv { name }),
        (
            bus(),
            prop_oneof![
                Just(BusPolicyWord::None),
                Just(BusPolicyWord::See),
                Just(BusPolicyWord::Talk),
                Just(BusPolicyWord::Own)
            ],
            spanned()
        )
            .prop_map(|(bus, policy, name)| ItemKind::BusName { bus, policy, name }),
        (any::<bool>(), spanned())
            .prop_map(|(remove, raw)| ItemKind::GenericPolicy { remove, raw }),
        (any::<bool>(), spanned()).prop_map(|(hidden, query)| ItemKind::Usb { hidden, query }),
        spanned().prop_map(|path| ItemKind::Include { path }),
        (spanned(), prop::collection::vec(port, 0..3))
            .prop_map(|(direction, ports)| ItemKind::NetworkRule { direction, ports }),
        (spanned(), spanned()).prop_map(|(name, value)| ItemKind::Limit { name, value }),
        spanned().prop_map(|path| ItemKind::DeviceNode { path }),
        (bus(), any::<bool>(), spanned()).prop_map(|(bus, broadcast, raw)| ItemKind::BusRule {
            bus,
            broadcast,
            raw
        }),
        (
            spanned(),
            prop_oneof![
                Just(RequirementWord::Required),
                Just(RequirementWord::BestEffort)
            ]
        )
            .prop_map(|(feature, level)| ItemKind::Require { feature, level }),
        spanned().prop_map(|raw| ItemKind::OtherOption { raw }),
        spanned().prop_map(|raw| ItemKind::Unknown { raw }),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    (
        item_kind(),
        prop::collection::vec(comment(), 0..2),
        proptest::option::weighted(0.2, comment()),
    )
        .prop_map(|(kind, mut leading_comments, end_of_line)| {
            // An end-of-line comment is one written after the item: give both spans that say so.
            let span = match end_of_line {
                Some(mut c) => {
                    c.span = Span::new(3, 4);
                    leading_comments.push(c);
                    Span::new(1, 2)
                }
                None => Span::default(),
            };
            Item {
                kind,
                span,
                dialect: Dialect::Policy,
                leading_comments,
            }
        })
}

fn extension() -> impl Strategy<Value = Extension> {
    (
        spanned(),
        proptest::option::of(spanned()),
        prop::collection::vec((spanned(), spanned()), 0..3),
    )
        .prop_map(|(name, directory, mut properties)| {
            properties.retain(|(k, _)| k.value != "directory");
            properties.sort_by(|a, b| a.0.value.cmp(&b.0.value));
            Extension {
                name,
                directory,
                properties,
                span: Span::default(),
            }
        })
}

fn header() -> impl Strategy<Value = Header> {
    (
        prop_oneof![
            Just(None),
            Just(Some(HeaderKind::App)),
            Just(Some(HeaderKind::Runtime)),
            Just(Some(HeaderKind::Fragment))
        ],
        proptest::option::of(spanned()),
        (
            proptest::option::of(spanned()),
            proptest::option::of(spanned()),
            proptest::option::of(spanned()),
            proptest::option::of(spanned()),
            proptest::option::of(spanned()),
        ),
        prop::collection::vec(spanned(), 0..3),
        prop::collection::vec(extension(), 0..2),
        prop::collection::vec(comment(), 0..2),
    )
        .prop_map(
            |(
                kind,
                id,
                (runtime, runtime_version, sdk, command, base),
                sdk_extensions,
                extensions,
                comments,
            )| {
                let mut header = Header {
                    kind,
                    id,
                    runtime,
                    runtime_version,
                    sdk,
                    command,
                    base,
                    sdk_extensions,
                    extensions,
                    span: Span::default(),
                    comments,
                };
                if kind.is_none() {
                    // Without a block there is no place for an id, and a header is only
                    // there when one of its statements is.
                    header.id = None;
                    header.runtime.get_or_insert_with(|| {
                        Spanned::new("org.example.Platform".into(), Span::default())
                    });
                }
                header
            },
        )
}

fn document() -> impl Strategy<Value = Document> {
    (
        proptest::option::of(header()),
        prop::collection::vec(item(), 0..8),
        prop::collection::vec(comment(), 0..2),
    )
        .prop_map(|(header, items, trailing_comments)| Document {
            input: InputKind::Policy,
            header,
            items,
            trailing_comments,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_gives_the_document_back(doc in document()) {
        let printed = print(&doc);
        let back = reparse(&printed);
        prop_assert_eq!(without_spans(&back), without_spans(&doc), "printed:\n{}", printed);
    }

    #[test]
    fn printing_is_idempotent(doc in document()) {
        let printed = print(&doc);
        let again = print(&reparse(&printed));
        prop_assert_eq!(again, printed);
    }
}

#[test]
fn canonical_layout() {
    let text = "\
# The design document's example.
app com.foo.Bar {
  command my-app
  sdk     org.freedesktop.Sdk
    runtime org.freedesktop.Platform//21.08
  socket wayland, x11   # both
  share network
  include fragments/audio.policy
  network { connect tcp 443 }
  network { bind none }
  limits { memory 512M
    # and processes
    processes 64 }
  env \"QT_QPA_PLATFORM=wayland;xcb\"
  filesystem \"~/My Files:ro\" except ~/.ssh,~/.gnupg
}
";
    let expected = "\
# The design document's example.
app com.foo.Bar {
    runtime org.freedesktop.Platform//21.08
    sdk org.freedesktop.Sdk
    command my-app

    socket wayland
    socket x11  # both
    share network

    include \"fragments/audio.policy\"

    network { connect tcp 443; bind none }

    limits {
        memory 512M
        # and processes
        processes 64
    }

    env \"QT_QPA_PLATFORM=wayland;xcb\"

    filesystem \"~/My Files:ro\" except ~/.ssh, ~/.gnupg
}
";
    let printed = print(&reparse(text));
    assert_eq!(printed, expected);
    assert_eq!(print(&reparse(&printed)), printed);
}

#[test]
fn unknown_statements_print_as_written_when_they_read_back() {
    let d = reparse("sokcet wayland\n");
    assert_eq!(print(&d), "sokcet wayland\n");
    let d = Document {
        input: InputKind::FinishArgs,
        header: None,
        items: vec![Item {
            kind: ItemKind::Unknown {
                raw: Spanned::new("--frobnicate=yes please".into(), Span::default()),
            },
            span: Span::default(),
            dialect: Dialect::FinishArgs,
            leading_comments: vec![],
        }],
        trailing_comments: vec![],
    };
    assert_eq!(print(&d), "--frobnicate=yes please\n");
    let d = Document {
        items: vec![Item {
            kind: ItemKind::Unknown {
                raw: Spanned::new("socket x11".into(), Span::default()),
            },
            ..d.items[0].clone()
        }],
        ..d
    };
    assert_eq!(print(&d), "unknown \"socket x11\"\n");
}

#[test]
fn long_sdk_extension_lists_wrap() {
    let text = "app a.b.C {\n    sdk-extensions org.freedesktop.Sdk.Extension.llvm18, org.freedesktop.Sdk.Extension.node20, org.freedesktop.Sdk.Extension.openjdk21\n}\n";
    let printed = print(&reparse(text));
    assert_eq!(
        printed,
        "app a.b.C {\n    sdk-extensions org.freedesktop.Sdk.Extension.llvm18,\n            org.freedesktop.Sdk.Extension.node20,\n            org.freedesktop.Sdk.Extension.openjdk21\n}\n"
    );
    assert_eq!(
        without_spans(&reparse(&printed)),
        without_spans(&reparse(text))
    );
}
