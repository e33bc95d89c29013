//! `metrictree report` and `history`: every page in every format on the bundled example, the
//! planted change leading its owner's report, byte-identical reruns, hostile names rendered
//! harmlessly in HTML, SVG and Markdown, and `history` agreeing with `eval` from one read.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::{TempDir, mt};

/// Every file in a directory, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn json(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(&files[name]).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text(files: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(files[name].clone()).unwrap()
}

#[test]
fn report_writes_every_page_in_every_format_and_leads_with_the_planted_change() {
    let out = TempDir::new("report");
    let dir = out.0.join("r");
    let run = mt(&[
        "report",
        "trees/handoff.yaml",
        "--out",
        dir.to_str().unwrap(),
    ]);
    run.ok();
    let f = files(&dir);
    let owners = [
        "support_leadership",
        "support_ops",
        "enablement",
        "team_leads",
        "channel_owners",
        "cx_analytics",
    ];
    for ext in ["html", "md", "txt", "json"] {
        for page in ["overview", "index"] {
            assert!(
                f.contains_key(&format!("{page}.{ext}")),
                "{page}.{ext}: {:?}",
                f.keys()
            );
        }
        for o in owners {
            assert!(
                f.contains_key(&format!("owner-{o}.{ext}")),
                "owner-{o}.{ext}"
            );
        }
    }
    for o in owners {
        assert!(f.contains_key(&format!("owner-{o}.email.html")));
    }
    assert_eq!(f.len(), 2 * 4 + owners.len() * 5, "{:?}", f.keys());

    // The overview's headline names the planted change and who owns it.
    let ov = json(&f, "overview.json");
    let h = ov["headline"].as_str().unwrap();
    assert!(
        h.starts_with("Handoff rate rose from 23.1% to 28.2% (+5.1 points), beyond week-to-week noise; most of it is routing handoffs from billing × billing_chat_v2 (+3.9 points)"),
        "{h}"
    );
    assert!(h.contains("owned by Support Operations"), "{h}");
    // No share above 100 %: offsets are said as points.
    assert!(
        h.contains("offset by −0.6 points from channel moves"),
        "{h}"
    );
    let lines = ov["branch_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 5);
    for l in lines {
        let l = l.as_str().unwrap();
        assert!(
            !l.contains('%') && (l.contains("added +") || l.contains("offset −")),
            "{l}"
        );
    }

    // The routing owner's report leads with routing, its question built from the data.
    let ops = json(&f, "owner-support_ops.json");
    let first = &ops["nodes"][0];
    assert_eq!(first["id"], "routing_rate");
    assert_eq!(first["moved"], true);
    let q = first["question"].as_str().unwrap();
    assert_eq!(
        q,
        "Routing handoffs from chat × billing rose from 11.4% to 44.1%: check the routing rules and queues that send these conversations"
    );
    // Each owner sees only the nodes they are accountable for; an owner whose nodes stayed
    // within noise gets "no material change".
    for o in owners {
        let p = json(&f, &format!("owner-{o}.json"));
        let nodes = p["nodes"].as_array().unwrap();
        assert!(!nodes.is_empty());
        for n in nodes {
            assert_eq!(n["owner"]["id"], o, "{o}: {}", n["id"]);
        }
        let moved = nodes.iter().any(|n| n["moved"] == true);
        assert_eq!(p["moved"], moved);
        let headline = p["headline"].as_str().unwrap();
        assert_eq!(
            headline.starts_with("No material change"),
            !moved,
            "{o}: {headline}"
        );
    }
    let en = json(&f, "owner-enablement.json");
    assert!(
        en["headline"]
            .as_str()
            .unwrap()
            .starts_with("No material change for Enablement")
    );

    // Targets, bands and industry ranges where the tree declares them.
    let root = &ov["nodes"][0];
    assert_eq!(root["target"]["met"], false);
    assert_eq!(root["band"], "balanced with specialists (15.0% to 30.0%)");
    let companion = |id: &str| {
        ov["companions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("companion {id}"))
    };
    let tc = companion("transfer_completion_rate");
    assert!(
        tc["benchmark"]
            .as_str()
            .unwrap()
            .contains("SaaS B2B (78.0% to 85.0%; a guide, not a target)"),
        "{}",
        tc["benchmark"]
    );
    // Durations in minutes, not raw seconds.
    let wait = companion("mean_pickup_wait");
    assert!(
        wait["current_text"].as_str().unwrap().ends_with(" min"),
        "{wait}"
    );

    // Sparklines cover 12 weeks and match `history`.
    let hist = mt(&[
        "history",
        "trees/handoff.yaml",
        "--node",
        "handoff_rate",
        "--format",
        "json",
    ])
    .ok()
    .json();
    assert_eq!(root["history"], hist["nodes"][0]["values"]);
    assert_eq!(root["history"].as_array().unwrap().len(), 12);

    // Provenance: the tree's hash, the data files' hashes, the periods.
    let p = &ov["provenance"];
    assert_eq!(p["current"], "2026-W46");
    assert_eq!(p["baseline"], "2026-W45");
    let tree_hash =
        sha256_hex(&std::fs::read(crate::util::root().join("trees/handoff.yaml")).unwrap());
    assert_eq!(p["tree_sha256"], tree_hash.as_str());
    let data = p["data"].as_array().unwrap();
    let conv = data
        .iter()
        .find(|d| d["source"] == "conversations_raw")
        .unwrap();
    let bytes =
        std::fs::read(crate::util::root().join("examples/support/conversations.csv")).unwrap();
    assert_eq!(conv["bytes"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(conv["sha256"], sha256_hex(&bytes).as_str());

    // The JSON matches the shipped schema, and every key it lists is emitted.
    let all: Vec<Value> = f
        .keys()
        .filter(|k| k.ends_with(".json"))
        .map(|k| json(&f, k))
        .collect();
    crate::schema::assert_every_key_emitted("report.schema.json", &all);

    // HTML: charts inline, no script, no external resource; one <svg> per chart the model
    // counts.
    for (name, bytes) in &f {
        if name.ends_with(".html") {
            let h = String::from_utf8(bytes.clone()).unwrap();
            assert!(!h.to_lowercase().contains("<script"), "{name}");
            assert!(
                !h.contains("src=\"http") && !h.contains("href=\"http"),
                "{name}"
            );
        }
    }
    let html = text(&f, "overview.html");
    assert_eq!(
        html.matches("<svg").count() as u64,
        ov["chart_count"].as_u64().unwrap()
    );
    // Markdown carries the tree as Mermaid.
    assert!(text(&f, "overview.md").contains("```mermaid\nflowchart TD\n"));

    // --owner writes that owner's report and the index only.
    let one = out.0.join("one");
    mt(&[
        "report",
        "trees/handoff.yaml",
        "--out",
        one.to_str().unwrap(),
        "--owner",
        "team_leads",
        "--format",
        "txt",
    ])
    .ok();
    let got: Vec<String> = files(&one).into_keys().collect();
    assert_eq!(got, vec!["index.txt", "owner-team_leads.txt"]);
    mt(&[
        "report",
        "trees/handoff.yaml",
        "--out",
        one.to_str().unwrap(),
        "--owner",
        "team_lead",
    ])
    .fails_with(2)
    .stderr_has("unknown owner `team_lead`");
    mt(&[
        "report",
        "trees/handoff.yaml",
        "--out",
        one.to_str().unwrap(),
        "--format",
        "pdf",
    ])
    .fails_with(2)
    .stderr_has("unknown report format `pdf`");
}

#[test]
fn templates_can_be_overridden_and_broken_ones_are_named() {
    let tmp = TempDir::new("report-templates");
    std::fs::create_dir_all(tmp.0.join("t/txt")).unwrap();
    std::fs::write(
        tmp.0.join("t/txt/owner.txt"),
        "OWN {{ owner.name }}: {{ headline }}\n{% for c in nodes %}{{ c.label }} {{ c.change_text }}\n{% endfor %}",
    )
    .unwrap();
    let out = tmp.0.join("out");
    let t = tmp.0.join("t");
    mt(&[
        "report",
        "trees/handoff.yaml",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "txt",
        "--templates",
        t.to_str().unwrap(),
        "--owner",
        "support_ops",
    ])
    .ok();
    let got = std::fs::read_to_string(out.join("owner-support_ops.txt")).unwrap();
    assert!(
        got.starts_with("OWN Support Operations: Routing handoffs rose from 6.4% to 10.3%"),
        "{got}"
    );
    assert!(got.contains("\nRouting handoffs +3.9 points\n"), "{got}");
    // The built-in index is used where the directory has none.
    assert!(
        std::fs::read_to_string(out.join("index.txt"))
            .unwrap()
            .contains("owner-support_ops.txt")
    );

    std::fs::write(
        tmp.0.join("t/txt/owner.txt"),
        "{% for c in nodes %}{{ c.label }",
    )
    .unwrap();
    mt(&[
        "report",
        "trees/handoff.yaml",
        "--out",
        out.to_str().unwrap(),
        "--templates",
        t.to_str().unwrap(),
    ])
    .fails_with(2)
    .stderr_has("txt/owner.txt");
    mt(&[
        "report",
        "trees/handoff.yaml",
        "--out",
        out.to_str().unwrap(),
        "--templates",
        "no-such-dir",
    ])
    .fails_with(2)
    .stderr_has("`no-such-dir` is not a directory");
}

fn sha256_hex(b: &[u8]) -> String {
    metrictree::engine::fingerprint::hash_bytes(b)
}

#[test]
fn two_runs_write_byte_identical_reports() {
    let out = TempDir::new("report-twice");
    let a = out.0.join("a");
    let b = out.0.join("b");
    mt(&["report", "trees/handoff.yaml", "--out", a.to_str().unwrap()]).ok();
    mt(&["report", "trees/handoff.yaml", "--out", b.to_str().unwrap()]).ok();
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between runs");
    }
}

/// The hostile fixture's reports in `formats`, written to `dir/h`; returns that directory.
pub fn hostile_report(dir: &Path, formats: &str) -> std::path::PathBuf {
    let tree = hostile_fixture(dir);
    let out = dir.join("h");
    mt(&[
        "report",
        tree.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--period",
        "2026-W45",
        "--history",
        "0",
        "--min-count",
        "0",
        "--format",
        formats,
    ])
    .ok();
    out
}

/// A tree whose owners, labels, title, question and data values try to inject markup.
fn hostile_fixture(dir: &Path) -> std::path::PathBuf {
    let cats = [
        "<script>alert(1)</script>",
        "a&b \"c\" 'd'",
        "</svg><img src=x onerror=alert(2)>",
        "plain",
    ];
    let mut csv = String::from("id,created_at,category,moved\n");
    let mut id = 0;
    for (week, day) in [(0, "2026-10-27"), (1, "2026-11-03")] {
        for (k, c) in cats.iter().enumerate() {
            for i in 0..120 {
                // The first category's rate jumps from 10 % to 60 % in the second week.
                let p = if k == 0 && week == 1 { 60 } else { 10 };
                csv.push_str(&format!(
                    "{id},{day} 10:{:02}:00,\"{}\",{}\n",
                    i % 60,
                    c.replace('"', "\"\""),
                    (i * 100 / 120) < p
                ));
                id += 1;
            }
        }
    }
    std::fs::write(dir.join("conv.csv"), csv).unwrap();
    let tree = r#"version: 1
title: "Board <script>alert(3)</script> & \"co\""
root: rate
grain: week
timezone: UTC
owners:
  ops: {name: "Ops </svg><script>alert(4)</script> & 'x' \"y\""}
  cx: {name: "CX <img src=x onerror=alert(5)> `code` [link](http://evil)"}
dimensions:
  category: {label: "Cat <b>"}
sources:
  conv: {file: conv.csv, time: created_at, dimensions: {category: category}}
nodes:
  rate:
    label: "Rate </svg><script>alert(6)</script>"
    unit: percent
    owner: ops
    direction: lower_is_better
    target: 0.2
    question: "check {segment} <script>alert(7)</script> & \"co\""
    ratio: {numerator: moved, denominator: total}
  moved: {label: "Moved # heading", unit: count, owner: ops, measure: {source: conv, agg: count, filter: moved}}
  total: {label: "All & <i> %%{init: {'theme':'dark'}}%%", unit: count, owner: cx, measure: {source: conv, agg: count}}
"#;
    let p = dir.join("hostile.yaml");
    std::fs::write(&p, tree).unwrap();
    p
}

#[test]
fn hostile_names_render_harmlessly_in_html_svg_and_markdown() {
    let tmp = TempDir::new("report-hostile");
    let out = hostile_report(&tmp.0, "html,md,txt,json");
    let f = files(&out);
    let ov = json(&f, "overview.json");
    // The data value reached the model intact...
    assert!(
        ov["insights"]
            .to_string()
            .contains("<script>alert(1)</script>"),
        "{}",
        ov["insights"]
    );
    for (name, bytes) in &f {
        let s = String::from_utf8(bytes.clone()).unwrap();
        if name.ends_with(".html") {
            // ...and every page shows it as text, never as markup.
            let lower = s.to_lowercase();
            assert!(!lower.contains("<script"), "{name}");
            assert!(!lower.contains("<img"), "{name}");
            assert!(!lower.contains("<i>"), "{name}");
            assert_eq!(
                s.matches("<svg").count(),
                s.matches("</svg>").count(),
                "{name}"
            );
            if name == "overview.html" {
                assert!(
                    s.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                    "{name}"
                );
                assert!(s.contains("Ops &lt;/svg&gt;&lt;script&gt;alert(4)&lt;/script&gt; &amp; &#39;x&#39; &quot;y&quot;"), "{name}");
            }
        }
        if name.ends_with(".md") {
            assert!(
                !s.contains("<script") && !s.contains("<img") && !s.contains("</svg>"),
                "{name}"
            );
            assert!(
                !s.contains("[link](http"),
                "{name}: a link from the tree became a link"
            );
            assert!(
                !s.contains("\n# heading") && !s.contains("oved # heading"),
                "{name}"
            );
            // Mermaid labels stay inside their quotes, and carry no directive.
            if name == "overview.md" {
                let m = s
                    .split("```mermaid\n")
                    .nth(1)
                    .expect("the overview has a Mermaid block");
                let m = m.split("```").next().unwrap();
                assert!(m.contains("All #38; #60;i#62; #37;#37;#123;init"), "{m}");
                assert!(!m.contains("%%"), "{m}");
                assert_eq!(m.lines().filter(|l| l.contains("[\"")).count(), 3, "{m}");
            }
            if let Some(m) = s.split("```mermaid\n").nth(1) {
                for line in m.split("```").next().unwrap().lines().skip(1) {
                    let line = line.trim();
                    if line.contains("[\"") {
                        assert_eq!(line.matches('"').count(), 2, "{line}");
                        assert!(!line.contains('<') || !line.contains("<script"), "{line}");
                    }
                }
            }
        }
    }
    // The question keeps the author's text and the data's, escaped.
    let ops = json(&f, "owner-ops.json");
    let q = ops["nodes"][0]["question"].as_str().unwrap();
    assert_eq!(
        q,
        "check <script>alert(1)</script> (category) <script>alert(7)</script> & \"co\""
    );
    let html = text(&f, "owner-ops.html");
    assert!(html.contains("check &lt;script&gt;alert(1)&lt;/script&gt; (category) &lt;script&gt;alert(7)&lt;/script&gt; &amp; &quot;co&quot;"));
}

#[test]
fn history_matches_eval_for_every_period_from_one_read() {
    let j = mt(&[
        "history",
        "trees/handoff.yaml",
        "--periods",
        "4",
        "--by",
        "channel",
        "--format",
        "json",
    ])
    .ok()
    .json();
    let periods = j["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 4);
    for (k, p) in periods.iter().enumerate() {
        let label = p["label"].as_str().unwrap();
        let e = mt(&[
            "eval",
            "trees/handoff.yaml",
            "--period",
            label,
            "--by",
            "channel",
            "--format",
            "json",
        ])
        .ok()
        .json();
        for n in j["nodes"].as_array().unwrap() {
            let en = crate::util::node(&e, n["id"].as_str().unwrap());
            assert_eq!(n["values"][k], en["value"], "{} in {label}", n["id"]);
            assert_eq!(n["statuses"][k], en["status"], "{} in {label}", n["id"]);
            let (hs, es) = (n["segments"].as_array(), en["segments"].as_array());
            assert_eq!(hs.map(Vec::len), es.map(Vec::len), "{} in {label}", n["id"]);
            for (s, es) in hs.into_iter().flatten().zip(es.into_iter().flatten()) {
                assert_eq!(s["value_of"], es["value_of"]);
                assert_eq!(
                    s["values"][k], es["value"],
                    "{} {} in {label}",
                    n["id"], s["value_of"]
                );
            }
        }
    }
    crate::schema::assert_every_key_emitted("history.schema.json", std::slice::from_ref(&j));

    // One read of each source for 12 periods, as for one.
    let reads = |n: u32| {
        let loaded =
            metrictree::session::load_tree(&crate::util::root().join("trees/handoff.yaml"), None)
                .unwrap();
        let access = metrictree::engine::Access::default();
        let s = metrictree::session::Session::open(
            loaded,
            &access,
            metrictree::session::Warn::stderr(),
        )
        .unwrap();
        let before = s.engine.source_reads();
        s.history(None, n, None).unwrap();
        s.engine.source_reads() - before
    };
    let one = reads(1);
    assert!(one >= 1);
    assert_eq!(reads(12), one, "history read the data more than once");

    // CSV: one row per node, segment and period, spreadsheet-safe.
    let csv = mt(&[
        "history",
        "trees/handoff.yaml",
        "--periods",
        "2",
        "--node",
        "routing_rate",
        "--format",
        "csv",
    ])
    .ok()
    .stdout
    .clone();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "period,start,end,complete,node,label,segment,value,status"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[2].starts_with("2026-W46,"), "{csv}");
}

#[test]
fn report_settings_are_checked_with_positions() {
    let tmp = TempDir::new("report-settings");
    let base = std::fs::read_to_string(crate::util::root().join("trees/handoff.yaml")).unwrap();
    let cases = [
        (
            base.replace(
                "check the routing rules and queues",
                "check {rules} and queues",
            ),
            "unknown placeholder `{rules}`",
        ),
        (
            base.replace(
                "{label: balanced with specialists, below: 0.30}",
                "{label: balanced with specialists, below: 0.10}",
            ),
            "bands must be listed lowest first",
        ),
        (
            base.replace(
                "      - {label: \"lean, frontline-resolved\", below: 0.15}\n",
                "      - {label: \"lean, frontline-resolved\"}\n",
            ),
            "only the last band may omit `below`",
        ),
        (
            base.replace(
                "    benchmark: transfer_completion_rate\n",
                "    benchmark: average_handoff_time\n",
            ),
            "cannot carry this benchmark",
        ),
        (
            base.replace(
                "industry: saas_b2b",
                "industry: saas_b2b\nreport_base_url: \"https://user:pw@reports.example.com/\"",
            ),
            "`report_base_url` is not a plain http(s) URL",
        ),
        (
            base.replace("industry: saas_b2b", "industry: saas"),
            "`saas` is not a valid industry",
        ),
        (
            base.replace("industry: saas_b2b", "industry: saas_b2b\nlocale: xx"),
            "`xx` is not a valid locale",
        ),
    ];
    for (k, (text, want)) in cases.iter().enumerate() {
        assert_ne!(text, &base, "case {k} did not change the tree");
        let p = tmp.write(&format!("t{k}.yaml"), text);
        let r = mt(&["check", "--no-data", p.to_str().unwrap()]);
        r.fails_with(1).stderr_has(want);
        assert!(r.stderr.contains(&format!("t{k}.yaml:")), "{}", r.stderr);
    }
    // The placeholder is pointed at: line and column of `{rules}` in the question.
    let (line, text) = cases[0]
        .0
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("{rules}"))
        .unwrap();
    let col = text.find("{rules}").unwrap() + 2;
    let p = tmp.write("where.yaml", &cases[0].0);
    mt(&["check", "--no-data", p.to_str().unwrap()])
        .fails_with(1)
        .stderr_has(&format!("where.yaml:{}:{col}", line + 1));
}

/// A report explains the root and every companion over the same periods: each source is read
/// once for them, once more for the trend lines' periods, and once for the actions' impact
/// (every period of the data).
#[test]
fn a_report_reads_each_source_once_per_period_set() {
    use metrictree::session::{ReportRequest, Session, Warn, WhyRequest, load_tree};
    let tree = crate::util::root().join("trees/handoff.yaml");
    let open = || {
        let loaded = load_tree(&tree, None).unwrap();
        Session::open(loaded, &Default::default(), Warn::stderr()).unwrap()
    };
    let why = WhyRequest {
        period: None,
        baseline: None,
        node: None,
        by: Vec::new(),
        depth: 2,
        min_support: 0.01,
        min_count: 30,
        top: 3,
        fdr: 0.05,
        history: 8,
        compare: None,
    };
    // One explanation, and one history, each in a session of its own.
    let s = open();
    let plan = metrictree::session::plan_why_in(&s.graph, &why).unwrap();
    s.explain(&plan).unwrap();
    let explain_reads = s.engine.source_reads();
    let s = open();
    s.history(None, 12, None).unwrap();
    let history_reads = s.engine.source_reads();
    // And the actions' impact, over every period of the data.
    let s = open();
    let text = std::fs::read_to_string(&tree).unwrap();
    let (actions, _) =
        metrictree::session::actions_of(&s.graph, &tree, &text, &Default::default(), None).unwrap();
    assert!(!actions.is_empty());
    s.impact(actions, None, &Default::default()).unwrap();
    let impact_reads = s.engine.source_reads();
    assert!(explain_reads > 0 && history_reads > 0 && impact_reads > 0);

    let s = open();
    let run = s
        .report(
            &ReportRequest {
                why,
                trend_periods: 12,
            },
            &tree,
        )
        .unwrap();
    assert_eq!(run.companions.len(), s.graph.companions.len());
    assert!(run.companions.iter().all(Option::is_some));
    assert_eq!(
        s.engine.source_reads(),
        explain_reads + history_reads + impact_reads,
        "the root and {} companions read the data more than once",
        run.companions.len()
    );
}
