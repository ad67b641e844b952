/* SPDX-License-Identifier: Apache-2.0 */
/*
 * numfmt: numbers into text by hand, for what runs once per record or
 * per transaction (record headers, transaction names). snprintf costs
 * about a thousand instructions a call; these a few per digit
 * (callgrind, docs/BENCHMARKS.md).
 *
 * Each appends at p, with no terminating NUL, and returns the end. The
 * caller makes room first: NUMFMT_U64_MAX bytes for a decimal, 2 per byte
 * for hex.
 */
#ifndef OUTBOX_NUMFMT_H
#define OUTBOX_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

#define NUMFMT_U64_MAX 20 /* digits of UINT64_MAX */

static inline char *numfmt_u64(char *p, uint64_t v)
{
    char tmp[NUMFMT_U64_MAX];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Lowercase, two digits a byte, as printf's %02x. */
static inline char *numfmt_hex(char *p, const uint8_t *b, size_t n)
{
    static const char digit[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        *p++ = digit[b[i] >> 4];
        *p++ = digit[b[i] & 15];
    }
    return p;
}

#endif
