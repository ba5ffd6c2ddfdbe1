//! The semantic permission diff of two policies.
//!
//! Both sides are compared after normalisation: origins are ignored, an absent bit and a
//! revoked bit both mean "not granted", a `none` bus entry means no access, so reordering
//! and respelling (`~` vs `home`, duplicated options) are neutral. Each change is
//! classified escalation, reduction or neutral, with the risk of the item before and
//! after (from [`crate::risk`]).
//!
//! Flatpak's own test (`flatpak_context_adds_permissions`, semantics §2.3) is mirrored in
//! [`Change::flatpak_escalation`]; the classification goes beyond it where Flatpak is
//! deliberately pessimistic or blind: a new path already covered by an old broader grant
//! is neutral (Flatpak counts it because of symlinks; the note says so), a new
//! `fallback-x11` next to an old `x11` is a reduction, `dri` next to `device=all` is
//! neutral, and the beyond-Flatpak layers (ports, limits, deny masks, device nodes, D-Bus
//! call rules) are compared too.

mod beyond;
mod context;

use portcullis_ir::{Origin, Policy};

use crate::risk::{self, Path};
use crate::severity::Severity;

/// How a change affects what the app may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The app may do more.
    Escalation,
    /// The app may do less.
    Reduction,
    /// Same meaning, or nothing a sandbox enforces.
    Neutral,
}

impl Class {
    /// The word used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Class::Escalation => "escalation",
            Class::Reduction => "reduction",
            Class::Neutral => "neutral",
        }
    }
}

/// One changed item.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The item (`socket x11`, `filesystem home`, `talk-name org.a.B`).
    pub item: String,
    /// Its old value (`None` when it was not granted).
    pub old: Option<String>,
    /// Its new value (`None` when it is no longer granted).
    pub new: Option<String>,
    /// Escalation, reduction or neutral.
    pub class: Class,
    /// What Flatpak's `flatpak_context_adds_permissions` says about this item.
    pub flatpak_escalation: bool,
    /// The item's risk in the old policy.
    pub risk_before: Option<Severity>,
    /// The item's risk in the new policy.
    pub risk_after: Option<Severity>,
    /// Why the class differs from the obvious reading, if it does.
    pub note: Option<String>,
    /// Where the new (or, when removed, the old) statement was written.
    pub origin: Option<Origin>,
    /// Whether `origin` points into the new policy's sources (else the old one's).
    pub in_new: bool,
}

impl Change {
    /// The level at which this change fails a CI gate: escalations only, at their new
    /// risk, and at least `low`.
    pub fn gate_level(&self) -> Option<Severity> {
        (self.class == Class::Escalation)
            .then(|| self.risk_after.unwrap_or(Severity::Low).max(Severity::Low))
    }
}

/// The diff of two policies.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Diff {
    /// Every change, escalations first, then reductions, then neutral ones.
    pub changes: Vec<Change>,
    /// Escape paths the new policy has and the old one had not.
    pub escapes_added: Vec<Path>,
    /// Escape paths the old policy had and the new one has not.
    pub escapes_removed: Vec<Path>,
    /// The highest risk of the old policy.
    pub risk_before: Option<Severity>,
    /// The highest risk of the new policy.
    pub risk_after: Option<Severity>,
}

impl Diff {
    /// The highest gate level of any escalation (a new escape counts as critical).
    pub fn max_escalation(&self) -> Option<Severity> {
        let changes = self.changes.iter().filter_map(Change::gate_level).max();
        let escapes = (!self.escapes_added.is_empty()).then_some(Severity::Critical);
        changes.max(escapes)
    }

    /// Flatpak's verdict: would an update to the new policy ask for new permissions?
    pub fn flatpak_adds_permissions(&self) -> bool {
        self.changes.iter().any(|c| c.flatpak_escalation)
    }

    /// Counts of (escalations, reductions, neutral changes).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |k| self.changes.iter().filter(|c| c.class == k).count();
        (
            count(Class::Escalation),
            count(Class::Reduction),
            count(Class::Neutral),
        )
    }
}

/// Compares two policies.
pub fn diff(old: &Policy, new: &Policy) -> Diff {
    let before = risk::assess(old);
    let after = risk::assess(new);
    let risk_old = grant_risks(&before);
    let risk_new = grant_risks(&after);
    let mut changes = context::changes(&old.context, &new.context);
    changes.extend(beyond::changes(old, new));
    for c in &mut changes {
        c.risk_before = risk_old.iter().find(|(g, _)| *g == c.item).map(|(_, s)| *s);
        c.risk_after = risk_new.iter().find(|(g, _)| *g == c.item).map(|(_, s)| *s);
    }
    changes.sort_by(|a, b| (a.class, &a.item).cmp(&(b.class, &b.item)));
    let key = |p: &Path| (p.grant.clone(), p.impact.clone());
    let old_escapes: Vec<_> = before.escapes().map(key).collect();
    let new_escapes: Vec<_> = after.escapes().map(key).collect();
    Diff {
        escapes_added: after
            .escapes()
            .filter(|p| !old_escapes.contains(&key(p)))
            .cloned()
            .collect(),
        escapes_removed: before
            .escapes()
            .filter(|p| !new_escapes.contains(&key(p)))
            .cloned()
            .collect(),
        risk_before: before.max_severity(),
        risk_after: after.max_severity(),
        changes,
    }
}

/// Grant labels without a mode suffix (`filesystem home:ro` → `filesystem home`), with
/// their highest risk.
fn grant_risks(a: &risk::Assessment) -> Vec<(String, Severity)> {
    a.grant_severity()
        .into_iter()
        .map(|(label, s)| {
            let bare = match label.rsplit_once(':') {
                Some((head, "ro" | "create")) => head.to_string(),
                _ => label,
            };
            (bare, s)
        })
        .collect()
}

#[cfg(test)]
mod tests;
