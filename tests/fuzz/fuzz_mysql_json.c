/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MySQL binary JSON decoder on arbitrary documents. Byte 0 picks a
 * bounded buffer (of byte 1 bytes) or a growable one; the rest is the
 * document, in a buffer of exactly its size. A bounded render may stop
 * short but never writes past cap; a growable one that succeeds yields
 * text of the length it reports, and the same document renders to the
 * same text both ways when the bound is large enough.
 */
#include <string.h>

#include "relay/mysql_json.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t cap = data[1], n = size - 2;
    uint8_t *doc = (uint8_t *)fuzz_copy(data + 2, n, 0);
    char err[256];
    struct mysql_json_out grow = {.growable = 1, .limit = 1 << 20};
    int rg = mysql_json_to_text(doc, n, &grow, err, sizeof err);
    FUZZ_CHECK(rg == 0 || rg == -1);
    FUZZ_CHECK(rg < 0 || grow.len <= grow.cap || grow.len == 0);
    if (data[0] & 1) {
        char *buf = malloc(cap ? cap : 1);
        struct mysql_json_out b = {.buf = buf, .cap = cap};
        int rb = mysql_json_to_text(doc, n, &b, err, sizeof err);
        FUZZ_CHECK(rb == rg);
        if (rb == 0 && rg == 0) {
            FUZZ_CHECK(b.len == grow.len);
            if (b.len <= cap)
                FUZZ_CHECK(memcmp(buf, grow.buf, b.len) == 0);
        }
        free(buf);
    }
    free(grow.buf);
    free(doc);
    return 0;
}
