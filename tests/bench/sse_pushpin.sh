#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# outbox-sse and Pushpin side by side (issue 6; see tests/bench/SSE.md,
# "Pushpin"):
#
#   tests/bench/sse_pushpin.sh [outbox-sse-bench options]   e.g. --conns 4000
#
# Installs Debian's pushpin with apt-get when missing (the package's
# service is never started: the benchmark runs its own `pushpin --config
# TMPDIR/pushpin.conf` as a child on free ports of 127.0.0.1, with its run
# and log directories in TMPDIR, and stops it and the services it started:
# condure, zurl, pushpin-proxy and pushpin-handler). Then it builds build/
# and runs `outbox-sse-bench --system outbox-sse,pushpin`: outbox-sse and
# then pushpin on the same N and workload, in one invocation, and one table
# (metric | outbox-sse | pushpin | ratio) at the end. `--system all` adds
# nchan (install it with tests/bench/sse_compare.sh first).
#
# Defaults: --conns 4000 streams for memory and the rank wave, 10,000
# subscribers for latency, 5 waves per size. Options after the defaults
# win. The output goes to stdout and to build/sse-pushpin-DATE.txt.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}"
if ! command -v pushpin >/dev/null || ! command -v condure >/dev/null; then
  echo "installing pushpin" >&2
  bench_apt_install pushpin
fi
bench_build outbox-sse-bench
bench_raise_nofile
bench_tee sse-pushpin "command: tests/bench/sse_pushpin.sh $*" \
  "$build/tests/outbox-sse-bench" --system outbox-sse,pushpin --conns 4000 "$@"
