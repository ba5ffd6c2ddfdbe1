//! Lowering of a document's header to the IR identity: ids checked, runtime refs split
//! into id and branch (`org.x.Platform//23.08`, `org.x.Platform/x86_64/23.08`).

use portcullis_ir::identity::{Extension, Identity, Kind};
use portcullis_syntax::ast::{Header, HeaderKind, InputKind};

use super::Lowering;
use crate::check::values;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

/// Splits a ref into its id and branch: `id//branch`, `id/arch/branch`, or a bare id.
pub fn split_ref(text: &str) -> (String, Option<String>) {
    let mut parts = text.split('/');
    let id = parts.next().unwrap_or_default().to_string();
    let _arch = parts.next();
    let branch = parts.next().filter(|b| !b.is_empty()).map(str::to_string);
    (id, branch)
}

/// Builds the identity; checks the ids.
pub fn lower(lowering: &mut Lowering<'_>, header: Option<&Header>, input: InputKind) -> Identity {
    let Some(header) = header else {
        if matches!(input, InputKind::ManifestJson | InputKind::ManifestYaml) {
            lowering.push(Diagnostic::warning(
                Code::MissingAppId,
                "the manifest names no app id",
            ));
        }
        return Identity {
            kind: Kind::App,
            ..Identity::default()
        };
    };
    let mut identity = Identity {
        kind: match header.kind {
            Some(HeaderKind::Runtime) => Kind::Runtime,
            Some(HeaderKind::Fragment) => Kind::Fragment,
            _ => Kind::App,
        },
        origin: lowering.origin(header.span),
        ..Identity::default()
    };
    match &header.id {
        Some(id) => {
            if let Err(message) = values::check_app_id(&id.value) {
                lowering.push(
                    Diagnostic::error(Code::InvalidAppId, format!("invalid id `{}`: {message}", id.value))
                        .with_label(id.span, "not a reverse-DNS id")
                        .with_help("ids look like `org.example.App`: three or more elements of letters, digits and `_`"),
                );
            }
            identity.id = Some(id.value.clone());
        }
        None if identity.kind != Kind::Fragment
            && matches!(
                input,
                InputKind::ManifestJson | InputKind::ManifestYaml | InputKind::Keyfile
            ) =>
        {
            lowering.push(
                Diagnostic::warning(Code::MissingAppId, "the input names no app id")
                    .with_label(header.span, "no `app-id`, `id` or `name`")
                    .with_help("add `\"app-id\": \"org.example.App\"`"),
            );
        }
        None => {}
    }
    if let Some(runtime) = &header.runtime {
        let (id, branch) = split_ref(&runtime.value);
        identity.runtime = Some(id);
        identity.runtime_version = branch;
    }
    if let Some(version) = &header.runtime_version {
        identity.runtime_version = Some(version.value.clone());
    }
    identity.sdk = header.sdk.as_ref().map(|s| split_ref(&s.value).0);
    identity.command = header.command.as_ref().map(|c| c.value.clone());
    identity.base = header.base.as_ref().map(|b| b.value.clone());
    identity.sdk_extensions = header
        .sdk_extensions
        .iter()
        .map(|s| s.value.clone())
        .collect();
    identity.extensions = header
        .extensions
        .iter()
        .map(|e| Extension {
            name: e.name.value.clone(),
            directory: e.directory.as_ref().map(|d| d.value.clone()),
            properties: e
                .properties
                .iter()
                .map(|(k, v)| (k.value.clone(), v.value.clone()))
                .collect(),
            origin: lowering.origin(e.span),
        })
        .collect();
    identity.extensions.sort_by(|a, b| a.name.cmp(&b.name));
    identity
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_split() {
        assert_eq!(
            split_ref("org.x.Platform//23.08"),
            ("org.x.Platform".into(), Some("23.08".into()))
        );
        assert_eq!(
            split_ref("org.x.Platform/x86_64/45"),
            ("org.x.Platform".into(), Some("45".into()))
        );
        assert_eq!(split_ref("org.x.Platform"), ("org.x.Platform".into(), None));
    }
}
