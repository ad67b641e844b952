/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/bwalk.h"

#include <stdio.h>

#include "relay/binlog.h"

#define SIZE_FIELD 9 /* the header's event size: 4 bytes, little-endian */

void bwalk_init(struct bwalk *w, const uint8_t *buf, size_t len, size_t start)
{
    *w = (struct bwalk){buf, len, start, start};
}

int bwalk_next(struct bwalk *w, const uint8_t **ev, size_t *evlen, char *err,
               size_t errlen)
{
    w->at = w->next;
    if (w->at >= w->len)
        return 0;
    const uint8_t *p = w->buf + w->at;
    size_t left = w->len - w->at;
    uint32_t want = left >= SIZE_FIELD + 4
                        ? (uint32_t)p[SIZE_FIELD] | (uint32_t)p[SIZE_FIELD + 1] << 8 |
                              (uint32_t)p[SIZE_FIELD + 2] << 16 |
                              (uint32_t)p[SIZE_FIELD + 3] << 24
                        : 0;
    if (left < BINLOG_HEADER_LEN || want > left) {
        snprintf(err, errlen, "truncated event (%zu bytes left, the event "
                 "needs %s)", left, left < SIZE_FIELD + 4 ? "a header" : "more");
        return -1;
    }
    if (want < BINLOG_HEADER_LEN) {
        snprintf(err, errlen, "event size %u is smaller than its header", want);
        return -1;
    }
    *ev = p;
    *evlen = want;
    w->next = w->at + want;
    return 1;
}
