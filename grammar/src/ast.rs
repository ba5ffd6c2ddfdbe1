//! The AST: permissions exactly as written, with spans, before any checking.
//!
//! One AST serves every input form. The policy-language parser builds it from `.policy`
//! text; the importers in `portcullis-compiler` build it from Flatpak manifests, metadata
//! keyfiles and bare finish-args lists, with spans pointing into those files. Values are
//! kept as the strings the user wrote (`socket` values, filesystem tokens with their
//! suffixes, bus names): validating them is the checker's job, so that every mistake gets
//! a diagnostic on its own span instead of a parse failure.
//!
//! [`Dialect`] records which rules apply when the statements are lowered, because Flatpak
//! itself reads the same words differently on the command line (finish-args) and in a
//! keyfile (for example `fallback-x11` also sets `x11` only on the command line).

use crate::source::{Span, Spanned};

/// Which reading rules apply to a document's statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Dialect {
    /// The portcullis policy language: command-line meaning, unknown values are errors.
    Policy,
    /// Flatpak command-line options (`finish-args`, a bare list): unknown values are errors.
    FinishArgs,
    /// A Flatpak metadata keyfile: unknown share/socket/device/feature values are ignored
    /// (with a warning), as Flatpak does; `fallback-x11` touches only its own bit.
    Keyfile,
}

/// What kind of input a document came from (for diagnostics and `explain`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum InputKind {
    /// A `.policy` file.
    Policy,
    /// A Flatpak manifest in JSON (comments allowed).
    ManifestJson,
    /// A Flatpak manifest in YAML.
    ManifestYaml,
    /// A Flatpak metadata keyfile.
    Keyfile,
    /// A bare list of finish-args (JSON array or one option per line).
    FinishArgs,
}

/// One parsed or imported input.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Document {
    /// Where the document came from.
    pub input: InputKind,
    /// The app or runtime header, when the input has one.
    pub header: Option<Header>,
    /// Permission statements in source order. Order matters: within one document the
    /// last statement about a bit or key wins, as in Flatpak.
    pub items: Vec<Item>,
    /// Comments that stand on their own lines before the end of the document (policy
    /// language only), kept so that `fmt` does not lose them.
    pub trailing_comments: Vec<Spanned<String>>,
}

/// Whether the header names an application or a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum HeaderKind {
    /// `app ID { … }`, a manifest, or a keyfile with `[Application]`.
    App,
    /// `runtime ID { … }` or a keyfile with `[Runtime]`.
    Runtime,
    /// `fragment { … }`: a reusable piece with no identity of its own.
    Fragment,
}

/// The identity part of a document: what is sandboxed, not what it may do.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Header {
    /// App, runtime or fragment.
    pub kind: Option<HeaderKind>,
    /// The application or runtime id (reverse-DNS).
    pub id: Option<Spanned<String>>,
    /// The runtime ref as written (`org.freedesktop.Platform`, possibly with `//branch`).
    pub runtime: Option<Spanned<String>>,
    /// The runtime version (a manifest's `runtime-version`), kept as written.
    pub runtime_version: Option<Spanned<String>>,
    /// The SDK as written.
    pub sdk: Option<Spanned<String>>,
    /// The command to run.
    pub command: Option<Spanned<String>>,
    /// The base app (manifest `base`), if any.
    pub base: Option<Spanned<String>>,
    /// SDK extensions used at build time (`sdk-extensions`).
    pub sdk_extensions: Vec<Spanned<String>>,
    /// Extensions and extension points (`add-extensions`, `[Extension …]` groups).
    pub extensions: Vec<Extension>,
    /// The span of the whole header (for "missing app id" style findings). In the policy
    /// language this is the whole `app ID { … }` block.
    pub span: Span,
    /// Comments written before the header and among its statements (policy language
    /// only), in source order, kept so that `fmt` does not lose them.
    pub comments: Vec<Spanned<String>>,
}

/// An extension point or extension declared by an app or runtime.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Extension {
    /// The extension name (`org.freedesktop.Platform.ffmpeg-full`).
    pub name: Spanned<String>,
    /// Where it is mounted, relative to `/app` (or `/usr` for a runtime).
    pub directory: Option<Spanned<String>>,
    /// Other keys as written (`version`, `add-ld-path`, `subdirectories`, …), sorted.
    pub properties: Vec<(Spanned<String>, Spanned<String>)>,
    /// The whole declaration.
    pub span: Span,
}

/// One statement, with the span of the whole statement.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Item {
    /// What the statement says.
    pub kind: ItemKind,
    /// The whole statement (a finish-args string, a keyfile list element, a policy line).
    pub span: Span,
    /// How to read it.
    pub dialect: Dialect,
    /// Comments written on the lines just before the statement (policy language only).
    pub leading_comments: Vec<Spanned<String>>,
}

/// Which bus a name rule is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Bus {
    /// The session bus.
    Session,
    /// The system bus.
    System,
    /// The accessibility bus (Flatpak 1.15.11+ `--a11y-own-name`).
    Accessibility,
}

/// A D-Bus name policy level as written (`none`, `see`, `talk`, `own`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum BusPolicyWord {
    /// `no-talk-name`, `none`.
    None,
    /// `see` (keyfile and policy language only).
    See,
    /// `talk-name`.
    Talk,
    /// `own-name`.
    Own,
}

/// Whether a requirement must hold or is applied as far as the kernel allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum RequirementWord {
    /// `best-effort`.
    BestEffort,
    /// `required`.
    Required,
}

/// The statements of the language. Flatpak's permissions first, then what portcullis adds.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub enum ItemKind {
    /// `share VALUE` / `--share=VALUE`; `negated` for `--unshare` / `!VALUE`.
    Share {
        /// `--unshare` or `!`.
        negated: bool,
        /// `network`, `ipc`, or something unknown.
        value: Spanned<String>,
    },
    /// `socket VALUE` / `--socket=VALUE`; `negated` for `--nosocket`.
    Socket {
        /// `--nosocket` or `!`.
        negated: bool,
        /// The socket name as written.
        value: Spanned<String>,
    },
    /// `device VALUE` / `--device=VALUE`; `negated` for `--nodevice`.
    Device {
        /// `--nodevice` or `!`.
        negated: bool,
        /// The device class as written.
        value: Spanned<String>,
    },
    /// `allow VALUE` / `--allow=VALUE`; `negated` for `--disallow`.
    Allow {
        /// `--disallow` or `!`.
        negated: bool,
        /// The feature as written.
        value: Spanned<String>,
    },
    /// `filesystem TOKEN[:SUFFIX]` / `--filesystem=…`; `negated` for `--nofilesystem`.
    /// The token is Flatpak's raw text, escapes and suffix included.
    Filesystem {
        /// `--nofilesystem` or `!`.
        negated: bool,
        /// The raw token with its suffix (`xdg-download/Bar:create`).
        value: Spanned<String>,
        /// Beyond Flatpak: subpaths masked inside the granted tree (`except ~/.ssh`).
        except: Vec<Spanned<String>>,
    },
    /// `persist PATH` / `--persist=PATH`.
    Persist {
        /// The path relative to home, as written.
        path: Spanned<String>,
    },
    /// `env NAME=VALUE` / `--env=NAME=VALUE`. `raw` is the text after `--env=`; the
    /// checker splits it at the first `=`.
    Env {
        /// `NAME=VALUE` as written.
        raw: Spanned<String>,
    },
    /// `unset-env NAME` / `--unset-env=NAME`.
    UnsetEnv {
        /// The variable name as written.
        name: Spanned<String>,
    },
    /// A D-Bus name rule: `talk-name`, `own-name`, `see-name`, `no-talk-name` and their
    /// `system-` (and `a11y-`) forms, or a `[… Bus Policy]` keyfile entry.
    BusName {
        /// Which bus.
        bus: Bus,
        /// The level granted.
        policy: BusPolicyWord,
        /// The bus name, possibly ending in `.*`.
        name: Spanned<String>,
    },
    /// `add-policy SUBSYSTEM.KEY=VALUE` / `--add-policy`; `remove` for `--remove-policy`.
    GenericPolicy {
        /// `--remove-policy`.
        remove: bool,
        /// `SUBSYSTEM.KEY=VALUE` as written.
        raw: Spanned<String>,
    },
    /// `usb QUERY` / `--usb=QUERY`; `hidden` for `--nousb` / `!QUERY`.
    Usb {
        /// `--nousb` or `!`.
        hidden: bool,
        /// The query as written.
        query: Spanned<String>,
    },
    /// `include "PATH"`: pull in a stock fragment (policy language only).
    Include {
        /// The path as written, relative to the including file or to `policies/`.
        path: Spanned<String>,
    },
    /// Beyond Flatpak: a TCP port rule, `network { connect tcp 443; bind none }`.
    NetworkRule {
        /// `connect` or `bind`.
        direction: Spanned<String>,
        /// Port ranges; empty with `none`.
        ports: Vec<Spanned<(u16, u16)>>,
    },
    /// Beyond Flatpak: a resource limit, `limits { memory 512M }`.
    Limit {
        /// `memory`, `processes`, `open-files`, `cpu-time`, `cpu-share`.
        name: Spanned<String>,
        /// The value as written (`512M`, `128`, `30s`).
        value: Spanned<String>,
    },
    /// Beyond Flatpak: one device node (`device-node /dev/ttyUSB0` with an optional `:ro`).
    DeviceNode {
        /// The node path, with an optional `:ro`/`:rw` suffix.
        path: Spanned<String>,
    },
    /// Beyond Flatpak: a fine-grained D-Bus rule, `dbus-call org.foo.Bar=org.foo.Iface.Method@/path`.
    BusRule {
        /// Which bus.
        bus: Bus,
        /// `call` or `broadcast`.
        broadcast: bool,
        /// `NAME=RULE` as written.
        raw: Spanned<String>,
    },
    /// Beyond Flatpak: how hard a layer must hold, `require landlock required`.
    Require {
        /// `landlock`, `landlock-network`, `scope-abstract-unix`, `scope-signal`, `limits`, …
        feature: Spanned<String>,
        /// Required or best-effort.
        level: RequirementWord,
    },
    /// A Flatpak option that is not a permission (`--command`, `--metadata=…`,
    /// `--require-version`, `--no-desktop`, `--extension=…`), kept for lints and export.
    OtherOption {
        /// The whole argument as written.
        raw: Spanned<String>,
    },
    /// Something that could not be understood at all (an unknown `--option`, a keyfile key
    /// outside the known groups); the checker reports it.
    Unknown {
        /// The text as written.
        raw: Spanned<String>,
    },
}
