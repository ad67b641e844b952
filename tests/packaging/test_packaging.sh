#!/usr/bin/env bash
# test_packaging SOURCE_DIR BUILD_DIR VERSION
#
# Builds both packages from BUILD_DIR into a temporary directory, checks
# their contents, lintian (no errors), the man pages, the units
# (systemd-analyze verify and security), then installs the .deb on this
# machine (twice: install and reinstall), runs the installed binaries with
# the installed configs, removes it (conffiles stay) and purges it
# (nothing stays but the system user, as Debian does). Fails, never skips:
# it needs root and the tools tests/run.sh installs.
set -euo pipefail

src=$1 build=$2 version=$3
pkg=outbox-relay
release=1
deb_name=${pkg}_${version}-${release}_amd64.deb
rpm_name=${pkg}-${version}-${release}.x86_64.rpm

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] ||
  fail "must run as root: it installs and purges the .deb with dpkg (CI runs as root on a throwaway machine)"
for tool in cpack rpmbuild rpm lintian dpkg-deb dpkg-parsechangelog dpkg-statoverride \
            systemd-analyze man runuser; do
  command -v "$tool" >/dev/null || fail "$tool not found (tests/run.sh installs it)"
done
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "installed"; then
  fail "$pkg is already installed on this machine; this test installs and purges it, so remove it first (dpkg --purge $pkg)"
fi

tmp=$(mktemp -d /tmp/test_packaging.XXXXXX)
installed=0
cleanup() {
  if [ $installed = 1 ]; then
    echo "== cleanup: purging $pkg"
    dpkg --purge "$pkg" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The package's version is the project's plus the Debian revision; the
# changelog must agree (bump packaging/deb/changelog.Debian with VERSION).
changelog_version=$(dpkg-parsechangelog -l "$src/packaging/deb/changelog.Debian" -S Version)
[ "$changelog_version" = "$version-$release" ] ||
  fail "packaging/deb/changelog.Debian is at $changelog_version, the project at $version-$release: add an entry"

step "cpack -G DEB, -G RPM"
(cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out" >cpack-deb.log 2>&1) ||
  { cat "$tmp/cpack-deb.log"; fail "cpack -G DEB"; }
(cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G RPM -B "$tmp/out" >cpack-rpm.log 2>&1) ||
  { cat "$tmp/cpack-rpm.log"; fail "cpack -G RPM"; }
deb=$tmp/out/$deb_name
rpm=$tmp/out/$rpm_name
[ -f "$deb" ] || fail "no $deb_name (got: $(ls "$tmp/out"))"
[ -f "$rpm" ] || fail "no $rpm_name (got: $(ls "$tmp/out"))"
echo "$deb_name $rpm_name"

# The files both packages must hold, exactly (directories aside).
expected_files="/etc/outbox-relay/relay.yaml
/etc/outbox-relay/sse.yaml
/usr/bin/outbox-relay
/usr/bin/outbox-sse
/usr/lib/systemd/system/outbox-relay@.service
/usr/lib/systemd/system/outbox-sse.service
/usr/share/doc/outbox-relay/changelog.Debian.gz
/usr/share/doc/outbox-relay/copyright
/usr/share/man/man5/outbox-relay.yaml.5.gz
/usr/share/man/man8/outbox-relay.8.gz
/usr/share/man/man8/outbox-sse.8.gz
/usr/share/outbox-relay/schema/grants.sql
/usr/share/outbox-relay/schema/outbox-mariadb.sql
/usr/share/outbox-relay/schema/outbox-mysql.sql
/usr/share/outbox-relay/schema/server.cnf
/usr/share/outbox-relay/schema/waiting-room.sql"

step "rpm -qpl"
rpm -qpl "$rpm" | tee "$tmp/rpm.list"
rpm_files=$(rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms}\n]' "$rpm" | awk '$2 !~ /^d/ {print $1}' | sort)
diff <(echo "$expected_files") <(echo "$rpm_files") ||
  fail "rpm -qpl: files differ from the expected list (< expected, > in the .rpm)"
[ "$(rpm -qpc "$rpm" | sort)" = "$(printf '/etc/outbox-relay/relay.yaml\n/etc/outbox-relay/sse.yaml')" ] ||
  fail "rpm: the configs are not %config"
for so in libmariadb.so.3 librdkafka.so.1 libhiredis.so.0.14 libyaml-0.so.2 \
          libevent-2.1.so.7 libcrypto.so.3 libzstd.so.1 libsystemd.so.0; do
  rpm -qpR "$rpm" | grep -q "^$so()" || fail "rpm: no requirement on $so"
done

step "dpkg-deb: contents, conffiles, Depends"
deb_files=$(dpkg-deb --fsys-tarfile "$deb" | tar -t -v | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort)
diff <(echo "$expected_files") <(echo "$deb_files") ||
  fail "dpkg-deb -c: files differ from the expected list (< expected, > in the .deb)"
mkdir "$tmp/ctrl"
dpkg-deb -e "$deb" "$tmp/ctrl"
[ "$(cat "$tmp/ctrl/conffiles")" = "$(printf '/etc/outbox-relay/relay.yaml\n/etc/outbox-relay/sse.yaml')" ] ||
  fail "conffiles: $(cat "$tmp/ctrl/conffiles")"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for dep in adduser libc6 libmariadb3 librdkafka1 libhiredis0.14 libyaml-0-2 \
           libevent-2.1-7 libssl3 libzstd1 libsystemd0; do
  grep -Eq "(^|, )$dep( |,|$)" <<<"$depends" || fail "Depends lacks $dep"
done

step "lintian"
# lintian exits non-zero on errors; its own notice about root is noise.
lintian_rc=0
lintian --display-info --pedantic "$deb" >"$tmp/lintian.out" 2>&1 || lintian_rc=$?
grep -v 'running with root privileges' "$tmp/lintian.out" || true
if grep -q '^E:' "$tmp/lintian.out" || [ $lintian_rc -ne 0 ]; then
  fail "lintian reports errors (status $lintian_rc)"
fi

step "man pages"
dpkg-deb -x "$deb" "$tmp/root"
for page in "$tmp"/root/usr/share/man/man*/*.gz; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "man --warnings $(basename "$page"): $warnings"
  echo "$(basename "$page"): no warnings"
done

step "systemd-analyze security --offline=yes (exposure must be 2.5 or less)"
for unit in outbox-relay@.service outbox-sse.service; do
  out=$(systemd-analyze security --offline=yes --no-pager \
          "$tmp/root/usr/lib/systemd/system/$unit" 2>&1) || true
  line=$(grep 'Overall exposure level' <<<"$out") ||
    { echo "$out"; fail "systemd-analyze security gave no rating for $unit"; }
  echo "$line"
  score=$(sed -E 's/.*: ([0-9]+\.[0-9]+) .*/\1/' <<<"$line")
  awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' ||
    fail "$unit: exposure $score is above 2.5"
done

step "dpkg -i (install, then reinstall)"
installed=1
dpkg -i "$deb" || fail "dpkg -i $deb_name"
dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb_name a second time (reinstall)"
dpkg-query -W -f='${Package} ${Version} ${Status}\n' "$pkg"

step "installed files, user, permissions"
for f in $expected_files; do [ -e "$f" ] || fail "$f not installed"; done
getent passwd outbox-relay >/dev/null || fail "no system user outbox-relay"
for f in /etc/outbox-relay/relay.yaml /etc/outbox-relay/sse.yaml; do
  perms=$(stat -c '%a %U:%G' "$f")
  [ "$perms" = "640 root:outbox-relay" ] || fail "$f is $perms, not 640 root:outbox-relay"
done
echo "user outbox-relay: $(getent passwd outbox-relay)"
echo "configs: 640 root:outbox-relay"

step "systemd-analyze verify (installed units, and an instance of the template)"
# Works without systemd as PID 1: it loads the unit files, checks them and
# that ExecStart and the Documentation= man pages exist.
ln -s /usr/lib/systemd/system/outbox-relay@.service "$tmp/outbox-relay@relay.service"
verify=$(systemd-analyze verify /usr/lib/systemd/system/outbox-relay@.service \
           "$tmp/outbox-relay@relay.service" /usr/lib/systemd/system/outbox-sse.service 2>&1) ||
  { echo "$verify"; fail "systemd-analyze verify failed"; }
[ -z "$verify" ] || { echo "$verify"; fail "systemd-analyze verify reported something"; }
echo "no findings"

step "installed binaries"
v=$(/usr/bin/outbox-relay --version) && echo "$v"
[ "$v" = "outbox-relay $version" ] || fail "outbox-relay --version printed '$v'"
v=$(/usr/bin/outbox-sse --version) && echo "$v"
[ "$v" = "outbox-sse $version" ] || fail "outbox-sse --version printed '$v'"
# As the service user, with the environment systemd would give it (none),
# so group permissions and ${VAR:-default} fallbacks are what is tested.
for d in relay:relay sse:sse; do
  bin=/usr/bin/outbox-${d%%:*} cfg=/etc/outbox-relay/${d#*:}.yaml
  # outbox-sse refuses the sample's placeholder secret: as in a deployment,
  # the secret comes from the environment (the unit's EnvironmentFile).
  runuser -u outbox-relay -- env -i OUTBOX_SSE_SECRET=packaging-test-secret-0123 \
    "$bin" --check-config -c "$cfg" >"$tmp/check.out" 2>&1 ||
    { cat "$tmp/check.out"; fail "$bin --check-config -c $cfg (as outbox-relay)"; }
  echo "$bin --check-config -c $cfg: ok ($(wc -l <"$tmp/check.out") lines)"
done
man -w outbox-relay outbox-sse outbox-relay.yaml >/dev/null || fail "man cannot find the installed pages"

step "dpkg --remove: conffiles stay"
# What an administrator adds, and what the service writes.
echo "name: main" >/etc/outbox-relay/main.yaml
mkdir -p /var/lib/outbox-relay && touch /var/lib/outbox-relay/main.checkpoint
dpkg --remove "$pkg" >/dev/null || fail "dpkg --remove"
[ ! -e /usr/bin/outbox-relay ] || fail "/usr/bin/outbox-relay left after remove"
[ -f /etc/outbox-relay/relay.yaml ] || fail "conffile relay.yaml gone after remove (only purge removes it)"

step "dpkg --purge: nothing left"
dpkg --purge "$pkg" >/dev/null || fail "dpkg --purge"
installed=0
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "installed\|config-files"; then
  fail "dpkg still knows $pkg: $(dpkg-query -W -f='${Status}' "$pkg")"
fi
dpkg -L "$pkg" >/dev/null 2>&1 && fail "dpkg -L $pkg still lists files"
for f in $expected_files /etc/outbox-relay /usr/share/outbox-relay \
         /usr/share/doc/outbox-relay /var/lib/outbox-relay; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
dpkg-statoverride --list | grep -q /etc/outbox-relay && fail "stat overrides left after purge"
# Debian keeps system users on purge: files they own may remain elsewhere,
# and a reused uid would inherit them.
getent passwd outbox-relay >/dev/null &&
  echo "system user outbox-relay kept (Debian practice)"
echo "== test_packaging: all checks passed"
