//! `exact_sum(x)`: the sum of `DOUBLE` values computed exactly, then rounded once — so the
//! result does not depend on the order rows arrive in, how the file engine partitions them,
//! or its batch size. Every sum the aggregation asks the file engine for goes through it
//! (`sql::aggregate`); PostgreSQL sums `NUMERIC`, which is exact too.
//!
//! [`ExactSum`] is a fixed-point integer wide enough for any finite double: 32-bit limbs
//! holding bit positions from 2⁻¹⁰⁷⁴ (the smallest subnormal) upwards, kept only over the
//! window of positions the values actually touch. Adding a double adds its 53-bit mantissa
//! to at most three limbs; carries are settled lazily. The final value is the exact sum
//! rounded to nearest (ties to even). NaN and infinities follow IEEE rules: any NaN, or both
//! infinities, give NaN.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryBuilder, BooleanArray, Float64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

/// The lowest bit position a double can hold: 2⁻¹⁰⁷⁴ is bit 0 of limb 0.
const BIAS: i32 = 1074;
/// Limbs may take this many additions before their carries are settled.
const SETTLE_EVERY: u32 = 1 << 29;

const NAN: u8 = 1;
const POS_INF: u8 = 2;
const NEG_INF: u8 = 4;

/// An exact sum of doubles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExactSum {
    /// Index of `limbs[0]`: limb `k` holds bit positions `32k .. 32k + 32`.
    base: i32,
    /// Signed limbs; after [`ExactSum::settle`] each is in `0 .. 2³²` but the last.
    limbs: Vec<i64>,
    adds: u32,
    special: u8,
    /// Whether any non-NULL value was added (an empty sum is NULL in SQL).
    seen: bool,
}

impl ExactSum {
    pub fn new() -> ExactSum {
        ExactSum::default()
    }

    /// Makes limbs `lo ..= hi` (absolute indices) addressable.
    fn cover(&mut self, lo: i32, hi: i32) {
        if self.limbs.is_empty() {
            self.base = lo;
            self.limbs = vec![0; (hi - lo + 1) as usize];
            return;
        }
        if lo < self.base {
            let more = (self.base - lo) as usize;
            self.limbs.splice(0..0, std::iter::repeat_n(0, more));
            self.base = lo;
        }
        let top = self.base + self.limbs.len() as i32 - 1;
        if hi > top {
            self.limbs.resize(self.limbs.len() + (hi - top) as usize, 0);
        }
    }

    pub fn add(&mut self, x: f64) {
        self.seen = true;
        if x.is_nan() {
            self.special |= NAN;
            return;
        }
        if x.is_infinite() {
            self.special |= if x > 0.0 { POS_INF } else { NEG_INF };
            return;
        }
        if x == 0.0 {
            return;
        }
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1 << 52) - 1);
        // x = ±mant · 2^(p − BIAS), p ≥ 0.
        let (mant, p) = if exp == 0 {
            (frac, 0)
        } else {
            (frac | (1 << 52), exp - 1)
        };
        let k = p / 32;
        let wide = u128::from(mant) << (p % 32);
        self.cover(k, k + 3);
        let i = (k - self.base) as usize;
        let chunks = [
            (wide & 0xffff_ffff) as i64,
            ((wide >> 32) & 0xffff_ffff) as i64,
            (wide >> 64) as i64,
        ];
        let neg = bits >> 63 == 1;
        for (j, c) in chunks.into_iter().enumerate() {
            if neg {
                self.limbs[i + j] -= c;
            } else {
                self.limbs[i + j] += c;
            }
        }
        self.adds += 1;
        if self.adds >= SETTLE_EVERY {
            self.settle();
        }
    }

    /// Adds another sum into this one.
    pub fn merge(&mut self, other: &ExactSum) {
        self.seen |= other.seen;
        self.special |= other.special;
        if other.limbs.is_empty() {
            return;
        }
        let mut settled;
        let mut other = other;
        if self.adds.saturating_add(other.adds) >= SETTLE_EVERY {
            // Both sides settled first, so no limb can overflow in the addition.
            self.settle();
            settled = other.clone();
            settled.settle();
            other = &settled;
        }
        let top = other.base + other.limbs.len() as i32 - 1;
        self.cover(other.base, top + 1);
        let off = (other.base - self.base) as usize;
        for (j, l) in other.limbs.iter().enumerate() {
            self.limbs[off + j] += l;
        }
        self.adds = self.adds + other.adds + 1;
    }

    /// Settles carries: every limb in `0 .. 2³²` but the last, which carries the sign.
    fn settle(&mut self) {
        if self.limbs.is_empty() {
            return;
        }
        // Room for the carries out of the top limb.
        let top = self.base + self.limbs.len() as i32;
        self.cover(self.base, top);
        let n = self.limbs.len();
        for j in 0..n - 1 {
            let carry = self.limbs[j] >> 32;
            self.limbs[j] -= carry << 32;
            self.limbs[j + 1] += carry;
        }
        self.adds = 0;
    }

    /// Whether any non-NULL value was added.
    pub fn is_empty(&self) -> bool {
        !self.seen
    }

    /// The exact sum, rounded to the nearest double (ties to even).
    pub fn value(&self) -> f64 {
        let (nan, pinf, ninf) = (
            self.special & NAN != 0,
            self.special & POS_INF != 0,
            self.special & NEG_INF != 0,
        );
        if nan || (pinf && ninf) {
            return f64::NAN;
        }
        if pinf {
            return f64::INFINITY;
        }
        if ninf {
            return f64::NEG_INFINITY;
        }
        let mut s = self.clone();
        s.settle();
        let negative = s.limbs.last().is_some_and(|&l| l < 0);
        if negative {
            for l in &mut s.limbs {
                *l = -*l;
            }
            s.settle();
        }
        let Some(h) = s.limbs.iter().rposition(|&l| l != 0) else {
            return 0.0;
        };
        // Highest set bit, as an absolute bit position of the fixed-point number.
        let top_bit = 32 * (s.base + h as i32) + 63 - s.limbs[h].leading_zeros() as i32;
        let bit = |pos: i32| -> u64 {
            let k = pos.div_euclid(32) - s.base;
            if k < 0 || k as usize >= s.limbs.len() {
                return 0;
            }
            ((s.limbs[k as usize] >> pos.rem_euclid(32)) & 1) as u64
        };
        // The top 64 bits, and whether anything below them is set (the sticky bit).
        let low = top_bit - 63;
        let mut m: u64 = 0;
        for pos in (low..=top_bit).rev() {
            m = (m << 1) | bit(pos);
        }
        let sticky = s.limbs.iter().enumerate().any(|(j, &l)| {
            let first = 32 * (s.base + j as i32);
            if first + 32 <= low {
                l != 0
            } else if first < low {
                l & ((1i64 << (low - first)) - 1) != 0
            } else {
                false
            }
        });
        // u64 → f64 rounds to nearest even on the 64 bits; the sticky bit in bit 0 (eleven
        // places below the rounding position) makes that the correct rounding of the whole.
        let f = (m | u64::from(sticky)) as f64;
        let v = scale(f, low - BIAS);
        if negative { -v } else { v }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.special);
        out.extend_from_slice(&self.base.to_le_bytes());
        out.extend_from_slice(&self.adds.to_le_bytes());
        for l in &self.limbs {
            out.extend_from_slice(&l.to_le_bytes());
        }
    }

    fn decode(b: &[u8]) -> ExactSum {
        let mut s = ExactSum {
            seen: true,
            ..ExactSum::default()
        };
        if b.len() < 9 {
            return s;
        }
        s.special = b[0];
        s.base = i32::from_le_bytes(b[1..5].try_into().unwrap_or_default());
        s.adds = u32::from_le_bytes(b[5..9].try_into().unwrap_or_default());
        s.limbs = b[9..]
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        s
    }
}

/// f · 2^e, exactly where the result is a normal double.
fn scale(f: f64, e: i32) -> f64 {
    let mut v = f;
    let mut e = e;
    while e > 1000 {
        v *= 2f64.powi(1000);
        e -= 1000;
        if v.is_infinite() {
            return v;
        }
    }
    while e < -1000 {
        v *= 2f64.powi(-1000);
        e += 1000;
    }
    v * 2f64.powi(e)
}

/// The `exact_sum` aggregate function, to register with the file engine.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::from(ExactSumUdaf {
        signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ExactSumUdaf {
    signature: Signature,
}

impl AggregateUDFImpl for ExactSumUdaf {
    fn name(&self) -> &str {
        "exact_sum"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(One(ExactSum::new())))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[exact]", args.name),
            DataType::Binary,
            true,
        ))])
    }

    fn groups_accumulator_supported(&self, _: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups(Vec::new())))
    }
}

fn state_array(sums: &[ExactSum]) -> ArrayRef {
    let mut b = BinaryBuilder::new();
    let mut buf = Vec::new();
    for s in sums {
        if s.is_empty() {
            b.append_null();
        } else {
            buf.clear();
            s.encode(&mut buf);
            b.append_value(&buf);
        }
    }
    Arc::new(b.finish())
}

fn value_array(sums: &[ExactSum]) -> ArrayRef {
    Arc::new(
        sums.iter()
            .map(|s| (!s.is_empty()).then(|| s.value()))
            .collect::<Float64Array>(),
    )
}

/// One sum (for aggregation without groups).
#[derive(Debug)]
struct One(ExactSum);

impl Accumulator for One {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = values[0].as_primitive::<Float64Type>();
        for i in 0..a.len() {
            if a.is_valid(i) {
                self.0.add(a.value(i));
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(
            (!self.0.is_empty()).then(|| self.0.value()),
        ))
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + 8 * self.0.limbs.capacity()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut buf = Vec::new();
        Ok(vec![ScalarValue::Binary((!self.0.is_empty()).then(|| {
            self.0.encode(&mut buf);
            buf
        }))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let a: &BinaryArray = states[0].as_binary();
        for i in 0..a.len() {
            if a.is_valid(i) {
                self.0.merge(&ExactSum::decode(a.value(i)));
            }
        }
        Ok(())
    }
}

/// One sum per group.
struct Groups(Vec<ExactSum>);

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.resize(total_num_groups, ExactSum::new());
        let a = values[0].as_primitive::<Float64Type>();
        for (row, &g) in group_indices.iter().enumerate() {
            if a.is_valid(row) && opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row)) {
                self.0[g].add(a.value(row));
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(value_array(&emit_to.take_needed(&mut self.0)))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![state_array(&emit_to.take_needed(&mut self.0))])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.resize(total_num_groups, ExactSum::new());
        let a: &BinaryArray = values[0].as_binary();
        for (row, &g) in group_indices.iter().enumerate() {
            if a.is_valid(row) {
                self.0[g].merge(&ExactSum::decode(a.value(row)));
            }
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let a = values[0].as_primitive::<Float64Type>();
        let sums: Vec<ExactSum> = (0..a.len())
            .map(|row| {
                let mut s = ExactSum::new();
                if a.is_valid(row) && opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row)) {
                    s.add(a.value(row));
                }
                s
            })
            .collect();
        Ok(vec![state_array(&sums)])
    }

    fn size(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<ExactSum>()
            + self.0.iter().map(|s| 8 * s.limbs.capacity()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(xs: &[f64]) -> f64 {
        let mut s = ExactSum::new();
        xs.iter().for_each(|&x| s.add(x));
        s.value()
    }

    #[test]
    fn exact_where_naive_summation_is_not() {
        assert_eq!(sum(&[1e100, 1.0, -1e100]), 1.0);
        assert_eq!(sum(&[0.1, 0.2, 0.3]), 0.6);
        assert_eq!(sum(&[0.1; 10]), 1.0);
        assert_eq!(sum(&[]), 0.0);
        assert_eq!(sum(&[-2.5, 1.0]), -1.5);
        assert_eq!(
            sum(&[f64::MIN_POSITIVE / 4.0, f64::MIN_POSITIVE / 4.0]),
            f64::MIN_POSITIVE / 2.0
        );
        assert_eq!(sum(&[f64::MAX, f64::MAX]), f64::INFINITY);
        assert_eq!(sum(&[f64::MAX, f64::MAX, -f64::MAX]), f64::MAX);
        assert!(sum(&[1.0, f64::NAN]).is_nan());
        assert!(sum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_eq!(sum(&[f64::INFINITY, 1.0]), f64::INFINITY);
        // Ties round to even: 2^53 + 1 is halfway between 2^53 and 2^53 + 2.
        assert_eq!(sum(&[9007199254740992.0, 1.0]), 9007199254740992.0);
        assert_eq!(sum(&[9007199254740992.0, 1.0, 1e-300]), 9007199254740994.0);
    }

    #[test]
    fn order_and_grouping_do_not_matter() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let xs: Vec<f64> = (0..20_000)
            .map(|_| {
                let m: f64 = rng.random_range(-1.0..1.0);
                m * 10f64.powi(rng.random_range(-12..12))
            })
            .collect();
        let forward = sum(&xs);
        let mut rev = xs.clone();
        rev.reverse();
        assert_eq!(sum(&rev).to_bits(), forward.to_bits());
        // Split in uneven parts, merged in another order.
        let mut parts: Vec<ExactSum> = xs
            .chunks(777)
            .map(|c| {
                let mut s = ExactSum::new();
                c.iter().for_each(|&x| s.add(x));
                s
            })
            .collect();
        parts.reverse();
        let mut total = ExactSum::new();
        for p in &parts {
            let mut buf = Vec::new();
            p.encode(&mut buf);
            total.merge(&ExactSum::decode(&buf));
        }
        assert_eq!(total.value().to_bits(), forward.to_bits());
        // And against a reference: sums of integers below 2^53 are exact in f64.
        let ints: Vec<f64> = (0..1000)
            .map(|i| (i * 7919 % 1000) as f64 - 500.0)
            .collect();
        assert_eq!(sum(&ints), ints.iter().sum::<f64>());
    }
}
