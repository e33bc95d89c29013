#!/usr/bin/env python3
"""Every node of trees/handoff.yaml, per ISO week, computed with DuckDB SQL.

A benchmark peer for metrictree (issue 19): the same numbers, written the way a DuckDB user
would write them by hand for this one tree. The three exports that `metrictree demo-data`
writes (conversations, handoffs, audits) are loaded into in-memory tables, the tree's three
SQL views become CTEs, each view is aggregated per week in one GROUP BY, and the ratio and
formula nodes are columns of one final SELECT over a spine of weeks.

    python duckdb_nodes.py --data-dir examples/support --periods 12 [--end 2026-W46]

Output (stdout): {"periods": ["2026-W35", ...], "nodes": {"node_id": [value or null, ...]}}
null means undefined: a division by zero, a mean over no values, or a week in which the
node's source has no rows at all. stderr gets `query_seconds=X.XXX`: the wall time from
reading the files to the fetched result (Python start-up and imports excluded).
"""

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import duckdb

TIMEZONE = "Europe/Berlin"  # the tree's `timezone`: weeks start Monday 00:00 here
MATURITY = datetime.timedelta(days=3)  # a week is complete once the data reaches 3 days past it

# Only the columns the tree uses.
LOAD = {
    "conversations_raw": ("conversations", """
        conversation_id, created_at, resolved_at, first_owner, resolved_by, reopened, csat,
        status, handling_seconds, repeat_explanation"""),
    "handoffs_raw": ("handoffs", """
        conversation_id, sequence, transferred_at, picked_up_at, receiver_first_reply_at,
        cause, topic, bot_trigger, accepted, completed"""),
    "audits_raw": ("audits", "conversation_id, sequence, score"),
}

# The tree's three SQL sources, as CTEs (the tree's SQL, cut to the columns the nodes read).
# Each is placed in weeks by its conversation's creation time on the wall clock: `::TIMESTAMP`
# leaves a naive timestamp as it is (metrictree reads a time without an offset as Berlin
# wall-clock time) and turns an instant (TIMESTAMPTZ) into wall-clock time in the session's
# zone, set to the tree's. Durations are taken from the times as read.
VIEWS = """
WITH n AS (
    SELECT conversation_id, count(*) AS transfers FROM handoffs_raw GROUP BY conversation_id
),
-- One row per conversation, with its first transfer's cause: the cohort every rate uses.
conversations AS (
    SELECT c.created_at::TIMESTAMP AS created_at, c.reopened, c.csat, c.handling_seconds, c.repeat_explanation,
           f.cause AS first_cause, f.topic AS first_topic, f.bot_trigger AS first_bot_trigger,
           coalesce(n.transfers, 0) AS transfers,
           coalesce(c.resolved_by = c.first_owner, false)
             AND coalesce(n.transfers, 0) = 0 AND NOT c.reopened AS first_contact_resolved
    FROM conversations_raw c
    LEFT JOIN handoffs_raw f ON f.conversation_id = c.conversation_id AND f.sequence = 1
    LEFT JOIN n ON n.conversation_id = c.conversation_id
),
-- One row per transfer, placed in the week its conversation was created.
transfers AS (
    SELECT c.created_at::TIMESTAMP AS created_at, h.cause, h.accepted, h.completed,
           epoch(h.picked_up_at) - epoch(h.transferred_at) AS wait_seconds,
           epoch(h.receiver_first_reply_at) - epoch(h.transferred_at) AS reply_seconds,
           h.sequence = n.transfers AND h.accepted AND c.status = 'resolved'
             AND NOT c.reopened AS succeeded,
           h.sequence = n.transfers AND h.accepted AND c.status = 'resolved'
             AND epoch(c.resolved_at) - epoch(h.transferred_at) <= 900 AS resolved_quickly
    FROM handoffs_raw h
    JOIN conversations_raw c ON c.conversation_id = h.conversation_id
    JOIN n ON n.conversation_id = h.conversation_id
),
-- Receiver audits of a sample of transfers, placed in their conversation's week.
audits AS (
    SELECT c.created_at::TIMESTAMP AS created_at, a.score
    FROM audits_raw a
    JOIN handoffs_raw h ON h.conversation_id = a.conversation_id AND h.sequence = a.sequence
    JOIN conversations_raw c ON c.conversation_id = a.conversation_id
)
"""

# The data's span: it ends where the view that ends first ends, among plausible times.
EXTENT = VIEWS + """,
spans AS (
    SELECT min(created_at) AS lo, max(created_at) AS hi FROM conversations WHERE plausible(created_at)
    UNION ALL
    SELECT min(created_at), max(created_at) FROM transfers WHERE plausible(created_at)
    UNION ALL
    SELECT min(created_at), max(created_at) FROM audits WHERE plausible(created_at)
)
SELECT min(lo), min(hi) FROM spans
"""

# Every node per week. A view's sums are 0 when no row of the week passes the filter, but
# every measure of a view is NULL in a week where the view has no rows at all: the weeks come
# from a spine, LEFT JOINed to each view's weekly totals.
NODES = VIEWS + """,
weeks AS (
    SELECT unnest(generate_series($first::TIMESTAMP, $last::TIMESTAMP, INTERVAL 7 DAY)) AS week
),
conv AS (
    SELECT date_trunc('week', created_at) AS week,
           count(*) AS conversations,
           count(*) FILTER (WHERE first_cause = 'routing') AS routed_first,
           count(*) FILTER (WHERE first_cause = 'escalation') AS escalated_first,
           count(*) FILTER (WHERE first_cause = 'unclassified') AS unclassified_first,
           count(*) FILTER (WHERE first_cause = 'skill' AND first_topic = 'webhooks_api') AS skill_webhooks_first,
           count(*) FILTER (WHERE first_cause = 'skill' AND coalesce(first_topic, '') <> 'webhooks_api') AS skill_other_first,
           count(*) FILTER (WHERE first_cause = 'channel' AND first_bot_trigger = 'user_asked') AS bot_user_asked_first,
           count(*) FILTER (WHERE first_cause = 'channel' AND first_bot_trigger = 'frustration') AS bot_frustration_first,
           count(*) FILTER (WHERE first_cause = 'channel' AND first_bot_trigger = 'bot_could_not_answer') AS bot_could_not_answer_first,
           count(*) FILTER (WHERE first_cause = 'channel' AND first_bot_trigger IS NULL) AS other_channel_first,
           count(*) FILTER (WHERE first_contact_resolved) AS first_contact_resolved,
           coalesce(sum(handling_seconds), 0) AS handling_seconds_total,
           count(*) FILTER (WHERE transfers > 0) AS transferred_conversations,
           count(*) FILTER (WHERE transfers > 0 AND csat IS NOT NULL) AS rated_transferred,
           count(*) FILTER (WHERE transfers = 0 AND csat IS NOT NULL) AS rated_untransferred,
           coalesce(sum(csat) FILTER (WHERE transfers > 0), 0) AS csat_total_transferred,
           coalesce(sum(csat) FILTER (WHERE transfers = 0), 0) AS csat_total_untransferred,
           count(*) FILTER (WHERE transfers > 0 AND repeat_explanation) AS repeat_explained,
           count(*) FILTER (WHERE transfers >= 3) AS bounced_conversations
    FROM conversations
    WHERE created_at >= $first AND created_at < $stop
    GROUP BY ALL
),
tr AS (
    SELECT date_trunc('week', created_at) AS week,
           count(*) AS transfer_count,
           coalesce(sum(wait_seconds), 0) AS wait_seconds_total,
           count(*) FILTER (WHERE cause IN ('routing', 'skill')) AS avoidable_transfers,
           count(*) FILTER (WHERE accepted AND completed) AS completed_transfers,
           avg(wait_seconds) FILTER (WHERE accepted) AS mean_pickup_wait,
           count(*) FILTER (WHERE succeeded) AS successful_transfers,
           coalesce(sum(reply_seconds) FILTER (WHERE accepted AND reply_seconds IS NOT NULL), 0) AS reply_seconds_total,
           count(*) FILTER (WHERE accepted AND reply_seconds IS NOT NULL) AS replied_transfers,
           count(*) FILTER (WHERE resolved_quickly) AS quickly_resolved_transfers
    FROM transfers
    WHERE created_at >= $first AND created_at < $stop
    GROUP BY ALL
),
au AS (
    SELECT date_trunc('week', created_at) AS week,
           coalesce(sum(score), 0) AS audit_score_total,
           count(*) AS audited_transfers
    FROM audits
    WHERE created_at >= $first AND created_at < $stop
    GROUP BY ALL
)
SELECT strftime(week, '%G-W%V') AS period,
       -- the root's tree (a later column may name an earlier one)
       ratio(routed_first, conversations) AS routing_rate,
       ratio(skill_webhooks_first, conversations) AS skill_webhooks_rate,
       ratio(skill_other_first, conversations) AS skill_other_rate,
       skill_webhooks_rate + skill_other_rate AS skill_rate,
       ratio(escalated_first, conversations) AS escalation_rate,
       ratio(bot_user_asked_first, conversations) AS bot_user_asked_rate,
       ratio(bot_frustration_first, conversations) AS bot_frustration_rate,
       ratio(bot_could_not_answer_first, conversations) AS bot_could_not_answer_rate,
       ratio(other_channel_first, conversations) AS other_channel_move_rate,
       bot_user_asked_rate + bot_frustration_rate + bot_could_not_answer_rate
         + other_channel_move_rate AS channel_rate,
       ratio(unclassified_first, conversations) AS unclassified_rate,
       routing_rate + skill_rate + escalation_rate + channel_rate + unclassified_rate AS handoff_rate,
       -- companions
       ratio(transfer_count, conversations) AS handoffs_per_conversation,
       ratio(first_contact_resolved, conversations) AS first_contact_resolution,
       ratio(wait_seconds_total, handling_seconds_total) AS time_lost_share,
       ratio(avoidable_transfers, transfer_count) AS avoidable_share,
       ratio(completed_transfers, transfer_count) AS transfer_completion_rate,
       ratio(csat_total_transferred, rated_transferred) AS transferred_csat,
       ratio(csat_total_untransferred, rated_untransferred) AS untransferred_csat,
       untransferred_csat - transferred_csat AS csat_gap,
       ratio(successful_transfers, transfer_count) AS handoff_success_rate,
       ratio(audit_score_total, audited_transfers) AS handoff_quality_score,
       ratio(reply_seconds_total, replied_transfers) AS receiver_response_time,
       ratio(wait_seconds_total, conversations) AS time_lost_per_conversation,
       ratio(quickly_resolved_transfers, transfer_count) AS quick_resolution_share,
       ratio(repeat_explained, transferred_conversations) AS repeat_explanation_rate,
       ratio(bounced_conversations, transferred_conversations) AS bouncing_share,
       -- the leaves
       COLUMNS(* EXCLUDE (week))
FROM weeks
LEFT JOIN conv USING (week)
LEFT JOIN tr USING (week)
LEFT JOIN au USING (week)
ORDER BY week
"""


def iso_monday(label: str) -> datetime.datetime:
    year, week = label.split("-W")
    return datetime.datetime.combine(datetime.date.fromisocalendar(int(year), int(week), 1),
                                     datetime.time())


def latest_complete_week(first: datetime.datetime, last: datetime.datetime) -> datetime.datetime:
    """The Monday of the latest week the data covers to its end plus the maturity: start with
    the week that holds the data's last time and step back."""
    start = datetime.datetime.combine(last.date() - datetime.timedelta(days=last.weekday()),
                                      datetime.time())
    while True:
        end = start + datetime.timedelta(days=7)
        if start > last or end <= first:
            sys.exit("the data holds no complete week")
        if end + MATURITY <= last:
            return start
        start -= datetime.timedelta(days=7)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--end", help="the last week, e.g. 2026-W46 (default: the latest complete one)")
    args = ap.parse_args()

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    # ratio(a, b) = a ÷ b, NULL when b is 0 (5/0 as well as 0/0) or either side is NULL.
    con.execute("CREATE MACRO ratio(a, b) AS a::DOUBLE / nullif(b, 0)")
    con.execute("CREATE MACRO plausible(t) AS t >= TIMESTAMP '1900-01-01' AND t < TIMESTAMP '2200-01-01'")
    reader = "read_csv" if args.format == "csv" else "read_parquet"
    for table, (name, columns) in LOAD.items():
        path = str(args.data_dir / f"{name}.{args.format}")
        con.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM {reader}(?)", [path])

    first, last = con.execute(EXTENT).fetchone()
    if first is None:
        sys.exit("no timed rows in the data")
    end = iso_monday(args.end) if args.end else latest_complete_week(first, last)
    # The last N weeks, but none before the week the data starts in (as metrictree's history).
    start = end - datetime.timedelta(weeks=args.periods - 1)
    data_start = datetime.datetime.combine(first.date() - datetime.timedelta(days=first.weekday()),
                                           datetime.time())
    start = max(start, data_start) if data_start <= end else end

    result = con.execute(NODES, {"first": start, "last": end,
                                 "stop": end + datetime.timedelta(days=7)})
    names = [d[0] for d in result.description]
    rows = result.fetchall()
    elapsed = time.perf_counter() - started

    columns = list(zip(*rows))
    json.dump({
        "periods": list(columns[0]),
        "nodes": {name: [None if v is None else float(v) for v in values]
                  for name, values in zip(names[1:], columns[1:])},
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")
    print(f"query_seconds={elapsed:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
