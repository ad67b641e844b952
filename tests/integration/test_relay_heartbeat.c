/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Heartbeats, on every server kind (test_relay_heartbeat, @mysql-9.7,
 * @mariadb-11.8). The relay asks the source for a heartbeat every
 * source.heartbeat_interval when there is nothing to send, and takes a
 * link silent for source.read_timeout for dead:
 *
 *   idle   with no writes for four read_timeouts the link stays up
 *          (/healthz 200 at every look, outbox_source_reconnects_total
 *          0: the heartbeats arrive), and the next events flow at once;
 *   dead   the server SIGSTOPped (its kernel still holds the TCP link
 *          open, so nothing but silence tells): /healthz leaves 200
 *          within read_timeout (plus one look and some scheduling), and
 *          not before read_timeout less a heartbeat interval; after
 *          SIGCONT the relay reconnects and every event arrives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/relay_env.h"

#define HEARTBEAT_MS 500
#define READ_TIMEOUT_MS 3000
#define LOOK_MS 100
#define SLACK_MS 400

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* outbox_source_reconnects_total from /metrics; -1 when unreadable. */
static long reconnects(struct relay_env *e)
{
    static char body[1 << 16];
    const char *p;
    if (th_http_get(e->metrics_port, "/metrics", body, sizeof body) != 200 ||
        !(p = strstr(body, "\noutbox_source_reconnects_total ")))
        return -1;
    return atol(p + strlen("\noutbox_source_reconnects_total "));
}

static void start(struct relay_env *e)
{
    th_assert_started(relay_env_start(e, "at_least_once", NULL));
    static char extra[200];
    snprintf(extra, sizeof extra, "  heartbeat_interval: %dms\n"
             "  read_timeout: %dms\n", HEARTBEAT_MS, READ_TIMEOUT_MS);
    e->source_extra = extra;
    assert_int_equal(relay_env_configure(e, NULL, NULL), 0);
    assert_int_equal(relay_env_run_relay(e), 0);
    assert_int_equal(relay_env_load(e, 300, 81, 0, 0), 0);
    assert_int_equal(relay_env_wait_caught_up(e, 60000), 0);
}

static void test_idle_keeps_link(void **state)
{
    (void)state;
    struct relay_env e;
    start(&e);
    long r0 = reconnects(&e), looks = 0, down = 0;
    assert_true(r0 >= 0);
    for (long t0 = now_ms(); now_ms() - t0 < 4 * READ_TIMEOUT_MS; looks++) {
        down += relay_env_health(&e) != 200;
        usleep(LOOK_MS * 1000);
    }
    long r1 = reconnects(&e);
    fprintf(stderr, "idle %d ms: %ld of %ld looks at /healthz not 200, "
            "reconnects %ld -> %ld\n", 4 * READ_TIMEOUT_MS, down, looks, r0, r1);
    assert_int_equal(down, 0);
    assert_int_equal(r1, r0);

    long t1 = now_ms();
    assert_int_equal(relay_env_load(&e, 300, 82, 0, 100000), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 60000), 0);
    fprintf(stderr, "after the idle time: 300 more events caught up in "
            "%ld ms\n", now_ms() - t1);
    assert_int_equal(relay_env_verify(&e, 1), 0); /* no reconnect: no dupes */
    relay_env_stop(&e);
}

static void test_dead_link_detected(void **state)
{
    (void)state;
    struct relay_env e;
    start(&e);
    usleep(2 * HEARTBEAT_MS * 1000); /* the stream idle, heartbeats only */
    assert_int_equal(relay_env_health(&e), 200);

    long t0 = now_ms(), took = -1;
    assert_int_equal(kill(e.db.proc.pid, SIGSTOP), 0);
    while (now_ms() - t0 < 4 * READ_TIMEOUT_MS) {
        if (relay_env_health(&e) != 200) {
            took = now_ms() - t0;
            break;
        }
        usleep(LOOK_MS * 1000);
    }
    fprintf(stderr, "server stopped: /healthz left 200 after %ld ms "
            "(read_timeout %d ms)\n", took, READ_TIMEOUT_MS);
    kill(e.db.proc.pid, SIGCONT);
    th_dump_log(&e.relay, 3);
    /* The link's last packet came at most a heartbeat before the stop,
     * and the read waits read_timeout from there; a look adds up to
     * LOOK_MS, and the relay's reaction some scheduling on a machine
     * that runs other tests too (SLACK_MS). */
    assert_true(took >= READ_TIMEOUT_MS - HEARTBEAT_MS - LOOK_MS);
    assert_true(took <= READ_TIMEOUT_MS + LOOK_MS + SLACK_MS);

    /* Back: the relay reconnects and goes on. */
    long t1 = now_ms();
    for (int i = 0; i < 300 && relay_env_health(&e) != 200; i++)
        usleep(LOOK_MS * 1000);
    assert_int_equal(relay_env_health(&e), 200);
    fprintf(stderr, "streaming again %ld ms after SIGCONT\n", now_ms() - t1);
    assert_int_equal(relay_env_load(&e, 300, 83, 0, 100000), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 60000), 0);
    assert_int_equal(relay_env_verify(&e, 0), 0);
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_keeps_link),
        cmocka_unit_test(test_dead_link_detected),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
