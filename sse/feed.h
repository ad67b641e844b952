/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed: "queue X changed" notices from Kafka, delivered on the event loop.
 *
 * Every outbox-sse instance must see every event, because each serves its
 * own browsers; and an event carries no state worth replaying (the state is
 * in Redis). So the consumer belongs to no group, commits nothing and
 * starts every partition there at start at its end. Partitions created later are noticed
 * by a discovery thread that re-reads the topics' metadata every
 * kafka.discovery_interval and adds the new ones from their beginning
 * (so does a topic that did not exist at start, once it does).
 *
 * librdkafka's consumer queue writes a byte to a pipe when it becomes
 * non-empty (rd_kafka_queue_io_event_enable); the loop drains the queue
 * then. No polling timer runs while nothing happens.
 *
 * The queue name is the record key, or a top-level string field of the
 * JSON value (kafka.queue_from: field).
 *
 * Threads: feed_new, feed_free and the callback run on the loop thread;
 * the discovery thread only talks to librdkafka.
 */
#ifndef OUTBOX_SSE_FEED_H
#define OUTBOX_SSE_FEED_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_sse.h"

/* Called on the loop thread for each record naming a queue. */
typedef void (*feed_change_fn)(const char *queue, size_t len, void *arg);

struct feed_stats {
    atomic_uint_fast64_t records;   /* consumed */
    atomic_uint_fast64_t unusable;  /* no queue name in them */
    atomic_uint_fast64_t errors;    /* consumer errors */
    atomic_int partitions;          /* assigned */
};

struct feed;

struct feed *feed_new(struct event_base *base, const struct sse_cfg *cfg,
                      feed_change_fn fn, void *arg, char *err, size_t errlen);
void feed_free(struct feed *f);

struct feed_stats *feed_stats(struct feed *f);

/* Extracts the string value of top-level field `field` from a JSON
 * object, unescaping nothing: returns 0 and points *out into json when the
 * value is a plain string without escapes, -1 otherwise. Pure; exposed for
 * tests and fuzzing. */
int feed_json_field(const char *json, size_t len, const char *field,
                    const char **out, size_t *outlen);

#endif
