//! Lowering: an AST document to Flatpak's context (and the beyond-Flatpak layers), with
//! Flatpak's exact reading of every statement.
//!
//! Statements are applied in order; within one document the last statement about a bit
//! or key wins. The dialect decides the CLI/keyfile differences: on the command line
//! `fallback-x11` also sets `x11` and unknown values are errors; in a keyfile unknown
//! values are ignored with a warning. Every applied statement is also recorded as a
//! [`Fact`] for the document-wide checks.

pub mod beyond;
pub mod identity;

use std::collections::BTreeMap;

use portcullis_ir::context::{BusEntry, EnvEntry, FsEntry, PolicyValue, Setting};
use portcullis_ir::context::{Device, Feature, Share, Socket};
use portcullis_ir::dbus::{self, BusName, BusPolicy};
use portcullis_ir::fs::{FsKey, FsMode};
use portcullis_ir::{Beyond, Context, Origin};
use portcullis_syntax::ast::{Bus, BusPolicyWord, Dialect, Item, ItemKind};
use portcullis_syntax::{SourceFile, Span, Spanned};

use crate::check::fs::{self as fscheck, FsError, FsWarning};
use crate::check::{strings, suggest, values};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Severity};

/// The `allow` word of the portcullis-only io_uring permission.
pub const IO_URING: &str = "io-uring";

/// What one statement said, for the document-wide checks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FactKind {
    /// A share bit.
    Share(Share),
    /// A socket bit.
    Socket(Socket),
    /// A device bit.
    Device(Device),
    /// A feature bit.
    Feature(Feature),
    /// A filesystem key with its mode.
    Fs(FsKey, FsMode),
    /// A bus name rule.
    Bus(dbus::Bus, BusName, BusPolicy),
    /// An env entry (`None` for unset).
    Env(String, Option<String>),
    /// A persist path.
    Persist(String),
}

/// One applied statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    /// What it said.
    pub kind: FactKind,
    /// Granted (or set) rather than revoked.
    pub enabled: bool,
    /// The statement's span.
    pub span: Span,
    /// Where the value is (for labels).
    pub value_span: Span,
}

/// Resolves `include` statements for the lowering.
pub trait Includes {
    /// Loads, checks and lowers the included file; `None` when it could not be (the
    /// diagnostics say why).
    fn include(
        &mut self,
        path: &Spanned<String>,
        from: &SourceFile,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(Context, Beyond)>;
}

/// Includes are refused (for inputs that cannot include).
pub struct NoIncludes;

impl Includes for NoIncludes {
    fn include(
        &mut self,
        path: &Spanned<String>,
        from: &SourceFile,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(Context, Beyond)> {
        diags.push(
            Diagnostic::error(Code::InvalidInclude, "includes are not available here")
                .with_label(path.span, "cannot include")
                .in_file(from),
        );
        None
    }
}

/// The lowering of one document.
pub struct Lowering<'a> {
    /// The file the document came from.
    pub file: &'a SourceFile,
    /// Its index in the policy's sources.
    pub source: u32,
    /// The context built so far.
    pub context: Context,
    /// The beyond-Flatpak layers built so far.
    pub beyond: Beyond,
    /// Every applied statement of this document.
    pub facts: Vec<Fact>,
    /// Findings.
    pub diags: Vec<Diagnostic>,
    /// `[Policy …]` values not yet applied to `context`: applied together (see
    /// [`Context::apply_generic_policies`]) so that many values stay linear.
    pending_policy: Vec<(String, PolicyValue)>,
}

impl<'a> Lowering<'a> {
    /// A lowering for one file.
    pub fn new(file: &'a SourceFile, source: u32) -> Self {
        Lowering {
            file,
            source,
            context: Context::default(),
            beyond: Beyond::default(),
            facts: Vec::new(),
            diags: Vec::new(),
            pending_policy: Vec::new(),
        }
    }

    /// An origin for a span of this file.
    pub fn origin(&self, span: Span) -> Origin {
        Origin {
            source: self.source,
            start: u32::try_from(span.start).unwrap_or(u32::MAX),
            end: u32::try_from(span.end).unwrap_or(u32::MAX),
        }
    }

    pub(crate) fn push(&mut self, diag: Diagnostic) {
        self.diags.push(diag.in_file(self.file));
    }

    /// Applies all statements in order.
    pub fn items(&mut self, items: &[Item], includes: &mut dyn Includes) {
        for item in items {
            self.item(item, includes);
        }
        self.apply_pending_policy();
    }

    /// Applies the buffered `[Policy …]` values, key by key, in statement order.
    fn apply_pending_policy(&mut self) {
        let mut by_key: BTreeMap<String, Vec<PolicyValue>> = BTreeMap::new();
        for (key, value) in self.pending_policy.drain(..) {
            by_key.entry(key).or_default().push(value);
        }
        for (key, values) in by_key {
            self.context.apply_generic_policies(&key, values);
        }
    }

    fn fact(&mut self, kind: FactKind, enabled: bool, item: &Item, value_span: Span) {
        self.facts.push(Fact {
            kind,
            enabled,
            span: item.span,
            value_span,
        });
    }

    /// A value Flatpak does not know: an error on the command line, ignored with a warning
    /// in a keyfile.
    fn unknown_value(
        &mut self,
        what: &str,
        value: &Spanned<String>,
        valid: &[&str],
        dialect: Dialect,
    ) {
        let help = suggest::help(&value.value, valid);
        let diag = if dialect == Dialect::Keyfile {
            Diagnostic::warning(
                Code::UnknownValue,
                format!("unknown {what} `{}`, ignored", value.value),
            )
            .with_label(value.span, format!("not a {what}"))
            .with_help(format!(
                "{help} (Flatpak ignores unknown values in a keyfile)"
            ))
        } else {
            Diagnostic::error(
                Code::UnknownValue,
                format!("unknown {what} `{}`", value.value),
            )
            .with_label(value.span, format!("not a {what}"))
            .with_help(help)
        };
        self.push(diag);
    }

    fn item(&mut self, item: &Item, includes: &mut dyn Includes) {
        let origin = self.origin(item.span);
        if let Some(value) = strings::with_nul(&item.kind) {
            self.push(
                Diagnostic::error(
                    Code::NulByte,
                    format!("`{}` holds a NUL byte", value.value.replace('\0', "\\0")),
                )
                .with_label(value.span, "NUL byte here")
                .with_help("a path, an argument or an environment value ends at its first NUL byte: remove it"),
            );
            return;
        }
        match &item.kind {
            ItemKind::Share { negated, value } => match Share::from_name(&value.value) {
                Some(share) => {
                    let setting = Setting { enabled: !negated, origin };
                    self.context.shares.insert(share, setting);
                    self.fact(FactKind::Share(share), !negated, item, value.span);
                }
                None => self.unknown_value("share type", value, &Share::ALL.iter().map(|v| v.name()).collect::<Vec<_>>(), item.dialect),
            },
            ItemKind::Socket { negated, value } => match Socket::from_name(&value.value) {
                Some(socket) => {
                    let setting = Setting { enabled: !negated, origin };
                    self.context.sockets.insert(socket, setting);
                    // On the command line fallback-x11 also sets (or clears) x11 (M-18, M-20).
                    if socket == Socket::FallbackX11 && item.dialect != Dialect::Keyfile {
                        self.context.sockets.insert(Socket::X11, setting);
                    }
                    self.fact(FactKind::Socket(socket), !negated, item, value.span);
                }
                None => self.unknown_value("socket type", value, &Socket::ALL.iter().map(|v| v.name()).collect::<Vec<_>>(), item.dialect),
            },
            ItemKind::Device { negated, value } => match Device::from_name(&value.value) {
                Some(device) => {
                    let setting = Setting { enabled: !negated, origin };
                    self.context.devices.insert(device, setting);
                    self.fact(FactKind::Device(device), !negated, item, value.span);
                }
                None => self.unknown_value("device type", value, &Device::ALL.iter().map(|v| v.name()).collect::<Vec<_>>(), item.dialect),
            },
            // `allow io-uring` is portcullis's own (Flatpak's filter always allows
            // io_uring): only the policy language has it, and it lives beyond the context.
            // In Flatpak's forms it stays an unknown feature, so import never yields it.
            ItemKind::Allow { negated, value }
                if value.value == IO_URING && item.dialect == Dialect::Policy =>
            {
                self.beyond.io_uring = (!negated).then_some(origin);
            }
            ItemKind::Allow { negated, value } => match Feature::from_name(&value.value) {
                Some(feature) => {
                    let setting = Setting { enabled: !negated, origin };
                    self.context.features.insert(feature, setting);
                    self.fact(FactKind::Feature(feature), !negated, item, value.span);
                }
                None => {
                    let mut valid: Vec<&str> = Feature::ALL.iter().map(|v| v.name()).collect();
                    if item.dialect == Dialect::Policy {
                        valid.push(IO_URING);
                    }
                    self.unknown_value("feature", value, &valid, item.dialect)
                }
            },
            ItemKind::Filesystem {
                negated,
                value,
                except,
            } => {
                self.filesystem(item, *negated, value, origin);
                for path in except {
                    self.deny_mask(path);
                }
            }
            ItemKind::Persist { path } => self.persist(item, path, origin),
            ItemKind::Env { raw } => match values::split_env(&raw.value) {
                Ok((name, value)) => {
                    if !values::is_portable_env_name(name) {
                        self.push(
                            Diagnostic::warning(
                                Code::InvalidEnv,
                                format!("`{name}` is not a portable environment variable name"),
                            )
                            .with_label(raw.span, "unusual name")
                            .with_help("names are usually letters, digits and `_`, not starting with a digit"),
                        );
                    }
                    let entry = EnvEntry {
                        value: Some(value.to_string()),
                        origin,
                    };
                    self.context.env.insert(name.to_string(), entry);
                    let kind = FactKind::Env(name.to_string(), Some(value.to_string()));
                    self.fact(kind, true, item, raw.span);
                }
                Err(message) => self.push(
                    Diagnostic::error(Code::InvalidEnv, message)
                        .with_label(raw.span, "expected `NAME=VALUE`")
                        .with_help("an empty value is written `NAME=`; to unset a variable use `unset-env NAME`"),
                ),
            },
            ItemKind::UnsetEnv { name } => match values::check_unset_env(&name.value) {
                Ok(()) => {
                    let entry = EnvEntry {
                        value: None,
                        origin,
                    };
                    self.context.env.insert(name.value.clone(), entry);
                    self.fact(FactKind::Env(name.value.clone(), None), false, item, name.span);
                }
                Err(message) => self.push(
                    Diagnostic::error(Code::InvalidEnv, message)
                        .with_label(name.span, "not a variable name")
                        .with_help("to set a variable use `env NAME=VALUE`"),
                ),
            },
            ItemKind::BusName { bus, policy, name } => self.bus_name(item, *bus, *policy, name, origin),
            ItemKind::GenericPolicy { remove, raw } => match values::split_policy(&raw.value) {
                Ok((key, value)) => {
                    let value = PolicyValue {
                        value: value.to_string(),
                        removed: *remove,
                        origin,
                    };
                    self.pending_policy.push((key.to_string(), value));
                }
                Err(message) => self.push(
                    Diagnostic::error(Code::InvalidPolicy, message)
                        .with_label(raw.span, "expected `SUBSYSTEM.KEY=VALUE`")
                        .with_help("to remove a value use remove-policy, not a leading `!`"),
                ),
            },
            ItemKind::Usb { hidden, query } => match values::check_usb_query(&query.value) {
                Ok(()) => {
                    let set = if *hidden {
                        &mut self.context.usb_hidden
                    } else {
                        &mut self.context.usb_enumerable
                    };
                    set.insert(query.value.clone());
                }
                Err(message) => self.push(
                    Diagnostic::error(Code::InvalidUsbQuery, message)
                        .with_label(query.span, "invalid USB query")
                        .with_help("rules are all, cls:CC:SS, cls:CC:*, vnd:VVVV and dev:PPPP (with vnd), joined with `+`"),
                ),
            },
            ItemKind::Include { path } => {
                let mut diags = Vec::new();
                let included = includes.include(path, self.file, &mut diags);
                self.diags.extend(diags);
                if let Some((context, beyond)) = included {
                    self.apply_pending_policy();
                    self.context.merge(&context);
                    beyond::merge(&mut self.beyond, beyond);
                }
            }
            ItemKind::OtherOption { raw } => self.other_option(raw),
            ItemKind::Unknown { raw } if item.dialect == Dialect::Policy => {
                self.unknown_statement(raw)
            }
            ItemKind::Unknown { raw } => self.unknown_option(raw),
            ItemKind::NetworkRule { .. }
            | ItemKind::Limit { .. }
            | ItemKind::DeviceNode { .. }
            | ItemKind::BusRule { .. }
            | ItemKind::Require { .. } => beyond::item(self, item, origin),
        }
    }

    fn filesystem(&mut self, item: &Item, negated: bool, value: &Spanned<String>, origin: Origin) {
        let keyfile = item.dialect == Dialect::Keyfile;
        let parsed = match fscheck::parse(&value.value, negated) {
            Ok(parsed) => parsed,
            Err(err) => {
                // In a keyfile only the character-class error is fatal (F-39, F-40).
                let fatal = !keyfile || matches!(err, FsError::NonGraphical(_));
                let severity = if fatal {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                let message = if fatal {
                    err.to_string()
                } else {
                    format!("{err}, ignored")
                };
                self.push(
                    Diagnostic::new(Code::InvalidFilesystem, severity, message)
                        .with_label(value.span, "refused by Flatpak")
                        .with_help(err.help()),
                );
                return;
            }
        };
        for warning in &parsed.warnings {
            let diag = match warning {
                FsWarning::UnknownSuffix(s) => Diagnostic::warning(
                    Code::FilesystemSuffix,
                    if parsed.mode == FsMode::Rw {
                        format!("unexpected filesystem suffix `{s}`: the grant stays read-write")
                    } else {
                        format!("unexpected filesystem suffix `{s}`, ignored")
                    },
                )
                .with_label(value.span, "unknown suffix")
                .with_help(suggest::help(s, &["ro", "rw", "create"])),
                FsWarning::NotApplicable(s) => Diagnostic::warning(
                    Code::FilesystemSuffix,
                    format!("the suffix `{s}` does not apply to a negated filesystem"),
                )
                .with_label(value.span, "ignored: the mode is none")
                .with_help("drop the suffix"),
                FsWarning::DotDotGap => Diagnostic::warning(
                    Code::DotDotGap,
                    format!("`{}` goes up out of the directory it names", value.value),
                )
                .with_label(value.span, "`..` escapes")
                .with_help("Flatpak 1.14 accepts this (it is refused from 1.17.3); name the parent directory itself"),
            };
            self.push(diag);
        }
        let written_path = match &parsed.key {
            FsKey::Absolute(path) | FsKey::HomePath(path) | FsKey::XdgRun(path) => Some(path),
            FsKey::Xdg { sub, .. } => sub.as_ref(),
            _ => None,
        };
        if let Some(Err(why)) = written_path.map(|p| strings::check_path_length(p)) {
            self.path_too_long(value.span, why);
            return;
        }
        if let FsKey::Absolute(path) = &parsed.key {
            if let Some(reserved) = fscheck::reserved_conflict(path) {
                self.push(
                    Diagnostic::warning(
                        Code::ReservedPath,
                        format!("`{path}` is reserved by Flatpak and is not exported"),
                    )
                    .with_label(value.span, format!("conflicts with `{reserved}`"))
                    .with_help("Flatpak drops grants under or above its own paths at run time; use host-os or host-etc for the host's system files"),
                );
            }
        }
        let entry = FsEntry {
            mode: parsed.mode,
            origin,
        };
        if parsed.key == FsKey::HostReset {
            // Negating host-reset also stores host=none (flatpak_context_take_filesystem).
            self.context.filesystems.insert(FsKey::Host, entry);
        }
        self.context.filesystems.insert(parsed.key.clone(), entry);
        let enabled = parsed.mode > FsMode::None;
        self.fact(
            FactKind::Fs(parsed.key, parsed.mode),
            enabled,
            item,
            value.span,
        );
    }

    /// A path that can never exist (too long as a whole or in one component).
    pub(crate) fn path_too_long(&mut self, span: Span, why: String) {
        self.push(
            Diagnostic::error(Code::PathTooLong, why)
                .with_label(span, "can never exist")
                .with_help(format!(
                    "a file name has at most {} bytes and a path at most {}: shorten it",
                    strings::NAME_MAX,
                    strings::PATH_MAX
                )),
        );
    }

    fn deny_mask(&mut self, path: &Spanned<String>) {
        if let Err(why) = strings::check_path_length(&path.value) {
            self.path_too_long(path.span, why);
            return;
        }
        match fscheck::parse(&path.value, false) {
            Ok(parsed) if matches!(parsed.key, FsKey::HomePath(_) | FsKey::Absolute(_)) => {
                if self.beyond.deny.is_empty() {
                    // Said once per document, on its first mask: masks never degrade
                    // silently to the mount plan alone (ARCHITECTURE.md, security notes).
                    self.push(
                        Diagnostic::info(
                            Code::MaskNeedsLandlock,
                            "deny masks need landlock: without it the launch is refused",
                        )
                        .with_label(path.span, "held by landlock filesystem rules (abi 1 or newer)")
                        .with_help("a mask also forbids new entries directly in each directory above it, such as `~` for `~/.ssh`; `portcullis emit --backend landlock --text` shows the rules"),
                    );
                }
                self.beyond.deny.push(portcullis_ir::beyond::DenyMask {
                    path: parsed.key.to_string(),
                    origin: self.origin(path.span),
                });
            }
            _ => self.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` cannot be masked", path.value),
                )
                .with_label(path.span, "expected `~/path` or `/path`")
                .with_help("a deny mask names a path inside a granted tree, such as `~/.ssh`"),
            ),
        }
    }

    fn persist(&mut self, item: &Item, path: &Spanned<String>, origin: Origin) {
        if let Err(err) = fscheck::validate_characters(&path.value) {
            self.push(
                Diagnostic::error(Code::InvalidPersist, err.to_string())
                    .with_label(path.span, "refused by Flatpak")
                    .with_help(err.help()),
            );
            return;
        }
        let mut stored = path.value.as_str();
        if let Some(stripped) = stored.strip_prefix('/') {
            self.push(
                Diagnostic::warning(
                    Code::Deprecated,
                    format!("a leading `/` in persist `{}` is deprecated", path.value),
                )
                .with_label(path.span, "read as relative to home")
                .with_help(format!("write `{stripped}`")),
            );
            stored = stripped;
        }
        if let Err(why) = strings::check_path_length(stored) {
            self.path_too_long(path.span, why);
            return;
        }
        if stored.split('/').any(|c| c == "..") {
            self.push(
                Diagnostic::warning(
                    Code::InvalidPersist,
                    format!(
                        "persist `{}` contains `..` and is skipped at run time",
                        path.value
                    ),
                )
                .with_label(path.span, "`..` is not supported here")
                .with_help("persist takes a path inside home"),
            );
        }
        self.context.persistent.insert(stored.to_string(), origin);
        self.fact(FactKind::Persist(stored.to_string()), true, item, path.span);
    }

    fn bus_name(
        &mut self,
        item: &Item,
        bus: Bus,
        word: BusPolicyWord,
        name: &Spanned<String>,
        origin: Origin,
    ) {
        let parsed = match BusName::new(&name.value) {
            Ok(parsed) => parsed,
            Err(err) => {
                self.push(
                    Diagnostic::error(Code::InvalidBusName, format!("invalid D-Bus name `{}`: {err}", name.value))
                        .with_label(name.span, "refused by Flatpak")
                        .with_help("a name has at least two dot-separated elements; a wildcard is `org.example.*`"),
                );
                return;
            }
        };
        let policy = match word {
            BusPolicyWord::None => BusPolicy::None,
            BusPolicyWord::See => BusPolicy::See,
            BusPolicyWord::Talk => BusPolicy::Talk,
            BusPolicyWord::Own => BusPolicy::Own,
        };
        let (map, ir_bus) = match bus {
            Bus::Session => (&mut self.context.session_bus, dbus::Bus::Session),
            Bus::System => (&mut self.context.system_bus, dbus::Bus::System),
            Bus::Accessibility => (&mut self.context.a11y_bus, dbus::Bus::Accessibility),
        };
        map.insert(parsed.clone(), BusEntry { policy, origin });
        let enabled = policy > BusPolicy::None;
        self.fact(
            FactKind::Bus(ir_bus, parsed, policy),
            enabled,
            item,
            name.span,
        );
    }

    fn other_option(&mut self, raw: &Spanned<String>) {
        let name = raw
            .value
            .trim_start_matches('-')
            .split('=')
            .next()
            .unwrap_or_default();
        match name {
            "no-desktop" => self.push(
                Diagnostic::info(Code::Deprecated, "`--no-desktop` is accepted and ignored by Flatpak")
                    .with_label(raw.span, "no effect")
                    .with_help("remove it"),
            ),
            "socket-if" | "device-if" | "share-if" | "allow-if" => self.push(
                Diagnostic::warning(
                    Code::NewerFlatpak,
                    format!("`--{name}` is a conditional permission of newer Flatpak releases, not applied here"),
                )
                .with_label(raw.span, "not in Flatpak 1.14")
                .with_help("write the unconditional permission if the app needs it"),
            ),
            "env-fd" | "usb-list-file" => self.push(
                Diagnostic::warning(
                    Code::NoCliForm,
                    format!("`--{name}` reads a file descriptor or file at run time and cannot be compiled"),
                )
                .with_label(raw.span, "ignored")
                .with_help("write the values out with `--env` or `--usb`"),
            ),
            _ => {}
        }
    }

    /// A statement word the policy language does not know (a typo, or a newer word).
    fn unknown_statement(&mut self, raw: &Spanned<String>) {
        let text = &raw.value;
        let word = text.split_whitespace().next().unwrap_or_default();
        let keywords = portcullis_syntax::lexical::STATEMENT_KEYWORDS
            .iter()
            .copied()
            .filter(|k| !matches!(*k, "app" | "runtime" | "fragment" | "unknown"));
        let help = if word.starts_with("--") {
            "finish-args options are written as statements: `--share=network` is \
             `share network`"
                .to_string()
        } else {
            match suggest::closest(word, keywords) {
                Some(best) => format!("did you mean `{best}`?"),
                None => "see grammar/README.md for the statements".to_string(),
            }
        };
        self.push(
            Diagnostic::error(Code::UnknownOption, format!("unknown statement `{word}`"))
                .with_label(raw.span, "not a policy-language statement")
                .with_help(help),
        );
    }

    fn unknown_option(&mut self, raw: &Spanned<String>) {
        let text = &raw.value;
        let help = match text.strip_prefix("--") {
            Some(option) => {
                let name = option.split('=').next().unwrap_or_default();
                let options: Vec<&str> = crate::import::args::option_names().collect();
                match suggest::closest(name, options.iter().copied()) {
                    Some(best) => format!("did you mean `--{best}`?"),
                    None => "see `flatpak build-finish --help` for the options".to_string(),
                }
            }
            None => "every finish-args element is one `--option=VALUE`".to_string(),
        };
        self.push(
            Diagnostic::error(Code::UnknownOption, format!("unknown option `{text}`"))
                .with_label(raw.span, "not a Flatpak option")
                .with_help(help),
        );
    }
}
