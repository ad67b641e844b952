/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exactly_once dedupe against partitions of an in-process librdkafka
 * mock cluster that hold what real deployments leave there: records of
 * other relays sharing the topics, this relay's records from before its
 * checkpoint, from an earlier server (another binlog history), and from
 * before a failover (the same GTIDs, served by a new primary). Only rows
 * this relay landed after its checkpoint may be skipped, each once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "config/cfg_relay.h"
#include "relay/dedupe.h"
#include "relay/koffsets.h"
#include "relay/outbox.h"

#define TOPIC "outbox.event.queue"
#define UUID "3e11fa47-71ca-11e1-9e33-c80aa9429562"

struct fixture {
    rd_kafka_t *mock_rk; /* owns the mock cluster */
    rd_kafka_mock_cluster_t *mc;
    rd_kafka_t *producer;
    struct relay_cfg cfg;
    struct outbox_table table;
    struct relay_position ckpt;
    struct koffsets *bounds, *found;
};

static int setup(void **state)
{
    static struct fixture f;
    char err[512], yaml[1024];
    memset(&f, 0, sizeof f);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    f.mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    f.mc = rd_kafka_mock_cluster_new(f.mock_rk, 1);
    assert_non_null(f.mc);
    assert_int_equal(rd_kafka_mock_topic_create(f.mc, TOPIC, 2, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(f.mc, "outbox.dlq", 1, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(f.mc, "unrelated", 1, 1), 0);
    snprintf(yaml, sizeof yaml,
             "name: me\nsource:\n  host: 127.0.0.1\n  user: u\n"
             "  server_id: 9\noutbox:\n  - table: shop.outbox\n"
             "kafka:\n  brokers: \"%s\"\n",
             rd_kafka_mock_cluster_bootstraps(f.mc));
    assert_int_equal(cfg_load_string(&relay_cfg_schema, "unit.yaml", yaml,
                                     strlen(yaml), &f.cfg, err, sizeof err), 0);
    assert_int_equal(outbox_table_compile(&f.table,
                     CFG_LIST_AT(f.cfg.outbox, struct relay_table_cfg, 0),
                     err, sizeof err), 0);
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers",
                      rd_kafka_mock_cluster_bootstraps(f.mc), err, sizeof err);
    f.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(f.producer);
    pos_init(&f.ckpt);
    pos_set_file(&f.ckpt, "bin.000007", 500);
    assert_int_equal(pos_add_mariadb(&f.ckpt, 0, 1, 100), 0);
    f.bounds = koff_new();
    f.found = koff_new();
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    koff_free(f->bounds);
    koff_free(f->found);
    pos_free(&f->ckpt);
    outbox_table_free(&f->table);
    rd_kafka_destroy(f->producer);
    cfg_free(&relay_cfg_schema, &f->cfg);
    rd_kafka_mock_cluster_destroy(f->mc);
    rd_kafka_destroy(f->mock_rk);
    return 0;
}

/* A record as a relay named `relay` writes it (no header when NULL). */
static void put(struct fixture *f, const char *topic, int32_t partition,
                const char *relay, const char *row)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    if (relay)
        rd_kafka_header_add(h, "outbox-relay", -1, relay, -1);
    if (row)
        rd_kafka_header_add(h, "outbox-txn", -1, row, -1);
    assert_int_equal(rd_kafka_producev(f->producer, RD_KAFKA_V_TOPIC(topic),
                                       RD_KAFKA_V_PARTITION(partition),
                                       RD_KAFKA_V_KEY("k", 1),
                                       RD_KAFKA_V_VALUE("{}", 2),
                                       RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END),
                     0);
    assert_int_equal(rd_kafka_flush(f->producer, 5000), 0);
}

static struct dedupe *load(struct fixture *f, const struct relay_position *c)
{
    char err[512];
    struct dedupe_from from = {c, f->bounds};
    struct dedupe *d = dedupe_load(&f->cfg, &f->table, 1, &from, f->found,
                                   NULL, err, sizeof err);
    if (!d)
        fail_msg("dedupe_load: %s", err);
    return d;
}

static int take(struct dedupe *d, const char *row, struct dedupe_hit *hit)
{
    return dedupe_take(d, row, strlen(row), hit);
}

/* Shared topics: the other relay's rows, even with the same transaction
 * names (one MariaDB, two outbox tables), never count. */
static void test_other_relays_never_count(void **state)
{
    struct fixture *f = *state;
    struct dedupe_hit hit;
    put(f, TOPIC, 0, "other", "0-1-101 0 shop.outbox");
    put(f, TOPIC, 0, "me", "0-1-101 0 shop.outbox");
    put(f, TOPIC, 1, "other", "0-1-102 0 shop.outbox");
    put(f, "outbox.dlq", 0, "other", "0-1-103 0 shop.outbox");
    put(f, TOPIC, 1, NULL, NULL); /* not written by any relay */
    struct dedupe *d = load(f, &f->ckpt);
    assert_int_equal(dedupe_pending(d), 1);
    assert_int_equal(take(d, "0-1-102 0 shop.outbox", &hit), 0);
    assert_int_equal(take(d, "0-1-103 0 shop.outbox", &hit), 0);
    assert_int_equal(take(d, "0-1-101 0 shop.outbox", &hit), 1);
    assert_string_equal(hit.topic, TOPIC);
    assert_int_equal(hit.partition, 0);
    assert_int_equal(hit.offset, 1);
    assert_int_equal(take(d, "0-1-101 0 shop.outbox", &hit), 0); /* once */
    assert_int_equal(dedupe_pending(d), 0);
    /* The next scan of partition 0 may start at our first row there. */
    assert_int_equal(koff_bound(f->found, TOPIC, 0), 1);
    assert_int_equal(koff_bound(f->found, TOPIC, 1), 2); /* its end */
    dedupe_free(d);
}

/* Rows of transactions the checkpoint covers never count, and records
 * before a partition's bound are not even read. */
static void test_before_the_checkpoint(void **state)
{
    struct fixture *f = *state;
    struct dedupe_hit hit;
    put(f, TOPIC, 0, "me", "0-1-90 0 shop.outbox");  /* offset 0 */
    put(f, TOPIC, 0, "me", "0-1-99 0 shop.outbox");  /* 1 */
    put(f, TOPIC, 0, "me", "0-1-100 3 shop.outbox"); /* 2: the checkpoint's */
    put(f, TOPIC, 0, "me", "0-1-101 0 shop.outbox"); /* 3: after it */
    put(f, TOPIC, 1, "me", "0-1-105 0 shop.outbox"); /* 0: before the bound */
    put(f, TOPIC, 1, "me", "0-1-106 0 shop.outbox"); /* 1 */
    assert_int_equal(koff_raise(f->bounds, TOPIC, 1, 1), 0);
    struct dedupe *d = load(f, &f->ckpt);
    assert_int_equal(dedupe_pending(d), 2);
    assert_int_equal(take(d, "0-1-99 0 shop.outbox", &hit), 0);
    assert_int_equal(take(d, "0-1-100 3 shop.outbox", &hit), 0);
    assert_int_equal(take(d, "0-1-105 0 shop.outbox", &hit), 0);
    assert_int_equal(take(d, "0-1-106 0 shop.outbox", &hit), 1);
    assert_int_equal(hit.offset, 1);
    assert_int_equal(take(d, "0-1-101 0 shop.outbox", &hit), 1);
    assert_int_equal(hit.offset, 3);
    dedupe_free(d);
}

/* A server without GTIDs names transactions by file, offset and the
 * file's creation time: after RESET MASTER the same file and offset name
 * another transaction, which must not be skipped. */
static void test_earlier_server(void **state)
{
    struct fixture *f = *state;
    struct dedupe_hit hit;
    struct relay_position c;
    pos_init(&c);
    pos_set_file(&c, "bin.000001", 300);
    put(f, TOPIC, 0, "me", "bin.000001:500@1700000000 0 shop.outbox");
    put(f, TOPIC, 0, "me", "bin.000001:200@1700000000 0 shop.outbox");
    struct dedupe *d = load(f, &c);
    assert_int_equal(dedupe_pending(d), 1); /* 200 is before the checkpoint */
    assert_int_equal(take(d, "bin.000001:500@1800000000 0 shop.outbox", &hit), 0);
    assert_int_equal(take(d, "bin.000001:500@1700000000 0 shop.outbox", &hit), 1);
    dedupe_free(d);
    pos_free(&c);
}

/* Before a failover the old primary (server 1) served 0-1-101 and
 * 0-1-102, and the relay landed both; the new primary (server 2, a
 * replica) has 0-1-101 but not 0-1-102. Replaying from the new primary
 * skips 0-1-101 and never matches 0-1-102; MySQL GTIDs the same way. */
static void test_same_name_before_failover(void **state)
{
    struct fixture *f = *state;
    struct dedupe_hit hit;
    char err[256];
    put(f, TOPIC, 0, "me", "0-1-101 0 shop.outbox");
    put(f, TOPIC, 1, "me", "0-1-102 0 shop.outbox");
    struct dedupe *d = load(f, &f->ckpt);
    assert_int_equal(take(d, "0-1-101 0 shop.outbox", &hit), 1);
    assert_int_equal(take(d, "0-2-103 0 shop.outbox", &hit), 0);
    assert_int_equal(dedupe_pending(d), 1); /* 0-1-102: never served again */
    dedupe_free(d);

    struct relay_position my;
    pos_init(&my);
    assert_int_equal(pos_parse_gtid(&my, UUID ":1-5," UUID ":orders:1-2", err,
                                    sizeof err), 0);
    put(f, TOPIC, 0, "me", UUID ":5 0 shop.outbox");        /* covered */
    put(f, TOPIC, 0, "me", UUID ":orders:2 1 shop.outbox"); /* covered */
    put(f, TOPIC, 0, "me", UUID ":orders:3 0 shop.outbox");
    d = load(f, &my);
    assert_int_equal(take(d, UUID ":5 0 shop.outbox", &hit), 0);
    assert_int_equal(take(d, UUID ":orders:3 0 shop.outbox", &hit), 1);
    dedupe_free(d);
    pos_free(&my);
}

/* Without a checkpoint nothing of this relay can be in Kafka (it saves
 * one before producing): nothing is read, and every partition's end is
 * where the next scan starts. Rows without outbox-txn are counted. */
static void test_no_checkpoint_and_unnamed(void **state)
{
    struct fixture *f = *state;
    struct dedupe_hit hit;
    put(f, TOPIC, 0, "me", "0-1-101 0 shop.outbox");
    struct dedupe *d = load(f, NULL);
    assert_int_equal(dedupe_pending(d), 0);
    assert_int_equal(take(d, "0-1-101 0 shop.outbox", &hit), 0);
    assert_int_equal(koff_bound(f->found, TOPIC, 0), 1);
    assert_int_equal(koff_bound(f->found, "outbox.dlq", 0), 0);
    assert_int_equal(koff_bound(f->found, "unrelated", 0), -1);
    dedupe_free(d);
    put(f, TOPIC, 0, "me", NULL);
    d = load(f, &f->ckpt);
    assert_int_equal(dedupe_unnamed(d), 1);
    dedupe_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_other_relays_never_count, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_before_the_checkpoint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_earlier_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_name_before_failover, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_checkpoint_and_unnamed, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
