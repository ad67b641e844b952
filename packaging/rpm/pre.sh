# SPDX-License-Identifier: Apache-2.0
# outbox-relay %pre: the system user and group (see packaging/deb/postinst).
getent group outbox-relay >/dev/null || groupadd -r outbox-relay
getent passwd outbox-relay >/dev/null ||
    useradd -r -g outbox-relay -d /var/lib/outbox-relay -M \
        -s /sbin/nologin -c "outbox-relay daemons" outbox-relay
exit 0
