#!/usr/bin/env python3
"""Variants of a demo-data directory that exercise what the clean demo data never does, so
that agreement with metrictree on them means the peers got the semantics right, not lucky.

    python edge_data.py SRC OUT      # writes OUT/messy, OUT/gaps, OUT/midnight, OUT/midnight_utc

- messy: NULLs in the flags, outcomes, times and CSAT the tree reads; a second `sequence = 1`
  row for some conversations, duplicated conversations and audits, transfers and audits that
  match nothing, and missing join keys (SQL joins never match NULL; pandas merges would).
- gaps: no transfer at all for the conversations of 2026-W40 and no audit for those of W40
  and W41: a view without rows in a week is undefined there (null), not 0.
- midnight: 8 % of the conversations moved to 00:10, 00:30 or 23:30 (Berlin wall clock), so
  that cutting weeks at UTC midnight instead of Berlin's would move some of them. The demo
  data creates conversations only between 08:00 and 20:00, where the cut never matters.
- midnight_utc: the same, every time written as a UTC instant (`2026-11-16T07:15:00Z`).

Every variant keeps the CSV's formats (true/false, `YYYY-MM-DD HH:MM:SS`, empty = NULL).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

NAMES = ("conversations", "handoffs", "audits")
TIMES = {"conversations": ["created_at", "first_response_at", "resolved_at"],
         "handoffs": ["transferred_at", "picked_up_at", "receiver_first_reply_at"],
         "audits": ["audited_at"]}


def read(d: Path) -> dict:
    # Everything as text, empty fields as "": the files are rewritten as they were written.
    return {n: pd.read_csv(d / f"{n}.csv", dtype=str, keep_default_na=False) for n in NAMES}


def write(tables: dict, d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for n, df in tables.items():
        df.to_csv(d / f"{n}.csv", index=False)


def messy(t: dict, rng) -> dict:
    c, h, a = t["conversations"].copy(), t["handoffs"].copy(), t["audits"].copy()

    def blank(df, col, share):
        df.loc[rng.random(len(df)) < share, col] = ""

    for col, share in [("reopened", .05), ("csat", .2), ("resolved_by", .05),
                       ("handling_seconds", .03), ("repeat_explanation", .05), ("status", .02),
                       ("resolved_at", .03)]:
        blank(c, col, share)
    for col, share in [("accepted", .05), ("completed", .05), ("picked_up_at", .05),
                       ("topic", .1), ("bot_trigger", .05), ("cause", .03),
                       ("receiver_first_reply_at", .05)]:
        blank(h, col, share)
    blank(a, "score", .1)
    # a second first transfer for some conversations, and transfers of unknown conversations
    second_first = h[h["sequence"] == "1"].sample(200, random_state=1)
    orphans = h.sample(50, random_state=2).assign(
        conversation_id=lambda d: (d["conversation_id"].astype(int) + 10_000_000).astype(str))
    h = pd.concat([h, second_first, orphans])
    # audits of transfers that do not exist, and audits counted twice
    a = pd.concat([a, a.sample(30, random_state=3).assign(sequence="9"),
                   a.sample(40, random_state=4)])
    c = pd.concat([c, c.sample(100, random_state=5)])  # conversations exported twice
    # missing join keys
    h.loc[h.sample(20, random_state=11).index, "sequence"] = ""
    h.loc[h.sample(10, random_state=12).index, "conversation_id"] = ""
    c.loc[c.sample(5, random_state=13).index, "conversation_id"] = ""
    a.loc[a.sample(5, random_state=14).index, "sequence"] = ""
    a.loc[a.sample(5, random_state=15).index, "conversation_id"] = ""
    return {"conversations": c, "handoffs": h, "audits": a}


def gaps(t: dict) -> dict:
    c = t["conversations"]
    week = pd.to_datetime(c["created_at"]).dt.isocalendar()
    label = week["year"].astype(str) + "-W" + week["week"].astype(str).str.zfill(2)
    ids = lambda *weeks: set(c.loc[label.isin(weeks), "conversation_id"])
    h, a = t["handoffs"], t["audits"]
    return {"conversations": c,
            "handoffs": h[~h["conversation_id"].isin(ids("2026-W40"))],
            "audits": a[~a["conversation_id"].isin(ids("2026-W40", "2026-W41"))]}


def midnight(t: dict, rng) -> dict:
    c = t["conversations"].copy()
    created = pd.to_datetime(c["created_at"])
    moved = rng.random(len(c)) < 0.08
    clock = pd.to_timedelta(rng.choice(["00:30:00", "23:30:00", "00:10:00"], len(c)))
    created = created.where(~moved, created.dt.normalize() + clock)
    c["created_at"] = created.dt.strftime("%Y-%m-%d %H:%M:%S")
    return {**t, "conversations": c}


def as_utc(t: dict) -> dict:
    out = {}
    for n, df in t.items():
        df = df.copy()
        for col in TIMES[n]:
            local = pd.to_datetime(df[col].replace("", None))
            # a wall-clock time repeated by the October change is read as the later (winter) one
            instant = local.dt.tz_localize("Europe/Berlin", ambiguous=np.zeros(len(df), bool))
            df[col] = instant.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
        out[n] = df
    return out


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    t = read(src)
    write(messy(t, np.random.default_rng(1)), out / "messy")
    write(gaps(t), out / "gaps")
    m = midnight(t, np.random.default_rng(7))
    write(m, out / "midnight")
    write(as_utc(m), out / "midnight_utc")
    print(f"wrote {out}/messy, gaps, midnight, midnight_utc")


if __name__ == "__main__":
    main()
