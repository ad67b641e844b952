#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_systemd SUITE SOURCE_DIR BUILD_DIR VERSION   (SUITE: bookworm or trixie)
#
# The .deb of test_deb for SUITE, in a clean Debian root under a live
# systemd: a root made by debootstrap with systemd, systemd-sysv and dbus
# only (th-root: built once per machine, cached), booted with
# `systemd-nspawn --boot --volatile=overlay`, so that every run starts from
# the same clean system and the cached root is never written. The
# container has no network of its own: the daemons inside reach MariaDB,
# Redis and kafka-mock (pkg-servers, the test harness's servers) on the
# host's 127.0.0.1, as the test reaches theirs. Commands run in the
# container through nsenter on its PID 1.
#
# Each step is a check that fails the test:
#   install   apt-get install ./outbox-relay_*.deb (dependencies from
#             Debian's mirror), files, user, modes, nothing started
#   run       outbox-relay@main and outbox-sse reach active (running)
#             through Type=notify; events flow MariaDB -> relay -> Kafka
#             -> outbox-sse -> an SSE stream; logfmt lines in journalctl -u
#   watchdog  SIGSTOP of each daemon's main process: systemd's watchdog
#             kills (SIGABRT, fatal even to a stopped process) and restarts
#             it (WatchdogSec=3s in a runtime drop-in, not the shipped 30s)
#   restart   SIGKILL: restarted; a fatal error (the source switched to
#             binlog_format=STATEMENT): exit status 1, restarted, running
#             again once the source is fixed; a bad configuration: exit
#             status 2, not restarted (RestartPreventExitStatus=2)
#   sandbox   systemd-analyze security on the live units (exposure at most
#             MAX_EXPOSURE) and, from a process of each service (an
#             ExecStartPost= of the drop-in), a write outside its writable
#             paths refused with EROFS where the file mode would allow it
#   stop      systemctl stop: exit status 0, result success, not restarted,
#             nothing at warning level or above in the journal
#   purge     dpkg --remove keeps the conffiles; purge leaves no file,
#             directory, user, group, stat override or unit
#   upgrade   the previous revision installed and running with an edited
#             conffile and a checkpoint, then this one over it: conffiles
#             as edited, checkpoint kept and resumed from, both services
#             restarted by the postinst on the new binaries; purged again
#
# SKIPPED (77) only when the root, or the database server, cannot be had
# here, or test_deb skipped building the package, with the reason.
set -euo pipefail

suite=$1 src=$2 build=$3 version=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/packaging/lib.sh
. "$here/lib.sh"
n=$(dist_number "$suite")
pkgdir=$(pkg_dir "$suite")
deb_name=outbox-relay_${version}-1+deb${n}_amd64.deb
prev_name=outbox-relay_${version}-0+deb${n}_amd64.deb

[ "$(id -u)" -eq 0 ] || fail "must run as root (debootstrap, systemd-nspawn, nsenter; CI runs as root)"
for tool in systemd-nspawn nsenter mariadb redis-cli kcat curl; do
  command -v "$tool" >/dev/null || fail "$tool not found (tests/run.sh installs it)"
done
[ ! -e "$pkgdir/SKIPPED" ] || skip "test_deb$n: $(cat "$pkgdir/SKIPPED")"
[ -f "$pkgdir/$deb_name" ] || fail "no $pkgdir/$deb_name: test_deb$n must run first (ctest runs it as this test's fixture)"
[ -f "$pkgdir/previous/$prev_name" ] || fail "no $pkgdir/previous/$prev_name"
root=$(boot_root "$suite")

tmp=$(mktemp -d /tmp/test_systemd.XXXXXX)
servers_pid="" nspawn_pid="" curl_pid="" kafka_stopped=""
cleanup() {
  set +e
  [ -n "$curl_pid" ] && kill "$curl_pid" 2>/dev/null
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" # nspawn: an orderly shutdown of the container
    for _ in $(seq 50); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn_pid" 2>/dev/null
    wait "$nspawn_pid" 2>/dev/null
  fi
  if [ -n "$servers_pid" ]; then
    kill -TERM "$servers_pid" 2>/dev/null # the harness stops its servers
    wait "$servers_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

step "servers on the host's 127.0.0.1 (pkg-servers: MariaDB, Redis, kafka-mock)"
"$build/tests/pkg-servers" "$tmp/servers.env" "$src/schema/outbox-mariadb.sql" \
  >"$tmp/servers.log" 2>&1 &
servers_pid=$!
for _ in $(seq 600); do
  [ -f "$tmp/servers.env" ] && break
  if ! kill -0 "$servers_pid" 2>/dev/null; then
    rc=0; wait "$servers_pid" || rc=$?; servers_pid=""
    cat "$tmp/servers.log"
    [ $rc = 77 ] && skip "the database server cannot be had here"
    fail "pkg-servers exited with status $rc"
  fi
  sleep 0.1
done
[ -f "$tmp/servers.env" ] || fail "pkg-servers gave no addresses within 60 s"
. "$tmp/servers.env"
tail -1 "$tmp/servers.log"

# --- the container -------------------------------------------------------
# apt's lists and downloaded packages are kept between runs, outside the
# root, so that a run downloads only what changed on the mirror.
apt_cache=${OUTBOX_TEST_ROOTS:-/var/cache/outbox-relay-test/roots}/$suite-apt
mkdir -p "$apt_cache/lists/partial" "$apt_cache/archives/partial" /run/systemd/nspawn
step "boot the $suite root under systemd-nspawn ($root)"
boot_t0=$(date +%s.%N)
systemd-nspawn --boot --register=no --keep-unit --volatile=overlay -D "$root" \
  --machine="outbox-$suite-$$" --bind-ro="$pkgdir:/packages" \
  --bind="$apt_cache/lists:/var/lib/apt/lists" \
  --bind="$apt_cache/archives:/var/cache/apt/archives" \
  </dev/null >"$tmp/console.log" 2>&1 &
nspawn_pid=$!
# The container's PID 1 is the process named systemd among nspawn's
# children or grandchildren: before it, nspawn may run a short-lived child
# of its own (seen once: nsenter then found no namespaces of that PID).
container_init() {
  local c g
  for c in $(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null); do
    for g in "$c" $(cat /proc/"$c"/task/*/children 2>/dev/null); do
      [ "$(cat /proc/"$g"/comm 2>/dev/null)" = systemd ] && { echo "$g"; return; }
    done
  done
}
leader=""
for _ in $(seq 100); do
  leader=$(container_init) || true
  [ -n "$leader" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || { cat "$tmp/console.log"; fail "systemd-nspawn exited"; }
  sleep 0.1
done
[ -n "$leader" ] || fail "no container PID 1 after 10 s"

# A command in the container: its namespaces, a clean environment.
in_ct() {
  nsenter -t "$leader" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive "$@"
}
# Until systemd answers on its bus, is-system-running fails at once.
state=""
for _ in $(seq 300); do
  state=$(timeout 60 nsenter -t "$leader" -a -- /bin/systemctl is-system-running --wait 2>&1) || true
  case $state in running|degraded|maintenance|stopping) break ;; esac
  sleep 0.2
done
case $state in
  running) ;;
  degraded) in_ct systemctl --failed --no-legend --plain ;; # a container may lack a device
  *) tail -30 "$tmp/console.log"; fail "the booted system is '$state', not running" ;;
esac
echo "$(in_ct systemctl --version | head -1): $state after $(awk -v t="$boot_t0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - t }') s"
in_ct grep -q "VERSION_ID=\"$n\"" /etc/os-release || fail "the root is not Debian $n"

# From here on a failure shows what the container's journal says.
fail() {
  echo "FAIL: $*" >&2
  echo "-- the container's journal, last 60 lines of outbox units:" >&2
  in_ct journalctl -q --no-pager -n 60 -u 'outbox-*' >&2 || true
  exit 1
}
show() { in_ct systemctl show -p "$2" --value "$1"; }
# apt-get in the container. Its lists and archives are shared with other
# runs (another machine's test on the same cache): apt's own locks refuse
# rather than wait, so runs take turns on a lock of the cache's.
ct_apt() { flock "$apt_cache/.lock" nsenter -t "$leader" -a -- env -i \
  PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
main_pid() { show "$1" MainPID; }
# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "$what: not within $secs s"
}
running() { # running UNIT [NOT_PID]: active (running), with a new main PID
  [ "$(show "$1" ActiveState)/$(show "$1" SubState)" = active/running ] &&
    [ "$(main_pid "$1")" != 0 ] && [ "$(main_pid "$1")" != "${2:-}" ]
}
# A point in the journal: the time, to the microsecond (the container
# shares the host's clock). Not a cursor: journalctl --after-cursor with a
# -u match drops the first matching entry after the cursor.
mark() { date +@%s.%6N; }
journal_since() { # journal_since MARK UNIT [journalctl args]
  local m=$1 u=$2
  shift 2
  in_ct journalctl -q --no-pager -o cat --since="$m" -u "$u" "$@"
}
# jhas MARK UNIT PATTERN: the unit's journal since MARK has PATTERN.
# (Never `journalctl | grep -q`: grep's early exit makes a SIGPIPE that
# pipefail reports as a failed pipeline.)
jhas() { grep -q -- "$3" <<<"$(journal_since "$1" "$2")"; }
outbox_procs() { # outbox processes in the container (no procps there)
  in_ct sh -c 'for p in /proc/[0-9]*; do c=$(cat $p/comm 2>/dev/null) || continue;
                 case $c in outbox-*) echo "${p#/proc/} $c";; esac; done'
}

# --- events --------------------------------------------------------------
sql() { mariadb -h127.0.0.1 -P"$DB_PORT" -uroot --batch --skip-column-names "$@"; }
# insert_events PREFIX COUNT [QUEUE]: one transaction, ids PREFIX-1...
insert_events() {
  local prefix=$1 count=$2 queue=${3:-q1} i values=""
  for ((i = 1; i <= count; i++)); do
    values+="${values:+,}('$prefix-$i','queue','$queue','changed','{\"id\":\"$prefix-$i\"}')"
  done
  sql -e "INSERT INTO shop.outbox (id, aggregatetype, aggregateid, type, payload) VALUES $values"
}
# The distinct event ids with PREFIX that outbox.event.queue holds.
kafka_ids() {
  kcat -C -q -b "$KAFKA" -t outbox.event.queue -o beginning -e -f '%s\n' 2>/dev/null |
    grep -o "\"id\":\"$1-[0-9]*\"" | sort -u | wc -l
}
have_events() { [ "$(kafka_ids "$1")" -ge "$2" ]; }
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz")" = 200 ]; }

# --- the configuration an administrator writes -----------------------------
secret=packaging-test-secret-0123456789
write_configs() {
  in_ct sh -c "cat >/etc/outbox-relay/main.yaml" <<EOF
# outbox-relay@main: written by test_systemd
name: main
source:
  host: 127.0.0.1
  port: $DB_PORT
  user: root
  server_id: 4242
outbox:
  - table: shop.outbox
kafka:
  brokers: $KAFKA
checkpoint:
  store: file
  path: /var/lib/outbox-relay/main.checkpoint
metrics:
  listen: 127.0.0.1:$RELAY_METRICS_PORT
EOF
  in_ct sh -c "chown root:outbox-relay /etc/outbox-relay/main.yaml && chmod 640 /etc/outbox-relay/main.yaml"
  # The conffile sse.yaml, edited in place (mode and owner stay). No
  # periodic refresh: a rank only changes through a Kafka event.
  in_ct sh -c "cat >/etc/outbox-relay/sse.yaml" <<EOF
# outbox-sse: edited by test_systemd
name: outbox-sse
kafka:
  brokers: $KAFKA
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
http:
  listen: 127.0.0.1:$SSE_HTTP_PORT
  drain_window: 1s
auth:
  secret: \${OUTBOX_SSE_SECRET}
queues:
  refresh_interval: 1h
metrics:
  listen: 127.0.0.1:$SSE_METRICS_PORT
EOF
  in_ct sh -c "umask 077 && echo OUTBOX_SSE_SECRET=$secret >/etc/outbox-relay/sse.env"
}

# A runtime drop-in (what `systemctl edit --runtime` makes) for both units:
# short watchdog timers, and a write probe run as a process of the service.
write_dropins() {
  in_ct sh -c 'cat >/usr/local/sbin/outbox-write-probe && chmod 755 /usr/local/sbin/outbox-write-probe' <<'EOF'
#!/bin/sh
# Runs as ExecStartPost= of the unit under test: same user, namespaces,
# seccomp filter and mounts as the daemon. Always exits 0.
for d in "$@"; do
  if err=$( { : >"$d/write-probe"; } 2>&1); then
    # Left in /tmp: the test looks for it in the system's /tmp, where it
    # appears only if the service's /tmp is not private (PrivateTmp=).
    [ "$d" = /tmp ] || rm -f "$d/write-probe"
    echo "write-probe $d: written"
  else
    echo "write-probe $d: refused: ${err##*: }"
  fi
done
exit 0
EOF
  # World-writable, outside every unit's writable paths: only the sandbox
  # (ProtectSystem=strict) can refuse a write there.
  in_ct sh -c 'mkdir -p /srv/outbox-probe && chmod 1777 /srv/outbox-probe'
  for u in outbox-relay@.service:/var/lib/outbox-relay outbox-sse.service:/tmp; do
    in_ct sh -c "mkdir -p /run/systemd/system/${u%%:*}.d && cat >/run/systemd/system/${u%%:*}.d/50-test.conf" <<EOF
[Service]
WatchdogSec=3s
ExecStartPost=/usr/local/sbin/outbox-write-probe /srv/outbox-probe ${u#*:}
EOF
  done
  in_ct systemctl daemon-reload
}
remove_dropins() {
  in_ct rm -rf /run/systemd/system/outbox-relay@.service.d /run/systemd/system/outbox-sse.service.d
  in_ct systemctl daemon-reload
}

check_purged() {
  local st
  st=$(in_ct dpkg-query -W -f='${Status}' outbox-relay 2>/dev/null) || st="unknown"
  case $st in *installed*|*config-files*) fail "dpkg still knows outbox-relay: $st" ;; esac
  in_ct sh -c 'dpkg -L outbox-relay' >/dev/null 2>&1 && fail "dpkg -L outbox-relay still lists files"
  for f in /etc/outbox-relay /var/lib/outbox-relay /usr/share/outbox-relay \
           /usr/share/doc/outbox-relay $(grep -v '^#' "$here/package-files.txt"); do
    in_ct test ! -e "$f" || fail "$f left after purge"
  done
  in_ct getent passwd outbox-relay >/dev/null && fail "user outbox-relay left after purge"
  in_ct getent group outbox-relay >/dev/null && fail "group outbox-relay left after purge"
  grep -q outbox <<<"$(in_ct dpkg-statoverride --list)" && fail "stat overrides left after purge"
  [ -z "$(outbox_procs)" ] || fail "outbox processes left after purge: $(outbox_procs)"
  [ "$(show outbox-sse.service LoadState)" = not-found ] ||
    fail "outbox-sse.service still loaded: $(show outbox-sse.service LoadState)"
  [ "$(show outbox-relay@main.service LoadState)" = not-found ] ||
    fail "outbox-relay@main.service still loaded: $(show outbox-relay@main.service LoadState)"
  echo "no package state, files, directories, user, group, overrides, processes or units left"
}

R=outbox-relay@main.service
S=outbox-sse.service

# --- install ---------------------------------------------------------------
step "apt-get install /packages/$deb_name (dependencies from Debian's mirror)"
ct_apt update -q >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; fail "apt-get update in the container"; }
ct_apt install -y -q --no-install-recommends "/packages/$deb_name" >>"$tmp/apt.log" 2>&1 ||
  { tail -30 "$tmp/apt.log"; fail "apt-get install $deb_name"; }
grep -E '^(Setting up|Unpacking) ' "$tmp/apt.log" | sed 's/^/   /' | head -20
[ "$(in_ct dpkg-query -W -f='${Version} ${Status}' outbox-relay)" = "$version-1+deb$n install ok installed" ] ||
  fail "dpkg-query: $(in_ct dpkg-query -W -f='${Version} ${Status}' outbox-relay)"
in_ct getent passwd outbox-relay >/dev/null || fail "no system user outbox-relay"
for f in /etc/outbox-relay/relay.yaml /etc/outbox-relay/sse.yaml; do
  perms=$(in_ct stat -c '%a %U:%G' "$f")
  [ "$perms" = "640 root:outbox-relay" ] || fail "$f is $perms, not 640 root:outbox-relay"
done
for u in $R $S; do # nothing enabled or started by the install
  [ "$(show $u LoadState)" = loaded ] || fail "$u: LoadState $(show $u LoadState)"
  [ "$(show $u ActiveState)" = inactive ] || fail "$u started by the install"
done
[ "$(in_ct systemctl is-enabled outbox-sse.service || true)" = disabled ] || fail "outbox-sse.service enabled by the install"
v=$(in_ct outbox-relay --version) && [ "$v" = "outbox-relay $version" ] || fail "outbox-relay --version: $v"
v=$(in_ct outbox-sse --version) && [ "$v" = "outbox-sse $version" ] || fail "outbox-sse --version: $v"
# The samples, as the service user with an empty environment (group
# permissions, ${VAR:-default} fallbacks; outbox-sse refuses the sample's
# placeholder secret, so its secret comes from the environment as the
# unit's EnvironmentFile would give it).
for d in relay sse; do
  in_ct runuser -u outbox-relay -- env -i OUTBOX_SSE_SECRET=$secret \
    /usr/bin/outbox-$d --check-config -c /etc/outbox-relay/$d.yaml >"$tmp/check.out" 2>&1 ||
    { cat "$tmp/check.out"; fail "outbox-$d --check-config -c /etc/outbox-relay/$d.yaml as outbox-relay"; }
done
echo "installed $version-1+deb$n; user outbox-relay; configs 640 root:outbox-relay; nothing started; --check-config of both samples passes"

# --- run -----------------------------------------------------------------
step "systemctl start $R $S (Type=notify)"
write_configs
write_dropins
c0=$(mark)
in_ct systemctl start $R $S || { in_ct journalctl -q --no-pager -n 30 -u $R -u $S; fail "systemctl start"; }
start_t=$(date +%s)
for u in $R $S; do
  running $u || fail "$u is $(show $u ActiveState)/$(show $u SubState) after start"
  [ "$(show $u Type)" = notify ] || fail "$u: Type=$(show $u Type)"
  [ "$(show $u WatchdogUSec)" = 3s ] || fail "$u: WatchdogUSec=$(show $u WatchdogUSec) (drop-in not in force)"
done
grep -qx 'WatchdogSec=30s' "$src/packaging/systemd/outbox-relay@.service" || fail "the shipped relay unit lost WatchdogSec=30s"
grep -qx 'WatchdogSec=30s' "$src/packaging/systemd/outbox-sse.service" || fail "the shipped sse unit lost WatchdogSec=30s"
echo "$R: active (running), main PID $(main_pid $R); $S: active (running), main PID $(main_pid $S)"
wait_for 30 "relay /healthz 200 (streaming)" healthy "$RELAY_METRICS_PORT"

step "events: MariaDB -> outbox-relay -> Kafka"
insert_events a 50
wait_for 30 "50 events in outbox.event.queue" have_events a 50
echo "50 of 50 events in outbox.event.queue"

step "events: Kafka -> outbox-sse -> an SSE stream"
redis-cli -p "$REDIS_PORT" ZADD queue:q1:waiting 1 alice 2 bob >/dev/null
token=$(in_ct env OUTBOX_SSE_SECRET=$secret outbox-sse token --queue q1 --user bob --ttl 600 -c /etc/outbox-relay/sse.yaml) ||
  fail "outbox-sse token"
curl -s -N "http://127.0.0.1:$SSE_HTTP_PORT/v1/queues/q1/events?user=bob&token=$token" >"$tmp/sse.out" &
curl_pid=$!
wait_for 10 "the stream's first event: rank 2" grep -q '"rank":2' "$tmp/sse.out"
# Alice leaves; only the change event through Kafka (no refresh timer:
# refresh_interval 1h) can tell outbox-sse to recompute.
redis-cli -p "$REDIS_PORT" ZREM queue:q1:waiting alice >/dev/null
insert_events b 1
wait_for 15 "rank 1 pushed after the Kafka event" grep -q '"rank":1' "$tmp/sse.out"
kill "$curl_pid"; wait "$curl_pid" 2>/dev/null || true; curl_pid=""
grep -E '^(event|data):' "$tmp/sse.out" | sed 's/^/   /'

step "journalctl -u: logfmt"
for u in $R $S; do
  ident=${u%%@*}
  # The daemon's own lines (its stderr), not systemd's about the unit.
  lines=$(in_ct journalctl -q --no-pager -o cat --since="$c0" \
            _SYSTEMD_UNIT=$u SYSLOG_IDENTIFIER="${ident%.service}")
  [ -n "$lines" ] || fail "$u: no lines of the daemon in the journal"
  bad=$(grep -Ev '^ts=[0-9T:.-]+Z level=(debug|info|warn|error) sub=[a-z_]+ msg="' <<<"$lines" || true)
  [ -z "$bad" ] || fail "$u: journal lines not in logfmt: $bad"
  echo "$u: $(wc -l <<<"$lines") logfmt lines, e.g. $(head -1 <<<"$lines")"
done

step "sandbox: writes from a process of each service (ExecStartPost= write probe)"
journal_since "$c0" $R | grep '^write-probe' | sed "s/^/   $R: /"
journal_since "$c0" $S | grep '^write-probe' | sed "s/^/   $S: /"
jhas "$c0" $R '^write-probe /srv/outbox-probe: refused: Read-only file system' ||
  fail "$R: a write to /srv/outbox-probe (mode 1777) was not refused with EROFS"
jhas "$c0" $R '^write-probe /var/lib/outbox-relay: written' ||
  fail "$R: its StateDirectory /var/lib/outbox-relay is not writable"
jhas "$c0" $S '^write-probe /srv/outbox-probe: refused: Read-only file system' ||
  fail "$S: a write to /srv/outbox-probe (mode 1777) was not refused with EROFS"
jhas "$c0" $S '^write-probe /tmp: written' ||
  fail "$S: its private /tmp is not writable"
in_ct test ! -e /tmp/write-probe || fail "the service's /tmp is the system's (PrivateTmp=)"

step "systemd-analyze security (live units; at most $MAX_EXPOSURE, open items only those allowed)"
for u in $R $S; do
  echo -n "$(in_ct systemctl --version | head -1 | cut -d' ' -f1-2), "
  check_security $u "$(in_ct systemd-analyze security --no-pager $u)"
done

# --- restarts --------------------------------------------------------------
step "bad configuration: exit status 2, not restarted"
in_ct sh -c 'printf "name: broken\nbrokrs: x\n" >/etc/outbox-relay/broken.yaml'
in_ct systemctl start outbox-relay@broken.service 2>/dev/null && fail "outbox-relay@broken started"
broken_t=$(date +%s)

step "watchdog: SIGSTOP of both main processes"
# The daemons ping every WatchdogSec/2 from their event loops: they have
# lived through at least two watchdog periods unrestarted by now.
while [ $(($(date +%s) - start_t)) -lt 7 ]; do sleep 0.5; done
for u in $R $S; do
  [ "$(show $u NRestarts)" = 0 ] || fail "$u restarted $(show $u NRestarts) times before any fault (watchdog pings missing?)"
done
c1=$(mark)
r_pid=$(main_pid $R) s_pid=$(main_pid $S)
t0=$(date +%s.%N)
in_ct sh -c "kill -STOP $r_pid $s_pid"
wait_for 30 "$R restarted after the watchdog" running $R "$r_pid"
wait_for 30 "$S restarted after the watchdog" running $S "$s_pid"
echo "both restarted $(awk -v t="$t0" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - t }') s after SIGSTOP (the last ping up to WatchdogSec/2 before, WatchdogSec 3 s, RestartSec 5 s)"
for u in $R $S; do
  jhas "$c1" $u 'Watchdog timeout' || fail "$u: no 'Watchdog timeout' in the journal"
  jhas "$c1" $u "Failed with result 'watchdog'" || fail "$u: not failed with result 'watchdog'"
  [ "$(show $u NRestarts)" = 1 ] || fail "$u: NRestarts $(show $u NRestarts), expected 1"
done
journal_since "$c1" $R | grep -E 'Watchdog timeout|Killing|result' | sed "s/^/   /"

[ "$(show outbox-relay@broken.service ActiveState)" = failed ] || fail "outbox-relay@broken is $(show outbox-relay@broken.service ActiveState)"
[ "$(show outbox-relay@broken.service ExecMainStatus)" = 2 ] ||
  fail "outbox-relay@broken exited with $(show outbox-relay@broken.service ExecMainStatus), not 2"
[ "$(show outbox-relay@broken.service NRestarts)" = 0 ] || fail "outbox-relay@broken was restarted"
[ $(($(date +%s) - broken_t)) -ge 6 ] || fail "too early to tell that outbox-relay@broken stays down"
echo "outbox-relay@broken: failed, exit status 2, 0 restarts after $(($(date +%s) - broken_t)) s: $(grep -m1 'brokrs' <<<"$(journal_since "$c0" outbox-relay@broken.service)" || true)"
in_ct systemctl reset-failed outbox-relay@broken.service
in_ct rm /etc/outbox-relay/broken.yaml

step "SIGKILL of both main processes: restarted"
wait_for 30 "relay /healthz 200 again" healthy "$RELAY_METRICS_PORT"
c2=$(mark)
r_pid=$(main_pid $R) s_pid=$(main_pid $S)
in_ct sh -c "kill -KILL $r_pid $s_pid"
wait_for 20 "$R restarted after SIGKILL" running $R "$r_pid"
wait_for 20 "$S restarted after SIGKILL" running $S "$s_pid"
for u in $R $S; do
  jhas "$c2" $u 'code=killed, status=9/KILL' || fail "$u: no 'status=9/KILL' in the journal"
  [ "$(show $u NRestarts)" = 2 ] || fail "$u: NRestarts $(show $u NRestarts), expected 2"
done
echo "both restarted (NRestarts 2)"

step "a fatal error (source switched to binlog_format=STATEMENT): exit status 1, restarted"
wait_for 30 "relay /healthz 200 again" healthy "$RELAY_METRICS_PORT"
c3=$(mark)
r_pid=$(main_pid $R)
sql -e "SET GLOBAL binlog_format='STATEMENT'"
# Cut the relay's binlog connection: it reconnects, checks the source's
# settings again and refuses them.
for id in $(sql -e "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'"); do
  sql -e "KILL $id" || true
done
exited_1() { [ "$(show $R ExecMainStatus)" = 1 ]; }
wait_for 20 "the relay's exit with status 1" exited_1
sql -e "SET GLOBAL binlog_format='ROW'"
grep -m1 'binlog_format is STATEMENT' <<<"$(journal_since "$c3" $R)" | sed 's/^/   /' || true
jhas "$c3" $R 'code=exited, status=1/FAILURE' || fail "$R: no 'status=1/FAILURE' in the journal"
wait_for 30 "$R restarted after exit 1" running $R "$r_pid"
wait_for 30 "relay /healthz 200 after the restart" healthy "$RELAY_METRICS_PORT"
[ "$(show $R NRestarts)" -ge 3 ] || fail "$R: NRestarts $(show $R NRestarts), expected 3 or more"
insert_events c 20
wait_for 30 "20 events after the restart" have_events c 20
echo "restarted (NRestarts $(show $R NRestarts)), streaming again: 20 of 20 new events in Kafka"

# --- clean stop ---------------------------------------------------------------
step "systemctl stop: exit 0, not restarted, quiet"
c4=$(mark)
in_ct systemctl stop $R $S
for u in $R $S; do
  [ "$(show $u ActiveState)" = inactive ] || fail "$u is $(show $u ActiveState) after stop"
  [ "$(show $u ExecMainStatus)" = 0 ] || fail "$u exited with status $(show $u ExecMainStatus)"
  [ "$(show $u Result)" = success ] || fail "$u: Result=$(show $u Result)"
done
nr_r=$(show $R NRestarts) nr_s=$(show $S NRestarts)
sleep 6 # longer than RestartSec=5s
for u in $R $S; do
  [ "$(show $u ActiveState)" = inactive ] || fail "$u was started again after a clean stop"
done
[ "$(show $R NRestarts)/$(show $S NRestarts)" = "$nr_r/$nr_s" ] || fail "restarted after a clean stop"
for u in $R $S; do
  loud=$(journal_since "$c4" $u -p warning)
  [ -z "$loud" ] || fail "$u: the stop logged at warning or above: $loud"
  loud=$(journal_since "$c4" $u | grep -E 'level=(warn|error)' || true)
  [ -z "$loud" ] || fail "$u: the daemon logged at warn or error while stopping: $loud"
  echo "$u: $(journal_since "$c4" $u | tail -2 | tr '\n' ' ')"
done

# --- remove, purge ----------------------------------------------------------------
step "dpkg --remove: conffiles stay; dpkg --purge: nothing left"
remove_dropins
in_ct systemctl start $R # running when removed: the prerm stops it
in_ct dpkg --remove outbox-relay >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg --remove"; }
in_ct test ! -e /usr/bin/outbox-relay || fail "/usr/bin/outbox-relay left after remove"
in_ct test -f /etc/outbox-relay/relay.yaml || fail "conffile relay.yaml gone after remove (only purge removes it)"
[ -z "$(outbox_procs)" ] || fail "still running after remove: $(outbox_procs)"
in_ct dpkg --purge outbox-relay >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log"; fail "dpkg --purge"; }
check_purged

# --- upgrade ------------------------------------------------------------------------
step "upgrade: $prev_name, running, then $deb_name over it"
ct_apt install -y -q --no-install-recommends "/packages/previous/$prev_name" >"$tmp/apt.log" 2>&1 ||
  { tail -30 "$tmp/apt.log"; fail "apt-get install $prev_name"; }
[ "$(in_ct dpkg-query -W -f='${Version}' outbox-relay)" = "$version-0+deb$n" ] || fail "the previous revision is not installed"
write_configs
in_ct sh -c 'echo "# edited by the administrator" >>/etc/outbox-relay/relay.yaml'
in_ct systemctl start $R $S
wait_for 30 "relay /healthz 200 (previous revision)" healthy "$RELAY_METRICS_PORT"
insert_events d 30
wait_for 30 "30 events through the previous revision" have_events d 30
# The checkpoint passes the events once Kafka has them all.
end=$(sql -e "SHOW MASTER STATUS" | awk '{print "file=" $1 " pos=" $2}')
ckpt_at() { in_ct grep -q "$1" /var/lib/outbox-relay/main.checkpoint; }
wait_for 20 "the checkpoint at the binlog's end ($end)" ckpt_at "$end"
ckpt=$(in_ct head -1 /var/lib/outbox-relay/main.checkpoint)
sums=$(in_ct md5sum /etc/outbox-relay/relay.yaml /etc/outbox-relay/sse.yaml /etc/outbox-relay/main.yaml /etc/outbox-relay/sse.env)
r_pid=$(main_pid $R) s_pid=$(main_pid $S)
c5=$(mark)
ct_apt install -y -q --no-install-recommends "/packages/$deb_name" >"$tmp/apt.log" 2>&1 ||
  { tail -30 "$tmp/apt.log"; fail "apt-get install $deb_name over $prev_name"; }
grep -E 'Unpacking|Setting up|conffile' "$tmp/apt.log" | sed 's/^/   /'
[ "$(in_ct dpkg-query -W -f='${Version} ${Status}' outbox-relay)" = "$version-1+deb$n install ok installed" ] ||
  fail "after the upgrade: $(in_ct dpkg-query -W -f='${Version} ${Status}' outbox-relay)"
[ "$(in_ct md5sum /etc/outbox-relay/relay.yaml /etc/outbox-relay/sse.yaml /etc/outbox-relay/main.yaml /etc/outbox-relay/sse.env)" = "$sums" ] ||
  fail "the upgrade changed the configuration"
leftovers=$(in_ct find /etc/outbox-relay -name '*.dpkg-*')
[ -z "$leftovers" ] || fail "the upgrade left $leftovers"
for u in $R $S; do
  running $u || fail "$u is not running after the upgrade"
done
[ "$(main_pid $R)" != "$r_pid" ] || fail "$R was not restarted by the upgrade"
[ "$(main_pid $S)" != "$s_pid" ] || fail "$S was not restarted by the upgrade"
in_ct test -f /var/lib/outbox-relay/main.checkpoint || fail "the checkpoint is gone after the upgrade"
resumed=$(grep -m1 'resuming after' <<<"$(journal_since "$c5" $R)" || true)
[ -n "$resumed" ] || fail "$R did not resume from a checkpoint after the upgrade"
text=$(sed -E 's/.*resuming after ([^"]*)".*/\1/' <<<"$resumed")
[[ "$ckpt" == *"$text"* ]] || fail "$R resumed after '$text', the checkpoint held '$ckpt'"
echo "conffiles as edited, no .dpkg-* files; both restarted (relay $r_pid -> $(main_pid $R), sse $s_pid -> $(main_pid $S)); resumed after $text"
wait_for 30 "relay /healthz 200 after the upgrade" healthy "$RELAY_METRICS_PORT"
insert_events e 10
wait_for 30 "10 events after the upgrade" have_events e 10
echo "10 of 10 events after the upgrade"

step "apt-get purge: nothing left"
ct_apt purge -y -q outbox-relay >"$tmp/apt.log" 2>&1 || { tail -30 "$tmp/apt.log"; fail "apt-get purge"; }
check_purged
echo "== test_systemd $suite: all checks passed"
