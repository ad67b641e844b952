/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-sse's request checks on arbitrary requests: byte 0 switches auth
 * on (bit 0) and a Last-Event-ID header (bit 1); the rest is the path, the
 * query and the header value separated by NUL bytes, each in a buffer of
 * exactly its size. The answer is always one of the documented statuses,
 * the same with the header as without;
 * an accepted request names a valid queue and user, and with auth on its
 * token verifies for exactly them.
 */
#include <string.h>

#include "sse/route.h"
#include "sse/token.h"
#include "tests/fuzz/fuzz.h"

#define SECRET "fuzz-secret"
#define NOW 1800000000

/* The next NUL-separated field of data, copied; advances *at. */
static char *field(const uint8_t *data, size_t size, size_t *at)
{
    size_t start = *at, end = start;
    while (end < size && data[end])
        end++;
    *at = end < size ? end + 1 : end;
    return fuzz_copy(data + start, end - start, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int auth = data[0] & 1, has_last = data[0] & 2;
    size_t at = 1;
    char *path = field(data, size, &at), *query = field(data, size, &at);
    char *last = field(data, size, &at);
    struct route r;
    const char *why = NULL;
    int code = route_request(path, query, has_last ? last : NULL,
                             auth ? SECRET : NULL, NOW, &r, &why);
    FUZZ_CHECK(code == 0 || code == 400 || code == 401 || code == 403 ||
               code == 404);
    FUZZ_CHECK(code == 0 || (why && why[0]));
    /* A Last-Event-ID never changes the answer (EventSource gives up for
     * good on an error). */
    struct route r2;
    const char *why2 = NULL;
    FUZZ_CHECK(route_request(path, query, NULL, auth ? SECRET : NULL, NOW, &r2,
                             &why2) == code);
    if (code == 0) {
        FUZZ_CHECK(route_name_ok(r.queue, strlen(r.queue)));
        FUZZ_CHECK(route_name_ok(r.user, strlen(r.user)));
    }
    if (code == 0 && auth) {
        /* The token it accepted is one minted for this queue and user. */
        char tok[TOKEN_MAX];
        FUZZ_CHECK(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, r.queue,
                              r.user, NOW + 1, tok, sizeof tok) > 0);
    }
    free(path);
    free(query);
    free(last);
    return 0;
}
