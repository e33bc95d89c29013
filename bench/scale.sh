#!/usr/bin/env bash
# The scale benchmark (docs/performance.md, "At scale"): builds the release binary and the
# floor (bench/scan_floor.rs), makes a virtualenv with the peers' packages (pandas, duckdb,
# pyarrow) outside the repository, then runs bench/scale.py, which generates the data,
# checks that metrictree, pandas and DuckDB agree, and prints the tables.
#
#   bash bench/scale.sh                          # 1M and 10M conversations, CSV and Parquet
#   bash bench/scale.sh --sizes 1000000 --formats csv
#
# Environment: WORK (default /tmp/metrictree-scale: data, trees, outputs; about 6 GB at 10M),
# VENV (default $WORK/venv). Not part of the test command.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="${WORK:-/tmp/metrictree-scale}"
venv="${VENV:-$work/venv}"
mkdir -p "$work"
# One build for both binaries (the feature only adds `scan_floor`).
cargo build --release --features scale-bench
floor="$root/target/release/scan_floor"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pandas duckdb pyarrow
fi
"$venv/bin/python" -c 'import pandas, duckdb, pyarrow; print("pandas", pandas.__version__, "duckdb", duckdb.__version__, "pyarrow", pyarrow.__version__)'
exec "$venv/bin/python" bench/scale.py --mt "$root/target/release/metrictree" --floor "$floor" --work "$work" "$@"
