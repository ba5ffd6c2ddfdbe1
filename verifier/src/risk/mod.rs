//! The risk model: grants → capabilities → impacts, and the known escape paths.
//!
//! [`assess`] builds the graph of a policy ([`model`]) and walks it: for every grant and
//! every impact it reaches, the shortest chain of edges, each with its reason and
//! reference. Chains that end in leaving the sandbox are *escapes*; the report says
//! "known escape found via …" and never that a policy is safe — escapes are unbounded,
//! this lists the known ones.

pub mod dot;
pub mod graph;
pub mod model;

use std::collections::{BTreeMap, VecDeque};

use petgraph::graph::NodeIndex;
use portcullis_ir::{Origin, Policy};

pub use graph::{Edge, Node, NodeKind, RiskGraph};

use crate::severity::Severity;

/// One step of a chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// The node the step leads to.
    pub to: String,
    /// Why.
    pub reason: String,
    /// Where that is documented.
    pub reference: &'static str,
}

/// A grant, the impact it reaches, and how.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Path {
    /// The grant as people read it (`talk-name org.freedesktop.Flatpak`).
    pub grant: String,
    /// Where the grant was written.
    pub origin: Origin,
    /// The steps from the grant to the impact.
    pub chain: Vec<Step>,
    /// The impact.
    pub impact: String,
    /// How bad the impact is.
    pub severity: Severity,
    /// Whether the impact is leaving the sandbox.
    pub escape: bool,
}

impl Path {
    /// "grant → capability → impact".
    pub fn chain_text(&self) -> String {
        let mut text = self.grant.clone();
        for step in &self.chain {
            text.push_str(" → ");
            text.push_str(&step.to);
        }
        text
    }
}

/// The risk assessment of one policy.
#[derive(Clone, Debug)]
pub struct Assessment {
    /// The graph, pruned to what the policy's grants reach.
    pub graph: RiskGraph,
    /// Every grant → impact path, escapes first, then by severity, origin and grant.
    pub paths: Vec<Path>,
}

impl Assessment {
    /// The escape paths.
    pub fn escapes(&self) -> impl Iterator<Item = &Path> {
        self.paths.iter().filter(|p| p.escape)
    }

    /// Whether any known escape was found.
    pub fn has_escape(&self) -> bool {
        self.paths.iter().any(|p| p.escape)
    }

    /// The highest severity per grant label (for the diff's risk delta).
    pub fn grant_severity(&self) -> BTreeMap<String, Severity> {
        let mut out: BTreeMap<String, Severity> = BTreeMap::new();
        for p in &self.paths {
            let e = out.entry(p.grant.clone()).or_insert(p.severity);
            *e = (*e).max(p.severity);
        }
        out
    }

    /// The highest severity of any path (`None` when nothing risky is granted).
    pub fn max_severity(&self) -> Option<Severity> {
        self.paths.iter().map(|p| p.severity).max()
    }
}

/// Builds and walks the risk graph of a policy.
pub fn assess(policy: &Policy) -> Assessment {
    let graph = model::build(policy).pruned();
    let mut paths = Vec::new();
    for grant in graph.grants() {
        for (impact, chain) in shortest_chains(&graph, grant) {
            let g = &graph.graph[grant];
            let i = &graph.graph[impact];
            paths.push(Path {
                grant: g.label.clone(),
                origin: g.origin.unwrap_or_default(),
                chain,
                impact: i.label.clone(),
                severity: i.severity.unwrap_or(Severity::Info),
                escape: i.escape,
            });
        }
    }
    paths.sort_by(|a, b| {
        (
            !a.escape,
            std::cmp::Reverse(a.severity),
            a.origin,
            &a.grant,
            &a.impact,
        )
            .cmp(&(
                !b.escape,
                std::cmp::Reverse(b.severity),
                b.origin,
                &b.grant,
                &b.impact,
            ))
    });
    Assessment { graph, paths }
}

/// Breadth-first from `start`: the shortest chain to every impact it reaches. Ties are
/// broken by the sorted edge order, so chains are stable.
fn shortest_chains(graph: &RiskGraph, start: NodeIndex) -> Vec<(NodeIndex, Vec<Step>)> {
    let mut previous: BTreeMap<NodeIndex, (NodeIndex, Step)> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut seen = vec![false; graph.graph.node_count()];
    seen[start.index()] = true;
    let mut impacts = Vec::new();
    while let Some(node) = queue.pop_front() {
        if graph.graph[node].kind == NodeKind::Impact {
            impacts.push(node);
        }
        for (next, edge) in graph.out_edges(node) {
            if std::mem::replace(&mut seen[next.index()], true) {
                continue;
            }
            let step = Step {
                to: graph.graph[next].label.clone(),
                reason: edge.reason.clone(),
                reference: edge.reference,
            };
            previous.insert(next, (node, step));
            queue.push_back(next);
        }
    }
    impacts
        .into_iter()
        .map(|impact| {
            let mut chain = Vec::new();
            let mut at = impact;
            while let Some((from, step)) = previous.get(&at) {
                chain.push(step.clone());
                at = *from;
            }
            chain.reverse();
            (impact, chain)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_ir::context::{BusEntry, FsEntry, Setting, Socket};
    use portcullis_ir::dbus::{BusName, BusPolicy};
    use portcullis_ir::fs::{FsKey, FsMode, XdgDir};

    fn at(start: u32) -> Origin {
        Origin {
            source: 0,
            start,
            end: start + 1,
        }
    }

    fn fs(policy: &mut Policy, key: FsKey, mode: FsMode) {
        let origin = at(policy.context.filesystems.len() as u32 + 100);
        policy
            .context
            .filesystems
            .insert(key, FsEntry { mode, origin });
    }

    #[test]
    fn flatpak_talk_name_is_an_escape_with_its_chain() {
        let mut p = Policy::default();
        p.context.session_bus.insert(
            BusName::new("org.freedesktop.Flatpak").unwrap(),
            BusEntry {
                policy: BusPolicy::Talk,
                origin: at(7),
            },
        );
        let a = assess(&p);
        let escape = a.escapes().next().expect("an escape");
        assert_eq!(escape.grant, "talk-name org.freedesktop.Flatpak");
        assert_eq!(escape.origin, at(7));
        assert_eq!(escape.chain.len(), 2);
        assert_eq!(escape.impact, model::HOST_EXEC);
    }

    #[test]
    fn allow_io_uring_is_a_risk_with_its_reason() {
        let mut p = Policy::default();
        assert!(assess(&p).paths.is_empty());
        p.beyond.io_uring = Some(at(5));
        let a = assess(&p);
        assert!(!a.has_escape());
        let risk = a
            .paths
            .iter()
            .find(|r| r.grant == "allow io-uring")
            .expect("a risk");
        assert_eq!(risk.origin, at(5));
        assert!(risk.impact.contains("seccomp"), "{}", risk.impact);
        assert!(risk
            .chain
            .iter()
            .any(|step| step.reason.contains("io_uring")));
    }

    #[test]
    fn home_write_escapes_home_read_does_not() {
        let mut rw = Policy::default();
        fs(&mut rw, FsKey::Home, FsMode::Rw);
        let a = assess(&rw);
        assert!(a.has_escape());
        // overrides, autostart, user units and shell files all reach the host
        assert!(
            a.escapes().count() == 1,
            "one shortest path per grant and impact"
        );
        let mut ro = Policy::default();
        fs(&mut ro, FsKey::Home, FsMode::Ro);
        let a = assess(&ro);
        assert!(!a.has_escape());
        assert_eq!(a.max_severity(), Some(Severity::High));
    }

    #[test]
    fn whole_home_grants_do_not_reach_the_hidden_flatpak_overrides() {
        let overrides = |p: &Policy| {
            model::build(p)
                .pruned()
                .graph
                .node_weights()
                .any(|n| n.label.contains("flatpak/overrides"))
        };
        for key in [FsKey::Home, FsKey::Host, FsKey::Absolute("/home".into())] {
            let mut p = Policy::default();
            fs(&mut p, key.clone(), FsMode::Rw);
            assert!(
                !overrides(&p),
                "{key}: Flatpak hides ~/.local/share/flatpak"
            );
            let a = assess(&p);
            assert!(a.has_escape(), "{key}: autostart and shell files remain");
            assert!(
                a.paths
                    .iter()
                    .all(|path| !path.chain_text().contains("overrides")),
                "{key}"
            );
        }
        let mut p = Policy::default();
        fs(
            &mut p,
            FsKey::Xdg {
                dir: XdgDir::Data,
                sub: Some("flatpak/overrides".into()),
            },
            FsMode::Rw,
        );
        assert!(
            overrides(&p),
            "a grant of the overrides themselves reaches them"
        );
        assert!(assess(&p).has_escape());
    }

    #[test]
    fn narrow_paths_reach_only_what_they_contain() {
        let cases = [
            (
                FsKey::Xdg {
                    dir: XdgDir::Config,
                    sub: Some("autostart".into()),
                },
                true,
            ),
            (
                FsKey::Xdg {
                    dir: XdgDir::Data,
                    sub: Some("flatpak".into()),
                },
                true,
            ),
            (
                FsKey::Xdg {
                    dir: XdgDir::Data,
                    sub: None,
                },
                true,
            ),
            (FsKey::HomePath(".bashrc".into()), true),
            (
                FsKey::Xdg {
                    dir: XdgDir::Download,
                    sub: Some("..".into()),
                },
                true,
            ),
            (FsKey::Absolute("/var/home".into()), true),
            (FsKey::XdgRun("bus".into()), true),
            (
                FsKey::Xdg {
                    dir: XdgDir::Download,
                    sub: None,
                },
                false,
            ),
            (
                FsKey::Xdg {
                    dir: XdgDir::Config,
                    sub: Some("gtk-3.0".into()),
                },
                false,
            ),
            (FsKey::Absolute("/tmp".into()), false),
            (FsKey::HomePath(".local/share/fonts".into()), false),
        ];
        for (key, escape) in cases {
            let mut p = Policy::default();
            fs(&mut p, key.clone(), FsMode::Create);
            assert_eq!(assess(&p).has_escape(), escape, "{key}");
        }
    }

    #[test]
    fn deny_masks_cut_paths() {
        let mut p = Policy::default();
        fs(&mut p, FsKey::HomePath(".config".into()), FsMode::Rw);
        assert!(assess(&p).has_escape());
        for mask in [
            "~/.config/autostart",
            "~/.config/systemd",
            "~/.config/environment.d",
            "~/.config/fish",
            "~/.config/plasma-workspace",
        ] {
            p.beyond.deny.push(portcullis_ir::beyond::DenyMask {
                path: mask.into(),
                origin: at(1),
            });
        }
        assert!(!assess(&p).has_escape());
    }

    #[test]
    fn serious_class_is_not_an_escape() {
        let mut p = Policy::default();
        let on = Setting {
            enabled: true,
            origin: at(3),
        };
        p.context.sockets.insert(Socket::X11, on);
        p.context.sockets.insert(Socket::SshAuth, on);
        p.context
            .devices
            .insert(portcullis_ir::context::Device::All, on);
        let a = assess(&p);
        assert!(!a.has_escape());
        assert_eq!(a.paths.len(), 3);
        assert!(a.paths.iter().all(|p| p.severity == Severity::High));
        let dot = dot::render(&a.graph, "x");
        assert!(dot.starts_with("digraph \"x\" {") && dot.contains("socket x11"));
    }

    #[test]
    fn session_bus_socket_reaches_flatpak_and_systemd() {
        let mut p = Policy::default();
        p.context.sockets.insert(
            Socket::SessionBus,
            Setting {
                enabled: true,
                origin: at(1),
            },
        );
        let a = assess(&p);
        let e = a.escapes().next().unwrap();
        assert_eq!(e.grant, "socket session-bus");
        assert!(e.chain_text().contains("unfiltered session bus"));
    }
}
