/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-sse to Redis over TLS (redis.tls), with a throwaway CA, a server
 * certificate for 127.0.0.1 and a client certificate (Redis asks for one):
 *
 *   - the right CA: the daemon becomes healthy, a browser gets its rank,
 *     and a rank change pushed through Kafka reaches it (so the queries
 *     really go over the TLS port: the daemon knows no other);
 *   - the wrong CA: never healthy, and the log says why, in OpenSSL's
 *     words about the certificate;
 *   - a certificate file that is not there: the daemon refuses to start
 *     and names the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sse/token.h"
#include "tests/integration/sse_env.h"

#define SECRET "test-secret-0123456789abcdef"

static char certs[256];

static int setup(void **state)
{
    (void)state;
    return th_make_certs(certs, sizeof certs);
}

static int start_tls(struct sse_env *e, const char *ca)
{
    struct sse_env_opts o = {.certs = certs, .tls_ca = ca};
    return sse_env_start_opts(e, &o);
}

static int wait_rank(struct sse_env *e, struct sse_client *c, long long rank)
{
    for (int64_t end = sse_env_now_ms() + 10000; sse_env_now_ms() < end;) {
        sse_env_pump(e, 50);
        if (c->ranks > 0 && c->last_rank == rank)
            return 0;
    }
    fprintf(stderr, "client has rank %lld after %d rank events, wanted %lld\n",
            c->last_rank, c->ranks, rank);
    return -1;
}

static void test_tls_verified(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client c;
    char tok[TOKEN_MAX];
    assert_int_equal(start_tls(&e, "ca.pem"), 0);
    assert_true(th_log_contains(&e.sse, "over TLS"));
    assert_true(sse_env_redis(&e, "ZADD queue:q:waiting 1 a 2 b 3 me") == 3);
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", "me",
                           (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
    assert_int_equal(sse_client_open(&e, &c, "q", "me", tok, 0), 0);
    assert_int_equal(wait_rank(&e, &c, 3), 0);
    /* Two ahead leave; the change event makes the daemon ask Redis again. */
    assert_true(sse_env_redis(&e, "ZREM queue:q:waiting a b") == 2);
    assert_int_equal(sse_env_publish(&e, "q", 1), 0);
    assert_int_equal(wait_rank(&e, &c, 1), 0);
    sse_client_close(&c);
    assert_int_equal(sse_env_stop(&e), 0);
}

static void test_tls_wrong_ca_refused(void **state)
{
    (void)state;
    struct sse_env e;
    assert_int_not_equal(start_tls(&e, "evil.pem"), 0);
    assert_true(th_alive(&e.sse)); /* waiting, retrying: not dead */
    assert_true(th_log_contains(&e.sse, "certificate verify failed"));
    assert_int_equal(sse_env_metric(&e, "sse_redis_up"), 0);
    sse_env_stop(&e);
}

static void test_tls_missing_file_refused(void **state)
{
    (void)state;
    struct sse_env e;
    assert_int_not_equal(start_tls(&e, "no-such-ca.pem"), 0);
    assert_false(th_alive(&e.sse));
    assert_true(th_log_contains(&e.sse, "no-such-ca.pem"));
    sse_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_verified),
        cmocka_unit_test(test_tls_wrong_ca_refused),
        cmocka_unit_test(test_tls_missing_file_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
