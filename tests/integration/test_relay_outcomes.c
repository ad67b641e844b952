/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How outbox-relay ends, and what it says meanwhile, in both delivery
 * modes:
 *
 *   - a record Kafka refuses for good (TOPIC_AUTHORIZATION_FAILED, an ACL
 *     mistake), whose dead-letter copy is refused too: the relay exits 1
 *     at once, even with no further event to read, its checkpoint stays
 *     before that transaction, and once the cause is gone a restart
 *     delivers the event;
 *   - records pending with Kafka acknowledging nothing: /healthz 503
 *     after delivery.stall_timeout, 200 again when Kafka is back;
 *   - a SIGTERM is honoured within a second while connecting to a silent
 *     server, while streaming through heartbeats, and under backpressure,
 *     with exit status 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/relay_env.h"

#define STOP_BOUND_MS 1000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int topic_has(struct relay_env *e, const char *topic, const char *needle)
{
    char out[400], text[1 << 14] = "";
    snprintf(out, sizeof out, "%s/%s.txt", e->dir, topic);
    unlink(out);
    if (relay_env_kcat(e, topic, "%h|%s\\n", out) < 0)
        return 0;
    FILE *fp = fopen(out, "r");
    size_t n = fp ? fread(text, 1, sizeof text - 1, fp) : 0;
    if (fp)
        fclose(fp);
    text[n] = '\0';
    return strstr(text, needle) != NULL;
}

/* The checkpoint file's offset ("v1 file=F pos=N ..."), or 0. */
static unsigned long long checkpoint_offset(struct relay_env *e)
{
    char file[256];
    unsigned long long pos = 0;
    FILE *fp = fopen(e->checkpoint, "r");
    if (fp && fscanf(fp, "v1 file=%255s pos=%llu", file, &pos) != 2)
        pos = 0;
    if (fp)
        fclose(fp);
    return pos;
}

/* One Produce request of a record nobody reads. */
static void spend_refusal(struct relay_env *e)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "echo x | kcat -P -q -b '%s' -t scratch "
             "-X message.send.max.retries=0 >/dev/null 2>&1", e->kafka.bootstrap);
    char *argv[] = {"sh", "-c", cmd, NULL};
    th_run("kcat-scratch", e->dir, argv, 30000);
}

/* A sink failure ends the relay at once, idle as it is: within the
 * record's delivery attempt and the dead letter's (1-2 s measured), where
 * it used to sit with a failed sink until the next binlog event came. */
#define FAILED_EXIT_BOUND_MS 5000

static void refused_for_good(const char *mode)
{
    struct relay_env e;
    char file[256];
    unsigned long long before;
    assert_int_equal(relay_env_start(&e, mode, NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 30000), 0);
    assert_int_equal(relay_env_binlog_end(&e, file, sizeof file, &before), 0);
    /* The record's Produce and its dead letter's: both refused. */
    assert_int_equal(th_kafka_cmd(&e.kafka, "errors 0 2 29"), 0);
    assert_int_equal(th_mariadb_exec(&e.db,
        "INSERT INTO shop.outbox VALUES ('refused-1','queue','k1','t',"
        "'{\"n\":1}',NULL)"), 0);
    int64_t t0 = now_ms();
    int status = th_wait(&e.relay, 10000);
    int64_t took = now_ms() - t0;
    fprintf(stderr, "%s: a record refused for good, its dead letter too: "
            "exit status %d after %lld ms, no further event\n", mode, status,
            (long long)took);
    if (status != 1 || took > FAILED_EXIT_BOUND_MS)
        th_dump_log(&e.relay, 30);
    assert_int_equal(status, 1);
    assert_true(took <= FAILED_EXIT_BOUND_MS);
    /* The checkpoint never passed that transaction. */
    assert_true(checkpoint_offset(&e) <= before);
    /* The cause goes away: the mock refused two Produce requests, and
     * exactly_once's producer gives up after the first (gapless). Any
     * refusal left is spent on records of no interest here. */
    for (int i = 0; i < 2; i++)
        spend_refusal(&e);
    assert_int_equal(relay_env_run_relay(&e), 0);
    int caught_up = relay_env_wait_caught_up(&e, 30000);
    if (caught_up != 0)
        th_dump_log(&e.relay, 30);
    assert_int_equal(caught_up, 0);
    assert_true(topic_has(&e, "outbox.event.queue", "id=refused-1"));
    relay_env_stop(&e);
}

static void test_refused_at_least_once(void **state)
{
    (void)state;
    refused_for_good("at_least_once");
}

static void test_refused_exactly_once(void **state)
{
    (void)state;
    refused_for_good("exactly_once");
}

static void stalled_health(const char *mode)
{
    struct relay_env e;
    char body[512];
    assert_int_equal(relay_env_start(&e, mode, NULL), 0);
    e.delivery_extra = "  stall_timeout: 2s\n";
    assert_int_equal(relay_env_configure(&e, NULL, NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(th_kafka_cmd(&e.kafka, "down 1"), 0);
    assert_int_equal(th_mariadb_exec(&e.db,
        "INSERT INTO shop.outbox VALUES ('stall-1','queue','k1','t','{}',NULL)"),
        0);
    int code = 0;
    for (int i = 0; i < 100 && code != 503; i++) {
        usleep(100000);
        code = th_http_get(e.metrics_port, "/healthz", body, sizeof body);
    }
    fprintf(stderr, "%s: Kafka down with a record pending: /healthz %d %s\n",
            mode, code, body);
    assert_int_equal(code, 503);
    assert_non_null(strstr(body, "acknowledged"));
    assert_int_equal(th_kafka_cmd(&e.kafka, "up 1"), 0);
    for (int i = 0; i < 200 && code != 200; i++) {
        usleep(100000);
        code = th_http_get(e.metrics_port, "/healthz", body, sizeof body);
    }
    assert_int_equal(code, 200);
    relay_env_stop(&e);
}

static void test_stall_at_least_once(void **state)
{
    (void)state;
    stalled_health("at_least_once");
}

static void test_stall_exactly_once(void **state)
{
    (void)state;
    stalled_health("exactly_once");
}

/* SIGTERM; the time until the process is gone, and its status. */
static void assert_quick_stop(struct relay_env *e, const char *what)
{
    int waited = 0;
    int status = th_stop(&e->relay, 5000, &waited);
    fprintf(stderr, "%s: %s: stopped in %d ms, exit status %d\n",
            e->delivery, what, waited, status);
    if (status != 0 || waited > STOP_BOUND_MS)
        th_dump_log(&e->relay, 20);
    assert_int_equal(status, 0);
    assert_true(waited <= STOP_BOUND_MS);
}

/* A server that accepts connections and never says a word. */
static int silent_server(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    *port = th_free_port();
    a.sin_port = htons((uint16_t)*port);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(fd, 16) < 0)
        return -1;
    return fd;
}

static void stops(const char *mode)
{
    struct relay_env e;
    char extra[128];
    assert_int_equal(relay_env_start(&e, mode, NULL), 0);

    /* Streaming, idle: the source sends heartbeats. */
    assert_int_equal(relay_env_run_relay(&e), 0);
    sleep(2);
    assert_quick_stop(&e, "streaming through heartbeats");

    /* Backpressure: Kafka down, its queue full. */
    assert_int_equal(relay_env_configure(&e, "    linger.ms: \"0\"\n", NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(th_kafka_cmd(&e.kafka, "down 1"), 0);
    assert_int_equal(relay_env_load(&e, 3000, 5, 10, 0), 0);
    sleep(2);
    assert_quick_stop(&e, "under backpressure, Kafka down");
    assert_int_equal(th_kafka_cmd(&e.kafka, "up 1"), 0);

    /* Connecting to a server that never answers the handshake. */
    int port, fd = silent_server(&port);
    assert_true(fd >= 0);
    int real_port = e.db.port;
    e.db.port = port;
    snprintf(extra, sizeof extra, "  connect_timeout: 30s\n");
    e.source_extra = extra;
    assert_int_equal(relay_env_configure(&e, NULL, NULL), 0);
    assert_int_equal(relay_env_spawn_relay(&e), 0);
    sleep(2);
    assert_int_not_equal(relay_env_health(&e), 200);
    assert_quick_stop(&e, "connecting to a silent server");
    close(fd);
    e.db.port = real_port;
    relay_env_stop(&e);
}

static void test_stops_at_least_once(void **state)
{
    (void)state;
    stops("at_least_once");
}

static void test_stops_exactly_once(void **state)
{
    (void)state;
    stops("exactly_once");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_at_least_once),
        cmocka_unit_test(test_refused_exactly_once),
        cmocka_unit_test(test_stall_at_least_once),
        cmocka_unit_test(test_stall_exactly_once),
        cmocka_unit_test(test_stops_at_least_once),
        cmocka_unit_test(test_stops_exactly_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
