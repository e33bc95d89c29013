//! `metrictree notify TREE [--send] [--outbox DIR] [--ledger PATH] [--status]`: tells the owners
//! whose branches moved (dry run by default), exactly once per ledger.

use std::path::Path;

use super::Outcome;
use super::report::{prepare, templates};
use crate::cli::{SearchArgs, TreeArgs};
use crate::delivery::ledger::{Ledger, State};
use crate::delivery::message::{Sets, failure_messages, messages};
use crate::delivery::rules::select;
use crate::delivery::run::{Pause, Route, Run, dry_run};
use crate::delivery::settings::Settings;
use crate::error::Error;
use crate::report::pack::{Inputs, ReportSet};
use crate::report::redact::without_dimensions;
use crate::text::escape;

pub struct Notify<'a> {
    pub tree: &'a TreeArgs,
    pub period: Option<String>,
    pub baseline: Option<String>,
    pub send: bool,
    pub outbox: Option<&'a Path>,
    pub ledger: Option<&'a Path>,
    pub status: bool,
    pub retries: u32,
    pub templates: Option<&'a Path>,
    pub trend_periods: u32,
    pub search: &'a SearchArgs,
}

pub fn run(a: Notify) -> Outcome {
    if a.status {
        let path = a.ledger.ok_or_else(|| {
            Error::Argument("--status reads the ledger: give --ledger PATH".into())
        })?;
        return status(path, a.period.as_deref());
    }
    let settings = Settings::from_env().map_err(Error::Argument)?;
    if a.send && a.ledger.is_none() {
        return Err(Error::Argument(
            "--send needs --ledger PATH: the ledger is what makes a second run send nothing twice (keep it between scheduled runs; see docs/notify.md)".into(),
        ));
    }
    let templates = templates(a.templates)?;
    let (session, run) = prepare(
        a.tree,
        a.period,
        a.baseline,
        a.trend_periods,
        a.search,
        None,
    )?;
    let g = &session.graph;
    let set_for = |dims: &[crate::spec::model::Located<String>]| {
        let dims: Vec<String> = dims.iter().map(|d| d.value.clone()).collect();
        let root = without_dimensions(&run.root, &dims);
        let companions: Vec<_> = run
            .companions
            .iter()
            .map(|c| c.as_ref().map(|w| without_dimensions(w, &dims)))
            .collect();
        let impact = run
            .impact
            .as_ref()
            .map(|r| crate::report::redact::impact_without_dimensions(r, &dims));
        ReportSet::new(&Inputs {
            graph: g,
            root: &root,
            companions: &companions,
            history: &run.history,
            provenance: run.provenance.clone(),
            only_owner: None,
            impact: impact.as_ref(),
        })
    };
    // A channel with nothing to redact delivers the full set.
    let redact = &g.spec.notify.redact;
    let full = set_for(&[]);
    let own =
        |dims: &[crate::spec::model::Located<String>]| (!dims.is_empty()).then(|| set_for(dims));
    let (email, slack, webhook) = (own(&redact.email), own(&redact.slack), own(&redact.webhook));
    let end = chrono::DateTime::parse_from_rfc3339(&run.root.current.end)
        .map_err(|e| Error::Runtime(format!("the period's end does not parse: {e}")))?;
    let last_day = (end - chrono::TimeDelta::seconds(1)).date_naive();
    let selection = select(g, &full, &run.root, last_day);
    let period = (
        run.root.current.label.as_str(),
        run.root.baseline.label.as_str(),
    );
    let sets = Sets {
        email: email.as_ref().unwrap_or(&full),
        slack: slack.as_ref().unwrap_or(&full),
        webhook: webhook.as_ref().unwrap_or(&full),
    };
    let msgs = messages(g, &selection, &sets);
    let route = match a.outbox {
        Some(d) => Route::Outbox(d.to_path_buf()),
        None => Route::Network,
    };

    let mut out = format!(
        "{} {} vs {}: {} message(s) for {} owner(s){}\n",
        escape(&g.spec.name),
        period.0,
        period.1,
        msgs.len(),
        selection.notices.len(),
        if a.send {
            ""
        } else {
            " (dry run: nothing is sent; add --send)"
        }
    );
    let mut quiet: Vec<String> = selection
        .quiet
        .iter()
        .map(|q| format!("no message     {}: {}", q.owner, q.why))
        .collect();
    for n in &selection.notices {
        if !msgs.iter().any(|m| m.owner == n.owner) {
            quiet.push(format!(
                "no message     {}: selected ({} reason(s)), but {} has no e-mail, Slack or webhook in the tree",
                n.owner,
                n.reasons.len(),
                n.recipient
            ));
        }
    }
    if !a.send {
        let ledger = a
            .ledger
            .map(Ledger::read)
            .transpose()
            .map_err(Error::Runtime)?;
        for l in dry_run(&msgs, &settings, &route, ledger.as_ref())
            .iter()
            .chain(&quiet)
        {
            out.push_str(&escape(&settings.scrub(l)));
            out.push('\n');
        }
        return Ok(out);
    }
    let path = a.ledger.unwrap_or(Path::new(""));
    let mut ledger = Ledger::open(path).map_err(Error::Runtime)?;
    if ledger.repaired {
        eprintln!(
            "warning: the ledger's last record was cut short by an earlier crash and was dropped"
        );
    }
    let warn = |s: &str| eprintln!("{}", escape(s));
    let runner = Run {
        settings: &settings,
        route: &route,
        templates: &templates,
        retries: a.retries,
        outbox_date: end.to_rfc2822(),
        pause: Pause::from_env(),
        warn: &warn,
    };
    let summary = runner.deliver(&msgs, &mut ledger);
    for l in summary.lines.iter().chain(&quiet) {
        out.push_str(&escape(&settings.scrub(l)));
        out.push('\n');
    }
    out.push_str(&format!("{}\n", summary.totals()));
    if !summary.failed.is_empty() {
        // The fallback owner hears about what failed (through what still works).
        let failed: Vec<String> = summary.failed.iter().map(|f| settings.scrub(f)).collect();
        let tell = failure_messages(g, &failed, &full.overview);
        if !tell.is_empty() {
            let s = runner.deliver(&tell, &mut ledger);
            out.push_str("told the fallback owner:\n");
            for l in &s.lines {
                out.push_str(&escape(&settings.scrub(l)));
                out.push('\n');
            }
        }
    }
    if summary.failed.is_empty() {
        Ok(out)
    } else {
        Err(Error::Delivery(out))
    }
}

/// What the ledger holds for a period (or all), one line per slot, its latest state.
fn status(path: &Path, period: Option<&str>) -> Outcome {
    let ledger = Ledger::read(path).map_err(Error::Runtime)?;
    let mut latest: Vec<&crate::delivery::ledger::Record> = Vec::new();
    for r in ledger.records() {
        if period.is_some_and(|p| p != r.period) {
            continue;
        }
        match latest.iter_mut().find(|x| x.slot == r.slot) {
            Some(x) => *x = r,
            None => latest.push(r),
        }
    }
    let mut out = format!(
        "{}: {} delivery record(s){}\n",
        escape(&path.display().to_string()),
        ledger.records().len(),
        period.map_or(String::new(), |p| format!(
            "; {} slot(s) for {}",
            latest.len(),
            escape(p)
        ))
    );
    for r in latest {
        let state = match r.state {
            State::Sent if r.update => "sent update",
            State::Sent => "sent",
            State::Pending => "interrupted",
            State::Failed => "failed",
        };
        let err = r
            .error
            .as_deref()
            .map_or(String::new(), |e| format!(": {e}"));
        out.push_str(&escape(&format!(
            "{state:<12} {} vs {}  {:<7} {} → {} via {} (id {}, {} attempt(s){}){err}",
            r.period,
            r.baseline,
            r.channel,
            r.owner,
            r.target,
            r.via,
            r.id,
            r.attempts,
            if r.at.is_empty() {
                String::new()
            } else {
                format!(", {}", r.at)
            }
        )));
        out.push('\n');
    }
    Ok(out)
}
