//! The AppArmor backend: one profile per app that mirrors the compiled intent, as a
//! second, independent layer behind the mount plan, the D-Bus proxy and Landlock.
//!
//! The profile (rendered from `templates/apparmor/profile.apparmor` with askama) holds:
//!
//! * [`files`]: file rules from the mount plan, read-only or writable as mounted, and
//!   `deny` rules for what the plan hides inside granted trees;
//! * [`confine`]: network families from `share network` and the policy's port rules, UNIX
//!   sockets, signal and ptrace confinement, no capabilities, no mounts;
//! * [`dbus`]: mediation rules mirroring the proxy's;
//! * every rule's comment names the policy statement (or Flatpak's implicit default) it
//!   comes from, through the caller's origin namer.
//!
//! Placeholders of the plan become the profile's tunables ([`paths::TUNABLES`]), so one
//! profile serves every user. The profile does not attach by path: the launcher enters it
//! by name (`aa-exec -p portcullis-APPID`, or `aa_change_onexec`). It uses AppArmor 3.0
//! syntax and is checked with `apparmor_parser -Q -K` in the tests.

pub mod confine;
pub mod dbus;
pub mod files;
pub mod origins;
pub mod paths;

use askama::Template;
use portcullis_blob::mounts::MountOp;
use portcullis_ir::{Origin, Policy};

use crate::dbus::DbusPlan;

/// One line of the profile: a rule with the reason it is there, or a comment alone.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// The rule without its trailing comma; empty for a comment line.
    pub text: String,
    /// Why it is there.
    pub why: String,
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Rule {
    /// A rule and its reason.
    pub fn new(text: impl Into<String>, why: impl Into<String>) -> Rule {
        Rule {
            text: text.into(),
            why: one_line(&why.into()),
        }
    }

    /// A comment line.
    pub fn comment(why: impl Into<String>) -> Rule {
        Rule::new("", why)
    }

    /// Whether the line is only a comment.
    pub fn is_comment(&self) -> bool {
        self.text.is_empty()
    }
}

/// A titled group of lines.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Section {
    /// The heading comment.
    pub title: &'static str,
    /// The lines.
    pub rules: Vec<Rule>,
}

#[derive(Template)]
#[template(path = "apparmor/profile.apparmor", escape = "none")]
struct ProfileTemplate<'a> {
    app_id: &'a str,
    profile: &'a str,
    sources: Vec<String>,
    tunables: &'a [(&'a str, &'a str, &'a str)],
    sections: &'a [Section],
}

/// The profile's name for an app id.
pub fn profile_name(app_id: &str) -> String {
    format!("portcullis-{app_id}")
}

/// The profile's sections, for callers that want the rules as data.
pub fn sections(
    policy: &Policy,
    plan: &[MountOp],
    dbus: &DbusPlan,
    name: &dyn Fn(Origin) -> String,
) -> Vec<Section> {
    let app_id = policy.app_id();
    let profile = profile_name(app_id);
    let origins = origins::Origins::new(policy);
    vec![
        Section {
            title: "files, from the mount plan",
            rules: files::rules(plan, app_id, &origins, name),
        },
        Section {
            title: "network",
            rules: confine::network(policy, name),
        },
        Section {
            title: "d-bus, mirroring the proxy rules",
            rules: dbus::rules(dbus, name),
        },
        Section {
            title: "confinement",
            rules: confine::confinement(policy, &profile),
        },
    ]
}

/// The profile text; `name` turns an origin into something a reader can find
/// (`crate::dbus::text::origin_by_bytes` when the caller has no source text).
pub fn render_with(
    policy: &Policy,
    plan: &[MountOp],
    dbus: &DbusPlan,
    name: &dyn Fn(Origin) -> String,
) -> String {
    let app_id = policy.app_id();
    let profile = profile_name(app_id);
    let sections = sections(policy, plan, dbus, name);
    let template = ProfileTemplate {
        app_id,
        profile: &profile,
        sources: policy.sources.iter().map(|s| one_line(s)).collect(),
        tunables: paths::TUNABLES,
        sections: &sections,
    };
    // INVARIANT: the template only writes strings into a String, which cannot fail.
    template.render().expect("rendering into a string")
}

/// The profile text with origins named by byte range.
pub fn render(policy: &Policy, plan: &[MountOp], dbus: &DbusPlan) -> String {
    render_with(
        policy,
        plan,
        dbus,
        &crate::dbus::text::origin_by_bytes(policy),
    )
}

#[cfg(test)]
mod tests;
