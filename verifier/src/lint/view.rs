//! The finish-args view: permissions as Flatpak command-line options, one per statement,
//! each with the origin of the statement that wrote it.
//!
//! flatpak-builder-lint reads the manifest's `finish-args` strings, not a merged context,
//! so its checks need the options as written (`--nosocket=x11` is a finding even though it
//! grants nothing). Every input form is turned into that shape: a manifest's list as is, a
//! keyfile or a policy by spelling each statement as the option Flatpak would take for it.

use portcullis_ir::Origin;
use portcullis_syntax::ast::{Bus, BusPolicyWord, Document, HeaderKind, Item, ItemKind};

/// One option, split at its first `=` (`--talk-name=org.a.B` → `talk-name`, `org.a.B`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishArg {
    /// The option name without the leading `--`.
    pub key: String,
    /// Everything after the first `=` (empty when there is none).
    pub value: String,
    /// Where the option was written.
    pub origin: Origin,
}

impl FinishArg {
    /// Splits one finish-args string the way flatpak-builder-lint does.
    pub fn parse(text: &str, origin: Origin) -> FinishArg {
        let (key, value) = text.split_once('=').unwrap_or((text, ""));
        FinishArg {
            key: key.strip_prefix("--").unwrap_or(key).to_string(),
            value: value.to_string(),
            origin,
        }
    }

    /// The option one statement stands for, pointing at the statement in the document
    /// whose index in [`portcullis_ir::Policy::sources`] is `source`; `None` for what
    /// Flatpak cannot say (includes, rules beyond Flatpak).
    pub fn of_item(item: &Item, source: u32) -> Option<FinishArg> {
        let (key, value) = spell(&item.kind)?;
        Some(FinishArg {
            key,
            value,
            origin: Origin {
                source,
                start: item.span.start as u32,
                end: item.span.end as u32,
            },
        })
    }

    /// The option as one string (`--key=value`).
    pub fn text(&self) -> String {
        if self.value.is_empty() {
            format!("--{}", self.key)
        } else {
            format!("--{}={}", self.key, self.value)
        }
    }
}

/// What kind of thing the permissions belong to; lints that only make sense for apps
/// are skipped for the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// An application.
    App,
    /// A runtime, an extension build or a base app: no finish-args are expected.
    NotApp,
    /// A reusable fragment.
    Fragment,
}

/// The options of one input, in source order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishArgs {
    /// The app id, when the input names one.
    pub app_id: Option<String>,
    /// Where the app id (or the header) was written.
    pub header: Origin,
    /// Whether the input declares permissions at all (a manifest without `finish-args`
    /// does not).
    pub defined: bool,
    /// App, not an app, or fragment.
    pub subject: Subject,
    /// The options.
    pub args: Vec<FinishArg>,
}

impl FinishArgs {
    /// A view of a plain list of finish-args strings (a corpus record, a bare list). All
    /// options point at `origin`.
    pub fn from_strings<S: AsRef<str>>(app_id: Option<&str>, args: &[S], origin: Origin) -> Self {
        FinishArgs {
            app_id: app_id.map(str::to_string),
            header: origin,
            defined: true,
            subject: subject_for(app_id, Some(HeaderKind::App)),
            args: args
                .iter()
                .map(|a| FinishArg::parse(a.as_ref(), origin))
                .collect(),
        }
    }

    /// A view of a parsed or imported document; `source` is the document's index in
    /// [`portcullis_ir::Policy::sources`].
    pub fn from_document(document: &Document, source: u32) -> Self {
        let origin = |span: portcullis_syntax::Span| Origin {
            source,
            start: span.start as u32,
            end: span.end as u32,
        };
        let header = document.header.as_ref();
        let app_id = header
            .and_then(|h| h.id.as_ref())
            .map(|id| id.value.clone());
        let header_origin = header
            .map(|h| origin(h.id.as_ref().map(|id| id.span).unwrap_or(h.span)))
            .unwrap_or_default();
        let kind = header.and_then(|h| h.kind);
        let args: Vec<FinishArg> = document
            .items
            .iter()
            .filter_map(|item| FinishArg::of_item(item, source))
            .collect();
        FinishArgs {
            defined: !args.is_empty(),
            subject: subject_for(app_id.as_deref(), kind),
            app_id,
            header: header_origin,
            args,
        }
    }

    /// The values of every option named `key`, with their options.
    pub fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a FinishArg> + 'a {
        self.args.iter().filter(move |a| a.key == key)
    }
}

fn subject_for(app_id: Option<&str>, kind: Option<HeaderKind>) -> Subject {
    match kind {
        Some(HeaderKind::Runtime) => Subject::NotApp,
        Some(HeaderKind::Fragment) => Subject::Fragment,
        _ if app_id.is_some_and(|id| id.ends_with(".BaseApp")) => Subject::NotApp,
        _ => Subject::App,
    }
}

fn on_off(negated: bool, on: &str, off: &str) -> String {
    if negated { off } else { on }.to_string()
}

/// The Flatpak option a statement stands for; `None` for what Flatpak cannot say.
fn spell(kind: &ItemKind) -> Option<(String, String)> {
    Some(match kind {
        ItemKind::Share { negated, value } => {
            (on_off(*negated, "share", "unshare"), value.value.clone())
        }
        ItemKind::Socket { negated, value } => {
            (on_off(*negated, "socket", "nosocket"), value.value.clone())
        }
        ItemKind::Device { negated, value } => {
            (on_off(*negated, "device", "nodevice"), value.value.clone())
        }
        ItemKind::Allow { negated, value } => {
            (on_off(*negated, "allow", "disallow"), value.value.clone())
        }
        ItemKind::Filesystem { negated, value, .. } => (
            on_off(*negated, "filesystem", "nofilesystem"),
            value.value.clone(),
        ),
        ItemKind::Persist { path } => ("persist".into(), path.value.clone()),
        ItemKind::Env { raw } => ("env".into(), raw.value.clone()),
        ItemKind::UnsetEnv { name } => ("unset-env".into(), name.value.clone()),
        ItemKind::BusName { bus, policy, name } => {
            let key = match (bus, policy) {
                (Bus::Session, BusPolicyWord::Talk) => "talk-name",
                (Bus::Session, BusPolicyWord::Own) => "own-name",
                (Bus::Session, BusPolicyWord::None) => "no-talk-name",
                (Bus::Session, BusPolicyWord::See) => "see-name",
                (Bus::System, BusPolicyWord::Talk) => "system-talk-name",
                (Bus::System, BusPolicyWord::Own) => "system-own-name",
                (Bus::System, BusPolicyWord::None) => "system-no-talk-name",
                (Bus::System, BusPolicyWord::See) => "system-see-name",
                (Bus::Accessibility, _) => "a11y-own-name",
            };
            (key.into(), name.value.clone())
        }
        ItemKind::GenericPolicy { remove, raw } => (
            on_off(*remove, "add-policy", "remove-policy"),
            raw.value.clone(),
        ),
        ItemKind::Usb { hidden, query } => (on_off(*hidden, "usb", "nousb"), query.value.clone()),
        ItemKind::OtherOption { raw } | ItemKind::Unknown { raw } => {
            let arg = FinishArg::parse(&raw.value, Origin::default());
            (arg.key, arg.value)
        }
        ItemKind::Include { .. }
        | ItemKind::NetworkRule { .. }
        | ItemKind::Limit { .. }
        | ItemKind::DeviceNode { .. }
        | ItemKind::BusRule { .. }
        | ItemKind::Require { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_equals_sign() {
        let arg = FinishArg::parse("--env=A=b=c", Origin::default());
        assert_eq!((arg.key.as_str(), arg.value.as_str()), ("env", "A=b=c"));
        let bare = FinishArg::parse("--no-desktop", Origin::default());
        assert_eq!((bare.key.as_str(), bare.value.as_str()), ("no-desktop", ""));
        assert_eq!(bare.text(), "--no-desktop");
    }

    #[test]
    fn base_apps_are_not_apps() {
        let view =
            FinishArgs::from_strings(Some("org.x.BaseApp"), &["--share=ipc"], Origin::default());
        assert_eq!(view.subject, Subject::NotApp);
    }
}
