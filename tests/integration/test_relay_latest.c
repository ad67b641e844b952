/*
 * source.start: latest. On its first start (no checkpoint) the relay
 * begins where the source's binlog ends then: outbox rows committed
 * before are not relayed, those committed after are, each once. Runs
 * against every server kind (test_relay_latest@mysql-9.7, ...): finding
 * the binlog's end takes a different statement on MySQL 8.2 and later
 * (SHOW BINARY LOG STATUS; 8.4 removed SHOW MASTER STATUS).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tests/integration/relay_env.h"

static void test_latest_skips_what_came_before(void **state)
{
    (void)state;
    struct relay_env e;
    char expect[sizeof e.expect];
    th_assert_started(relay_env_start(&e, "at_least_once", NULL));

    /* Committed before the relay's first start: expected nowhere. */
    snprintf(expect, sizeof expect, "%s", e.expect);
    snprintf(e.expect, sizeof e.expect, "%s/before.tsv", e.dir);
    assert_int_equal(relay_env_load(&e, 500, 7, 0, 0), 0);
    snprintf(e.expect, sizeof e.expect, "%s", expect);

    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load(&e, 3000, 8, 1, 1000000), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(relay_env_verify(&e, 1), 0); /* these, once, no others */
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latest_skips_what_came_before),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
