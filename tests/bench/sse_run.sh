#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# outbox-sse's speed benchmark, issues 4 and 13 (see tests/bench/SSE.md).
#
#   tests/bench/sse_run.sh [outbox-sse-bench options]    e.g. --conns 100000
#
# Builds build/ (RelWithDebInfo, as tests/run.sh does) and runs
# outbox-sse-bench, which starts its own Redis, kafka-mock and outbox-sse
# on 127.0.0.1 in a temporary directory. Its first lines are the three
# figures at N (default 100,000), measured: memory per stream (VmRSS summed
# over outbox-sse's supervisor and workers, at N less at 0, / N), the rank
# wave's last client (change consumed -> last of N clients in one queue
# has its new rank) and the p99 change -> client. RLIMIT_NOFILE caps each
# process, not the run: the clients run in several processes and
# outbox-sse with http.workers (one per 15,000 streams; --procs,
# --workers). An outbox-sse without http.workers holds at most the hard
# limit less 500 streams (`ulimit -Hn`): the bench then exits with status
# 3 for a larger --conns. The summary goes to stdout and to
# build/sse-bench-DATE.txt; progress to stderr. 100,000 streams take 3 to
# 6 minutes on two shared cores. OUTBOX_BENCH_BUILD picks another build
# directory for the benchmark; OUTBOX_BUILD_DIR another for outbox-sse
# and kafka-mock (e.g. a branch's build).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}" "$build/tests/outbox-sse-bench"
bench_build outbox-sse-bench
bench_raise_nofile
bench_tee sse-bench "command: tests/bench/sse_run.sh $*" "$build/tests/outbox-sse-bench" "$@"
