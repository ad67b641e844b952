/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed_json_field on arbitrary input: byte 0 picks the field name, the
 * rest is the JSON, in a buffer of exactly its size. A value found must
 * lie inside the input between two quotes and hold no quote or backslash
 * (the function returns only plain strings).
 */
#include <string.h>

#include "sse/feed.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fields[] = {"queue", "q", "", "type"};
    if (size < 1)
        return 0;
    const char *field = fields[data[0] % 4];
    size_t n = size - 1;
    char *json = fuzz_copy(data + 1, n, 0);
    const char *v = NULL;
    size_t vlen = 0;
    int rc = feed_json_field(json, n, field, &v, &vlen);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        FUZZ_CHECK(v > json && vlen >= 1 && v + vlen < json + n);
        FUZZ_CHECK(v[-1] == '"' && v[vlen] == '"');
        for (size_t i = 0; i < vlen; i++)
            FUZZ_CHECK(v[i] != '"' && v[i] != '\\');
    }
    free(json);
    return 0;
}
