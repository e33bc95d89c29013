//! A delivery run: for each message, ask the ledger, render, send with bounded retries,
//! record — one message at a time, each recorded before the next leaves, so a run that dies
//! can be repeated and sends exactly what is missing. One failing owner does not stop the
//! others; the summary counts what was sent, updated, skipped, retried and failed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::ledger::{Ledger, Record, State};
use super::message::{Channel, Kind, Message};
use super::mime::{self, Mail};
use super::outbox;
use super::payload;
use super::settings::Settings;
use super::transport::{Answer, Mailer, Poster, backoff};
use crate::report::pack::Page;
use crate::report::render::{Format, Templates};

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Route {
    /// Files in a directory (`--outbox DIR`).
    Outbox(PathBuf),
    /// SMTP and HTTP, as the operator configured them.
    Network,
}

impl Route {
    fn via(&self, c: Channel) -> &'static str {
        match (self, c) {
            (Route::Outbox(_), _) => "outbox",
            (Route::Network, Channel::Email) => "smtp",
            (Route::Network, _) => "http",
        }
    }
}

/// What a run did, message by message.
#[derive(Debug, Default)]
pub struct Summary {
    pub lines: Vec<String>,
    pub sent: usize,
    pub updates: usize,
    pub already: usize,
    pub not_configured: usize,
    pub retried: usize,
    pub failed: Vec<String>,
}

impl Summary {
    /// A message that did not go out: its line, and its place in the failures.
    fn fail(&mut self, line: String) {
        self.lines.push(format!("failed         {line}"));
        self.failed.push(line);
    }

    pub fn totals(&self) -> String {
        format!(
            "{} sent ({} of them updates), {} already sent, {} not configured, {} retried, {} failed",
            self.sent,
            self.updates,
            self.already,
            self.not_configured,
            self.retried,
            self.failed.len()
        )
    }
}

/// Where the ledger stands on a message: already sent, or to send under `id` (an update
/// when it replaces an earlier message of its slot).
pub enum Standing {
    Already {
        id: String,
    },
    ToSend {
        id: String,
        replaces: Option<String>,
        /// An earlier run recorded it as leaving but not as sent (the at-least-once window).
        interrupted: bool,
    },
}

pub fn standing(ledger: Option<&Ledger>, m: &Message, via: &str) -> Standing {
    let s = ledger.map(|l| l.slot(&m.slot(via))).unwrap_or_default();
    match s.sent {
        Some((content, id)) if content == m.content => Standing::Already { id },
        sent => {
            let replaces = sent.map(|(_, old)| old);
            let id = m.id(via, replaces.as_deref());
            Standing::ToSend {
                interrupted: s.interrupted.contains(&id),
                id,
                replaces,
            }
        }
    }
}

/// Why a message cannot go out on this route.
enum Unready {
    /// The operator has not set this up (skipped, not a failure): the variable to set.
    NotConfigured(String),
    /// The operator's setting is wrong, or forbids it (a failure).
    Refused(String),
}

/// Whether the operator's settings let a message go out on this route.
fn ready(settings: &Settings, route: &Route, m: &Message) -> Result<(), Unready> {
    let email = m.channel == Channel::Email;
    if let Route::Outbox(_) = route {
        // Nothing leaves the machine; an allow-list, when set, still applies to e-mail.
        if email && settings.allow_domains.is_some() {
            settings
                .allows(&m.target)
                .map_err(|e| Unready::Refused(format!("not allowed: {e}")))?;
        }
        return Ok(());
    }
    if email {
        if settings.smtp.is_none() {
            return Err(Unready::NotConfigured("set METRICTREE_SMTP_URL".into()));
        }
        if settings.from.is_none() {
            return Err(Unready::NotConfigured("set METRICTREE_MAIL_FROM".into()));
        }
        return settings
            .allows(&m.target)
            .map_err(|e| Unready::Refused(format!("not allowed: {e}")));
    }
    match &m.env {
        None => Err(Unready::Refused("the tree's key names no variable".into())),
        Some(v) => match settings.target_url(v) {
            None => Err(Unready::NotConfigured(format!("set {v}"))),
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(Unready::Refused(e)),
        },
    }
}

/// The dry run: one line per message, saying what a run would do and why.
pub fn dry_run(
    messages: &[Message],
    settings: &Settings,
    route: &Route,
    ledger: Option<&Ledger>,
) -> Vec<String> {
    let mut out = Vec::new();
    for m in messages {
        let via = route.via(m.channel);
        let why = m
            .reasons
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let (word, note) = match (standing(ledger, m, via), ready(settings, route, m)) {
            (Standing::Already { .. }, _) => ("already sent", String::new()),
            (_, Err(Unready::NotConfigured(e))) => ("not configured", format!(" [{e}]")),
            (_, Err(Unready::Refused(e))) => ("would fail", format!(" [{e}]")),
            (
                Standing::ToSend {
                    replaces: Some(_), ..
                },
                _,
            ) => ("would update", String::new()),
            (Standing::ToSend { .. }, _) => ("would send", String::new()),
        };
        out.push(format!("{word:<14} {}: {why}{note}", m.describe()));
    }
    out
}

/// The e-mail form of a page, with the reasons the owner gets it.
#[derive(Serialize)]
struct Mailed<'a> {
    #[serde(flatten)]
    page: &'a Page,
    reasons: Vec<&'a str>,
    update: bool,
}

/// A fault-injection point for the crash tests: `METRICTREE_TEST_PAUSE=after-record:N` or
/// `before-record:N` stops the run (it sleeps until killed) after the N-th delivery, after or
/// before its `sent` record is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pause {
    AfterRecord(usize),
    BeforeRecord(usize),
}

impl Pause {
    pub fn from_env() -> Option<Pause> {
        let v = std::env::var("METRICTREE_TEST_PAUSE").ok()?;
        let (k, n) = v.split_once(':')?;
        let n: usize = n.parse().ok()?;
        match k {
            "after-record" => Some(Pause::AfterRecord(n)),
            "before-record" => Some(Pause::BeforeRecord(n)),
            _ => None,
        }
    }

    fn hold(&self, warn: &dyn Fn(&str)) {
        warn(&format!(
            "paused for a test ({self:?}); waiting to be killed"
        ));
        let until = Instant::now() + Duration::from_secs(600);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub struct Run<'a> {
    pub settings: &'a Settings,
    pub route: &'a Route,
    pub templates: &'a Templates,
    pub retries: u32,
    /// The `Date` of outbox e-mail (the period's end, so the outbox is the same bytes on
    /// every run); network e-mail carries the time it is sent.
    pub outbox_date: String,
    pub pause: Option<Pause>,
    /// Progress for people (stderr).
    pub warn: &'a dyn Fn(&str),
}

impl Run<'_> {
    pub fn deliver(&self, messages: &[Message], ledger: &mut Ledger) -> Summary {
        let mut sum = Summary::default();
        let poster = Poster::default();
        let mut mailer: Option<Result<Mailer, String>> = None;
        let mut last_post: BTreeMap<String, Instant> = BTreeMap::new();
        let mut delivered = 0usize;
        for m in messages {
            let via = self.route.via(m.channel);
            let (id, replaces, interrupted) = match standing(Some(ledger), m, via) {
                Standing::Already { id } => {
                    sum.already += 1;
                    sum.lines
                        .push(format!("already sent   {} (id {id})", m.describe()));
                    continue;
                }
                Standing::ToSend {
                    id,
                    replaces,
                    interrupted,
                } => (id, replaces, interrupted),
            };
            match ready(self.settings, self.route, m) {
                Ok(()) => {}
                Err(Unready::NotConfigured(e)) => {
                    sum.not_configured += 1;
                    sum.lines
                        .push(format!("not configured {} [{e}]", m.describe()));
                    continue;
                }
                Err(Unready::Refused(e)) => {
                    sum.fail(format!("{}: {e}", m.describe()));
                    continue;
                }
            }
            let body = match self.render(m, &id, replaces.as_deref()) {
                Ok(b) => b,
                Err(e) => {
                    sum.fail(format!(
                        "{}: the message does not render: {e}",
                        m.describe()
                    ));
                    continue;
                }
            };
            let mut rec = Record {
                slot: m.slot(via),
                kind: m.kind.name().into(),
                tree: m.tree().to_string(),
                period: m.period().to_string(),
                baseline: m.baseline().to_string(),
                owner: m.owner.clone(),
                channel: m.channel.name().into(),
                via: via.into(),
                target: m.target.clone(),
                content: m.content.clone(),
                id: id.clone(),
                state: State::Pending,
                update: replaces.is_some(),
                attempts: 0,
                error: None,
                at: String::new(),
            };
            if let Err(e) = ledger.append(rec.clone()) {
                // Without a record nothing may leave: stop the run.
                sum.fail(format!("{}: {e}", m.describe()));
                return sum;
            }
            let (answer, attempts) = self.send(m, &body, &id, &poster, &mut mailer, &mut last_post);
            rec.attempts = attempts;
            sum.retried += attempts.saturating_sub(1) as usize;
            let tries = if attempts > 1 {
                format!(", after {} attempts", attempts)
            } else {
                String::new()
            };
            let again = if interrupted {
                ", again: an earlier run stopped before recording it"
            } else {
                ""
            };
            match answer {
                Answer::Delivered => {
                    delivered += 1;
                    self.pause_at(Pause::BeforeRecord(delivered));
                    rec.state = State::Sent;
                    if let Err(e) = ledger.append(rec) {
                        // The next run sends it again under the same id.
                        sum.fail(format!("{}: sent, but {e}", m.describe()));
                        return sum;
                    }
                    sum.sent += 1;
                    let word = if replaces.is_some() {
                        sum.updates += 1;
                        "sent update   "
                    } else {
                        "sent          "
                    };
                    sum.lines
                        .push(format!("{word} {} (id {id}{tries}{again})", m.describe()));
                    self.pause_at(Pause::AfterRecord(delivered));
                }
                Answer::Transient { why, .. } | Answer::Permanent(why) => {
                    let why = self.settings.scrub(&why);
                    rec.state = State::Failed;
                    rec.error = Some(why.clone());
                    sum.fail(format!("{}: {why}{tries}", m.describe()));
                    if let Err(e) = ledger.append(rec) {
                        sum.fail(format!("{}: {e}", m.describe()));
                        return sum;
                    }
                }
            }
        }
        sum
    }

    /// Stops here when the crash tests asked for this point.
    fn pause_at(&self, at: Pause) {
        if self.pause == Some(at) {
            at.hold(self.warn);
        }
    }

    /// The bytes that leave: MIME for e-mail, JSON for Slack and webhooks.
    fn render(&self, m: &Message, id: &str, replaces: Option<&str>) -> Result<Vec<u8>, String> {
        match m.channel {
            Channel::Email => {
                let failures = m.kind == Kind::DeliveryFailed;
                let kind = if m.digest || failures {
                    "overview"
                } else {
                    "owner"
                };
                let reasons: Vec<&str> = m.reasons.iter().map(|r| r.text.as_str()).collect();
                let mut text = String::from(if failures {
                    "These messages were not delivered (a rerun with the same ledger sends only them):\n"
                } else {
                    "You get this because:\n"
                });
                for r in &reasons {
                    text.push_str(&format!("  - {r}\n"));
                }
                if !failures {
                    text.push('\n');
                    text.push_str(&self.templates.render(Format::Txt, kind, &m.page)?);
                }
                let html = self.templates.render(
                    Format::Html,
                    &format!("{kind}.email"),
                    &Mailed {
                        page: &m.page,
                        reasons,
                        update: replaces.is_some(),
                    },
                )?;
                let date = match self.route {
                    Route::Outbox(_) => self.outbox_date.clone(),
                    Route::Network => chrono::Utc::now().to_rfc2822(),
                };
                let from = self
                    .settings
                    .from
                    .as_deref()
                    .unwrap_or("metrictree@localhost");
                let subject = m.subject(replaces.is_some());
                Ok(mime::render(&Mail {
                    from,
                    to: &m.target,
                    subject: &subject,
                    id,
                    replaces,
                    date: &date,
                    text: &text,
                    html: &html,
                }))
            }
            Channel::Slack => Ok(payload::slack(m, id, replaces).into_bytes()),
            Channel::Webhook => Ok(payload::webhook(m, id, replaces).into_bytes()),
        }
    }

    /// One message, retried while the failure is transient. Returns the answer and attempts.
    fn send(
        &self,
        m: &Message,
        body: &[u8],
        id: &str,
        poster: &Poster,
        mailer: &mut Option<Result<Mailer, String>>,
        last_post: &mut BTreeMap<String, Instant>,
    ) -> (Answer, u32) {
        if let Route::Outbox(dir) = self.route {
            let name = outbox::file_name(m, id);
            return match outbox::write(dir, &name, body) {
                Ok(_) => (Answer::Delivered, 1),
                Err(e) => (Answer::Permanent(e), 1),
            };
        }
        let mut attempt = 0u32;
        loop {
            let answer = match m.channel {
                Channel::Email => {
                    let smtp = self.settings.smtp.as_ref();
                    let mailer = mailer.get_or_insert_with(|| {
                        smtp.ok_or_else(|| "no SMTP server".to_string())
                            .and_then(Mailer::new)
                    });
                    match mailer {
                        Ok(mx) => mx.send(
                            self.settings.from.as_deref().unwrap_or_default(),
                            &m.target,
                            body,
                        ),
                        Err(e) => Answer::Permanent(e.clone()),
                    }
                }
                _ => {
                    let var = m.env.clone().unwrap_or_default();
                    let Some(Ok(url)) = self.settings.target_url(&var) else {
                        return (Answer::Permanent(format!("{var} is not set")), attempt + 1);
                    };
                    // Slack takes about one message a second per webhook.
                    if m.channel == Channel::Slack
                        && let Some(t) = last_post.get(&var)
                    {
                        let since = t.elapsed();
                        if since < Duration::from_secs(1) {
                            std::thread::sleep(Duration::from_secs(1) - since);
                        }
                    }
                    let key = (m.channel == Channel::Webhook).then_some(id);
                    let a = poster.post(url, std::str::from_utf8(body).unwrap_or_default(), key);
                    last_post.insert(var, Instant::now());
                    a
                }
            };
            attempt += 1;
            match answer {
                Answer::Transient { why, retry_after } if attempt <= self.retries => {
                    match backoff(attempt - 1, retry_after) {
                        Some(wait) => {
                            (self.warn)(&self.settings.scrub(&format!(
                                "{}: {why}; retrying in {:.1} s",
                                m.describe(),
                                wait.as_secs_f64()
                            )));
                            std::thread::sleep(wait);
                        }
                        None => {
                            let why =
                                format!("{why} (the server asks to wait longer than a run will)");
                            return (Answer::Transient { why, retry_after }, attempt);
                        }
                    }
                }
                other => return (other, attempt),
            }
        }
    }
}
