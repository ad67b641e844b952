#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark plots of docs/BENCHMARKS.md, from the data the benchmarks
# leave in build/bench-data/ (tests/bench/run.sh: drain.dat, cdf-*.dat;
# tests/bench/sse_sizes.sh: sse-rss.dat, sse-wave.dat):
#
#   tests/bench/plots.sh [DATA_DIR [OUT_DIR]]   default: build/bench-data docs
#
# Writes bench-drain.png (events/s per system), bench-latency-cdf.png
# (commit -> consumed, relay, peer and the Kafka baseline) and
# bench-sse-rss.png (server RSS against streams, outbox-sse and nchan) and
# bench-sse-wave.png (the rank wave's last client against streams);
# a plot whose data is missing is skipped with a note. Installs
# gnuplot-nox with apt-get when gnuplot is missing.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}"
data=${1:-$build/bench-data}
out=${2:-$here/docs}
if ! command -v gnuplot >/dev/null; then
  echo "installing gnuplot-nox" >&2
  bench_apt_install gnuplot-nox
fi
mkdir -p "$out"
term='set terminal pngcairo size 1000,600 font "sans,11"'
command -v gnuplot >/dev/null && gnuplot -e 'set terminal' 2>/dev/null | grep -q pngcairo ||
  term='set terminal png size 1000,600'

if [ -s "$data/drain.dat" ]; then
  gnuplot <<GP
$term
set output "$out/bench-drain.png"
set title "Draining a backlog into Kafka (median of the rounds; higher is better)"
set ylabel "events/s"
set style fill solid 0.7 border -1
set boxwidth 0.6
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set grid ytics
unset key
set format y "%.0f"
plot "$data/drain.dat" using 0:2:xtic(1) with boxes lc rgb "#4477aa", \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,1
GP
  echo "$out/bench-drain.png"
else
  echo "plots: no $data/drain.dat (tests/bench/run.sh writes it)" >&2
fi

cdfs=()
for s in relay peer kafka; do
  [ -s "$data/cdf-$s.dat" ] && cdfs+=("$s")
done
if [ ${#cdfs[@]} -gt 0 ]; then
  plot=""
  for s in "${cdfs[@]}"; do
    case $s in
      relay) t="outbox-relay" ;; peer) t="peer: zongji + kafkajs" ;;
      kafka) t="baseline: librdkafka producer straight to the mock" ;;
    esac
    plot="$plot${plot:+, }\"$data/cdf-$s.dat\" using 1:2 with lines lw 2 title \"$t\""
  done
  gnuplot <<GP
$term
set output "$out/bench-latency-cdf.png"
set title "Commit -> consumed at 5,000 single-row commits/s (CDF)"
set xlabel "latency, ms (log scale)"
set ylabel "fraction of events"
set logscale x
set yrange [0:1.001]
set grid
set key outside below
plot $plot
GP
  echo "$out/bench-latency-cdf.png"
else
  echo "plots: no $data/cdf-*.dat (tests/bench/run.sh writes them)" >&2
fi

if [ -s "$data/sse-rss.dat" ]; then
  gnuplot <<GP
$term
set output "$out/bench-sse-rss.png"
set title "Server memory with N SSE streams, each with its first rank"
set xlabel "streams (connections)"
set ylabel "VmRSS summed over the server's processes, MiB"
set format x "%.0s%c"
set grid
set key top left
plot "$data/sse-rss.dat" using 1:2 with linespoints lw 2 pt 7 title "outbox-sse (supervisor + workers)", \
     "" using 1:3 with linespoints lw 2 pt 5 title "nginx + nchan (master + workers)"
GP
  echo "$out/bench-sse-rss.png"
else
  echo "plots: no $data/sse-rss.dat (tests/bench/sse_sizes.sh writes it)" >&2
fi

if [ -s "$data/sse-wave.dat" ]; then
  gnuplot <<GP
$term
set output "$out/bench-sse-wave.png"
set title "Rank wave: one change moves every rank of one queue of N streams"
set xlabel "streams, all in one queue (log scale)"
set ylabel "change known -> last client has its new rank, ms (log scale)"
set logscale xy
set autoscale xfix
set offsets graph 0.03, graph 0.03, 0, 0
set format x "%.0s%c"
set grid
set key top left
plot "$data/sse-wave.dat" using 1:2 with linespoints lw 2 pt 7 title "outbox-sse (change consumed)", \
     "" using 1:3 with linespoints lw 2 pt 5 title "nginx + nchan (publisher told)", \
     1000 with lines dt 2 lc rgb "#888888" title "1 s"
GP
  echo "$out/bench-sse-wave.png"
else
  echo "plots: no $data/sse-wave.dat (tests/bench/sse_sizes.sh writes it)" >&2
fi
