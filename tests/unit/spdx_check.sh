#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# spdx_check.sh [--fix] [SOURCE_DIR]
#
# Every source file of the project (.c .h .sh .cmake .py .mjs,
# CMakeLists.txt, and executable scripts without a suffix that start with
# #!) must
# carry "SPDX-License-Identifier: Apache-2.0" (see LICENSE) in its first
# three lines. The files are those git tracks plus the untracked ones it
# does not ignore, so a file added and not yet committed counts too.
#
# Without --fix: lists the files that lack the line and exits 1 (0 when
# none does): test_spdx. With --fix: adds the line to each of them, in the
# file's own comment syntax, after a #! line when there is one, and
# exits 0. Run it again after merging branches that add files.
set -eu

fix=0
if [ "${1:-}" = "--fix" ]; then
  fix=1
  shift
fi
src=${1:-$(dirname "$0")/../..}
cd "$src"
tag="SPDX-License-Identifier: Apache-2.0"

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "spdx_check: $src is not a git work tree" >&2
  exit 2
fi

# The comment that carries the tag in a file of this name, or nothing
# when the file is no source file.
header_for() {
  case ${1##*/} in
    *.c | *.h) echo "/* $tag */" ;;
    *.mjs | *.js) echo "// $tag" ;;
    *.sh | *.cmake | *.py | CMakeLists.txt) echo "# $tag" ;;
    *.*) ;;
    *)
      # Suffix-less: a script when executable and starting with #! (sh,
      # bash, python); fuzz corpus entries may start with #! too.
      if [ -x "$1" ] && head -c 2 "$1" 2>/dev/null | grep -q '^#!'; then
        echo "# $tag"
      fi
      ;;
  esac
}

missing=0
while IFS= read -r f; do
  [ -f "$f" ] || continue
  case $f in .*) continue ;; esac # .ci/ and the like: not the sources
  header=$(header_for "$f")
  [ -n "$header" ] || continue
  if head -n 3 "$f" | grep -q "$tag"; then
    continue
  fi
  if [ $fix = 0 ]; then
    echo "$f: no '$tag' in its first three lines" >&2
    missing=$((missing + 1))
    continue
  fi
  tmp="$f.spdx.$$"
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$header"; tail -n +2 "$f"; } >"$tmp"
  else
    { echo "$header"; cat "$f"; } >"$tmp"
  fi
  # keep the mode (scripts stay executable)
  chmod "$(stat -c %a "$f")" "$tmp"
  mv "$tmp" "$f"
  echo "added: $f"
done <<EOF
$(git ls-files --cached --others --exclude-standard | sort -u)
EOF

if [ $missing -gt 0 ]; then
  echo "spdx_check: $missing file(s) lack the SPDX line; run $0 --fix" >&2
  exit 1
fi
exit 0
