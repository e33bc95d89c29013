#!/usr/bin/env python3
"""The per-node plan (issue 19's (c)): every leaf measure of trees/handoff.yaml, one query per
measure and week, as a metrics layer that issues one query per metric does.

The same engine (DuckDB), tables, views and measure expressions as duckdb_nodes.py, which
computes them all in one GROUP BY per view: here each leaf measure of each week is its own
`SELECT <measure> FROM <view> WHERE <week>`, the views (joins included) planned and run again
for each. Formula and ratio nodes are not computed: they are arithmetic on the leaves.

    python duckdb_per_node.py --data-dir DIR --format csv --periods 12 --end 2026-W46

Output (stdout): {"periods": [...], "nodes": {"leaf_id": [value, ...]}}, the leaves only
(compare with `agree.py --nodes-of-b`). stderr: `query_seconds=X.XXX` and the query count.
"""

import argparse
import datetime
import json
import re
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb_nodes as dn  # noqa: E402  (the shared tables, views and measure definitions)

# The per-week aggregation blocks of duckdb_nodes.NODES and the view each reads.
BLOCKS = {"conv": "conversations", "tr": "transfers", "au": "audits"}


def leaves():
    """(leaf id, view, aggregate expression) for every measure of the three blocks."""
    out = []
    for block, view in BLOCKS.items():
        m = re.search(rf"\n{block} AS \(\n(.*?)\n    FROM {view}\n", dn.NODES, re.S)
        if m is None:
            sys.exit(f"cannot find the `{block}` block in duckdb_nodes.NODES")
        for line in m.group(1).splitlines():
            line = line.strip().rstrip(",")
            if line.startswith("SELECT"):
                continue  # the week column
            expr, name = line.rsplit(" AS ", 1)
            out.append((name, view, expr))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--periods", type=int, default=12)
    ap.add_argument("--end", required=True, help="the last week, e.g. 2026-W46")
    args = ap.parse_args()

    started = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{dn.TIMEZONE}'")
    reader = "read_csv" if args.format == "csv" else "read_parquet"
    for table, (name, columns) in dn.LOAD.items():
        path = str(args.data_dir / f"{name}.{args.format}")
        con.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM {reader}(?)", [path])

    def one(view, expr, start, stop):
        sql = (f"{dn.VIEWS} SELECT {expr} FROM {view} "
               f"WHERE created_at >= $start AND created_at < $stop")
        return con.execute(sql, {"start": start, "stop": stop}).fetchone()[0]

    run(one, args.periods, args.end, started)


def run(one, periods, end, started):
    """The per-node plan: `one(view, expr, start, stop)` (one query, its value) for every leaf
    and week; writes the leaves' table to stdout and the timing (from `started`) to stderr."""
    end = dn.iso_monday(end)
    weeks = [end - datetime.timedelta(weeks=k) for k in reversed(range(periods))]
    nodes = {}
    queries = 0
    for name, view, expr in leaves():
        values = []
        for start in weeks:
            v = one(view, expr, start, start + datetime.timedelta(days=7))
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
