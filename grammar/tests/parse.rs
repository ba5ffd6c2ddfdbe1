//! What the parser builds: items, spans, comments, header fields, values kept as written.

use portcullis_syntax::ast::{
    Bus, BusPolicyWord, Dialect, Document, HeaderKind, InputKind, Item, ItemKind, RequirementWord,
};
use portcullis_syntax::{parse, ParseErrorKind, SourceFile, Span};

fn doc(text: &str) -> Document {
    let file = SourceFile::new("test.policy", text);
    match parse(&file) {
        Ok(doc) => doc,
        Err(err) => panic!("parse failed: {err} ({:?}) at {:?}", err.kind, err.span),
    }
}

fn error_kind(text: &str) -> ParseErrorKind {
    match parse(&SourceFile::new("bad.policy", text)) {
        Ok(doc) => panic!("expected a parse error, got {doc:#?}"),
        Err(err) => err.kind,
    }
}

fn slice(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

#[test]
fn comma_lists_make_one_item_each_with_its_own_span() {
    let text = "socket wayland, x11,\n    pulseaudio\n";
    let d = doc(text);
    assert_eq!(d.items.len(), 3);
    let values: Vec<(&str, &str)> = d
        .items
        .iter()
        .map(|item| match &item.kind {
            ItemKind::Socket {
                negated: false,
                value,
            } => (value.value.as_str(), slice(text, item.span)),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        values,
        [
            ("wayland", "socket wayland"),
            ("x11", "x11"),
            ("pulseaudio", "pulseaudio")
        ]
    );
    assert!(d.items.iter().all(|i| i.dialect == Dialect::Policy));
    assert_eq!(d.input, InputKind::Policy);
    assert!(d.header.is_none());
}

#[test]
fn negations_use_flatpaks_words() {
    let text = "unshare ipc\nnosocket x11\nnodevice all\ndisallow devel\n\
                nofilesystem host:reset\nno-talk-name org.a.B\nremove-policy a.b=c\nnousb vnd:0fd9\n";
    let kinds: Vec<ItemKind> = doc(text).items.into_iter().map(|i| i.kind).collect();
    assert!(matches!(&kinds[0], ItemKind::Share { negated: true, value } if value.value == "ipc"));
    assert!(matches!(&kinds[1], ItemKind::Socket { negated: true, value } if value.value == "x11"));
    assert!(matches!(&kinds[2], ItemKind::Device { negated: true, value } if value.value == "all"));
    assert!(
        matches!(&kinds[3], ItemKind::Allow { negated: true, value } if value.value == "devel")
    );
    assert!(
        matches!(&kinds[4], ItemKind::Filesystem { negated: true, value, except } if value.value == "host:reset" && except.is_empty())
    );
    assert!(matches!(
        &kinds[5],
        ItemKind::BusName { bus: Bus::Session, policy: BusPolicyWord::None, name } if name.value == "org.a.B"
    ));
    assert!(
        matches!(&kinds[6], ItemKind::GenericPolicy { remove: true, raw } if raw.value == "a.b=c")
    );
    assert!(
        matches!(&kinds[7], ItemKind::Usb { hidden: true, query } if query.value == "vnd:0fd9")
    );
}

#[test]
fn every_bus_name_word() {
    let cases = [
        ("talk-name", Bus::Session, BusPolicyWord::Talk),
        ("own-name", Bus::Session, BusPolicyWord::Own),
        ("see-name", Bus::Session, BusPolicyWord::See),
        ("no-talk-name", Bus::Session, BusPolicyWord::None),
        ("system-talk-name", Bus::System, BusPolicyWord::Talk),
        ("system-own-name", Bus::System, BusPolicyWord::Own),
        ("system-see-name", Bus::System, BusPolicyWord::See),
        ("system-no-talk-name", Bus::System, BusPolicyWord::None),
        ("a11y-own-name", Bus::Accessibility, BusPolicyWord::Own),
        ("a11y-talk-name", Bus::Accessibility, BusPolicyWord::Talk),
    ];
    for (word, bus, policy) in cases {
        let d = doc(&format!("{word} org.example.Name.*\n"));
        assert_eq!(
            d.items[0].kind,
            ItemKind::BusName {
                bus,
                policy,
                name: match &d.items[0].kind {
                    ItemKind::BusName { name, .. } => name.clone(),
                    other => panic!("{word}: {other:?}"),
                },
            },
            "{word}"
        );
    }
}

#[test]
fn filesystem_tokens_stay_raw_and_except_lists_attach() {
    let text = r#"filesystem /srv/obs/debian\:sid\:main:create
filesystem "/srv/c\\:\\\\Program Files\\\\Steam"
filesystem home:ro except ~/.gnupg, ~/.ssh
"#;
    let d = doc(text);
    let fs: Vec<(String, Vec<String>)> = d
        .items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::Filesystem { value, except, .. } => (
                value.value.clone(),
                except.iter().map(|e| e.value.clone()).collect(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(fs[0].0, r"/srv/obs/debian\:sid\:main:create");
    assert_eq!(fs[1].0, r"/srv/c\:\\Program Files\\Steam");
    assert_eq!(
        fs[2],
        (
            "home:ro".to_string(),
            vec!["~/.gnupg".into(), "~/.ssh".into()]
        )
    );
    // The span of the last item covers its except list.
    assert_eq!(
        slice(text, d.items[2].span),
        "filesystem home:ro except ~/.gnupg, ~/.ssh"
    );
}

#[test]
fn unknown_values_and_words_parse_for_the_checker() {
    let d = doc("socket foo\nsokcet wayland\n--share=network\n");
    assert!(matches!(&d.items[0].kind, ItemKind::Socket { value, .. } if value.value == "foo"));
    assert!(matches!(&d.items[1].kind, ItemKind::Unknown { raw } if raw.value == "sokcet wayland"));
    assert!(
        matches!(&d.items[2].kind, ItemKind::Unknown { raw } if raw.value == "--share=network")
    );
}

#[test]
fn header_block_collects_identity() {
    let text = "\
# before
app com.foo.Bar {
    runtime org.freedesktop.Platform//21.08
    runtime-version 21.08
    sdk org.freedesktop.Sdk
    sdk-extensions org.freedesktop.Sdk.Extension.node12,
        org.freedesktop.Sdk.Extension.openjdk11
    sdk-extensions org.freedesktop.Sdk.Extension.llvm16
    base org.electronjs.Electron2.BaseApp
    command my-app
    extension org.freedesktop.Platform.ffmpeg-full { directory lib/ffmpeg; version 21.08; add-ld-path . }
    extension org.example.Plugin
    share network
}
";
    let d = doc(text);
    let h = d.header.expect("header");
    assert_eq!(h.kind, Some(HeaderKind::App));
    assert_eq!(h.id.map(|i| i.value).as_deref(), Some("com.foo.Bar"));
    assert_eq!(
        h.runtime.map(|v| v.value).as_deref(),
        Some("org.freedesktop.Platform//21.08")
    );
    assert_eq!(h.runtime_version.map(|v| v.value).as_deref(), Some("21.08"));
    assert_eq!(
        h.sdk.map(|v| v.value).as_deref(),
        Some("org.freedesktop.Sdk")
    );
    assert_eq!(h.sdk_extensions.len(), 3);
    assert_eq!(
        h.base.map(|v| v.value).as_deref(),
        Some("org.electronjs.Electron2.BaseApp")
    );
    assert_eq!(h.command.map(|v| v.value).as_deref(), Some("my-app"));
    assert_eq!(h.extensions.len(), 2);
    let ffmpeg = &h.extensions[0];
    assert_eq!(
        ffmpeg.directory.as_ref().map(|d| d.value.as_str()),
        Some("lib/ffmpeg")
    );
    let keys: Vec<&str> = ffmpeg
        .properties
        .iter()
        .map(|(k, _)| k.value.as_str())
        .collect();
    assert_eq!(keys, ["add-ld-path", "version"], "properties are sorted");
    assert_eq!(h.comments.len(), 1);
    assert_eq!(
        slice(text, h.span).lines().next(),
        Some("app com.foo.Bar {")
    );
    assert!(slice(text, h.span).ends_with('}'));
    assert_eq!(d.items.len(), 1);
}

#[test]
fn runtime_and_fragment_blocks() {
    let d = doc("runtime org.example.Platform {\n    share network\n}\n");
    assert_eq!(
        d.header.as_ref().and_then(|h| h.kind),
        Some(HeaderKind::Runtime)
    );
    let d = doc("fragment {\n    socket pulseaudio\n}\n");
    let h = d.header.expect("header");
    assert_eq!(h.kind, Some(HeaderKind::Fragment));
    assert!(h.id.is_none());
}

#[test]
fn bare_header_statements_make_a_header_without_kind() {
    let d = doc("runtime org.freedesktop.Platform//23.08\nshare network\n");
    let h = d.header.expect("header");
    assert_eq!(h.kind, None);
    assert_eq!(
        h.runtime.map(|v| v.value).as_deref(),
        Some("org.freedesktop.Platform//23.08")
    );
    assert_eq!(d.items.len(), 1);
}

#[test]
fn comments_attach_to_the_next_item_or_end_their_line() {
    let text = "\
app a.b.C {
    # own line, about sockets
    socket wayland  # end of line
    # dangling at the end
}
# after the block
";
    let d = doc(text);
    let item: &Item = &d.items[0];
    let comments: Vec<&str> = item
        .leading_comments
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(comments, ["own line, about sockets", "end of line"]);
    assert!(item.leading_comments[1].span.start > item.span.end);
    let trailing: Vec<&str> = d
        .trailing_comments
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(trailing, ["dangling at the end", "after the block"]);
}

#[test]
fn network_limits_device_node_bus_rules_require() {
    let text = "\
network { connect tcp 443, 8000-8080; bind none }
network connect tcp 8443
limits {
    memory 512M
    processes 64; open-files 1024
    cpu-time 60s; cpu-share 50%
}
device-node /dev/ttyUSB0:ro
dbus-call org.foo.Bar=org.foo.Iface.Method@/path
system-dbus-broadcast org.foo.Bar=*
require landlock required
require scope-signal best-effort
usb vnd:0fd9+dev:0063
";
    let d = doc(text);
    let kinds: Vec<&ItemKind> = d.items.iter().map(|i| &i.kind).collect();
    match kinds[0] {
        ItemKind::NetworkRule { direction, ports } => {
            assert_eq!(direction.value, "connect");
            let p: Vec<(u16, u16)> = ports.iter().map(|p| p.value).collect();
            assert_eq!(p, [(443, 443), (8000, 8080)]);
            assert_eq!(slice(text, ports[1].span), "8000-8080");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(kinds[1], ItemKind::NetworkRule { direction, ports } if direction.value == "bind" && ports.is_empty())
    );
    assert!(
        matches!(kinds[2], ItemKind::NetworkRule { ports, .. } if ports[0].value == (8443, 8443))
    );
    let limits: Vec<(&str, &str)> = kinds[3..8]
        .iter()
        .map(|k| match k {
            ItemKind::Limit { name, value } => (name.value.as_str(), value.value.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        limits,
        [
            ("memory", "512M"),
            ("processes", "64"),
            ("open-files", "1024"),
            ("cpu-time", "60s"),
            ("cpu-share", "50%")
        ]
    );
    assert!(matches!(kinds[8], ItemKind::DeviceNode { path } if path.value == "/dev/ttyUSB0:ro"));
    assert!(
        matches!(kinds[9], ItemKind::BusRule { bus: Bus::Session, broadcast: false, raw } if raw.value == "org.foo.Bar=org.foo.Iface.Method@/path")
    );
    assert!(matches!(
        kinds[10],
        ItemKind::BusRule {
            bus: Bus::System,
            broadcast: true,
            ..
        }
    ));
    assert!(
        matches!(kinds[11], ItemKind::Require { feature, level: RequirementWord::Required } if feature.value == "landlock")
    );
    assert!(matches!(
        kinds[12],
        ItemKind::Require {
            level: RequirementWord::BestEffort,
            ..
        }
    ));
    assert!(
        matches!(kinds[13], ItemKind::Usb { hidden: false, query } if query.value == "vnd:0fd9+dev:0063")
    );
}

#[test]
fn env_persist_include_option_and_quoting() {
    let text = "\
env \"QT_QPA_PLATFORM=wayland;xcb\", GTK_THEME=Adwaita:dark
unset-env LD_PRELOAD
persist .mozilla
include \"fragments/audio.policy\"
include fragments/gui-wayland.policy
option --require-version=1.0
unknown \"--metadata=X-DConf=migrate-path=/org/x/\"
";
    let d = doc(text);
    let v: Vec<String> = d
        .items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::Env { raw } => format!("env:{}", raw.value),
            ItemKind::UnsetEnv { name } => format!("unset:{}", name.value),
            ItemKind::Persist { path } => format!("persist:{}", path.value),
            ItemKind::Include { path } => format!("include:{}", path.value),
            ItemKind::OtherOption { raw } => format!("option:{}", raw.value),
            ItemKind::Unknown { raw } => format!("unknown:{}", raw.value),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        v,
        [
            "env:QT_QPA_PLATFORM=wayland;xcb",
            "env:GTK_THEME=Adwaita:dark",
            "unset:LD_PRELOAD",
            "persist:.mozilla",
            "include:fragments/audio.policy",
            "include:fragments/gui-wayland.policy",
            "option:--require-version=1.0",
            "unknown:--metadata=X-DConf=migrate-path=/org/x/",
        ]
    );
}

#[test]
fn semicolons_separate_statements_and_keywords_need_a_boundary() {
    let d = doc("share network; socket x11;; device dri\nshared foo\n");
    assert_eq!(d.items.len(), 4);
    assert!(matches!(&d.items[3].kind, ItemKind::Unknown { raw } if raw.value == "shared foo"));
}

#[test]
fn hash_inside_a_word_is_not_a_comment() {
    let d = doc("filesystem ~/a#b # real comment\n");
    assert!(
        matches!(&d.items[0].kind, ItemKind::Filesystem { value, .. } if value.value == "~/a#b")
    );
    assert_eq!(d.items[0].leading_comments[0].value, "real comment");
}

#[test]
fn crlf_line_endings() {
    let d = doc("app a.b.C {\r\n    socket x11 # c\r\n}\r\n");
    assert_eq!(d.items.len(), 1);
    assert_eq!(d.items[0].leading_comments[0].value, "c");
}

#[test]
fn syntax_errors_have_kinds() {
    assert_eq!(
        error_kind("app a {\n socket x11\n"),
        ParseErrorKind::UnclosedBlock
    );
    assert_eq!(error_kind("socket\n"), ParseErrorKind::MissingValue);
    assert_eq!(error_kind("socket \"x\n"), ParseErrorKind::UnclosedString);
    assert_eq!(error_kind("socket x\n}\n"), ParseErrorKind::StrayBrace);
    assert_eq!(error_kind("env \"\\q\"\n"), ParseErrorKind::BadEscape);
    assert_eq!(error_kind("command a, b\n"), ParseErrorKind::TooManyValues);
    assert_eq!(error_kind("sdk a\nsdk b\n"), ParseErrorKind::Duplicate);
    assert_eq!(
        error_kind("app a {\n}\nshare network\n"),
        ParseErrorKind::OutsideBlock
    );
    assert_eq!(
        error_kind("app a {\n}\napp b {\n}\n"),
        ParseErrorKind::ExtraBlock
    );
    assert_eq!(
        error_kind("network connect tcp 65536\n"),
        ParseErrorKind::BadPort
    );
    assert_eq!(
        error_kind("network connect udp 53\n"),
        ParseErrorKind::Unexpected
    );
}

#[test]
fn error_codes_are_stable_strings() {
    use miette::Diagnostic;
    let err = parse(&SourceFile::new("x", "socket\n")).expect_err("missing value");
    assert_eq!(
        err.code().map(|c| c.to_string()).as_deref(),
        Some("portcullis::parse::missing-value")
    );
    assert!(err.help().is_some());
    assert_eq!(err.labels().map(|l| l.count()), Some(1));
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let d = doc("\u{feff}app a.b.C {\n    socket x11\n}\n");
    assert_eq!(d.header.and_then(|h| h.kind), Some(HeaderKind::App));
    assert_eq!(d.items.len(), 1);
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(doc("").items.len(), 0);
    let d = doc("# nothing but a comment\n\n# and another");
    assert_eq!(d.trailing_comments.len(), 2);
    assert!(d.header.is_none());
}

/// `udp none` is a network rule like `bind none` (the checker decides that `udp` takes
/// only `none`); `allow io-uring` is an ordinary `allow` statement (the checker decides
/// that only the policy language knows the word). Both print back as written.
#[test]
fn udp_none_and_allow_io_uring() {
    let text =
        "app org.test.App {\n    allow io-uring\n    network { connect tcp 443; udp none }\n}\n";
    let d = doc(text);
    let kinds: Vec<&ItemKind> = d.items.iter().map(|i| &i.kind).collect();
    assert!(
        matches!(kinds[0], ItemKind::Allow { negated: false, value } if value.value == "io-uring")
    );
    assert!(
        matches!(kinds[2], ItemKind::NetworkRule { direction, ports } if direction.value == "udp" && ports.is_empty())
    );
    let printed = portcullis_syntax::print(&d);
    assert!(printed.contains("allow io-uring"), "{printed}");
    assert!(
        printed.contains("network { connect tcp 443; udp none }"),
        "{printed}"
    );
    // A port list after `udp` still parses (as a network rule with ports) so that the
    // checker can say why it is wrong on its own span.
    let d = doc("network udp tcp 53\n");
    assert!(
        matches!(&d.items[0].kind, ItemKind::NetworkRule { direction, ports } if direction.value == "udp" && ports.len() == 1)
    );
}
