#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo, from a fresh Debian 12 machine: installs what it needs (as
# root, or through sudo), builds, and runs outbox-demo: MariaDB, Redis, a
# Kafka endpoint, outbox-relay, outbox-sse and a waiting room, all on
# 127.0.0.1 in a temporary directory. Open the URL it prints and join the
# queue. Ctrl-C stops everything and removes the directory.
#
#   demo/run.sh [--no-install] [outbox-demo options: --port N --sse-port N
#                --seed-users N --join-rate PER_S --admit-rate PER_S]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "${1:-}" = --no-install ]; then
  shift
else
  "$here/tests/run.sh" --install-only
fi
build=${OUTBOX_DEMO_BUILD:-$here/build}   # the tests point it at theirs
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target outbox-demo >/dev/null
exec "$build/demo/outbox-demo" "$@"
