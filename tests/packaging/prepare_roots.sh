#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# prepare_roots.sh BUILD_DIR: makes the packaging tests' Debian roots ready
# (tests/run.sh calls it before CTest, as it does `th-servers prepare` for
# the database servers): a trixie build root and a bookworm and a trixie
# root to boot, each built once per machine by debootstrap (about a minute
# each) and reused after. One line per root, "NAME: ready" or
# "NAME: SKIPPED: why" (the tests then skip with that reason).
set -uo pipefail
build=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/packaging/lib.sh
. "$here/lib.sh"
rc=0
for r in "build_root trixie" "boot_root bookworm" "boot_root trixie"; do
  out=$( (set -e; $r) 2>&1)
  case $? in
    0) echo "${r#* } ${r%%_*} root: ready ($out)" ;;
    77) echo "${r#* } ${r%%_*} root: ${out##*$'\n'}" ;;
    *) echo "${r#* } ${r%%_*} root: error: $out"; rc=1 ;;
  esac
done
exit $rc
