#!/usr/bin/env python3
"""PostgreSQL at scale (docs/performance.md): the flagship tree over 1M and 10M generated
conversations loaded into a throwaway PostgreSQL, against the per-node plan there.

Run it through `bash bench/pg_scale.sh` (it builds the release binary and makes a virtualenv
with psycopg), or directly with such a Python:

    python bench/pg_scale.py --mt target/release/metrictree [--sizes 1000000,10000000]
                             [--jobs why,history,eval,per-node] [--indexes both|off|on]

It starts its own server (`initdb` into WORK/pg, a free port on 127.0.0.1, the settings
below; as the `postgres` user when run as root) and always stops it. Per size it generates
the data with `metrictree demo-data` (12 weeks, seed 7) if WORK/SIZE lacks it, loads it into
a database of its own with `metrictree load` (timed), checks that the per-node plan
(bench/peers/pg_per_node.py: a query per leaf and week) equals `metrictree history` from the
same database on every leaf (bench/peers/agree.py --nodes-of-b), then times each job under
`/usr/bin/time -v` without indexes and again with the indexes the pushdown uses (INDEXES).
The per-node plan's agreement run is its one timed run. The connection string travels in an
environment variable, never on a command line.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import PEERS, TREE, Failed, generate, history_json, query_seconds, timed  # noqa: E402

SETTINGS = {
    "shared_buffers": "2GB",
    "work_mem": "64MB",
    "max_parallel_workers_per_gather": "2",
    # A throwaway server: durability is not what is measured.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
# The join keys of the tree's SQL sources and the time column the period predicates use.
INDEXES = [
    "CREATE INDEX ON conversations_raw (conversation_id)",
    "CREATE INDEX ON conversations_raw (created_at)",
    "CREATE INDEX ON handoffs_raw (conversation_id, sequence)",
    "CREATE INDEX ON audits_raw (conversation_id, sequence)",
    "ANALYZE",
]
ENV = "METRICTREE_BENCH_PG"
PER_NODE = "per-node plan (a query per leaf and week)"


def pg_bin():
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").is_file():
            return d
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    sys.exit("no PostgreSQL server binaries (initdb): install the postgresql package")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A throwaway cluster in `root`, stopped on exit."""

    def __init__(self, root: Path):
        self.bin, self.root, self.port = pg_bin(), root, free_port()
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *cmd):
        subprocess.run([*self.as_pg, *map(str, cmd)], check=True, stdout=subprocess.DEVNULL)

    def __enter__(self):
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        if self.as_pg:
            shutil.chown(self.root, "postgres")
        self.run(self.bin / "initdb", "-D", self.root / "data", "-A", "trust", "-U", "postgres")
        with open(self.root / "data" / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.root}'\n")
            conf.writelines(f"{k} = {v}\n" for k, v in SETTINGS.items())
        self.run(self.bin / "pg_ctl", "-D", self.root / "data", "-l", self.root / "log",
                 "-w", "-t", "60", "start")
        return self

    def __exit__(self, *exc):
        subprocess.run([*self.as_pg, self.bin / "pg_ctl", "-D", self.root / "data", "-m", "fast",
                        "-w", "stop"], stdout=subprocess.DEVNULL)

    def url(self, db):
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def sql(self, db, *statements):
        for s in statements:
            subprocess.run([self.bin / "psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", "postgres", "-d", db, "-c", s],
                           check=True, stdout=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mt", required=True, type=Path, help="the release binary")
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--jobs", default="why,history,eval,per-node")
    ap.add_argument("--indexes", choices=["both", "off", "on"], default="both")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "metrictree-scale")
    args = ap.parse_args()
    jobs = args.jobs.split(",")
    py = sys.executable
    with Server(args.work / "pg") as pg:
        for size in [int(s) for s in args.sizes.split(",")]:
            data = args.work / str(size)
            if not (data / "conversations.csv").exists():
                generate(args.mt, data, size)
            db = f"big{size}"
            pg.sql("postgres", f"CREATE DATABASE {db}")
            os.environ[ENV] = pg.url(db)
            d = [TREE, "--postgres-env", ENV]
            # Each row is printed as soon as it is measured: a run stopped midway keeps them.
            print(f"\n{size:,} conversations in PostgreSQL")
            print("| what | wall s | CPU s (client) | peak RSS MB (client) | query s |")
            print("|---|---|---|---|---|", flush=True)

            class Rows(dict):
                def __setitem__(self, name, row):
                    super().__setitem__(name, row)
                    q = f"{row[3]:.2f}" if len(row) > 3 and row[3] is not None else ""
                    print(f"| {name} | {row[0]:.2f} | {row[1]:.2f} | {row[2]:.0f} | {q} |",
                          flush=True)

            rows = Rows()
            rows["load (COPY, ANALYZE)"] = timed(
                [args.mt, "load", TREE, "--data-dir", data, "--postgres-env", ENV])[:3]
            phases = {"both": [False, True], "off": [False], "on": [True]}[args.indexes]
            for indexed in phases:
                tag = ", indexed" if indexed else ""
                if indexed:
                    started = time.perf_counter()
                    pg.sql(db, *INDEXES)
                    rows["building the indexes"] = (time.perf_counter() - started, 0.0, 0.0)
                hist = args.work / f"pg-history-{size}.json"
                if "history" in jobs or "per-node" in jobs:
                    rows[f"history (12 weeks){tag}"] = timed(
                        [args.mt, "history", *d, "--periods", "12", "--format", "json"], hist)[:3]
                if "per-node" in jobs:
                    end = history_json(hist)[0][-1]
                    out = args.work / f"pg-per-node-{size}.json"
                    w, c, r, _, err = timed([py, PEERS / "pg_per_node.py", "--dsn-env", ENV,
                                             "--periods", "12", "--end", end], out)
                    res = subprocess.run([py, PEERS / "agree.py", hist, out, "--nodes-of-b"],
                                         capture_output=True, text=True)
                    if res.returncode != 0:
                        sys.exit(f"the per-node plan disagrees with metrictree on {size}:\n"
                                 f"{res.stdout}{res.stderr}")
                    rows[f"{PER_NODE}{tag}"] = (w, c, r, query_seconds(err))
                for job in ("why", "eval"):
                    if job in jobs:
                        try:
                            rows[f"{job}{tag}"] = timed([args.mt, job, *d])[:3]
                        except Failed as e:
                            print(f"  {job}{tag} failed: {e}", file=sys.stderr)
            for tag in ("", ", indexed"):
                pn, why = rows.get(f"{PER_NODE}{tag}"), rows.get(f"why{tag}")
                hi = rows.get(f"history (12 weeks){tag}")
                if pn and why:
                    print(f"per-node plan ÷ why{tag}: {pn[0] / why[0]:.1f}")
                if pn and hi:
                    print(f"per-node plan ÷ history{tag} (the same 12 weeks): {pn[0] / hi[0]:.1f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
