#!/usr/bin/env python3
"""Do two node tables agree? Compares, node by node and week by week, two JSON files:

  - a peer's output:   {"periods": ["2026-W35", ...], "nodes": {"id": [v or null, ...]}}
  - metrictree's own `history --format json`:
                       {"periods": [{"label": ...}, ...], "nodes": [{"id": ..., "values": [...]}]}

    python agree.py A.json B.json [--tol 1e-9] [--nodes-of-b]

Prints the largest relative difference of each node, |a - b| / max(|a|, |b|) (0 when both are
0 or both null), and exits 1 when the weeks differ, a node is missing on one side, a value is
null on one side only, or a node differs by more than --tol. With --nodes-of-b only the nodes B
holds are compared (a peer that computes the leaves only). Standard library only.
"""

import argparse
import json
import math
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    periods = [p["label"] if isinstance(p, dict) else p for p in doc["periods"]]
    nodes = doc["nodes"]
    if isinstance(nodes, list):  # metrictree's shape
        nodes = {n["id"]: n["values"] for n in nodes}
    return periods, nodes


def relative(a, b):
    if a is None and b is None:
        return 0.0
    if a is None or b is None:
        return math.inf  # null against a number: never agreement
    if math.isnan(a) or math.isnan(b):
        return math.inf  # NaN is not a value; undefined is null
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--nodes-of-b", action="store_true", help="compare only the nodes B holds")
    args = ap.parse_args()

    pa, na = load(args.a)
    pb, nb = load(args.b)
    ok = True
    if pa != pb:
        print(f"weeks differ:\n  {args.a}: {pa}\n  {args.b}: {pb}")
        sys.exit(1)

    ids = list(nb) if args.nodes_of_b else list(na) + [i for i in nb if i not in na]
    width = max(len(i) for i in ids)
    print(f"{len(pa)} weeks, {pa[0]} to {pa[-1]}; {len(ids)} nodes; tolerance {args.tol:g}")
    worst = 0.0
    for i in ids:
        if i not in na or i not in nb:
            print(f"{i:<{width}}  missing in {args.b if i in na else args.a}")
            ok = False
            continue
        diffs = [relative(x, y) for x, y in zip(na[i], nb[i], strict=True)]
        d = max(diffs)
        if math.isinf(d):
            weeks = [pa[k] for k, v in enumerate(diffs) if math.isinf(v)]
            note = "  null vs number in " + ", ".join(weeks)
        elif d > args.tol:
            note = "  DIFFERS"
        else:
            nulls = sum(x is None for x in na[i])
            note = f"  ({nulls} null weeks on both sides)" if nulls else ""
        print(f"{i:<{width}}  max rel diff {d:.3e}{note}")
        if d > args.tol:
            ok = False
        worst = max(worst, d)
    print(f"overall max rel diff {worst:.3e}: {'AGREE' if ok else 'DISAGREE'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
