#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# outbox-sse and nchan side by side (issues 6 and 13; see tests/bench/SSE.md,
# "Side by side with nchan"):
#
#   tests/bench/sse_compare.sh [outbox-sse-bench options]   e.g. --conns 20000
#
# Installs nginx-light and libnginx-mod-nchan with apt-get when missing
# (the packages' nginx service is never started: the benchmark runs its own
# `nginx -p TMPDIR -c TMPDIR/nginx.conf -g 'daemon off;'` as a child on a
# free port of 127.0.0.1, and stops it). Then it builds build/ and runs
# `outbox-sse-bench --system both`: outbox-sse and then nchan on the same N
# and workload, in one invocation, and one table (metric | outbox-sse |
# nchan | ratio) at the end, the ratios at that N.
#
# Default: 100,000 streams for memory and the rank wave, and as many
# subscribers for latency, 5 waves per size. No process may hold more
# descriptors than RLIMIT_NOFILE's hard limit (20,000 here, and root
# cannot raise it), so the clients run in several processes, outbox-sse
# with http.workers and nginx with as many worker processes (one per
# 15,000 streams; --workers and --nchan-workers choose). When this build's
# outbox-sse has no http.workers yet (the bench exits with status 3), the
# run is made again at the largest N one process holds (hard limit less
# 500), one worker each: the largest N both servers then reach. When nchan
# fails at 100,000 (on this machine nginx closed the publisher's
# connections in the wave, see tests/bench/SSE.md), the run is made again
# at 50,000, then 20,000: the table of the last run is at the largest N
# both servers reach.
# About 8 to 15 minutes at 100,000 on two shared cores. Options after the
# defaults win. The output goes to stdout and to build/sse-compare-DATE.txt.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_help "${1:-}"
if [ ! -e /usr/lib/nginx/modules/ngx_nchan_module.so ] || ! command -v nginx >/dev/null; then
  echo "installing nginx-light libnginx-mod-nchan" >&2
  bench_apt_install nginx-light libnginx-mod-nchan
fi
bench_build outbox-sse-bench
bench_raise_nofile
rc=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bench_tee sse-compare "command: tests/bench/sse_compare.sh $*" \
  "$build/tests/outbox-sse-bench" --system both --conns 100000 "$@" > "$out" || rc=$?
cat "$out"
case " $* " in *" --conns "*) exit $rc ;; esac
for n in 50000 20000; do
  [ "$rc" = 1 ] && grep -q '^FAILED     nchan' "$out" || break
  echo "sse_compare: nchan failed at the last N: again at $n streams" >&2
  rc=0
  bench_tee sse-compare "command: tests/bench/sse_compare.sh $* (nchan failed before: --conns $n)" \
    "$build/tests/outbox-sse-bench" --system both --conns "$n" "$@" > "$out" || rc=$?
  cat "$out"
done
if [ "$rc" = 3 ]; then
  one=$(( ($(ulimit -Hn) - 500) / 2 * 2 ))
  echo "sse_compare: outbox-sse has no http.workers: again at $one streams, one process each" >&2
  bench_tee sse-compare "command: tests/bench/sse_compare.sh $* (fallback: --conns $one)" \
    "$build/tests/outbox-sse-bench" --system both --conns "$one" --workers 1 \
    --nchan-workers 1 "$@"
fi
exit $rc
