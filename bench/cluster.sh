#!/usr/bin/env bash
# The distributed backend against the local engine (docs/performance.md, "On a Ballista
# cluster"): builds the release binaries with `--features distributed`, starts a scheduler and
# two executors of `metrictree-ballista` on 127.0.0.1 (stopped on exit), generates the flagship
# tree's data, and times `why`, `eval` and `history` locally and on the cluster, checking that
# their outputs are the same. Prints one row per size and command: seconds and peak RSS of
# the metrictree process (the client, on the cluster), and the cluster's stage split of one
# `why` aggregation (from the scheduler's log).
#
#   bash bench/cluster.sh                        # 1M and 10M conversations, why/eval/history
#   bash bench/cluster.sh --sizes 1000000 --commands why
#
# Environment: WORK (default /tmp/metrictree-cluster: data, logs). Not part of the test command.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="${WORK:-/tmp/metrictree-cluster}"
sizes="1000000 10000000"
commands="why eval history"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="${2//,/ }"; shift 2 ;;
    --commands) commands="${2//,/ }"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$work"
cargo build --release --features distributed --bin metrictree --bin metrictree-ballista
mt="$root/target/release/metrictree"
node="$root/target/release/metrictree-ballista"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
port=$(free_port)
"$node" scheduler --port "$port" >"$work/scheduler.log" 2>&1 & pids+=($!)
sleep 1
for i in 1 2; do
  mkdir -p "$work/exec-$i"
  "$node" executor --scheduler "127.0.0.1:$port" --port "$(free_port)" --grpc-port "$(free_port)" \
    --id "exec-$i" --work-dir "$work/exec-$i" >"$work/exec-$i.log" 2>&1 & pids+=($!)
done
for i in 1 2; do
  for _ in $(seq 1 300); do grep -q "registration succeed" "$work/exec-$i.log" && break; sleep 0.1; done
done
url="df://127.0.0.1:$port"
echo "cluster: $url (scheduler and exec-1, exec-2 on this machine, $(nproc) cores)"

# One timed run: prints "seconds peak_rss_mib"; the output goes to $out.
timed() {
  local out=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$out" 2>"$out.err" || { cat "$out.err" >&2; exit 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$work/time"
}

printf '%-12s %-8s %10s %10s %12s %12s %8s\n' size command local_s cluster_s local_MiB client_MiB same
for n in $sizes; do
  data="$work/data-$n"
  if [ ! -f "$data/conversations.csv" ]; then
    "$mt" demo-data --out "$data" --conversations "$n" --weeks 12 >/dev/null
  fi
  for cmd in $commands; do
    args=("$cmd" trees/handoff.yaml --data-dir "$data" --quiet)
    read -r ls lm < <(timed "$work/local.out" "$mt" "${args[@]}")
    read -r cs cm < <(timed "$work/cluster.out" "$mt" "${args[@]}" --ballista "$url")
    same=yes; cmp -s "$work/local.out" "$work/cluster.out" || same=NO
    printf '%-12s %-8s %10s %10s %12s %12s %8s\n' "$n" "$cmd" "$ls" "$cs" "$lm" "$cm" "$same"
  done
done
echo
echo "tasks finished per executor (scheduler log):"
grep -o 'task status update request for executor "[^"]*"' "$work/scheduler.log" | sort | uniq -c
echo
echo "the last job's stages (scheduler log):"
awk '/Submitting execution graph for job_id/{buf=""; keep=1} keep{buf=buf $0 "\n"} END{printf "%s", buf}' \
  "$work/scheduler.log" | grep -E "Submitting|=== \[|ShuffleWriterExec|ShuffleReaderExec|AggregateExec|DataSourceExec|WindowAggExec|RepartitionExec" | cut -c1-200 | head -40
