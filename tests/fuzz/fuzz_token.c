/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token_verify on arbitrary input, and token_mint on arbitrary names.
 *
 * The input is tried (1) as a token for queue "sale-7", user "u42" at a
 * fixed time: the verdict must be one of the five, and a token accepted
 * must be byte for byte the one token_mint makes, so no second spelling
 * of a genuine token gets through; (2) as "QUEUE|USER": a name pair
 * token_mint accepts must give a token that verifies for them and for no
 * one else, expires on time and is no proof of the other purpose.
 */
#include <inttypes.h>
#include <string.h>

#include "sse/token.h"
#include "tests/fuzz/fuzz.h"

#define SECRET "outbox-fuzz-secret"
#define NOW INT64_C(1700000000)

static enum token_verdict verify(enum token_purpose p, const char *tok,
                                 const char *q, const char *u, int64_t now)
{
    enum token_verdict v = token_verify(SECRET, strlen(SECRET), p, tok, q, u, now);
    FUZZ_CHECK(v >= TOKEN_OK && v <= TOKEN_OTHER_SUBJECT);
    return v;
}

static void as_token(const char *s)
{
    for (int p = TOKEN_SUBSCRIBE; p <= TOKEN_ADMISSION; p++) {
        if (verify((enum token_purpose)p, s, "sale-7", "u42", NOW) != TOKEN_OK)
            continue;
        const char *e = strchr(s, '.');
        e = e ? strchr(e + 1, '.') : NULL;
        FUZZ_CHECK(e != NULL);
        int64_t expiry = strtoll(e + 1, NULL, 10);
        char again[TOKEN_MAX];
        FUZZ_CHECK(token_mint(SECRET, strlen(SECRET), (enum token_purpose)p,
                              "sale-7", "u42", expiry, again, sizeof again) > 0);
        FUZZ_CHECK(strcmp(again, s) == 0);
    }
}

static void as_names(char *s)
{
    char *bar = strchr(s, '|');
    if (!bar)
        return;
    *bar = '\0';
    const char *q = s, *u = bar + 1;
    char tok[TOKEN_MAX];
    for (int p = TOKEN_SUBSCRIBE; p <= TOKEN_ADMISSION; p++) {
        enum token_purpose pp = (enum token_purpose)p;
        int n = token_mint(SECRET, strlen(SECRET), pp, q, u, NOW + 60, tok,
                           sizeof tok);
        if (n < 0) {
            FUZZ_CHECK(!token_name_ok(q, strlen(q)) ||
                       !token_name_ok(u, strlen(u)));
            continue;
        }
        FUZZ_CHECK(n < TOKEN_MAX && (size_t)n == strlen(tok));
        FUZZ_CHECK(verify(pp, tok, q, u, NOW) == TOKEN_OK);
        FUZZ_CHECK(verify(pp, tok, q, u, NOW + 60) == TOKEN_EXPIRED);
        FUZZ_CHECK(verify((enum token_purpose)!pp, tok, q, u, NOW) == TOKEN_BAD_MAC);
        if (strcmp(q, u) != 0)
            FUZZ_CHECK(verify(pp, tok, u, q, NOW) == TOKEN_OTHER_SUBJECT);
        FUZZ_CHECK(verify(pp, tok, q, "", NOW) == TOKEN_OTHER_SUBJECT);
        FUZZ_CHECK(token_verify("other", 5, pp, tok, q, u, NOW) == TOKEN_BAD_MAC);
    }
    *bar = '|';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_copy(data, size, 1);
    as_token(s);
    as_names(s);
    free(s);
    return 0;
}
