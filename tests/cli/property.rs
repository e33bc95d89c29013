//! Property tests (proptest) on random trees and DAGs with shared nodes — a failure shrinks
//! to a minimal tree, printed as YAML:
//! exactness, agreement with brute-force Shapley (over permutations) and with numerical path
//! integration where the methods must agree, input-order and YAML-order symmetry,
//! antisymmetry under swapping the periods, and zero for unchanged inputs.

use std::collections::HashMap;

use metrictree::attribution::{Attribution, Split, attribute};
use metrictree::graph::{Def, MetricGraph};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::reference::values;
use crate::util::graph;

/// A random formula over `inputs`, as (kind, terms) so it can be re-rendered in another order.
#[derive(Clone, Debug)]
enum Kind {
    Sum,
    Product,
    Ratio,
    /// (t0 + t1) / t2 (+ more terms added to the numerator)
    SumOverOne,
    /// t0 × t1 + t2 ...
    ProductPlus,
}

#[derive(Clone, Debug)]
struct Case {
    leaves: Vec<(String, f64, f64)>,
    formulas: Vec<(String, Kind, Vec<String>, &'static str)>,
}

/// One formula's random choices: its kind, how many terms, which (a key per pool member:
/// the lowest keys are taken), and whether a ratio uses Shapley.
#[derive(Clone, Debug)]
struct FormulaDraw {
    kind: u8,
    terms: usize,
    keys: Vec<u32>,
    shapley: bool,
}

/// Random cases: 3–6 leaves (a quarter unchanged), 2–5 formulas over leaves and earlier
/// formulas; the last one is the root and also sums everything nobody uses yet, so every node
/// is reachable. Shrinking moves toward fewer nodes, rounder values and simpler formulas.
fn cases() -> impl Strategy<Value = Case> {
    let leaf = (1.0..100.0f64, prop::option::weighted(0.75, 1.0..100.0f64));
    let formula = (
        0u8..5,
        2usize..=4,
        prop::collection::vec(any::<u32>(), 11),
        any::<bool>(),
    )
        .prop_map(|(kind, terms, keys, shapley)| FormulaDraw {
            kind,
            terms,
            keys,
            shapley,
        });
    (
        prop::collection::vec(leaf, 3..=6),
        prop::collection::vec(formula, 2..=5),
    )
        .prop_map(|(leaves, formulas)| build_case(&leaves, &formulas))
}

fn build_case(leaf_draws: &[(f64, Option<f64>)], draws: &[FormulaDraw]) -> Case {
    let leaves: Vec<(String, f64, f64)> = leaf_draws
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| (format!("l{i}"), a, b.unwrap_or(a)))
        .collect();
    let nf = draws.len();
    let mut formulas: Vec<(String, Kind, Vec<String>, &'static str)> = Vec::new();
    let mut used: HashMap<String, bool> = HashMap::new();
    for (i, d) in draws.iter().enumerate() {
        let mut pool: Vec<String> = leaves.iter().map(|l| l.0.clone()).collect();
        pool.extend(formulas.iter().map(|f| f.0.clone()));
        let mut keyed: Vec<(u32, String)> = pool
            .into_iter()
            .enumerate()
            .map(|(k, name)| (d.keys[k % d.keys.len()].wrapping_add(k as u32), name))
            .collect();
        keyed.sort();
        let pool: Vec<String> = keyed.into_iter().map(|(_, n)| n).collect();
        let kind = match d.kind {
            0 => Kind::Sum,
            1 => Kind::Product,
            2 => Kind::Ratio,
            3 => Kind::SumOverOne,
            _ => Kind::ProductPlus,
        };
        let k = match kind {
            Kind::Ratio => 2,
            Kind::SumOverOne | Kind::ProductPlus => d.terms.clamp(3, 4).min(pool.len()),
            _ => d.terms.min(pool.len()),
        };
        let mut terms: Vec<String> = pool.into_iter().take(k).collect();
        if i == nf - 1 {
            // The root also sums everything nobody uses yet, so every node is reachable.
            let orphans: Vec<String> = leaves
                .iter()
                .map(|l| l.0.clone())
                .chain(formulas.iter().map(|f| f.0.clone()))
                .filter(|n| !used.contains_key(n) && !terms.contains(n))
                .collect();
            if !orphans.is_empty() {
                let inner = format!("f{i}x");
                formulas.push((inner.clone(), kind, terms, "auto"));
                let mut all = vec![inner];
                all.extend(orphans);
                terms = all;
                formulas.push((format!("f{i}"), Kind::Sum, terms, "auto"));
                break;
            }
        }
        for t in &terms {
            used.insert(t.clone(), true);
        }
        let method = if matches!(kind, Kind::Ratio) && d.shapley {
            "shapley"
        } else {
            "auto"
        };
        formulas.push((format!("f{i}"), kind, terms, method));
    }
    Case { leaves, formulas }
}

fn render_formula(kind: &Kind, t: &[String]) -> String {
    match kind {
        Kind::Sum => t.join(" + "),
        Kind::Product => t.join(" * "),
        Kind::Ratio => format!("{} / {}", t[0], t[1]),
        Kind::SumOverOne => format!("({}) / {}", t[..t.len() - 1].join(" + "), t[t.len() - 1]),
        Kind::ProductPlus => format!("{} * {} + {}", t[0], t[1], t[2..].join(" + ")),
    }
}

/// The YAML of a case; `shuffle` permutes commutative terms and the order of nodes in the file.
fn yaml(c: &Case, shuffle: Option<&mut ChaCha8Rng>) -> String {
    let root = &c.formulas.last().unwrap().0;
    let mut entries: Vec<String> = Vec::new();
    let mut rng = shuffle;
    for (id, kind, terms, method) in &c.formulas {
        let mut t = terms.clone();
        if let Some(r) = rng.as_deref_mut() {
            match kind {
                Kind::Sum | Kind::Product => t.shuffle(r),
                Kind::SumOverOne => {
                    let n = t.len() - 1;
                    t[..n].shuffle(r)
                }
                Kind::ProductPlus => {
                    t[..2].shuffle(r);
                    t[2..].shuffle(r)
                }
                Kind::Ratio => {}
            }
        }
        let owner = if id == root { "    owner: o\n" } else { "" };
        entries.push(format!(
            "  {id}:\n{owner}    method: {method}\n    formula: \"{}\"\n",
            render_formula(kind, &t)
        ));
    }
    for (id, _, _) in &c.leaves {
        entries.push(format!("  {id}:\n    measure: {{source: s, agg: count}}\n"));
    }
    if let Some(r) = rng {
        entries.shuffle(r);
    }
    format!(
        "root: {root}\nowners: {{o: {{name: O}}}}\nsources:\n  s: {{file: s.csv, time: t}}\nnodes:\n{}",
        entries.concat()
    )
}

fn attribute_case(g: &MetricGraph, c: &Case, swap: bool) -> Attribution {
    let l0: Vec<(&str, f64)> = c.leaves.iter().map(|l| (l.0.as_str(), l.1)).collect();
    let l1: Vec<(&str, f64)> = c.leaves.iter().map(|l| (l.0.as_str(), l.2)).collect();
    let (a, b) = (values(g, &l0), values(g, &l1));
    if swap {
        attribute(g, g.root, &b, &a).unwrap()
    } else {
        attribute(g, g.root, &a, &b).unwrap()
    }
}

/// How far two ways of computing `x` may differ: 1e-9 of it, and never less than a few dozen
/// ulps of the largest value the attribution handled (a change of 2.6e-6 between values near
/// 1e8 is itself only known to about 1e-8 — catastrophic cancellation, not an inexact split).
fn tol(x: f64, magnitude: f64) -> f64 {
    1e-9 * x.abs().max(1.0) + 64.0 * f64::EPSILON * magnitude
}

/// The largest value an attribution handled: node values, changes and contributions.
fn magnitude(a: &Attribution) -> f64 {
    a.nodes
        .iter()
        .flat_map(|n| {
            [n.baseline, n.current, n.delta, n.contribution]
                .into_iter()
                .chain(
                    n.inputs
                        .iter()
                        .flat_map(|i| [i.contribution, i.contribution_to_root]),
                )
        })
        .fold(0.0, |m: f64, v| m.max(v.abs()))
}

/// Shapley by brute force over all orderings of the inputs.
fn shapley_permutations(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], x1: &[f64]) -> Vec<f64> {
    let k = x0.len();
    let mut phi = vec![0.0; k];
    let mut perm: Vec<usize> = (0..k).collect();
    let mut count = 0.0;
    permute(&mut perm, 0, &mut |p| {
        count += 1.0;
        let mut x = x0.to_vec();
        let mut prev = f(&x);
        for &i in p {
            x[i] = x1[i];
            let now = f(&x);
            phi[i] += now - prev;
            prev = now;
        }
    });
    phi.iter().map(|v| v / count).collect()
}

fn permute(p: &mut Vec<usize>, k: usize, visit: &mut dyn FnMut(&[usize])) {
    if k == p.len() {
        visit(p);
        return;
    }
    for i in k..p.len() {
        p.swap(k, i);
        permute(p, k + 1, visit);
        p.swap(k, i);
    }
}

/// Aumann–Shapley by numerical path integration: adaptive Simpson (so a ratio whose
/// denominator falls 700-fold along the path is still integrated closely; a fixed 2000-step
/// rule was 0.2 % off there), with central finite-difference gradients.
pub(crate) fn path_integral(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], x1: &[f64]) -> Vec<f64> {
    let k = x0.len();
    (0..k)
        .map(|i| {
            let dx = x1[i] - x0[i];
            if dx == 0.0 {
                return 0.0;
            }
            let grad = |t: f64| {
                let mut x: Vec<f64> = (0..k).map(|j| x0[j] + t * (x1[j] - x0[j])).collect();
                let h = 1e-5 * x[i].abs().max(1.0);
                x[i] += h;
                let up = f(&x);
                x[i] -= 2.0 * h;
                (up - f(&x)) / (2.0 * h)
            };
            let (a, m, b) = (grad(0.0), grad(0.5), grad(1.0));
            let whole = (a + 4.0 * m + b) / 6.0;
            // 1e-8 of the gradient's largest size along the path: well above the finite
            // differences' noise (~1e-11 of it), so the recursion stops; and never below 100
            // times that noise where the function's values dwarf its gradient (cancellation),
            // or the recursion would chase rounding to full depth.
            let at = |t: f64| -> Vec<f64> { (0..k).map(|j| x0[j] + t * (x1[j] - x0[j])).collect() };
            let size = (0..=16)
                .map(|n| grad(f64::from(n) / 16.0).abs())
                .fold(0.0, f64::max);
            let values = (0..=16)
                .map(|n| f(&at(f64::from(n) / 16.0)).abs())
                .fold(0.0, f64::max);
            let h = 1e-5 * x0[i].abs().max(x1[i].abs()).max(1.0);
            let noise = f64::EPSILON * values / h;
            let eps = (1e-8 * size).max(100.0 * noise).max(f64::MIN_POSITIVE);
            adaptive_simpson(&grad, 0.0, 1.0, a, m, b, whole, eps, 24) * dx
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn adaptive_simpson(
    g: &dyn Fn(f64) -> f64,
    lo: f64,
    hi: f64,
    f_lo: f64,
    f_mid: f64,
    f_hi: f64,
    whole: f64,
    eps: f64,
    depth: u32,
) -> f64 {
    let mid = 0.5 * (lo + hi);
    let (lm, rm) = (0.5 * (lo + mid), 0.5 * (mid + hi));
    let (f_lm, f_rm) = (g(lm), g(rm));
    let left = (mid - lo) / 6.0 * (f_lo + 4.0 * f_lm + f_mid);
    let right = (hi - mid) / 6.0 * (f_mid + 4.0 * f_rm + f_hi);
    let delta = left + right - whole;
    if depth == 0 || delta.abs() <= 15.0 * eps {
        return left + right + delta / 15.0;
    }
    adaptive_simpson(g, lo, mid, f_lo, f_lm, f_mid, left, eps / 2.0, depth - 1)
        + adaptive_simpson(g, mid, hi, f_mid, f_rm, f_hi, right, eps / 2.0, depth - 1)
}

/// `cases` random trees from a fixed seed, so every run (and CI) checks the same trees;
/// `PROPTEST_RNG_SEED=<n>` explores others.
pub(crate) fn config(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases,
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            default.rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(2026)
        },
        // Failures are reported with the minimal tree; no files are written into the tree.
        failure_persistence: None,
        ..default
    }
}

proptest! {
    #![proptest_config(config(200))]
    #[test]
    fn exact_antisymmetric_and_zero_for_unchanged_inputs(c in cases()) {
        exact_antisymmetric_and_zero(&c);
    }
}

fn exact_antisymmetric_and_zero(c: &Case) {
    let tree = yaml(c, None);
    {
        let g = graph(&tree);
        let a = attribute_case(&g, c, false);
        let b = attribute_case(&g, c, true);
        let mag = magnitude(&a).max(magnitude(&b));
        let tol = |x: f64| tol(x, mag);
        let root = a.get(g.root).unwrap();
        let leaves: f64 = a
            .nodes
            .iter()
            .filter(|n| g.nodes[n.node].is_leaf())
            .map(|n| n.contribution)
            .sum();
        assert!(
            (leaves - root.delta).abs() <= tol(root.delta),
            "tree:\n{tree}\n leaves {leaves} vs Δroot {}",
            root.delta
        );
        for n in &a.nodes {
            if n.inputs.is_empty() {
                continue;
            }
            let local: f64 = n.inputs.iter().map(|i| i.contribution).sum();
            assert!(
                (local - n.delta).abs() <= tol(n.delta),
                "tree:\n{tree}\n local split of {}",
                g.nodes[n.node].id
            );
            let flows: f64 = n.inputs.iter().map(|i| i.contribution_to_root).sum();
            assert!(
                (flows - n.contribution).abs() <= tol(n.contribution),
                "tree:\n{tree}\n flows of {}",
                g.nodes[n.node].id
            );
            for i in &n.inputs {
                let ia = a.get(i.node).unwrap();
                // Along the straight line in leaf space an intermediate node can move and
                // return (Δ = 0) and still pass on change; a leaf that did not move cannot.
                let unmoved =
                    ia.delta == 0.0 && (a.split != Split::Path || g.nodes[i.node].is_leaf());
                if unmoved {
                    assert_eq!(
                        i.contribution, 0.0,
                        "tree:\n{tree}\n unchanged input has no share"
                    );
                }
            }
        }
        for (x, y) in a.nodes.iter().zip(&b.nodes) {
            assert!(
                (x.contribution + y.contribution).abs() <= tol(x.contribution),
                "tree:\n{tree}\n antisymmetry"
            );
        }
    }
}

proptest! {
    #![proptest_config(config(150))]
    #[test]
    fn local_splits_match_brute_force_shapley_and_path_integration(c in cases()) {
        local_splits_match(&c);
    }
}

fn local_splits_match(c: &Case) {
    let tree = yaml(c, None);
    {
        let g = graph(&tree);
        let a = attribute_case(&g, c, false);
        if a.split == Split::Path {
            leaf_contributions_match_path_integration(&g, c, &a, &tree);
            return;
        }
        for n in &a.nodes {
            let Def::Formula { expr, inputs, .. } = &g.nodes[n.node].def else {
                continue;
            };
            let x0: Vec<f64> = inputs.iter().map(|&j| a.get(j).unwrap().baseline).collect();
            let x1: Vec<f64> = inputs.iter().map(|&j| a.get(j).unwrap().current).collect();
            // A change below 1e-8 of the node's own value is float noise to the references
            // (Shapley differences and finite-difference gradients of values near 1e10): its
            // split is not compared; exactness still is, by the test above.
            if n.delta.abs() <= 1e-8 * n.baseline.abs().max(n.current.abs()) {
                continue;
            }
            let f = |x: &[f64]| expr.eval(x);
            let got: Vec<f64> = n.inputs.iter().map(|i| i.contribution).collect();
            // Scale for tolerances: the size of the node's change and of its inputs' shares.
            let scale = n.delta.abs() + got.iter().map(|x| x.abs()).sum::<f64>() + 1e-9;
            let want = match n.method {
                // Sums and products: Shapley = Aumann–Shapley; check both references.
                "sum" | "product_shapley" => {
                    let s = shapley_permutations(&f, &x0, &x1);
                    let p = path_integral(&f, &x0, &x1);
                    for (x, y) in s.iter().zip(&p) {
                        assert!(
                            (x - y).abs() <= 1e-6 * scale,
                            "tree:\n{tree}\n Shapley {x} vs path {y}"
                        );
                    }
                    s
                }
                "ratio_aumann_shapley" => path_integral(&f, &x0, &x1),
                "ratio_shapley" | "shapley" => shapley_permutations(&f, &x0, &x1),
                other => panic!("unexpected method {other}"),
            };
            for (k, (x, y)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-6 * scale,
                    "tree:\n{tree}\n node {} ({}) input {k}: {x} vs {y}",
                    g.nodes[n.node].id,
                    n.method
                );
            }
        }
    }
}

/// With `split: path`, the leaves' contributions are the Aumann–Shapley values of the root
/// as a function of the leaves: integrate its finite-difference gradients numerically.
fn leaf_contributions_match_path_integration(
    g: &MetricGraph,
    c: &Case,
    a: &Attribution,
    tree: &str,
) {
    let names: Vec<&str> = c.leaves.iter().map(|l| l.0.as_str()).collect();
    let root = |x: &[f64]| {
        let l: Vec<(&str, f64)> = names.iter().copied().zip(x.iter().copied()).collect();
        values(g, &l)[g.root].unwrap_or(f64::NAN)
    };
    let x0: Vec<f64> = c.leaves.iter().map(|l| l.1).collect();
    let x1: Vec<f64> = c.leaves.iter().map(|l| l.2).collect();
    let want = path_integral(&root, &x0, &x1);
    let got: Vec<f64> = names
        .iter()
        .map(|n| a.get(g.index(n).unwrap()).map_or(0.0, |x| x.contribution))
        .collect();
    // Finite differences of values near 1e8 resolve nothing finer than ~1e-8 of them (the
    // second fixed tree below changes by 2.6e-6 between values near 1e8).
    let r = &a.nodes[0];
    let scale = r.delta.abs()
        + got.iter().map(|x| x.abs()).sum::<f64>()
        + 1e-2 * (r.baseline.abs() + r.current.abs())
        + 1e-9;
    for (k, (x, y)) in got.iter().zip(&want).enumerate() {
        assert!(
            (x - y).abs() <= 1e-6 * scale,
            "tree:\n{tree}\n leaf {}: {x} vs path integral {y}",
            names[k]
        );
    }
}

proptest! {
    #![proptest_config(config(150))]
    #[test]
    fn input_order_and_yaml_order_do_not_matter(c in cases(), seed in any::<u64>()) {
        orders_do_not_matter(&c, seed);
    }
}

fn orders_do_not_matter(c: &Case, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tree = yaml(c, None);
    {
        let g1 = graph(&tree);
        let g2 = graph(&yaml(c, Some(&mut rng)));
        let a1 = attribute_case(&g1, c, false);
        let a2 = attribute_case(&g2, c, false);
        let mag = magnitude(&a1).max(magnitude(&a2));
        let tol = |x: f64| tol(x, mag);
        for n in &a1.nodes {
            let id = &g1.nodes[n.node].id;
            let m = a2.get(g2.index(id).unwrap()).unwrap();
            assert!(
                (n.contribution - m.contribution).abs() <= tol(n.contribution),
                "tree:\n{tree}\n {id}"
            );
        }
    }
}

/// The two trees proptest found on its first random CI run (2026-12-01), both failures of the
/// test, not of the attribution: a 2.6e-6 change between values near 1e8 (within float
/// precision of the values, not of the change), and a ratio whose denominator falls 740-fold
/// (a fixed-step Simpson rule was 0.2 % off). Kept as fixed cases.
#[test]
fn the_trees_proptest_found_stay_fixed() {
    let leaf = |n: &str, a: f64, b: f64| (n.to_string(), a, b);
    let f = |n: &str, kind: Kind, terms: &[&str]| {
        (
            n.to_string(),
            kind,
            terms.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
            "auto",
        )
    };
    let ratio = Case {
        leaves: vec![
            leaf("l0", 47.38797615428225, 47.38797615428225),
            leaf("l1", 40.34776812866478, 1.0),
            leaf("l2", 60.18926449391648, 60.18926449391648),
        ],
        formulas: vec![
            f("f0", Kind::ProductPlus, &["l0", "l1", "l2"]),
            f("f1", Kind::Product, &["l0", "l1", "l2", "f0"]),
            f("f2", Kind::Ratio, &["l0", "f1"]),
        ],
    };
    local_splits_match(&ratio);
    exact_antisymmetric_and_zero(&ratio);
    let big = Case {
        leaves: vec![
            leaf("l0", 57.098330245478145, 57.098330245478145),
            leaf("l1", 56.06646552710516, 56.06646552710516),
            leaf("l2", 55.59145036732538, 55.59145036732538),
            leaf("l3", 4.581761415178128, 4.581761415178128),
            leaf("l4", 66.67541347946872, 66.67541347946872),
            leaf("l5", 1.0, 31.201768712314912),
        ],
        formulas: vec![
            f("f0", Kind::Product, &["l0", "l1", "l2", "l4"]),
            f("f1", Kind::SumOverOne, &["l2", "l3", "l5", "f0"]),
            f("f2x", Kind::ProductPlus, &["l0", "f0", "l1"]),
            f("f2", Kind::Sum, &["f2x", "f1"]),
        ],
    };
    exact_antisymmetric_and_zero(&big);
    local_splits_match(&big);
}
