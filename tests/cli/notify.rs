//! `notify`: who is told (the rules on the bundled example and on variants of its tree), and
//! delivery against real servers — an SMTP server (aiosmtpd) and an HTTP server, both in
//! `tests/support/delivery_sink.py` on ports the kernel picks — counted at the servers:
//! exactly once across reruns, updates, retries, permanent failures, a killed run and two
//! runs at once; secrets never leave the process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::schema::assert_valid_against;
use crate::util::{Run, TempDir, mt_env, root};

/// The search used where the test is about delivery, not the explanation (faster).
const LIGHT: &[&str] = &["--depth", "1", "--by", "routing_rule,queue"];
const SENTINEL: &str = "SENTINEL-7f3a";

/// The delivery sink: killed when dropped, also when a test fails.
struct Sink {
    child: Child,
    smtp: u16,
    http: u16,
    log: PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> &'static str {
    // Debian's python3-aiosmtpd is installed for the system interpreter.
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

impl Sink {
    fn start(dir: &TempDir, faults: &[&str]) -> Sink {
        let log = dir.0.join("sink.jsonl");
        let mut child = Command::new(python())
            .arg(root().join("tests/support/delivery_sink.py"))
            .arg("--log")
            .arg(&log)
            .args(faults)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (install python3-aiosmtpd: .ci/run does)");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let ports: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the delivery sink did not start (is python3-aiosmtpd installed? `apt-get install python3-aiosmtpd`); it said {line:?}"
                );
            }
        };
        Sink {
            child,
            smtp: ports["smtp"].as_u64().unwrap() as u16,
            http: ports["http"].as_u64().unwrap() as u16,
            log,
        }
    }

    fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Messages the SMTP server accepted, as (recipient, record).
    fn mails(&self) -> Vec<(String, Value)> {
        self.records()
            .into_iter()
            .filter(|r| r["kind"] == "smtp")
            .map(|r| (r["rcpt_tos"][0].as_str().unwrap().to_string(), r))
            .collect()
    }

    /// POSTs answered with 2xx, by path prefix.
    fn posts(&self, prefix: &str) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| {
                r["kind"] == "http"
                    && r["status"].as_u64().unwrap() < 300
                    && r["path"].as_str().unwrap().starts_with(prefix)
            })
            .collect()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http)
    }

    /// The operator's settings pointing at this sink (each URL and the password hold a
    /// sentinel that must never be printed or written).
    fn operator(&self) -> Vec<(String, String)> {
        vec![
            (
                "METRICTREE_SMTP_URL".into(),
                format!("smtp://ops-user:{SENTINEL}-pass@127.0.0.1:{}", self.smtp),
            ),
            (
                "METRICTREE_MAIL_FROM".into(),
                "metrictree@example.com".into(),
            ),
            ("METRICTREE_ALLOW_DOMAINS".into(), "example.com".into()),
            (
                "METRICTREE_SLACK_SUPPORT_LEADERSHIP".into(),
                self.url(&format!("/slack/leadership/{SENTINEL}-1")),
            ),
            (
                "METRICTREE_SLACK_SUPPORT_OPS".into(),
                self.url(&format!("/slack/ops/{SENTINEL}-2")),
            ),
            (
                "METRICTREE_WEBHOOK_SUPPORT_OPS".into(),
                self.url(&format!("/hook/ops/{SENTINEL}-3")),
            ),
        ]
    }
}

fn auth() -> String {
    format!("--smtp-auth=ops-user:{SENTINEL}-pass")
}

fn notify(tree: &Path, extra: &[&str], env: &[(String, String)]) -> Run {
    let mut args = vec!["notify", tree.to_str().unwrap()];
    args.extend_from_slice(extra);
    let env: Vec<(&str, &str)> = env.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    mt_env(&args, &env)
}

fn handoff() -> PathBuf {
    root().join("trees/handoff.yaml")
}

/// The flagship tree with `edit` applied, in `dir`, reading the bundled data by name.
fn variant(dir: &TempDir, name: &str, edit: impl Fn(String) -> String) -> (PathBuf, String) {
    let text = std::fs::read_to_string(handoff()).unwrap();
    let changed = edit(text.clone());
    assert_ne!(changed, text, "the edit changed nothing");
    let p = dir.write(name, &changed);
    // The tree's actions file goes beside it, as in trees/.
    dir.write(
        "handoff.actions.yaml",
        &std::fs::read_to_string(root().join("trees/handoff.actions.yaml")).unwrap(),
    );
    (
        p,
        root()
            .join("examples/support")
            .to_str()
            .unwrap()
            .to_string(),
    )
}

/// (word, channel, owner, target) of each message line; "no message" lines as (word, owner).
fn lines(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(1)
        .filter(|l| !l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let (word, rest) = l.split_at(15.min(l.len()));
            let mut v = vec![word.trim().to_string()];
            let head = rest
                .split(": ")
                .next()
                .unwrap_or("")
                .split(" (")
                .next()
                .unwrap_or("");
            v.extend(
                head.split_whitespace()
                    .filter(|w| *w != "→")
                    .map(str::to_string),
            );
            v
        })
        .collect()
}

/// A JSON string's text.
fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// The first message the SMTP server accepted for an address starting with `prefix`.
fn mail_to<'a>(mails: &'a [(String, Value)], prefix: &str) -> &'a Value {
    &mails
        .iter()
        .find(|(t, _)| t.starts_with(prefix))
        .unwrap_or_else(|| panic!("no mail to {prefix}…"))
        .1
}

fn no_secret(what: &str, text: &str) {
    assert!(!text.contains(SENTINEL), "{what} shows a secret:\n{text}");
}

#[test]
fn dry_run_names_the_routing_owner_and_the_digest_and_nobody_else() {
    // A dry run connects to nothing: any settings will do.
    let env: Vec<(String, String)> = vec![
        (
            "METRICTREE_SMTP_URL".into(),
            format!("smtp://u:{SENTINEL}@127.0.0.1:9"),
        ),
        (
            "METRICTREE_MAIL_FROM".into(),
            "metrictree@example.com".into(),
        ),
        ("METRICTREE_ALLOW_DOMAINS".into(), "example.com".into()),
        (
            "METRICTREE_SLACK_SUPPORT_LEADERSHIP".into(),
            format!("https://hooks.example.net/{SENTINEL}"),
        ),
        (
            "METRICTREE_SLACK_SUPPORT_OPS".into(),
            format!("https://hooks.example.net/{SENTINEL}/2"),
        ),
    ];
    let r = notify(&handoff(), &[], &env);
    r.ok();
    no_secret("the dry run", &(r.stdout.clone() + &r.stderr));
    assert!(
        r.stdout.lines().next().unwrap().contains("dry run"),
        "{}",
        r.stdout
    );
    let got = lines(&r.stdout);
    let want: Vec<Vec<&str>> = vec![
        vec![
            "would send",
            "email",
            "support_leadership",
            "head-of-support@example.com",
        ],
        vec![
            "would send",
            "slack",
            "support_leadership",
            "#support-leadership",
        ],
        vec![
            "would send",
            "email",
            "support_ops",
            "support-ops@example.com",
        ],
        vec!["would send", "slack", "support_ops", "#support-ops"],
        // The operator did not set METRICTREE_WEBHOOK_SUPPORT_OPS.
        vec!["not configured", "webhook", "support_ops", "support_ops"],
        vec!["no message", "enablement"],
        vec!["no message", "team_leads"],
        vec!["no message", "channel_owners"],
        vec!["no message", "cx_analytics"],
    ];
    assert_eq!(got, want, "{}", r.stdout);
    // The reasons: the planted routing change for its owner; the digest (and the companion
    // that went off target) for the root's owner.
    let ops = r
        .stdout
        .lines()
        .find(|l| l.contains("email   support_ops"))
        .unwrap();
    assert!(ops.contains("Routing handoffs moved beyond noise"), "{ops}");
    let lead = r
        .stdout
        .lines()
        .find(|l| l.contains("email   support_leadership"))
        .unwrap();
    assert!(
        lead.contains("digest") && lead.contains("went off target"),
        "{lead}"
    );
    assert!(r.stdout.contains("[set METRICTREE_WEBHOOK_SUPPORT_OPS]"));
}

#[test]
fn send_delivers_each_message_once_and_a_changed_report_as_an_update() {
    let d = TempDir::new("notify-send");
    let sink = Sink::start(&d, &[&auth()]);
    let env = sink.operator();
    let ledger = d.0.join("ledger.jsonl");
    let ledger_s = ledger.to_str().unwrap();
    let mut args = vec!["--send", "--ledger", ledger_s];
    args.extend_from_slice(LIGHT);

    let first = notify(&handoff(), &args, &env);
    first.ok();
    assert!(
        first
            .stdout
            .contains("5 sent (0 of them updates), 0 already sent"),
        "{}",
        first.stdout
    );

    // E-mail: one to each owner, multipart, ids as printed, authenticated.
    let mails = sink.mails();
    let mut to: Vec<&str> = mails.iter().map(|(t, _)| t.as_str()).collect();
    to.sort();
    assert_eq!(
        to,
        ["head-of-support@example.com", "support-ops@example.com"]
    );
    for (rcpt, m) in &mails {
        let h = &m["headers"];
        assert_eq!(m["mail_from"], "metrictree@example.com");
        assert_eq!(m["auth"], true, "the server saw no login");
        assert_eq!(h["To"], rcpt.as_str());
        assert!(
            h["Subject"]
                .as_str()
                .unwrap()
                .starts_with("Conversation handoff rate, 2026-W46"),
            "{h}"
        );
        assert_eq!(h["Auto-Submitted"], "auto-generated");
        let id = h["X-Metrictree-Delivery"].as_str().unwrap();
        assert_eq!(h["Message-ID"], format!("<{id}@metrictree.invalid>"));
        assert!(
            first.stdout.contains(&format!("(id {id}")),
            "{}",
            first.stdout
        );
        let text = m["parts"]["text/plain"].as_str().unwrap();
        let html = m["parts"]["text/html"].as_str().unwrap();
        assert!(text.starts_with("You get this because:"), "{text}");
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("You get this because"));
        assert!(!html.contains("<script") && !html.contains("<svg"));
    }
    let ops = mail_to(&mails, "support-ops");
    assert!(text(&ops["headers"]["Subject"]).contains("Routing handoffs rose"));
    assert!(text(&ops["parts"]["text/plain"]).contains("Routing handoffs moved beyond noise"));
    let lead = mail_to(&mails, "head-of");
    assert!(text(&lead["headers"]["Subject"]).contains("digest"));
    assert!(text(&lead["parts"]["text/plain"]).contains("Where the change came from"));

    // The generic webhook: schema-valid, the idempotency key is the payload's id.
    let hooks = sink.posts("/hook/ops/");
    assert_eq!(hooks.len(), 1);
    let body: Value = serde_json::from_str(hooks[0]["body"].as_str().unwrap()).unwrap();
    assert_valid_against("webhook.schema.json", &body, "the webhook payload");
    assert_eq!(hooks[0]["headers"]["idempotency-key"], body["id"]);
    assert_eq!(body["owner"]["id"], "support_ops");
    assert_eq!(body["kind"], "report");
    assert_eq!(body["reasons"][0]["node"], "routing_rate");
    // Slack: Block Kit within Slack's limits, tree text only as plain_text.
    for prefix in ["/slack/ops/", "/slack/leadership/"] {
        let posts = sink.posts(prefix);
        assert_eq!(posts.len(), 1, "{prefix}");
        let b: Value = serde_json::from_str(posts[0]["body"].as_str().unwrap()).unwrap();
        let blocks = b["blocks"].as_array().unwrap();
        assert!(blocks.len() <= 50 && blocks[0]["type"] == "header");
        assert!(text(&b["text"]).contains("2026-W46"));
        for bl in blocks {
            if let Some(t) = bl["text"].as_object() {
                assert_eq!(t["type"], "plain_text");
                assert!(t["text"].as_str().unwrap().chars().count() <= 3000);
            }
        }
        assert!(posts[0]["headers"].get("idempotency-key").is_none());
    }
    let ledger_text = std::fs::read_to_string(&ledger).unwrap();
    for (what, text) in [
        ("stdout", &first.stdout),
        ("stderr", &first.stderr),
        ("the ledger", &ledger_text),
    ] {
        no_secret(what, text);
    }

    // Again: nothing new reaches the servers.
    let before = sink.records().len();
    let again = notify(&handoff(), &args, &env);
    again.ok();
    assert!(
        again
            .stdout
            .contains("0 sent (0 of them updates), 5 already sent"),
        "{}",
        again.stdout
    );
    assert_eq!(
        sink.records().len(),
        before,
        "a second run delivered something"
    );
    let mut dry = vec!["--ledger", ledger_s];
    dry.extend_from_slice(LIGHT);
    let d2 = notify(&handoff(), &dry, &env);
    assert_eq!(
        d2.ok().stdout.matches("already sent").count(),
        5,
        "{}",
        d2.stdout
    );

    // The report changed for the same period (a clearer label): sent as updates that name
    // the message they replace.
    let t = TempDir::new("notify-update");
    let (tree, data) = variant(&t, "handoff.yaml", |s| {
        s.replacen(
            "label: Routing handoffs\n",
            "label: Routing handoffs (wrong first owner)\n",
            1,
        )
    });
    let mut upd = args.clone();
    upd.extend_from_slice(&["--data-dir", &data]);
    let third = notify(&tree, &upd, &env);
    third.ok();
    assert!(
        third.stdout.contains("5 sent (5 of them updates)"),
        "{}",
        third.stdout
    );
    let mails = sink.mails();
    assert_eq!(mails.len(), 4);
    let old_id = ops["headers"]["Message-ID"].as_str().unwrap();
    let new = &mails
        .iter()
        .rev()
        .find(|(t, _)| t.starts_with("support-ops"))
        .unwrap()
        .1;
    assert!(
        new["headers"]["Subject"]
            .as_str()
            .unwrap()
            .starts_with("Update: ")
    );
    assert_eq!(new["headers"]["In-Reply-To"], old_id);
    assert_ne!(new["headers"]["Message-ID"], old_id);
    assert!(
        new["parts"]["text/html"]
            .as_str()
            .unwrap()
            .contains("this replaces an earlier message")
    );
    let hook: Value =
        serde_json::from_str(sink.posts("/hook/ops/")[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(hook["update"], true);
    assert_eq!(hook["replaces"], body["id"]);

    let status = notify(
        &handoff(),
        &["--status", "--ledger", ledger_s, "--period", "2026-W46"],
        &env,
    );
    status.ok();
    assert_eq!(
        status.stdout.matches("sent update").count(),
        5,
        "{}",
        status.stdout
    );
    no_secret("--status", &status.stdout);
}

#[test]
fn transient_failures_are_retried_permanent_ones_reported_and_the_fallback_told() {
    let d = TempDir::new("notify-faults");
    let plan = format!(
        "--http-plan={{\"/slack/leadership/{SENTINEL}-1\": [429, 200], \"/hook/ops/{SENTINEL}-3\": [500, 200], \"/slack/ops/{SENTINEL}-2\": [404]}}"
    );
    let sink = Sink::start(
        &d,
        &[
            &auth(),
            "--smtp-fail",
            "1",
            "--smtp-reject",
            "support-ops@example.com",
            &plan,
        ],
    );
    let env = sink.operator();
    let ledger = d.0.join("ledger.jsonl");
    let mut args = vec!["--send", "--ledger", ledger.to_str().unwrap()];
    args.extend_from_slice(LIGHT);
    let r = notify(&handoff(), &args, &env);
    r.fails_with(3).stderr_has("not delivered");
    let out = &r.stdout;
    assert!(
        out.contains(
            "3 sent (0 of them updates), 0 already sent, 0 not configured, 3 retried, 2 failed"
        ),
        "{out}"
    );
    assert!(
        out.contains("email   support_ops → support-ops@example.com: the SMTP server refused it"),
        "{out}"
    );
    assert!(
        out.contains("slack   support_ops → #support-ops: HTTP 404"),
        "{out}"
    );
    assert!(out.contains("after 2 attempts"), "{out}");
    no_secret("a failing run", &(r.stdout.clone() + &r.stderr));
    // Retried: the 451, the 429 (after its Retry-After) and the 500 each went through.
    assert_eq!(sink.mails().len(), 1);
    assert_eq!(sink.posts("/slack/leadership/").len(), 1);
    // The fallback owner (support_ops) hears of both failures through what still works.
    let hooks = sink.posts("/hook/ops/");
    assert_eq!(hooks.len(), 2, "{out}");
    let told: Value = serde_json::from_str(hooks[1]["body"].as_str().unwrap()).unwrap();
    assert_valid_against("webhook.schema.json", &told, "the failure payload");
    assert_eq!(told["kind"], "delivery_failed");
    assert_eq!(told["reasons"].as_array().unwrap().len(), 2);
    no_secret("the failure payload", &told.to_string());

    // A rerun tries only what failed.
    let before = sink.records().len();
    let again = notify(&handoff(), &args, &env);
    again.fails_with(3);
    assert!(
        again.stdout.contains(
            "0 sent (0 of them updates), 3 already sent, 0 not configured, 0 retried, 2 failed"
        ),
        "{}",
        again.stdout
    );
    let new: Vec<Value> = sink.records()[before..].to_vec();
    let paths: Vec<&str> = new.iter().filter_map(|r| r["path"].as_str()).collect();
    assert!(
        paths.iter().all(|p| p.starts_with("/slack/ops/")),
        "{paths:?}"
    );
    assert!(
        new.iter().all(|r| r["kind"] != "smtp"),
        "an e-mail was sent twice"
    );

    // Connection refused is transient: retried, then reported.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut env2 = env.clone();
    env2[0].1 = format!("smtp://127.0.0.1:{port}");
    let l2 = d.0.join("ledger2.jsonl");
    let mut args2 = vec!["--send", "--retries", "1", "--ledger", l2.to_str().unwrap()];
    args2.extend_from_slice(LIGHT);
    let r2 = notify(&handoff(), &args2, &env2);
    r2.fails_with(3);
    assert!(
        r2.stdout
            .contains("support_leadership → head-of-support@example.com: SMTP"),
        "{}",
        r2.stdout
    );
    // Both e-mails, and the Slack target that answers 404 (a new ledger tries it again).
    assert!(r2.stdout.contains(", 3 failed"), "{}", r2.stdout);
    assert!(r2.stderr.contains("retrying in 0.5 s"), "{}", r2.stderr);
}

/// Spawns `notify --send` paused at a fault point; returns it once it is paused.
fn paused_run(tree: &Path, ledger: &Path, env: &[(String, String)], pause: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_metrictree"))
        .args([
            "notify",
            tree.to_str().unwrap(),
            "--send",
            "--ledger",
            ledger.to_str().unwrap(),
        ])
        .args(LIGHT)
        .current_dir(root())
        .envs(env.iter().map(|(a, b)| (a.as_str(), b.as_str())))
        .env("METRICTREE_TEST_PAUSE", pause)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if line.contains("paused for a test") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(120)).is_err() {
        let _ = child.kill();
        panic!("the run never reached its pause point");
    }
    child
}

#[test]
fn a_killed_run_is_completed_by_the_next_and_two_runs_do_not_both_send() {
    let d = TempDir::new("notify-kill");
    let sink = Sink::start(&d, &[&auth()]);
    let env = sink.operator();
    let ledger = d.0.join("ledger.jsonl");
    let mut args = vec!["--send", "--ledger", ledger.to_str().unwrap()];
    args.extend_from_slice(LIGHT);

    // Killed after two deliveries were recorded.
    let mut child = paused_run(&handoff(), &ledger, &env, "after-record:2");
    // Meanwhile, a second run finds the ledger locked and sends nothing.
    let second = notify(&handoff(), &args, &env);
    second
        .fails_with(2)
        .stderr_has("another `metrictree notify` run holds the ledger");
    child.kill().unwrap();
    child.wait().unwrap();
    let delivered = |s: &Sink| s.mails().len() + s.posts("/").len();
    assert_eq!(delivered(&sink), 2);
    let rest = notify(&handoff(), &args, &env);
    rest.ok();
    assert!(
        rest.stdout
            .contains("3 sent (0 of them updates), 2 already sent"),
        "{}",
        rest.stdout
    );
    // Each of the five targets got exactly one message.
    let mut to: Vec<String> = sink.mails().into_iter().map(|(t, _)| t).collect();
    to.extend(sink.posts("/").iter().map(|p| {
        let parts: Vec<&str> = p["path"].as_str().unwrap().split('/').collect();
        format!("{}/{}", parts[1], parts[2])
    }));
    to.sort();
    assert_eq!(
        to,
        [
            "head-of-support@example.com",
            "hook/ops",
            "slack/leadership",
            "slack/ops",
            "support-ops@example.com"
        ]
    );

    // The one window: delivered, then killed before the ledger recorded it. The next run
    // sends it again under the same id, so the receiver can tell it is a repeat.
    let d2 = TempDir::new("notify-window");
    let sink2 = Sink::start(&d2, &[&auth()]);
    let env2 = sink2.operator();
    let l2 = d2.0.join("ledger.jsonl");
    let mut child = paused_run(&handoff(), &l2, &env2, "before-record:1");
    child.kill().unwrap();
    child.wait().unwrap();
    let mut args2 = vec!["--send", "--ledger", l2.to_str().unwrap()];
    args2.extend_from_slice(LIGHT);
    let r = notify(&handoff(), &args2, &env2);
    r.ok();
    assert!(
        r.stdout.contains("5 sent")
            && r.stdout
                .contains("again: an earlier run stopped before recording it"),
        "{}",
        r.stdout
    );
    let mails = sink2.mails();
    assert_eq!(mails.len(), 3, "one repeat, then one each");
    assert_eq!(
        mails[0].1["headers"]["Message-ID"],
        mails[1].1["headers"]["Message-ID"]
    );
    let status = notify(
        &handoff(),
        &["--status", "--ledger", l2.to_str().unwrap()],
        &env2,
    );
    assert_eq!(
        status.ok().stdout.matches("\nsent ").count(),
        5,
        "{}",
        status.stdout
    );
}

#[test]
fn rules_mute_delegate_escalate_and_threshold() {
    let d = TempDir::new("notify-rules");
    let env: Vec<(String, String)> = Vec::new();
    let dry = |tree: &Path, data: &str| {
        let mut a = vec!["--data-dir", data];
        a.extend_from_slice(LIGHT);
        let r = notify(tree, &a, &env);
        r.ok();
        r.stdout.clone()
    };
    // Muted through the period's end; the root's owner delegates to CX Analytics.
    let (t, data) = variant(&d, "mute.yaml", |s| {
        s.replacen(
            "  fallback: support_ops\n",
            "  fallback: support_ops\n  mute:\n    support_ops: 2026-11-15\n  delegate:\n    support_leadership: cx_analytics\n",
            1,
        )
    });
    let out = dry(&t, &data);
    assert!(
        out.contains("no message     support_ops: muted until 2026-11-15 (1 reason(s) held back)"),
        "{out}"
    );
    assert!(
        out.contains(
            "email   support_leadership → cx-analytics@example.com (delegated to cx_analytics)"
        ),
        "{out}"
    );
    assert!(!out.contains("head-of-support@"), "{out}");
    // A mute that ended before the period does nothing.
    let (t, data) = variant(&d, "mute-past.yaml", |s| {
        s.replacen(
            "  fallback: support_ops\n",
            "  fallback: support_ops\n  mute: {support_ops: 2026-11-14}\n",
            1,
        )
    });
    assert!(dry(&t, &data).contains("email   support_ops → support-ops@example.com"));

    // A branch without an owner of its own escalates to its owned parent (the root's owner).
    let (t, data) = variant(&d, "escalate.yaml", |s| {
        let i = s.find("  routing_rate:").unwrap();
        let j = i + s[i..].find("    owner: support_ops\n").unwrap();
        format!("{}{}", &s[..j], &s[j + "    owner: support_ops\n".len()..])
    });
    let out = dry(&t, &data);
    let lead = out
        .lines()
        .find(|l| l.contains("email   support_leadership"))
        .unwrap();
    assert!(
        lead.contains("Routing handoffs moved beyond noise")
            && lead.contains("it has no owner of its own"),
        "{lead}"
    );
    assert!(out.contains("no message     support_ops"), "{out}");

    // Thresholds above the routing branch's contribution: only the digest remains.
    let (t, data) = variant(&d, "threshold.yaml", |s| {
        s.replacen(
            "  min_share: 0.2\n",
            "  min_share: 0.9\n  min_contribution: 0.5\n",
            1,
        )
    });
    let out = dry(&t, &data);
    assert!(out.contains("no message     support_ops"), "{out}");
    assert!(out.contains("email   support_leadership"), "{out}");
}

#[test]
fn outbox_is_byte_identical_and_redaction_keeps_dimensions_out_of_a_channel() {
    let d = TempDir::new("notify-outbox");
    // A hostile title too: it must not mention everyone in Slack or break a mail header.
    let (tree, data) = variant(&d, "redact.yaml", |s| {
        s.replacen(
            "  fallback: support_ops\n",
            "  fallback: support_ops\n  redact:\n    email: [routing_rule, queue]\n",
            1,
        )
        .replacen(
            "title: Conversation handoff rate\n",
            "title: \"Handoff <!channel> rate\\r\\nBcc: boss@evil.example\"\n",
            1,
        )
    });
    let run = |n: &str| {
        let dir = d.0.join(format!("outbox-{n}"));
        let ledger = d.0.join(format!("ledger-{n}.jsonl"));
        let mut a = vec![
            "--send",
            "--outbox",
            dir.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
            "--data-dir",
            &data,
        ];
        a.extend_from_slice(LIGHT);
        notify(&tree, &a, &[]).ok();
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let a = run("a");
    let b = run("b");
    assert_eq!(
        a.len(),
        5,
        "{:?}",
        a.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(a == b, "two outbox runs differ");
    for (name, bytes) in &a {
        assert!(!name.starts_with('.'), "a temporary file was left: {name}");
        let text = String::from_utf8(bytes.clone()).unwrap();
        if name.ends_with(".eml") {
            // The MIME parts are base64: decode them with the same parser the sink uses.
            let decoded = decode_eml(bytes);
            assert!(decoded.contains("You get this because"), "{name}");
            assert!(
                !decoded.contains("billing_chat_v2"),
                "{name} names a redacted routing rule"
            );
            assert!(!text.contains("\nBcc:"), "{name}: a header was injected");
        } else if name.contains("-slack-") {
            let v: Value = serde_json::from_str(&text).unwrap();
            let fallback = v["text"].as_str().unwrap();
            assert!(
                fallback.contains("Handoff &lt;!channel&gt; rate"),
                "{fallback}"
            );
            if name.contains("slack-_support-ops") {
                // Slack is not redacted here: the routing rule that moved is named.
                assert!(text.contains("billing_chat_v2"), "{name}: {text}");
            }
        }
    }
}

/// The text parts of an .eml file, decoded by Python's e-mail parser.
fn decode_eml(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new(python())
        .args(["-c", "import sys,email,email.policy\nm=email.message_from_bytes(sys.stdin.buffer.read(),policy=email.policy.default)\nfor p in m.walk():\n  if p.get_content_maintype()=='text': print(p.get_content())"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn smtp_over_tls_and_starttls_trusts_the_operators_ca_and_nothing_else() {
    // A CA, and a certificate for 127.0.0.1 that it signs (what an internal relay has).
    let certs = TempDir::new("notify-tls-certs");
    let script = "set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=metrictree-test-ca
openssl req -newkey rsa:2048 -nodes -keyout key.pem -out leaf.csr -subj /CN=127.0.0.1
printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth\\n' > ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile ext";
    let made = Command::new("sh")
        .args(["-c", script])
        .current_dir(&certs.0)
        .output()
        .expect("openssl runs (Debian's openssl package)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let file = |n: &str| certs.0.join(n).to_str().unwrap().to_string();
    let (cert, key, ca) = (file("cert.pem"), file("key.pem"), file("ca.pem"));
    let run = |mode: &str, with_ca: bool| {
        let d = TempDir::new("notify-tls");
        let sink = Sink::start(&d, &["--tls", mode, "--cert", &cert, "--key", &key]);
        let url = match mode {
            "wrapper" => format!("smtps://127.0.0.1:{}", sink.smtp),
            _ => format!("smtp://127.0.0.1:{}?tls=starttls", sink.smtp),
        };
        let mut env: Vec<(String, String)> = vec![
            ("METRICTREE_SMTP_URL".into(), url),
            (
                "METRICTREE_MAIL_FROM".into(),
                "metrictree@example.com".into(),
            ),
            ("METRICTREE_ALLOW_DOMAINS".into(), "example.com".into()),
        ];
        if with_ca {
            env.push(("METRICTREE_SMTP_CA_FILE".into(), ca.clone()));
        }
        let ledger = d.0.join("ledger.jsonl");
        let mut args = vec!["--send", "--ledger", ledger.to_str().unwrap()];
        args.extend_from_slice(LIGHT);
        let r = notify(&handoff(), &args, &env);
        (r, sink.mails(), d)
    };
    for mode in ["wrapper", "starttls"] {
        let (r, mails, _d) = run(mode, true);
        r.ok();
        assert!(
            r.stdout.contains("2 sent (0 of them updates)"),
            "{mode}: {}",
            r.stdout
        );
        assert_eq!(mails.len(), 2, "{mode}");
        assert!(
            mails.iter().all(|(_, m)| m["tls"] == true),
            "{mode}: {mails:?}"
        );
    }
    // Without the operator's CA the certificate is not trusted: a permanent failure, not
    // retried, and nothing is sent in the clear.
    let (r, mails, _d) = run("starttls", false);
    r.fails_with(3);
    assert!(r.stdout.contains("certificate"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("attempts"),
        "a certificate failure was retried:\n{}",
        r.stdout
    );
    assert!(mails.is_empty());
}
