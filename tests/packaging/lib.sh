# SPDX-License-Identifier: Apache-2.0
# Shared by the packaging tests (sourced; bash). Every check is explicit:
# `fail` ends the test with status 1 and says what was expected; `skip`
# ends it with 77 (CTest's SKIP_RETURN_CODE for these tests) and the
# reason, only where a Debian root cannot be had on this machine.

fail() { echo "FAIL: $*" >&2; exit 1; }
# A skip also leaves its reason in $skip_note when the test names one
# (test_deb: so that test_systemd skips for the same reason rather than
# fail for want of a package).
skip() {
  echo "SKIPPED: $*" >&2
  [ -z "${skip_note:-}" ] || echo "$*" >"$skip_note"
  exit 77
}
step() { echo "== $(date -u +%T) $*"; }

# dist_number bookworm -> 12, trixie -> 13: the .deb's revision suffix
# (+deb12) and /etc/os-release's VERSION_ID.
dist_number() {
  case "$1" in
    bookworm) echo 12 ;;
    trixie) echo 13 ;;
    *) fail "unknown Debian release '$1' (bookworm or trixie)" ;;
  esac
}

# The Debian release this machine runs, as a number ("" when not Debian).
host_dist_number() {
  (. /etc/os-release 2>/dev/null && [ "${ID:-}" = debian ] && echo "${VERSION_ID%%.*}") || true
}

# root_path SUITE PACKAGES PROGRAM [NAME]: the cached root's path on
# stdout (built once per machine by th-root, tests/harness/th_root.h), or
# a skip with th-root's reason when it cannot be had here.
root_path() {
  local out rc=0
  out=$("$build/tests/th-root" "$@") || rc=$?
  case $rc in
    0) echo "$out" ;;
    77) skip "the $1 root cannot be had here: ${out#SKIPPED: }" ;;
    *) fail "th-root $*: status $rc ($out)" ;;
  esac
}

# The roots of the packaging tests, by what they hold. A build root: what
# packaging/build.sh needs for the whole tree (the tests' cmocka too).
build_root() {
  root_path "$1" "build-essential,cmake,pkg-config,dpkg-dev,file,libmariadb-dev,librdkafka-dev,libhiredis-dev,libyaml-dev,libevent-dev,libssl-dev,libzstd-dev,zlib1g-dev,libsystemd-dev,libcmocka-dev" \
    /usr/bin/cmake "$1-build"
}
# A root to boot: systemd as PID 1 and dbus, nothing else beyond minbase.
boot_root() { root_path "$1" systemd,systemd-sysv,dbus /usr/lib/systemd/systemd; }

# The packages a test_debNN run leaves for test_systemd_SUITE.
pkg_dir() { echo "$build/packages/$1"; }

# check_security UNIT REPORT: systemd-analyze security's REPORT for UNIT
# passes. Its exposure figure (0 to 10) is coarse: losing
# ProtectSystem=strict alone moves it from 1.1 to 1.2. So two checks: the
# figure is at most MAX_EXPOSURE (both units rate 1.1 on systemd 252 and
# 257, live and offline), and every item the report marks open is one of
# OPEN_OK: what the daemons need or what cannot apply to them. Sockets to
# any IPv4/IPv6 address (brokers, databases and browsers are anywhere: no
# PrivateNetwork=, no IPAddressDeny=), Unix sockets (journald,
# sd_notify), the host's root directory (a packaged daemon, not an
# image), and the rtc read access PrivateDevices= itself grants. Any
# other open item fails.
MAX_EXPOSURE=1.2
OPEN_OK="RootDirectory=/RootImage=
RestrictAddressFamilies=~AF_UNIX
RestrictAddressFamilies=~AF_(INET|INET6)
PrivateNetwork=
DeviceAllow=
IPAddressDeny="
check_security() {
  local unit=$1 report=$2 line score open extra
  line=$(grep 'Overall exposure level' <<<"$report") ||
    { echo "$report"; fail "systemd-analyze security $unit gave no rating"; }
  echo "$line"
  score=$(sed -E 's/.*: ([0-9]+\.[0-9]+) .*/\1/' <<<"$line")
  awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
    fail "$unit: exposure $score is above $MAX_EXPOSURE"
  open=$(awk '$1 == "✗" {print $2}' <<<"$report")
  [ -n "$open" ] || { echo "$report"; fail "$unit: no open items read from the report (its format changed?)"; }
  extra=$(grep -vxF -f <(echo "$OPEN_OK") <<<"$open" || true)
  [ -z "$extra" ] || { grep '✗' <<<"$report"; fail "$unit: open items beyond the allowed ones: $extra"; }
  echo "   open: $(tr '\n' ' ' <<<"$open")"
}
