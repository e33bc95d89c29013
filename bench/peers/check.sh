#!/usr/bin/env bash
# Do the peers compute what metrictree computes? Runs `metrictree history` and both peers on
# the bundled example, a generated 100,000-conversation set (CSV and Parquet) and the edge
# cases of edge_data.py, and compares each peer with metrictree to 1e-9 (agree.py).
#
#   bash bench/peers/check.sh            # from the repository root
#
# It never builds: METRICTREE (default target/debug/metrictree) must exist. PYTHON must have
# pandas, duckdb and pyarrow (default python3). WORK holds the data and
# the JSON (default /tmp/peers-check). Exits 1 if anything disagrees.
set -euo pipefail
cd "$(dirname "$0")/../.."
MT=${METRICTREE:-target/debug/metrictree}
PY=${PYTHON:-python3}
WORK=${WORK:-/tmp/peers-check}
PEERS=bench/peers
[ -x "$MT" ] || { echo "no metrictree binary at $MT (build it first; this script does not)"; exit 2; }
mkdir -p "$WORK"
status=0

# check NAME DATA_DIR PERIODS [metrictree args...]: metrictree's history, then each peer at
# metrictree's last week, in CSV (and Parquet when DATA_DIR holds it).
check() {
  local name=$1 dir=$2 periods=$3; shift 3
  "$MT" history trees/handoff.yaml "$@" --periods "$periods" --format json > "$WORK/$name.mt.json"
  local end
  end=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["periods"][-1]["label"])' "$WORK/$name.mt.json")
  for peer in pandas duckdb; do
    for fmt in csv parquet; do
      [ -e "$dir/conversations.$fmt" ] || continue
      local out="$WORK/$name.$peer.$fmt.json"
      local secs
      secs=$("$PY" "$PEERS/${peer}_nodes.py" --data-dir "$dir" --format "$fmt" --periods "$periods" --end "$end" 2>&1 >"$out")
      if "$PY" "$PEERS/agree.py" "$WORK/$name.mt.json" "$out" > "$out.agree"; then r=ok; else r=FAIL; status=1; fi
      printf '%-14s %-7s %-8s %-5s %s  %s\n' "$name" "$peer" "$fmt" "$r" "$(tail -1 "$out.agree")" "$secs"
    done
  done
}

check bundled examples/support 12

if [ ! -e "$WORK/demo100k/conversations.csv" ]; then
  "$MT" demo-data --out "$WORK/demo100k" --conversations 100000 --weeks 12
fi
[ -e "$WORK/demo100k/conversations.parquet" ] || "$PY" "$PEERS/csv_to_parquet.py" "$WORK/demo100k"
check demo100k "$WORK/demo100k" 12 --data-dir "$WORK/demo100k"

"$PY" "$PEERS/edge_data.py" examples/support "$WORK/edge" > /dev/null
for v in messy gaps midnight midnight_utc; do
  check "$v" "$WORK/edge/$v" 14 --data-dir "$WORK/edge/$v"
done
# before the data and after its end: weeks clipped to the data's first week, weeks without rows
check early examples/support 30
check late examples/support 3 --period 2026-W48 2>/dev/null

exit $status
