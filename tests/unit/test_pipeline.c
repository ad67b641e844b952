/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline on binlog events built by hand (binlog_build.h), into a
 * real sink on an in-process Kafka mock cluster (kafka_mock.h): what
 * reaches Kafka is counted by the sink's acknowledgements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "config/cfg_relay.h"
#include "relay/pipeline.h"
#include "relay/sink.h"
#include "tests/unit/binlog_build.h"
#include "tests/unit/kafka_mock.h"

#define NTABLES 17 /* one more than the table-map cache once held */
#define TOPIC "outbox.event.order"

struct fixture {
    struct kafka_mock km;
    struct relay_cfg cfg;
    struct sink *sink;
    struct pipeline *p;
    uint32_t pos; /* where the next event starts */
};

/* NTABLES outbox tables shop.o1 ... with the default mapping. */
static int setup(void **state)
{
    static struct fixture f;
    static char yaml[4096];
    char err[512];
    memset(&f, 0, sizeof f);
    kafka_mock_start(&f.km, TOPIC);
    int n = snprintf(yaml, sizeof yaml, "name: unit\nsource:\n  host: 127.0.0.1\n"
                     "  user: u\n  server_id: 9\noutbox:\n");
    for (int i = 1; i <= NTABLES; i++)
        n += snprintf(yaml + n, sizeof yaml - (size_t)n, "  - table: shop.o%d\n", i);
    snprintf(yaml + n, sizeof yaml - (size_t)n, "kafka:\n  brokers: \"%s\"\n",
             kafka_mock_brokers(&f.km));
    if (cfg_load_string(&relay_cfg_schema, "unit.yaml", yaml, strlen(yaml),
                        &f.cfg, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct relay_position start;
    pos_init(&start);
    pos_set_file(&start, "bin.000001", 4);
    f.sink = sink_new(&f.cfg, &start, err, sizeof err);
    pos_free(&start);
    assert_non_null(f.sink);
    f.p = pipeline_new(&f.cfg, &sink_kafka_ops, f.sink, NULL, err, sizeof err);
    assert_non_null(f.p);
    pipeline_reset(f.p, 0, "bin.000001", NULL, NULL, NULL);
    f.pos = 4;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pipeline_free(f->p);
    sink_destroy(f->sink, 5000);
    cfg_free(&relay_cfg_schema, &f->cfg);
    kafka_mock_stop(&f->km);
    return 0;
}

static void feed(struct fixture *f, uint8_t type, const struct bb *body)
{
    uint8_t buf[1024];
    struct bb ev = {buf, 0, sizeof buf};
    char err[512];
    f->pos += BINLOG_HEADER_LEN + (uint32_t)body->n;
    bb_event(&ev, type, f->pos, body);
    if (pipeline_event(f->p, ev.b, ev.n, NULL, err, sizeof err) != OUTCOME_OK)
        fail_msg("%s event: %s", binlog_type_name(type), err);
}

static const char *const COLS[] = {"id", "aggregatetype", "aggregateid",
                                   "type", "payload"};

/* shop.o<table> as table `id`, five VARCHAR(255) columns, named. */
static void table_map(struct fixture *f, uint64_t id, int table)
{
    uint8_t buf[256];
    struct bb b = {buf, 0, sizeof buf};
    const uint8_t types[5] = {BT_VARCHAR, BT_VARCHAR, BT_VARCHAR, BT_VARCHAR,
                              BT_VARCHAR};
    const uint8_t meta[10] = {255, 0, 255, 0, 255, 0, 255, 0, 255, 0};
    char name[16];
    snprintf(name, sizeof name, "o%d", table);
    bb_table_map(&b, id, "shop", name, types, 5, meta, sizeof meta);
    bb_opt_names(&b, COLS, 5);
    feed(f, BL_TABLE_MAP, &b);
}

static void varchar(struct bb *b, const char *s)
{
    bb_le(b, strlen(s), 1);
    bb_bytes(b, s, strlen(s));
}

/* One outbox row into table `id`. */
static void write_row(struct fixture *f, uint64_t id, int stmt_end)
{
    uint8_t buf[256];
    struct bb b = {buf, 0, sizeof buf};
    char eid[32];
    snprintf(eid, sizeof eid, "e%" PRIu64, id);
    bb_rows_head(&b, id, 5, stmt_end ? 1 : 0);
    bb_le(&b, 0, 1); /* no NULLs */
    varchar(&b, eid);
    varchar(&b, "order");
    varchar(&b, eid);
    varchar(&b, "created");
    varchar(&b, "{}");
    feed(f, BL_WRITE_ROWS, &b);
}

/* A transaction of one statement over NTABLES outbox tables (a trigger,
 * a multi-table statement): its table maps first, then its rows, as
 * MySQL and MariaDB write them. */
static void statement(struct fixture *f, uint64_t seq, uint64_t first_id)
{
    uint8_t buf[16];
    struct bb b = {buf, 0, sizeof buf};
    bb_le(&b, seq, 8); /* MariaDB GTID 0-1-seq, not standalone */
    bb_le(&b, 0, 4);
    bb_le(&b, 0, 1);
    feed(f, BL_MARIA_GTID, &b);
    for (int i = 0; i < NTABLES; i++)
        table_map(f, first_id + (uint64_t)i, i + 1);
    for (int i = 0; i < NTABLES; i++)
        write_row(f, first_id + (uint64_t)i, i == NTABLES - 1);
    b.n = 0;
    bb_le(&b, seq, 8);
    feed(f, BL_XID, &b);
}

/* More outbox table maps in a transaction than the cache had slots: a
 * map the transaction still needs was evicted, and its table's rows were
 * skipped as another table's, without a word. The second transaction
 * maps the same tables under new ids (as after FLUSH TABLES). */
static void test_many_outbox_tables_in_one_transaction(void **state)
{
    struct fixture *f = *state;
    statement(f, 1, 101);
    statement(f, 2, 201);
    assert_int_equal(sink_flush(f->sink, 20000), 0);
    struct sink_stats *st = sink_stats(f->sink);
    uint64_t got = atomic_load(&st->records);
    if (got != 2 * NTABLES)
        fail_msg("%" PRIu64 " records of %d reached Kafka: rows were skipped",
                 got, 2 * NTABLES);
    assert_int_equal(atomic_load(&st->dlq), 0);
    assert_int_equal(sink_committed(f->sink)->offset, f->pos);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_many_outbox_tables_in_one_transaction, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
