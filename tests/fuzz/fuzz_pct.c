/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route_pct_decode on arbitrary input: byte 0 picks form or path
 * decoding, byte 1 the size of the output buffer (0 to 255), the rest is
 * the input. Input and output live in buffers of exactly their size, so a
 * read or write past either is caught. A success must account for every
 * byte: one out per plain byte, one per three-byte escape, a NUL at the
 * end; and encoding the output again must decode to the same bytes.
 */
#include <string.h>

#include "sse/route.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int form = data[0] & 1;
    size_t outlen = data[1], n = size - 2;
    char *in = fuzz_copy(data + 2, n, 0);
    char *out = malloc(outlen); /* 0 bytes too: nothing may be written */
    FUZZ_CHECK(out != NULL || outlen == 0);
    int rc = route_pct_decode(in, n, form, out, outlen);
    FUZZ_CHECK(rc >= -1);
    if (rc >= 0) {
        size_t pct = 0;
        for (size_t i = 0; i < n; i++)
            pct += in[i] == '%';
        FUZZ_CHECK((size_t)rc == n - 2 * pct);
        FUZZ_CHECK((size_t)rc < outlen && out[rc] == '\0');
        for (size_t i = 0, k = 0; i < n; i++, k++) {
            if (in[i] == '%') {
                i += 2;
                FUZZ_CHECK(out[k] != '\0'); /* %00 is refused */
            } else {
                FUZZ_CHECK(out[k] == (form && in[i] == '+' ? ' ' : in[i]));
            }
        }
        /* Every byte escaped, then decoded again. */
        size_t elen = (size_t)rc * 3;
        char *enc = malloc(elen ? elen : 1), *back = malloc((size_t)rc + 1);
        FUZZ_CHECK(enc && back);
        int nul = 0;
        for (int i = 0; i < rc; i++) {
            static const char hex[] = "0123456789ABCDEF";
            unsigned char c = (unsigned char)out[i];
            nul |= c == 0;
            enc[3 * i] = '%';
            enc[3 * i + 1] = hex[c >> 4];
            enc[3 * i + 2] = hex[c & 15];
        }
        int rc2 = route_pct_decode(enc, elen, form, back, (size_t)rc + 1);
        if (nul) {
            FUZZ_CHECK(rc2 == -1); /* a raw NUL in the input, now %00 */
        } else {
            FUZZ_CHECK(rc2 == rc && memcmp(back, out, (size_t)rc + 1) == 0);
        }
        free(enc);
        free(back);
    }
    free(out);
    free(in);
    return 0;
}
