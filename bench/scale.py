#!/usr/bin/env python3
"""The scale benchmark of docs/performance.md: metrictree on the flagship tree against the
floor of its own engine and against pandas and DuckDB computing the same node values.

Run it through `bash bench/scale.sh` (it builds the release binary and the floor, and makes
a virtualenv with pandas, duckdb and pyarrow), or directly with such a Python:

    python bench/scale.py --mt target/release/metrictree --floor PATH [--sizes 1000000,10000000]

Per size it generates the data once with `metrictree demo-data` (12 weeks, seed 7) as CSV,
copies it to Parquet beside it, then per format:
  1. checks that the values agree before timing anything: `metrictree history` over 12 weeks
     against the pandas and DuckDB peers (bench/peers/agree.py, 1e-9 relative), and `why`'s
     two weeks against `history`'s;
  2. times, each as its own cold process under `/usr/bin/time -v` (wall, CPU, peak RSS):
     (a) `why` (default search), (a') `eval` and `history --periods 12`, (b) the floor
     (bench/scan_floor.rs: one scan touching every column the tree reads), (c) the per-node
     plan (bench/peers/duckdb_per_node.py: a query per leaf and week; its agreement run is
     its one timed run), (d) pandas and (e) DuckDB (the peers: every node for 12 weeks);
  3. times `why` and `history` again on the tree with 50 more leaf measures on the
     conversations source.
Then it prints one table per size and format, the ratios, and the growth from the first size
to the last. Nothing is cached between runs by metrictree; the OS page cache is warm for
everyone alike.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
TREE = ROOT / "trees" / "handoff.yaml"
WIDE_WHY = "(a) why, 50 more leaves"
WIDE_HISTORY = "(a') history, 50 more leaves"
PER_NODE = "(c) per-node plan (DuckDB, a query per leaf and week)"


class Failed(Exception):
    """A timed job exited non-zero; the message is its first error line."""


def timed(cmd, out=None):
    """Runs `cmd` under /usr/bin/time -v; returns (wall s, cpu s, peak RSS MB, stdout, stderr).
    Raises Failed if it exits non-zero."""
    res = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], capture_output=True, text=True)
    if res.returncode != 0:
        first = next((l for l in res.stderr.splitlines() if l.startswith("error")), res.stderr[-300:])
        raise Failed(f"{' '.join(map(str, cmd))}: {first}")
    err = res.stderr

    def field(name):
        m = re.search(re.escape(name) + r":\s*(.+)", err)
        return m.group(1).strip() if m else "0"

    clock = field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(clock)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    if out is not None:
        Path(out).write_text(res.stdout)
    return wall, cpu, rss, res.stdout, err


def query_seconds(stderr_or_stdout):
    m = re.search(r"query_seconds=([0-9.]+)", stderr_or_stdout)
    return float(m.group(1)) if m else None


def tree_copy(work, name, text):
    """A variant of the flagship tree in `work`, with its actions file beside it."""
    (work / "handoff.actions.yaml").write_text((TREE.parent / "handoff.actions.yaml").read_text())
    out = work / name
    out.write_text(text)
    return out


def parquet_tree(work):
    """The flagship tree reading `.parquet` files."""
    return tree_copy(work, "handoff-parquet.yaml", TREE.read_text().replace(".csv\n", ".parquet\n"))


def wider_tree(tree, work, extra=50):
    """`tree` with `extra` more leaf measures on the conversations source, as companions."""
    text = tree.read_text()
    names = [f"extra_{k:02}" for k in range(extra)]
    text = text.replace("companions:\n", "companions:\n" + "".join(f"  - {n}\n" for n in names), 1)
    for k, n in enumerate(names):
        agg = ["count", "sum"][k % 2]
        expr = "" if agg == "count" else ", expr: handling_seconds"
        text += (
            f"  {n}:\n    label: Extra {k}\n    unit: count\n    owner: support_ops\n"
            f"    measure: {{source: conversations, agg: {agg}{expr}, filter: \"transfers >= {k % 5}"
            f" AND csat >= {k % 4}\"}}\n"
        )
    return tree_copy(work, f"{tree.stem}-wide.yaml", text)


def history_json(path):
    h = json.loads(Path(path).read_text())
    return [p["label"] for p in h["periods"]], {n["id"]: n["values"] for n in h["nodes"]}


def check_why_against_history(why, labels, values):
    """`why`'s baseline and current of every node equal `history`'s last two weeks."""
    w = json.loads(why)
    assert w["current"]["label"] == labels[-1] and w["baseline"]["label"] == labels[-2], (
        w["current"]["label"], labels[-2:])
    worst = 0.0
    for n in w["nodes"]:
        for key, k in (("baseline", -2), ("current", -1)):
            a, b = n[key], values[n["id"]][k]
            worst = max(worst, abs(a - b) / max(abs(a), abs(b), 1e-300) if a != b else 0.0)
    assert worst <= 1e-9, f"why and history differ by {worst:g}"
    return worst


def run_format(args, size, fmt, data, tree, work):
    mt, py = args.mt, sys.executable
    d = ["--data-dir", data]
    # 1. Agreement before timing.
    hist = work / f"history-{size}-{fmt}.json"
    timed([mt, "history", tree, *d, "--periods", "12", "--format", "json"], hist)
    labels, values = history_json(hist)
    for peer in ("pandas", "duckdb"):
        out = work / f"{peer}-{size}-{fmt}.json"
        timed([py, PEERS / f"{peer}_nodes.py", "--data-dir", data, "--format", fmt,
               "--periods", "12", "--end", labels[-1]], out)
        res = subprocess.run([py, PEERS / "agree.py", hist, out], capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"{peer} disagrees with metrictree on {size} {fmt}:\n{res.stdout}{res.stderr}")
    # (c) the per-node plan: slow by design (a query per leaf and week), so its agreement
    # run is also its one timed run.
    per_node = work / f"per-node-{size}-{fmt}.json"
    c_wall, c_cpu, c_rss, _, c_err = timed([py, PEERS / "duckdb_per_node.py", "--data-dir", data,
                                            "--format", fmt, "--periods", "12",
                                            "--end", labels[-1]], per_node)
    res = subprocess.run([py, PEERS / "agree.py", hist, per_node, "--nodes-of-b"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"the per-node plan disagrees with metrictree on {size} {fmt}:\n{res.stdout}")
    why = timed([mt, "why", tree, *d, "--format", "json"])[3]
    worst = check_why_against_history(why, labels, values)
    print(f"  {size:,} {fmt}: pandas and DuckDB agree with metrictree on {len(values)} nodes x "
          f"{len(labels)} weeks (1e-9); why matches history (largest gap {worst:.1e})",
          file=sys.stderr, flush=True)

    # 2. Timings, each a cold process.
    wide = wider_tree(tree, work)
    rows = {PER_NODE: (c_wall, c_cpu, c_rss, query_seconds(c_err))}
    for _ in range(args.runs):
        jobs = {
            "(a) metrictree why": [mt, "why", tree, *d],
            "(a') metrictree eval": [mt, "eval", tree, *d],
            "(a') metrictree history (12 weeks)": [mt, "history", tree, *d, "--periods", "12",
                                                   "--format", "json"],
            "(b) floor: one scan (DataFusion)": [args.floor, data, fmt],
            "(d) pandas (12 weeks)": [py, PEERS / "pandas_nodes.py", "--data-dir", data,
                                      "--format", fmt, "--periods", "12", "--end", labels[-1]],
            "(e) DuckDB (12 weeks)": [py, PEERS / "duckdb_nodes.py", "--data-dir", data,
                                      "--format", fmt, "--periods", "12", "--end", labels[-1]],
        }
        if fmt == "csv":
            # The CSV cache (`--cache`): the first run writes the Parquet copies, later runs
            # read them. Timed cold (emptied first) and warm.
            cache = work / f"cache-{size}"
            jobs["(a) why --cache, first run (writes the copies)"] = (
                lambda cache=cache: shutil.rmtree(cache, ignore_errors=True),
                [mt, "why", tree, *d, "--cache", cache])
            jobs["(a) why --cache, later runs"] = [mt, "why", tree, *d, "--cache", cache]
            jobs["(a') history --cache, later runs"] = [mt, "history", tree, *d, "--periods",
                                                        "12", "--format", "json", "--cache", cache]
        jobs[WIDE_WHY] = [mt, "why", wide, *d]
        jobs[WIDE_HISTORY] = [mt, "history", wide, *d, "--periods", "12", "--format", "json"]
        for name, cmd in jobs.items():
            if isinstance(cmd, tuple):
                before, cmd = cmd
                before()
            try:
                wall, cpu, rss, out, err = timed(cmd)
            except Failed as e:
                # Recorded, then (for metrictree) measured again with a 16 GiB memory pool.
                print(f"  {name}: {e}", file=sys.stderr, flush=True)
                rows.setdefault(name + " — stopped", None)
                if cmd[0] != mt:
                    continue
                name += " (--memory-limit 16384)"
                wall, cpu, rss, out, err = timed([*cmd, "--memory-limit", "16384"])
            q = query_seconds(err) or query_seconds(out)
            best = rows.get(name)
            if best is None or wall < best[0]:
                rows[name] = (wall, cpu, rss, q)
    return rows


def table(size, fmt, rows):
    floor = rows["(b) floor: one scan (DataFusion)"][0]
    why = rows["(a) metrictree why"][0]
    hist = rows["(a') metrictree history (12 weeks)"][0]
    lines = [f"\n{size:,} conversations, {fmt}",
             "| what | wall s | CPU s | peak RSS MB | query s | ÷ floor | ÷ history |",
             "|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        if row is None:
            lines.append(f"| {name} (default 4 GiB memory pool) | | | | | | |")
            continue
        wall, cpu, rss, q = row
        qs = f"{q:.2f}" if q is not None else ""
        lines.append(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {qs} | "
                     f"{wall / floor:.1f} | {wall / hist:.2f} |")
    def wide(name, base):
        row = rows.get(name) or rows.get(name + " (--memory-limit 16384)")
        return f"{100 * (row[0] / base - 1):+.0f} %" if row else "stopped"

    lines.append(f"why ÷ floor {why / floor:.2f}; pandas ÷ history "
                 f"{rows['(d) pandas (12 weeks)'][0] / hist:.2f}; DuckDB ÷ history "
                 f"{rows['(e) DuckDB (12 weeks)'][0] / hist:.2f}; 50 more leaves: why "
                 f"{wide(WIDE_WHY, why)}, history {wide(WIDE_HISTORY, hist)}; per-node plan "
                 f"÷ why {rows[PER_NODE][0] / why:.1f}")
    return "\n".join(lines)


def generate(mt, out, size):
    """`size` conversations over 12 weeks (seed 7) with `metrictree demo-data`, as CSV."""
    print(f"generating {size:,} conversations ...", file=sys.stderr, flush=True)
    timed([mt, "demo-data", "--out", out, "--conversations", size, "--weeks", "12", "--seed", "7"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mt", required=True, type=Path, help="the release binary")
    ap.add_argument("--floor", required=True, type=Path, help="the scan_floor bench binary")
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "metrictree-scale")
    ap.add_argument("--runs", type=int, default=1, help="timed runs per job (the best is kept)")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        csv = args.work / str(size)
        if not (csv / "conversations.csv").exists():
            generate(args.mt, csv, size)
        # Parquet copies beside the CSVs (bench/peers/csv_to_parquet.py).
        if "parquet" in args.formats and not (csv / "conversations.parquet").exists():
            timed([sys.executable, PEERS / "csv_to_parquet.py", csv])
        for fmt in args.formats.split(","):
            tree = TREE if fmt == "csv" else parquet_tree(args.work)
            data = csv
            results[(size, fmt)] = run_format(args, size, fmt, data, tree, args.work)
            print(table(size, fmt, results[(size, fmt)]), flush=True)
    if len(sizes) > 1:
        a, b = sizes[0], sizes[-1]
        print(f"\nGrowth from {a:,} to {b:,} conversations ({b / a:.0f}x the rows), wall time:")
        for fmt in args.formats.split(","):
            for name, first in results[(a, fmt)].items():
                last = results[(b, fmt)].get(name)
                if first and last:
                    print(f"  {fmt} {name}: {last[0] / first[0]:.1f}x")


if __name__ == "__main__":
    main()
