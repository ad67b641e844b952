#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
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
# OUTBOX_SIZES_FROM="FILE..." adds the sizes of earlier outputs of
# sse_compare.sh (build/sse-compare-DATE.txt, their "data" lines) instead
# of running them again, e.g. a default run at 100,000 (its waves are the
# median of 5); give the same worker count (OUTBOX_SIZES_WORKERS).
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
rm -f "$wave.new.rss"
echo "# streams outbox-sse_ms nchan_ms (rank wave: change known -> last client; $workers workers each)" > "$wave.new"
# field VALUE of the "data SYSTEM ..." line: field SYSTEM NAME
field() { sed -n "s/^data $1 .* $2=\([-0-9.]*\).*/\1/p" "$tmp" | head -1; }
# the runs: "run N" for a size, "file F" for an earlier output
runs=()
for n in "${sizes[@]}"; do runs+=("run $n"); done
for f in ${OUTBOX_SIZES_FROM:-}; do runs+=("file $f"); done
first=1
for r in "${runs[@]}"; do
  n=${r#* }
  if [ "${r%% *}" = file ]; then
    cp "$n" "$tmp"
    n=$(sed -n 's/^data outbox-sse streams=\([0-9]*\).*/\1/p' "$tmp" | head -1)
    [ -n "$n" ] || { echo "sse_sizes: no data line in $r" >&2; exit 1; }
  else
    "$here/tests/bench/sse_compare.sh" --conns "$n" --skip-latency --reps 3 \
      --workers "$workers" --nchan-workers "$workers" > "$tmp" ||
      echo "sse_sizes: the run at $n ended with status $? (a failed system has no figures)" >&2
  fi
  o0=$(field outbox-sse rss0_kib); o=$(field outbox-sse rss_kib)
  x0=$(field nchan rss0_kib); x=$(field nchan rss_kib)
  ow=$(field outbox-sse wave_known_ms); xw=$(field nchan wave_known_ms)
  if [ -z "$o" ] || [ -z "$ow" ]; then
    echo "sse_sizes: no outbox-sse data line in the output of $r" >&2
    cat "$tmp" >&2
    exit 1
  fi
  # nchan may fail at a size where outbox-sse did not: NaN, no point
  if [ -z "$x" ] || [ -z "$xw" ]; then
    echo "sse_sizes: nchan has no figures at $n (its run failed)" >&2
    x0=NaN x=NaN xw=NaN
  fi
  mib() { case $1 in NaN) echo NaN ;; *) awk -v a="$1" 'BEGIN { printf "%.1f", a / 1024 }' ;; esac; }
  if [ $first = 1 ] && [ "$x0" != NaN ]; then
    echo "0 $(mib "$o0") $(mib "$x0")" >> "$rss.new"
    first=0
  fi
  echo "$n $(mib "$o") $(mib "$x")" >> "$wave.new.rss"
  echo "$n $ow $xw" >> "$wave.new"
  grep -E '^data |server RSS per stream|change known -> last' "$tmp" >&2
done
# by streams, the 0 line first (from the first run where both had figures)
{ cat "$rss.new"; sort -n "$wave.new.rss"; } > "$rss"
{ head -1 "$wave.new"; tail -n +2 "$wave.new" | sort -n; } > "$wave"
rm -f "$rss.new" "$wave.new" "$wave.new.rss"
cat "$rss" "$wave"
