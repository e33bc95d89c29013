//! A deterministic example dataset in the data model of `docs/data-model.md`:
//! `conversations.csv`, `handoffs.csv`, `audits.csv` and `planted.json`.
//!
//! Seeded with ChaCha8 (portable: the same seed gives the same bytes everywhere); the end date
//! is a parameter, never the clock. Weekly seasonality, channels, teams, categories, tiers
//! and queues; the cause of a conversation's first transfer depends on channel, category and
//! tier. Planted events (documented in `planted.json`):
//! (`plants: false` writes the same process with no events.)
//! - last week, a routing-rule change sends more chat × billing conversations to the wrong
//!   queue first (routing rises, concentrated in that segment);
//! - from week W−11 a new integrations topic raises skill handoffs; a training action in week
//!   W−6 brings them back down (so the impact loop has 5 periods before it, 6 after, and 14
//!   earlier weeks for placebo dates); an escalation-guideline refresh in week W−3 changes
//!   nothing;
//! - in week W−2, cold transfers out of technical support are done badly: their audited
//!   handoff quality drops.
//!
//! Each family of fields added after the first version draws from its own random stream
//! (routing rule and queue; transfer type, receiver reply and resolution timing, repeat
//! explanation; audits), so adding a family never shifts the columns drawn before it.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{Days, NaiveDate, NaiveDateTime, TimeDelta};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::period::{Grain, Period};

pub mod wide;

pub struct Options {
    pub conversations: u64,
    pub weeks: u32,
    pub seed: u64,
    /// A day in the last complete week.
    pub end: NaiveDate,
    /// Plant the events (off: a steady process, for calibrating noise verdicts).
    pub plants: bool,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Summary {
    pub conversations: u64,
    pub handoffs: u64,
    pub audits: u64,
    pub first_week: String,
    pub last_week: String,
}

const CHANNELS: [(&str, f64); 4] = [
    ("chat", 0.40),
    ("email", 0.25),
    ("phone", 0.20),
    ("bot", 0.15),
];
const CATEGORIES: [(&str, f64, &str); 5] = [
    ("billing", 0.25, "billing_team"),
    ("technical", 0.30, "tech_support"),
    ("account", 0.20, "accounts"),
    ("integrations", 0.10, "integrations_team"),
    ("shipping", 0.15, "logistics"),
];
const TIERS: [(&str, f64); 3] = [("free", 0.50), ("pro", 0.35), ("enterprise", 0.15)];
const CAUSES: [&str; 5] = ["routing", "skill", "escalation", "channel", "unclassified"];
const DAY_WEIGHTS: [f64; 7] = [1.25, 1.2, 1.15, 1.1, 1.0, 0.7, 0.6];
/// Effect sizes of the planted events (probability points within the segment).
pub const ROUTING_PLANT: f64 = 0.35;
pub const SKILL_GAP: f64 = 0.20;
/// The knowledge gap's weeks, counted back from the last week (inclusive).
pub const GAP_WEEKS: std::ops::RangeInclusive<i64> = 7..=11;
/// The training action's week, counted back from the last week (the gap's end).
pub const TRAINING_WEEK: u32 = 6;
/// The quality plant's week, counted back from the last week.
pub const QUALITY_WEEK: u32 = 2;
/// Audited share of accepted transfers (enough for a team × transfer-type segment to be
/// tested).
pub const AUDIT_SHARE: f64 = 0.4;

/// Seeds of the field families' own streams, mixed with the dataset's seed.
const ROUTING_STREAM: u64 = 0x726f_7574_696e_6731;
const HANDOFF_STREAM: u64 = 0x6861_6e64_6f66_6632;
const AUDIT_STREAM: u64 = 0x6175_6469_7473_3033;

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T], weight: impl Fn(&T) -> f64) -> &'a T {
    let total: f64 = items.iter().map(&weight).sum();
    let mut u = rng.random::<f64>() * total;
    for it in items {
        u -= weight(it);
        if u < 0.0 {
            return it;
        }
    }
    &items[items.len() - 1]
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Base probabilities of each first-transfer cause for a conversation.
fn cause_probs(
    channel: &str,
    category: &str,
    tier: &str,
    week: i64,
    weeks: i64,
    plants: bool,
) -> [f64; 5] {
    let routing = 0.055
        + if category == "billing" { 0.015 } else { 0.0 }
        + if channel == "email" { 0.02 } else { 0.0 };
    let mut skill = match category {
        "technical" => 0.07,
        "integrations" => 0.09,
        _ => 0.04,
    };
    // Knowledge gap: weeks W−11 .. W−7 (counted back from the last week).
    let from_end = weeks - 1 - week;
    if plants && category == "integrations" && GAP_WEEKS.contains(&from_end) {
        skill += SKILL_GAP;
    }
    let escalation = if tier == "enterprise" { 0.08 } else { 0.035 };
    let channel_p = match channel {
        "bot" => 0.30,
        "phone" => 0.02,
        _ => 0.03,
    };
    [routing, skill, escalation, channel_p, 0.015]
}

/// Writes the dataset into `dir`.
pub fn generate(dir: &Path, o: &Options) -> std::io::Result<Summary> {
    std::fs::create_dir_all(dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let mut rs = ChaCha8Rng::seed_from_u64(o.seed ^ ROUTING_STREAM);
    let mut qs = ChaCha8Rng::seed_from_u64(o.seed ^ HANDOFF_STREAM);
    let mut au = ChaCha8Rng::seed_from_u64(o.seed ^ AUDIT_STREAM);
    let last = Period::containing(Grain::Week, o.end);
    let first = last.back(o.weeks.saturating_sub(1));
    let weeks = o.weeks as i64;
    let per_week = (o.conversations as f64 / o.weeks.max(1) as f64).max(1.0);

    let mut conv = String::from(
        "conversation_id,created_at,first_response_at,resolved_at,channel,team,category,tier,first_owner,resolved_by,reopened,csat,status,handling_seconds,routing_rule,queue,repeat_explanation\n",
    );
    let mut hand = String::from(
        "conversation_id,sequence,transferred_at,picked_up_at,from_agent,to_agent,from_team,to_team,queue,from_channel,to_channel,cause,routing_rule,bot_trigger,topic,accepted,completed,transfer_type,receiver_first_reply_at\n",
    );
    let mut audits =
        String::from("conversation_id,sequence,audited_at,required,done_well,timely,score\n");
    let mut n_audit = 0u64;
    let mut n_conv = 0u64;
    let mut n_hand = 0u64;
    let mut planted_flips = 0u64;
    let mut last_week_total = 0u64;
    let mut segment_last_week = 0u64;
    // Plus a partial week after the end, so the last complete week is mature (maturity 3d).
    let total_weeks = weeks + 1;
    for w in 0..total_weeks {
        let week_start = first.start + Days::new(7 * w as u64);
        let partial = w == weeks;
        let factor = 1.0 + 0.05 * normal(&mut rng);
        let n_week = (per_week * factor * if partial { 4.0 / 7.0 } else { 1.0 })
            .round()
            .max(1.0) as u64;
        let days: Vec<usize> = if partial {
            vec![0, 1, 2, 3]
        } else {
            (0..7).collect()
        };
        for _ in 0..n_week {
            let day = *pick(&mut rng, &days, |d| DAY_WEIGHTS[*d]);
            let secs = 8 * 3600 + (rng.random::<f64>() * 12.0 * 3600.0) as i64;
            let created = (week_start + Days::new(day as u64))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                + TimeDelta::seconds(secs);
            let channel = pick(&mut rng, &CHANNELS, |c| c.1).0;
            let cat = pick(&mut rng, &CATEGORIES, |c| c.1);
            let (category, team) = (cat.0, cat.2);
            let tier = pick(&mut rng, &TIERS, |t| t.1).0;
            let probs = cause_probs(channel, category, tier, w, weeks, o.plants);
            let planted = o.plants
                && !partial
                && w == weeks - 1
                && channel == "chat"
                && category == "billing";
            if w == weeks - 1 {
                last_week_total += 1;
                segment_last_week += planted as u64;
            }
            // Cause intervals: the base causes, then the planted extra routing interval, so the
            // plant only turns untransferred conversations into routing ones.
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut cause = None;
            for (k, p) in probs.iter().enumerate() {
                acc += p;
                if u < acc {
                    cause = Some(k);
                    break;
                }
            }
            if cause.is_none() && planted && u < acc + ROUTING_PLANT {
                cause = Some(0);
                planted_flips += 1;
            }
            n_conv += 1;
            let id = n_conv;
            // The routing rule and queue every conversation entered by (their own stream): one
            // rule per category and channel, a catch-all now and then; in the last week chat ×
            // billing goes through the new rule `billing_chat_v2`, the planted change. Queues
            // are by channel and priority (enterprise), with an overflow queue: they do not
            // encode the transfer cause.
            let fallback = rs.random::<f64>() < 0.08;
            let overflow = rs.random::<f64>() < 0.05;
            let routing_rule =
                if o.plants && w >= weeks - 1 && channel == "chat" && category == "billing" {
                    "billing_chat_v2".to_string()
                } else if fallback {
                    "fallback_v1".to_string()
                } else {
                    format!("{category}_{channel}_v1")
                };
            let initial_queue = if overflow {
                "overflow".to_string()
            } else if tier == "enterprise" {
                format!("{channel}_priority")
            } else {
                format!("{channel}_standard")
            };
            let mut any_cold = false;
            let agent = |rng: &mut ChaCha8Rng, team: &str| {
                format!("{}_{:02}", &team[..3], rng.random_range(1..=24))
            };
            let first_owner = agent(&mut rng, team);
            let first_response =
                created + TimeDelta::seconds((30.0 + 240.0 * rng.random::<f64>().powi(2)) as i64);
            let mut handling = (420.0 * (0.6 * normal(&mut rng)).exp() + 120.0) as i64;
            let mut resolved_by = first_owner.clone();
            let mut t = first_response;
            let mut transfers = 0;
            if let Some(c0) = cause {
                let mut cause_k = c0;
                let mut from_agent = first_owner.clone();
                let mut from_team = if c0 == 0 {
                    // Routing: landed on the wrong team first.
                    CATEGORIES
                        .iter()
                        .map(|c| c.2)
                        .find(|t| *t != team)
                        .unwrap_or(team)
                } else {
                    team
                };
                let mut from_channel = channel;
                loop {
                    transfers += 1;
                    t += TimeDelta::seconds((60.0 + 600.0 * rng.random::<f64>()) as i64);
                    let to_team = match cause_k {
                        0 => team,
                        1 => {
                            if category == "integrations" {
                                "integrations_team"
                            } else {
                                "tech_support"
                            }
                        }
                        2 => "tier2_specialists",
                        _ => team,
                    };
                    let to_channel = match (cause_k, channel) {
                        (3, "bot") => "chat",
                        (3, "chat") => "phone",
                        (3, "email") => "phone",
                        (3, _) => "email",
                        _ => from_channel,
                    };
                    let wait = (150.0 * (0.8 * normal(&mut rng)).exp()) as i64;
                    let accepted = rng.random::<f64>() < 0.95;
                    let completed = accepted && rng.random::<f64>() < 0.93;
                    let to_agent = agent(&mut rng, to_team);
                    let rule = if cause_k == 0 {
                        if planted && transfers == 1 && c0 == 0 {
                            "billing_chat_v2".to_string()
                        } else {
                            format!("rule_{:02}", rng.random_range(1..=12))
                        }
                    } else {
                        String::new()
                    };
                    let trigger = if cause_k == 3 && from_channel == "bot" {
                        *pick(
                            &mut rng,
                            &[
                                ("user_asked", 0.5),
                                ("frustration", 0.2),
                                ("bot_could_not_answer", 0.3),
                            ],
                            |x| x.1,
                        )
                    } else {
                        ("", 0.0)
                    };
                    let topic = if cause_k == 1 {
                        let from_end = weeks - 1 - w;
                        if category == "integrations"
                            && GAP_WEEKS.contains(&from_end)
                            && rng.random::<f64>() < 0.7
                        {
                            "webhooks_api"
                        } else {
                            pick(
                                &mut rng,
                                &[
                                    ("refunds", 1.0),
                                    ("sso_setup", 1.0),
                                    ("data_export", 1.0),
                                    ("api_limits", 1.0),
                                ],
                                |x| x.1,
                            )
                            .0
                        }
                    } else {
                        ""
                    };
                    // Warm (the sender briefs the receiver) or cold, and the receiver's first
                    // reply after pickup: their own stream, drawn for every transfer.
                    let warm = qs.random::<f64>() < if cause_k == 2 { 0.7 } else { 0.4 };
                    any_cold |= !warm;
                    let reply =
                        ((if warm { 45.0 } else { 90.0 }) * (0.7 * normal(&mut qs)).exp()) as i64;
                    let picked = t + TimeDelta::seconds(wait);
                    let _ = writeln!(
                        hand,
                        "{id},{transfers},{},{},{from_agent},{to_agent},{from_team},{to_team},{}_queue,{from_channel},{to_channel},{},{rule},{},{topic},{accepted},{completed},{},{}",
                        ts(t),
                        if accepted { ts(picked) } else { String::new() },
                        to_team,
                        CAUSES[cause_k],
                        trigger.0,
                        if warm { "warm" } else { "cold" },
                        if accepted {
                            ts(picked + TimeDelta::seconds(reply))
                        } else {
                            String::new()
                        },
                    );
                    // Some accepted transfers are audited by the receiver (their own stream):
                    // was it required, done well (findings summarised, basics tried), timely?
                    let draws: [f64; 5] = std::array::from_fn(|_| au.random::<f64>());
                    if accepted && draws[0] < AUDIT_SHARE {
                        let bad_week = o.plants
                            && weeks - 1 - w == i64::from(QUALITY_WEEK)
                            && from_team == "tech_support"
                            && !warm;
                        let required = draws[1]
                            < if cause_k == 2 {
                                0.95
                            } else if cause_k == 0 {
                                0.5
                            } else {
                                0.8
                            };
                        let done_well = draws[2]
                            < if bad_week {
                                0.15
                            } else if warm {
                                0.9
                            } else {
                                0.65
                            };
                        let timely = draws[3] < if bad_week { 0.35 } else { 0.8 };
                        let score = ((required as u8 + done_well as u8 + timely as u8) as f64
                            * 100.0
                            / 3.0)
                            .round() as i64;
                        let at = picked
                            + TimeDelta::seconds(86_400 + (draws[4] * 2.0 * 86_400.0) as i64);
                        let _ = writeln!(
                            audits,
                            "{id},{transfers},{},{required},{done_well},{timely},{score}",
                            ts(at)
                        );
                        n_audit += 1;
                    }
                    n_hand += 1;
                    handling += wait / 2 + 180;
                    t += TimeDelta::seconds(wait);
                    from_agent = to_agent.clone();
                    resolved_by = to_agent;
                    from_team = to_team;
                    from_channel = to_channel;
                    // The bouncing tail: another transfer now and then.
                    if transfers >= 5 || rng.random::<f64>() > 0.22 {
                        break;
                    }
                    cause_k = *pick(&mut rng, &[0usize, 1, 2, 4], |k| {
                        [0.4, 0.3, 0.2, 0.0, 0.1][*k]
                    });
                }
            }
            // Context lost at a cold transfer makes customers repeat themselves; the receiver's
            // time to resolve after the last pickup (its own stream, drawn for every
            // conversation).
            let repeat = qs.random::<f64>()
                < if any_cold {
                    0.35
                } else if transfers > 0 {
                    0.08
                } else {
                    0.0
                };
            let resolve_after = (1500.0 * (1.0 * normal(&mut qs)).exp()) as i64 + 60;
            let reopened = rng.random::<f64>() < if transfers > 0 { 0.10 } else { 0.05 };
            let csat = (4.3 - 0.5 * transfers as f64 + 0.7 * normal(&mut rng))
                .round()
                .clamp(1.0, 5.0) as i64;
            let resolved = if transfers > 0 {
                t + TimeDelta::seconds(resolve_after)
            } else {
                created + TimeDelta::seconds(handling + 600)
            };
            let status = if partial && rng.random::<f64>() < 0.3 {
                "open"
            } else {
                "resolved"
            };
            let _ = writeln!(
                conv,
                "{id},{},{},{},{channel},{team},{category},{tier},{first_owner},{},{reopened},{csat},{status},{handling},{routing_rule},{initial_queue},{repeat}",
                ts(created),
                ts(first_response),
                if status == "resolved" {
                    ts(resolved)
                } else {
                    String::new()
                },
                if status == "resolved" {
                    resolved_by.as_str()
                } else {
                    ""
                },
            );
        }
    }
    std::fs::write(dir.join("conversations.csv"), conv)?;
    std::fs::write(dir.join("handoffs.csv"), hand)?;
    std::fs::write(dir.join("audits.csv"), audits)?;

    let lw = last;
    let realized = planted_flips as f64 / last_week_total.max(1) as f64;
    let share = segment_last_week as f64 / last_week_total.max(1) as f64;
    let events = json!([
        {
            "name": "routing_rule_change",
            "description": "routing rule billing_chat_v2 sends chat × billing conversations to the wrong queue first",
            "node": "routing_rate",
            "segment": {"channel": "chat", "category": "billing"},
            "routing_rule": "billing_chat_v2",
            "period": lw.label(),
            "baseline": lw.prev().label(),
            "effect": {
                "segment_rate_points": ROUTING_PLANT,
                "segment_share_of_conversations": share,
                "expected_root_points": ROUTING_PLANT * share,
                "realized_root_points": realized,
                "realized_conversations": planted_flips
            }
        },
        {
            "name": "integrations_knowledge_gap",
            "description": "a new integrations topic (webhooks_api) raises skill handoffs",
            "node": "skill_rate",
            "segment": {"category": "integrations"},
            "period": lw.back(*GAP_WEEKS.end() as u32).label(),
            "effect": {"segment_rate_points": SKILL_GAP}
        },
        {
            "name": "integrations_training",
            "description": "training on webhooks_api brings skill handoffs back down",
            "kind": "intervention",
            "node": "skill_rate",
            "segment": {"category": "integrations"},
            "period": lw.back(TRAINING_WEEK).label(),
            "effect": {"segment_rate_points": -SKILL_GAP}
        },
        {
            "name": "cold_transfer_quality_drop",
            "description": "cold transfers out of technical support are done badly: fewer audits find them done well and timely",
            "node": "handoff_quality_score",
            "segment": {"sending_team": "tech_support", "transfer_type": "cold"},
            "period": lw.back(QUALITY_WEEK).label(),
            "baseline": lw.back(QUALITY_WEEK + 1).label(),
            "effect": {"done_well_probability": [0.65, 0.15], "timely_probability": [0.8, 0.35]}
        },
        {
            "name": "escalation_guideline_refresh",
            "description": "refreshed escalation criteria; changed nothing",
            "kind": "intervention",
            "node": "escalation_rate",
            "segment": null,
            "period": lw.back(3).label(),
            "effect": {"segment_rate_points": 0.0}
        }
    ]);
    let planted = json!({
        "generator": "metrictree demo-data",
        "seed": o.seed,
        "weeks": o.weeks,
        "conversations": n_conv,
        "first_week": first.label(),
        "last_week": lw.label(),
        "note": "weeks are ISO weeks in Europe/Berlin; the data also holds the first 4 days of the week after last_week (partial)",
        "events": if o.plants { events } else { json!([]) }
    });
    let text = serde_json::to_string_pretty(&planted).unwrap_or_default() + "\n";
    std::fs::write(dir.join("planted.json"), text)?;
    Ok(Summary {
        conversations: n_conv,
        handoffs: n_hand,
        audits: n_audit,
        first_week: first.label(),
        last_week: lw.label(),
    })
}
