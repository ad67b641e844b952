#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, from a fresh Debian 12 machine:
#   1. installs the build and test dependencies with apt-get (as root, or
#      through sudo), skipping what is already installed;
#   2. builds two configurations: build/ (RelWithDebInfo) and build-asan/
#      (-fsanitize=address,undefined);
#   3. makes the database servers the host has no package of ready:
#      Debian roots for MySQL 9.7 (sid) and MariaDB 11.8 (trixie), built
#      with debootstrap once per machine into /var/cache/outbox-relay-test
#      (tests/harness/th_root.h) and reused after; a root that cannot be
#      built (no mirror, a broken sid) makes the tests that need it SKIPPED,
#      with the reason, never passed;
#   4. runs every CTest test in both (build-asan/ runs the other servers'
#      variants NAME@KIND in build/ only; see asan_skip). Integration tests start their own
#      MariaDB (and MySQL, for the NAME@mysql-9.7 variants), Redis and
#      kafka-mock on 127.0.0.1 in temporary directories. The packaging
#      stage (label packaging, build/ only; its Debian roots made ready
#      before CTest like the servers') builds the .deb for Debian 12 (with
#      the .rpm) and for Debian 13 (in a trixie root) the way a package
#      build does, with dpkg-buildflags (hardening=+all) and -Werror
#      (test_deb12, test_deb13), then boots a clean Debian 12 and 13 root
#      under systemd-nspawn, installs the matching .deb and runs both
#      services under systemd through events, the watchdog, restarts, a
#      clean stop, the sandbox, an upgrade and a purge
#      (test_systemd_bookworm, test_systemd_trixie); the summary names
#      each database server's version as it reported it; then builds a Release
#      configuration at -O3 (build-release/), where gcc's optimizer finds
#      warnings the other builds do not (every build has -Werror), and runs
#      only its unit tests (label unit): well under a minute;
#   5. builds the libFuzzer targets with clang (build-fuzz/) and fuzzes
#      each for OUTBOX_FUZZ_SECONDS (20) seconds from its seed corpus.
# Exit status 0 only if every test passed and no fuzzer found anything.
#
# Options: --no-install (skip apt-get), --install-only (only apt-get; the
#          demo uses it), --no-asan (no build-asan/), --no-release (no
#          build-release/), --no-fuzz,
#          -j N (parallel CTest jobs; default 2). Extra arguments after --
#          go to ctest in build/ and build-asan/ (e.g. -- -R test_cfg -L
#          unit); build-release/ always runs its unit tests.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
install=1 install_only=0 asan=1 release=1 fuzz=1 jobs=2 ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    --install-only) install_only=1 ;;
    --no-asan) asan=0 ;;
    --no-release) release=0 ;;
    --no-fuzz) fuzz=0 ;;
    -j) jobs=$2; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: tests/run.sh [--no-install] [--no-asan] [--no-release] [--no-fuzz] [-j N] [-- CTEST-ARGS]" >&2; exit 2 ;;
  esac
  shift
done

packages=(
  build-essential cmake pkg-config git
  libmariadb-dev librdkafka-dev libhiredis-dev libyaml-dev libevent-dev
  libssl-dev libzstd-dev zlib1g-dev libsystemd-dev libcmocka-dev
  clang libclang-rt-14-dev
  mariadb-server mariadb-client redis-server kcat curl procps iproute2 socat
  chromium dpkg-dev rpm lintian systemd man-db adduser debootstrap
  systemd-container
)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "== installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # Debian starts packaged servers on install; the tests run their own,
  # so a system-wide instance is neither needed nor touched.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The browser test runs playwright-core on node. Any node 18+ will do (some
# machines bring one from elsewhere, with its own npm): Debian's only when
# there is none, since Debian's npm conflicts with such a node.
install_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends nodejs npm
}

# Each server a test started, as it reported its version (SELECT
# VERSION()), or why it was skipped: the harness appends them to
# $OUTBOX_TEST_SERVERS_LOG.
servers_summary() {
  local log=$1
  echo "== database servers in $(basename "$(dirname "$log")")/ (as they reported themselves)"
  if [ -s "$log" ]; then
    sort -u "$log" | sed 's/\t/: /; s/^/   /'
  else
    echo "   (no test started one)"
  fi
}

# In build-asan/ every test runs once, against the host's MariaDB: the
# other servers' variants of a test (NAME@mysql-9.7, NAME@mariadb-11.8)
# run the same relay code against another server's bytes, and run in
# build/ with every assertion; under the sanitizers they would add a
# quarter to the run for no path of the relay's own. test_relay_mysql,
# which only MySQL runs (its authentication paths), stays in both.
asan_skip='^test_(servers|chaos_relay|relay_(flow|start|resume|heartbeat|failover|chaos))@'

build_and_test() {
  local dir=$1; shift
  local skip=()
  [ "$dir" = build-asan ] && skip=(-E "$asan_skip")
  echo "== configure and build $dir $*"
  cmake -S "$here" -B "$here/$dir" "$@" >/dev/null
  cmake --build "$here/$dir" -j "$(nproc)"
  echo "== database server roots (built once per machine, then reused)"
  "$here/$dir/tests/th-servers" prepare
  # The packaging tests run in build/ only (tests/packaging/packaging.cmake).
  if [ "$dir" = build ]; then
    "$here/tests/packaging/prepare_roots.sh" "$here/$dir"
  fi
  echo "== test $dir"
  export OUTBOX_TEST_SERVERS_LOG="$here/$dir/servers.log"
  : > "$OUTBOX_TEST_SERVERS_LOG"
  local rc=0
  ctest --test-dir "$here/$dir" --output-on-failure -j "$jobs" "${skip[@]}" \
    "${ctest_args[@]}" ||
    rc=$?
  servers_summary "$OUTBOX_TEST_SERVERS_LOG"
  return $rc
}

if [ $install = 1 ]; then
  install_packages
  install_node
fi
[ $install_only = 1 ] && exit 0
build_and_test build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ $asan = 1 ]; then
  # Leak checks stay on; halt on the first error so a failure is loud.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  build_and_test build-asan -DCMAKE_BUILD_TYPE=Debug -DOUTBOX_SANITIZE=ON
fi
if [ $release = 1 ]; then
  # -O3 spelled out, should CMake's default for Release ever change. Its
  # whole tree is built (tests and tools too); only the unit tests run,
  # since build/ and build-asan/ run the rest.
  echo "== configure and build build-release (Release, -O3)"
  cmake -S "$here" -B "$here/build-release" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="-O3 -DNDEBUG" >/dev/null
  cmake --build "$here/build-release" -j "$(nproc)"
  echo "== test build-release (unit tests only)"
  ctest --test-dir "$here/build-release" --output-on-failure -j "$jobs" -L unit
fi
if [ $fuzz = 1 ]; then
  targets=(fuzz_token fuzz_pct fuzz_feed_json fuzz_route fuzz_binlog
           fuzz_mysql_json fuzz_cfg fixture_seeds)
  echo "== configure and build build-fuzz (clang, libFuzzer, ASan+UBSan)"
  CC=clang cmake -S "$here" -B "$here/build-fuzz" -DOUTBOX_FUZZ=ON \
    -DOUTBOX_FUZZ_SECONDS="${OUTBOX_FUZZ_SECONDS:-20}" >/dev/null
  cmake --build "$here/build-fuzz" -j "$(nproc)" --target "${targets[@]}"
  echo "== fuzz each target for ${OUTBOX_FUZZ_SECONDS:-20} s"
  ctest --test-dir "$here/build-fuzz" --output-on-failure -j "$jobs" -L fuzz
fi
if grep -qs $'\tSKIPPED' "$here"/build*/servers.log; then
  echo "== all tests passed, but those of a server that could not be had were SKIPPED (reasons above)"
else
  echo "== all tests passed"
fi
