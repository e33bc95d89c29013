//! The metric graph: the spec with every name resolved, checked, and ordered.
//!
//! Input: a [`Spec`]. Output: a [`MetricGraph`] (a petgraph DAG whose edges point from a
//! formula node to its inputs, with a topological order, resolved owners and per-node
//! splittable dimensions) plus diagnostics: unknown references with suggestions, cycles,
//! unreachable nodes, owners, dimensions, and measure filters and expressions outside the SQL
//! allow-list (`spec::sql_expr`). This stage reads no data; checks against the data's
//! columns are done by `engine::check_measures`.

pub mod actions;
mod cycles;
mod notify;
mod owners;
pub mod players;

use std::collections::{BTreeSet, HashMap};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::diag::{Diagnostic, Pos, did_you_mean};
use crate::spec::formula::{Expr, Shape};
use crate::spec::model::*;
use crate::spec::sql_expr::{self, SqlExpr};

/// A node with its references resolved to indices.
#[derive(Debug, Clone)]
pub struct GNode {
    pub id: String,
    pub pos: Pos,
    pub label: String,
    pub description: Option<String>,
    pub unit: Unit,
    pub direction: Direction,
    pub target: Option<f64>,
    /// Its question, bands and industry range, for owner reports.
    pub reporting: crate::spec::model::Reporting,
    pub method: Method,
    pub on_zero: Option<f64>,
    /// The owning team's id (declared, or inherited; see `owner_inherited`).
    pub owner: String,
    pub owner_inherited: bool,
    pub def: Def,
}

#[derive(Debug, Clone)]
pub enum Def {
    /// A leaf measure over `sources[source]`.
    Measure(LeafMeasure),
    /// A formula over `inputs` (distinct node indices, in order of first mention);
    /// `expr` refers to them by position in `inputs`.
    Formula {
        expr: Expr,
        inputs: Vec<usize>,
        shape: Shape,
        written_as: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct LeafMeasure {
    pub source: usize,
    pub agg: Agg,
    pub expr: Option<Located<String>>,
    pub filter: Option<Located<String>>,
    /// `expr` and `filter` as checked by `spec::sql_expr` (`None` when absent or rejected).
    pub expr_sql: Option<SqlExpr>,
    pub filter_sql: Option<SqlExpr>,
}

impl GNode {
    pub fn inputs(&self) -> &[usize] {
        match &self.def {
            Def::Formula { inputs, .. } => inputs,
            Def::Measure(_) => &[],
        }
    }

    pub fn is_leaf(&self) -> bool {
        matches!(self.def, Def::Measure(_))
    }
}

/// The validated tree.
#[derive(Debug, Clone)]
pub struct MetricGraph {
    pub spec: Spec,
    pub nodes: Vec<GNode>,
    /// Edges parent → input; `NodeIndex(i)` is `nodes[i]`.
    pub graph: DiGraph<usize, ()>,
    /// Topological order: every node before its inputs (the root first).
    pub order: Vec<usize>,
    pub root: usize,
    pub companions: Vec<usize>,
    /// Per node: the dimensions every leaf under it maps (so it can be split by them).
    pub splittable: Vec<BTreeSet<String>>,
    /// `players:`: factors carried by several leaves, split as groups.
    pub players: Vec<players::Players>,
}

impl MetricGraph {
    pub fn index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    pub fn source_index(&self, id: &str) -> Option<usize> {
        self.spec.sources.iter().position(|s| s.id == id)
    }

    pub fn parents(&self, i: usize) -> Vec<usize> {
        let mut ps: Vec<usize> = self
            .graph
            .neighbors_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
            .map(|n| n.index())
            .collect();
        ps.sort_unstable();
        ps.dedup();
        ps
    }

    /// Nodes reachable from `start` (inclusive), in topological order.
    pub fn subtree(&self, start: usize) -> Vec<usize> {
        let mut seen = vec![false; self.nodes.len()];
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(self.nodes[n].inputs());
            }
        }
        self.order.iter().copied().filter(|&n| seen[n]).collect()
    }

    pub fn owner(&self, id: &str) -> Option<&Owner> {
        self.spec.owners.iter().find(|o| o.id == id)
    }

    /// An owner's name, or its id when the tree names none.
    pub fn owner_name(&self, id: &str) -> String {
        self.owner(id)
            .map_or_else(|| id.to_string(), |o| o.name.clone())
    }

    /// Leaf measure nodes, by source index.
    pub fn leaves_by_source(&self) -> Vec<(usize, Vec<usize>)> {
        let mut by: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if let Def::Measure(m) = &n.def {
                match by.iter_mut().find(|(s, _)| *s == m.source) {
                    Some((_, v)) => v.push(i),
                    None => by.push((m.source, vec![i])),
                }
            }
        }
        by.sort_by_key(|(s, _)| *s);
        by
    }
}

/// Resolves and validates a spec. The graph is returned when no error was found.
pub fn build(spec: Spec) -> (Option<MetricGraph>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let node_ids: Vec<&str> = spec.nodes.iter().map(|n| n.id.as_str()).collect();
    let index: HashMap<&str, usize> = node_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();
    let source_ids: Vec<&str> = spec.sources.iter().map(|s| s.id.as_str()).collect();
    let owner_ids: Vec<&str> = spec.owners.iter().map(|o| o.id.as_str()).collect();
    let dim_ids: Vec<&str> = spec.dimensions.iter().map(|d| d.id.as_str()).collect();

    // A node whose own definition failed is declared (and already reported): a reference to
    // it is not also an unknown node.
    let unknown_node = |name: &str, pos: Pos, what: &str| {
        (!spec.broken_nodes.iter().any(|b| b == name)).then(|| {
            Diagnostic::error("E010", format!("unknown node `{name}` {what}"))
                .at(pos)
                .help(did_you_mean(name, node_ids.iter().copied(), "nodes"))
        })
    };

    // Root and companions.
    let root = index.get(spec.root.value.as_str()).copied();
    if root.is_none() {
        diags.extend(unknown_node(
            &spec.root.value,
            spec.root.pos,
            "named as `root`",
        ));
    }
    let mut companions = Vec::new();
    for c in &spec.companions {
        match index.get(c.value.as_str()) {
            Some(&i) => companions.push(i),
            None => diags.extend(unknown_node(&c.value, c.pos, "listed in `companions`")),
        }
    }

    // Dimension mappings in sources.
    for s in &spec.sources {
        for (dim, _) in &s.dimensions {
            if !dim_ids.contains(&dim.value.as_str()) {
                diags.push(
                    Diagnostic::error(
                        "E013",
                        format!("unknown dimension `{}` in source `{}`", dim.value, s.id),
                    )
                    .at(dim.pos)
                    .help(format!(
                        "{}; or declare it under `dimensions:` at the top of the file",
                        did_you_mean(&dim.value, dim_ids.iter().copied(), "dimensions")
                    )),
                );
            }
        }
    }

    diags.extend(notify::check(&spec));

    // Nodes: resolve references.
    let mut nodes = Vec::with_capacity(spec.nodes.len());
    for n in &spec.nodes {
        if let Some(o) = &n.owner
            && !owner_ids.contains(&o.value.as_str())
        {
            diags.push(
                Diagnostic::error("E012", format!("unknown owner `{}`", o.value))
                    .at(o.pos)
                    .subject(format!("node `{}`", n.id))
                    .help(format!(
                        "{}; or declare the team under `owners:`",
                        did_you_mean(&o.value, owner_ids.iter().copied(), "owners")
                    )),
            );
        }
        let def = match &n.kind {
            NodeKind::Measure(m) => {
                let source = spec.sources.iter().position(|s| s.id == m.source.value);
                if source.is_none() {
                    diags.push(
                        Diagnostic::error("E011", format!("unknown source `{}`", m.source.value))
                            .at(m.source.pos)
                            .subject(format!("node `{}`", n.id))
                            .help(format!(
                                "{}; or declare it under `sources:`",
                                did_you_mean(
                                    &m.source.value,
                                    source_ids.iter().copied(),
                                    "sources"
                                )
                            )),
                    );
                }
                let mut guarded = |what: &str, part: &Option<Located<String>>| {
                    let part = part.as_ref()?;
                    match sql_expr::parse_expr(&part.value) {
                        Ok(e) => Some(e),
                        Err(r) => {
                            diags.push(
                                Diagnostic::error(
                                    "E036",
                                    format!(
                                        "the {what} of node `{}` is not allowed: {}",
                                        n.id, r.message
                                    ),
                                )
                                .at(part.pos)
                                .subject(format!("node `{}`", n.id))
                                .help(r.help),
                            );
                            None
                        }
                    }
                };
                let expr_sql = guarded("expression", &m.expr);
                let filter_sql = guarded("filter", &m.filter);
                Def::Measure(LeafMeasure {
                    source: source.unwrap_or(usize::MAX),
                    agg: m.agg,
                    expr: m.expr.clone(),
                    filter: m.filter.clone(),
                    expr_sql,
                    filter_sql,
                })
            }
            NodeKind::Formula(f) => {
                let mut expr = f.expr.clone();
                let mut inputs: Vec<usize> = Vec::new();
                let mut k = 0;
                expr.resolve(&mut |name| {
                    let pos = f.ref_positions.get(k).copied().unwrap_or(f.pos);
                    k += 1;
                    match index.get(name) {
                        Some(&g) => match inputs.iter().position(|&x| x == g) {
                            Some(p) => p,
                            None => {
                                inputs.push(g);
                                inputs.len() - 1
                            }
                        },
                        None => {
                            diags.extend(
                                unknown_node(
                                    name,
                                    pos,
                                    &format!("in `{}` of node `{}`", f.written_as, n.id),
                                )
                                .map(|d| d.subject(format!("node `{}`", n.id))),
                            );
                            usize::MAX
                        }
                    }
                });
                let shape = expr.shape();
                if n.method == Method::Lmdi && expr.sum_of_products().is_none() {
                    diags.push(
                        Diagnostic::error("E008", format!("`method: lmdi` is not available for the formula of `{}`", n.id))
                            .at(f.pos)
                            .help("LMDI splits a product or a sum of products (`a * b + c * d`), each input at most once per term; remove `method: lmdi` to use the default split"),
                    );
                }
                let shapley = n.method == Method::Shapley;
                let most = if shapley {
                    crate::spec::formula::MAX_SHAPLEY_INPUTS
                } else {
                    crate::spec::formula::MAX_INPUTS
                };
                if inputs.len() > most && matches!(shape, Shape::General) {
                    diags.push(
                        Diagnostic::error("E009", format!("formula of node `{}` has {} distinct inputs", n.id, inputs.len()))
                            .at(f.pos)
                            .help(if shapley {
                                format!("`method: shapley` splits a formula over at most {most} inputs (2ⁿ evaluations); drop `method: shapley` or split it into intermediate nodes")
                            } else {
                                format!("a formula may have at most {most} distinct inputs; split it into intermediate nodes")
                            }),
                    );
                }
                Def::Formula {
                    expr,
                    inputs,
                    shape,
                    written_as: f.written_as,
                }
            }
        };
        nodes.push(GNode {
            id: n.id.clone(),
            pos: n.pos,
            label: n.label.clone(),
            description: n.description.clone(),
            unit: n.unit,
            direction: n.direction,
            target: n.target,
            reporting: n.reporting.clone(),
            method: n.method,
            on_zero: n.on_zero,
            owner: n
                .owner
                .as_ref()
                .map(|o| o.value.clone())
                .unwrap_or_default(),
            owner_inherited: n.owner.is_none(),
            def,
        });
    }

    let mut graph = DiGraph::<usize, ()>::with_capacity(nodes.len(), nodes.len() * 2);
    for i in 0..nodes.len() {
        graph.add_node(i);
    }
    for (i, n) in nodes.iter().enumerate() {
        for &j in n.inputs() {
            graph.add_edge(NodeIndex::new(i), NodeIndex::new(j), ());
        }
    }

    let cycle_diags = cycles::find(&graph, &nodes);
    let has_cycle = !cycle_diags.is_empty();
    diags.extend(cycle_diags);

    // Reachability from root and companions.
    if let Some(r) = root {
        let mut seen = vec![false; nodes.len()];
        let mut stack: Vec<usize> = std::iter::once(r)
            .chain(companions.iter().copied())
            .collect();
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(nodes[n].inputs());
            }
        }
        for (i, n) in nodes.iter().enumerate() {
            if !seen[i] {
                diags.push(
                    Diagnostic::error(
                        "E016",
                        format!(
                            "node `{}` is not reachable from the root or a companion",
                            n.id
                        ),
                    )
                    .at(n.pos)
                    .help(format!(
                        "use it in a formula under `{}`, list it under `companions:`, or remove it",
                        spec.root.value
                    )),
                );
            }
        }
        let mut from_root = vec![false; nodes.len()];
        let mut stack = vec![r];
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut from_root[n], true) {
                stack.extend(nodes[n].inputs());
            }
        }
        for (&c, l) in companions.iter().zip(&spec.companions) {
            if from_root[c] {
                diags.push(
                    Diagnostic::warning("W002", format!("companion `{}` feeds the root", l.value))
                        .at(l.pos)
                        .help("companions are measures shown beside the root; a node under the root is already explained as a branch, so remove it from `companions:`"),
                );
            }
        }
    }

    let has_errors = diags.iter().any(Diagnostic::is_error);
    let (Some(root), false, false) = (root, has_cycle, has_errors) else {
        return (None, diags);
    };
    let order: Vec<usize> = match petgraph::algo::toposort(&graph, None) {
        Ok(o) => o.into_iter().map(|n| n.index()).collect(),
        Err(_) => return (None, diags),
    };

    let mut g = MetricGraph {
        spec,
        nodes,
        graph,
        order,
        root,
        companions,
        splittable: Vec::new(),
        players: Vec::new(),
    };
    diags.extend(owners::resolve(&mut g));
    diags.extend(players::resolve(&mut g));
    diags.extend(splittable(&mut g));
    let ok = !diags.iter().any(Diagnostic::is_error);
    (ok.then_some(g), diags)
}

/// Computes per node the dimensions all its leaves map, and checks nodes' declared dimensions.
fn splittable(g: &mut MetricGraph) -> Vec<Diagnostic> {
    let n = g.nodes.len();
    let mut sets: Vec<Option<BTreeSet<String>>> = vec![None; n];
    for &i in g.order.iter().rev() {
        let set = match &g.nodes[i].def {
            Def::Measure(m) => g.spec.sources[m.source]
                .dimensions
                .iter()
                .map(|(d, _)| d.value.clone())
                .collect(),
            Def::Formula { inputs, .. } => {
                let mut it = inputs.iter().filter_map(|&j| sets[j].clone());
                let first = it.next().unwrap_or_default();
                it.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
            }
        };
        sets[i] = Some(set);
    }
    g.splittable = sets.into_iter().map(Option::unwrap_or_default).collect();
    let mut diags = Vec::new();
    for spec_node in &g.spec.nodes {
        let Some(i) = g.nodes.iter().position(|x| x.id == spec_node.id) else {
            continue;
        };
        for d in &spec_node.dimensions {
            if !g.spec.dimensions.iter().any(|x| x.id == d.value) {
                let ids = g.spec.dimensions.iter().map(|x| x.id.as_str());
                diags.push(
                    Diagnostic::error("E013", format!("unknown dimension `{}`", d.value))
                        .at(d.pos)
                        .subject(format!("node `{}`", spec_node.id))
                        .help(did_you_mean(&d.value, ids, "dimensions")),
                );
            } else if !g.splittable[i].contains(&d.value) {
                let missing: Vec<String> = g
                    .subtree(i)
                    .into_iter()
                    .filter_map(|l| match &g.nodes[l].def {
                        Def::Measure(m) => {
                            let s = &g.spec.sources[m.source];
                            (!s.dimensions.iter().any(|(x, _)| x.value == d.value))
                                .then(|| format!("`{}` (source `{}`)", g.nodes[l].id, s.id))
                        }
                        _ => None,
                    })
                    .collect();
                diags.push(
                    Diagnostic::error("E017", format!("node `{}` cannot be split by `{}`", spec_node.id, d.value))
                        .at(d.pos)
                        .note(format!("leaves that do not map it: {}", missing.join(", ")))
                        .help(format!("map `{}` to a column under `dimensions:` of those sources, or remove it here", d.value)),
                );
            }
        }
    }
    diags
}
