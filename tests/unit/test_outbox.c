/* SPDX-License-Identifier: Apache-2.0 */
/* Outbox row -> Kafka record mapping, Debezium defaults and bad rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/cfg_relay.h"
#include "relay/outbox.h"

static const char *const COLS[] = {"id", "aggregatetype", "aggregateid",
                                   "type", "payload", "created_at"};
enum { C_ID, C_TYPE_AGG, C_AGGID, C_TYPE, C_PAYLOAD, C_CREATED, NCOLS };

struct fixture {
    struct relay_cfg cfg;
    struct outbox_table t;
    struct outbox_layout l;
    struct outbox_cell cells[NCOLS];
};

static struct outbox_cell text(const char *s)
{
    return (struct outbox_cell){s, strlen(s), 0};
}

static void setup_with(struct fixture *f, const char *table_yaml)
{
    char yaml[1024], err[CFG_ERR_MAX];
    snprintf(yaml, sizeof yaml,
             "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n%s"
             "kafka:\n  brokers: b\n", table_yaml);
    if (cfg_load_string(&relay_cfg_schema, "t.yaml", yaml, strlen(yaml),
                        &f->cfg, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct relay_table_cfg *tc = CFG_LIST_AT(f->cfg.outbox, struct relay_table_cfg, 0);
    assert_int_equal(outbox_table_compile(&f->t, tc, err, sizeof err), 0);
    if (outbox_layout_resolve(&f->t, COLS, NCOLS, &f->l, err, sizeof err) != 0)
        fail_msg("%s", err);
    f->cells[C_ID] = text("6f1c1b4e-0000-4000-8000-000000000001");
    f->cells[C_TYPE_AGG] = text("queue");
    f->cells[C_AGGID] = text("q-42");
    f->cells[C_TYPE] = text("joined");
    f->cells[C_PAYLOAD] = text("{\"user\":\"u1\"}");
    f->cells[C_CREATED] = (struct outbox_cell){NULL, 0, 1};
}

static void teardown_f(struct fixture *f)
{
    outbox_table_free(&f->t);
    cfg_free(&relay_cfg_schema, &f->cfg);
}

static enum outbox_verdict map(struct fixture *f, struct sink_record *rec,
                               char *topic, struct sink_header *h,
                               const char **type, char *why)
{
    memset(rec, 0, sizeof *rec);
    return outbox_map_row(&f->t, &f->l, f->cells, topic, h, rec, type, why,
                          256);
}

static void test_debezium_defaults(void **state)
{
    (void)state;
    struct fixture f;
    struct sink_record rec;
    struct sink_header h[OUTBOX_MAX_HEADERS];
    char topic[OUTBOX_TOPIC_MAX + 1], why[256];
    const char *type = NULL;
    setup_with(&f, "");
    assert_int_equal(map(&f, &rec, topic, h, &type, why), OUTBOX_OK);
    assert_string_equal(rec.topic, "outbox.event.queue");
    assert_memory_equal(rec.key, "q-42", 4);
    assert_int_equal(rec.key_len, 4);
    assert_int_equal(rec.value_len, strlen("{\"user\":\"u1\"}"));
    assert_int_equal(rec.nheaders, 2);
    assert_string_equal(h[0].name, "id");
    assert_memory_equal(h[0].value, "6f1c1b4e", 8);
    assert_string_equal(h[1].name, "type");
    assert_int_equal(h[1].len, 6);
    teardown_f(&f);
}

static void test_custom_mapping(void **state)
{
    (void)state;
    struct fixture f;
    struct sink_record rec;
    struct sink_header h[OUTBOX_MAX_HEADERS];
    char topic[OUTBOX_TOPIC_MAX + 1], why[256];
    const char *type = NULL;
    setup_with(&f, "    topic: \"${type}-${aggregatetype}.v1\"\n"
                   "    key_column: id\n"
                   "    headers:\n      eventType: type\n      at: created_at\n");
    assert_int_equal(map(&f, &rec, topic, h, &type, why), OUTBOX_OK);
    assert_string_equal(rec.topic, "joined-queue.v1");
    assert_int_equal(rec.key_len, 36);
    assert_string_equal(h[0].name, "eventType");
    assert_null(h[1].value); /* NULL column: a null header */
    f.cells[C_PAYLOAD].is_null = 1; /* NULL payload: a tombstone */
    assert_int_equal(map(&f, &rec, topic, h, &type, why), OUTBOX_OK);
    assert_null(rec.value);
    teardown_f(&f);
}

static void test_invalid_rows(void **state)
{
    (void)state;
    struct fixture f;
    struct sink_record rec;
    struct sink_header h[OUTBOX_MAX_HEADERS];
    char topic[OUTBOX_TOPIC_MAX + 1], why[256];
    const char *type = NULL;
    setup_with(&f, "    max_payload: 8\n");
    f.cells[C_AGGID].is_null = 1;
    assert_int_equal(map(&f, &rec, topic, h, &type, why), OUTBOX_INVALID);
    assert_string_equal(type, "null-key");
    assert_string_equal(why, "column aggregateid (the record key) is NULL");
    f.cells[C_AGGID].is_null = 0;
    assert_int_equal(map(&f, &rec, topic, h, &type, why), OUTBOX_INVALID);
    assert_string_equal(type, "payload-too-large");
    assert_null(rec.value);
    assert_int_equal(rec.nheaders, 2); /* headers kept for the dead letter */
    f.cells[C_PAYLOAD] = text("{}");
    f.cells[C_TYPE_AGG] = text("with space");
    assert_int_equal(map(&f, &rec, topic, h, &type, why), OUTBOX_INVALID);
    assert_string_equal(type, "invalid-topic");
    f.cells[C_TYPE_AGG].is_null = 1;
    assert_int_equal(map(&f, &rec, topic, h, &type, why), OUTBOX_INVALID);
    assert_string_equal(why, "column aggregatetype of the topic is NULL");
    static char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    f.cells[C_TYPE_AGG] = text(longname);
    assert_int_equal(map(&f, &rec, topic, h, &type, why), OUTBOX_INVALID);
    assert_string_equal(type, "invalid-topic");
    teardown_f(&f);
}

static void test_missing_column(void **state)
{
    (void)state;
    struct relay_cfg cfg;
    struct outbox_table t;
    struct outbox_layout l;
    char err[CFG_ERR_MAX];
    const char *yaml = "source:\n  user: u\n  server_id: 1\noutbox:\n"
                       "  - table: shop.outbox\n    headers:\n      k: nope\n"
                       "kafka:\n  brokers: b\n";
    assert_int_equal(cfg_load_string(&relay_cfg_schema, "t.yaml", yaml,
                                     strlen(yaml), &cfg, err, sizeof err), 0);
    assert_int_equal(outbox_table_compile(&t, CFG_LIST_AT(cfg.outbox,
                     struct relay_table_cfg, 0), err, sizeof err), 0);
    assert_string_equal(t.db, "shop");
    assert_string_equal(t.name, "outbox");
    assert_int_equal(outbox_layout_resolve(&t, COLS, NCOLS, &l, err, sizeof err), -1);
    assert_string_equal(err, "outbox table shop.outbox has no column 'nope' "
                             "(configured as a header)");
    outbox_table_free(&t);
    cfg_free(&relay_cfg_schema, &cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debezium_defaults),
        cmocka_unit_test(test_custom_mapping),
        cmocka_unit_test(test_invalid_rows),
        cmocka_unit_test(test_missing_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
