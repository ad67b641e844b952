/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dead-letter policy (relay/dlq.h): which Kafka refusals are the
 * record's own, that a dead letter is never redirected again, the key of
 * a keyless row, and the headers that say why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <string.h>

#include "relay/dlq.h"

static void test_refusals_of_the_record(void **state)
{
    (void)state;
    static const rd_kafka_resp_err_t record[] = {
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
        RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION,
        RD_KAFKA_RESP_ERR_INVALID_RECORD,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
    };
    /* The connection's or the cluster's: no dead letter mends those. */
    static const rd_kafka_resp_err_t other[] = {
        RD_KAFKA_RESP_ERR_NO_ERROR,
        RD_KAFKA_RESP_ERR__TRANSPORT,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR__QUEUE_FULL,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR__FATAL,
    };
    for (size_t i = 0; i < sizeof record / sizeof record[0]; i++)
        if (!dlq_kafka_refusal(record[i]))
            fail_msg("%s is the record's own", rd_kafka_err2name(record[i]));
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (dlq_kafka_refusal(other[i]))
            fail_msg("%s is not the record's", rd_kafka_err2name(other[i]));
}

/* A record of the dead-letter topic refused is not redirected there
 * again (it would loop); one of any other topic is. */
static void test_dead_letter_not_redirected_again(void **state)
{
    (void)state;
    struct relay_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dead_letter.topic = (char *)"outbox.dlq";
    int e = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
    assert_true(dlq_redirects(&cfg, "outbox.event.order", e));
    assert_false(dlq_redirects(&cfg, "outbox.dlq", e));
    assert_false(dlq_redirects(&cfg, "outbox.event.order",
                               RD_KAFKA_RESP_ERR__TRANSPORT));
}

static void test_keyless_row_keyed_by_position(void **state)
{
    (void)state;
    struct sink_record rec = {.position = "bin.000001:120:0"};
    dlq_row_key(&rec);
    assert_ptr_equal(rec.key, rec.position);
    assert_int_equal(rec.key_len, strlen("bin.000001:120:0"));
    struct sink_record keyed = {.key = "k", .key_len = 1,
                                .position = "bin.000001:120:1"};
    dlq_row_key(&keyed);
    assert_memory_equal(keyed.key, "k", 1);
    assert_int_equal(keyed.key_len, 1);
}

static void expect_header(const struct sink_header *h, const char *name,
                          const char *value)
{
    assert_string_equal(h->name, name);
    assert_int_equal(h->len, strlen(value));
    assert_memory_equal(h->value, value, h->len);
}

static void test_headers_say_why(void **state)
{
    (void)state;
    struct sink_header h[DLQ_HEADERS_MAX];
    assert_int_equal(dlq_headers("null-key", "aggregateid is NULL", NULL, h), 2);
    expect_header(&h[0], "error-type", "null-key");
    expect_header(&h[1], "error-message", "aggregateid is NULL");
    assert_int_equal(dlq_headers("MSG_SIZE_TOO_LARGE", "too large",
                                 "outbox.event.order", h), 3);
    expect_header(&h[2], "original-topic", "outbox.event.order");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals_of_the_record),
        cmocka_unit_test(test_dead_letter_not_redirected_again),
        cmocka_unit_test(test_keyless_row_keyed_by_position),
        cmocka_unit_test(test_headers_say_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
