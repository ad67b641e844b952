/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-relay end to end against a real MariaDB (or the server kind
 * $OUTBOX_TEST_SERVER names: test_relay_flow@mysql-9.7, ...) and
 * kafka-mock, checked by kcat: 100,000 outbox events in mixed transactions (1-500 rows, some
 * rolled back, deleted after insert, interleaved with other tables, two
 * outbox tables, Unicode, NULL columns, 1 MB payloads) all arrive, exactly
 * the committed ones, in commit order per key, with the right topic, key,
 * value and headers; and a clean stop saves a checkpoint from which a
 * restart goes on without loss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>

#include "tests/integration/relay_env.h"

static long events(void)
{
    const char *s = getenv("OUTBOX_FLOW_EVENTS");
    return s ? atol(s) : 100000;
}

static void test_flow_and_restart(void **state)
{
    (void)state;
    struct relay_env e;
    th_assert_started(relay_env_start(&e, "at_least_once", NULL));
    assert_int_equal(relay_env_run_relay(&e), 0);
    long n = events();
    assert_int_equal(relay_env_load(&e, n, 42, 3, 0), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 300000), 0);
    assert_int_equal(relay_env_verify(&e, 1), 0); /* no restart: no dupes */

    /* A clean stop, more load while it is down, and a restart. */
    int waited;
    assert_int_equal(th_stop(&e.relay, 10000, &waited), 0);
    assert_int_equal(relay_env_load(&e, n / 10, 43, 0, 10000000), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 300000), 0);
    assert_int_equal(relay_env_verify(&e, 0), 0);
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_and_restart),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
