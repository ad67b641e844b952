#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where the time goes for the targets that the benchmarks miss (issue 6;
# docs/BENCHMARKS.md, "Where the time goes (missed targets)"):
#
#   tests/bench/profile.sh [latency|drain|sse|report]...   (default: all four)
#
#   latency  outbox-bench --skip-drain: the relay's commit -> acknowledged
#            latency at 5,000/s, cut at the relay's own steps (--split), the
#            relay with librdkafka's defaults and then with linger.ms=0
#            (--alt-prop), perf of the relay (DWARF stacks) and of every
#            process (perf -a) during the first line;
#   drain    outbox-bench --skip-latency --rounds 1: one 1,000,000-event
#            backlog drain, perf of the relay and of every process;
#   sse      outbox-sse-bench --skip-latency: the rank wave to as many
#            streams as the descriptor limit allows (19,000 here), perf of
#            outbox-sse and of every process during the full-size waves;
#   report   perf report of whatever .data files are in the directory:
#            per process (perf -a), per component (library or kernel) and
#            the top symbols, into *.txt beside them.
#
# Everything goes to build/profile/ (PROFILE_DIR picks another); the
# benchmarks' summaries as *.out. perf must be installed (Debian:
# linux-perf); as root, kernel.perf_event_paranoid is lowered to -1 when
# it is higher. About 4 to 6 minutes on two cores. perf.data files stay
# out of git (build/ is ignored).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${OUTBOX_BENCH_BUILD:-$here/build}
out=${PROFILE_DIR:-$build/profile}
case "${1:-}" in
  -h|--help) sed -n '2,/^set/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
steps=${*:-latency drain sse report}
command -v perf >/dev/null || { echo "profile: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
if [ "$(id -u)" = 0 ] && [ "$(cat /proc/sys/kernel/perf_event_paranoid)" -gt -1 ]; then
  sysctl -q kernel.perf_event_paranoid=-1 || true
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target outbox-bench outbox-sse-bench >/dev/null
mkdir -p "$out"
load() { cut -d' ' -f1-3 /proc/loadavg; }

# Libraries and the kernel as the components of the tables.
component() {
  awk -v total="${2:-100}" '
    /^#/ || NF < 2 { next }
    { pct = $1; sub("%", "", pct); dso = $2
      if (dso ~ /kernel|vmlinux|\[k\]/)            c = "kernel"
      else if (dso ~ /librdkafka/)                 c = "librdkafka"
      else if (dso ~ /libmariadb/)                 c = "libmariadb"
      else if (dso ~ /libevent/)                   c = "libevent"
      else if (dso ~ /^libc[.-]|ld-linux/)         c = "libc"
      else if (dso ~ /hiredis/)                    c = "hiredis"
      else if (dso ~ /libssl|libcrypto|libz|liblz4|libzstd|libsasl/) c = "compression/crypto"
      else if (dso ~ /^outbox-|^kafka-mock/)       c = "our code (" dso ")"
      else                                         c = dso
      sum[c] += pct }
    END { for (c in sum) printf "%6.2f%%  %s\n", sum[c], c }' | sort -rn
}

run_latency() {
  echo "profile: latency ($(load))" >&2
  { echo "command: outbox-bench --skip-drain --no-peer --split --alt-prop linger.ms=0 --perf ... --perf-all ..."
    echo "load at start: $(load)"
    "$build/tests/outbox-bench" --skip-drain --no-peer --split \
      --alt-prop linger.ms=0 --perf "$out/relay-latency.data" \
      --perf-all "$out/all-latency.data"
    echo "load at end: $(load)"; } > "$out/latency.out"
}

run_drain() {
  echo "profile: drain ($(load))" >&2
  { echo "command: outbox-bench --no-peer --skip-latency --rounds 1 --perf ... --perf-all ..."
    echo "load at start: $(load)"
    "$build/tests/outbox-bench" --no-peer --skip-latency --rounds 1 \
      --perf "$out/relay-drain.data" --perf-all "$out/all-drain.data"
    echo "load at end: $(load)"; } > "$out/drain.out"
}

run_sse() {
  echo "profile: sse ($(load))" >&2
  ulimit -n "$(ulimit -Hn)"
  local conns=$(( $(ulimit -Hn) - 1000 ))
  [ "$conns" -gt 100000 ] && conns=100000
  { echo "command: outbox-sse-bench --conns $conns --skip-latency --perf $out/sse --perf-all"
    echo "load at start: $(load)"
    "$build/tests/outbox-sse-bench" --conns "$conns" --skip-latency \
      --perf "$out/sse" --perf-all
    echo "load at end: $(load)"; } > "$out/sse.out"
}

# perf report of one file: components, top symbols self, top symbols
# with children; per process for a system-wide one.
report_one() {
  local data=$1 txt=${1%.data}.txt
  local r="perf report -i $data --stdio --percent-limit 0.5"
  {
    echo "== $data"
    perf report -i "$data" --stdio --header-only 2>/dev/null | grep -E 'captured on|sample duration|cmdline' || true
    if [[ $(basename "$data") == *all* ]]; then
      echo; echo "-- per process (comm), self"
      $r --no-children --sort comm -q -g none 2>/dev/null | head -15
      echo; echo "-- per process and component"
      $r --no-children --sort comm,dso -q -g none 2>/dev/null | head -25
    else
      echo; echo "-- per thread (comm), self"
      $r --no-children --sort comm -q -g none 2>/dev/null | head -10
      echo; echo "-- per thread and component"
      $r --no-children --sort comm,dso -q -g none 2>/dev/null | head -20
    fi
    echo; echo "-- per component (self)"
    perf report -i "$data" --stdio --no-children --sort dso -q -g none 2>/dev/null | component
    echo; echo "-- top symbols, self"
    $r --no-children --sort dso,sym -q -g none 2>/dev/null | head -25
    echo; echo "-- top symbols, with children"
    $r --children --sort dso,sym -q -g none 2>/dev/null | head -30
  } > "$txt"
  echo "profile: $txt" >&2
}

run_report() {
  set +o pipefail # head closes perf report's pipe
  shopt -s nullglob
  for d in "$out"/*.data; do report_one "$d"; done
}

for s in $steps; do
  case $s in
    latency) run_latency ;;
    drain) run_drain ;;
    sse) run_sse ;;
    report) run_report ;;
    *) echo "profile: unknown step $s" >&2; exit 2 ;;
  esac
done
echo "profile: done; $out" >&2
