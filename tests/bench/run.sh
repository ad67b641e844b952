#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The relay's speed benchmark (see tests/bench/README.md).
#
#   tests/bench/run.sh [outbox-bench options]     e.g. --events 200000
#
# Builds build/ (RelWithDebInfo, as tests/run.sh does) and runs
# outbox-bench, which starts its own MariaDB and kafka-mock on 127.0.0.1
# in a temporary directory. The summary goes to stdout and to
# build/bench-DATE.txt; progress goes to stderr.
#
# The peer relay (tests/bench/peer: zongji + kafkajs under node) runs on
# the same backlogs and the same latency workload when node and npm are
# installed: this script runs `npm ci` there first (packages pinned by its
# package-lock.json, into tests/bench/peer/node_modules). Without node the
# bench says so and the peer's column reads "not run"; --no-peer skips it.
# The plot data (drain.dat, cdf-*.dat) goes to build/bench-data/, which
# tests/bench/plots.sh turns into docs/*.png.
#
# The default run (three rounds of 1,000,000 events, 20 s of paced commits
# per latency line, the peer included) takes 5 to 10 minutes on two cores.
# OUTBOX_BENCH_BUILD picks another build directory.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}" "$build/tests/outbox-bench"
bench_build outbox-bench
peer="$here/tests/bench/peer"
case " $* " in
  *" --no-peer "*) ;;
  *) if command -v node >/dev/null && command -v npm >/dev/null; then
       if [ ! -e "$peer/node_modules/.package-lock.json" ] ||
          [ "$peer/package-lock.json" -nt "$peer/node_modules/.package-lock.json" ]; then
         echo "bench: npm ci in tests/bench/peer" >&2
         (cd "$peer" && npm ci --no-audit --no-fund >&2) ||
           echo "bench: npm ci failed: the peer will not run" >&2
       fi
     else
       echo "bench: node/npm not installed: the peer relay will not run" >&2
     fi ;;
esac
bench_tee bench "" "$build/tests/outbox-bench" --data "$build/bench-data" "$@"
