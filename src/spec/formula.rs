//! Arithmetic formulas over other nodes: `routing + skill`, `(a − b) / c`, `2 × x`.
//!
//! Input: the formula text. Output: an [`Expr`] where nested `+` and `×` are flattened to
//! n-ary operations and `a − b` is stored as `a + (−b)`. Accepted operators: `+ - * /` and their
//! typographic forms `− × ÷`; constants; parentheses. Errors carry the character offset so the
//! caller can put a caret under it. Evaluation (plain and with a derivative, see
//! [`Expr::eval_dual`]) works on input *indices* that the graph stage assigns to references.

/// The most distinct inputs a formula may have (the straight-line split evaluates every
/// input's gradient at each point of the line).
pub const MAX_INPUTS: usize = 256;

/// The most distinct inputs a general formula split by Shapley may have (2ⁿ evaluations);
/// above it the node-local split integrates the gradients along the straight line instead.
pub const MAX_SHAPLEY_INPUTS: usize = 12;

/// A formula expression. References start unresolved (`input == usize::MAX`).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Const(f64),
    Ref {
        name: String,
        offset: usize,
        len: usize,
        input: usize,
    },
    Add(Vec<Expr>),
    Mul(Vec<Expr>),
    Neg(Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
}

/// A formula that does not parse: what is wrong and at which character.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub help: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Plus,
    Minus,
    Star,
    Slash,
    LParen,
    RParen,
}

fn lex(text: &str) -> Result<Vec<(Tok, usize, usize)>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '+' => Tok::Plus,
            '-' | '−' => Tok::Minus,
            '*' | '×' | '·' => Tok::Star,
            '/' | '÷' => Tok::Slash,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || chars[i] == '.'
                        || ((chars[i] == 'e' || chars[i] == 'E')
                            && i + 1 < chars.len()
                            && (chars[i + 1].is_ascii_digit()
                                || chars[i + 1] == '-'
                                || chars[i + 1] == '+'))
                        || ((chars[i] == '-' || chars[i] == '+')
                            && i > start
                            && (chars[i - 1] == 'e' || chars[i - 1] == 'E')))
                {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                let v = s
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| FormulaError {
                        offset: start,
                        len: i - start,
                        message: format!("`{s}` is not a finite number"),
                        help: "write numbers like 100, 0.5 or 1e3 (at most about 1.8e308)".into(),
                    })?;
                out.push((Tok::Num(v), start, i - start));
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push((
                    Tok::Ident(chars[start..i].iter().collect()),
                    start,
                    i - start,
                ));
                continue;
            }
            other => {
                return Err(FormulaError {
                    offset: i,
                    len: 1,
                    message: format!("unexpected character `{other}` in formula"),
                    help: "formulas use node ids, numbers, + − × ÷ (or + - * /) and parentheses"
                        .into(),
                });
            }
        };
        i += 1;
        out.push((tok, start, 1));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize, usize)>,
    i: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.0)
    }

    fn here(&self) -> (usize, usize) {
        self.toks
            .get(self.i)
            .map(|t| (t.1, t.2))
            .unwrap_or((self.end, 1))
    }

    fn expr(&mut self) -> Result<Expr, FormulaError> {
        let mut terms = vec![self.term()?];
        while let Some(t) = self.peek() {
            let neg = match t {
                Tok::Plus => false,
                Tok::Minus => true,
                _ => break,
            };
            self.i += 1;
            let t = self.term()?;
            terms.push(if neg { negate(t) } else { t });
        }
        Ok(flatten_add(terms))
    }

    fn term(&mut self) -> Result<Expr, FormulaError> {
        let mut acc = self.unary()?;
        while let Some(t) = self.peek() {
            match t {
                Tok::Star => {
                    self.i += 1;
                    let rhs = self.unary()?;
                    acc = flatten_mul(vec![acc, rhs]);
                }
                Tok::Slash => {
                    self.i += 1;
                    let rhs = self.unary()?;
                    acc = Expr::Div(Box::new(acc), Box::new(rhs));
                }
                _ => break,
            }
        }
        Ok(acc)
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        match self.peek() {
            Some(Tok::Minus) => {
                self.i += 1;
                Ok(negate(self.unary()?))
            }
            Some(Tok::Plus) => {
                self.i += 1;
                self.unary()
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Result<Expr, FormulaError> {
        let (offset, len) = self.here();
        match self.toks.get(self.i).map(|t| t.0.clone()) {
            Some(Tok::Num(v)) => {
                self.i += 1;
                Ok(Expr::Const(v))
            }
            Some(Tok::Ident(name)) => {
                self.i += 1;
                Ok(Expr::Ref {
                    name,
                    offset,
                    len,
                    input: usize::MAX,
                })
            }
            Some(Tok::LParen) => {
                self.i += 1;
                let e = self.expr()?;
                if self.peek() != Some(&Tok::RParen) {
                    let (o, l) = self.here();
                    return Err(FormulaError {
                        offset: o,
                        len: l,
                        message: "expected `)`".into(),
                        help: format!("close the parenthesis opened at character {}", offset + 1),
                    });
                }
                self.i += 1;
                Ok(e)
            }
            Some(Tok::RParen) => Err(FormulaError {
                offset,
                len,
                message: "unexpected `)`".into(),
                help: "remove it, or add the matching `(`".into(),
            }),
            Some(_) => Err(FormulaError {
                offset,
                len,
                message: "expected a node id, a number or `(` here".into(),
                help: "an operator needs a value on both sides".into(),
            }),
            None => Err(FormulaError {
                offset,
                len,
                message: "the formula ends too early".into(),
                help: "an operator needs a value on both sides".into(),
            }),
        }
    }
}

fn negate(e: Expr) -> Expr {
    match e {
        Expr::Const(v) => Expr::Const(-v),
        Expr::Neg(inner) => *inner,
        other => Expr::Neg(Box::new(other)),
    }
}

/// Builds an n-ary sum, splicing nested sums in.
pub fn flatten_add(terms: Vec<Expr>) -> Expr {
    let mut out = Vec::new();
    for t in terms {
        match t {
            Expr::Add(inner) => out.extend(inner),
            other => out.push(other),
        }
    }
    if out.len() == 1 {
        out.pop().unwrap_or(Expr::Const(0.0))
    } else {
        Expr::Add(out)
    }
}

/// Builds an n-ary product, splicing nested products in.
pub fn flatten_mul(factors: Vec<Expr>) -> Expr {
    let mut out = Vec::new();
    for f in factors {
        match f {
            Expr::Mul(inner) => out.extend(inner),
            other => out.push(other),
        }
    }
    if out.len() == 1 {
        out.pop().unwrap_or(Expr::Const(1.0))
    } else {
        Expr::Mul(out)
    }
}

/// Parses a formula.
pub fn parse(text: &str) -> Result<Expr, FormulaError> {
    let toks = lex(text)?;
    let end = text.chars().count();
    if toks.is_empty() {
        return Err(FormulaError {
            offset: 0,
            len: 1,
            message: "the formula is empty".into(),
            help: "write an expression such as `a + b` or `numerator / denominator`".into(),
        });
    }
    let mut p = Parser { toks, i: 0, end };
    let e = p.expr()?;
    if p.i < p.toks.len() {
        let (o, l) = p.here();
        return Err(FormulaError {
            offset: o,
            len: l,
            message: "unexpected text after the end of the expression".into(),
            help: "join the parts with an operator (+ − × ÷)".into(),
        });
    }
    Ok(e)
}

/// A value with its derivative along one direction (forward-mode automatic differentiation).
#[derive(Debug, Clone, Copy)]
pub struct Dual {
    pub v: f64,
    pub d: f64,
}

impl Expr {
    /// Every reference in the formula, in reading order (with repeats).
    pub fn refs(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if matches!(e, Expr::Ref { .. }) {
                out.push(e);
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Add(xs) | Expr::Mul(xs) => xs.iter().for_each(|x| x.walk(f)),
            Expr::Neg(x) => x.walk(f),
            Expr::Div(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Const(_) | Expr::Ref { .. } => {}
        }
    }

    /// Sets each reference's input index with `resolve(name)`.
    pub fn resolve(&mut self, resolve: &mut impl FnMut(&str) -> usize) {
        match self {
            Expr::Ref { name, input, .. } => *input = resolve(name),
            Expr::Add(xs) | Expr::Mul(xs) => xs.iter_mut().for_each(|x| x.resolve(resolve)),
            Expr::Neg(x) => x.resolve(resolve),
            Expr::Div(a, b) => {
                a.resolve(resolve);
                b.resolve(resolve);
            }
            Expr::Const(_) => {}
        }
    }

    /// Evaluates with input values `x[input]`. Division by zero gives a non-finite value,
    /// which callers turn into "undefined".
    pub fn eval(&self, x: &[f64]) -> f64 {
        match self {
            Expr::Const(v) => *v,
            Expr::Ref { input, .. } => x[*input],
            Expr::Add(xs) => xs.iter().map(|e| e.eval(x)).sum(),
            Expr::Mul(xs) => xs.iter().map(|e| e.eval(x)).product(),
            Expr::Neg(e) => -e.eval(x),
            Expr::Div(a, b) => a.eval(x) / b.eval(x),
        }
    }

    /// Whether evaluating at `x` divides by zero somewhere (as opposed to overflowing).
    pub fn divides_by_zero(&self, x: &[f64]) -> bool {
        match self {
            Expr::Const(_) | Expr::Ref { .. } => false,
            Expr::Add(xs) | Expr::Mul(xs) => xs.iter().any(|e| e.divides_by_zero(x)),
            Expr::Neg(e) => e.divides_by_zero(x),
            Expr::Div(a, b) => a.divides_by_zero(x) || b.divides_by_zero(x) || b.eval(x) == 0.0,
        }
    }

    /// Evaluates with the derivative with respect to input `wrt`.
    pub fn eval_dual(&self, x: &[f64], wrt: usize) -> Dual {
        match self {
            Expr::Const(v) => Dual { v: *v, d: 0.0 },
            Expr::Ref { input, .. } => Dual {
                v: x[*input],
                d: if *input == wrt { 1.0 } else { 0.0 },
            },
            Expr::Add(xs) => xs.iter().fold(Dual { v: 0.0, d: 0.0 }, |acc, e| {
                let t = e.eval_dual(x, wrt);
                Dual {
                    v: acc.v + t.v,
                    d: acc.d + t.d,
                }
            }),
            Expr::Mul(xs) => xs.iter().fold(Dual { v: 1.0, d: 0.0 }, |acc, e| {
                let t = e.eval_dual(x, wrt);
                Dual {
                    v: acc.v * t.v,
                    d: acc.d * t.v + acc.v * t.d,
                }
            }),
            Expr::Neg(e) => {
                let t = e.eval_dual(x, wrt);
                Dual { v: -t.v, d: -t.d }
            }
            Expr::Div(a, b) => {
                let (a, b) = (a.eval_dual(x, wrt), b.eval_dual(x, wrt));
                Dual {
                    v: a.v / b.v,
                    d: (a.d * b.v - a.v * b.d) / (b.v * b.v),
                }
            }
        }
    }

    /// Writes the formula back with node ids, for display.
    pub fn display(&self) -> String {
        match self {
            Expr::Const(v) => format!("{v}"),
            Expr::Ref { name, .. } => name.clone(),
            Expr::Add(xs) => {
                let mut s = String::new();
                for (i, x) in xs.iter().enumerate() {
                    match (i, x) {
                        (0, Expr::Neg(inner)) => s.push_str(&format!("−{}", inner.display_atom())),
                        (0, x) => s.push_str(&x.display()),
                        (_, Expr::Neg(inner)) => {
                            s.push_str(&format!(" − {}", inner.display_atom()))
                        }
                        (_, x) => s.push_str(&format!(" + {}", x.display())),
                    }
                }
                s
            }
            Expr::Mul(xs) => xs
                .iter()
                .map(Expr::display_atom)
                .collect::<Vec<_>>()
                .join(" × "),
            Expr::Neg(x) => format!("−{}", x.display_atom()),
            Expr::Div(a, b) => format!("{} ÷ {}", a.display_atom(), b.display_atom()),
        }
    }

    fn display_atom(&self) -> String {
        match self {
            Expr::Add(_) | Expr::Div(..) => format!("({})", self.display()),
            _ => self.display(),
        }
    }
}

/// The shape of a formula, which decides its default attribution method.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Σ cᵢ·xᵢ + c₀ over distinct inputs: each input's average gradient is its coefficient.
    Linear { coef: Vec<(usize, f64)> },
    /// c·Π xᵢ over distinct inputs.
    Product { constant: f64, inputs: Vec<usize> },
    /// xₙ / x_d (times a constant), distinct inputs.
    Ratio {
        constant: f64,
        num: usize,
        den: usize,
    },
    /// Anything else.
    General,
}

impl Expr {
    /// Classifies a resolved formula.
    pub fn shape(&self) -> Shape {
        if let Some(coef) = self.linear() {
            let mut seen = std::collections::BTreeMap::<usize, f64>::new();
            for (i, c) in coef {
                *seen.entry(i).or_default() += c;
            }
            return Shape::Linear {
                coef: seen.into_iter().collect(),
            };
        }
        if let Some((constant, inputs)) = self.product() {
            let mut sorted = inputs.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.len() == inputs.len() {
                return Shape::Product { constant, inputs };
            }
        }
        if let Expr::Div(a, b) = self
            && let (Some((ca, na)), Expr::Ref { input: den, .. }) = (a.product(), b.as_ref())
            && na.len() == 1
            && na[0] != *den
        {
            return Shape::Ratio {
                constant: ca,
                num: na[0],
                den: *den,
            };
        }
        Shape::General
    }

    /// Σ cᵢ·xᵢ (+ constants, which carry no input) if the formula is linear.
    fn linear(&self) -> Option<Vec<(usize, f64)>> {
        match self {
            Expr::Const(_) => Some(vec![]),
            Expr::Ref { input, .. } => Some(vec![(*input, 1.0)]),
            Expr::Neg(e) => Some(e.linear()?.into_iter().map(|(i, c)| (i, -c)).collect()),
            Expr::Add(xs) => {
                let mut out = Vec::new();
                for x in xs {
                    out.extend(x.linear()?);
                }
                Some(out)
            }
            Expr::Mul(xs) => {
                // linear only when all factors but one are constants
                let mut k = 1.0;
                let mut lin = None;
                for x in xs {
                    match x {
                        Expr::Const(v) => k *= v,
                        other if lin.is_none() => lin = Some(other.linear()?),
                        _ => return None,
                    }
                }
                Some(
                    lin.unwrap_or_default()
                        .into_iter()
                        .map(|(i, c)| (i, c * k))
                        .collect(),
                )
            }
            Expr::Div(a, b) => match b.as_ref() {
                Expr::Const(v) if *v != 0.0 => {
                    Some(a.linear()?.into_iter().map(|(i, c)| (i, c / v)).collect())
                }
                _ => None,
            },
        }
    }

    /// Σₜ cₜ·Π xᵢ (each term's constant and inputs) if the formula is a sum of products of
    /// references and constants, each input at most once per term: what LMDI splits.
    pub fn sum_of_products(&self) -> Option<Vec<(f64, Vec<usize>)>> {
        let terms: Vec<&Expr> = match self {
            Expr::Add(xs) => xs.iter().collect(),
            other => vec![other],
        };
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            let (c, inputs) = match t {
                Expr::Const(v) => (*v, Vec::new()),
                other => other.product()?,
            };
            let mut sorted = inputs.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.len() != inputs.len() {
                return None;
            }
            out.push((c, inputs));
        }
        Some(out)
    }

    /// c·Π xᵢ if the formula is a product of references and constants.
    fn product(&self) -> Option<(f64, Vec<usize>)> {
        match self {
            Expr::Ref { input, .. } => Some((1.0, vec![*input])),
            Expr::Neg(e) => e.product().map(|(c, i)| (-c, i)),
            Expr::Mul(xs) => {
                let mut c = 1.0;
                let mut ins = Vec::new();
                for x in xs {
                    match x {
                        Expr::Const(v) => c *= v,
                        other => {
                            let (c2, i2) = other.product()?;
                            c *= c2;
                            ins.extend(i2);
                        }
                    }
                }
                Some((c, ins))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(text: &str, names: &[&str]) -> Expr {
        let mut e = parse(text).unwrap();
        e.resolve(&mut |n| names.iter().position(|m| *m == n).unwrap());
        e
    }

    #[test]
    fn flattens_nested_sums_and_products() {
        let e = parse("a + (b + c) - d").unwrap();
        let Expr::Add(xs) = &e else { panic!("{e:?}") };
        assert_eq!(xs.len(), 4);
        let e = parse("a × (b * c) ÷ d").unwrap();
        let Expr::Div(num, _) = &e else {
            panic!("{e:?}")
        };
        assert!(matches!(num.as_ref(), Expr::Mul(xs) if xs.len() == 3));
    }

    #[test]
    fn error_offsets_point_at_the_problem() {
        let err = parse("a + * b").unwrap_err();
        assert_eq!(err.offset, 4);
        let err = parse("(a + b").unwrap_err();
        assert_eq!(err.offset, 6);
        let err = parse("a $ b").unwrap_err();
        assert_eq!((err.offset, err.message.contains('$')), (2, true));
        let err = parse("a b").unwrap_err();
        assert_eq!(err.offset, 2);
    }

    #[test]
    fn shapes() {
        let n = ["a", "b", "c"];
        assert_eq!(
            resolved("a + b - 2*c", &n).shape(),
            Shape::Linear {
                coef: vec![(0, 1.0), (1, 1.0), (2, -2.0)]
            }
        );
        assert_eq!(
            resolved("a * b * c", &n).shape(),
            Shape::Product {
                constant: 1.0,
                inputs: vec![0, 1, 2]
            }
        );
        assert_eq!(
            resolved("a / b", &n).shape(),
            Shape::Ratio {
                constant: 1.0,
                num: 0,
                den: 1
            }
        );
        assert_eq!(
            resolved("100 * a / b", &n).shape(),
            Shape::Ratio {
                constant: 100.0,
                num: 0,
                den: 1
            }
        );
        assert_eq!(resolved("(a + b) / c", &n).shape(), Shape::General);
        assert_eq!(resolved("a * a", &n).shape(), Shape::General);
    }

    #[test]
    fn dual_numbers_give_exact_derivatives() {
        let e = resolved("(a + b) / (a * c)", &["a", "b", "c"]);
        let x = [2.0, 3.0, 5.0];
        let d = e.eval_dual(&x, 0);
        // f = (a+b)/(ac); df/da = (ac − (a+b)c)/(ac)^2 = −b c/(ac)^2
        assert!((d.v - 0.5).abs() < 1e-15);
        assert!((d.d - (-3.0 * 5.0 / 100.0)).abs() < 1e-15);
    }
}
