#!/usr/bin/env bash
# outbox-sse's speed benchmark, issue 4's targets (see tests/bench/SSE.md).
#
#   tests/bench/sse_run.sh [outbox-sse-bench options]    e.g. --conns 10000
#
# Builds build/ (RelWithDebInfo, as tests/run.sh does) and runs
# outbox-sse-bench, which starts its own Redis, kafka-mock and outbox-sse
# on 127.0.0.1 in a temporary directory. It raises RLIMIT_NOFILE to the
# hard limit (`ulimit -Hn`), which caps the number of streams: raise the
# hard limit first where you can (as root: `ulimit -Hn 300000`). The
# summary goes to stdout and to build/sse-bench-DATE.txt; progress to
# stderr. The default run takes 2 to 4 minutes on two cores.
# OUTBOX_BENCH_BUILD picks another build directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${OUTBOX_BENCH_BUILD:-$here/build}
case "${1:-}" in
  -h|--help) sed -n '2,/^set/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
             "$build/tests/outbox-sse-bench" --help 2>&1 || true; exit 0 ;;
esac
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target outbox-sse-bench >/dev/null
ulimit -n "$(ulimit -Hn)"
echo "RLIMIT_NOFILE: soft $(ulimit -Sn), hard $(ulimit -Hn)" >&2
out="$build/sse-bench-$(date +%Y%m%d-%H%M%S).txt"
{ echo "command: tests/bench/sse_run.sh $*"; "$build/tests/outbox-sse-bench" "$@"; } | tee "$out"
echo "(saved in $out)" >&2
