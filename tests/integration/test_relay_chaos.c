/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-relay while things break, under load, checked by kcat:
 *   - (SIGKILL at random moments is tests/chaos/test_chaos_relay: 50 of
 *     them, with MariaDB restarts and Kafka faults besides);
 *   - MariaDB restarted while the relay streams: it reconnects, nothing
 *     missing;
 *   - every Kafka broker down for 20 s: nothing lost, and the relay's
 *     memory stays bounded by kafka.buffer_memory plus a fixed allowance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/relay_env.h"

#define BUFFER_MEMORY (16L << 20) /* kafka.buffer_memory of relay_env */
/* librdkafka's bookkeeping, the libraries, the decoder's buffers. */
#define RSS_ALLOWANCE (48L << 20)

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s ? atol(s) : dflt;
}

static void test_mariadb_restart(void **state)
{
    (void)state;
    struct relay_env e;
    long n = env_long("OUTBOX_CHAOS_EVENTS", 100000) / 2;
    assert_int_equal(relay_env_start(&e, "at_least_once", NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load(&e, n, 11, 0, 0), 0);
    /* The relay is still working through that backlog. */
    assert_int_equal(th_mariadb_restart(&e.db), 0);
    assert_int_equal(relay_env_load(&e, n, 12, 0, 10000000), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 300000), 0);
    assert_int_equal(relay_env_verify(&e, 0), 0);
    assert_true(th_log_contains(&e.relay, "reconnecting"));
    relay_env_stop(&e);
}

/* MariaDB restarted while outbox-load is writing: the writer's cut
 * transaction committed or not (outbox-load asks its mark after
 * reconnecting), and the relay delivers exactly the ones that did. */
static void test_mariadb_restart_during_writes(void **state)
{
    (void)state;
    struct relay_env e;
    struct th_proc load;
    struct stat st = {0};
    assert_int_equal(relay_env_start(&e, "at_least_once", NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load_start(&e, &load, 50000, 13, 0, 0), 0);
    /* Restart as soon as the first transactions are in: the load (50,000
     * events, a few seconds) is then surely still writing. */
    for (int i = 0; i < 3000 && (stat(e.expect, &st) < 0 || st.st_size == 0); i++)
        usleep(10000);
    assert_true(st.st_size > 0);
    assert_true(th_alive(&load));
    assert_int_equal(th_mariadb_restart(&e.db), 0);
    assert_int_equal(relay_env_load_wait(&load, 600000), 0);
    assert_true(th_log_contains(&load, "connection lost in transaction"));
    assert_int_equal(relay_env_wait_caught_up(&e, 300000), 0);
    assert_int_equal(relay_env_verify(&e, 0), 0);
    assert_true(th_log_contains(&e.relay, "reconnecting"));
    relay_env_stop(&e);
}

static void test_brokers_down(void **state)
{
    (void)state;
    struct relay_env e;
    struct th_proc load;
    long n = env_long("OUTBOX_CHAOS_EVENTS", 100000);
    long peak = 0;
    assert_int_equal(relay_env_start(&e, "at_least_once", NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load_start(&e, &load, n, 21, 0, 0), 0);
    usleep(500000);
    assert_int_equal(th_kafka_cmd(&e.kafka, "down 1"), 0);
    for (int i = 0; i < 200; i++) { /* 20 s */
        long rss = relay_env_relay_rss(&e);
        peak = rss > peak ? rss : peak;
        usleep(100000);
    }
    assert_true(th_alive(&e.relay));
    assert_int_equal(th_kafka_cmd(&e.kafka, "up 1"), 0);
    assert_int_equal(relay_env_load_wait(&load, 600000), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 300000), 0);
    assert_int_equal(relay_env_verify(&e, 0), 0);
    fprintf(stderr, "relay RSS peak while Kafka was down: %ld MiB (bound %ld MiB)\n",
            peak >> 20, (BUFFER_MEMORY + RSS_ALLOWANCE) >> 20);
    assert_true(peak > 0 && peak < BUFFER_MEMORY + RSS_ALLOWANCE);
    relay_env_stop(&e);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mariadb_restart),
        cmocka_unit_test(test_mariadb_restart_during_writes),
        cmocka_unit_test(test_brokers_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
