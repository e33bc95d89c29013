//! The SQL expressions a tree's author writes, checked against an allow-list before any
//! engine sees them.
//!
//! Measure filters and value expressions are parsed (sqlparser, PostgreSQL syntax) into
//! [`SqlExpr`], a small tree of the constructs the engines share: columns, literals,
//! comparisons, boolean logic, arithmetic, `CASE`, `IN`, `BETWEEN`, `IS [NOT] NULL`, `LIKE`,
//! casts to plain types and a list of safe functions ([`FUNCTIONS`]). Anything else — a
//! subquery, a second statement, an unknown function — is rejected with the reason. The tree
//! is then rendered per dialect by `sql::expr` with every identifier quoted, so what reaches
//! an engine is always an expression built there, never the author's text.
//!
//! SQL sources and PostgreSQL queries are whole `SELECT`s, checked by [`super::sql_query`].

use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, CastKind, DataType as AstType, DateTimeField, Expr, FunctionArg,
    FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

/// Functions a filter or expression may call: each exists with the same meaning in
/// DataFusion and PostgreSQL.
pub const FUNCTIONS: &[&str] = &[
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "abs",
    "round",
    "floor",
    "ceil",
    "sqrt",
    "ln",
    "exp",
    "power",
    "lower",
    "upper",
    "length",
    "char_length",
    "btrim",
    "ltrim",
    "rtrim",
    "substr",
    "replace",
    "concat",
    "strpos",
    "left",
    "right",
    "date_part",
    "date_trunc",
];

/// The longest filter or expression accepted, in bytes.
pub const MAX_EXPR_BYTES: usize = 8 * 1024;

/// Fields `EXTRACT(field FROM t)` may name (rendered as `date_part('field', t)`).
const FIELDS: &[&str] = &[
    "year", "quarter", "month", "week", "day", "dow", "doy", "hour", "minute", "second", "epoch",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastType {
    Int,
    BigInt,
    Double,
    Text,
    Bool,
    Date,
    Timestamp,
}

/// An allowed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlExpr {
    /// A column, by its exact (case-folded unless quoted) name.
    Column(String),
    /// A numeric literal, as written (digits, `.`, exponent).
    Number(String),
    Text(String),
    Bool(bool),
    Null,
    Not(Box<SqlExpr>),
    Neg(Box<SqlExpr>),
    Binary(Box<SqlExpr>, &'static str, Box<SqlExpr>),
    /// `IS NULL`, `IS NOT NULL`, `IS TRUE`, ...: the predicate's text after `IS`.
    Is(Box<SqlExpr>, &'static str),
    In {
        expr: Box<SqlExpr>,
        list: Vec<SqlExpr>,
        negated: bool,
    },
    Between {
        expr: Box<SqlExpr>,
        low: Box<SqlExpr>,
        high: Box<SqlExpr>,
        negated: bool,
    },
    Like {
        expr: Box<SqlExpr>,
        pattern: Box<SqlExpr>,
        negated: bool,
        insensitive: bool,
    },
    Case {
        operand: Option<Box<SqlExpr>>,
        whens: Vec<(SqlExpr, SqlExpr)>,
        otherwise: Option<Box<SqlExpr>>,
    },
    Cast(Box<SqlExpr>, CastType),
    Call(&'static str, Vec<SqlExpr>),
}

/// Why a filter or expression was not accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Rejected {
    pub message: String,
    pub help: String,
}

pub(crate) fn reject(message: impl Into<String>, help: impl Into<String>) -> Rejected {
    Rejected {
        message: message.into(),
        help: help.into(),
    }
}

const ALLOWED: &str = "filters and expressions may use columns, literals, comparisons, AND/OR/NOT, + - * / %, ||, CASE, IN (...), BETWEEN, IS [NOT] NULL, LIKE/ILIKE, CAST and the functions listed in docs/tree-format.md";

/// Parses one filter or value expression into the allowed constructs.
pub fn parse_expr(text: &str) -> Result<SqlExpr, Rejected> {
    if text.len() > MAX_EXPR_BYTES {
        return Err(reject(
            format!(
                "the expression is {} bytes long; at most {MAX_EXPR_BYTES} are accepted",
                text.len()
            ),
            "compute the value in a SQL source (`sql:`) and refer to its column",
        ));
    }
    let quoted = crate::text::quote(text);
    let unreadable = |e: ParserError| {
        reject(
            format!(
                "cannot read `{quoted}`: {}",
                crate::text::first_line(&e.to_string())
            ),
            ALLOWED,
        )
    };
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(super::sql_query::MAX_DEPTH)
        .try_with_sql(text)
        .map_err(unreadable)?;
    let expr = parser.parse_expr().map_err(unreadable)?;
    let rest = parser.peek_token();
    if rest.token != Token::EOF {
        return Err(reject(
            format!(
                "`{quoted}` continues after the expression, at `{}`",
                crate::text::quote(&rest.token.to_string())
            ),
            "write one expression: no `;`, no second statement, no clauses after it",
        ));
    }
    convert(&expr)
}

fn boxed(e: &Expr) -> Result<Box<SqlExpr>, Rejected> {
    convert(e).map(Box::new)
}

fn convert(e: &Expr) -> Result<SqlExpr, Rejected> {
    Ok(match e {
        Expr::Identifier(id) => SqlExpr::Column(ident_name(id)),
        Expr::CompoundIdentifier(parts) => {
            return Err(reject(
                format!(
                    "`{}` names a column of another table",
                    crate::text::quote(
                        &parts
                            .iter()
                            .map(|p| p.value.as_str())
                            .collect::<Vec<_>>()
                            .join(".")
                    )
                ),
                "a measure reads one source: name its columns without a table prefix",
            ));
        }
        Expr::Nested(inner) => convert(inner)?,
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => SqlExpr::Number(n.clone()),
            Value::SingleQuotedString(s) => SqlExpr::Text(s.clone()),
            Value::Boolean(b) => SqlExpr::Bool(*b),
            Value::Null => SqlExpr::Null,
            Value::Placeholder(p) => {
                return Err(reject(
                    format!("`{p}` is a parameter placeholder"),
                    "write the value itself",
                ));
            }
            other => {
                return Err(reject(
                    format!(
                        "the literal `{}` is not supported",
                        crate::text::quote(&other.to_string())
                    ),
                    "write numbers, 'single-quoted text', TRUE, FALSE or NULL",
                ));
            }
        },
        Expr::UnaryOp { op, expr } => match op {
            UnaryOperator::Not => SqlExpr::Not(boxed(expr)?),
            UnaryOperator::Minus => SqlExpr::Neg(boxed(expr)?),
            UnaryOperator::Plus => convert(expr)?,
            other => {
                return Err(reject(
                    format!("the operator `{other}` is not allowed"),
                    ALLOWED,
                ));
            }
        },
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::Plus => "+",
                BinaryOperator::Minus => "-",
                BinaryOperator::Multiply => "*",
                BinaryOperator::Divide => "/",
                BinaryOperator::Modulo => "%",
                BinaryOperator::Eq => "=",
                BinaryOperator::NotEq => "<>",
                BinaryOperator::Lt => "<",
                BinaryOperator::LtEq => "<=",
                BinaryOperator::Gt => ">",
                BinaryOperator::GtEq => ">=",
                BinaryOperator::And => "AND",
                BinaryOperator::Or => "OR",
                BinaryOperator::StringConcat => "||",
                other => {
                    return Err(reject(
                        format!("the operator `{other}` is not allowed"),
                        ALLOWED,
                    ));
                }
            };
            SqlExpr::Binary(boxed(left)?, op, boxed(right)?)
        }
        Expr::IsNull(x) => SqlExpr::Is(boxed(x)?, "NULL"),
        Expr::IsNotNull(x) => SqlExpr::Is(boxed(x)?, "NOT NULL"),
        Expr::IsTrue(x) => SqlExpr::Is(boxed(x)?, "TRUE"),
        Expr::IsNotTrue(x) => SqlExpr::Is(boxed(x)?, "NOT TRUE"),
        Expr::IsFalse(x) => SqlExpr::Is(boxed(x)?, "FALSE"),
        Expr::IsNotFalse(x) => SqlExpr::Is(boxed(x)?, "NOT FALSE"),
        Expr::InList {
            expr,
            list,
            negated,
        } => SqlExpr::In {
            expr: boxed(expr)?,
            list: list.iter().map(convert).collect::<Result<_, _>>()?,
            negated: *negated,
        },
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => SqlExpr::Between {
            expr: boxed(expr)?,
            low: boxed(low)?,
            high: boxed(high)?,
            negated: *negated,
        },
        Expr::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        }
        | Expr::ILike {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => SqlExpr::Like {
            expr: boxed(expr)?,
            pattern: boxed(pattern)?,
            negated: *negated,
            insensitive: matches!(e, Expr::ILike { .. }),
        },
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => SqlExpr::Case {
            operand: operand.as_deref().map(boxed).transpose()?,
            whens: conditions
                .iter()
                .map(|w| Ok((convert(&w.condition)?, convert(&w.result)?)))
                .collect::<Result<_, Rejected>>()?,
            otherwise: else_result.as_deref().map(boxed).transpose()?,
        },
        Expr::Cast {
            kind: CastKind::Cast | CastKind::DoubleColon,
            expr,
            data_type,
            array: false,
            format: None,
        } => SqlExpr::Cast(boxed(expr)?, cast_type(data_type)?),
        Expr::Extract { field, expr, .. } => {
            let name = field_name(field)?;
            SqlExpr::Call(
                "date_part",
                vec![SqlExpr::Text(name.to_string()), convert(expr)?],
            )
        }
        Expr::Ceil { expr, field } | Expr::Floor { expr, field } => {
            if !matches!(
                field,
                ast::CeilFloorKind::DateTimeField(DateTimeField::NoDateTime)
            ) {
                return Err(reject(
                    "CEIL/FLOOR take one argument here",
                    "write `ceil(x)` or `floor(x)`",
                ));
            }
            let f = if matches!(e, Expr::Ceil { .. }) {
                "ceil"
            } else {
                "floor"
            };
            SqlExpr::Call(f, vec![convert(expr)?])
        }
        Expr::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => {
            // SUBSTR(x, a, b) and SUBSTRING(x FROM a FOR b): substr(x, a[, b]).
            let mut args = vec![convert(expr)?];
            match (substring_from, substring_for) {
                (Some(a), b) => {
                    args.push(convert(a)?);
                    if let Some(b) = b {
                        args.push(convert(b)?);
                    }
                }
                (None, Some(b)) => {
                    args.push(SqlExpr::Number("1".into()));
                    args.push(convert(b)?);
                }
                (None, None) => {}
            }
            SqlExpr::Call("substr", args)
        }
        Expr::Trim {
            trim_where: None,
            trim_what: None,
            expr,
            trim_characters: None,
        } => SqlExpr::Call("btrim", vec![convert(expr)?]),
        Expr::Function(f) => function(f)?,
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
            return Err(reject(
                "subqueries are not allowed in a filter or expression",
                "compute the value in a SQL source (`sql:`) and filter on its column",
            ));
        }
        other => {
            return Err(reject(
                format!(
                    "`{}` is not an allowed construct",
                    crate::text::quote(&other.to_string())
                ),
                ALLOWED,
            ));
        }
    })
}

fn ident_name(id: &ast::Ident) -> String {
    match id.quote_style {
        Some(_) => id.value.clone(),
        // Both engines fold unquoted names to lower case; keep that meaning once quoted.
        None => id.value.to_lowercase(),
    }
}

pub(crate) fn field_name(field: &DateTimeField) -> Result<&'static str, Rejected> {
    let text = field.to_string().to_lowercase();
    FIELDS
        .iter()
        .find(|f| **f == text.trim_matches('\''))
        .copied()
        .ok_or_else(|| {
            reject(
                format!("EXTRACT({field} ...) is not supported"),
                format!("extract one of: {}", FIELDS.join(", ")),
            )
        })
}

pub(crate) fn cast_type(t: &AstType) -> Result<CastType, Rejected> {
    use AstType as T;
    Ok(match t {
        T::SmallInt(_)
        | T::Int(_)
        | T::Integer(_)
        | T::BigInt(_)
        | T::Int2(_)
        | T::Int4(_)
        | T::Int8(_) => CastType::Int,
        T::Double(_)
        | T::DoublePrecision
        | T::Float(_)
        | T::Float4
        | T::Float8
        | T::Float64
        | T::Real
        | T::Numeric(_)
        | T::Decimal(_) => CastType::Double,
        T::Text | T::Varchar(_) | T::String(_) | T::Char(_) | T::CharVarying(_) => CastType::Text,
        T::Boolean | T::Bool => CastType::Bool,
        T::Date => CastType::Date,
        T::Timestamp(None, ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone) => {
            CastType::Timestamp
        }
        other => {
            return Err(reject(
                format!(
                    "casting to `{}` is not supported",
                    crate::text::quote(&other.to_string())
                ),
                "cast to INTEGER, BIGINT, DOUBLE PRECISION, NUMERIC, TEXT, VARCHAR, BOOLEAN, DATE or TIMESTAMP",
            ));
        }
    })
}

fn function(f: &ast::Function) -> Result<SqlExpr, Rejected> {
    let name = f.name.to_string().to_lowercase();
    let Some(&known) = FUNCTIONS.iter().find(|n| **n == name) else {
        let help = match crate::diag::suggest(&name, FUNCTIONS.iter().copied()) {
            Some(s) => format!(
                "did you mean `{s}`? Allowed functions: {}",
                FUNCTIONS.join(", ")
            ),
            None => format!("allowed functions: {}", FUNCTIONS.join(", ")),
        };
        return Err(reject(
            format!(
                "the function `{}` is not allowed",
                crate::text::quote(&f.name.to_string())
            ),
            help,
        ));
    };
    let plain = f.filter.is_none()
        && f.over.is_none()
        && f.null_treatment.is_none()
        && f.within_group.is_empty()
        && matches!(f.parameters, FunctionArguments::None);
    let args = match (&f.args, plain) {
        (FunctionArguments::List(l), true)
            if l.duplicate_treatment.is_none() && l.clauses.is_empty() =>
        {
            l.args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => convert(e),
                    _ => Err(reject(
                        format!("`{known}` takes plain arguments here"),
                        "write `f(a, b)`: no named arguments, no `*`",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        _ => {
            return Err(reject(
                format!("`{known}` is called with clauses that are not allowed"),
                "call it as `f(a, b)`: no DISTINCT, FILTER, OVER or ORDER BY",
            ));
        }
    };
    Ok(SqlExpr::Call(known, args))
}

impl SqlExpr {
    /// The columns the expression reads, in order of first mention.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.visit(&mut |e| {
            if let SqlExpr::Column(c) = e
                && !out.contains(&c.as_str())
            {
                out.push(c);
            }
        });
        out
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a SqlExpr)) {
        f(self);
        match self {
            SqlExpr::Not(x) | SqlExpr::Neg(x) | SqlExpr::Is(x, _) | SqlExpr::Cast(x, _) => {
                x.visit(f)
            }
            SqlExpr::Binary(a, _, b) => {
                a.visit(f);
                b.visit(f);
            }
            SqlExpr::In { expr, list, .. } => {
                expr.visit(f);
                list.iter().for_each(|x| x.visit(f));
            }
            SqlExpr::Between {
                expr, low, high, ..
            } => {
                expr.visit(f);
                low.visit(f);
                high.visit(f);
            }
            SqlExpr::Like { expr, pattern, .. } => {
                expr.visit(f);
                pattern.visit(f);
            }
            SqlExpr::Case {
                operand,
                whens,
                otherwise,
            } => {
                if let Some(o) = operand {
                    o.visit(f);
                }
                for (c, r) in whens {
                    c.visit(f);
                    r.visit(f);
                }
                if let Some(e) = otherwise {
                    e.visit(f);
                }
            }
            SqlExpr::Call(_, args) => args.iter().for_each(|x| x.visit(f)),
            SqlExpr::Column(_)
            | SqlExpr::Number(_)
            | SqlExpr::Text(_)
            | SqlExpr::Bool(_)
            | SqlExpr::Null => {}
        }
    }
}
