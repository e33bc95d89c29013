//! Node-local attribution: how one formula node's change splits among its inputs.
//!
//! Each input's share is φᵢ = mᵢ·Δxᵢ, where mᵢ is the *average gradient* of the node with
//! respect to that input between the baseline x⁰ and the current x¹. The mᵢ are defined even
//! where Δxᵢ = 0 (as the limit: the average partial derivative), because the graph stage
//! multiplies them through to the inputs' own inputs. Pure maths, no IO.
//!
//! - linear Σ cᵢxᵢ: mᵢ = cᵢ;
//! - product c·Πxᵢ: Shapley closed form, mᵢ = c·Σₛ w(|S|)·Πⱼ∈S xⱼ¹·Πⱼ∉S,ⱼ≠ᵢ xⱼ⁰ (equals Aumann–Shapley);
//! - ratio c·N/D: Aumann–Shapley (default) m_N = c/L(D⁰,D¹), φ_D = ΔR − φ_N; or Shapley
//!   m_N = c·(1/D⁰ + 1/D¹)/2, m_D = −c·(N⁰+N¹)/(2·D⁰·D¹);
//! - anything else: Shapley over the distinct inputs (2ᵏ evaluations), or, above
//!   [`MAX_SHAPLEY_INPUTS`] inputs, Aumann–Shapley along the straight line in the node's
//!   own inputs (numerical integration of the exact gradients).

use crate::spec::formula::{Expr, MAX_SHAPLEY_INPUTS, Shape};
use crate::spec::model::Method;

/// The attribution method actually used for a node, as reported in output.
pub fn method_name(shape: &Shape, method: Method, inputs: usize) -> &'static str {
    match (shape, method) {
        (_, Method::Lmdi) => "lmdi",
        (Shape::General, _) if inputs > MAX_SHAPLEY_INPUTS => "aumann_shapley",
        (Shape::Linear { .. }, _) => "sum",
        (Shape::Product { .. }, _) => "product_shapley",
        (Shape::Ratio { .. }, Method::Shapley) => "ratio_shapley",
        (Shape::Ratio { .. }, _) => "ratio_aumann_shapley",
        (Shape::General, _) => "shapley",
    }
}

/// The logarithmic mean L(a, b) = (a − b)/(ln a − ln b), L(a, a) = a; for two negatives,
/// −L(−a, −b). `None` when a and b differ in sign or one is zero.
pub fn log_mean(a: f64, b: f64) -> Option<f64> {
    if a < 0.0 && b < 0.0 {
        return log_mean(-a, -b).map(|l| -l);
    }
    if a <= 0.0 || b <= 0.0 {
        return None;
    }
    if a == b {
        return Some(a);
    }
    // ln(b/a) = ln_1p((b − a)/a), accurate also when b is close to a.
    Some((b - a) / ((b - a) / a).ln_1p())
}

/// A general formula with more than [`MAX_SHAPLEY_INPUTS`] inputs divides by zero between the
/// two periods, so neither its gradients nor Shapley can split it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalError;

/// Average gradients mᵢ, one per distinct input (in the formula's input order).
///
/// `on_zero` is the node's value where it divides by zero (a ratio with `on_zero`). When a
/// period sits on such a point the gradients are not finite; the split is then Shapley over
/// the formula with that substitution, which stays exact (Shapley is efficient for any
/// function), and an input that did not change gets gradient 0.
pub fn multipliers_guarded(
    expr: &Expr,
    shape: &Shape,
    method: Method,
    on_zero: Option<f64>,
    x0: &[f64],
    x1: &[f64],
) -> Result<Vec<f64>, LocalError> {
    let m = multipliers(expr, shape, method, x0, x1);
    if m.iter().all(|v| v.is_finite()) {
        return Ok(m);
    }
    if x0.len() > MAX_SHAPLEY_INPUTS {
        return Err(LocalError);
    }
    let f = |x: &[f64]| {
        let v = expr.eval(x);
        if v.is_finite() {
            v
        } else {
            on_zero.unwrap_or(0.0)
        }
    };
    Ok(shapley(&f, &|_, _| 0.0, x0, x1))
}

/// Average gradients mᵢ, one per distinct input (in the formula's input order).
pub fn multipliers(expr: &Expr, shape: &Shape, method: Method, x0: &[f64], x1: &[f64]) -> Vec<f64> {
    let k = x0.len();
    if method == Method::Lmdi
        && let Some(terms) = expr.sum_of_products()
    {
        return lmdi(&terms, x0, x1);
    }
    match shape {
        Shape::Linear { coef } => {
            let mut m = vec![0.0; k];
            for &(i, c) in coef {
                m[i] += c;
            }
            m
        }
        Shape::Product { constant, inputs } => {
            let mut m = vec![0.0; k];
            let a: Vec<f64> = inputs.iter().map(|&i| x0[i]).collect();
            let b: Vec<f64> = inputs.iter().map(|&i| x1[i]).collect();
            for (pos, &i) in inputs.iter().enumerate() {
                m[i] = constant * product_gradient(&a, &b, pos);
            }
            m
        }
        Shape::Ratio {
            constant: c,
            num,
            den,
        } => {
            let (n0, n1, d0, d1) = (x0[*num], x1[*num], x0[*den], x1[*den]);
            let mut m = vec![0.0; k];
            if method == Method::Shapley {
                m[*num] = c * (1.0 / d0 + 1.0 / d1) / 2.0;
                m[*den] = -c * (n0 + n1) / (2.0 * d0 * d1);
                return m;
            }
            let Some(l) = log_mean(d0, d1) else {
                // The denominator changes sign: no straight path avoids D = 0; fall back to Shapley.
                return multipliers(expr, shape, Method::Shapley, x0, x1);
            };
            m[*num] = c / l;
            let dd = d1 - d0;
            if dd.abs() <= 1e-9 * d0.abs().max(d1.abs()) {
                // Limit ΔD → 0 of ∫ −N(t)/D(t)² dt.
                m[*den] = -c * (n0 + n1) / 2.0 / (d0 * d1);
            } else {
                let dr = c * (n1 / d1 - n0 / d0);
                m[*den] = (dr - m[*num] * (n1 - n0)) / dd;
            }
            m
        }
        Shape::General if x0.len() > MAX_SHAPLEY_INPUTS => straight_line(expr, x0, x1),
        Shape::General => shapley_general(expr, x0, x1),
    }
}

/// Aumann–Shapley average gradients of a formula along the straight line in its own
/// inputs: mᵢ = ∫₀¹ ∂f/∂xᵢ(x⁰ + t·Δx) dt, by [`super::quadrature`]; not finite where the
/// line passes a division by zero.
fn straight_line(expr: &Expr, x0: &[f64], x1: &[f64]) -> Vec<f64> {
    let k = x0.len();
    let mut x = vec![0.0; k];
    let integral = super::quadrature::integrate(
        &mut |t, out, _| {
            for (j, v) in x.iter_mut().enumerate() {
                *v = x0[j] + t * (x1[j] - x0[j]);
            }
            for (i, o) in out.iter_mut().enumerate() {
                *o = expr.eval_dual(&x, i).d;
            }
            true
        },
        k,
        1e-14,
    );
    match integral {
        Ok(i) => i.values,
        Err(_) => vec![f64::NAN; k],
    }
}

/// LMDI-I (additive log-mean Divisia index) over Σₜ Vₜ, Vₜ = cₜ·Π xᵢ: input i's share is
/// φᵢ = Σ over the terms t that hold it of L(Vₜ¹, Vₜ⁰)·ln(xᵢ¹/xᵢ⁰), and its average gradient
/// mᵢ = Σₜ L(Vₜ¹, Vₜ⁰)/L(xᵢ¹, xᵢ⁰), which needs no division by Δxᵢ. A term whose value or
/// factor is zero in one period follows Ang, Zhang & Choi (1998, Table 2): a factor that
/// became (or stopped being) zero takes the term's whole change, shared equally when several
/// did, and the others nothing. A term whose values change sign has no logarithmic mean: it
/// is split by Shapley (its product's closed form), also exact.
fn lmdi(terms: &[(f64, Vec<usize>)], x0: &[f64], x1: &[f64]) -> Vec<f64> {
    let k = x0.len();
    // Shares φ (where the term's own rule gives shares) and gradients m.
    let mut phi = vec![0.0; k];
    let mut m = vec![0.0; k];
    for (c, inputs) in terms {
        let v0 = c * inputs.iter().map(|&i| x0[i]).product::<f64>();
        let v1 = c * inputs.iter().map(|&i| x1[i]).product::<f64>();
        if v0 == 0.0 || v1 == 0.0 {
            let zero: Vec<usize> = inputs
                .iter()
                .copied()
                .filter(|&i| {
                    if v0 == 0.0 {
                        x0[i] == 0.0
                    } else {
                        x1[i] == 0.0
                    }
                })
                .collect();
            if v0 == v1 || zero.is_empty() {
                // Both zero, or zero only through the constant: nothing moved.
                continue;
            }
            for &i in &zero {
                phi[i] += (v1 - v0) / zero.len() as f64;
            }
            continue;
        }
        let lv = log_mean(v0, v1);
        let lx: Option<Vec<f64>> = inputs.iter().map(|&i| log_mean(x0[i], x1[i])).collect();
        match (lv, lx) {
            (Some(lv), Some(lx)) => {
                for (&i, l) in inputs.iter().zip(lx) {
                    m[i] += lv / l;
                    phi[i] += lv / l * (x1[i] - x0[i]);
                }
            }
            _ => {
                let a: Vec<f64> = inputs.iter().map(|&i| x0[i]).collect();
                let b: Vec<f64> = inputs.iter().map(|&i| x1[i]).collect();
                for (pos, &i) in inputs.iter().enumerate() {
                    let g = c * product_gradient(&a, &b, pos);
                    m[i] += g;
                    phi[i] += g * (x1[i] - x0[i]);
                }
            }
        }
    }
    (0..k)
        .map(|i| {
            let dx = x1[i] - x0[i];
            if dx != 0.0 { phi[i] / dx } else { m[i] }
        })
        .collect()
}

/// Shapley average gradient of Π aᵢ→bᵢ with respect to factor `pos`:
/// Σ over subsets S of the other factors of w(|S|)·Π_{j∈S} bⱼ·Π_{j∉S} aⱼ, w(s) = s!(n−1−s)!/n!.
fn product_gradient(a: &[f64], b: &[f64], pos: usize) -> f64 {
    let n = a.len();
    // e[s] = Σ over subsets of size s of the others: Π b over the subset × Π a over the rest.
    let mut e = vec![0.0; n];
    e[0] = 1.0;
    let mut used = 0;
    for j in (0..n).filter(|&j| j != pos) {
        used += 1;
        for s in (0..=used).rev() {
            let with_b = if s > 0 { e[s - 1] * b[j] } else { 0.0 };
            e[s] = e[s] * a[j] + with_b;
        }
    }
    (0..n).map(|s| shapley_weight(n, s) * e[s]).sum()
}

/// s!(n−1−s)!/n!
pub fn shapley_weight(n: usize, s: usize) -> f64 {
    let mut w = 1.0 / n as f64;
    // 1/(n·C(n−1, s))
    let mut c = 1.0;
    for i in 0..s {
        c = c * (n - 1 - i) as f64 / (i + 1) as f64;
    }
    w /= c;
    w
}

fn shapley_general(expr: &Expr, x0: &[f64], x1: &[f64]) -> Vec<f64> {
    shapley(&|x| expr.eval(x), &|x, i| expr.eval_dual(x, i).d, x0, x1)
}

/// Shapley average gradients of `f` over its inputs: φᵢ = Σ_{S∌i} w(|S|)·(f(S∪i) − f(S)),
/// mᵢ = φᵢ/Δxᵢ; for an unchanged input, mᵢ = Σ_{S∌i} w(|S|)·∂ᵢf at S (`partial(x, i)`).
fn shapley(
    f: &dyn Fn(&[f64]) -> f64,
    partial: &dyn Fn(&[f64], usize) -> f64,
    x0: &[f64],
    x1: &[f64],
) -> Vec<f64> {
    let k = x0.len();
    let point = |mask: usize| -> Vec<f64> {
        (0..k)
            .map(|i| if mask & (1 << i) != 0 { x1[i] } else { x0[i] })
            .collect()
    };
    let values: Vec<f64> = (0..1usize << k).map(|mask| f(&point(mask))).collect();
    (0..k)
        .map(|i| {
            let bit = 1 << i;
            let dx = x1[i] - x0[i];
            let mut acc = 0.0;
            for mask in (0..1usize << k).filter(|m| m & bit == 0) {
                let w = shapley_weight(k, mask.count_ones() as usize);
                acc += if dx != 0.0 {
                    w * (values[mask | bit] - values[mask])
                } else {
                    w * partial(&point(mask), i)
                };
            }
            if dx != 0.0 { acc / dx } else { acc }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::formula::parse;

    fn resolved(text: &str, names: &[&str]) -> Expr {
        let mut e = parse(text).unwrap();
        e.resolve(&mut |n| names.iter().position(|m| *m == n).unwrap());
        e
    }

    #[test]
    fn log_mean_is_continuous_near_equal_arguments() {
        let a = 1000.0;
        // Near a = b: the series L = a·(1 + u/2 − u²/12 + u³/24), u = b/a − 1.
        for b in [1000.001, 1000.0001, 999.9999] {
            let u: f64 = b / a - 1.0;
            let series = a * (1.0 + u / 2.0 - u * u / 12.0 + u * u * u / 24.0);
            let l = log_mean(a, b).unwrap();
            assert!((l - series).abs() < 1e-9, "{b}: {l} vs {series}");
        }
        // Far apart: the plain formula is accurate.
        let l = log_mean(1000.0, 1100.0).unwrap();
        assert!((l - 100.0 / 1.1f64.ln()).abs() < 1e-9);
        assert_eq!(log_mean(5.0, 5.0), Some(5.0));
        assert_eq!(log_mean(-1.0, 2.0), None);
    }

    #[test]
    fn shapley_weights_sum_to_one_over_subsets() {
        for n in 1..8 {
            let total: f64 = (0..n)
                .map(|s| {
                    let c = (0..s).fold(1.0, |c, i| c * (n - 1 - i) as f64 / (i + 1) as f64);
                    c * shapley_weight(n, s)
                })
                .sum();
            assert!((total - 1.0 / n as f64 * n as f64).abs() < 1e-12);
        }
    }

    #[test]
    fn product_closed_form_matches_general_shapley() {
        let e = resolved("a * b * c * d", &["a", "b", "c", "d"]);
        let x0 = [25.3, 0.214, 0.279, 0.949];
        let x1 = [32.7, 0.29, 0.473, 0.986];
        let closed = multipliers(&e, &e.shape(), Method::Auto, &x0, &x1);
        let general = shapley_general(&e, &x0, &x1);
        for (c, g) in closed.iter().zip(&general) {
            assert!((c - g).abs() < 1e-12, "{c} vs {g}");
        }
    }

    #[test]
    fn zero_change_input_still_has_a_gradient() {
        let e = resolved("(a + b) / c", &["a", "b", "c"]);
        let m = multipliers(
            &e,
            &e.shape(),
            Method::Auto,
            &[1.0, 2.0, 4.0],
            &[3.0, 2.0, 4.0],
        );
        // ∂/∂b = 1/c everywhere.
        assert!((m[1] - 0.25).abs() < 1e-15);
    }
}
