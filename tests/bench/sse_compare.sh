#!/usr/bin/env bash
# outbox-sse and nchan side by side (issue 6; see tests/bench/SSE.md, "Side
# by side with nchan"):
#
#   tests/bench/sse_compare.sh [outbox-sse-bench options]   e.g. --conns 4000
#
# Installs nginx-light and libnginx-mod-nchan with apt-get when missing
# (the packages' nginx service is never started: the benchmark runs its own
# `nginx -p TMPDIR -c TMPDIR/nginx.conf -g 'daemon off;'` as a child on a
# free port of 127.0.0.1, with one worker process, and stops it). Then it
# builds build/ and runs `outbox-sse-bench --system both`: outbox-sse and
# then nchan on the same N and workload, in one invocation, and one table
# (metric | outbox-sse | nchan | ratio) at the end.
#
# Defaults: --conns 9000 streams for memory and the rank wave (each server
# and the benchmark hold one descriptor per stream, and RLIMIT_NOFILE's hard
# limit is 20,000 here), 10,000 subscribers for latency, 5 waves per size.
# About 4 to 8 minutes on two shared cores. Options after the defaults win.
# The output goes to stdout and to build/sse-compare-DATE.txt.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}"
if [ ! -e /usr/lib/nginx/modules/ngx_nchan_module.so ] || ! command -v nginx >/dev/null; then
  echo "installing nginx-light libnginx-mod-nchan" >&2
  bench_apt_install nginx-light libnginx-mod-nchan
fi
bench_build outbox-sse-bench
bench_raise_nofile
bench_tee sse-compare "command: tests/bench/sse_compare.sh $*" \
  "$build/tests/outbox-sse-bench" --system both --conns 9000 "$@"
