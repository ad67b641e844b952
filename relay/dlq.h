/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dlq: the dead-letter policy. Which records go to the dead-letter topic
 * (dead_letter.topic), under which key, and with which headers saying why.
 *
 * Two kinds of record go there, and nothing else:
 *   - a row that cannot become a valid record: outbox_map_row says
 *     OUTBOX_INVALID (a NULL key, a payload over the limit, a topic name
 *     Kafka would reject). The pipeline sends what could be read of it,
 *     with outbox_map_row's error type and message. When the row has no
 *     key its source position is the key (dlq_row_key): a replay of the
 *     same row then lands in the same partition, where exactly_once's
 *     scan of the partition tails finds it.
 *   - a record Kafka refused for reasons of the record itself
 *     (dlq_kafka_refusal: too large, unknown or invalid topic, not
 *     authorized), when producing it or in its delivery report. The sink
 *     redirects it with Kafka's error name and text and its original
 *     topic. Any other error is the connection's or the cluster's, which
 *     no dead letter mends: the sink fails. So does a dead letter refused
 *     itself (dlq_redirects): it is never redirected again.
 *
 * A dead letter carries the record's own headers (outbox-position and the
 * row's outbox-relay/outbox-txn among them), then those of dlq_headers.
 * With dead_letter.action: stop nothing goes there: the first such record
 * fails the sink (sink.c), and the relay stops with its reason.
 *
 * Pure functions: no I/O, any thread.
 */
#ifndef OUTBOX_RELAY_DLQ_H
#define OUTBOX_RELAY_DLQ_H

#include <stddef.h>

#include "config/cfg_relay.h"
#include "relay/sink.h"

#define DLQ_ERROR_TYPE "error-type"
#define DLQ_ERROR_MESSAGE "error-message"
#define DLQ_ORIGINAL_TOPIC "original-topic"
#define DLQ_HEADERS_MAX 3

/* A refused row without a key gets its position (rec->position) as key. */
void dlq_row_key(struct sink_record *rec);

/* Nonzero when Kafka's error (an rd_kafka_resp_err_t) concerns one record
 * and not the connection, so that the record can go to the dead-letter
 * topic. */
int dlq_kafka_refusal(int kafka_err);

/* Nonzero when a record to `topic` that Kafka refused with kafka_err goes
 * to the dead-letter topic: a refusal of the record's own, and not a
 * record of the dead-letter topic itself. */
int dlq_redirects(const struct relay_cfg *cfg, const char *topic,
                  int kafka_err);

/* The headers a dead letter adds after the record's own, in order:
 * error-type, error-message, and original-topic when `original_topic` is
 * not NULL (a record Kafka refused; a refused row never had a topic).
 * Values point at the arguments. Returns how many were written. */
size_t dlq_headers(const char *error_type, const char *error_message,
                   const char *original_topic,
                   struct sink_header out[DLQ_HEADERS_MAX]);

#endif
