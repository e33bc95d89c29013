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
import datetime
import json
import os
import re
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb_nodes as dn  # noqa: E402  (the views and measure expressions)
from duckdb_per_node import leaves  # noqa: E402  (the 30 leaves: id, view, expression)


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
        end = dn.iso_monday(args.end)
        weeks = [end - datetime.timedelta(weeks=k) for k in reversed(range(args.periods))]
        nodes = {}
        queries = 0
        for name, view, expr in leaves():
            values = []
            for start in weeks:
                sql = (f"SELECT {expr} FROM {view} "
                       f"WHERE created_at >= %(start)s AND created_at < %(stop)s")
                stop = start + datetime.timedelta(days=7)
                (v,) = con.execute(sql, {"start": start, "stop": stop}).fetchone()
                queries += 1
                values.append(None if v is None else float(v))
            nodes[name] = values
    elapsed = time.perf_counter() - started

    json.dump({"periods": [w.strftime("%G-W%V") for w in weeks], "nodes": nodes},
              sys.stdout, indent=1)
    sys.stdout.write("\n")
    print(f"query_seconds={elapsed:.3f} queries={queries}", file=sys.stderr)


if __name__ == "__main__":
    main()
