#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# packaging/build.sh SOURCE_DIR OUT_DIR [GENERATOR...]
#
# The package build, as a Debian package build does it: the compiler and
# linker flags come from dpkg-buildflags (DEB_BUILD_MAINT_OPTIONS, default
# hardening=+all), CPPFLAGS folded into CFLAGS as debhelper does for CMake,
# build type None so that CMake adds no flags of its own. The whole tree
# is built (tests and tools too), so that a warning anywhere shows; then
# CPack makes the packages (default DEB; RPM needs rpmbuild) in OUT_DIR.
#
# The .deb's Debian revision carries the distribution it was built on
# (0.1.0-1+deb12, 0.1.0-1+deb13: CMakeLists' OUTBOX_DEB_DIST), since the
# libraries it depends on differ. Build on (or in a root of) the release
# the package is for: tests/packaging/test_deb.sh builds the Debian 13
# package in a trixie root made with debootstrap.
#
# OUTBOX_WERROR (default OFF, as for any packager: a newer compiler's new
# warning must not fail a package build) and CPACK_ARGS (more cpack
# arguments, e.g. "-D CPACK_DEBIAN_PACKAGE_RELEASE=0+deb12") come from the
# environment. CI sets OUTBOX_WERROR=ON: the flags of a real package build
# then meet -Werror there.
set -eu

[ $# -ge 2 ] || { echo "usage: packaging/build.sh SOURCE_DIR OUT_DIR [GENERATOR...]" >&2; exit 2; }
src=$(cd "$1" && pwd)
out=$2
shift 2
[ $# -gt 0 ] || set -- DEB
mkdir -p "$out"
out=$(cd "$out" && pwd)

export DEB_BUILD_MAINT_OPTIONS="${DEB_BUILD_MAINT_OPTIONS:-hardening=+all}"
# From the source directory, as in a package build: the flags map that
# path out of the debug information (-ffile-prefix-map=SRC=.).
cflags=$(cd "$src" && echo "$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)")
ldflags=$(cd "$src" && dpkg-buildflags --get LDFLAGS)
echo "packaging/build.sh: DEB_BUILD_MAINT_OPTIONS=$DEB_BUILD_MAINT_OPTIONS"
echo "packaging/build.sh: CFLAGS=$cflags"
echo "packaging/build.sh: LDFLAGS=$ldflags"

cmake -S "$src" -B "$out/build" -DCMAKE_BUILD_TYPE=None \
  -DOUTBOX_WERROR="${OUTBOX_WERROR:-OFF}" \
  -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" >"$out/configure.log"
cmake --build "$out/build" -j "$(nproc)"
for gen in "$@"; do
  # shellcheck disable=SC2086 # CPACK_ARGS is a list of words
  (cd "$out/build" && cpack -G "$gen" -B "$out" ${CPACK_ARGS:-}) >"$out/cpack-$gen.log" 2>&1 ||
    { cat "$out/cpack-$gen.log" >&2; echo "packaging/build.sh: cpack -G $gen failed" >&2; exit 1; }
done
rm -rf "$out/_CPack_Packages"
ls "$out"/*.deb "$out"/*.rpm 2>/dev/null || true
