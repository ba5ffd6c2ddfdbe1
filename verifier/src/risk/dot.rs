//! Graphviz rendering of the risk graph (`portcullis audit --format dot`).

use petgraph::visit::EdgeRef;

use super::graph::{NodeKind, RiskGraph};

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The graph as a `digraph`: grants as boxes, capabilities as ellipses, impacts as
/// octagons (red for escapes), edges labelled with their reason. Deterministic.
pub fn render(graph: &RiskGraph, title: &str) -> String {
    let g = &graph.graph;
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [fontname=\"sans\"];\n",
        quote(title)
    );
    let mut nodes: Vec<_> = g.node_indices().collect();
    nodes.sort_by(|&a, &b| (g[a].kind, &g[a].label).cmp(&(g[b].kind, &g[b].label)));
    for i in &nodes {
        let n = &g[*i];
        let attrs = match n.kind {
            NodeKind::Grant => "shape=box".to_string(),
            NodeKind::Capability => "shape=ellipse".to_string(),
            NodeKind::Impact if n.escape => "shape=octagon, color=red, fontcolor=red".to_string(),
            NodeKind::Impact => format!(
                "shape=octagon, xlabel={}",
                quote(n.severity.map(|s| s.name()).unwrap_or("info"))
            ),
        };
        out.push_str(&format!(
            "  n{} [label={}, {attrs}];\n",
            i.index(),
            quote(&n.label)
        ));
    }
    let mut edges: Vec<_> = g.edge_references().collect();
    edges.sort_by_key(|e| (e.source().index(), e.target().index()));
    for e in edges {
        out.push_str(&format!(
            "  n{} -> n{} [label={}, tooltip={}];\n",
            e.source().index(),
            e.target().index(),
            quote(&e.weight().reason),
            quote(e.weight().reference)
        ));
    }
    out.push_str("}\n");
    out
}
