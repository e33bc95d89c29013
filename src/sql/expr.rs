//! Renders an allow-listed [`SqlExpr`] (parsed by `spec::sql_expr`) as SQL text per
//! [`Dialect`]: fully parenthesised, every identifier quoted, every literal escaped.

use std::fmt::Write as _;

use crate::spec::sql_expr::{CastType, SqlExpr};

/// Where a query runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DataFusion,
    Postgres,
}

impl Dialect {
    pub fn double(self) -> &'static str {
        match self {
            Dialect::DataFusion => "DOUBLE",
            Dialect::Postgres => "DOUBLE PRECISION",
        }
    }

    /// The type of a row's 1/0 for a count: one byte where rows are held in memory (an eighth
    /// of a double's footprint; sums of them are the same integers), a double in a database,
    /// whose rows never leave it.
    pub fn flag(self) -> &'static str {
        match self {
            Dialect::DataFusion => "TINYINT",
            Dialect::Postgres => "DOUBLE PRECISION",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Dialect::DataFusion => "VARCHAR",
            Dialect::Postgres => "TEXT",
        }
    }
}

/// Quotes an identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A text literal.
pub fn text_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl SqlExpr {
    /// The expression in `dialect`, fully parenthesised, identifiers quoted.
    pub fn render(&self, dialect: Dialect) -> String {
        let mut out = String::new();
        self.write(dialect, &mut out);
        out
    }

    fn write(&self, d: Dialect, out: &mut String) {
        match self {
            SqlExpr::Column(c) => out.push_str(&ident(c)),
            SqlExpr::Number(n) => out.push_str(n),
            SqlExpr::Text(s) => out.push_str(&text_literal(s)),
            SqlExpr::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
            SqlExpr::Null => out.push_str("NULL"),
            SqlExpr::Not(x) => {
                out.push_str("(NOT ");
                x.write(d, out);
                out.push(')');
            }
            SqlExpr::Neg(x) => {
                out.push_str("(-");
                x.write(d, out);
                out.push(')');
            }
            SqlExpr::Binary(a, op, b) => {
                out.push('(');
                a.write(d, out);
                let _ = write!(out, " {op} ");
                b.write(d, out);
                out.push(')');
            }
            SqlExpr::Is(x, what) => {
                out.push('(');
                x.write(d, out);
                let _ = write!(out, " IS {what})");
            }
            SqlExpr::In {
                expr,
                list,
                negated,
            } => {
                out.push('(');
                expr.write(d, out);
                out.push_str(if *negated { " NOT IN (" } else { " IN (" });
                for (i, x) in list.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    x.write(d, out);
                }
                out.push_str("))");
            }
            SqlExpr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                out.push('(');
                expr.write(d, out);
                out.push_str(if *negated {
                    " NOT BETWEEN "
                } else {
                    " BETWEEN "
                });
                low.write(d, out);
                out.push_str(" AND ");
                high.write(d, out);
                out.push(')');
            }
            SqlExpr::Like {
                expr,
                pattern,
                negated,
                insensitive,
            } => {
                out.push('(');
                expr.write(d, out);
                let op = match (negated, insensitive) {
                    (false, false) => " LIKE ",
                    (true, false) => " NOT LIKE ",
                    (false, true) => " ILIKE ",
                    (true, true) => " NOT ILIKE ",
                };
                out.push_str(op);
                pattern.write(d, out);
                out.push(')');
            }
            SqlExpr::Case {
                operand,
                whens,
                otherwise,
            } => {
                out.push_str("(CASE");
                if let Some(o) = operand {
                    out.push(' ');
                    o.write(d, out);
                }
                for (c, r) in whens {
                    out.push_str(" WHEN ");
                    c.write(d, out);
                    out.push_str(" THEN ");
                    r.write(d, out);
                }
                if let Some(e) = otherwise {
                    out.push_str(" ELSE ");
                    e.write(d, out);
                }
                out.push_str(" END)");
            }
            SqlExpr::Cast(x, t) => {
                out.push_str("CAST(");
                x.write(d, out);
                let ty = match t {
                    CastType::Int => "INTEGER",
                    CastType::BigInt => "BIGINT",
                    CastType::Double => d.double(),
                    CastType::Text => d.text(),
                    CastType::Bool => "BOOLEAN",
                    CastType::Date => "DATE",
                    CastType::Timestamp => "TIMESTAMP",
                };
                let _ = write!(out, " AS {ty})");
            }
            // PostgreSQL rounds a double half to even; DataFusion (and PostgreSQL's numeric)
            // half away from zero.
            SqlExpr::Call("round", args) if d == Dialect::Postgres => {
                out.push_str("CAST(round(CAST(");
                if let Some(x) = args.first() {
                    x.write(d, out);
                }
                out.push_str(" AS NUMERIC)");
                for a in args.iter().skip(1) {
                    out.push_str(", CAST(");
                    a.write(d, out);
                    out.push_str(" AS INTEGER)");
                }
                out.push_str(") AS DOUBLE PRECISION)");
            }
            SqlExpr::Call(f, args) => {
                out.push_str(f);
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    a.write(d, out);
                }
                out.push(')');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::sql_expr::parse_expr;

    fn pg(text: &str) -> String {
        parse_expr(text).unwrap().render(Dialect::Postgres)
    }

    #[test]
    fn renders_allowed_constructs_with_quoted_names() {
        assert_eq!(
            pg("first_cause = 'routing'"),
            r#"("first_cause" = 'routing')"#
        );
        assert_eq!(
            pg("COALESCE(Topic, '') <> 'it''s'"),
            r#"(coalesce("topic", '') <> 'it''s')"#
        );
        assert_eq!(pg(r#""Status" IS NULL"#), r#"("Status" IS NULL)"#);
        assert_eq!(
            pg("cause IN ('routing', 'skill') AND NOT accepted"),
            r#"(("cause" IN ('routing', 'skill')) AND (NOT "accepted"))"#
        );
        assert_eq!(
            pg("CAST(wait AS DOUBLE) / 60"),
            r#"(CAST("wait" AS DOUBLE PRECISION) / 60)"#
        );
        assert_eq!(
            parse_expr("wait::float8")
                .unwrap()
                .render(Dialect::DataFusion),
            r#"CAST("wait" AS DOUBLE)"#
        );
        assert_eq!(
            pg("EXTRACT(HOUR FROM created_at) BETWEEN 9 AND 17"),
            r#"(date_part('hour', "created_at") BETWEEN 9 AND 17)"#
        );
        assert_eq!(
            pg("CASE WHEN a > 1 THEN 'x' ELSE 'y' END LIKE 'x%'"),
            r#"((CASE WHEN ("a" > 1) THEN 'x' ELSE 'y' END) LIKE 'x%')"#
        );
        assert_eq!(pg("-ceil(x)"), r#"(-ceil("x"))"#);
        assert_eq!(
            pg("substr(c, 1, 2) = trim(d)"),
            r#"(substr("c", 1, 2) = btrim("d"))"#
        );
        assert_eq!(pg("SUBSTRING(c FROM 2)"), r#"substr("c", 2)"#);
    }

    #[test]
    fn rejects_what_is_not_an_expression_of_one_row() {
        for bad in [
            "a = 1; DROP TABLE conversations",
            "a = 1) OR (1 = 1",
            "a IN (SELECT id FROM secrets)",
            "EXISTS (SELECT 1)",
            "pg_sleep(10) IS NULL",
            "count(*) > 1",
            "sum(x) OVER ()",
            "c.channel = 'chat'",
            "x = $1",
            "a = 1 -- comment\n; DELETE FROM t",
            "lower(x) COLLATE \"C\" = 'a'",
        ] {
            let r = parse_expr(bad);
            assert!(r.is_err(), "{bad} was accepted: {r:?}");
        }
        let e = parse_expr("lowr(x) = 'a'").unwrap_err();
        assert!(e.help.contains("did you mean `lower`"), "{}", e.help);
    }

    #[test]
    fn columns_are_listed_once() {
        let e = parse_expr("a + b * a > coalesce(c, 0)").unwrap();
        assert_eq!(e.columns(), vec!["a", "b", "c"]);
    }
}
