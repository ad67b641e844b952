#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_deb SUITE SOURCE_DIR BUILD_DIR VERSION    (SUITE: bookworm or trixie)
#
# Builds the .deb for Debian SUITE the way a package build does
# (packaging/build.sh: dpkg-buildflags with hardening=+all, build type
# None, the whole tree, -Werror on as in every CI build) on this machine
# when it runs that release, else in a SUITE root made by debootstrap
# (th-root; booted with systemd-nspawn --volatile=overlay, so the cached
# root stays as debootstrap made it). On bookworm it also builds the .rpm.
# A second package of the same build with the lower revision 0+debN is
# the "previous version" test_systemd_SUITE upgrades from.
#
# Then checks, each failing the test: the changelog's version; the
# files, conffiles and Depends of the .deb (exactly what dpkg-shlibdeps
# finds for that release); lintian (no error); the man pages; the
# hardening in the binaries (PIE, RELRO, BIND_NOW, stack protector,
# fortified calls; on trixie also CET from -fcf-protection); the units
# (systemd-analyze security --offline); the .rpm's files, %config and
# requirements. The packages are left in BUILD_DIR/packages/SUITE/ for
# test_systemd_SUITE. Needs root (debootstrap, nspawn); SKIPPED (77) only
# when the SUITE root cannot be built here.
set -euo pipefail

suite=$1 src=$2 build=$3 version=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/packaging/lib.sh
. "$here/lib.sh"
n=$(dist_number "$suite")
pkg=outbox-relay
revision=1
deb_name=${pkg}_${version}-${revision}+deb${n}_amd64.deb
prev_name=${pkg}_${version}-0+deb${n}_amd64.deb
rpm_name=${pkg}-${version}-${revision}.x86_64.rpm
out=$(pkg_dir "$suite")

[ "$(id -u)" -eq 0 ] || fail "must run as root (debootstrap, systemd-nspawn; CI runs as root)"
for tool in rpmbuild rpm lintian dpkg-deb dpkg-parsechangelog readelf objdump systemd-analyze \
            systemd-nspawn man; do
  command -v "$tool" >/dev/null || fail "$tool not found (tests/run.sh installs it)"
done

changelog_version=$(dpkg-parsechangelog -l "$src/packaging/deb/changelog.Debian" -S Version)
[ "$changelog_version" = "$version-$revision" ] ||
  fail "packaging/deb/changelog.Debian is at $changelog_version, the project at $version-$revision: add an entry"

rm -rf "$out"
mkdir -p "$out"
skip_note=$out/SKIPPED
tmp=$(mktemp -d /tmp/test_deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The build, and the same build packaged again as the previous revision.
prev_args="-D CPACK_DEBIAN_PACKAGE_RELEASE=0+deb$n"
if [ "$(host_dist_number)" = "$n" ]; then
  step "packaging/build.sh on this Debian $n machine (DEB, RPM)"
  gens="DEB RPM"
  OUTBOX_WERROR=ON "$src/packaging/build.sh" "$src" "$out" $gens >"$out/build.log" 2>&1 ||
    { tail -40 "$out/build.log"; fail "packaging/build.sh (log: $out/build.log)"; }
  (cd "$out/build" && cpack -G DEB -B "$out/previous" $prev_args) >"$out/previous.log" 2>&1 ||
    { cat "$out/previous.log"; fail "cpack of the previous revision"; }
else
  gens="DEB"
  root=$(build_root "$suite")
  step "packaging/build.sh in the $suite root $root (systemd-nspawn --volatile=overlay)"
  mkdir -p /run/systemd/nspawn
  systemd-nspawn -q --register=no --keep-unit --volatile=overlay \
      --machine="outbox-build-$suite-$$" -D "$root" \
      --bind-ro="$src:/src" --bind="$out:/out" --setenv=OUTBOX_WERROR=ON \
      /bin/sh -c "/src/packaging/build.sh /src /out DEB &&
                  cd /out/build && cpack -G DEB -B /out/previous $prev_args >/out/previous.log 2>&1" \
      >"$out/build.log" 2>&1 ||
    { tail -40 "$out/build.log"; fail "packaging/build.sh in the $suite root (log: $out/build.log)"; }
fi
grep -E '^packaging/build.sh: (CFLAGS|LDFLAGS)' "$out/build.log"
if grep -E 'warning:' "$out/build.log"; then
  fail "the package build printed compiler warnings (above)"
fi
deb=$out/$deb_name
prev=$out/previous/$prev_name
[ -f "$deb" ] || fail "no $deb_name (got: $(ls "$out"))"
[ -f "$prev" ] || fail "no previous/$prev_name (got: $(ls "$out/previous" 2>&1))"
echo "$deb_name, previous/$prev_name"
dpkg --compare-versions "$version-0+deb$n" lt "$version-$revision+deb$n" ||
  fail "the previous revision does not sort before the new one"

# The files both packages must hold, exactly (directories aside): one
# list, tests/packaging/package-files.txt, which test_systemd also holds
# the purge to.
expected_files=$(grep -v '^#' "$here/package-files.txt")

step "dpkg-deb: version, contents, conffiles, Depends"
[ "$(dpkg-deb -f "$deb" Version)" = "$version-$revision+deb$n" ] ||
  fail "Version: $(dpkg-deb -f "$deb" Version)"
deb_files=$(dpkg-deb --fsys-tarfile "$deb" | tar -t -v | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort)
diff <(echo "$expected_files") <(echo "$deb_files") ||
  fail "dpkg-deb -c: files differ from the expected list (< expected, > in the .deb)"
mkdir "$tmp/ctrl"
dpkg-deb -e "$deb" "$tmp/ctrl"
[ "$(cat "$tmp/ctrl/conffiles")" = "$(printf '/etc/outbox-relay/relay.yaml\n/etc/outbox-relay/sse.yaml')" ] ||
  fail "conffiles: $(cat "$tmp/ctrl/conffiles")"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# Exactly these package names: dpkg-shlibdeps' findings for the release
# (and adduser, for the maintainer scripts); nothing named by hand.
case $suite in
  bookworm) want="adduser libc6 libevent-2.1-7 libevent-openssl-2.1-7 libhiredis0.14 libmariadb3 librdkafka1 libssl3 libsystemd0 libyaml-0-2 libzstd1 zlib1g" ;;
  trixie) want="adduser libc6 libevent-2.1-7t64 libevent-openssl-2.1-7t64 libhiredis1.1.0 libmariadb3 librdkafka1 libssl3t64 libsystemd0 libyaml-0-2 libzstd1 zlib1g" ;;
esac
got=$(tr ',' '\n' <<<"$depends" | sed -E 's/^ *//; s/ .*//' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$want" ] || fail "Depends names $got; expected $want"

step "lintian"
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

step "hardening of the binaries (what dpkg-buildflags asked for is in them)"
for bin in outbox-relay outbox-sse; do
  f=$tmp/root/usr/bin/$bin
  # (grep on a here-string, not a pipe: grep -q's early exit would make
  # a SIGPIPE that pipefail reports as a failure.)
  grep -q 'Type: *DYN' <<<"$(readelf -h "$f")" || fail "$bin is not PIE"
  grep -q GNU_RELRO <<<"$(readelf -lW "$f")" || fail "$bin has no RELRO segment"
  grep -Eq 'BIND_NOW|FLAGS_1.*NOW' <<<"$(readelf -dW "$f")" || fail "$bin is not linked with -z now"
  syms=$(readelf --dyn-syms -W "$f")
  grep -q '__stack_chk_fail' <<<"$syms" || fail "$bin: no stack protector (__stack_chk_fail)"
  chk=$(grep -Eo '__[a-z_]+_chk\b' <<<"$syms" | sort -u | tr '\n' ' ')
  [ -n "$chk" ] || fail "$bin: no fortified calls (_FORTIFY_SOURCE)"
  cet=""
  if [ "$suite" = trixie ]; then
    # -fcf-protection (trixie's dpkg asks for it): every function that can
    # be reached indirectly starts with endbr64. (The IBT property note is
    # absent: the linker keeps it only when every input has it.)
    endbr=$(objdump -d --no-show-raw-insn "$f" | grep -c endbr64 || true)
    [ "$endbr" -ge 100 ] || fail "$bin: $endbr endbr64 instructions: built without -fcf-protection?"
    cet=", $endbr endbr64 (-fcf-protection)"
  fi
  echo "$bin: PIE, RELRO, BIND_NOW, stack protector$cet, fortified: $chk"
done

step "systemd-analyze security --offline=yes (at most $MAX_EXPOSURE, open items only those allowed)"
# The live rating (test_systemd_SUITE) is the one that counts; this one
# catches a unit file that lost a setting before anything boots.
for unit in outbox-relay@.service outbox-sse.service; do
  check_security "$unit" "$(LANG=C.UTF-8 systemd-analyze security --offline=yes --no-pager \
                              "$tmp/root/usr/lib/systemd/system/$unit" 2>&1)"
done

if [[ " $gens " = *" RPM "* ]]; then
  rpm=$out/$rpm_name
  [ -f "$rpm" ] || fail "no $rpm_name (got: $(ls "$out"))"
  step "rpm -qpl $rpm_name"
  rpm_files=$(rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms}\n]' "$rpm" | awk '$2 !~ /^d/ {print $1}' | sort)
  diff <(echo "$expected_files") <(echo "$rpm_files") ||
    fail "rpm -qpl: files differ from the expected list (< expected, > in the .rpm)"
  [ "$(rpm -qpc "$rpm" | sort)" = "$(printf '/etc/outbox-relay/relay.yaml\n/etc/outbox-relay/sse.yaml')" ] ||
    fail "rpm: the configs are not %config"
  for so in libmariadb.so.3 librdkafka.so.1 libhiredis.so.0.14 libyaml-0.so.2 \
            libevent-2.1.so.7 libcrypto.so.3 libzstd.so.1 libsystemd.so.0; do
    grep -q "^$so()" <<<"$(rpm -qpR "$rpm")" || fail "rpm: no requirement on $so"
  done
  echo "$(wc -l <<<"$rpm_files") files, 2 %config, library requirements present"
fi
rm -rf "$out/build"
echo "== test_deb $suite: all checks passed"
