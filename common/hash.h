/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash: FNV-1a, 64 bits, for the in-memory tables of the relay and of
 * outbox-sse (queue names, user names, landed rows, topic-partitions):
 * a few instructions a byte for short keys. It is not keyed, so it is no
 * defence against keys chosen to collide.
 */
#ifndef OUTBOX_HASH_H
#define OUTBOX_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_SEED 1469598103934665603ULL

/* h with the n bytes at p mixed in; start from HASH_FNV1A_SEED. */
static inline uint64_t hash_fnv1a_more(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

static inline uint64_t hash_fnv1a(const void *p, size_t n)
{
    return hash_fnv1a_more(HASH_FNV1A_SEED, p, n);
}

#endif
