/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start-up with the Kafka checkpoint store against kafka-mock, in both
 * delivery modes: a first start (no checkpoint yet) and a restart (from
 * the checkpoint the first run saved; exactly_once also reads back what
 * it landed past it) each reach "streaming" (/healthz 200, timed from the
 * spawn) in well under a second, and no start-up request runs into its
 * timeout: the relay's log never says "timed out". The events of both
 * runs then arrive, checked by outbox-verify.
 *
 * The checkpoint topic exists, as an operator makes it (relay_env): the
 * relay asks to create it only when it is missing, and librdkafka 2.0's
 * mock never answers that request (its Metadata names controller 0, a
 * broker it does not have, so the admin request waits for a controller
 * until its timeout; a real broker names itself or another live one).
 *
 * exactly_once's start includes the dedupe's settle (SETTLE_MS, 500 ms in
 * relay/dedupe.c): it reads the partitions twice, half a second apart, for
 * what a relay killed a moment ago still had in its socket buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/relay_env.h"

#define START_BOUND_MS 1000 /* "well under a second": what is measured is printed */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Spawns the relay; the milliseconds until /healthz answers 200, or -1. */
static int64_t time_to_streaming(struct relay_env *e)
{
    int64_t t0 = now_ms();
    if (relay_env_spawn_relay(e) < 0)
        return -1;
    while (now_ms() - t0 < 30000 && th_alive(&e->relay)) {
        if (relay_env_health(e) == 200)
            return now_ms() - t0;
        usleep(5000);
    }
    th_dump_log(&e->relay, 30);
    return -1;
}

static void assert_nothing_timed_out(struct relay_env *e)
{
    if (th_log_contains(&e->relay, "timed out") ||
        th_log_contains(&e->relay, "Timed out")) {
        th_dump_log(&e->relay, 40);
        fail_msg("a start-up request ran into its timeout");
    }
}

static void startup(const char *mode)
{
    struct relay_env e;
    int exactly = strcmp(mode, "exactly_once") == 0;
    th_assert_started(relay_env_start(&e, mode, NULL));
    assert_int_equal(relay_env_configure(&e, NULL,
                                         "checkpoint:\n  store: kafka\n"
                                         "  interval: 100ms\n"), 0);
    int64_t first = time_to_streaming(&e);
    assert_true(first >= 0);
    assert_int_equal(relay_env_load(&e, 2000, 21, 0, 0), 0);
    sleep(2); /* delivered and checkpointed */
    assert_int_equal(th_stop(&e.relay, 5000, NULL), 0);

    int64_t again = time_to_streaming(&e);
    assert_true(again >= 0);
    assert_int_equal(relay_env_load(&e, 2000, 22, 0, 2000), 0);
    sleep(2);
    fprintf(stderr, "%s: streaming %lld ms after the first start, %lld ms "
            "after the restart (bound %d)\n", mode, (long long)first,
            (long long)again, START_BOUND_MS);
    assert_nothing_timed_out(&e);
    assert_true(first < START_BOUND_MS && again < START_BOUND_MS);
    assert_int_equal(relay_env_verify(&e, exactly), 0);
    assert_int_equal(th_stop(&e.relay, 5000, NULL), 0);
    relay_env_stop(&e);
}

static void test_startup_at_least_once(void **state)
{
    (void)state;
    startup("at_least_once");
}

static void test_startup_exactly_once(void **state)
{
    (void)state;
    startup("exactly_once");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup_at_least_once),
        cmocka_unit_test(test_startup_exactly_once),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
