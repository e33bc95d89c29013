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

/// Leaf values of a case's `pop` object: `{F: [v1, v2, …]}` → `[("F1", v1), …]`.
fn grouped_leaves(pop: &Value, factors: &[&str]) -> Vec<(String, f64)> {
    factors
        .iter()
        .flat_map(|f| {
            nums(&pop[*f])
                .into_iter()
                .enumerate()
                .map(move |(i, v)| (format!("{f}{}", i + 1), v))
        })
        .collect()
}

fn leaf_nodes(leaves: &[(String, f64)]) -> String {
    leaves
        .iter()
        .map(|(n, _)| format!("  {n}: {{measure: {{source: s, agg: count}}}}\n"))
        .collect()
}

fn players_yaml(factors: &[&str], groups: usize) -> String {
    let mut y = String::from("players:\n");
    for f in factors {
        let members: Vec<String> = (1..=groups).map(|i| format!("{f}{i}")).collect();
        y.push_str(&format!("  {f}: [{}]\n", members.join(", ")));
    }
    y
}

/// Node values (undefined → panic) of a graph from named leaves.
fn node_values(g: &MetricGraph, leaves: &[(String, f64)]) -> Vec<f64> {
    let l: Vec<(&str, f64)> = leaves.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    values(g, &l)
        .into_iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

/// (id, value) pairs: players' effects or leaves' contributions.
type Named = Vec<(String, f64)>;

/// Attributes `tree` between the two leaf sets: the attribution, the players' effects, and
/// the leaves' contributions by id.
fn split_with_players(
    tree: &str,
    p0: &[(String, f64)],
    p1: &[(String, f64)],
) -> (Attribution, Named, Named) {
    let g = graph(tree);
    let (v0, v1) = (node_values(&g, p0), node_values(&g, p1));
    let some = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    let at = attribute(&g, g.root, &some(&v0), &some(&v1)).unwrap();
    let players = metrictree::attribution::players::effects(&g, g.root, &v0, &v1)
        .map(|r| r.unwrap())
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.name, p.effect))
        .collect();
    let leaves = p0
        .iter()
        .map(|(n, _)| (n.clone(), contribution(&g, &at, n)))
        .collect();
    (at, players, leaves)
}

fn effect(players: &[(String, f64)], name: &str) -> f64 {
    players.iter().find(|p| p.0 == name).unwrap().1
}

/// TC6: Das Gupta's sum of products (birth rate = Σ share × married × fertility over 7 age
/// groups), one 21-input formula or seven product nodes under a sum: players as groups give
/// the published factor effects, and both spellings split the leaves identically.
#[test]
fn tc6_sum_of_products_players_as_groups() {
    let c = &reference()["TC6_dasgupta_sum_of_products"];
    let f = ["bm", "mw", "wp"];
    let p0 = grouped_leaves(&c["pop0_1960"], &f);
    let p1 = grouped_leaves(&c["pop1_1970"], &f);
    let tol = num(&c["tol"]);
    let head = "root: rate\nowners: {o: {name: O}}\nsources:\n  s: {file: s.csv, time: t}\n";
    let terms: Vec<String> = (1..=7).map(|i| format!("bm{i} * mw{i} * wp{i}")).collect();
    let whole = format!(
        "{head}{}nodes:\n  rate:\n    owner: o\n    formula: \"{}\"\n{}",
        players_yaml(&f, 7),
        terms.join(" + "),
        leaf_nodes(&p0)
    );
    let mut nested = format!(
        "{head}{}nodes:\n  rate:\n    owner: o\n    sum: [{}]\n",
        players_yaml(&f, 7),
        (1..=7)
            .map(|i| format!("age{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for i in 1..=7 {
        nested.push_str(&format!("  age{i}: {{product: [wp{i}, bm{i}, mw{i}]}}\n"));
    }
    nested.push_str(&leaf_nodes(&p0));
    let (a1, players, leaves1) = split_with_players(&whole, &p0, &p1);
    let (a2, players2, leaves2) = split_with_players(&nested, &p0, &p1);
    close(a1.nodes[0].baseline, num(&c["expected"]["crude0"]), tol);
    close(a1.nodes[0].current, num(&c["expected"]["crude1"]), tol);
    for name in f {
        let want = num(&c["expected"]["effects"][name]);
        close(effect(&players, name), want, tol);
        close(effect(&players2, name), want, tol);
    }
    let total: f64 = players.iter().map(|p| p.1).sum();
    close(total, a1.nodes[0].delta, 1e-12);
    // One formula (path integration) and nested products (closed forms) agree per leaf.
    assert_eq!(a1.split, metrictree::attribution::Split::Path);
    assert_eq!(a2.split, metrictree::attribution::Split::ClosedForm);
    for ((_, x), (_, y)) in leaves1.iter().zip(&leaves2) {
        close(*x, *y, 1e-9);
    }
}

/// TC7: Das Gupta's general ratio Σ ABC / (Σ ABC + Σ A(1−B)D) over 6 groups, written the four
/// ways the issue found giving four answers: players as groups reproduce the published factor
/// effects, and every spelling gives the same leaf contributions.
#[test]
fn tc7_general_ratio_players_and_four_spellings() {
    let c = &reference()["TC7_dasgupta_general_ratio"];
    let f = ["A", "B", "C", "D"];
    let p0 = grouped_leaves(&c["pop0_1963"], &f);
    let p1 = grouped_leaves(&c["pop1_1983"], &f);
    let tol = num(&c["tol"]);
    let head = format!(
        "root: rate\nowners: {{o: {{name: O}}}}\nsources:\n  s: {{file: s.csv, time: t}}\n{}nodes:\n",
        players_yaml(&f, 6)
    );
    let num_f: Vec<String> = (1..=6).map(|i| format!("A{i} * B{i} * C{i}")).collect();
    let oth_f: Vec<String> = (1..=6)
        .map(|i| format!("A{i} * (1 - B{i}) * D{i}"))
        .collect();
    let (num_f, oth_f) = (num_f.join(" + "), oth_f.join(" + "));
    let parts = format!("  num:\n    formula: \"{num_f}\"\n  oth:\n    formula: \"{oth_f}\"\n");
    let spellings = [
        // ratio: over a total node
        format!(
            "{head}  rate:\n    owner: o\n    ratio: [num, tot]\n  tot:\n    sum: [num, oth]\n{parts}"
        ),
        // formula: num / (num + oth)
        format!("{head}  rate:\n    owner: o\n    formula: \"num / (num + oth)\"\n{parts}"),
        // one 24-input formula
        format!(
            "{head}  rate:\n    owner: o\n    formula: \"({num_f}) / (({num_f}) + ({oth_f}))\"\n"
        ),
        // every term a node of its own, the sums as `sum:`
        {
            let mut y = format!(
                "{head}  rate:\n    owner: o\n    formula: \"num / (num + oth)\"\n  num:\n    sum: [{}]\n  oth:\n    sum: [{}]\n",
                (1..=6)
                    .map(|i| format!("n{i}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                (1..=6)
                    .map(|i| format!("o{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for i in 1..=6 {
                y.push_str(&format!(
                    "  n{i}: {{product: [A{i}, B{i}, C{i}]}}\n  o{i}: {{formula: \"D{i} * A{i} * (1 - B{i})\"}}\n"
                ));
            }
            y
        },
    ];
    let mut first: Option<Vec<(String, f64)>> = None;
    for tree in spellings {
        let tree = format!("{tree}{}", leaf_nodes(&p0));
        let (a, players, leaves) = split_with_players(&tree, &p0, &p1);
        close(a.nodes[0].baseline, num(&c["expected"]["crude0"]), tol);
        close(a.nodes[0].current, num(&c["expected"]["crude1"]), tol);
        for name in f {
            close(
                effect(&players, name),
                num(&c["expected"]["effects"][name]),
                tol,
            );
        }
        let sum: f64 = leaves.iter().map(|l| l.1).sum();
        close(sum, a.nodes[0].delta, 1e-12);
        match &first {
            None => first = Some(leaves),
            Some(l0) => {
                for ((n, x), (_, y)) in leaves.iter().zip(l0) {
                    assert!(
                        (x - y).abs() <= 1e-9 * a.nodes[0].delta.abs(),
                        "leaf {n}: {x} vs {y} in\n{tree}"
                    );
                }
            }
        }
    }
}

/// TC11: LMDI-I over a sum of products (2 sub-sectors × 3 factors) written as one formula:
/// per-leaf cells and per-factor effects as published; and the zero-value rules of Ang,
/// Zhang & Choi (1998, Table 2).
#[test]
fn tc11_lmdi_sum_of_products_and_zero_rules() {
    let c = &reference()["TC11_lmdi"];
    let tol = num(&c["tol"]);
    let rows = |k: &str| -> Vec<Vec<f64>> { c[k].as_array().unwrap().iter().map(nums).collect() };
    let (x0, x1) = (rows("X1971"), rows("X1972"));
    let names: Vec<String> = (0..2)
        .flat_map(|i| (0..3).map(move |k| format!("x{i}{k}")))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let flat = |x: &[Vec<f64>]| x.iter().flatten().copied().collect::<Vec<f64>>();
    let (g, at) = run(
        "x00 * x01 * x02 + x10 * x11 * x12",
        &refs,
        &flat(&x0),
        &flat(&x1),
        "lmdi",
    );
    assert_eq!(at.nodes[0].method, "lmdi");
    assert_eq!(at.split, metrictree::attribution::Split::Local);
    let cells = rows_of(&c["expected"]["cells"]);
    for (i, row) in cells.iter().enumerate() {
        for (k, want) in row.iter().enumerate() {
            close(contribution(&g, &at, &format!("x{i}{k}")), *want, tol);
        }
    }
    let additive = nums(&c["expected"]["additive"]);
    let multiplicative = nums(&c["expected"]["multiplicative"]);
    let (v0, v1) = (at.nodes[0].baseline, at.nodes[0].current);
    let l = (v1 - v0) / (v1 / v0).ln();
    for (k, want) in additive.iter().enumerate() {
        let got: f64 = (0..2)
            .map(|i| contribution(&g, &at, &format!("x{i}{k}")))
            .sum();
        close(got, *want, tol);
        // The multiplicative form follows from the additive one: D_k = exp(ΔV_k / L(V¹, V⁰)).
        close((got / l).exp(), multiplicative[k], tol);
    }
    // Zero rules, on a product x · y where y makes V what the case says.
    for z in c["zero_cases_Z"].as_array().unwrap() {
        let (v0, vt, a, b) = (num(&z["V0"]), num(&z["VT"]), num(&z["x0"]), num(&z["xT"]));
        let y = |v: f64, x: f64| if x != 0.0 { v / x } else { 1.0 };
        let (g, at) = run("x * y", &["x", "y"], &[a, y(v0, a)], &[b, y(vt, b)], "lmdi");
        close(contribution(&g, &at, "x"), num(&z["Z"]), 1e-9);
        let total = contribution(&g, &at, "x") + contribution(&g, &at, "y");
        close(total, vt - v0, 1e-9);
    }
}

fn rows_of(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(nums).collect()
}

/// A ratio whose baseline divides by zero (`on_zero: 0`) is split by the node-local rules,
/// exactly: the straight line would start on the substitute, not on the formula.
#[test]
fn a_ratio_on_its_on_zero_substitute_is_split_node_locally() {
    let g = graph(
        "root: r\nowners: {o: {name: O}}\nsources:\n  s: {file: s.csv, time: t}\nnodes:\n  r:\n    owner: o\n    formula: \"q + c\"\n  q:\n    ratio: [a, b]\n    on_zero: 0\n  a: {measure: {source: s, agg: count}}\n  b: {measure: {source: s, agg: count}}\n  c: {measure: {source: s, agg: count}}\n",
    );
    let x0 = values(&g, &[("a", 3.0), ("b", 0.0), ("c", 1.0)]);
    let x1 = values(&g, &[("a", 6.0), ("b", 10.0), ("c", 2.0)]);
    assert_eq!(x0[g.index("q").unwrap()], Some(0.0));
    let at = attribute(&g, g.root, &x0, &x1).unwrap();
    assert_eq!(at.split, metrictree::attribution::Split::Local);
    let leaves: f64 = ["a", "b", "c"]
        .iter()
        .map(|n| contribution(&g, &at, n))
        .sum();
    close(leaves, at.nodes[0].delta, 1e-12);
    close(at.nodes[0].delta, 0.6 + 1.0, 1e-12);
}
