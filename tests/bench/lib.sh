# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# What the benchmark scripts of tests/bench share; each sources it first:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sets the shell's strict mode (set -euo pipefail), $here (the source
# tree) and $build (OUTBOX_BENCH_BUILD, or build/ in the tree), and
# defines the bench_* functions below. Not a script of its own.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${OUTBOX_BENCH_BUILD:-$here/build}

# bench_help "${1:-}" [PROGRAM]: for -h or --help, prints the calling
# script's header comment (and PROGRAM's --help, if given), then exits 0.
bench_help() {
  case "$1" in
    -h|--help)
      sed -n '2,/^[^#]/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
      [ -z "${2:-}" ] || "$2" --help 2>&1 || true
      exit 0 ;;
  esac
}

# bench_build TARGET: configures $build (RelWithDebInfo, as tests/run.sh
# does) and builds TARGET, two jobs at most.
bench_build() {
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j2 --target "$1" >/dev/null
}

# bench_apt_install PACKAGE...: installs Debian packages quietly, progress
# on stderr. A packaged service (nginx, pushpin) is not started: the
# benchmarks run their own, and where no policy-rc.d says otherwise one
# that refuses is in place during the install.
bench_apt_install() {
  local made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
}

# bench_raise_nofile: RLIMIT_NOFILE up to its hard limit (it caps the
# number of streams), and says so on stderr.
bench_raise_nofile() {
  ulimit -n "$(ulimit -Hn)"
  echo "RLIMIT_NOFILE: soft $(ulimit -Sn), hard $(ulimit -Hn)" >&2
}

# bench_tee NAME FIRST_LINE COMMAND...: FIRST_LINE (none when empty), then
# COMMAND's output, to stdout and to $build/NAME-DATE.txt; COMMAND's exit
# status.
bench_tee() {
  local out first=$2 rc=0
  out="$build/$1-$(date +%Y%m%d-%H%M%S).txt"
  shift 2
  { [ -z "$first" ] || echo "$first"; "$@"; } | tee "$out" || rc=$?
  echo "(saved in $out)" >&2
  return $rc
}
