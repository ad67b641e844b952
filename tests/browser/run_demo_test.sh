#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs outbox-demo with a short queue, drives its page with headless
# chromium (tests/browser/test_demo.mjs), stops the demo.
#   run_demo_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work="$build/tests/browser"
mkdir -p "$work"

# playwright-core from npm, once per build directory (Debian has no package).
if [ ! -d "$work/node_modules/playwright-core" ]; then
  (cd "$work" && npm install --no-audit --no-fund --silent playwright-core@1.65.1 >/dev/null)
fi
cp "$src/tests/browser/test_demo.mjs" "$work/"

# The README's demo command itself (without its apt-get step: the test
# command has installed everything), with a shorter line than its default.
log="$work/demo.log"
OUTBOX_DEMO_BUILD=$build "$src/demo/run.sh" --no-install --port 0 --sse-port 0 --seed-users 20 \
  --join-rate 0.5 --admit-rate 2 >"$log" 2>&1 &
demo=$!
trap 'kill -INT $demo 2>/dev/null; wait $demo 2>/dev/null || true' EXIT

url=
for _ in $(seq 1 600); do
  url=$(grep -o 'open http://127.0.0.1:[0-9]*/' "$log" | head -1 | cut -d' ' -f2) || true
  [ -n "$url" ] && break
  kill -0 $demo 2>/dev/null || { cat "$log" >&2; echo "outbox-demo died" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$log" >&2; echo "outbox-demo did not come up" >&2; exit 1; }

if ! node "$work/test_demo.mjs" "$url" "$work/demo-confirmed.png"; then
  tail -20 "$log" >&2
  exit 1
fi
