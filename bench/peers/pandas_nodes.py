#!/usr/bin/env python3
"""Every node of trees/handoff.yaml, per ISO week, computed with pandas.

A benchmark peer for metrictree (issue 19): the same numbers, written the way a pandas
user would write them by hand for this one tree. It reads the three exports that
`metrictree demo-data` writes (conversations, handoffs, audits), rebuilds the tree's three
SQL views with merges, aggregates each view per week with one vectorised groupby, and
derives the ratio and formula nodes from those weekly columns.

    python pandas_nodes.py --data-dir examples/support --periods 12 [--end 2026-W46]

Output (stdout): {"periods": ["2026-W35", ...], "nodes": {"node_id": [value or null, ...]}}
null means undefined: a division by zero, a mean over no values, or a week in which the
node's source has no rows at all. stderr gets `query_seconds=X.XXX`: the wall time from
reading the files to the finished node table (Python start-up and imports excluded).
"""

import argparse
import datetime
import json
import math
import sys
import time
from pathlib import Path

import pandas as pd

TIMEZONE = "Europe/Berlin"  # the tree's `timezone`: weeks start Monday 00:00 here
MATURITY = pd.Timedelta(days=3)  # the tree's `maturity`: a week is complete 3 days after its end
# Times outside this range are placeholders or mis-read dates; metrictree puts them in no period.
PLAUSIBLE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01"))

# Only the columns the tree uses (the dimension columns are not needed for totals).
COLUMNS = {
    "conversations": {
        "usecols": ["conversation_id", "created_at", "resolved_at", "first_owner", "resolved_by",
                    "reopened", "csat", "status", "handling_seconds", "repeat_explanation"],
        "times": ["created_at", "resolved_at"],
        "bools": ["reopened", "repeat_explanation"],
    },
    "handoffs": {
        "usecols": ["conversation_id", "sequence", "transferred_at", "picked_up_at",
                    "receiver_first_reply_at", "cause", "topic", "bot_trigger", "accepted",
                    "completed"],
        "times": ["transferred_at", "picked_up_at", "receiver_first_reply_at"],
        "bools": ["accepted", "completed"],
    },
    "audits": {
        "usecols": ["conversation_id", "sequence", "score"],
        "times": [],
        "bools": [],
    },
}


# --- reading ------------------------------------------------------------------------------

def local_time(s: pd.Series) -> pd.Series:
    """Wall-clock time in the tree's zone, which weeks are cut in. Naive timestamps already
    are (metrictree reads a time without an offset as Berlin wall-clock time); instants (a
    time with an offset) are converted. Durations are taken before this, from the times as
    read: between instants they are elapsed seconds, between naive times wall-clock ones."""
    if getattr(s.dt, "tz", None) is not None:
        return s.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    return s


def read(data_dir: Path, name: str, fmt: str) -> pd.DataFrame:
    spec = COLUMNS[name]
    if fmt == "csv":
        df = pd.read_csv(
            data_dir / f"{name}.csv",
            usecols=spec["usecols"],
            parse_dates=spec["times"],
            date_format="ISO8601",
            # nullable booleans: an empty field stays NA instead of turning the column to object
            dtype={c: "boolean" for c in spec["bools"]},
        )
    else:
        df = pd.read_parquet(data_dir / f"{name}.parquet", columns=spec["usecols"])
    return df


# --- the tree's three SQL views, as merges -----------------------------------------------------

def is_true(s: pd.Series) -> pd.Series:
    """SQL's `WHERE x`: NULL is not true."""
    return s.fillna(False).astype(bool)


def is_false(s: pd.Series) -> pd.Series:
    """SQL's `WHERE NOT x`: NOT NULL is NULL, so a missing flag passes neither filter."""
    return s.eq(False).fillna(False).astype(bool)


def seconds(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """date_part('epoch', later) - date_part('epoch', earlier): seconds between the times as
    read (wall-clock ones for naive times), NaN if either is missing."""
    return (later - earlier).dt.total_seconds()


def build_views(conv_raw, ho_raw, aud_raw):
    # A join never matches a NULL key in SQL, while pandas' merge matches NaN with NaN: leave
    # out the rows that could only join through a missing key. (A transfer without a sequence
    # still counts in its conversation's transfers, as COUNT(*) counts it.)
    ho_raw = ho_raw.dropna(subset=["conversation_id"])
    aud_raw = aud_raw.dropna(subset=["conversation_id", "sequence"])

    # SELECT conversation_id, COUNT(*) AS transfers FROM handoffs_raw GROUP BY conversation_id
    transfers_per_conversation = ho_raw.groupby("conversation_id").size()

    # `conversations`: one row per conversation with its first transfer's cause, topic and bot
    # trigger (LEFT JOIN on sequence = 1) and its number of transfers (0 when none).
    first = (ho_raw.loc[ho_raw["sequence"].eq(1), ["conversation_id", "cause", "topic", "bot_trigger"]]
             .rename(columns={"cause": "first_cause", "topic": "first_topic",
                              "bot_trigger": "first_bot_trigger"}))
    # Every view is placed in weeks by its conversation's creation time, on the wall clock.
    conv_raw = conv_raw.assign(created_at=local_time(conv_raw["created_at"]))
    conversations = conv_raw.merge(first, on="conversation_id", how="left")
    conversations["transfers"] = (conversations["conversation_id"]
                                  .map(transfers_per_conversation).fillna(0))
    conversations["first_contact_resolved"] = (
        # COALESCE(resolved_by = first_owner, false): a missing owner is not a match
        conversations["resolved_by"].eq(conversations["first_owner"]).fillna(False).astype(bool)
        & conversations["transfers"].eq(0)
        & is_false(conversations["reopened"])
    )

    # `transfers`: one row per transfer (inner join: transfers of known conversations only),
    # placed in the week its conversation was created.
    transfers = ho_raw.merge(
        conv_raw[["conversation_id", "created_at", "status", "reopened", "resolved_at"]],
        on="conversation_id",
    )
    transfers["transfers"] = transfers["conversation_id"].map(transfers_per_conversation)
    transfers["wait_seconds"] = seconds(transfers["picked_up_at"], transfers["transferred_at"])
    transfers["reply_seconds"] = seconds(transfers["receiver_first_reply_at"],
                                         transfers["transferred_at"])
    # The receiver of the conversation's last transfer accepted it and the conversation ended
    # resolved...
    last_accepted_resolved = (transfers["sequence"].eq(transfers["transfers"])
                              & is_true(transfers["accepted"])
                              & transfers["status"].eq("resolved"))
    # ... and it was not reopened,
    transfers["succeeded"] = last_accepted_resolved & is_false(transfers["reopened"])
    # ... or within 15 minutes of the transfer (NaN <= 900 is False, as NULL is not true).
    transfers["resolved_quickly"] = last_accepted_resolved & (
        seconds(transfers["resolved_at"], transfers["transferred_at"]) <= 900)

    # `audits`: audited transfers (inner joins), in their conversation's week.
    audits = (aud_raw
              .merge(ho_raw[["conversation_id", "sequence"]].dropna(),
                     on=["conversation_id", "sequence"])
              .merge(conv_raw[["conversation_id", "created_at"]], on="conversation_id"))
    return conversations, transfers, audits


# --- weeks -----------------------------------------------------------------------------------

def week_label(p: pd.Period) -> str:
    year, week, _ = p.start_time.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(label: str) -> pd.Period:
    year, week = label.split("-W")
    monday = pd.Timestamp(datetime.date.fromisocalendar(int(year), int(week), 1))
    return monday.to_period("W-SUN")  # ISO weeks: Monday to Sunday


def plausible(t: pd.Series) -> pd.Series:
    return t[(t >= PLAUSIBLE[0]) & (t < PLAUSIBLE[1])]


def data_span(views):
    """metrictree's data extent: the data ends where the source that ends first ends (each
    view's time column), and starts at the earliest first time."""
    times = [plausible(v["created_at"]) for v in views]
    times = [t for t in times if len(t)]
    if not times:
        sys.exit("no timed rows in the data")
    return min(t.min() for t in times), min(t.max() for t in times)


def latest_complete_week(first: pd.Timestamp, last: pd.Timestamp) -> pd.Period:
    """The week that contains the data's last time, or the one before it, ..., until the data
    reaches the week's end plus the maturity."""
    p = last.to_period("W-SUN")
    while True:
        start = p.start_time
        end = start + pd.Timedelta(days=7)  # next Monday 00:00 (wall clock)
        if start > last or end <= first:
            sys.exit("the data holds no complete week")
        if end + MATURITY <= last:
            return p
        p -= 1


# --- the tree ----------------------------------------------------------------------------------

def weekly_measures(conversations, transfers, audits, weeks: pd.PeriodIndex) -> pd.DataFrame:
    """The leaf measures: one row per week, one column per leaf."""

    def per_week(df: pd.DataFrame, columns: dict, means: dict = None) -> pd.DataFrame:
        week = df["created_at"].dt.to_period("W-SUN")
        keep = week.isin(weeks)
        grouped = pd.DataFrame(columns, index=df.index)[keep].groupby(week[keep])
        out = grouped.sum()  # counts are sums of booleans; a sum skips NaN (0 when none)
        for name, values in (means or {}).items():
            out[name] = values[keep].groupby(week[keep]).mean()  # NaN when no values
        # A week in which the view has no rows at all is undefined for all its measures
        # (not 0): reindexing leaves those weeks NaN.
        return out.reindex(weeks)

    c = conversations
    cause, topic, trigger = c["first_cause"], c["first_topic"], c["first_bot_trigger"]
    transferred = c["transfers"] > 0
    conv = per_week(c, {
        "conversations": 1,
        "routed_first": cause.eq("routing"),
        "escalated_first": cause.eq("escalation"),
        "unclassified_first": cause.eq("unclassified"),
        "skill_webhooks_first": cause.eq("skill") & topic.eq("webhooks_api"),
        "skill_other_first": cause.eq("skill") & topic.fillna("").ne("webhooks_api"),
        "bot_user_asked_first": cause.eq("channel") & trigger.eq("user_asked"),
        "bot_frustration_first": cause.eq("channel") & trigger.eq("frustration"),
        "bot_could_not_answer_first": cause.eq("channel") & trigger.eq("bot_could_not_answer"),
        "other_channel_first": cause.eq("channel") & trigger.isna(),
        "first_contact_resolved": c["first_contact_resolved"],
        "handling_seconds_total": c["handling_seconds"],
        "transferred_conversations": transferred,
        "rated_transferred": transferred & c["csat"].notna(),
        "rated_untransferred": c["transfers"].eq(0) & c["csat"].notna(),
        "csat_total_transferred": c["csat"].where(transferred),
        "csat_total_untransferred": c["csat"].where(c["transfers"].eq(0)),
        "repeat_explained": transferred & is_true(c["repeat_explanation"]),
        "bounced_conversations": c["transfers"] >= 3,
    })

    t = transfers
    accepted = is_true(t["accepted"])
    replied = accepted & t["reply_seconds"].notna()
    tr = per_week(t, {
        "transfer_count": 1,
        "wait_seconds_total": t["wait_seconds"],
        "avoidable_transfers": t["cause"].isin(["routing", "skill"]),
        "completed_transfers": accepted & is_true(t["completed"]),
        "successful_transfers": t["succeeded"],
        "reply_seconds_total": t["reply_seconds"].where(replied),
        "replied_transfers": replied,
        "quickly_resolved_transfers": t["resolved_quickly"],
    }, means={
        "mean_pickup_wait": t["wait_seconds"].where(accepted),
    })

    au = per_week(audits, {
        "audit_score_total": audits["score"],
        "audited_transfers": 1,
    })
    return pd.concat([conv, tr, au], axis=1).astype(float)


def ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    """a ÷ b, undefined (NaN) when b is 0 (5/0 as well as 0/0) or either side is undefined."""
    return a / b.where(b != 0)


def tree_nodes(m: pd.DataFrame) -> dict:
    """The formula and ratio nodes over the weekly leaves; NaN propagates through them."""
    n = {}
    conv = m["conversations"]
    n["routing_rate"] = ratio(m["routed_first"], conv)
    n["skill_webhooks_rate"] = ratio(m["skill_webhooks_first"], conv)
    n["skill_other_rate"] = ratio(m["skill_other_first"], conv)
    n["skill_rate"] = n["skill_webhooks_rate"] + n["skill_other_rate"]
    n["escalation_rate"] = ratio(m["escalated_first"], conv)
    n["bot_user_asked_rate"] = ratio(m["bot_user_asked_first"], conv)
    n["bot_frustration_rate"] = ratio(m["bot_frustration_first"], conv)
    n["bot_could_not_answer_rate"] = ratio(m["bot_could_not_answer_first"], conv)
    n["other_channel_move_rate"] = ratio(m["other_channel_first"], conv)
    n["channel_rate"] = (n["bot_user_asked_rate"] + n["bot_frustration_rate"]
                         + n["bot_could_not_answer_rate"] + n["other_channel_move_rate"])
    n["unclassified_rate"] = ratio(m["unclassified_first"], conv)
    n["handoff_rate"] = (n["routing_rate"] + n["skill_rate"] + n["escalation_rate"]
                         + n["channel_rate"] + n["unclassified_rate"])
    # companions
    transfers = m["transfer_count"]
    n["handoffs_per_conversation"] = ratio(transfers, conv)
    n["first_contact_resolution"] = ratio(m["first_contact_resolved"], conv)
    n["time_lost_share"] = ratio(m["wait_seconds_total"], m["handling_seconds_total"])
    n["avoidable_share"] = ratio(m["avoidable_transfers"], transfers)
    n["transfer_completion_rate"] = ratio(m["completed_transfers"], transfers)
    n["transferred_csat"] = ratio(m["csat_total_transferred"], m["rated_transferred"])
    n["untransferred_csat"] = ratio(m["csat_total_untransferred"], m["rated_untransferred"])
    n["csat_gap"] = n["untransferred_csat"] - n["transferred_csat"]
    n["handoff_success_rate"] = ratio(m["successful_transfers"], transfers)
    n["handoff_quality_score"] = ratio(m["audit_score_total"], m["audited_transfers"])
    n["receiver_response_time"] = ratio(m["reply_seconds_total"], m["replied_transfers"])
    n["time_lost_per_conversation"] = ratio(m["wait_seconds_total"], conv)
    n["quick_resolution_share"] = ratio(m["quickly_resolved_transfers"], transfers)
    n["repeat_explanation_rate"] = ratio(m["repeat_explained"], m["transferred_conversations"])
    n["bouncing_share"] = ratio(m["bounced_conversations"], m["transferred_conversations"])
    return pd.concat([pd.DataFrame(n, index=m.index), m], axis=1)


# --- command line ------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--end", help="the last week, e.g. 2026-W46 (default: the latest complete one)")
    args = ap.parse_args()

    started = time.perf_counter()
    conv_raw, ho_raw, aud_raw = (read(args.data_dir, name, args.format)
                                 for name in ("conversations", "handoffs", "audits"))
    views = build_views(conv_raw, ho_raw, aud_raw)

    first, last = data_span(views)
    end = parse_week(args.end) if args.end else latest_complete_week(first, last)
    # The last N weeks, but none before the week the data starts in (as metrictree's history).
    weeks = pd.period_range(end=end, periods=args.periods, freq="W-SUN")
    weeks = weeks[weeks >= first.to_period("W-SUN")]
    if len(weeks) == 0:
        weeks = pd.PeriodIndex([end])

    nodes = tree_nodes(weekly_measures(*views, weeks))
    elapsed = time.perf_counter() - started

    def value(x: float):
        return None if math.isnan(x) else float(x)

    json.dump({
        "periods": [week_label(p) for p in weeks],
        "nodes": {name: [value(x) for x in nodes[name]] for name in nodes.columns},
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")
    print(f"query_seconds={elapsed:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
