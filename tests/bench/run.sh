#!/usr/bin/env bash
# The relay's speed benchmark (see tests/bench/README.md).
#
#   tests/bench/run.sh [outbox-bench options]     e.g. --events 200000
#
# Builds build/ (RelWithDebInfo, as tests/run.sh does) and runs
# outbox-bench, which starts its own MariaDB and kafka-mock on 127.0.0.1
# in a temporary directory. The summary goes to stdout and to
# build/bench-DATE.txt; progress goes to stderr. The default run (three
# rounds of 1,000,000 events, 20 s of paced commits per latency line)
# takes 4 to 8 minutes on two cores.
# OUTBOX_BENCH_BUILD picks another build directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${OUTBOX_BENCH_BUILD:-$here/build}
case "${1:-}" in
  -h|--help) sed -n '2,/^set/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
             "$build/tests/outbox-bench" --help 2>&1 || true; exit 0 ;;
esac
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target outbox-bench >/dev/null
out="$build/bench-$(date +%Y%m%d-%H%M%S).txt"
"$build/tests/outbox-bench" "$@" | tee "$out"
echo "(saved in $out)" >&2
