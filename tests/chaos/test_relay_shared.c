/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several exactly_once relays on one MariaDB, each with its own outbox
 * table (as one relay per shard would be), all publishing to the same
 * topics and the same dead-letter topic, each SIGKILLed and restarted
 * OUTBOX_SHARED_KILLS (20) times under load. kcat and outbox-verify then
 * read every topic, the dead-letter topic included: no event missing,
 * none twice, order per key kept.
 *
 * What it guards: a relay's exactly-once replay must skip only what it
 * itself already landed. Records of the other relays sit in the same
 * partitions, interleaved with its own; taking any of them for its own
 * skips events (the loss this test was written for).
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

#define MAX_RELAYS 3
#define DLQ_EVERY 97

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s ? atol(s) : dflt;
}

struct member {
    struct th_proc proc;
    char config[320], checkpoint[320];
    int metrics_port;
};

static const char *const TABLES[MAX_RELAYS] = {"shop.outbox", "shop.outbox2",
                                               "shop.outbox3"};

static int write_config(struct relay_env *e, struct member *m, int i)
{
    snprintf(m->config, sizeof m->config, "%s/shard-%d.yaml", e->dir, i);
    snprintf(m->checkpoint, sizeof m->checkpoint, "%s/shard-%d.ckpt", e->dir, i);
    m->metrics_port = th_free_port();
    FILE *fp = fopen(m->config, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "name: shard-%d\n"
            "source:\n  host: 127.0.0.1\n  port: %d\n  user: root\n"
            "  server_id: %d\n  start: latest\n"
            "  reconnect:\n    initial: 100ms\n    max: 1s\n"
            "outbox:\n  - table: %s\n"
            "kafka:\n  brokers: \"%s\"\n  buffer_memory: 16MiB\n"
            "delivery:\n  mode: %s\n"
            "checkpoint:\n  store: file\n  path: %s\n  interval: 100ms\n"
            "metrics:\n  listen: 127.0.0.1:%d\n",
            i, e->db.port, 80 + i, TABLES[i], e->kafka.bootstrap,
            e->delivery, m->checkpoint, m->metrics_port);
    return fclose(fp);
}

static int start_member(struct relay_env *e, struct member *m)
{
    char bin[512];
    char *argv[] = {(char *)th_build_path("relay/outbox-relay", bin, sizeof bin),
                    "-c", m->config, NULL};
    if (th_spawn(&m->proc, "relay", e->dir, argv) < 0)
        return -1;
    for (int i = 0; i < 300; i++) {
        if (th_http_get(m->metrics_port, "/healthz", NULL, 0) == 200)
            return 0;
        if (!th_alive(&m->proc))
            break;
        usleep(100000);
    }
    th_dump_log(&m->proc, 20);
    return -1;
}

static void shared_topics(int nrelays)
{
    struct relay_env e;
    struct member m[MAX_RELAYS];
    struct th_proc load;
    long events = env_long("OUTBOX_SHARED_EVENTS", 30000);
    int kills = (int)env_long("OUTBOX_SHARED_KILLS", 20);
    srand((unsigned)time(NULL));
    /* OUTBOX_SHARED_MODE=at_least_once: the same run as a baseline. */
    const char *mode = getenv("OUTBOX_SHARED_MODE");
    int exactly = !mode || strcmp(mode, "at_least_once") != 0;
    assert_int_equal(relay_env_start(&e, exactly ? "exactly_once"
                                                 : "at_least_once", NULL), 0);
    e.load_tables = nrelays;
    e.load_dlq_every = DLQ_EVERY;
    e.load_shard_keys = 1;
    e.verify_dlq = 1;
    memset(m, 0, sizeof m);
    for (int i = 0; i < nrelays; i++) {
        assert_int_equal(write_config(&e, &m[i], i), 0);
        assert_int_equal(start_member(&e, &m[i]), 0);
    }
    assert_int_equal(relay_env_load_start(&e, &load, events, 7, 0, 0), 0);
    /* Kills spread over the load, each relay in turn, at random moments. */
    for (int k = 0; k < kills * nrelays; k++) {
        usleep((useconds_t)(100 + rand() % 400) * 1000);
        struct member *victim = &m[k % nrelays];
        th_kill(&victim->proc);
        assert_int_equal(start_member(&e, victim), 0);
    }
    assert_int_equal(relay_env_load_wait(&load, 900000), 0);
    for (int i = 0; i < nrelays; i++) {
        int rc = relay_env_wait_checkpoint(&e, m[i].checkpoint, 300000);
        if (rc != 0)
            th_dump_log(&m[i].proc, 40);
        assert_int_equal(rc, 0);
    }
    fprintf(stderr, "%d %s relays on shared topics, %d SIGKILLs each, %ld "
            "events (every %dth a dead letter)\n", nrelays, e.delivery, kills,
            events, DLQ_EVERY);
    int verdict = relay_env_verify(&e, exactly);
    for (int i = 0; i < nrelays; i++)
        th_stop(&m[i].proc, 10000, NULL);
    assert_int_equal(verdict, 0);
    relay_env_stop(&e);
}

static void test_two_relays_share_topics(void **state)
{
    (void)state;
    shared_topics(2);
}

static void test_three_relays_share_topics(void **state)
{
    (void)state;
    shared_topics(3);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_relays_share_topics),
        cmocka_unit_test(test_three_relays_share_topics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
