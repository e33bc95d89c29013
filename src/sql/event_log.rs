//! Derives cases from an event log, as one SQL query with window functions.
//!
//! Input: an [`EventLog`] (which columns of the events source hold the case, the time and the
//! owner at each level) and the [`Dialect`] of the backend the events live in. Output: the
//! text of a query with one row per case — first and last owner per level, transfers (owner
//! changes, in time order), ping-pong (a move back to an earlier owner), escalations and
//! de-escalations between tiers, queue waits (from a transfer to the next pickup event),
//! resolution, and each transfer's cause by the tree's rules. It runs inside the engine that
//! holds the events (DataFusion or PostgreSQL), never as a row loop in Rust.
//!
//! Order of events: by time, then by the owner columns (so ties are broken the same way on
//! every run). An event without an owner at a level keeps the one before (attributes a cause
//! rule reads are carried the same way, so rules see their value at the transfer); an owner change is
//! an event naming an owner other than the current one at some level (the first owner is not
//! a change); a transfer is an event where any level changes; ping-pong counts at the primary level (team,
//! else agent, else tier, else channel).

use crate::spec::event_log::{cause_column, cause_names, last_attribute, primary, rules};
use crate::spec::model::{EventLog, OwnerLevel};
use crate::spec::sql_expr::{SqlExpr, parse_expr};
use crate::sql::expr::{Dialect, text_literal};
use crate::sql::ident;

/// A window over the rows of one case that share a value: written as the case's peers in the
/// value's order (`{PEERS}col {RANGE}`) rather than `PARTITION BY case_id, col`. The same rows
/// (NULLs are peers of each other, as they are one partition), and a shape Ballista's executors
/// run: with two partition columns they stop on a window-ordering assertion.
const PEERS: &str = "PARTITION BY case_id ORDER BY ";
const RANGE: &str = "RANGE BETWEEN CURRENT ROW AND CURRENT ROW";

/// The query counting cases whose derivation depends on how events at the same time are
/// ordered: some (case, time) holds two different owner values at one level. `None` when
/// the tree gives `order_by` (it decides) or names no owner level.
pub fn ties(el: &EventLog) -> Option<String> {
    if !el.order_by.is_empty() || el.owners.is_empty() {
        return None;
    }
    let case = ident(&el.case.value);
    let time = ident(&el.time.value);
    let differ: Vec<String> = el
        .owners
        .iter()
        .map(|(_, c)| format!("COUNT(DISTINCT {}) > 1", ident(&c.value)))
        .collect();
    Some(format!(
        "SELECT COUNT(DISTINCT c) AS cases FROM (SELECT {case} AS c FROM {} WHERE {case} IS NOT NULL AND {time} IS NOT NULL GROUP BY {case}, {time} HAVING {}) AS tied",
        ident(&el.events.value),
        differ.join(" OR ")
    ))
}

/// Per attribute: whether some cause rule reads it.
fn attribute_in_rules(el: &EventLog) -> Vec<bool> {
    let read: Vec<String> = rules(el)
        .iter()
        .filter_map(|(_, w)| parse_expr(w).ok())
        .flat_map(|e| {
            e.columns()
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    el.attributes
        .iter()
        .map(|a| read.contains(&a.value))
        .collect()
}

/// The derivation query. Conditions are parsed with `spec::sql_expr` (already checked by the spec
/// parser; an unparsable one here renders as FALSE).
pub fn derive(el: &EventLog, d: Dialect) -> String {
    let cond = |text: Option<&str>| -> String {
        text.and_then(|t| parse_expr(t).ok())
            .map_or("FALSE".to_string(), |e: SqlExpr| e.render(d))
    };
    let levels: Vec<(&'static str, String)> = el
        .owners
        .iter()
        .map(|(l, c)| (l.name(), ident(&c.value)))
        .collect();
    let Some(p) = primary(el).map(OwnerLevel::name) else {
        return "SELECT 1 WHERE FALSE".to_string();
    };
    let has_tier = levels.iter().any(|(l, _)| *l == "tier");
    let case = ident(&el.case.value);
    let time = ident(&el.time.value);
    let text = d.text();

    // ev: one row per event, with a stable order k within its case.
    let mut ev = vec![format!("{case} AS case_id"), format!("{time} AS t")];
    for (l, c) in &levels {
        ev.push(format!("NULLIF(CAST({c} AS {text}), '') AS own_{l}"));
    }
    for (i, a) in el.attributes.iter().enumerate() {
        ev.push(format!("{} AS attr_{i}", ident(&a.value)));
    }
    for (i, a) in el.last_attributes.iter().enumerate() {
        ev.push(format!("{} AS lattr_{i}", ident(&a.value)));
    }
    ev.push(format!(
        "CASE WHEN {} THEN 1 ELSE 0 END AS is_pickup",
        cond(el.pickup.as_ref().map(|x| x.value.as_str()))
    ));
    ev.push(format!(
        "CASE WHEN {} THEN 1 ELSE 0 END AS is_resolved",
        cond(el.resolved.as_ref().map(|x| x.value.as_str()))
    ));
    // Events of one case at the same time: the tree's `order_by` first, then (arbitrary but
    // deterministic) the owner values; `ties` counts the cases where that choice matters.
    let tie: Vec<String> = el
        .order_by
        .iter()
        .map(|c| format!(", {}", ident(&c.value)))
        .chain(levels.iter().map(|(_, c)| format!(", {c}")))
        .collect();
    ev.push(format!(
        "ROW_NUMBER() OVER (PARTITION BY {case} ORDER BY {time}{}) AS k",
        tie.concat()
    ));
    let ev = format!(
        "SELECT {} FROM {} WHERE {case} IS NOT NULL AND {time} IS NOT NULL",
        ev.join(", "),
        ident(&el.events.value)
    );

    // gr, cur: the owner at each event, carried forward over events that do not name one
    // (the running count of named events groups each named event with the silent ones after).
    let w = "PARTITION BY case_id ORDER BY k";
    let mut gr = vec!["ev.*".to_string()];
    let mut cur = vec!["gr.*".to_string()];
    // Attributes are carried only where a cause rule reads them: each carried value is a
    // window partition of its own, the costliest part of the query.
    let in_rules = attribute_in_rules(el);
    let carried: Vec<(String, String, bool)> = levels
        .iter()
        .map(|(l, _)| (format!("own_{l}"), (*l).to_string(), true))
        .chain(
            (0..el.attributes.len())
                .map(|i| (format!("attr_{i}"), format!("attr_{i}"), in_rules[i])),
        )
        .collect();
    for (col, name, carry) in &carried {
        gr.push(format!(
            "COUNT({col}) OVER ({w} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS grp_{name}"
        ));
        cur.push(if *carry {
            format!("MAX({col}) OVER ({PEERS}grp_{name} {RANGE}) AS cur_{name}")
        } else {
            format!("{col} AS cur_{name}")
        });
    }
    // Last values: the event naming the attribute whose running count is the case's total.
    for i in 0..el.last_attributes.len() {
        gr.push(format!(
            "COUNT(lattr_{i}) OVER ({w} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS grp_lattr_{i}"
        ));
        gr.push(format!(
            "COUNT(lattr_{i}) OVER (PARTITION BY case_id) AS n_lattr_{i}"
        ));
    }
    let gr = format!("SELECT {} FROM ev", gr.join(", "));
    let cur = format!("SELECT {} FROM gr", cur.join(", "));

    // st: previous owners, the case's first and last event, next pickup, first resolution.
    let mut st = vec!["cur.*".to_string()];
    for (l, _) in &levels {
        st.push(format!("LAG(cur_{l}) OVER ({w}) AS prev_{l}"));
        st.push(format!(
            "MAX(CASE WHEN grp_{l} = 1 THEN own_{l} END) OVER (PARTITION BY case_id) AS first_seen_{l}"
        ));
    }
    st.push(format!("MIN(k) OVER ({PEERS}own_{p} {RANGE}) AS seen_k"));
    st.push("MIN(t) OVER (PARTITION BY case_id) AS opened_at".into());
    st.push(format!(
        "MIN(CASE WHEN is_pickup = 1 THEN t END) OVER ({w} ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_pickup"
    ));
    st.push(
        "MIN(CASE WHEN is_resolved = 1 THEN k END) OVER (PARTITION BY case_id) AS resolved_k"
            .into(),
    );
    let st = format!("SELECT {} FROM cur", st.join(", "));

    // mv: what moved at this event.
    let moved =
        |l: &str| format!("(prev_{l} IS NOT NULL AND own_{l} IS NOT NULL AND own_{l} <> prev_{l})");
    let rank = |col: &str| {
        let whens: String = el
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| format!(" WHEN {} THEN {}", text_literal(&t.value), i + 1))
            .collect();
        format!("(CASE {col}{whens} END)")
    };
    let mut mv = vec!["st.*".to_string()];
    for (l, _) in &levels {
        mv.push(format!(
            "CASE WHEN {} THEN 1 ELSE 0 END AS moved_{l}",
            moved(l)
        ));
        mv.push(format!("prev_{l} AS from_{l}"));
        mv.push(format!("own_{l} AS to_{l}"));
        mv.push(format!("first_seen_{l} AS first_{l}"));
        mv.push(format!("{} AS {l}_changed", moved(l)));
    }
    let any: Vec<String> = levels.iter().map(|(l, _)| moved(l)).collect();
    mv.push(format!(
        "CASE WHEN {} THEN 1 ELSE 0 END AS moved_any",
        any.join(" OR ")
    ));
    if has_tier {
        mv.push(format!(
            "({} AND {} > {}) AS tier_up",
            moved("tier"),
            rank("own_tier"),
            rank("prev_tier")
        ));
        mv.push(format!(
            "({} AND {} < {}) AS tier_down",
            moved("tier"),
            rank("own_tier"),
            rank("prev_tier")
        ));
    }
    mv.push(format!("({} AND seen_k < k) AS \"returning\"", moved(p)));
    mv.push(
        "(date_part('epoch', t) - date_part('epoch', opened_at)) / 60.0 AS minutes_since_open"
            .into(),
    );
    for (i, a) in el.attributes.iter().enumerate() {
        mv.push(format!("cur_attr_{i} AS {}", ident(&a.value)));
    }
    let mv = format!("SELECT {} FROM st", mv.join(", "));

    // tr: the transfer's number within its case, and its cause.
    let rules = rules(el);
    let whens: String = rules
        .iter()
        .map(|(c, w)| format!(" WHEN {} THEN {}", cond(Some(w)), text_literal(c)))
        .collect();
    let nr = format!(
        "SELECT mv.*, SUM(moved_any) OVER ({w} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS transfer_number FROM mv"
    );
    // Without any rule (no `causes:`, no tier or channel level), every transfer is unclassified.
    let classify = if whens.is_empty() {
        "'unclassified'".to_string()
    } else {
        format!("(CASE{whens} ELSE 'unclassified' END)")
    };
    let tr = format!("SELECT nr.*, CASE WHEN moved_any = 1 THEN {classify} END AS cause FROM nr");

    // One row per case.
    let flag = |e: &str| format!("CASE WHEN {e} THEN TRUE ELSE FALSE END");
    let mut out = vec![
        "case_id".to_string(),
        "MIN(t) AS opened_at".into(),
        "MAX(t) AS last_event_at".into(),
        "COUNT(*) AS events".into(),
    ];
    for (l, _) in &levels {
        out.push(format!("MAX(first_seen_{l}) AS first_{l}"));
        out.push(format!(
            "MAX(CASE WHEN k = last_k THEN cur_{l} END) AS last_{l}"
        ));
        out.push(format!("SUM(moved_{l}) AS {l}_changes"));
    }
    out.push("SUM(moved_any) AS transfers".into());
    out.push(format!("{} AS transferred", flag("SUM(moved_any) > 0")));
    out.push("SUM(CASE WHEN \"returning\" THEN 1 ELSE 0 END) AS ping_pongs".into());
    out.push(format!(
        "{} AS ping_ponged",
        flag("SUM(CASE WHEN \"returning\" THEN 1 ELSE 0 END) > 0")
    ));
    if has_tier {
        out.push("SUM(CASE WHEN tier_up THEN 1 ELSE 0 END) AS escalations".into());
        out.push("SUM(CASE WHEN tier_down THEN 1 ELSE 0 END) AS deescalations".into());
    }
    out.push(
        "SUM(CASE WHEN moved_any = 1 THEN date_part('epoch', next_pickup) - date_part('epoch', t) END) AS queue_wait_seconds"
            .into(),
    );
    out.push(
        "MAX(CASE WHEN moved_any = 1 AND transfer_number = 1 THEN cause END) AS first_cause".into(),
    );
    for c in cause_names(el) {
        out.push(format!(
            "SUM(CASE WHEN cause = {} THEN 1 ELSE 0 END) AS {}",
            text_literal(&c),
            ident(&cause_column(&c))
        ));
    }
    out.push("MIN(CASE WHEN is_resolved = 1 THEN t END) AS resolved_at".into());
    out.push(format!(
        "{} AS resolved",
        flag("MIN(resolved_k) IS NOT NULL")
    ));
    out.push(
        "date_part('epoch', MIN(CASE WHEN is_resolved = 1 THEN t END)) - date_part('epoch', MIN(t)) AS resolution_seconds"
            .into(),
    );
    out.push(format!(
        "{} AS resolved_by_first_owner",
        flag(&format!(
            "MAX(CASE WHEN k = resolved_k THEN cur_{p} END) = MAX(first_seen_{p})"
        ))
    ));
    out.push(format!(
        "{} AS resolved_without_transfer",
        flag("MIN(resolved_k) IS NOT NULL AND SUM(CASE WHEN k <= resolved_k THEN moved_any ELSE 0 END) = 0")
    ));
    for (i, a) in el.attributes.iter().enumerate() {
        out.push(format!(
            "MAX(CASE WHEN grp_attr_{i} = 1 THEN attr_{i} END) AS {}",
            ident(&a.value)
        ));
    }
    for (i, a) in el.last_attributes.iter().enumerate() {
        out.push(format!(
            "MAX(CASE WHEN lattr_{i} IS NOT NULL AND grp_lattr_{i} = n_lattr_{i} THEN lattr_{i} END) AS {}",
            ident(&last_attribute(&a.value))
        ));
    }
    format!(
        "WITH ev AS ({ev}),\ngr AS ({gr}),\ncur AS ({cur}),\nst AS (SELECT st0.*, MAX(k) OVER (PARTITION BY case_id) AS last_k FROM ({st}) AS st0),\nmv AS ({mv}),\nnr AS ({nr}),\ntr AS ({tr})\nSELECT {} FROM tr GROUP BY case_id",
        out.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Pos;
    use crate::spec::event_log::reserved_names;
    use crate::spec::model::Located;

    fn at(s: &str) -> Located<String> {
        Located::new(s.to_string(), Pos::new(1, 1, 1))
    }

    fn log(levels: &[OwnerLevel], causes: &[(&str, &str)]) -> EventLog {
        EventLog {
            events: at("events"),
            case: at("case"),
            time: at("time"),
            owners: levels.iter().map(|&l| (l, at(l.name()))).collect(),
            tiers: vec![at("L1"), at("L2")],
            pickup: Some(at("kind = 'pickup'")),
            resolved: Some(at("kind = 'close'")),
            causes: causes.iter().map(|(c, w)| (at(c), at(w))).collect(),
            attributes: Vec::new(),
            last_attributes: Vec::new(),
            order_by: Vec::new(),
            max_unclassified: EventLog::DEFAULT_MAX_UNCLASSIFIED,
        }
    }

    /// Every name the rendered derivation assigns with `AS` (types after `CAST(x AS` aside).
    fn assigned(sql: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for part in sql.split(" AS ").skip(1) {
            let name: String = part
                .trim_start_matches('"')
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let ty = [Dialect::DataFusion, Dialect::Postgres]
                .iter()
                .any(|d| d.text().eq_ignore_ascii_case(&name) || d.double().starts_with(&name));
            if !name.is_empty() && !ty && !name.starts_with(|c: char| c.is_ascii_digit()) {
                out.insert(name.to_lowercase());
            }
        }
        out
    }

    use std::collections::BTreeSet;

    /// The contract of `spec::event_log::reserved_names`: the derivation assigns exactly the
    /// names it lists, for every combination of owner levels, with and without cause rules.
    #[test]
    fn the_derivation_assigns_only_reserved_names() {
        let all = OwnerLevel::ALL.map(|(_, l)| l);
        for mask in 1..16u32 {
            let levels: Vec<OwnerLevel> = (0..4)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| all[i])
                .collect();
            for causes in [
                vec![],
                vec![("routing", "transfer_number = 1"), ("skill", "returning")],
            ] {
                let el = log(&levels, &causes);
                let reserved = reserved_names(&el);
                for d in [Dialect::DataFusion, Dialect::Postgres] {
                    let extra: Vec<String> = assigned(&derive(&el, d))
                        .into_iter()
                        .filter(|n| !reserved.contains(n))
                        .collect();
                    assert!(
                        extra.is_empty(),
                        "{levels:?} {d:?}: not reserved: {extra:?}"
                    );
                }
                // And nothing is reserved that the derivation does not assign.
                let names = assigned(&derive(&el, Dialect::DataFusion));
                let unused: Vec<&String> =
                    reserved.iter().filter(|n| !names.contains(*n)).collect();
                assert!(
                    unused.is_empty(),
                    "{levels:?}: reserved but unused: {unused:?}"
                );
            }
        }
    }
}
