#!/usr/bin/env bash
# Server memory and the rank wave against the number of SSE streams,
# outbox-sse and nchan side by side (the data of docs/bench-sse-rss.png and
# docs/bench-sse-wave.png):
#
#   tests/bench/sse_sizes.sh [SIZE...]   default: 1000 5000 20000 50000 100000
#
# Runs tests/bench/sse_compare.sh --conns SIZE --skip-latency --reps 3
# --workers W --nchan-workers W for each size, W the same for every size:
# enough workers for the largest (each process holds at most 15,000
# streams, RLIMIT_NOFILE's hard limit being 20,000 here), so that the
# curves are one configuration's. OUTBOX_SIZES_WORKERS sets W.
# It writes build/bench-data/sse-rss.dat ("streams outbox-sse_MiB
# nchan_MiB": the sum of VmRSS over each server's process tree, every
# stream holding its first rank; the first line, 0 streams, is before any
# client) and build/bench-data/sse-wave.dat ("streams outbox-sse_ms
# nchan_ms": one change moving every rank, change known -> last client,
# median of 3). Each run's full output stays in build/.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 5000 20000 50000 100000)
max=0
for n in "${sizes[@]}"; do [ "$n" -gt "$max" ] && max=$n; done
workers=${OUTBOX_SIZES_WORKERS:-$(( (max + 14999) / 15000 ))}
mkdir -p "$build/bench-data"
rss="$build/bench-data/sse-rss.dat"
wave="$build/bench-data/sse-wave.dat"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "# streams outbox-sse_VmRSS_MiB nchan_VmRSS_MiB (process trees; $workers workers each)" > "$rss.new"
echo "# streams outbox-sse_ms nchan_ms (rank wave: change known -> last client; $workers workers each)" > "$wave.new"
# field VALUE of the "data SYSTEM ..." line: field SYSTEM NAME
field() { sed -n "s/^data $1 .* $2=\([-0-9.]*\).*/\1/p" "$tmp" | head -1; }
first=1
for n in "${sizes[@]}"; do
  "$here/tests/bench/sse_compare.sh" --conns "$n" --skip-latency --reps 3 \
    --workers "$workers" --nchan-workers "$workers" > "$tmp"
  o0=$(field outbox-sse rss0_kib); o=$(field outbox-sse rss_kib)
  x0=$(field nchan rss0_kib); x=$(field nchan rss_kib)
  ow=$(field outbox-sse wave_known_ms); xw=$(field nchan wave_known_ms)
  if [ -z "$o" ] || [ -z "$x" ] || [ -z "$ow" ] || [ -z "$xw" ]; then
    echo "sse_sizes: no data lines in the output of --conns $n" >&2
    cat "$tmp" >&2
    exit 1
  fi
  if [ $first = 1 ]; then
    awk -v a="$o0" -v b="$x0" 'BEGIN { printf "0 %.1f %.1f\n", a / 1024, b / 1024 }' >> "$rss.new"
    first=0
  fi
  awk -v n="$n" -v a="$o" -v b="$x" 'BEGIN { printf "%d %.1f %.1f\n", n, a / 1024, b / 1024 }' >> "$rss.new"
  echo "$n $ow $xw" >> "$wave.new"
  grep -E '^data |server RSS per stream|change known -> last' "$tmp" >&2
done
mv "$rss.new" "$rss"
mv "$wave.new" "$wave"
cat "$rss" "$wave"
