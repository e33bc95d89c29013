//! Published reference cases (../shared/reference/attribution-cases.json): Das Gupta's
//! products and difference, the ratio example, and a hand-worked shared-denominator tree.

use metrictree::attribution::{Attribution, attribute};
use metrictree::eval::{NodeValue, Status, eval_formulas};
use metrictree::graph::MetricGraph;
use serde_json::Value;

use crate::util::{close, graph, num, reference};

/// A tree over leaves `names` (dummy source; values injected) with root `formula`.
pub fn tree(formula: &str, names: &[&str], method: &str) -> MetricGraph {
    let mut y = String::from(
        "root: f\nowners: {o: {name: O}}\nsources:\n  s: {file: s.csv, time: t}\nnodes:\n",
    );
    y.push_str(&format!(
        "  f:\n    owner: o\n    method: {method}\n    formula: \"{formula}\"\n"
    ));
    for n in names {
        y.push_str(&format!("  {n}:\n    measure: {{source: s, agg: count}}\n"));
    }
    graph(&y)
}

/// Evaluates a graph from leaf values by id.
pub fn values(g: &MetricGraph, leaves: &[(&str, f64)]) -> Vec<Option<f64>> {
    let mut v = vec![
        NodeValue {
            value: None,
            status: Status::NoData,
            cause: None
        };
        g.nodes.len()
    ];
    for (id, x) in leaves {
        v[g.index(id).unwrap()] = NodeValue {
            value: Some(*x),
            status: Status::Ok,
            cause: None,
        };
    }
    eval_formulas(g, &mut v);
    v.into_iter().map(|n| n.value).collect()
}

fn run(
    formula: &str,
    names: &[&str],
    a: &[f64],
    b: &[f64],
    method: &str,
) -> (MetricGraph, Attribution) {
    let g = tree(formula, names, method);
    let l0: Vec<(&str, f64)> = names.iter().copied().zip(a.iter().copied()).collect();
    let l1: Vec<(&str, f64)> = names.iter().copied().zip(b.iter().copied()).collect();
    let at = attribute(&g, g.root, &values(&g, &l0), &values(&g, &l1)).unwrap();
    (g, at)
}

fn contribution(g: &MetricGraph, a: &Attribution, id: &str) -> f64 {
    a.get(g.index(id).unwrap()).unwrap().contribution
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn tc1_product_of_two() {
    let c = &reference()["TC1_dasgupta_eg2.1_product2"];
    let a = [
        num(&c["pop0"]["avg_earnings"]),
        num(&c["pop0"]["earner_prop"]),
    ];
    let b = [
        num(&c["pop1"]["avg_earnings"]),
        num(&c["pop1"]["earner_prop"]),
    ];
    let (g, at) = run(
        "avg_earnings * earner_prop",
        &["avg_earnings", "earner_prop"],
        &a,
        &b,
        "auto",
    );
    let tol = num(&c["tol"]);
    close(at.nodes[0].baseline, num(&c["expected"]["crude0"]), tol);
    close(at.nodes[0].current, num(&c["expected"]["crude1"]), tol);
    close(
        contribution(&g, &at, "avg_earnings"),
        num(&c["expected"]["effects"]["avg_earnings"]),
        tol,
    );
    close(
        contribution(&g, &at, "earner_prop"),
        num(&c["expected"]["effects"]["earner_prop"]),
        tol,
    );
}

#[test]
fn tc2_tc3_products_of_three_and_four() {
    for (key, names) in [
        ("TC2_dasgupta_eg2.2_product3", vec!["a", "b", "c"]),
        ("TC3_dasgupta_eg2.3_product4", vec!["a", "b", "c", "d"]),
    ] {
        let c = &reference()[key];
        let formula = names.join(" × ");
        let (g, at) = run(
            &formula,
            &names,
            &nums(&c["pop0"]),
            &nums(&c["pop1"]),
            "auto",
        );
        let tol = num(&c["tol"]);
        close(at.nodes[0].baseline, num(&c["expected"]["crude0"]), tol);
        close(at.nodes[0].current, num(&c["expected"]["crude1"]), tol);
        for (n, want) in names.iter().zip(nums(&c["expected"]["effects"])) {
            close(contribution(&g, &at, n), want, tol);
        }
        // Same numbers with method: shapley (products: Shapley = Aumann–Shapley).
        let (g2, at2) = run(
            &formula,
            &names,
            &nums(&c["pop0"]),
            &nums(&c["pop1"]),
            "shapley",
        );
        for n in &names {
            close(contribution(&g2, &at2, n), contribution(&g, &at, n), 1e-12);
        }
    }
}

#[test]
fn tc5_difference() {
    let c = &reference()["TC5_dasgupta_eg3.1_difference"];
    let (g, at) = run(
        "b - d",
        &["b", "d"],
        &nums(&c["pop0"]),
        &nums(&c["pop1"]),
        "auto",
    );
    let eff = nums(&c["expected"]["effects"]);
    let tol = num(&c["tol"]);
    // Das Gupta reports the effect of each factor as its change in the rate's terms:
    // b rises 4.3; d falls 1.3, which *raises* b − d by 1.3.
    close(contribution(&g, &at, "b"), eff[0], tol);
    close(contribution(&g, &at, "d"), eff[1], tol);
}

#[test]
fn ratio_shapley_and_aumann_shapley() {
    let c = &reference()["TC_ratio_hypothetical"];
    let a = [num(&c["pop0"]["N"]), num(&c["pop0"]["D"])];
    let b = [num(&c["pop1"]["N"]), num(&c["pop1"]["D"])];
    let tol = num(&c["tol"]);
    let (g, at) = run("n / d", &["n", "d"], &a, &b, "shapley");
    close(at.nodes[0].delta, num(&c["expected"]["delta"]), tol);
    close(
        contribution(&g, &at, "n"),
        num(&c["expected"]["shapley"]["N"]),
        tol,
    );
    close(
        contribution(&g, &at, "d"),
        num(&c["expected"]["shapley"]["D"]),
        tol,
    );
    let (g, at) = run("n / d", &["n", "d"], &a, &b, "auto");
    close(
        contribution(&g, &at, "n"),
        num(&c["expected"]["aumann_shapley"]["N"]),
        tol,
    );
    close(
        contribution(&g, &at, "d"),
        num(&c["expected"]["aumann_shapley"]["D"]),
        tol,
    );
    let (g, at) = run("n / d", &["n", "d"], &a, &b, "aumann_shapley");
    close(contribution(&g, &at, "n"), 0.0571861, 1e-6);
    assert_eq!(at.nodes[0].method, "ratio_aumann_shapley");
    let _ = g;
}

/// Hand-worked (docs/attribution.md): root = routing/conv + skill/conv; routing 120→180,
/// skill 80→70, conv 1000→1100. L(1000, 1100) = 100/ln 1.1 = 1049.21070...
#[test]
fn shared_denominator_by_hand() {
    let g = graph(
        "root: rate\nowners: {o: {name: O}}\nsources:\n  s: {file: s.csv, time: t}\nnodes:\n  rate:\n    owner: o\n    sum: [r, k]\n  r:\n    ratio: [routed, conv]\n  k:\n    ratio: [skilled, conv]\n  routed: {measure: {source: s, agg: count}}\n  skilled: {measure: {source: s, agg: count}}\n  conv: {measure: {source: s, agg: count}}\n",
    );
    let x0 = values(
        &g,
        &[("routed", 120.0), ("skilled", 80.0), ("conv", 1000.0)],
    );
    let x1 = values(
        &g,
        &[("routed", 180.0), ("skilled", 70.0), ("conv", 1100.0)],
    );
    let a = attribute(&g, g.root, &x0, &x1).unwrap();
    let l = 100.0 / 1.1f64.ln();
    let c = |id: &str| contribution(&g, &a, id);
    close(c("routed"), 60.0 / l, 1e-12);
    close(c("skilled"), -10.0 / l, 1e-12);
    let d_root = 250.0 / 1100.0 - 200.0 / 1000.0;
    close(c("conv"), d_root - 50.0 / l, 1e-12);
    // By path: the flow into conv from r is Δr − 60/L, from k is Δk + 10/L.
    let conv = g.index("conv").unwrap();
    let flow = |parent: &str| {
        a.get(g.index(parent).unwrap())
            .unwrap()
            .inputs
            .iter()
            .find(|i| i.node == conv)
            .unwrap()
            .contribution_to_root
    };
    close(flow("r"), (180.0 / 1100.0 - 0.12) - 60.0 / l, 1e-12);
    close(flow("k"), (70.0 / 1100.0 - 0.08) + 10.0 / l, 1e-12);
    close(flow("r") + flow("k"), c("conv"), 1e-12);
    // Numbers as printed in docs/attribution.md.
    close(c("routed"), 0.05718610, 1e-7);
    close(c("conv"), -0.02038236, 1e-7);
}
