//! Cycle detection: every strongly connected component with more than one node (or a node
//! that refers to itself) becomes one diagnostic that prints the cycle, `a → b → a`.

use petgraph::graph::{DiGraph, NodeIndex};

use super::GNode;
use crate::diag::Diagnostic;

pub(super) fn find(graph: &DiGraph<usize, ()>, nodes: &[GNode]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut sccs = petgraph::algo::tarjan_scc(graph);
    sccs.iter_mut().for_each(|c| c.sort());
    sccs.sort();
    for scc in sccs {
        let first = scc[0];
        let self_loop = graph.contains_edge(first, first);
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let path = cycle_path(graph, &scc, first);
        let names: Vec<&str> = path.iter().map(|n| nodes[n.index()].id.as_str()).collect();
        let start = &nodes[first.index()];
        out.push(
            Diagnostic::error("E014", format!("cycle: {}", names.join(" → ")))
                .at(start.pos)
                .subject(format!("node `{}`", start.id))
                .help("a node cannot depend on itself, directly or through others; remove one of these references"),
        );
    }
    out
}

/// A path start → ... → start inside the component (depth-first).
fn cycle_path(graph: &DiGraph<usize, ()>, scc: &[NodeIndex], start: NodeIndex) -> Vec<NodeIndex> {
    fn dfs(
        g: &DiGraph<usize, ()>,
        scc: &[NodeIndex],
        start: NodeIndex,
        at: NodeIndex,
        path: &mut Vec<NodeIndex>,
        seen: &mut Vec<NodeIndex>,
    ) -> bool {
        let mut next: Vec<NodeIndex> = g.neighbors(at).filter(|n| scc.contains(n)).collect();
        next.sort();
        for n in next {
            if n == start {
                path.push(n);
                return true;
            }
            if !seen.contains(&n) {
                seen.push(n);
                path.push(n);
                if dfs(g, scc, start, n, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start];
    let mut seen = vec![start];
    dfs(graph, scc, start, start, &mut path, &mut seen);
    path
}
