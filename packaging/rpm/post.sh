# SPDX-License-Identifier: Apache-2.0
# outbox-relay %post: new unit files. No instance is enabled or started.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
