/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-relay under steady load while everything around it fails, with
 * kcat and outbox-verify as the independent judges:
 *
 *   - SIGKILL at OUTBOX_CHAOS_KILLS (50) random moments, restarted each
 *     time;
 *   - MariaDB restarted 5 times;
 *   - the broker down for 3 s, and injected request errors on Produce and
 *     Metadata (rd_kafka_mock_push_request_errors);
 *
 * and afterwards: no committed event missing; with exactly_once none
 * twice; the relay's RSS under its bound all along; and once the faults
 * stop, replication lag back under a second.
 *
 * The load runs in ten segments (outbox-load per segment) so that MariaDB
 * restarts fall between them: a transaction cut by a restart would leave
 * its outcome unknown to the writer, and the test would no longer know
 * what must arrive.
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

#include "tests/integration/relay_env.h"

#define SEGMENTS 10
#define RESTARTS 5
#define BUFFER_MEMORY (16L << 20)
#define RSS_ALLOWANCE (48L << 20)

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s ? atol(s) : dflt;
}

struct chaos {
    struct relay_env e;
    long peak_rss;
    int kills, restarts;
};

/* Sleeps ms while keeping the relay's RSS peak. */
static void watch(struct chaos *c, int ms)
{
    for (int t = 0; t < ms; t += 50) {
        long rss = relay_env_relay_rss(&c->e);
        c->peak_rss = rss > c->peak_rss ? rss : c->peak_rss;
        usleep(50000);
    }
}

static void kill_and_restart(struct chaos *c)
{
    watch(c, 100 + rand() % 600);
    th_kill(&c->e.relay);
    c->kills++;
    assert_int_equal(relay_env_run_relay(&c->e), 0);
}

/* The faults around Kafka and MariaDB that follow a segment. */
static void between_segments(struct chaos *c, int seg)
{
    if (seg % 2 == 1 && c->restarts < RESTARTS) {
        assert_int_equal(th_mariadb_restart(&c->e.db), 0);
        c->restarts++;
    }
    if (seg == 2) {
        assert_int_equal(th_kafka_cmd(&c->e.kafka, "down 1"), 0);
        watch(c, 3000);
        assert_int_equal(th_kafka_cmd(&c->e.kafka, "up 1"), 0);
    }
    if (seg == 4 || seg == 7) {
        /* NOT_LEADER_FOR_PARTITION on Produce, REQUEST_TIMED_OUT on
         * Metadata: both retriable, both must cost nothing. */
        assert_int_equal(th_kafka_cmd(&c->e.kafka, "errors 0 30 6"), 0);
        assert_int_equal(th_kafka_cmd(&c->e.kafka, "errors 3 10 7"), 0);
    }
}

static double lag_seconds(struct relay_env *e)
{
    char body[1 << 15];
    if (th_http_get(e->metrics_port, "/metrics", body, sizeof body) != 200)
        return -1;
    const char *p = strstr(body, "\noutbox_replication_lag_seconds ");
    return p ? atof(p + strlen("\noutbox_replication_lag_seconds ")) : -1;
}

/* The relay's own view (state, lag, queue), for a failure report. */
static void dump_metrics(struct relay_env *e)
{
    char body[1 << 15];
    if (th_http_get(e->metrics_port, "/metrics", body, sizeof body) != 200)
        return;
    fprintf(stderr, "---- relay metrics ----\n");
    for (char *line = strtok(body, "\n"); line; line = strtok(NULL, "\n"))
        if (line[0] != '#')
            fprintf(stderr, "%s\n", line);
}

static void chaos(const char *delivery, int exactly_once)
{
    struct chaos c = {0};
    struct th_proc load;
    long events = env_long("OUTBOX_CHAOS_EVENTS", 100000);
    int kills = (int)env_long("OUTBOX_CHAOS_KILLS", 50);
    srand((unsigned)time(NULL));
    assert_int_equal(relay_env_start(&c.e, delivery, NULL), 0);
    assert_int_equal(relay_env_run_relay(&c.e), 0);
    for (int seg = 0; seg < SEGMENTS; seg++) {
        assert_int_equal(relay_env_load_start(&c.e, &load, events / SEGMENTS,
                                              100 + seg, 0, 10000000L * (seg + 1)), 0);
        for (int k = 0; k < kills / SEGMENTS + (seg < kills % SEGMENTS); k++)
            kill_and_restart(&c);
        assert_int_equal(relay_env_load_wait(&load, 600000), 0);
        between_segments(&c, seg);
    }
    /* The faults are over: the relay catches up and stays caught up. */
    int caught_up = relay_env_wait_caught_up(&c.e, 300000);
    if (caught_up != 0) { /* why it stopped short */
        th_dump_log(&c.e.relay, 60);
        dump_metrics(&c.e);
        th_dump_stacks(&c.e.relay);
    }
    assert_int_equal(caught_up, 0);
    double lag = -1;
    for (int i = 0; i < 100 && !(lag >= 0 && lag < 1); i++) {
        watch(&c, 100);
        lag = lag_seconds(&c.e);
    }
    fprintf(stderr, "%s: %d kills, %d MariaDB restarts; lag %.1f s after the "
            "faults; RSS peak %ld MiB (bound %ld MiB)\n", delivery, c.kills,
            c.restarts, lag, c.peak_rss >> 20,
            (BUFFER_MEMORY + RSS_ALLOWANCE) >> 20);
    assert_true(lag >= 0 && lag < 1);
    assert_int_equal(c.kills, kills);
    assert_int_equal(c.restarts, RESTARTS);
    assert_int_equal(relay_env_verify(&c.e, exactly_once), 0);
    assert_true(c.peak_rss > 0 && c.peak_rss < BUFFER_MEMORY + RSS_ALLOWANCE);
    relay_env_stop(&c.e);
}

static void test_chaos_at_least_once(void **state)
{
    (void)state;
    chaos("at_least_once", 0);
}

static void test_chaos_exactly_once(void **state)
{
    (void)state;
    chaos("exactly_once", 1);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chaos_at_least_once),
        cmocka_unit_test(test_chaos_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
