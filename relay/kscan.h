/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kscan: reading back what is already in Kafka.
 *
 * The relay reads Kafka in two places, both at start-up: the checkpoint
 * topic (the last checkpoint under the relay's name) and, in exactly_once
 * mode, every partition it writes to from its checkpoint's offset on (the
 * rows that already landed, so that replayed events are not sent twice). Both are
 * "read this range of this partition", done here with a consumer that
 * belongs to no group and commits nothing.
 *
 * Blocking, in steps of at most half a second: every call gives up early,
 * with an error, once *stop (when given) becomes nonzero. Call from one
 * thread at a time.
 */
#ifndef OUTBOX_RELAY_KSCAN_H
#define OUTBOX_RELAY_KSCAN_H

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_relay.h"

/* A consumer configuration for the relay's cluster: its properties (TLS,
 * SASL), its brokers and client id, `group`, and nothing committed by
 * itself. NULL with a message. */
rd_kafka_conf_t *kscan_conf(const struct relay_kafka_cfg *cfg,
                            const char *group, char *err, size_t errlen);

/* A consumer for the relay's cluster (its properties apply, for TLS and
 * SASL). NULL with a message on failure. */
rd_kafka_t *kscan_consumer_new(const struct relay_kafka_cfg *cfg, char *err,
                               size_t errlen);

/* Number of partitions of `topic`; 0 when it does not exist; -1 on error. */
int kscan_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms,
                          const atomic_int *stop, char *err, size_t errlen);

/* Low and high watermarks of one partition. 0 or -1. */
int kscan_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition,
                     int64_t *low, int64_t *high, int timeout_ms,
                     const atomic_int *stop, char *err, size_t errlen);

/* Calls fn for every record at offsets [from, to) of the partition, in
 * order; fn returns 0 to go on, nonzero to stop early. Returns 0, or -1
 * with a message (timeout included). */
typedef int (*kscan_fn)(const rd_kafka_message_t *m, void *arg);
int kscan_range(rd_kafka_t *rk, const char *topic, int32_t partition,
                int64_t from, int64_t to, kscan_fn fn, void *arg,
                int timeout_ms, const atomic_int *stop, char *err,
                size_t errlen);

/* Reads offsets [from, end) of every partition in `parts` in one
 * assignment: entry i's offset is its `from`, ends[i] its end. Calls fn
 * for each record, in order per partition; fn returning nonzero ends that
 * partition early. Each entry's offset is left at its end. 0, or -1 with
 * a message (timeout included). */
int kscan_ranges(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                 const int64_t *ends, kscan_fn fn, void *arg, int timeout_ms,
                 const atomic_int *stop, char *err, size_t errlen);

/* Lists all topics (metadata), in steps; the caller frees with
 * rd_kafka_metadata_destroy. 0 or -1. */
int kscan_all_topics(rd_kafka_t *rk, const struct rd_kafka_metadata **md,
                     int timeout_ms, const atomic_int *stop, char *err,
                     size_t errlen);

/* The value of header `name` of m (NULL when absent); *len its length. */
const void *kscan_header(const rd_kafka_message_t *m, const char *name,
                         size_t *len);

#endif
