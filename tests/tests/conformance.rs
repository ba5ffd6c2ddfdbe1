//! The conformance cases of `flatpak-semantics.md` §7.1–7.3 that concern parsing, merging
//! and serialisation, as tables run against the compiler.

use portcullis_compiler::check::fs::{self, FsError, FsWarning};
use portcullis_compiler::{compile, export, Code, Form, Options, Severity};
use portcullis_ir::context::{Feature, Share, Socket};
use portcullis_ir::dbus::BusPolicy;
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::{Context, Policy};
use portcullis_syntax::SourceFile;

/// Expected outcome of one filesystem token.
enum Fs {
    Ok(&'static str, FsMode),
    Warn(&'static str, FsMode),
    Err(fn(&FsError) -> bool),
}

fn fs_cases() -> Vec<(&'static str, &'static str, Fs)> {
    use FsMode::*;
    vec![
        ("F-1", "home", Fs::Ok("home", Rw)),
        ("F-2", "host", Fs::Ok("host", Rw)),
        ("F-3", "host-etc", Fs::Ok("host-etc", Rw)),
        ("F-4", "host-os", Fs::Ok("host-os", Rw)),
        ("F-5", "host:ro", Fs::Ok("host", Ro)),
        ("F-6", "home:rw", Fs::Ok("home", Rw)),
        ("F-7", "~/Music", Fs::Ok("~/Music", Rw)),
        (
            "F-8",
            "/srv/obs/debian\\:sid\\:main:create",
            Fs::Ok("/srv/obs/debian:sid:main", Create),
        ),
        (
            "F-9",
            "/srv/c\\:\\\\Program Files\\\\Steam",
            Fs::Ok("/srv/c:\\Program Files\\Steam", Rw),
        ),
        (
            "F-10",
            "/srv/escaped\\unnecessarily",
            Fs::Ok("/srv/escapedunnecessarily", Rw),
        ),
        (
            "F-12",
            "xdg-config/././///.///././.",
            Fs::Ok("xdg-config", Rw),
        ),
        ("F-13", "xdg-config/////", Fs::Ok("xdg-config", Rw)),
        ("F-14", "xdg-run/dbus", Fs::Ok("xdg-run/dbus", Rw)),
        ("F-15", "~", Fs::Ok("home", Rw)),
        ("F-16", "~/.", Fs::Ok("home", Rw)),
        ("F-17", "~/", Fs::Ok("home", Rw)),
        ("F-18", "~///././//", Fs::Ok("home", Rw)),
        ("F-19", "home/", Fs::Ok("home", Rw)),
        ("F-20", "home/Projects", Fs::Ok("~/Projects", Rw)),
        ("F-21", "!home", Fs::Ok("home", None)),
        ("F-22", "!host:reset", Fs::Ok("host-reset", None)),
        ("F-23", "!host-reset", Fs::Ok("host-reset", None)),
        (
            "F-24",
            "",
            Fs::Err(|e| matches!(e, FsError::UnknownLocation(_))),
        ),
        (
            "F-25",
            "homework",
            Fs::Err(|e| matches!(e, FsError::UnknownLocation(_))),
        ),
        (
            "F-26",
            "xdg-download/foo/bar/..",
            Fs::Err(|e| *e == FsError::DotDot),
        ),
        (
            "F-26",
            "xdg-download/../foo/bar",
            Fs::Err(|e| *e == FsError::DotDot),
        ),
        (
            "F-26",
            "xdg-download/foo/../bar",
            Fs::Err(|e| *e == FsError::DotDot),
        ),
        ("F-27", "xdg-download/..", Fs::Warn("xdg-download/..", Rw)),
        ("F-27", "~/..", Fs::Warn("~/..", Rw)),
        ("F-27", "/..", Fs::Warn("/..", Rw)),
        ("F-28", "xdg-run", Fs::Err(|e| *e == FsError::XdgRunBare)),
        ("F-29", "/", Fs::Err(|e| *e == FsError::Root)),
        (
            "F-29",
            "/////././././././//////",
            Fs::Err(|e| *e == FsError::Root),
        ),
        (
            "F-30",
            "host:reset",
            Fs::Err(|e| *e == FsError::ResetNotNegated),
        ),
        (
            "F-31",
            "host-reset",
            Fs::Err(|e| *e == FsError::HostResetNotNegated),
        ),
        (
            "F-32",
            "host-reset:rw",
            Fs::Err(|e| *e == FsError::HostResetNotNegated),
        ),
        (
            "F-32",
            "host-reset:reset",
            Fs::Err(|e| *e == FsError::HostResetNotNegated),
        ),
        (
            "F-32",
            "!host-reset:reset",
            Fs::Err(|e| *e == FsError::HostResetSuffix),
        ),
        (
            "F-33",
            "/foo:reset",
            Fs::Err(|e| *e == FsError::ResetNotHost),
        ),
        (
            "F-33",
            "!/foo:reset",
            Fs::Err(|e| *e == FsError::ResetNotHost),
        ),
        ("F-34", "!/foo:rw", Fs::Warn("/foo", None)),
        ("F-35", "/foo:bar", Fs::Warn("/foo", Rw)),
        ("F-36", "!/foo:bar", Fs::Warn("/foo", None)),
        ("F-37", "/a:b:ro", Fs::Warn("/a", Rw)),
        (
            "F-38",
            "/\u{1b}[J:ro",
            Fs::Err(|e| matches!(e, FsError::NonGraphical(_))),
        ),
        (
            "F-38",
            "/\u{1b}[J",
            Fs::Err(|e| matches!(e, FsError::NonGraphical(_))),
        ),
    ]
}

#[test]
fn filesystem_tokens_f1_to_f38() {
    for (case, input, expected) in fs_cases() {
        let (negated, token) = match input.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let result = fs::parse(token, negated);
        match (expected, result) {
            (Fs::Ok(key, mode), Ok(parsed)) => {
                assert_eq!(parsed.key.to_string(), key, "{case} {input}");
                assert_eq!(parsed.mode, mode, "{case} {input}");
                assert!(
                    parsed.warnings.is_empty(),
                    "{case} {input}: {:?}",
                    parsed.warnings
                );
            }
            (Fs::Warn(key, mode), Ok(parsed)) => {
                assert_eq!(parsed.key.to_string(), key, "{case} {input}");
                assert_eq!(parsed.mode, mode, "{case} {input}");
                assert!(
                    !parsed.warnings.is_empty(),
                    "{case} {input}: expected a warning"
                );
            }
            (Fs::Err(check), Err(err)) => {
                assert!(check(&err), "{case} {input}: wrong error {err:?}")
            }
            (_, other) => panic!("{case} `{input}`: unexpected {other:?}"),
        }
    }
    assert!(
        matches!(fs::parse("/a:b:ro", false).unwrap().warnings[0], FsWarning::UnknownSuffix(ref s) if s == "b:ro")
    );
}

#[test]
fn xdg_dirs_f11() {
    for dir in [
        "xdg-desktop",
        "xdg-documents",
        "xdg-download",
        "xdg-music",
        "xdg-pictures",
        "xdg-public-share",
        "xdg-templates",
        "xdg-videos",
        "xdg-data",
        "xdg-cache",
        "xdg-config",
    ] {
        for token in [dir.to_string(), format!("{dir}/Stuff")] {
            let parsed = fs::parse(&token, false).unwrap();
            assert_eq!(parsed.key.to_string(), token);
            assert_eq!(parsed.mode, FsMode::Rw);
        }
    }
}

fn args(list: &[&str]) -> portcullis_compiler::Compiled {
    let text = serde_json::to_string(list).unwrap();
    compile(&SourceFile::new("args.json", text), &Options::default())
}

fn policy_of(list: &[&str]) -> Policy {
    let compiled = args(list);
    compiled.policy.unwrap_or_else(|| {
        panic!(
            "{list:?}: {:?}",
            compiled
                .diagnostics
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        )
    })
}

fn keyfile(text: &str) -> portcullis_compiler::Compiled {
    let file = SourceFile::new("metadata", text);
    let options = Options {
        form: Some(Form::Keyfile),
        ..Options::default()
    };
    compile(&file, &options)
}

fn keyfile_policy(text: &str) -> Policy {
    let compiled = keyfile(text);
    compiled.policy.unwrap_or_else(|| {
        panic!(
            "{text}: {:?}",
            compiled
                .diagnostics
                .iter()
                .map(|d| &d.message)
                .collect::<Vec<_>>()
        )
    })
}

fn saved(policy: &Policy) -> String {
    export::metadata(policy).0
}

fn line<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no `{key}=` in\n{text}"))
}

fn fs_keys(context: &Context) -> Vec<(String, FsMode)> {
    context
        .filesystems
        .iter()
        .map(|(k, e)| (k.to_string(), e.mode))
        .collect()
}

#[test]
fn merges_m1_m2_in_either_association() {
    let l1 = policy_of(&["--filesystem=/one"]).context;
    let l2 = policy_of(&["--nofilesystem=host:reset", "--filesystem=/two"]).context;
    let l3 = policy_of(&["--nofilesystem=host", "--filesystem=/three"]).context;
    let mut left = l1.clone();
    left.merge(&l2);
    left.merge(&l3);
    let mut right_upper = l2.clone();
    right_upper.merge(&l3);
    let mut right = l1.clone();
    right.merge(&right_upper);
    let expected = vec![
        ("host-reset".to_string(), FsMode::None),
        ("host".to_string(), FsMode::None),
        ("/three".to_string(), FsMode::Rw),
        ("/two".to_string(), FsMode::Rw),
    ];
    assert_eq!(fs_keys(&left), expected, "M-1 lowest first");
    assert_eq!(fs_keys(&right), expected, "M-1 highest first");

    let l4 = policy_of(&["--nofilesystem=host", "--filesystem=/four"]).context;
    let l3b = policy_of(&["--filesystem=host", "--filesystem=/three"]).context;
    let mut merged = l1;
    merged.merge(&l2);
    merged.merge(&l3b);
    merged.merge(&l4);
    let policy = Policy {
        context: merged,
        ..Policy::default()
    };
    let text = saved(&policy);
    let filesystems = line(&text, "filesystems");
    assert!(
        filesystems.starts_with("filesystems=!host:reset;"),
        "M-2 {filesystems}"
    );
    assert!(filesystems.contains(";!host;"), "M-2 {filesystems}");
    assert!(!filesystems.contains("/one"), "M-2 {filesystems}");
    let (list, _) = export::finish_args(&policy);
    let first_fs = list.iter().find(|a| a.contains("filesystem")).unwrap();
    assert_eq!(first_fs, "--nofilesystem=host:reset", "M-2 to_args");
}

#[test]
fn bitset_save_forms_m3_to_m6() {
    for (input, key, expected) in [
        (
            vec!["--socket=wayland", "--nosocket=ssh-auth"],
            "sockets",
            "wayland;!ssh-auth;",
        ),
        (
            vec!["--device=dri", "--nodevice=kvm"],
            "devices",
            "dri;!kvm;",
        ),
        (
            vec!["--share=network", "--unshare=ipc"],
            "shared",
            "network;!ipc;",
        ),
        (
            vec!["--allow=multiarch", "--disallow=bluetooth"],
            "features",
            "multiarch;!bluetooth;",
        ),
    ] {
        let text = saved(&policy_of(&input));
        assert_eq!(line(&text, key), format!("{key}={expected}"), "{input:?}");
    }
}

#[test]
fn env_and_filesystem_save_m7_m8_m9() {
    let text = saved(&policy_of(&[
        "--env=FOO=BAR",
        "--env=BAR=",
        "--unset-env=CLEARME",
    ]));
    assert!(
        text.contains("\nFOO=BAR\n") && text.contains("\nBAR=\n"),
        "M-7 {text}"
    );
    assert_eq!(
        line(&text, "unset-environment"),
        "unset-environment=CLEARME;"
    );
    let text = saved(&policy_of(&[
        "--filesystem=home",
        "--filesystem=xdg-desktop/foo:create",
        "--filesystem=xdg-config:ro",
        "--filesystem=/media",
        "--nofilesystem=xdg-documents",
    ]));
    let list: Vec<&str> = line(&text, "filesystems")["filesystems=".len()..]
        .split(';')
        .filter(|s| !s.is_empty())
        .collect();
    let mut sorted = list.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "!xdg-documents",
            "/media",
            "home",
            "xdg-config:ro",
            "xdg-desktop/foo:create"
        ],
        "M-8"
    );
    for reset in ["--nofilesystem=host:reset", "--nofilesystem=host-reset"] {
        let text = saved(&policy_of(&[reset]));
        let fs = line(&text, "filesystems");
        assert!(
            fs.contains("!host;") && fs.contains("!host:reset;") && !fs.contains("host-reset"),
            "M-9 {fs}"
        );
    }
}

#[test]
fn bus_policies_m10_m11_m21() {
    for prefix in ["", "system-"] {
        let policy = policy_of(&[
            &format!("--{prefix}own-name=org.foo.Own"),
            &format!("--{prefix}talk-name=org.foo.Talk"),
            &format!("--{prefix}talk-name=org.foo.NoTalk"),
            &format!("--{prefix}no-talk-name=org.foo.NoTalk"),
        ]);
        let text = saved(&policy);
        let group = if prefix.is_empty() {
            "[Session Bus Policy]"
        } else {
            "[System Bus Policy]"
        };
        let section = text.split(group).nth(1).expect("group written");
        for expected in [
            "org.foo.Own=own",
            "org.foo.Talk=talk",
            "org.foo.NoTalk=none",
        ] {
            assert!(section.contains(expected), "M-10/11 {expected} in {text}");
        }
    }
    let mut app = policy_of(&["--talk-name=org.a.B"]).context;
    app.merge(&policy_of(&["--no-talk-name=org.a.B"]).context);
    let entry = app.session_bus.values().next().unwrap();
    assert_eq!(entry.policy, BusPolicy::None, "M-21");
}

#[test]
fn keyfile_round_trip_m12_m13_m14() {
    let text = "[Application]\nname=org.test.App\n\n[Context]\nshared=network;ipc;\nsockets=x11;wayland;pulseaudio;session-bus;system-bus;fallback-x11;ssh-auth;pcsc;cups;gpg-agent;\ndevices=dri;all;kvm;shm;\nfeatures=devel;multiarch;bluetooth;canbus;per-app-dev-shm;\nfilesystems=host;/home;!/opt;\npersistent=.openarena;\n";
    let policy = keyfile_policy(text);
    let out = saved(&policy);
    let fs = line(&out, "filesystems");
    assert_eq!(
        fs, "filesystems=host;/home;!/opt;",
        "M-12 (special keys first, then paths in order)"
    );
    assert_eq!(line(&out, "sockets"), "sockets=x11;wayland;pulseaudio;session-bus;system-bus;fallback-x11;ssh-auth;pcsc;cups;gpg-agent;");
    assert_eq!(line(&out, "devices"), "devices=dri;all;kvm;shm;");
    assert_eq!(line(&out, "persistent"), "persistent=.openarena;");
    let again = keyfile_policy(&out);
    assert_eq!(
        again.context,
        policy.context.clone().with_origins_of(&again.context),
        "M-12 round trip"
    );

    let policy = keyfile_policy("[Application]\nname=org.test.App\n[Environment]\nLD_PRELOAD=\n[Context]\nunset-environment=LD_PRELOAD;LD_AUDIT;\n");
    assert_eq!(
        policy.context.env["LD_PRELOAD"].value, None,
        "M-13 unset wins"
    );
    assert_eq!(policy.context.env["LD_AUDIT"].value, None);
    let out = saved(&policy);
    assert!(
        out.contains("\nLD_AUDIT=\n") && out.contains("\nLD_PRELOAD=\n"),
        "M-13 {out}"
    );
    assert_eq!(
        line(&out, "unset-environment"),
        "unset-environment=LD_AUDIT;LD_PRELOAD;"
    );

    let policy = keyfile_policy(
        "[Application]\nname=org.test.App\n[Policy MyPolicy]\nColours=blue;green;\n",
    );
    let values: Vec<&str> = policy.context.generic_policy["MyPolicy.Colours"]
        .iter()
        .map(|v| v.value.as_str())
        .collect();
    assert_eq!(values, ["blue", "green"], "M-14");
    assert!(saved(&policy).contains("[Policy MyPolicy]\nColours=blue;green;\n"));
}

/// Comparing contexts whose origins differ: copy the origins over.
trait WithOrigins {
    fn with_origins_of(self, other: &Context) -> Context;
}

impl WithOrigins for Context {
    fn with_origins_of(mut self, other: &Context) -> Context {
        for (k, v) in self.shares.iter_mut() {
            v.origin = other.shares[k].origin;
        }
        for (k, v) in self.sockets.iter_mut() {
            v.origin = other.sockets[k].origin;
        }
        for (k, v) in self.devices.iter_mut() {
            v.origin = other.devices[k].origin;
        }
        for (k, v) in self.features.iter_mut() {
            v.origin = other.features[k].origin;
        }
        for (k, v) in self.filesystems.iter_mut() {
            v.origin = other.filesystems[k].origin;
        }
        for (k, v) in self.persistent.iter_mut() {
            *v = other.persistent[k];
        }
        self
    }
}

#[test]
fn list_order_and_fallback_m17_to_m20() {
    let policy =
        keyfile_policy("[Application]\nname=org.test.App\n[Context]\nshared=network;!network;\n");
    assert!(!policy.context.has_share(Share::Network), "M-17");
    let policy = policy_of(&["--socket=fallback-x11"]);
    assert!(
        policy.context.has_socket(Socket::X11) && policy.context.has_socket(Socket::FallbackX11),
        "M-18"
    );
    let policy =
        keyfile_policy("[Application]\nname=org.test.App\n[Context]\nsockets=fallback-x11;\n");
    assert!(!policy.context.sockets.contains_key(&Socket::X11), "M-19");
    let mut base = policy_of(&["--socket=x11"]).context;
    base.merge(&policy_of(&["--nosocket=fallback-x11"]).context);
    assert!(!base.has_socket(Socket::X11), "M-20");
}

#[test]
fn generic_policy_m22_m23_and_persist_m24() {
    for bad in ["--add-policy=foo=bar", "--add-policy=a.b=!x"] {
        let compiled = args(&[bad]);
        assert!(
            compiled
                .diagnostics
                .iter()
                .any(|d| d.code == Code::InvalidPolicy),
            "M-22 {bad}"
        );
        assert!(compiled.is_invalid());
    }
    let policy = policy_of(&["--add-policy=a.b=x", "--remove-policy=a.b=x"]);
    let list = &policy.context.generic_policy["a.b"];
    assert_eq!(list.len(), 1, "M-23");
    assert!(list[0].removed && list[0].value == "x");
    let mut base = policy_of(&["--persist=a"]).context;
    base.merge(&Context::default());
    assert!(base.persistent.contains_key("a"), "M-24");
}

#[test]
fn keyfile_bus_rules_m26_m27_m28() {
    let compiled =
        keyfile("[Application]\nname=org.test.App\n[Accessibility Bus Policy]\norg.a.B=own\n");
    assert!(compiled.policy.unwrap().context.a11y_bus.is_empty(), "M-26");
    assert!(compiled
        .diagnostics
        .iter()
        .any(|d| d.code == Code::IgnoredGroup));
    for bad in [":1.5", "org.*"] {
        let compiled = keyfile(&format!(
            "[Application]\nname=org.test.App\n[Session Bus Policy]\n{bad}=talk\n"
        ));
        assert!(
            compiled.policy.is_none() && compiled.is_invalid(),
            "M-27 {bad}"
        );
    }
    let compiled =
        keyfile("[Application]\nname=org.test.App\n[Session Bus Policy]\norg.a.B=maybe\n");
    let policy = compiled.policy.expect("M-28 loads");
    assert!(policy.context.session_bus.is_empty(), "M-28 entry ignored");
}

#[test]
fn keyfile_errors_f39_f40_e14() {
    let compiled = keyfile("[Application]\nname=org.test.App\n[Context]\nfilesystems=\u{1b}[J;\n");
    assert!(compiled.is_invalid(), "F-39 filesystems");
    let compiled = keyfile("[Application]\nname=org.test.App\n[Context]\npersistent=\u{1b}[J;\n");
    assert!(compiled.is_invalid(), "F-39 persistent");
    let policy =
        keyfile_policy("[Application]\nname=org.test.App\n[Context]\nfilesystems=bogus;home;\n");
    assert_eq!(
        fs_keys(&policy.context),
        [("home".to_string(), FsMode::Rw)],
        "F-40"
    );
    let compiled = keyfile("[Application]\nname=org.test.App\n[Context]\nsockets=foo;x11;\n");
    assert!(!compiled.is_invalid(), "E-14");
    assert!(compiled
        .diagnostics
        .iter()
        .any(|d| d.code == Code::UnknownValue && d.severity == Severity::Warning));
    assert!(
        compiled.policy.unwrap().context.has_socket(Socket::X11),
        "E-14"
    );
}

#[test]
fn options_e7_e8_e13_e15_e16() {
    for (case, bad, code) in [
        ("E-7", "--env=NOEQUALS", Code::InvalidEnv),
        ("E-7", "--env==v", Code::InvalidEnv),
        ("E-8", "--unset-env=A=B", Code::InvalidEnv),
        ("E-13", "--socket=foo", Code::UnknownValue),
        ("E-15", "--talk-name=org.*", Code::InvalidBusName),
        ("E-15", "--talk-name=:1.2", Code::InvalidBusName),
        ("E-15", "--own-name=*", Code::InvalidBusName),
    ] {
        let compiled = args(&[bad]);
        assert!(compiled.is_invalid(), "{case} {bad}");
        let diag = compiled.diagnostics.iter().find(|d| d.code == code);
        let diag = diag.unwrap_or_else(|| panic!("{case} {bad}: no {code}"));
        assert!(
            diag.help.is_some() && !diag.labels.is_empty(),
            "{case}: help and label"
        );
    }
    let compiled = args(&["--socket=foo"]);
    let help = compiled.diagnostics[0].help.clone().unwrap();
    assert!(
        help.contains("wayland") && help.contains("x11"),
        "E-13 lists the sockets: {help}"
    );
    let policy = policy_of(&["--talk-name=org.foo.*"]);
    assert_eq!(
        policy.context.session_bus.keys().next().unwrap().as_str(),
        "org.foo.*",
        "E-16"
    );
    assert!(policy_of(&["--allow=devel"])
        .context
        .has_feature(Feature::Devel));
    assert_eq!(
        policy_of(&["--filesystem=home"])
            .context
            .fs_mode(&FsKey::Home),
        FsMode::Rw
    );
}

#[test]
fn finish_args_export_says_fallback_x11_once() {
    let (list, _) = export::finish_args(&policy_of(&["--socket=fallback-x11", "--socket=wayland"]));
    assert!(
        list.contains(&"--socket=fallback-x11".to_string()),
        "{list:?}"
    );
    assert!(!list.contains(&"--socket=x11".to_string()), "{list:?}");
    // x11 differing from fallback-x11 is still said, after it.
    let (list, _) = export::finish_args(&policy_of(&["--socket=fallback-x11", "--nosocket=x11"]));
    let at = |w: &str| list.iter().position(|a| a == w);
    assert!(
        at("--socket=fallback-x11") < at("--nosocket=x11"),
        "{list:?}"
    );
    assert!(at("--nosocket=x11").is_some(), "{list:?}");
}

#[test]
fn keyfile_fallback_x11_alone_keeps_its_meaning() {
    let policy = keyfile_policy(
        "[Application]\nname=org.test.App\n[Context]\nsockets=fallback-x11;wayland;\n",
    );
    let text = portcullis_syntax::print(&export::document(&policy));
    let file = SourceFile::new("meta.policy", text.clone());
    let again = compile(&file, &Options::default()).policy.unwrap();
    assert!(!again.context.has_socket(Socket::X11), "{text}");
    assert!(again.context.has_socket(Socket::FallbackX11), "{text}");
    let (list, _) = export::finish_args(&policy);
    let again = policy_of(&list.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!again.context.has_socket(Socket::X11), "{list:?}");
}

#[test]
fn export_warns_for_each_rule_flatpak_cannot_say() {
    let text = "app org.test.App {\n    filesystem home except ~/.ssh, ~/.gnupg\n    \
                network { connect tcp 443; bind none }\n    limits { memory 512M }\n    \
                device-node /dev/ttyUSB0\n    \
                dbus-call org.freedesktop.Notifications=org.freedesktop.Notifications.Notify\n}\n";
    let compiled = compile(&SourceFile::new("x.policy", text), &Options::default());
    let policy = compiled.policy.expect("valid policy");
    for (target, diags) in [
        ("finish-args", export::finish_args(&policy).1),
        ("metadata", export::metadata(&policy).1),
    ] {
        let messages: Vec<&str> = diags
            .iter()
            .filter(|d| d.code == Code::NotExpressible && d.severity == Severity::Warning)
            .map(|d| d.message.as_str())
            .collect();
        for needle in [
            "~/.ssh",
            "~/.gnupg",
            "connect tcp 443",
            "bind tcp none",
            "memory",
            "/dev/ttyUSB0",
            "org.freedesktop.Notifications=",
        ] {
            assert!(
                messages.iter().any(|m| m.contains(needle)),
                "{target}: no warning naming {needle}: {messages:?}"
            );
        }
        assert!(messages.iter().all(|m| m.contains(target)), "{messages:?}");
    }
    let plain = policy_of(&["--filesystem=home"]);
    assert!(export::finish_args(&plain).1.is_empty());
}

fn policy_diags(text: &str) -> Vec<portcullis_compiler::Diagnostic> {
    compile(&SourceFile::new("x.policy", text), &Options::default()).diagnostics
}

#[test]
fn parse_errors_keep_the_parsers_code() {
    for (text, code) in [
        (
            "app org.test.App {\n    socket wayland\n",
            "portcullis::parse::unclosed-block",
        ),
        (
            "app org.test.App {\n    filesystem \"home\n}\n",
            "portcullis::parse::unclosed-string",
        ),
        (
            "app org.test.App {\n}\n}\n",
            "portcullis::parse::stray-brace",
        ),
    ] {
        let diags = policy_diags(text);
        assert_eq!(diags.len(), 1, "{text}");
        assert_eq!(diags[0].code.to_string(), code, "{text}");
        assert!(diags[0].is_invalid_input());
    }
}

#[test]
fn unknown_suffix_says_read_write_and_typos_name_the_statement() {
    let diags = policy_diags("app org.test.App {\n    filesystem home:rx\n}\n");
    let suffix = diags
        .iter()
        .find(|d| d.code == Code::FilesystemSuffix)
        .expect("a suffix warning");
    assert!(suffix.message.contains("read-write"), "{}", suffix.message);
    assert!(!suffix.message.contains("ignored"), "{}", suffix.message);
    let diags = policy_diags("app org.test.App {\n    sokcet x11\n}\n");
    let unknown = diags
        .iter()
        .find(|d| d.code == Code::UnknownOption)
        .expect("an unknown statement");
    assert!(
        unknown.message.contains("unknown statement `sokcet`"),
        "{}",
        unknown.message
    );
    assert_eq!(unknown.help.as_deref(), Some("did you mean `socket`?"));
    assert!(!unknown.labels[0].text.contains("Flatpak option"));
    // finish-args keep their own wording.
    let compiled = args(&["--sokcet=x11"]);
    assert!(compiled.diagnostics[0].message.contains("unknown option"));
}

#[test]
fn include_accepts_only_policy_language_files() {
    let dir = std::env::temp_dir().join(format!("portcullis-include-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        (
            "passwd",
            "root:x:0:0:root:/root:/bin/bash\n--share=network\n",
        ),
        ("args.json", "[\"--share=network\"]\n"),
        (
            "app.yaml",
            "app-id: org.x.Y\nfinish-args:\n  - --share=network\n",
        ),
        (
            "metadata",
            "[Application]\nname=org.x.Y\n[Context]\nshared=network;\n",
        ),
        ("fragment", "fragment {\n    share network\n}\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    for (name, accepted) in [
        ("passwd", false),
        ("args.json", false),
        ("app.yaml", false),
        ("metadata", false),
        ("fragment", true),
    ] {
        let main = dir.join("main.policy");
        let text = format!("app org.test.App {{\n    include \"{name}\"\n}}\n");
        let file = SourceFile::new(main.to_string_lossy().to_string(), text);
        let compiled = compile(&file, &Options::default());
        if accepted {
            let policy = compiled.policy.expect("a fragment is included");
            assert!(policy.context.has_share(Share::Network));
        } else {
            assert!(compiled.policy.is_none(), "{name} was included");
            let diag = compiled
                .diagnostics
                .iter()
                .find(|d| d.code == Code::InvalidInclude)
                .unwrap_or_else(|| panic!("{name}: no invalid-include"));
            assert!(
                diag.message.contains("not a policy-language file"),
                "{}",
                diag.message
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `udp none` and `allow io-uring`: portcullis-only rules, lowered beyond Flatpak's
/// context; Flatpak's own forms never produce them.
#[test]
fn udp_none_and_allow_io_uring_are_policy_language_only() {
    let text = "app org.test.App {\n    share network\n    \
                network { connect tcp 443; bind none; udp none }\n}\n";
    let policy = compile(&SourceFile::new("x.policy", text), &Options::default())
        .policy
        .expect("valid");
    let net = policy.beyond.network.as_ref().expect("port rules");
    assert!(net.udp_none);
    assert!(policy.beyond.io_uring.is_none());

    let text = "app org.test.App {\n    allow io-uring\n}\n";
    let policy = compile(&SourceFile::new("x.policy", text), &Options::default())
        .policy
        .expect("valid");
    assert!(policy.beyond.io_uring.is_some());
    assert!(policy.context.features.is_empty(), "not a Flatpak feature");
    let text = "app org.test.App {\n    allow io-uring\n    disallow io-uring\n}\n";
    let policy = compile(&SourceFile::new("x.policy", text), &Options::default())
        .policy
        .expect("valid");
    assert!(policy.beyond.io_uring.is_none(), "the last statement wins");

    // finish-args: an unknown feature, as Flatpak's own --allow would say.
    let compiled = args(&["--allow=io-uring"]);
    assert!(compiled.policy.is_none());
    assert!(compiled
        .diagnostics
        .iter()
        .any(|d| d.code == Code::UnknownValue && d.severity == Severity::Error));
    // A keyfile: ignored with a warning, as Flatpak ignores unknown features there.
    let policy =
        keyfile_policy("[Application]\nname=org.test.App\n[Context]\nfeatures=io-uring;devel;\n");
    assert!(policy.beyond.io_uring.is_none());
    assert!(policy.context.has_feature(Feature::Devel));
}

#[test]
fn udp_takes_only_none() {
    let diags = policy_diags("app org.test.App {\n    network { udp tcp 53 }\n}\n");
    assert!(
        diags
            .iter()
            .any(|d| d.code == Code::InvalidValue && d.message.contains("UDP")),
        "{diags:?}"
    );
    let diags = policy_diags("app org.test.App {\n    network { listen none }\n}\n");
    assert!(diags.iter().any(|d| d.code == Code::InvalidValue
        && d.help.as_deref().is_some_and(|h| h.contains("udp none"))));
}

#[test]
fn allow_io_uring_with_port_rules_is_an_error() {
    let text = "app org.test.App {\n    share network\n    allow io-uring\n    \
                network { connect tcp 443 }\n}\n";
    let compiled = compile(&SourceFile::new("x.policy", text), &Options::default());
    assert!(compiled.policy.is_none(), "an error stops the compile");
    let finding = compiled
        .diagnostics
        .iter()
        .find(|d| d.code == Code::IoUringWithPortRules)
        .expect("the finding");
    assert_eq!(finding.severity, Severity::Error);
    assert!(!finding.is_invalid_input(), "a finding about valid input");
    assert_eq!(finding.labels.len(), 2, "both statements are labelled");
}

#[test]
fn export_warns_for_udp_none_and_allow_io_uring_and_the_ast_keeps_them() {
    for (text, needle) in [
        (
            "app org.test.App {\n    share network\n    network { connect tcp 443; udp none }\n}\n",
            "udp none",
        ),
        (
            "app org.test.App {\n    allow io-uring\n}\n",
            "allow io-uring",
        ),
    ] {
        let policy = compile(&SourceFile::new("x.policy", text), &Options::default())
            .policy
            .expect("valid");
        let (list, diags) = export::finish_args(&policy);
        assert!(
            list.iter()
                .all(|a| !a.contains("io-uring") && !a.contains("udp")),
            "{list:?}"
        );
        assert!(
            diags
                .iter()
                .any(|d| d.code == Code::NotExpressible && d.message.contains(needle)),
            "{needle}: {diags:?}"
        );
        assert!(export::metadata(&policy)
            .1
            .iter()
            .any(|d| d.code == Code::NotExpressible && d.message.contains(needle)));
        let printed = portcullis_syntax::print(&export::document(&policy));
        assert!(printed.contains(needle), "{printed}");
        let again = compile(
            &SourceFile::new("again.policy", printed),
            &Options::default(),
        )
        .policy
        .expect("the printed policy compiles");
        assert_eq!(
            again.beyond.io_uring.is_some(),
            policy.beyond.io_uring.is_some()
        );
        assert_eq!(
            again.beyond.network.map(|n| n.udp_none),
            policy.beyond.network.map(|n| n.udp_none)
        );
    }
}
