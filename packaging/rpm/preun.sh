# SPDX-License-Identifier: Apache-2.0
# outbox-relay %preun: on erase (not upgrade) stop the daemons.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl stop 'outbox-relay@*.service' outbox-sse.service >/dev/null 2>&1 || :
fi
exit 0
