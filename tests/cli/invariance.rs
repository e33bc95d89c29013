//! Implementation invariance (proptest): one random function of the leaves, written as
//! trees in many algebraically equal ways — sums and products flattened or nested into
//! intermediate nodes, `ratio:`/`sum:`/`product:` or `formula:`, a formula split into nodes
//! or kept whole, inputs reordered, a constant factor moved between levels — must give the
//! same leaf contributions, and every node's inputs must still add up to its change.
//! The contributions are also checked against an independent numerical path integral of the
//! whole function (adaptive Simpson on finite differences), which knows nothing of the tree.

use metrictree::attribution::{Attribution, Split, attribute};
use metrictree::graph::MetricGraph;
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::reference::values;
use crate::util::graph;

/// A function of the leaves: every value stays positive on the straight line between two
/// positive leaf vectors, so no spelling divides by zero.
#[derive(Clone, Debug)]
enum F {
    Leaf(usize),
    Sum(Vec<F>),
    Prod(Vec<F>),
    Div(Box<F>, Box<F>),
    /// A positive constant times the inner function.
    Scale(f64, Box<F>),
}

impl F {
    fn uses(&self, leaf: usize) -> bool {
        match self {
            F::Leaf(i) => *i == leaf,
            F::Sum(xs) | F::Prod(xs) => xs.iter().any(|x| x.uses(leaf)),
            F::Div(a, b) => a.uses(leaf) || b.uses(leaf),
            F::Scale(_, f) => f.uses(leaf),
        }
    }

    fn eval(&self, x: &[f64]) -> f64 {
        match self {
            F::Leaf(i) => x[*i],
            F::Sum(xs) => xs.iter().map(|f| f.eval(x)).sum(),
            F::Prod(xs) => xs.iter().map(|f| f.eval(x)).product(),
            F::Div(a, b) => a.eval(x) / b.eval(x),
            F::Scale(c, f) => c * f.eval(x),
        }
    }
}

fn function(leaves: usize) -> impl Strategy<Value = F> {
    let leaf = (0..leaves).prop_map(F::Leaf);
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..=3).prop_map(F::Sum),
            prop::collection::vec(inner.clone(), 2..=3).prop_map(F::Prod),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| F::Div(Box::new(a), Box::new(b))),
            (prop::sample::select(vec![0.5, 2.0, 3.0, 100.0]), inner)
                .prop_map(|(c, f)| F::Scale(c, Box::new(f))),
        ]
    })
}

/// Writes `f` as a tree, choosing every spelling at random from `rng`.
struct Writer<'a> {
    rng: &'a mut ChaCha8Rng,
    nodes: Vec<String>,
    next: usize,
}

impl Writer<'_> {
    fn node(&mut self, body: String) -> String {
        let id = format!("n{}", self.next);
        self.next += 1;
        self.nodes.push(format!("  {id}:\n{body}"));
        id
    }

    /// The formula text of `f`, with some of its parts made nodes of their own.
    fn expr(&mut self, f: &F) -> String {
        match f {
            F::Leaf(i) => format!("l{i}"),
            F::Scale(c, inner) => {
                let t = self.atom(inner);
                if self.rng.random_bool(0.5) {
                    format!("{c} * {t}")
                } else {
                    format!("{t} * {c}")
                }
            }
            F::Sum(xs) | F::Prod(xs) => {
                let op = if matches!(f, F::Sum(_)) { " + " } else { " * " };
                let mut parts: Vec<String> = xs.iter().map(|x| self.term(f, x)).collect();
                parts.shuffle(self.rng);
                parts.join(op)
            }
            F::Div(a, b) => format!("{} / {}", self.atom(a), self.atom(b)),
        }
    }

    /// A term inside a sum or product: an operand of the same kind may be flattened into it.
    fn term(&mut self, parent: &F, x: &F) -> String {
        let same = matches!(
            (parent, x),
            (F::Sum(_), F::Sum(_)) | (F::Prod(_), F::Prod(_))
        );
        if same && self.rng.random_bool(0.5) {
            return self.expr(x);
        }
        self.atom(x)
    }

    /// `f` as something that can stand next to an operator: a reference to a node of its
    /// own, or the formula in parentheses.
    fn atom(&mut self, f: &F) -> String {
        match f {
            F::Leaf(_) => self.expr(f),
            _ if self.rng.random_bool(0.5) => self.own_node(f),
            _ => format!("({})", self.expr(f)),
        }
    }

    /// `f` as a node of its own: a shorthand where one fits (distinct inputs), else a formula.
    fn own_node(&mut self, f: &F) -> String {
        let short = self.rng.random_bool(0.5);
        let body = match f {
            F::Div(a, b) if short && distinct(&[a, b]) => {
                let (n, d) = (self.refer(a), self.refer(b));
                format!("    ratio: [{n}, {d}]\n")
            }
            F::Sum(xs) | F::Prod(xs) if short && distinct(&xs.iter().collect::<Vec<_>>()) => {
                let key = if matches!(f, F::Sum(_)) {
                    "sum"
                } else {
                    "product"
                };
                let mut parts: Vec<String> = xs.iter().map(|x| self.refer(x)).collect();
                parts.shuffle(self.rng);
                format!("    {key}: [{}]\n", parts.join(", "))
            }
            _ => format!("    formula: \"{}\"\n", self.expr(f)),
        };
        self.node(body)
    }

    /// A node id standing for `f` (a leaf's own, or a new node's).
    fn refer(&mut self, f: &F) -> String {
        match f {
            F::Leaf(i) => format!("l{i}"),
            _ => self.own_node(f),
        }
    }
}

/// Whether no leaf appears twice among `xs` (a shorthand names each input once; other
/// parts become nodes of their own, which are distinct).
fn distinct(xs: &[&F]) -> bool {
    let leaves: Vec<usize> = xs
        .iter()
        .filter_map(|x| match x {
            F::Leaf(i) => Some(*i),
            _ => None,
        })
        .collect();
    let mut sorted = leaves.clone();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.len() == leaves.len()
}

/// A tree computing `f` at its root, spelled with the choices `seed` makes.
fn spelling(f: &F, leaves: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut w = Writer {
        rng: &mut rng,
        nodes: Vec::new(),
        next: 0,
    };
    let body = match f {
        F::Leaf(_) => format!("    formula: \"{}\"\n", w.expr(f)),
        _ => {
            let root_is_node = w.rng.random_bool(0.5);
            if root_is_node {
                let inner = w.own_node(f);
                format!("    formula: \"{inner}\"\n")
            } else {
                format!("    formula: \"{}\"\n", w.expr(f))
            }
        }
    };
    let mut nodes = std::mem::take(&mut w.nodes);
    nodes.push(format!("  root:\n    owner: o\n{body}"));
    for i in 0..leaves {
        // Only the leaves the function uses: a node nothing refers to is an error.
        if f.uses(i) {
            nodes.push(format!("  l{i}:\n    measure: {{source: s, agg: count}}\n"));
        }
    }
    nodes.shuffle(&mut rng);
    format!(
        "root: root\nowners: {{o: {{name: O}}}}\nsources:\n  s: {{file: s.csv, time: t}}\nnodes:\n{}",
        nodes.concat()
    )
}

/// The same function with its constants moved at random: c·(a/b) → (c·a)/b and
/// c·(x·y) → (c·x)·y, applied anywhere in the tree.
fn move_constants(f: &F, rng: &mut ChaCha8Rng) -> F {
    match f {
        F::Leaf(_) => f.clone(),
        F::Sum(xs) => F::Sum(xs.iter().map(|x| move_constants(x, rng)).collect()),
        F::Prod(xs) => F::Prod(xs.iter().map(|x| move_constants(x, rng)).collect()),
        F::Div(a, b) => F::Div(
            Box::new(move_constants(a, rng)),
            Box::new(move_constants(b, rng)),
        ),
        F::Scale(c, inner) => {
            let inner = move_constants(inner, rng);
            match inner {
                F::Div(a, b) if rng.random_bool(0.5) => F::Div(Box::new(F::Scale(*c, a)), b),
                F::Prod(mut xs) if rng.random_bool(0.5) => {
                    let k = rng.random_range(0..xs.len());
                    xs[k] = F::Scale(*c, Box::new(xs[k].clone()));
                    F::Prod(xs)
                }
                other => F::Scale(*c, Box::new(other)),
            }
        }
    }
}

/// Leaf values in two periods: positive, about a quarter unchanged.
fn leaf_values(n: usize) -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec(
        (1.0..100.0f64, prop::option::weighted(0.75, 1.0..100.0f64)),
        n,
    )
    .prop_map(|v| v.into_iter().map(|(a, b)| (a, b.unwrap_or(a))).collect())
}

fn attribute_tree(g: &MetricGraph, x: &[(f64, f64)]) -> Attribution {
    // The leaves this spelling has (a function need not use every one).
    let names: Vec<String> = (0..x.len()).map(|i| format!("l{i}")).collect();
    let here = |(n, _): &(&str, f64)| g.index(n).is_some();
    let l0: Vec<(&str, f64)> = names
        .iter()
        .map(String::as_str)
        .zip(x.iter().map(|v| v.0))
        .filter(here)
        .collect();
    let l1: Vec<(&str, f64)> = names
        .iter()
        .map(String::as_str)
        .zip(x.iter().map(|v| v.1))
        .filter(here)
        .collect();
    attribute(g, g.root, &values(g, &l0), &values(g, &l1)).unwrap()
}

/// Per leaf l0, l1, …: its contribution (0 for a leaf the spelling does not use).
fn leaf_contributions(g: &MetricGraph, a: &Attribution, leaves: usize) -> Vec<f64> {
    (0..leaves)
        .map(|i| {
            g.index(&format!("l{i}"))
                .and_then(|n| a.get(n))
                .map_or(0.0, |n| n.contribution)
        })
        .collect()
}

/// Aumann–Shapley of the whole function by adaptive Simpson on central differences.
fn reference_path(f: &F, x: &[(f64, f64)]) -> Vec<f64> {
    let x0: Vec<f64> = x.iter().map(|v| v.0).collect();
    let x1: Vec<f64> = x.iter().map(|v| v.1).collect();
    crate::property::path_integral(&|p: &[f64]| f.eval(p), &x0, &x1)
}

const LEAVES: usize = 4;

proptest! {
    #![proptest_config(crate::property::config(120))]
    #[test]
    fn any_spelling_of_the_same_function_gives_the_same_leaf_contributions(
        f in function(LEAVES),
        x in leaf_values(LEAVES),
        seeds in prop::array::uniform4(any::<u64>()),
    ) {
        same_split_for_every_spelling(&f, &x, &seeds);
    }
}

fn same_split_for_every_spelling(f: &F, x: &[(f64, f64)], seeds: &[u64]) {
    let mut first: Option<(String, Vec<f64>)> = None;
    let x0: Vec<f64> = x.iter().map(|v| v.0).collect();
    let x1: Vec<f64> = x.iter().map(|v| v.1).collect();
    let delta = f.eval(&x1) - f.eval(&x0);
    for &seed in seeds {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37);
        let g_fn = move_constants(f, &mut rng);
        let tree = spelling(&g_fn, LEAVES, seed);
        let g = graph(&tree);
        let a = attribute_tree(&g, x);
        assert_ne!(a.split, Split::Local, "tree:\n{tree}");
        let c = leaf_contributions(&g, &a, LEAVES);
        // Rounding of the values themselves bounds what any split can resolve: a function that
        // does not move (f = (l0/l3)·l3) still passes each leaf terms of the size of its
        // values that cancel to rounding noise.
        let moved: f64 = x.iter().map(|v| (v.1 - v.0).abs()).sum();
        let values = f.eval(&x0).abs().max(f.eval(&x1).abs()).max(1.0);
        let scale =
            delta.abs() + c.iter().map(|v| v.abs()).sum::<f64>() + 1e-3 * (1.0 + moved) * values;
        let close = |p: f64, q: f64, rel: f64| (p - q).abs() <= rel * p.abs() + 1e-12 * scale;
        // Exact: the leaves add up to the root's change; every node's inputs to its own.
        let sum: f64 = c.iter().sum();
        assert!(
            close(sum, delta, 1e-9),
            "tree:\n{tree}\n leaves {sum} vs Δ {delta}"
        );
        for n in &a.nodes {
            if n.inputs.is_empty() {
                continue;
            }
            let local: f64 = n.inputs.iter().map(|i| i.contribution).sum();
            let size = n.delta.abs() + n.inputs.iter().map(|i| i.contribution.abs()).sum::<f64>();
            assert!(
                (local - n.delta).abs() <= 1e-9 * size.max(f64::MIN_POSITIVE) + 1e-12 * scale,
                "tree:\n{tree}\n node {}: shares {local} vs Δ {}",
                g.nodes[n.node].id,
                n.delta
            );
            let flows: f64 = n.inputs.iter().map(|i| i.contribution_to_root).sum();
            assert!(
                close(flows, n.contribution, 1e-9),
                "tree:\n{tree}\n flows of {}",
                g.nodes[n.node].id
            );
        }
        for (i, v) in x.iter().enumerate() {
            if v.0 == v.1 {
                assert_eq!(c[i], 0.0, "tree:\n{tree}\n unchanged leaf l{i}");
            }
        }
        match &first {
            None => {
                // Against an integration that knows only the function, to finite-difference
                // precision.
                let want = reference_path(f, x);
                for (i, (p, q)) in c.iter().zip(&want).enumerate() {
                    assert!(
                        (p - q).abs() <= 1e-6 * scale + 1e-9,
                        "tree:\n{tree}\n leaf l{i}: {p} vs reference {q}"
                    );
                }
                first = Some((tree, c));
            }
            Some((t0, c0)) => {
                for (i, (p, q)) in c.iter().zip(c0).enumerate() {
                    assert!(
                        close(*p, *q, 1e-9),
                        "spelled\n{t0}\nand\n{tree}\n leaf l{i}: {q} vs {p}"
                    );
                }
            }
        }
    }
}
