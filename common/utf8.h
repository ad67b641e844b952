/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8: whether bytes are UTF-8 as RFC 3629 has it (no overlong forms, no
 * surrogates, nothing past U+10FFFF), for text that goes into JSON as it
 * is: outbox-sse's queue and user names, the dump's column values. A JSON
 * reader (a browser, jq, Python's json) refuses anything else.
 */
#ifndef OUTBOX_UTF8_H
#define OUTBOX_UTF8_H

#include <stddef.h>

static inline int utf8_valid(const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i++];
        size_t more = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1
                      : c >= 0xe0 && c <= 0xef ? 2
                      : c >= 0xf0 && c <= 0xf4 ? 3 : 4;
        if (more == 4 || more > n - i)
            return 0;
        /* The second byte's range: this is where overlong forms (e0, f0),
         * surrogates (ed) and code points past U+10FFFF (f4) show. */
        unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
        unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
        for (size_t k = 0; k < more; k++, i++)
            if (s[i] < (k ? 0x80 : lo) || s[i] > (k ? 0xbf : hi))
                return 0;
    }
    return 1;
}

#endif
