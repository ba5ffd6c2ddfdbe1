//! The risk graph: grants → capabilities → impacts, each edge with a reason and a
//! reference, on petgraph.
//!
//! Nodes are deduplicated by label, so two grants that reach the same capability share
//! it. The graph is built in a fixed order and printed sorted, so reports are stable.

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use portcullis_ir::Origin;

use crate::severity::Severity;

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A permission as the policy grants it.
    Grant,
    /// What the sandboxed app can do with it.
    Capability,
    /// What that means for the user.
    Impact,
}

/// One node.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    /// Grant, capability or impact.
    pub kind: NodeKind,
    /// The text shown to people (`talk-name org.freedesktop.Flatpak`).
    pub label: String,
    /// Where a grant was written (grants only).
    pub origin: Option<Origin>,
    /// How bad an impact is (impacts only).
    pub severity: Option<Severity>,
    /// Whether an impact is leaving the sandbox.
    pub escape: bool,
}

/// One edge: why the source leads to the target, and where that is documented.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Edge {
    /// Why.
    pub reason: String,
    /// A public reference (issue, manual page, specification).
    pub reference: &'static str,
}

/// The graph with its label index.
#[derive(Clone, Debug, Default)]
pub struct RiskGraph {
    /// The petgraph graph.
    pub graph: DiGraph<Node, Edge>,
    index: BTreeMap<(NodeKind, String), NodeIndex>,
}

impl RiskGraph {
    /// The node with this kind and label, created on first use.
    pub fn node(&mut self, node: Node) -> NodeIndex {
        let key = (node.kind, node.label.clone());
        if let Some(&idx) = self.index.get(&key) {
            return idx;
        }
        let idx = self.graph.add_node(node);
        self.index.insert(key, idx);
        idx
    }

    /// Adds an edge unless the same pair is already linked.
    pub fn link(&mut self, from: NodeIndex, to: NodeIndex, reason: &str, reference: &'static str) {
        if self.graph.find_edge(from, to).is_none() {
            self.graph.add_edge(
                from,
                to,
                Edge {
                    reason: reason.to_string(),
                    reference,
                },
            );
        }
    }

    /// Grant nodes, sorted by origin and label.
    pub fn grants(&self) -> Vec<NodeIndex> {
        let mut grants: Vec<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|&i| self.graph[i].kind == NodeKind::Grant)
            .collect();
        grants.sort_by(|&a, &b| {
            let (na, nb) = (&self.graph[a], &self.graph[b]);
            (na.origin, &na.label).cmp(&(nb.origin, &nb.label))
        });
        grants
    }

    /// Outgoing edges of a node, sorted by target label.
    pub fn out_edges(&self, from: NodeIndex) -> Vec<(NodeIndex, &Edge)> {
        let mut edges: Vec<(NodeIndex, &Edge)> = self
            .graph
            .edges(from)
            .map(|e| (e.target(), e.weight()))
            .collect();
        edges.sort_by(|a, b| self.graph[a.0].label.cmp(&self.graph[b.0].label));
        edges
    }
}

impl RiskGraph {
    /// A copy with only the nodes reachable from a grant that leads somewhere (grants with
    /// no consequence and capabilities nothing grants are dropped), in insertion order.
    pub fn pruned(&self) -> RiskGraph {
        let mut keep = vec![false; self.graph.node_count()];
        let mut stack: Vec<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|&i| {
                self.graph[i].kind == NodeKind::Grant && self.graph.neighbors(i).next().is_some()
            })
            .collect();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut keep[i.index()], true) {
                continue;
            }
            stack.extend(self.graph.neighbors(i));
        }
        let mut out = RiskGraph::default();
        let mut map = BTreeMap::new();
        for i in self.graph.node_indices().filter(|i| keep[i.index()]) {
            map.insert(i, out.node(self.graph[i].clone()));
        }
        for e in self.graph.edge_references() {
            if let (Some(&a), Some(&b)) = (map.get(&e.source()), map.get(&e.target())) {
                out.link(a, b, &e.weight().reason, e.weight().reference);
            }
        }
        out
    }
}
