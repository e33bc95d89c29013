#!/usr/bin/env bash
# PostgreSQL at scale (docs/performance.md, "At scale"): builds the release binary, makes a
# virtualenv with psycopg and duckdb (for the per-node plan) outside the repository, then runs
# bench/pg_scale.py, which starts a throwaway PostgreSQL server, loads the generated data,
# checks the per-node plan against metrictree and prints the tables.
#
#   bash bench/pg_scale.sh                                   # 1M and 10M, without and with indexes
#   bash bench/pg_scale.sh --sizes 1000000 --jobs history,per-node
#
# Environment: WORK (default /tmp/metrictree-scale, shared with bench/scale.sh: the data, the
# server's cluster, outputs; the 10M database takes about 3 GB more), VENV (default
# $WORK/venv). Needs the postgresql package's server binaries. Not part of the test command.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="${WORK:-/tmp/metrictree-scale}"
venv="${VENV:-$work/venv}"
mkdir -p "$work"
# The same features as bench/scale.sh, so the two share one build.
cargo build --release --features scale-bench
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# duckdb too: the per-node peer takes its views and measures from the DuckDB peer's module.
"$venv/bin/python" -c 'import psycopg, duckdb' 2>/dev/null || "$venv/bin/pip" install --quiet 'psycopg[binary]' duckdb
"$venv/bin/python" -c 'import psycopg; print("psycopg", psycopg.__version__)'
exec "$venv/bin/python" bench/pg_scale.py --mt "$root/target/release/metrictree" --work "$work" "$@"
