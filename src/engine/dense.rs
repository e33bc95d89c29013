//! Grouping-set aggregation of a source's rows held in memory, in Rust: what
//! `sql::aggregate` asks DataFusion for, computed without its row expansion.
//!
//! Input: the batches `sql::materialize` produced (`__p`, `d{k}`, `x{j}`, `__w`) and an
//! [`Aggregate`] (groups of periods, grouping sets, noise combinations). Output: the same
//! [`Rows`] the SQL returns, column for column, so evaluation cannot tell which ran.
//!
//! Two levels: every row is added once to its *fine cell* — its period group and the values
//! of every dimension any grouping set uses — and each grouping set is then the merge of the
//! fine cells (a handful of thousands, where the rows are millions). Sums are exact before
//! they are rounded once ([`Total`]: integers in an `i128`, anything else in an
//! [`ExactSum`]), so merging in any order, on any number of threads, gives the same bits as
//! the SQL path's `exact_sum`. Distinct counts are not handled here: a plan with one goes to
//! the SQL path ([`handles`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int8Array, Int32Array, RecordBatch, StringArray,
    UInt32Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int8Type, Int32Type, UInt32Type};

use super::Rows;
use super::exact_sum::ExactSum;
use crate::plan::{Aggregate, SourcePlan};
use crate::spec::model::Agg;

/// Whether this module can aggregate `plan`'s rows (every measure but distinct counts).
pub fn handles(plan: &SourcePlan) -> bool {
    plan.measures.iter().all(|m| m.agg != Agg::CountDistinct)
}

/// About how many bytes one cell of this aggregation holds (for the memory limit).
pub fn cell_bytes(plan: &SourcePlan, agg: &Aggregate) -> usize {
    std::mem::size_of::<Cell>()
        + plan.measures.len() * std::mem::size_of::<Acc>()
        + agg.psi.len() * std::mem::size_of::<Total>()
        + 4 * (plan.dims.len() + 1)
        + 64
}

/// A sum computed exactly and rounded once: integer values (counts, seconds, flags) add in
/// an `i128`, anything else in an [`ExactSum`]. `None` until a value is added (SQL's empty
/// sum is NULL).
#[derive(Debug, Clone, Default)]
struct Total {
    int: i128,
    exact: Option<Box<ExactSum>>,
    seen: bool,
}

impl Total {
    #[inline]
    fn add(&mut self, x: f64) {
        self.seen = true;
        // An integer that fits an i64 comes back from it unchanged; NaN (→ 0) and infinities
        // (→ saturated) do not, and go to the exact sum, which follows IEEE rules for them.
        // 2⁶³ saturates to i64::MAX, which converts back to 2⁶³: excluded.
        let i = x as i64;
        if i as f64 == x && i != i64::MAX {
            self.int += i128::from(i);
        } else {
            self.exact.get_or_insert_with(Box::default).add(x);
        }
    }

    fn merge(&mut self, o: &Total) {
        self.seen |= o.seen;
        self.int += o.int;
        if let Some(e) = &o.exact {
            self.exact.get_or_insert_with(Box::default).merge(e);
        }
    }

    fn value(&self) -> Option<f64> {
        if !self.seen {
            return None;
        }
        Some(match &self.exact {
            // i128 → f64 rounds to nearest, ties to even: the exact sum rounded once.
            None => self.int as f64,
            Some(e) => {
                let mut e = (**e).clone();
                // The integer part in three exact pieces of at most 52 bits each.
                let (neg, m) = (self.int < 0, self.int.unsigned_abs());
                for i in 0..3 {
                    let piece = ((m >> (52 * i)) & ((1 << 52) - 1)) as f64 * 2f64.powi(52 * i);
                    if piece != 0.0 {
                        e.add(if neg { -piece } else { piece });
                    }
                }
                e.value()
            }
        })
    }
}

/// One measure's accumulators (see `sql::aggregate_in` for what each column is).
#[derive(Debug, Clone)]
enum Acc {
    /// `Count`: Σ x·w.
    Count(Total),
    /// `Sum`, `Mean`: present, Σ x·w, Σ x²·w.
    Moments(Present, Total, Total),
    /// `Min`, `Max`: present, the extreme.
    Extreme(Present, Option<f64>, bool),
}

/// How many rows have a value: a count, or with weights Σ w over them.
#[derive(Debug, Clone)]
enum Present {
    Rows(u64),
    Weight(Total),
}

/// A cell: the rows of one period group and one combination of dimension values.
#[derive(Debug, Clone)]
struct Cell {
    rows: Present,
    bad_weights: u64,
    measures: Vec<Acc>,
    psi: Vec<Total>,
}

impl Cell {
    fn new(plan: &SourcePlan, agg: &Aggregate) -> Cell {
        let weighted = plan.weight.is_some();
        let present = || {
            if weighted {
                Present::Weight(Total::default())
            } else {
                Present::Rows(0)
            }
        };
        Cell {
            rows: present(),
            bad_weights: 0,
            measures: plan
                .measures
                .iter()
                .map(|m| match m.agg {
                    Agg::Count => Acc::Count(Total::default()),
                    Agg::Min | Agg::Max => Acc::Extreme(present(), None, m.agg == Agg::Max),
                    Agg::Sum | Agg::Mean | Agg::CountDistinct => {
                        Acc::Moments(present(), Total::default(), Total::default())
                    }
                })
                .collect(),
            psi: vec![Total::default(); agg.psi.len()],
        }
    }

    fn merge(&mut self, o: &Cell) {
        self.rows.merge(&o.rows);
        self.bad_weights += o.bad_weights;
        for (a, b) in self.measures.iter_mut().zip(&o.measures) {
            match (a, b) {
                (Acc::Count(a), Acc::Count(b)) => a.merge(b),
                (Acc::Moments(pa, sa, qa), Acc::Moments(pb, sb, qb)) => {
                    pa.merge(pb);
                    sa.merge(sb);
                    qa.merge(qb);
                }
                (Acc::Extreme(pa, va, max), Acc::Extreme(pb, vb, _)) => {
                    pa.merge(pb);
                    if let Some(v) = vb {
                        *va = Some(extreme(*va, *v, *max));
                    }
                }
                _ => {}
            }
        }
        for (a, b) in self.psi.iter_mut().zip(&o.psi) {
            a.merge(b);
        }
    }
}

impl Present {
    /// A row whose value is present (`w`: its weight; NULL adds nothing, as in SQL).
    #[inline]
    fn add(&mut self, w: Option<f64>) {
        match self {
            Present::Rows(n) => *n += 1,
            Present::Weight(t) => {
                if let Some(w) = w {
                    t.add(w);
                }
            }
        }
    }

    /// A row without a value: weighted, it adds 0 (`CASE … ELSE 0`), so the sum is not NULL.
    #[inline]
    fn add_absent(&mut self) {
        if let Present::Weight(t) = self {
            t.add(0.0);
        }
    }

    fn merge(&mut self, o: &Present) {
        match (self, o) {
            (Present::Rows(a), Present::Rows(b)) => *a += b,
            (Present::Weight(a), Present::Weight(b)) => a.merge(b),
            _ => {}
        }
    }

    fn value(&self) -> Option<f64> {
        match self {
            Present::Rows(n) => Some(*n as f64),
            Present::Weight(t) => t.value(),
        }
    }
}

/// SQL's MIN/MAX over doubles: by total order (NaN above everything).
fn extreme(a: Option<f64>, b: f64, max: bool) -> f64 {
    match a {
        None => b,
        Some(a) => {
            let b_wins = if max {
                b.total_cmp(&a).is_gt()
            } else {
                b.total_cmp(&a).is_lt()
            };
            if b_wins { b } else { a }
        }
    }
}

/// FxHash (rustc's): keys are a few small integers, hashed once per row.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// Each dimension's values as small codes, shared by all batches (0 is NULL).
#[derive(Default)]
struct Codes {
    of: Vec<FxMap<String, u32>>,
    values: Vec<Vec<Option<String>>>,
}

impl Codes {
    fn new(n: usize) -> Codes {
        Codes {
            of: (0..n).map(|_| FxMap::default()).collect(),
            values: (0..n).map(|_| vec![None]).collect(),
        }
    }

    fn code(&mut self, dim: usize, v: &str) -> u32 {
        if let Some(&c) = self.of[dim].get(v) {
            return c;
        }
        let c = self.values[dim].len() as u32;
        self.values[dim].push(Some(v.to_string()));
        self.of[dim].insert(v.to_string(), c);
        c
    }

    /// A dimension column of one batch as codes: a dictionary column costs a lookup per
    /// distinct value and keeps its keys (nothing per row is copied), any other text column
    /// a lookup per row.
    fn column(&mut self, dim: usize, a: &ArrayRef) -> Result<Dim, String> {
        if let DataType::Dictionary(_, _) = a.data_type() {
            let a = cast(
                a,
                &DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)),
            )
            .map_err(|e| e.to_string())?;
            let d = a.as_dictionary::<UInt32Type>();
            let values = d.values().as_string::<i32>();
            let map: Vec<u32> = (0..values.len())
                .map(|i| {
                    if values.is_null(i) {
                        0
                    } else {
                        self.code(dim, values.value(i))
                    }
                })
                .collect();
            return Ok(Dim::Keyed(d.keys().clone(), map));
        }
        let a = cast(a, &DataType::Utf8).map_err(|e| e.to_string())?;
        let s = a.as_string::<i32>();
        Ok(Dim::Codes(
            (0..s.len())
                .map(|r| {
                    if s.is_null(r) {
                        0
                    } else {
                        self.code(dim, s.value(r))
                    }
                })
                .collect(),
        ))
    }
}

/// A dimension column of one batch, as codes (0 is NULL).
enum Dim {
    /// A dictionary's keys and each key's code.
    Keyed(UInt32Array, Vec<u32>),
    /// A code per row.
    Codes(Vec<u32>),
}

impl Dim {
    #[inline]
    fn code(&self, r: usize) -> u32 {
        match self {
            Dim::Keyed(keys, map) if keys.is_valid(r) => map[keys.value(r) as usize],
            Dim::Keyed(..) => 0,
            Dim::Codes(codes) => codes[r],
        }
    }
}

/// One batch's columns, typed.
struct Columns {
    period: Int32Array,
    dims: Vec<Dim>,
    xs: Vec<Values>,
    weight: Option<Float64Array>,
}

/// A measure's per-row values: doubles, or the one-byte 1/0 of a count (`Dialect::flag`).
enum Values {
    Double(Float64Array),
    Flag(Int8Array),
}

impl Values {
    fn of(batch: &RecordBatch, name: &str) -> Result<Self, String> {
        match batch.column_by_name(name).map(|a| a.data_type()) {
            Some(DataType::Int8) => Ok(Values::Flag(
                column(batch, name, &DataType::Int8)?
                    .as_primitive::<Int8Type>()
                    .clone(),
            )),
            _ => Ok(Values::Double(
                column(batch, name, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone(),
            )),
        }
    }

    /// Row `r`'s value; `None` for NULL.
    #[inline]
    fn get(&self, r: usize) -> Option<f64> {
        match self {
            Values::Double(a) => (!a.is_null(r)).then(|| a.value(r)),
            Values::Flag(a) => (!a.is_null(r)).then(|| f64::from(a.value(r))),
        }
    }
}

fn column(batch: &RecordBatch, name: &str, to: &DataType) -> Result<ArrayRef, String> {
    let a = batch
        .column_by_name(name)
        .ok_or_else(|| format!("the rows held in memory lack column `{name}`"))?;
    if a.data_type() == to {
        Ok(a.clone())
    } else {
        cast(a, to).map_err(|e| e.to_string())
    }
}

/// Fine cells of some batches: key = period group, then the codes of `used` dimensions.
type Fine = FxMap<Box<[u32]>, Cell>;

/// An output cell: its period group, its grouping set, the set's dimension codes, its sums.
type SetCell<'a> = (u32, &'a Vec<usize>, Vec<u32>, Cell);

fn fine_cells(
    plan: &SourcePlan,
    agg: &Aggregate,
    group_of: &[Option<u32>],
    used: &[usize],
    psi: &[Vec<(usize, f64)>],
    batches: &[Columns],
) -> Fine {
    let mut cells: Fine = FxMap::default();
    let mut key = vec![0u32; used.len() + 1];
    let weighted = plan.weight.is_some();
    for c in batches {
        for r in 0..c.period.len() {
            if c.period.is_null(r) {
                continue;
            }
            let Some(g) = group_of.get(c.period.value(r) as usize).copied().flatten() else {
                continue;
            };
            key[0] = g;
            for (i, &k) in used.iter().enumerate() {
                key[i + 1] = c.dims[k].code(r);
            }
            let cell = match cells.get_mut(&key[..]) {
                Some(cell) => cell,
                None => cells
                    .entry(key.clone().into_boxed_slice())
                    .or_insert_with(|| Cell::new(plan, agg)),
            };
            add_row(cell, c, r, weighted, psi);
        }
    }
    cells
}

#[inline]
fn add_row(cell: &mut Cell, c: &Columns, r: usize, weighted: bool, psi: &[Vec<(usize, f64)>]) {
    let w = match &c.weight {
        Some(w) if !w.is_null(r) => Some(w.value(r)),
        _ => None,
    };
    // x·w as SQL computes it: NULL when either is.
    let times_w = |x: f64| if weighted { w.map(|w| x * w) } else { Some(x) };
    cell.rows.add(w);
    if weighted && !w.is_some_and(|w| (0.0..1e300).contains(&w)) {
        cell.bad_weights += 1;
    }
    for (a, x) in cell.measures.iter_mut().zip(&c.xs) {
        let v = x.get(r);
        match a {
            Acc::Count(t) => {
                if let Some(v) = v.and_then(times_w) {
                    t.add(v);
                }
            }
            Acc::Moments(p, s, ss) => match v {
                Some(v) => {
                    p.add(w);
                    if let Some(xw) = times_w(v) {
                        s.add(xw);
                    }
                    if let Some(x2w) = times_w(v * v) {
                        ss.add(x2w);
                    }
                }
                None => p.add_absent(),
            },
            Acc::Extreme(p, e, max) => match v {
                Some(v) => {
                    p.add(w);
                    *e = Some(extreme(*e, v, *max));
                }
                None => p.add_absent(),
            },
        }
    }
    for (t, combo) in cell.psi.iter_mut().zip(psi) {
        // Σ cⱼ·COALESCE(xⱼ, 0), left to right as the SQL adds it; then squared.
        let mut e: Option<f64> = None;
        for &(j, coef) in combo {
            let term = coef * c.xs[j].get(r).unwrap_or(0.0);
            e = Some(match e {
                None => term,
                Some(e) => e + term,
            });
        }
        let e = e.unwrap_or(0.0);
        if let Some(v) = times_w(e * e) {
            t.add(v);
        }
    }
}

/// Aggregates `batches` (a source's materialized rows) as `sql::aggregate(plan, agg)` would,
/// on `threads` threads. `check` is called between batches (the run's time limit) and with
/// the number of cells held (the memory limit); an error from it stops the aggregation.
pub fn aggregate(
    plan: &SourcePlan,
    agg: &Aggregate,
    batches: &[RecordBatch],
    threads: usize,
    check: &dyn Fn(usize) -> Result<(), String>,
) -> Result<Rows, String> {
    let n_periods = agg.groups.iter().flatten().max().map_or(0, |m| m + 1);
    let mut group_of = vec![None; n_periods];
    for (g, ps) in agg.groups.iter().enumerate() {
        for &p in ps {
            group_of[p] = Some(g as u32);
        }
    }
    let grouped = agg.sets.iter().any(|s| !s.is_empty());
    let sets: Vec<Vec<usize>> = if grouped {
        agg.sets.clone()
    } else {
        vec![Vec::new()]
    };
    // The coefficients as `sql::literal` writes them: a non-finite one is 0.
    let psi: Vec<Vec<(usize, f64)>> = agg
        .psi
        .iter()
        .map(|combo| {
            combo
                .iter()
                .map(|&(j, c)| (j, if c.is_finite() { c } else { 0.0 }))
                .collect()
        })
        .collect();
    let mut used: Vec<usize> = sets.iter().flatten().copied().collect();
    used.sort_unstable();
    used.dedup();

    // Decode the batches' columns once (dimension codes shared across batches).
    let mut codes = Codes::new(plan.dims.len());
    let mut decoded = Vec::with_capacity(batches.len());
    for b in batches {
        check(0)?;
        let mut dims: Vec<Dim> = (0..plan.dims.len())
            .map(|_| Dim::Codes(Vec::new()))
            .collect();
        for &k in &used {
            let a = b
                .column_by_name(&format!("d{k}"))
                .ok_or_else(|| format!("the rows held in memory lack column `d{k}`"))?;
            dims[k] = codes.column(k, a)?;
        }
        let xs = (0..plan.measures.len())
            .map(|j| Values::of(b, &format!("x{j}")))
            .collect::<Result<Vec<_>, _>>()?;
        let weight = match plan.weight {
            Some(_) => Some(
                column(b, "__w", &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone(),
            ),
            None => None,
        };
        let period = column(b, "__p", &DataType::Int32)?
            .as_primitive::<Int32Type>()
            .clone();
        decoded.push(Columns {
            period,
            dims,
            xs,
            weight,
        });
    }

    // Fine cells, one share of the batches per thread, then merged (exact: any order).
    let threads = threads.clamp(1, decoded.len().max(1));
    let per = decoded.len().div_ceil(threads).max(1);
    let parts: Vec<Fine> = std::thread::scope(|s| {
        let handles: Vec<_> = decoded
            .chunks(per)
            .map(|chunk| s.spawn(|| fine_cells(plan, agg, &group_of, &used, &psi, chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut fine: Fine = FxMap::default();
    for part in parts {
        for (k, c) in part {
            match fine.get_mut(&k) {
                Some(f) => f.merge(&c),
                None => {
                    fine.insert(k, c);
                }
            }
        }
    }
    check(fine.len())?;
    // A fixed order for the output (the cells' values do not depend on it).
    let mut fine: Vec<(Box<[u32]>, Cell)> = fine.into_iter().collect();
    fine.sort_unstable_by(|a, b| a.0.cmp(&b.0));

    // Each grouping set: the merge of the fine cells with its values.
    let mut out: Vec<SetCell> = Vec::new();
    for set in &sets {
        let pos: Vec<usize> = set
            .iter()
            .map(|k| used.iter().position(|u| u == k).unwrap_or(0) + 1)
            .collect();
        let mut index: FxMap<Vec<u32>, usize> = FxMap::default();
        for (key, cell) in &fine {
            let mut k = Vec::with_capacity(pos.len() + 1);
            k.push(key[0]);
            k.extend(pos.iter().map(|&p| key[p]));
            match index.get(&k) {
                Some(&i) => out[i].3.merge(cell),
                None => {
                    index.insert(k.clone(), out.len());
                    out.push((key[0], set, k[1..].to_vec(), cell.clone()));
                }
            }
        }
        check(fine.len() + out.len())?;
    }
    Ok(rows(plan, agg, grouped, &codes, &out))
}

/// The aggregated cells as the SQL's columns.
fn rows(plan: &SourcePlan, agg: &Aggregate, grouped: bool, codes: &Codes, out: &[SetCell]) -> Rows {
    let mut names = vec!["__g".to_string()];
    let mut data: Vec<ArrayRef> = Vec::new();
    let num = |f: &dyn Fn(&SetCell) -> Option<f64>| -> ArrayRef {
        Arc::new(out.iter().map(f).collect::<Float64Array>())
    };
    data.push(num(&|c| Some(f64::from(c.0))));
    for k in (0..plan.dims.len()).filter(|_| grouped) {
        names.push(format!("d{k}"));
        data.push(Arc::new(
            out.iter()
                .map(|(_, set, vals, _)| {
                    let i = set.iter().position(|&d| d == k)?;
                    codes.values[k][vals[i] as usize].clone()
                })
                .collect::<StringArray>(),
        ));
        names.push(format!("g{k}"));
        data.push(num(&|c| Some(if c.1.contains(&k) { 0.0 } else { 1.0 })));
    }
    names.push("__rows".into());
    data.push(num(&|c| c.3.rows.value()));
    if plan.weight.is_some() {
        names.push("__bad_w".into());
        data.push(num(&|c| Some(c.3.bad_weights as f64)));
    }
    for (j, m) in plan.measures.iter().enumerate() {
        match m.agg {
            Agg::Count => {
                names.push(format!("m{j}_n"));
                data.push(num(&|c| match &c.3.measures[j] {
                    Acc::Count(t) => t.value(),
                    _ => None,
                }));
            }
            Agg::Sum | Agg::Mean | Agg::CountDistinct => {
                for (suffix, part) in [("n", 0), ("s", 1), ("ss", 2)] {
                    names.push(format!("m{j}_{suffix}"));
                    data.push(num(&|c| match &c.3.measures[j] {
                        Acc::Moments(p, s, ss) => match part {
                            0 => p.value(),
                            1 => s.value(),
                            _ => ss.value(),
                        },
                        _ => None,
                    }));
                }
            }
            Agg::Min | Agg::Max => {
                names.push(format!("m{j}_n"));
                data.push(num(&|c| match &c.3.measures[j] {
                    Acc::Extreme(p, _, _) => p.value(),
                    _ => None,
                }));
                names.push(format!("m{j}_v"));
                data.push(num(&|c| match &c.3.measures[j] {
                    Acc::Extreme(_, v, _) => *v,
                    _ => None,
                }));
            }
        }
    }
    for i in 0..agg.psi.len() {
        names.push(format!("q{i}"));
        data.push(num(&|c| c.3.psi[i].value()));
    }
    Rows::from_arrays(names, data, out.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(xs: &[f64]) -> Option<f64> {
        let mut e = ExactSum::new();
        for &x in xs {
            e.add(x);
        }
        (!e.is_empty()).then(|| e.value())
    }

    fn total(xs: &[f64]) -> Option<f64> {
        let mut t = Total::default();
        for &x in xs {
            t.add(x);
        }
        t.value()
    }

    #[test]
    fn totals_equal_the_exact_sum_bit_for_bit() {
        let cases: &[&[f64]] = &[
            &[],
            &[0.0],
            &[-0.0, -0.0],
            &[1.0, 2.0, 3.0],
            &[0.1, 0.2, 0.3],
            &[1e16, 1.0, -1e16],
            // Integers beyond 2⁵³ (exact in i128), mixed with fractions.
            &[9007199254740993.0, 0.5, 9007199254740992.0, 1.0],
            // 2⁶³ saturates an i64 cast; it must not be taken for i64::MAX.
            &[9223372036854775808.0, 1.0],
            &[-9223372036854775808.0, -1.0],
            &[1e300, 1e300, -1e300, 0.25],
            &[f64::NAN, 1.0],
            &[f64::INFINITY, 1.0],
            &[f64::INFINITY, f64::NEG_INFINITY],
            &[5e-324, 3.0, 5e-324],
        ];
        for xs in cases {
            let (want, got) = (exact(xs), total(xs));
            assert_eq!(
                want.map(f64::to_bits),
                got.map(f64::to_bits),
                "{xs:?}: exact {want:?}, total {got:?}"
            );
        }
    }

    #[test]
    fn merging_in_any_order_gives_the_same_bits() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| {
                let i = f64::from(i);
                if i % 3.0 == 0.0 { i } else { i * 0.1 - 7.3 }
            })
            .collect();
        let want = total(&xs).map(f64::to_bits);
        for parts in [2, 3, 7, 999] {
            let mut acc = Total::default();
            for chunk in xs.chunks(xs.len().div_ceil(parts)).rev() {
                let mut t = Total::default();
                for &x in chunk {
                    t.add(x);
                }
                acc.merge(&t);
            }
            assert_eq!(acc.value().map(f64::to_bits), want, "{parts} parts");
        }
    }

    /// A batch of the held rows: `__p`, `d0` (a dictionary or plain text) and two counts'
    /// 1/0 as one byte (`Dialect::flag`) or as doubles.
    fn held(flags: bool, dictionary: bool) -> RecordBatch {
        use datafusion::arrow::array::DictionaryArray;
        let p: ArrayRef = Arc::new(Int32Array::from(vec![0, 0, 1, 1, 1, 0, 1]));
        let names = [
            Some("chat"),
            Some("mail"),
            Some("chat"),
            None,
            Some("mail"),
            Some("chat"),
            Some("chat"),
        ];
        let d0: ArrayRef = if dictionary {
            Arc::new(
                names
                    .iter()
                    .copied()
                    .collect::<DictionaryArray<UInt32Type>>(),
            )
        } else {
            Arc::new(names.iter().copied().collect::<StringArray>())
        };
        let (a, b) = ([1i8, 0, 1, 1, 0, 1, 1], [0i8, 1, 1, 0, 0, 1, 0]);
        let x = |v: [i8; 7]| -> ArrayRef {
            if flags {
                Arc::new(Int8Array::from(v.to_vec()))
            } else {
                Arc::new(v.iter().map(|&v| f64::from(v)).collect::<Float64Array>())
            }
        };
        RecordBatch::try_from_iter([("__p", p), ("d0", d0), ("x0", x(a)), ("x1", x(b))]).unwrap()
    }

    #[test]
    fn one_byte_flags_and_dictionary_keys_give_the_same_rows_as_doubles_and_text() {
        let count = crate::plan::PlannedMeasure {
            node: None,
            agg: Agg::Count,
            expr: None,
            filter: None,
        };
        let plan = SourcePlan {
            source: 0,
            table: "t".into(),
            time_column: "at".into(),
            time_mode: crate::plan::TimeMode::Local,
            periods: Vec::new(),
            dims: vec![("channel".into(), "channel".into())],
            measures: vec![count.clone(), count],
            weight: None,
        };
        let agg = Aggregate {
            groups: vec![vec![0], vec![1]],
            sets: vec![vec![], vec![0]],
            psi: vec![vec![(0, 0.5), (1, -1.25)]],
        };
        let run = |flags, dictionary| {
            let rows = aggregate(&plan, &agg, &[held(flags, dictionary)], 2, &|_| Ok(())).unwrap();
            let cols: Vec<String> = rows.data.iter().map(|a| format!("{a:?}")).collect();
            (rows.columns.clone(), rows.len, cols)
        };
        let want = run(false, false);
        assert!(want.1 > 2, "{want:?}");
        for (flags, dictionary) in [(true, true), (true, false), (false, true)] {
            assert_eq!(
                run(flags, dictionary),
                want,
                "flags {flags}, dictionary {dictionary}"
            );
        }
    }

    #[test]
    fn extremes_follow_total_order() {
        assert_eq!(extreme(None, 2.0, true), 2.0);
        assert_eq!(extreme(Some(2.0), 3.0, true), 3.0);
        assert_eq!(extreme(Some(2.0), 3.0, false), 2.0);
        assert!(extreme(Some(2.0), f64::NAN, true).is_nan());
        assert_eq!(extreme(Some(-0.0), 0.0, true).to_bits(), 0.0f64.to_bits());
    }
}
