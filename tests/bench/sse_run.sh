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
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}" "$build/tests/outbox-sse-bench"
bench_build outbox-sse-bench
bench_raise_nofile
bench_tee sse-bench "command: tests/bench/sse_run.sh $*" "$build/tests/outbox-sse-bench" "$@"
