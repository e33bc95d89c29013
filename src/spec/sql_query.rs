//! Whole queries an author writes — a SQL source's `sql:` and a PostgreSQL source's
//! `query:` — checked against an allow-list and rendered by us, so an engine only ever sees
//! SQL built from the syntax tree the check validated, never the author's text.
//!
//! The text is parsed once (sqlparser, PostgreSQL syntax). Comments and hints do not survive
//! parsing, so a construct one dialect reads as a comment and another executes (MySQL-style
//! `/*! ... */`) cannot reach an engine. [`check_query`] accepts exactly one read-only
//! `SELECT` (with CTEs, joins, derived tables, set operations, aggregates and window
//! functions) that reads only the relations its [`Scope`] allows: the tree's own sources for
//! a SQL source, user tables (no catalogs) for a database query. It refuses DDL, DML, `COPY`,
//! `SET`, recursive CTEs, table functions (file readers, `generate_series`, `unnest`),
//! functions outside [`FUNCTIONS`] and [`QUERY_FUNCTIONS`], and anything nested deeper or
//! written longer than the bounds below. DataFusion plans the checked statement itself
//! ([`CheckedQuery::statement`]); PostgreSQL gets [`CheckedQuery::render`], which is verified
//! to parse back to the same text.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    self, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, JoinOperator, ObjectName, SetExpr,
    Statement, TableFactor, Visit, Visitor,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::sql_expr::{FUNCTIONS, Rejected, cast_type, field_name, reject};

/// The longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// How deep expressions and subqueries may nest (the parser's recursion limit).
pub const MAX_DEPTH: usize = 40;
/// The most expression nodes one query may hold.
pub const MAX_NODES: usize = 20_000;

/// Aggregate and window functions a query may call besides the scalar [`FUNCTIONS`]; each is
/// deterministic and exists with the same meaning in DataFusion and PostgreSQL.
pub const QUERY_FUNCTIONS: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "var_samp",
    "var_pop",
    "variance",
    "bool_and",
    "bool_or",
    "row_number",
    "rank",
    "dense_rank",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "to_timestamp",
];

/// Which relations a query may read.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// A SQL source: the tree's own sources, by id (and the query's own CTEs).
    Sources(&'a [String]),
    /// A PostgreSQL `query:`: tables and views of the database, optionally schema-qualified,
    /// but no system catalog (`pg_catalog`, `information_schema`, `pg_*`).
    Database,
}

/// A query that passed [`check_query`]: its syntax tree, the relations it reads (outside
/// its own CTEs), in order of first mention.
#[derive(Debug, Clone)]
pub struct CheckedQuery {
    statement: Statement,
    relations: Vec<String>,
}

impl CheckedQuery {
    /// The validated statement, for engines that plan a syntax tree (DataFusion).
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The relations the query reads (source ids or table names), outside its own CTEs.
    pub fn relations(&self) -> &[String] {
        &self.relations
    }
}

/// Checks `text` (see the module docs) and returns the validated query.
pub fn check_query(text: &str, scope: Scope<'_>) -> Result<CheckedQuery, Rejected> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(reject(
            format!(
                "the query is {} bytes long; at most {MAX_QUERY_BYTES} are accepted",
                text.len()
            ),
            "split it into several SQL sources that read each other",
        ));
    }
    let dialect = PostgreSqlDialect {};
    let statements = Parser::new(&dialect)
        .with_recursion_limit(MAX_DEPTH)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| {
            reject(
                format!(
                    "cannot read the query: {}",
                    crate::text::first_line(&e.to_string())
                ),
                "write one SELECT statement",
            )
        })?;
    let [statement] = statements.as_slice() else {
        return Err(reject(
            format!(
                "the query holds {} statements; a source is exactly one SELECT",
                statements.len()
            ),
            "remove the `;` and everything after it",
        ));
    };
    let Statement::Query(q) = statement else {
        return Err(reject(
            "a source's query must be a SELECT, not a command",
            "write `SELECT ... FROM ...`; metrictree only reads",
        ));
    };
    let mut checker = Checker {
        scope,
        ctes: BTreeSet::new(),
        relations: Vec::new(),
        nodes: 0,
    };
    collect_ctes(q, &mut checker.ctes);
    if let ControlFlow::Break(r) = statement.visit(&mut checker) {
        return Err(r);
    }
    let checked = CheckedQuery {
        statement: statement.clone(),
        relations: checked_relations(checker.relations),
    };
    // What PostgreSQL receives must mean what was checked: the rendering (`sql::query`
    // renders with the syntax tree's own `Display`, as here) parses back to itself.
    let rendered = checked.statement.to_string();
    let again = Parser::new(&dialect)
        .with_recursion_limit(MAX_DEPTH * 2)
        .try_with_sql(&rendered)
        .and_then(|mut p| p.parse_statements())
        .map(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>());
    if again.as_deref() != Ok(std::slice::from_ref(&rendered)) {
        return Err(reject(
            "the query does not render back to itself",
            "simplify the query; please report it, with the query, as a metrictree bug",
        ));
    }
    Ok(checked)
}

fn checked_relations(mut r: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    r.retain(|x| seen.insert(x.clone()));
    r
}

/// Every CTE name the query defines, at any depth (folded like identifiers).
fn collect_ctes(q: &ast::Query, out: &mut BTreeSet<String>) {
    struct Ctes<'a>(&'a mut BTreeSet<String>);
    impl Visitor for Ctes<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, q: &ast::Query) -> ControlFlow<()> {
            if let Some(w) = &q.with {
                for c in &w.cte_tables {
                    self.0.insert(ident_name(&c.alias.name));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = q.visit(&mut Ctes(out));
}

fn ident_name(id: &ast::Ident) -> String {
    match id.quote_style {
        Some(_) => id.value.clone(),
        None => id.value.to_lowercase(),
    }
}

fn object_parts(name: &ObjectName) -> Option<Vec<String>> {
    name.0
        .iter()
        .map(|p| p.as_ident().map(ident_name))
        .collect()
}

struct Checker<'a> {
    scope: Scope<'a>,
    ctes: BTreeSet<String>,
    relations: Vec<String>,
    nodes: usize,
}

fn stop<T>(message: impl Into<String>, help: impl Into<String>) -> ControlFlow<Rejected, T> {
    ControlFlow::Break(reject(message, help))
}

const READ_ONLY: &str = "a source is one SELECT over the tree's sources; metrictree only reads";

impl Visitor for Checker<'_> {
    type Break = Rejected;

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<Rejected> {
        match s {
            Statement::Query(_) => ControlFlow::Continue(()),
            _ => stop("the query holds a command", READ_ONLY),
        }
    }

    fn pre_visit_query(&mut self, q: &ast::Query) -> ControlFlow<Rejected> {
        if !q.locks.is_empty() {
            return stop(
                "the query takes row locks (`FOR UPDATE`/`FOR SHARE`)",
                "remove the locking clause; metrictree only reads",
            );
        }
        if q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
            || !q.pipe_operators.is_empty()
        {
            return stop(
                "the query uses a clause of another SQL dialect (FOR, SETTINGS, FORMAT, |>)",
                "write a plain SELECT",
            );
        }
        if let Some(w) = &q.with
            && w.recursive
        {
            return stop(
                "`WITH RECURSIVE` is not allowed (it can generate rows without end)",
                "derive the rows from the data with joins and window functions",
            );
        }
        set_expr(&q.body)
    }

    fn pre_visit_select(&mut self, s: &ast::Select) -> ControlFlow<Rejected> {
        if s.into.is_some() {
            return stop(
                "`SELECT ... INTO` creates a table",
                "remove `INTO ...`; metrictree only reads",
            );
        }
        if !s.optimizer_hints.is_empty() {
            return stop(
                "the query carries optimizer hints (`/*+ ... */`)",
                "remove the hint comment",
            );
        }
        if s.top.is_some()
            || !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || s.qualify.is_some()
            || s.value_table_mode.is_some()
            || s.select_modifiers.is_some()
        {
            return stop(
                "the SELECT uses a clause of another SQL dialect (TOP, LATERAL VIEW, PREWHERE, CONNECT BY, QUALIFY, ...)",
                "write a plain SELECT ... FROM ... WHERE ... GROUP BY ... HAVING ...",
            );
        }
        for t in &s.from {
            for j in &t.joins {
                match &j.join_operator {
                    JoinOperator::Join(_)
                    | JoinOperator::Inner(_)
                    | JoinOperator::Left(_)
                    | JoinOperator::LeftOuter(_)
                    | JoinOperator::Right(_)
                    | JoinOperator::RightOuter(_)
                    | JoinOperator::FullOuter(_)
                    | JoinOperator::CrossJoin(_) => {}
                    other => {
                        let name = format!("{other:?}");
                        let name = name.split(['(', ' ', '{']).next().unwrap_or("");
                        return stop(
                            format!("the join `{name}` is not allowed"),
                            "use [INNER | LEFT | RIGHT | FULL] JOIN ... ON, or CROSS JOIN",
                        );
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<Rejected> {
        match t {
            TableFactor::Table {
                args: None,
                with_hints,
                version: None,
                with_ordinality: false,
                partitions,
                json_path: None,
                sample: None,
                index_hints,
                ..
            } if with_hints.is_empty() && partitions.is_empty() && index_hints.is_empty() => {
                ControlFlow::Continue(())
            }
            TableFactor::Table { args: Some(_), .. }
            | TableFactor::Function { .. }
            | TableFactor::TableFunction { .. }
            | TableFactor::UNNEST { .. } => stop(
                "table functions are not allowed (they read files or generate rows)",
                "read the tree's sources by id; declare a file as a `file:` source",
            ),
            TableFactor::Derived {
                lateral: false,
                sample: None,
                ..
            }
            | TableFactor::NestedJoin { .. } => ControlFlow::Continue(()),
            other => stop(
                format!("`{}` is not an allowed FROM item", short_display(other)),
                "read sources by id, or a parenthesised SELECT",
            ),
        }
    }

    fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<Rejected> {
        let Some(parts) = object_parts(name) else {
            return stop(
                format!("`{}` is not a plain relation name", short_display(name)),
                "name a source by its id",
            );
        };
        let full = parts.join(".");
        // A name some `WITH` of the query defines. CTE names are collected at every depth, so
        // such a name may still reach a real relation out of the CTE's scope: harmless among
        // the tree's own sources, so the catalog check below still applies to it.
        let cte = parts.len() == 1 && self.ctes.contains(&parts[0]);
        match self.scope {
            Scope::Sources(_) if cte => ControlFlow::Continue(()),
            Scope::Sources(ids) => {
                if parts.len() == 1 && ids.iter().any(|i| *i == parts[0]) {
                    self.relations.push(parts[0].clone());
                    return ControlFlow::Continue(());
                }
                let help = match crate::diag::suggest(
                    parts.last().map_or("", String::as_str),
                    ids.iter().map(String::as_str),
                ) {
                    Some(s) => {
                        format!("did you mean `{s}`? A SQL source reads the tree's sources by id")
                    }
                    None => format!(
                        "a SQL source reads the tree's sources by id: {}",
                        ids.iter()
                            .map(|i| format!("`{i}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                stop(
                    format!(
                        "the query reads `{}`, which is not a source of this tree",
                        crate::text::escape(&full)
                    ),
                    help,
                )
            }
            Scope::Database => {
                let catalog = parts.len() > 2
                    || parts.iter().any(|p| {
                        let p = p.to_lowercase();
                        p == "information_schema" || p.starts_with("pg_")
                    });
                if catalog {
                    return stop(
                        format!(
                            "the query reads `{}`, a system catalog or another database",
                            crate::text::escape(&full)
                        ),
                        "read the tables that hold your data (`schema.table`), not the database's catalogs",
                    );
                }
                if !cte {
                    self.relations.push(full);
                }
                ControlFlow::Continue(())
            }
        }
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<Rejected> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return stop(
                format!("the query holds more than {MAX_NODES} expressions"),
                "split it into several SQL sources that read each other",
            );
        }
        expr(e)
    }

    fn pre_visit_value(&mut self, v: &ast::ValueWithSpan) -> ControlFlow<Rejected> {
        match &v.value {
            ast::Value::Placeholder(p) => stop(
                format!("`{}` is a parameter placeholder", crate::text::escape(p)),
                "write the value itself",
            ),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn short_display(x: &impl std::fmt::Display) -> String {
    crate::text::quote(&x.to_string())
}

fn set_expr(body: &SetExpr) -> ControlFlow<Rejected> {
    match body {
        SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::Values(_) => ControlFlow::Continue(()),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr(left)?;
            set_expr(right)
        }
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
            stop("the query writes data", READ_ONLY)
        }
        _ => stop("the query's body is not a SELECT", READ_ONLY),
    }
}

/// One expression node (its children are visited on their own).
fn expr(e: &Expr) -> ControlFlow<Rejected> {
    use ast::BinaryOperator as B;
    match e {
        Expr::Identifier(_)
        | Expr::Nested(_)
        | Expr::Value(_)
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsNotTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotFalse(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::InList { .. }
        | Expr::Between { .. }
        | Expr::Case { .. }
        | Expr::Subquery(_)
        | Expr::InSubquery { .. }
        | Expr::Exists { .. } => ControlFlow::Continue(()),
        Expr::CompoundIdentifier(parts) if parts.len() == 2 => ControlFlow::Continue(()),
        Expr::Like { any: false, .. } | Expr::ILike { any: false, .. } => ControlFlow::Continue(()),
        Expr::UnaryOp { op, .. } => match op {
            ast::UnaryOperator::Not | ast::UnaryOperator::Minus | ast::UnaryOperator::Plus => {
                ControlFlow::Continue(())
            }
            other => stop(format!("the operator `{other}` is not allowed"), ALLOWED),
        },
        Expr::BinaryOp { op, .. } => match op {
            B::Plus
            | B::Minus
            | B::Multiply
            | B::Divide
            | B::Modulo
            | B::Eq
            | B::NotEq
            | B::Lt
            | B::LtEq
            | B::Gt
            | B::GtEq
            | B::And
            | B::Or
            | B::StringConcat => ControlFlow::Continue(()),
            other => stop(format!("the operator `{other}` is not allowed"), ALLOWED),
        },
        Expr::Cast {
            kind: ast::CastKind::Cast | ast::CastKind::DoubleColon,
            data_type,
            array: false,
            format: None,
            ..
        } => match cast_type(data_type) {
            Ok(_) => ControlFlow::Continue(()),
            Err(r) => ControlFlow::Break(r),
        },
        Expr::TypedString(t) => match cast_type(&t.data_type) {
            Ok(_) => ControlFlow::Continue(()),
            Err(r) => ControlFlow::Break(r),
        },
        Expr::Extract { field, .. } => match field_name(field) {
            Ok(_) => ControlFlow::Continue(()),
            Err(r) => ControlFlow::Break(r),
        },
        Expr::Ceil { field, .. } | Expr::Floor { field, .. }
            if matches!(
                field,
                ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)
            ) =>
        {
            ControlFlow::Continue(())
        }
        Expr::Substring { .. } => ControlFlow::Continue(()),
        Expr::Trim {
            trim_where: None,
            trim_what: None,
            trim_characters: None,
            ..
        } => ControlFlow::Continue(()),
        Expr::Function(f) => function(f),
        other => stop(
            format!("`{}` is not an allowed construct", short_display(other)),
            ALLOWED,
        ),
    }
}

const ALLOWED: &str = "queries may use columns, literals, comparisons, AND/OR/NOT, arithmetic, ||, CASE, IN, BETWEEN, IS [NOT] NULL, LIKE/ILIKE, CAST, subqueries, joins, GROUP BY, and the functions listed in docs/tree-format.md";

fn function(f: &ast::Function) -> ControlFlow<Rejected> {
    let parts = object_parts(&f.name).unwrap_or_default();
    let name = match parts.as_slice() {
        [one] => one.to_lowercase(),
        _ => {
            return stop(
                format!("the function `{}` is not allowed", short_display(&f.name)),
                "call functions by their plain name",
            );
        }
    };
    let known = FUNCTIONS.iter().chain(QUERY_FUNCTIONS).any(|n| *n == name);
    if !known {
        let all = FUNCTIONS.iter().chain(QUERY_FUNCTIONS).copied();
        let help = match crate::diag::suggest(&name, all) {
            Some(s) => format!("did you mean `{s}`? See the functions in docs/tree-format.md"),
            None => "see the functions a query may call in docs/tree-format.md".to_string(),
        };
        return stop(
            format!(
                "the function `{}` is not allowed",
                crate::text::escape(&name)
            ),
            help,
        );
    }
    if f.null_treatment.is_some()
        || !f.within_group.is_empty()
        || !matches!(f.parameters, FunctionArguments::None)
    {
        return stop(
            format!("`{name}` is called with clauses that are not allowed"),
            "call it as `f(a, b)`, optionally with FILTER (WHERE ...) or OVER (...)",
        );
    }
    match &f.args {
        FunctionArguments::None => ControlFlow::Continue(()),
        FunctionArguments::Subquery(_) => stop(
            format!("`{name}` takes a subquery as its argument"),
            "pass columns or expressions",
        ),
        FunctionArguments::List(l) => {
            if !l.clauses.is_empty() {
                return stop(
                    format!("`{name}` is called with clauses inside its parentheses"),
                    "call it as `f(a, b)`",
                );
            }
            for a in &l.args {
                match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(_)) => {}
                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "count" => {}
                    _ => {
                        return stop(
                            format!("`{name}` takes plain arguments here"),
                            "write `f(a, b)` (and `count(*)`); no named arguments",
                        );
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["conversations_raw".into(), "handoffs_raw".into()]
    }

    fn ok(text: &str) -> CheckedQuery {
        let ids = ids();
        check_query(text, Scope::Sources(&ids)).unwrap_or_else(|e| panic!("{text}: {e:?}"))
    }

    fn bad(text: &str) -> Rejected {
        let ids = ids();
        match check_query(text, Scope::Sources(&ids)) {
            Ok(q) => panic!("accepted: {text}\nrendered: {}", q.render()),
            Err(e) => e,
        }
    }

    #[test]
    fn accepts_the_flagship_shapes_and_lists_inputs() {
        let q = ok("WITH h AS (SELECT conversation_id, COUNT(*) AS n FROM handoffs_raw GROUP BY conversation_id)
             SELECT c.*, COALESCE(h.n, 0) AS transfers, date_part('epoch', c.created_at) AS e,
                    ROW_NUMBER() OVER (PARTITION BY c.team ORDER BY c.created_at) AS r
             FROM conversations_raw c LEFT JOIN h ON h.conversation_id = c.conversation_id
             WHERE c.channel IN ('chat', 'email') AND c.created_at >= TIMESTAMP '2026-01-01 00:00:00'");
        assert_eq!(q.relations(), ["handoffs_raw", "conversations_raw"]);
        assert!(!q.render().contains("--"));
    }

    #[test]
    fn comments_and_hints_never_reach_the_rendering() {
        let q = ok("SELECT 1 AS a /*! , (SELECT 1) */ FROM conversations_raw -- x\n");
        assert_eq!(q.render(), "SELECT 1 AS a FROM conversations_raw");
    }

    #[test]
    fn refuses_commands_files_catalogs_and_generators() {
        for text in [
            "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
            "CREATE TABLE x AS SELECT 1",
            "COPY (SELECT 1) TO '/tmp/x.csv'",
            "SET datafusion.execution.target_partitions = 1",
            "SELECT 1; DROP TABLE t",
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM secrets",
            "SELECT * FROM '/etc/passwd'",
            "SELECT * FROM generate_series(1, 1000000000000)",
            "SELECT * FROM range(1, 10)",
            "SELECT * FROM unnest(ARRAY[1, 2])",
            "SELECT unnest(ARRAY[1, 2]) FROM conversations_raw",
            "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
            "SELECT pg_read_file('/etc/passwd') FROM conversations_raw",
            "SELECT * FROM conversations_raw FOR UPDATE",
            "SELECT * INTO t2 FROM conversations_raw",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "SELECT $1 FROM conversations_raw",
            "SELECT random() FROM conversations_raw",
            "SELECT /*+ SeqScan(c) */ * FROM conversations_raw c",
            "SELECT * FROM conversations_raw c, LATERAL (SELECT 1) x",
            "SELECT pg_catalog.lower(channel) FROM conversations_raw",
        ] {
            bad(text);
        }
    }

    #[test]
    fn bounds_length_and_depth() {
        let long = format!(
            "SELECT {} FROM conversations_raw",
            "1 + ".repeat(20_000) + "1"
        );
        assert!(bad(&long).message.contains("bytes long"));
        let deep = format!(
            "SELECT {}1{} FROM conversations_raw",
            "(".repeat(200),
            ")".repeat(200)
        );
        bad(&deep);
    }

    #[test]
    fn database_scope_refuses_catalogs() {
        let q = check_query(
            "WITH recent AS (SELECT * FROM support.conversations) SELECT * FROM recent",
            Scope::Database,
        )
        .unwrap();
        assert_eq!(q.relations(), ["support.conversations"]);
        for t in [
            "SELECT * FROM pg_catalog.pg_authid",
            "SELECT * FROM pg_shadow",
            "SELECT * FROM information_schema.columns",
            "SELECT * FROM other_db.public.t",
            // A CTE named like a catalog, read inside its own definition (the real table) or
            // out of its scope.
            "WITH pg_authid AS (SELECT * FROM pg_authid) SELECT * FROM pg_authid",
            "SELECT * FROM (WITH pg_settings AS (SELECT 1 AS a) SELECT a FROM pg_settings) x, pg_settings",
        ] {
            assert!(check_query(t, Scope::Database).is_err(), "{t}");
        }
    }
}
