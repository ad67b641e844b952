/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_seq: the sequence number every benchmark payload begins with
 * ({"seq":N,...}). A header of its own, inline, because the LD_PRELOAD
 * tap (bench_tap.c) reads it too and must not link the bench's library.
 */
#ifndef OUTBOX_BENCH_SEQ_H
#define OUTBOX_BENCH_SEQ_H

#include <stddef.h>
#include <string.h>

/* The seq of a payload, or -1. */
static inline long bench_payload_seq(const void *payload, size_t len)
{
    static const char prefix[] = "{\"seq\":";
    const char *p = payload;
    if (!p || len < sizeof prefix || memcmp(p, prefix, sizeof prefix - 1))
        return -1;
    long seq = 0;
    for (size_t i = sizeof prefix - 1; i < len && p[i] >= '0' && p[i] <= '9'; i++)
        seq = seq * 10 + (p[i] - '0');
    return seq;
}

#endif
