/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-process librdkafka mock cluster of one broker for unit tests
 * (librdkafka's own tests do the same): a sink pointed at its bootstraps
 * produces, and is acknowledged, as against Kafka. Include it after
 * cmocka.h.
 */
#ifndef OUTBOX_TESTS_KAFKA_MOCK_H
#define OUTBOX_TESTS_KAFKA_MOCK_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

struct kafka_mock {
    rd_kafka_t *rk; /* owns the mock cluster */
    rd_kafka_mock_cluster_t *mc;
};

/* Starts the cluster with `topic` (one partition). */
static inline void kafka_mock_start(struct kafka_mock *k, const char *topic)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(k->rk);
    k->mc = rd_kafka_mock_cluster_new(k->rk, 1);
    assert_non_null(k->mc);
    assert_int_equal(rd_kafka_mock_topic_create(k->mc, topic, 1, 1), 0);
}

static inline const char *kafka_mock_brokers(const struct kafka_mock *k)
{
    return rd_kafka_mock_cluster_bootstraps(k->mc);
}

static inline void kafka_mock_stop(struct kafka_mock *k)
{
    rd_kafka_mock_cluster_destroy(k->mc);
    rd_kafka_destroy(k->rk);
}

#endif
