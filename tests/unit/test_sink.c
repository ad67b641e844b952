/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sink's committed position against an in-process librdkafka mock
 * cluster: it moves past a transaction only when Kafka has all of it, and
 * a transaction cut by a lost source connection (sink_txn_abandon) neither
 * moves it nor holds back the ones after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config/cfg.h"
#include "config/cfg_relay.h"
#include "relay/sink.h"
#include "tests/unit/kafka_mock.h"

struct fixture {
    struct kafka_mock km;
    struct relay_cfg cfg;
    struct sink *sink;
};

static int setup(void **state)
{
    static struct fixture f;
    char err[512], yaml[1024];
    memset(&f, 0, sizeof f);
    kafka_mock_start(&f.km, "t");
    snprintf(yaml, sizeof yaml,
             "name: unit\nsource:\n  host: 127.0.0.1\n  user: u\n"
             "  server_id: 9\noutbox:\n  - table: shop.outbox\n"
             "kafka:\n  brokers: \"%s\"\n",
             kafka_mock_brokers(&f.km));
    assert_int_equal(cfg_load_string(&relay_cfg_schema, "unit.yaml", yaml,
                                     strlen(yaml), &f.cfg, err, sizeof err), 0);
    struct relay_position start;
    pos_init(&start);
    pos_set_file(&start, "bin.000001", 100);
    f.sink = sink_new(&f.cfg, &start, err, sizeof err);
    pos_free(&start);
    assert_non_null(f.sink);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sink_destroy(f->sink, 5000);
    cfg_free(&relay_cfg_schema, &f->cfg);
    kafka_mock_stop(&f->km);
    return 0;
}

static void produce(struct sink *s, const char *pos)
{
    struct sink_record r = {.topic = "t", .key = "k", .key_len = 1,
                            .value = "{}", .value_len = 2, .position = pos};
    assert_int_equal(sink_produce(s, &r, NULL), 0);
}

static void assert_committed(struct sink *s, const char *file, uint64_t offset)
{
    const struct relay_position *p = sink_committed(s);
    assert_string_equal(p->file, file);
    assert_int_equal(p->offset, offset);
}

static void test_moves_when_acknowledged(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sink_txn_begin(f->sink, NULL), 0);
    produce(f->sink, "bin.000001:150:0");
    assert_int_equal(sink_txn_end(f->sink, 200, NULL), 0);
    assert_int_equal(sink_flush(f->sink, 10000), 0);
    assert_committed(f->sink, "bin.000001", 200);
}

/* The connection drops in the middle of a transaction; the new one starts
 * with a ROTATE and repeats it. Before sink_txn_abandon the cut slot was
 * never ended and the position stayed put for good (a chaos run caught
 * an exactly_once relay stuck at a binlog's start after a MariaDB
 * restart). */
static void test_abandoned_txn_moves_nothing_blocks_nothing(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sink_txn_begin(f->sink, NULL), 0);
    produce(f->sink, "bin.000001:150:0");
    sink_txn_abandon(f->sink);
    assert_int_equal(sink_flush(f->sink, 10000), 0);
    assert_committed(f->sink, "bin.000001", 100); /* not past the cut one */

    assert_int_equal(sink_rotate(f->sink, "bin.000002", 4), 0);
    assert_int_equal(sink_txn_begin(f->sink, NULL), 0);
    produce(f->sink, "bin.000002:150:0");
    assert_int_equal(sink_txn_end(f->sink, 300, NULL), 0);
    assert_int_equal(sink_flush(f->sink, 10000), 0);
    assert_committed(f->sink, "bin.000002", 300);
}

/* Abandoning while the cut transaction's records are still in flight:
 * the later transaction waits for them, then moves the position. */
static void test_abandoned_txn_in_flight(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd_kafka_mock_broker_set_down(f->km.mc, 1), 0);
    assert_int_equal(sink_txn_begin(f->sink, NULL), 0);
    produce(f->sink, "bin.000001:150:0");
    sink_txn_abandon(f->sink);
    assert_int_equal(sink_txn_begin(f->sink, NULL), 0);
    produce(f->sink, "bin.000001:150:0");
    assert_int_equal(sink_txn_end(f->sink, 250, NULL), 0);
    sink_poll(f->sink, 200);
    assert_committed(f->sink, "bin.000001", 100); /* nothing acknowledged */
    assert_int_equal(rd_kafka_mock_broker_set_up(f->km.mc, 1), 0);
    assert_int_equal(sink_flush(f->sink, 20000), 0);
    assert_committed(f->sink, "bin.000001", 250);
}

/* After a failover the stream comes from another server: the committed
 * position names the new server only once it passes the new stream's
 * ROTATE, so its file and offset always belong to the server it names,
 * even while the old server's last transactions are still in flight. */
static void test_server_changes_at_rotate(void **state)
{
    struct fixture *f = *state;
    sink_set_server(f->sink, "1");
    assert_int_equal(sink_rotate(f->sink, "bin.000001", 100), 0);
    assert_string_equal(sink_committed(f->sink)->server, "1");
    assert_int_equal(rd_kafka_mock_broker_set_down(f->km.mc, 1), 0);
    assert_int_equal(sink_txn_begin(f->sink, NULL), 0);
    produce(f->sink, "bin.000001:150:0");
    assert_int_equal(sink_txn_end(f->sink, 300, NULL), 0);
    sink_set_server(f->sink, "2"); /* reconnected to the promoted replica */
    assert_int_equal(sink_rotate(f->sink, "bin.000007", 4), 0);
    sink_poll(f->sink, 200);
    assert_committed(f->sink, "bin.000001", 100);
    assert_string_equal(sink_committed(f->sink)->server, "1");
    assert_int_equal(rd_kafka_mock_broker_set_up(f->km.mc, 1), 0);
    assert_int_equal(sink_flush(f->sink, 20000), 0);
    assert_committed(f->sink, "bin.000007", 4);
    assert_string_equal(sink_committed(f->sink)->server, "2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_moves_when_acknowledged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_abandoned_txn_moves_nothing_blocks_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_txn_in_flight, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_changes_at_rotate, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
