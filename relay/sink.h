/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sink: the Kafka side of the relay, and the bookkeeping that makes its
 * checkpoint safe.
 *
 * Records are produced with librdkafka's idempotent producer (acks=all,
 * infinite message timeout): a record is retried until Kafka has it, and
 * order per partition is kept without gaps. Each source transaction gets a
 * slot in a ring, in binlog order; a slot counts its records that Kafka has
 * not acknowledged yet. The committed position (sink_committed) moves past
 * a transaction only when it and every transaction before it are fully
 * acknowledged, so a checkpoint taken from it never skips an event.
 *
 * Backpressure: when librdkafka's queue (kafka.buffer_memory) or the ring
 * is full, sink_produce and sink_txn_begin wait, serving delivery reports,
 * until there is room; the caller, blocked, stops reading the binlog.
 *
 * A record Kafka refuses for good (unknown or invalid topic, too large,
 * not authorized) goes to the dead-letter topic with error headers, or
 * stops the sink, as configured; any other delivery failure, and a dead
 * letter refused too, stops the sink (sink_failed). From then on the
 * committed position moves no more: a transaction is committed only when
 * each of its records is in its topic or in the dead-letter topic.
 *
 * Threads: one thread owns a sink and calls every function here; delivery
 * reports are served on that thread inside sink_poll and the waits above.
 * Counters are atomics, readable from any thread.
 */
#ifndef OUTBOX_RELAY_SINK_H
#define OUTBOX_RELAY_SINK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_relay.h"
#include "relay/koffsets.h"
#include "common/position.h"

struct sink;

/* A source transaction's GTID, applied to the committed position when the
 * transaction is fully acknowledged. */
struct sink_gtid {
    enum pos_gtid_kind kind;
    uint32_t domain, server; /* MariaDB */
    uint64_t seq;            /* MariaDB seq, or MySQL gno */
    uint8_t uuid[16];        /* MySQL */
    char tag[33];
};

struct sink_header {
    const char *name;
    const void *value; /* NULL for a null header */
    size_t len;
};

struct sink_record {
    const char *topic;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const struct sink_header *headers;
    size_t nheaders;
    int64_t timestamp_ms;
    const char *position; /* "file:offset:row", the source of this record */
    /* The row's name (txnid.h), header outbox-txn; the header outbox-relay
     * (the relay's name) goes with it. NULL: neither. */
    const char *row;
    size_t row_len;
};

struct sink_stats {
    atomic_uint_fast64_t records;    /* acknowledged */
    atomic_uint_fast64_t bytes;      /* acknowledged value bytes */
    atomic_uint_fast64_t dlq;        /* sent to the dead-letter topic */
    atomic_uint_fast64_t errors;     /* delivery or client errors */
    atomic_uint_fast64_t in_flight;  /* records not yet acknowledged */
    /* monotonic ms (clock.h): the last acknowledgement, and when the
     * oldest pending record began to wait (in_flight from 0 to 1) */
    atomic_int_fast64_t last_ack_ms, pending_since_ms;
    atomic_uint_fast64_t checkpoint_failures;     /* Kafka store saves */
    atomic_uint_fast64_t checkpoint_failures_run; /* in a row, until one lands */
};

/* Creates the producer. `start` is the position the relay resumes from; it
 * is the committed position until a transaction completes. Returns NULL
 * with a message. */
struct sink *sink_new(const struct relay_cfg *cfg,
                      const struct relay_position *start, char *err,
                      size_t errlen);

/* Flushes for at most timeout_ms, then frees. */
void sink_destroy(struct sink *s, int timeout_ms);

/* Transactions, in binlog order. Return 0, or -1 when the sink has failed
 * or `stop` became nonzero while waiting for room. */
int sink_txn_begin(struct sink *s, const atomic_int *stop);
int sink_produce(struct sink *s, const struct sink_record *r,
                 const atomic_int *stop);
/* The transaction ended; `next_offset` is the offset after its last event
 * in the current file. */
int sink_txn_end(struct sink *s, uint64_t next_offset,
                 const struct sink_gtid *gtid);
/* The open transaction will not end: the connection to the source was
 * lost in its middle, and it will be read again from its start. Its
 * records still count until acknowledged, but it moves the committed
 * position nowhere. Without this the committed position would wait for
 * it forever, and the ring would fill. No-op when none is open. */
void sink_txn_abandon(struct sink *s);
/* The binlog moved to another file (ROTATE). The file belongs to the
 * server named by sink_set_server: the committed position takes both
 * when it passes the rotation, so that its file and offset are never
 * taken for another server's. */
int sink_rotate(struct sink *s, const char *file, uint64_t offset);
/* The stream comes from this server now (its position.h name). */
void sink_set_server(struct sink *s, const char *server);

/* The source says it has sent everything up to `offset` (a heartbeat).
 * When nothing is pending, that becomes the committed offset: after a
 * resume by GTID the stream starts at offset 4 of the file, and an idle
 * relay would otherwise keep that. */
void sink_idle_offset(struct sink *s, uint64_t offset);

/* Sends a row that cannot become a record to the dead-letter topic (or
 * fails the sink when dead_letter.action is stop). `r` holds what could be
 * read of the row; its topic is ignored. */
int sink_dead_letter(struct sink *s, const struct sink_record *r,
                     const char *error_type, const char *error_message,
                     const atomic_int *stop);

/* Kafka offsets for the checkpoint (koffsets.h), kept in exactly_once
 * only: elsewhere these are no-ops and sink_offsets is NULL. */
/* A replayed row was found already in Kafka, at topic/partition/offset:
 * it counts for the open transaction as if just acknowledged there. */
void sink_note_landed(struct sink *s, const char *topic, int32_t partition,
                      int64_t offset);
/* Raises the bounds to those of `from` (a checkpoint's, a scan's). 0/-1. */
int sink_seed_offsets(struct sink *s, const struct koffsets *from);
const struct koffsets *sink_offsets(const struct sink *s);
/* The bounds that go with sink_committed() now, as text (malloc'd), or
 * NULL (none kept, or out of memory). */
char *sink_offsets_text(struct sink *s);

/* Produces a checkpoint record outside the transaction ring (its
 * delivery is not awaited: a later checkpoint supersedes a lost one). */
int sink_produce_checkpoint(struct sink *s, const char *topic,
                            const char *key, const char *value, char *err,
                            size_t errlen);

/* Serves delivery reports for up to timeout_ms. */
void sink_poll(struct sink *s, int timeout_ms);

/* Waits until everything produced is acknowledged; 0 or -1 (timeout or
 * failure). */
int sink_flush(struct sink *s, int timeout_ms);

/* Sets the committed position (the start, once resolved from `start:`).
 * Only while no transaction is open. 0 or -1. */
int sink_reset_position(struct sink *s, const struct relay_position *pos);

/* The position after the last fully acknowledged transaction. */
const struct relay_position *sink_committed(const struct sink *s);

/* Nonzero once a delivery failed for good; the message says why. */
int sink_failed(const struct sink *s, char *err, size_t errlen);
/* The same flag, without the message: any thread. */
int sink_has_failed(const struct sink *s);

/* The relay's stop flag, for the waits inside delivery callbacks (a dead
 * letter produced while librdkafka's queue is full). */
void sink_set_stop(struct sink *s, const atomic_int *stop);
const atomic_int *sink_stop_flag(const struct sink *s);

struct sink_stats *sink_stats(struct sink *s);

/* The functions the pipeline calls on a sink, so that a test can give it
 * a sink of its own (tests/unit/test_pipeline_fake.c). `s` is that sink's
 * object; each function keeps the contract of the sink_ function of the
 * same name above. */
struct sink_ops {
    int (*txn_begin)(void *s, const atomic_int *stop);
    int (*produce)(void *s, const struct sink_record *r,
                   const atomic_int *stop);
    int (*txn_end)(void *s, uint64_t next_offset,
                   const struct sink_gtid *gtid);
    void (*txn_abandon)(void *s);
    int (*rotate)(void *s, const char *file, uint64_t offset);
    void (*idle_offset)(void *s, uint64_t offset);
    int (*dead_letter)(void *s, const struct sink_record *r,
                       const char *error_type, const char *error_message,
                       const atomic_int *stop);
    void (*note_landed)(void *s, const char *topic, int32_t partition,
                        int64_t offset);
    int (*failed)(const void *s, char *err, size_t errlen);
    const atomic_int *(*stop_flag)(const void *s);
};

/* This sink's, for a struct sink *. */
extern const struct sink_ops sink_kafka_ops;

/* The librdkafka handle, for the Kafka checkpoint store and metadata. */
struct rd_kafka_s *sink_handle(struct sink *s);

#endif
