//! Property tests on random trees and DAGs with shared nodes (seeded, so failures replay):
//! exactness, agreement with brute-force Shapley (over permutations) and with numerical path
//! integration where the methods must agree, input-order and YAML-order symmetry,
//! antisymmetry under swapping the periods, and zero for unchanged inputs.

use std::collections::HashMap;

use metrictree::attribution::{Attribution, attribute};
use metrictree::graph::{Def, MetricGraph};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
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

fn random_case(rng: &mut ChaCha8Rng) -> Case {
    let nl = rng.random_range(3..=6);
    let leaves: Vec<(String, f64, f64)> = (0..nl)
        .map(|i| {
            let a = rng.random_range(1.0..100.0);
            let b = if rng.random::<f64>() < 0.25 {
                a
            } else {
                rng.random_range(1.0..100.0)
            };
            (format!("l{i}"), a, b)
        })
        .collect();
    let nf = rng.random_range(2..=5);
    let mut formulas: Vec<(String, Kind, Vec<String>, &'static str)> = Vec::new();
    let mut used: HashMap<String, bool> = HashMap::new();
    for i in 0..nf {
        let mut pool: Vec<String> = leaves.iter().map(|l| l.0.clone()).collect();
        pool.extend(formulas.iter().map(|f| f.0.clone()));
        pool.shuffle(rng);
        let kind = match rng.random_range(0..5) {
            0 => Kind::Sum,
            1 => Kind::Product,
            2 => Kind::Ratio,
            3 => Kind::SumOverOne,
            _ => Kind::ProductPlus,
        };
        let k = match kind {
            Kind::Ratio => 2,
            Kind::SumOverOne | Kind::ProductPlus => rng.random_range(3..=4).min(pool.len()),
            _ => rng.random_range(2..=4).min(pool.len()),
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
        let method = if matches!(kind, Kind::Ratio) && rng.random::<f64>() < 0.5 {
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

fn tol(x: f64) -> f64 {
    1e-9 * x.abs().max(1.0)
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

/// Aumann–Shapley by numerical path integration (Simpson, finite-difference gradients).
fn path_integral(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], x1: &[f64]) -> Vec<f64> {
    let k = x0.len();
    let steps = 2000;
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
            let hstep = 1.0 / steps as f64;
            let mut s = grad(0.0) + grad(1.0);
            for n in 1..steps {
                s += grad(n as f64 * hstep) * if n % 2 == 1 { 4.0 } else { 2.0 };
            }
            s * hstep / 3.0 * dx
        })
        .collect()
}

#[test]
fn exact_antisymmetric_and_zero_for_unchanged_inputs() {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    for case_no in 0..200 {
        let c = random_case(&mut rng);
        let g = graph(&yaml(&c, None));
        let a = attribute_case(&g, &c, false);
        let root = a.get(g.root).unwrap();
        let leaves: f64 = a
            .nodes
            .iter()
            .filter(|n| g.nodes[n.node].is_leaf())
            .map(|n| n.contribution)
            .sum();
        assert!(
            (leaves - root.delta).abs() <= tol(root.delta),
            "case {case_no}: leaves {leaves} vs Δroot {}",
            root.delta
        );
        for n in &a.nodes {
            if n.inputs.is_empty() {
                continue;
            }
            let local: f64 = n.inputs.iter().map(|i| i.contribution).sum();
            assert!(
                (local - n.delta).abs() <= tol(n.delta),
                "case {case_no}: local split of {}",
                g.nodes[n.node].id
            );
            let flows: f64 = n.inputs.iter().map(|i| i.contribution_to_root).sum();
            assert!(
                (flows - n.contribution).abs() <= tol(n.contribution),
                "case {case_no}: flows of {}",
                g.nodes[n.node].id
            );
            for i in &n.inputs {
                let ia = a.get(i.node).unwrap();
                if ia.delta == 0.0 {
                    assert_eq!(
                        i.contribution, 0.0,
                        "case {case_no}: unchanged input has no share"
                    );
                }
            }
        }
        let b = attribute_case(&g, &c, true);
        for (x, y) in a.nodes.iter().zip(&b.nodes) {
            assert!(
                (x.contribution + y.contribution).abs() <= tol(x.contribution),
                "case {case_no}: antisymmetry"
            );
        }
    }
}

#[test]
fn local_splits_match_brute_force_shapley_and_path_integration() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for case_no in 0..150 {
        let c = random_case(&mut rng);
        let g = graph(&yaml(&c, None));
        let a = attribute_case(&g, &c, false);
        for n in &a.nodes {
            let Def::Formula { expr, inputs, .. } = &g.nodes[n.node].def else {
                continue;
            };
            let x0: Vec<f64> = inputs.iter().map(|&j| a.get(j).unwrap().baseline).collect();
            let x1: Vec<f64> = inputs.iter().map(|&j| a.get(j).unwrap().current).collect();
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
                            "case {case_no}: Shapley {x} vs path {y}"
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
                    "case {case_no}: node {} ({}) input {k}: {x} vs {y}",
                    g.nodes[n.node].id,
                    n.method
                );
            }
        }
    }
}

#[test]
fn input_order_and_yaml_order_do_not_matter() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for case_no in 0..150 {
        let c = random_case(&mut rng);
        let g1 = graph(&yaml(&c, None));
        let g2 = graph(&yaml(&c, Some(&mut rng)));
        let a1 = attribute_case(&g1, &c, false);
        let a2 = attribute_case(&g2, &c, false);
        for n in &a1.nodes {
            let id = &g1.nodes[n.node].id;
            let m = a2.get(g2.index(id).unwrap()).unwrap();
            assert!(
                (n.contribution - m.contribution).abs() <= tol(n.contribution),
                "case {case_no}: {id}"
            );
        }
    }
}
