#!/usr/bin/env bash
# Same tree and data ⇒ the same bytes, at a million conversations (kept out of `cargo test`).
# Generates 1,000,000 conversations, then compares the bytes of `why` and `eval` (JSON and
# text) across engine partitions 1, 2, 3 and 7 with different batch sizes, and a copy of the
# data with its rows shuffled. Prints one line per comparison; exits 1 on any difference.
#   bash bench/determinism.sh [CONVERSATIONS] [PROFILE]     (defaults: 1000000 release)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
profile=${2:-release}
if [ "$profile" = release ]; then cargo build --release -q; bin=target/release/metrictree
else cargo build -q; bin=target/debug/metrictree; fi
work=$(mktemp -d /tmp/metrictree-determinism.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" demo-data --out "$work/data" --conversations "$n" >/dev/null
mkdir -p "$work/shuffled"
for f in conversations handoffs; do
  { head -n 1 "$work/data/$f.csv"; tail -n +2 "$work/data/$f.csv" | shuf --random-source=<(yes); } \
    > "$work/shuffled/$f.csv"
done
runs=(
  "why trees/handoff.yaml --format json"
  "why trees/handoff.yaml --baseline trailing:4 --by tier,team --format json"
  "eval trees/handoff.yaml --by channel"
)
status=0
for r in "${runs[@]}"; do
  # shellcheck disable=SC2086
  ref=$(METRICTREE_TARGET_PARTITIONS=2 "$bin" $r --data-dir "$work/data" 2>/dev/null | sha256sum)
  for cfg in "1 8192" "3 333" "7 64"; do
    set -- $cfg
    # shellcheck disable=SC2086
    got=$(METRICTREE_TARGET_PARTITIONS=$1 METRICTREE_BATCH_SIZE=$2 "$bin" $r --data-dir "$work/data" 2>/dev/null | sha256sum)
    if [ "$got" = "$ref" ]; then echo "same   $r  (partitions $1, batches of $2)"; else echo "DIFFER $r  (partitions $1, batches of $2)"; status=1; fi
  done
  # shellcheck disable=SC2086
  got=$("$bin" $r --data-dir "$work/shuffled" 2>/dev/null | sha256sum)
  if [ "$got" = "$ref" ]; then echo "same   $r  (rows shuffled)"; else echo "DIFFER $r  (rows shuffled)"; status=1; fi
done
exit $status
