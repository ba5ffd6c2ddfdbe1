//! The identity of what is sandboxed: ids, runtime, SDK, command, extensions.

use crate::origin::Origin;

/// The id used for policies that name no app (fragments, bare finish-args lists).
pub const UNNAMED_APP_ID: &str = "org.portcullis.Unnamed";

/// App or runtime.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Kind {
    /// An application.
    #[default]
    App,
    /// A runtime (its permissions are reset at run time, §2.1 of the semantics).
    Runtime,
    /// A reusable fragment with no identity.
    Fragment,
}

/// The identity part of a policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// App, runtime or fragment.
    pub kind: Kind,
    /// Reverse-DNS id.
    pub id: Option<String>,
    /// Runtime id without branch (`org.freedesktop.Platform`).
    pub runtime: Option<String>,
    /// Runtime branch/version (`23.08`), kept as written.
    pub runtime_version: Option<String>,
    /// SDK id.
    pub sdk: Option<String>,
    /// Command to run.
    pub command: Option<String>,
    /// Base app, if any.
    pub base: Option<String>,
    /// SDK extensions used at build time.
    pub sdk_extensions: Vec<String>,
    /// Extensions and extension points, sorted by name.
    pub extensions: Vec<Extension>,
    /// Where the identity was declared.
    pub origin: Origin,
}

/// An extension or extension point.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extension {
    /// Extension name.
    pub name: String,
    /// Mount directory relative to `/app` (app) or `/usr` (runtime).
    pub directory: Option<String>,
    /// Other properties, sorted by key.
    pub properties: Vec<(String, String)>,
    /// Where it was declared.
    pub origin: Origin,
}
