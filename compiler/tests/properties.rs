//! Property tests: importers never panic on arbitrary input, and export is a fixed point
//! for arbitrary permission sets.

use portcullis_compiler::{compile, export, Form, Options};
use portcullis_syntax::SourceFile;
use proptest::prelude::*;

fn compile_as(text: &str, form: Form) -> portcullis_compiler::Compiled {
    let options = Options {
        form: Some(form),
        ..Options::default()
    };
    compile(&SourceFile::new("input", text.to_string()), &options)
}

const FORMS: [Form; 5] = [
    Form::ManifestJson,
    Form::ManifestYaml,
    Form::Keyfile,
    Form::FinishArgs,
    Form::Policy,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes (as lossy UTF-8) never make any reader or the checker panic, and a
    /// result without a policy always says why.
    #[test]
    fn importers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes).to_string();
        for form in FORMS {
            let compiled = compile_as(&text, form);
            prop_assert!(compiled.policy.is_some() || !compiled.diagnostics.is_empty());
        }
    }

    /// Text made of the characters manifests are made of, in the shapes they take.
    #[test]
    fn structured_garbage_never_panics(text in r#"[\[\]{}":,\-a-z=;!/~.*\\# \n0-9]{0,200}"#) {
        for form in FORMS {
            let compiled = compile_as(&text, form);
            prop_assert!(compiled.policy.is_some() || !compiled.diagnostics.is_empty());
        }
        let manifest = format!("{{\"app-id\": \"org.x.Y\", \"finish-args\": [{text}]}}");
        let _ = compile_as(&manifest, Form::ManifestJson);
        let yaml = format!("app-id: org.x.Y\nfinish-args:\n  - {text}\n");
        let _ = compile_as(&yaml, Form::ManifestYaml);
    }
}

fn option() -> impl Strategy<Value = String> {
    let word = |words: &'static [&'static str]| proptest::sample::select(words);
    prop_oneof![
        (word(&["share", "unshare"]), word(&["network", "ipc"]))
            .prop_map(|(o, v)| format!("--{o}={v}")),
        (
            word(&["socket", "nosocket"]),
            word(&[
                "x11",
                "wayland",
                "fallback-x11",
                "pulseaudio",
                "session-bus",
                "system-bus",
                "ssh-auth",
                "pcsc",
                "cups",
                "gpg-agent"
            ])
        )
            .prop_map(|(o, v)| format!("--{o}={v}")),
        (
            word(&["device", "nodevice"]),
            word(&["dri", "all", "kvm", "shm", "input", "usb"])
        )
            .prop_map(|(o, v)| format!("--{o}={v}")),
        (
            word(&["allow", "disallow"]),
            word(&[
                "devel",
                "multiarch",
                "bluetooth",
                "canbus",
                "per-app-dev-shm"
            ])
        )
            .prop_map(|(o, v)| format!("--{o}={v}")),
        (
            word(&["filesystem", "nofilesystem"]),
            word(&[
                "home",
                "host",
                "host-os",
                "host-etc",
                "xdg-download",
                "xdg-config/app",
                "~/Games",
                "/srv/a\\:b",
                "/opt/x y"
            ]),
            word(&["", ":ro", ":create"])
        )
            .prop_map(|(o, v, m)| if o == "nofilesystem" {
                format!("--{o}={v}")
            } else {
                format!("--{o}={v}{m}")
            }),
        Just("--nofilesystem=host:reset".to_string()),
        (
            word(&["env", "unset-env"]),
            word(&["FOO", "BAR", "A_B"]),
            word(&["", "x", "a=b", "sp ace;semi"])
        )
            .prop_map(|(o, n, v)| if o == "env" {
                format!("--env={n}={v}")
            } else {
                format!("--unset-env={n}")
            }),
        word(&[".config/x", "data", ".local/share/y"]).prop_map(|p| format!("--persist={p}")),
        (
            word(&[
                "talk-name",
                "own-name",
                "no-talk-name",
                "system-talk-name",
                "system-own-name",
                "system-no-talk-name"
            ]),
            word(&["org.a.B", "org.a.*", "com.example.Service"])
        )
            .prop_map(|(o, n)| format!("--{o}={n}")),
        (
            word(&["add-policy", "remove-policy"]),
            word(&["a.b", "x.y.z"]),
            word(&["v1", "v2"])
        )
            .prop_map(|(o, k, v)| format!("--{o}={k}={v}")),
        (
            word(&["usb", "nousb"]),
            word(&["all", "vnd:0fd9", "cls:09:*", "vnd:0fd9+dev:0063"])
        )
            .prop_map(|(o, q)| format!("--{o}={q}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// finish-args → IR → finish-args → IR → finish-args gives the same list twice, and the
    /// same holds for the metadata keyfile and the policy-language text.
    #[test]
    fn export_is_a_fixed_point(list in proptest::collection::vec(option(), 0..24)) {
        let text = serde_json::to_string(&list).unwrap();
        let policy = compile_as(&text, Form::FinishArgs).policy.expect("generated options are valid");

        let (args1, _) = export::finish_args(&policy);
        let again = compile_as(&serde_json::to_string(&args1).unwrap(), Form::FinishArgs).policy.expect("exported args compile");
        prop_assert_eq!(&args1, &export::finish_args(&again).0);

        let (meta1, _) = export::metadata(&policy);
        let again = compile_as(&meta1, Form::Keyfile).policy.expect("exported keyfile compiles");
        prop_assert_eq!(&meta1, &export::metadata(&again).0);

        let text1 = portcullis_syntax::print(&export::document(&policy));
        let again = compile_as(&text1, Form::Policy).policy.expect("exported policy text compiles");
        prop_assert_eq!(&text1, &portcullis_syntax::print(&export::document(&again)));
    }
}

/// Regressions found by `export_is_a_fixed_point`, kept as plain cases: on the command
/// line fallback-x11 also sets x11, so an x11 that differs must be written after it.
#[test]
fn regression_x11_after_fallback() {
    for list in [
        vec!["--socket=fallback-x11", "--socket=x11"],
        vec!["--socket=fallback-x11", "--nosocket=x11"],
        vec!["--nosocket=fallback-x11", "--socket=x11"],
    ] {
        let text = serde_json::to_string(&list).unwrap();
        let policy = compile_as(&text, Form::FinishArgs).policy.unwrap();
        let (args1, _) = export::finish_args(&policy);
        let again = compile_as(&serde_json::to_string(&args1).unwrap(), Form::FinishArgs)
            .policy
            .unwrap();
        assert_eq!(args1, export::finish_args(&again).0, "{list:?}");
        assert_eq!(
            policy
                .context
                .has_socket(portcullis_ir::context::Socket::X11),
            again
                .context
                .has_socket(portcullis_ir::context::Socket::X11),
            "{list:?}"
        );
        let text1 = portcullis_syntax::print(&export::document(&policy));
        let again = compile_as(&text1, Form::Policy).policy.unwrap();
        assert_eq!(
            text1,
            portcullis_syntax::print(&export::document(&again)),
            "{list:?}"
        );
    }
}
