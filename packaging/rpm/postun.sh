# SPDX-License-Identifier: Apache-2.0
# outbox-relay %postun: forget the removed unit files.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
