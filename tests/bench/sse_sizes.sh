#!/usr/bin/env bash
# Server RSS against the number of SSE streams, outbox-sse and nchan side
# by side (the data of docs/bench-sse-rss.png):
#
#   tests/bench/sse_sizes.sh [SIZE...]      default: 2000 5000 9000
#
# Runs tests/bench/sse_compare.sh --conns SIZE --skip-latency --reps 1 for
# each size (the memory phase and one rank wave; about 30 to 60 s each)
# and writes build/bench-data/sse-rss.dat: "streams outbox-sse_MiB
# nchan_MiB", the daemon's and the nginx worker's VmRSS with every stream
# holding its first rank. Each run's full output stays in build/.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(2000 5000 9000)
mkdir -p "$build/bench-data"
dat="$build/bench-data/sse-rss.dat"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "# streams outbox-sse_VmRSS_MiB nchan_worker_VmRSS_MiB (with none: first line's 0)" > "$dat.new"
first=1
for n in "${sizes[@]}"; do
  "$here/tests/bench/sse_compare.sh" --conns "$n" --skip-latency --reps 1 > "$tmp"
  # "outbox-sse VmRSS 7.9 -> 75.8 MiB" and "nginx worker VmRSS 11.4 -> 150.6 MiB"
  o=$(sed -n 's/.*outbox-sse VmRSS \([0-9.]*\) -> \([0-9.]*\) MiB.*/\1 \2/p' "$tmp" | head -1)
  x=$(sed -n 's/.*nginx worker VmRSS \([0-9.]*\) -> \([0-9.]*\) MiB.*/\1 \2/p' "$tmp" | head -1)
  if [ -z "$o" ] || [ -z "$x" ]; then
    echo "sse_sizes: no VmRSS lines in the output of --conns $n" >&2
    cat "$tmp" >&2
    exit 1
  fi
  if [ $first = 1 ]; then
    echo "0 ${o%% *} ${x%% *}" >> "$dat.new"
    first=0
  fi
  echo "$n ${o##* } ${x##* }" >> "$dat.new"
  grep -E 'server RSS per stream|VmRSS' "$tmp" >&2
done
mv "$dat.new" "$dat"
cat "$dat"
