//! How long rendering owner reports takes once the tree is evaluated: a tree with 100 owners
//! (each owning one branch of the root) over the bundled example, rendered to every format
//! in memory. Run it with
//!
//!     cargo bench --bench report_render --profile dev      # or without --profile (release)
//!
//! It prints the evaluation time (explaining the root and reading the history; not what is
//! measured), then the time to build the report model and render all pages, best and median
//! of 10 runs. Figures are in docs/performance.md.

use std::path::PathBuf;
use std::time::Instant;

use metrictree::report::pack::{Inputs, ReportSet};
use metrictree::report::render::{Format, Templates};
use metrictree::session::{ReportRequest, Session, Warn, WhyRequest, load_tree};

const OWNERS: usize = 100;

fn tree() -> String {
    let mut y = String::from(
        "version: 1\nname: hundred\ntitle: A hundred owners\nroot: rate\ngrain: week\ntimezone: Europe/Berlin\nowners:\n",
    );
    for k in 0..OWNERS {
        y.push_str(&format!(
            "  team_{k}: {{name: Team {k}, email: team{k}@example.com}}\n"
        ));
    }
    y.push_str("dimensions:\n  channel: {label: Channel}\n  tier: {label: Tier}\n");
    y.push_str("sources:\n  conversations:\n    file: ../../examples/support/conversations.csv\n    time: created_at\n    dimensions: {channel: channel, tier: tier}\n");
    y.push_str("nodes:\n  rate:\n    label: Resolved conversations\n    unit: percent\n    owner: team_0\n    direction: higher_is_better\n    sum: [");
    y.push_str(
        &(0..OWNERS)
            .map(|k| format!("b_{k}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    y.push_str("]\n  conversations: {unit: count, owner: team_0, measure: {source: conversations, agg: count}}\n");
    for k in 0..OWNERS {
        y.push_str(&format!(
            "  b_{k}:\n    label: Bucket {k}\n    unit: percent\n    owner: team_{k}\n    direction: higher_is_better\n    ratio: {{numerator: n_{k}, denominator: conversations}}\n  n_{k}: {{unit: count, measure: {{source: conversations, agg: count, filter: \"conversation_id % {OWNERS} = {k}\"}}}}\n"
        ));
    }
    y
}

#[allow(clippy::print_stdout)] // a benchmark reports on stdout
fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/bench-report");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hundred.yaml");
    std::fs::write(&path, tree()).unwrap();

    let t0 = Instant::now();
    let loaded = load_tree(&path, None).unwrap_or_else(|e| panic!("{}", e.message()));
    let session = Session::open(loaded, &Default::default(), Warn::stderr()).unwrap();
    let req = ReportRequest {
        why: WhyRequest {
            period: None,
            baseline: None,
            node: None,
            by: vec!["channel".into(), "tier".into()],
            depth: 1,
            min_support: 0.01,
            min_count: 30,
            top: 3,
            fdr: 0.05,
            history: 8,
            compare: None,
        },
        trend_periods: 12,
    };
    let run = session
        .report(&req, &path)
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let eval = t0.elapsed();
    let templates = Templates::load(None).unwrap();

    let mut times = Vec::new();
    let mut bytes = 0;
    let mut pages = 0;
    for _ in 0..10 {
        let t = Instant::now();
        let set = ReportSet::new(&Inputs {
            graph: &session.graph,
            root: &run.root,
            companions: &run.companions,
            history: &run.history,
            provenance: run.provenance.clone(),
            only_owner: None,
            impact: run.impact.as_ref(),
        });
        bytes = 0;
        pages = 0;
        for f in [Format::Html, Format::Md, Format::Txt, Format::Json] {
            for p in std::iter::once(&set.overview).chain(&set.owners) {
                let kind = if p.kind == "overview" {
                    "overview"
                } else {
                    "owner"
                };
                bytes += templates.render(f, kind, p).unwrap().len();
                pages += 1;
            }
            bytes += templates.render(f, "index", &set.index).unwrap().len();
            pages += 1;
        }
        for p in &set.owners {
            bytes += templates
                .render(Format::Html, "owner.email", p)
                .unwrap()
                .len();
            pages += 1;
        }
        assert_eq!(set.owners.len(), OWNERS);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{OWNERS} owners: evaluation (not measured) {:.2} s; model + rendering of {pages} pages ({:.1} MB): best {:.3} s, median {:.3} s",
        eval.as_secs_f64(),
        bytes as f64 / 1e6,
        times[0],
        times[times.len() / 2]
    );
}
