#!/usr/bin/env python3
"""The per-node plan in PostgreSQL (issue 19's (c) there): every leaf measure of
trees/handoff.yaml, one query per measure and week, against the tables `metrictree load`
writes (conversations_raw, handoffs_raw, audits_raw).

The tree's three SQL sources become temporary views, taken verbatim from duckdb_nodes.py's
CTEs except that `epoch(t)` is `extract(epoch FROM t)`; the measure expressions are
duckdb_nodes.py's, unchanged. The demo data's times are wall-clock times without an offset,
which `load` writes as `timestamp`: the views' `::TIMESTAMP` is then no cast at all, and a
week's predicate can use an index on `conversations_raw (created_at)`. Each leaf of each week is its own
`SELECT <measure> FROM <view> WHERE <week>`, planned and run again, as a metrics layer that
issues one query per metric does.

    python pg_per_node.py --dsn-env BIG --periods 12 --end 2026-W46

Output (stdout): {"periods": [...], "nodes": {"leaf_id": [value, ...]}}, the leaves only
(compare with `agree.py --nodes-of-b`). stderr: `query_seconds=X.XXX` and the query count.
The connection string is read from the environment variable named by --dsn-env, never
printed.
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb_nodes as dn  # noqa: E402  (the views and measure expressions)
from duckdb_per_node import run  # noqa: E402  (the 30 leaves, one query each per week)


def views() -> list[tuple[str, str]]:
    """(name, body) of each CTE in duckdb_nodes.VIEWS, in order, in PostgreSQL's dialect."""
    out = []
    for name, body in re.findall(r"(\w+) AS \(\n(.*?)\n\)", dn.VIEWS, re.S):
        body = re.sub(r"epoch\(([^()]*)\)", r"extract(epoch FROM \1)", body)
        out.append((name, body))
    if [n for n, _ in out] != ["n", "conversations", "transfers", "audits"]:
        sys.exit(f"unexpected views in duckdb_nodes.VIEWS: {[n for n, _ in out]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn-env", required=True, help="the variable that holds the connection string")
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--end", required=True, help="the last week, e.g. 2026-W46")
    args = ap.parse_args()
    dsn = os.environ.get(args.dsn_env)
    if not dsn:
        sys.exit(f"set {args.dsn_env} to a PostgreSQL connection string")

    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f"SET TimeZone = '{dn.TIMEZONE}'")
        for name, body in views():
            con.execute(f"CREATE TEMP VIEW {name} AS {body}")

        def one(view, expr, start, stop):
            sql = f"SELECT {expr} FROM {view} WHERE created_at >= %(start)s AND created_at < %(stop)s"
            return con.execute(sql, {"start": start, "stop": stop}).fetchone()[0]

        run(one, args.periods, args.end, started)


if __name__ == "__main__":
    main()
