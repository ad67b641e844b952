/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dedupe: exactly-once delivery without trusting transaction markers.
 *
 * Why not Kafka transactions alone: a crash between producing and
 * committing leaves aborted records in the log. read_committed consumers
 * skip them, read_uncommitted ones do not (and librdkafka's mock cluster
 * does not filter them for anyone); the replay after the restart would
 * then show those consumers every such event twice.
 *
 * What we do instead: every record names the relay that wrote it
 * (`outbox-relay: NAME`) and its row (`outbox-txn`, see txnid.h: the
 * source transaction, by GTID where the server has them, and the row's
 * index in it). Before the relay replays the binlog from its checkpoint,
 * it reads each partition it can write to (topics matching a configured
 * template, and the dead-letter topic) from the checkpoint's offset for
 * that partition (koffsets.h) to the end, and collects the rows that
 * this relay itself landed for transactions the checkpoint does not
 * cover. The replay skips exactly those rows, each once, and produces
 * everything else. So:
 *   - records of other relays sharing the topics never count (their
 *     name differs);
 *   - records from before the checkpoint never count (bounded scan, and
 *     their transactions are covered);
 *   - after a failover to a replica, the same transactions keep their
 *     GTIDs, and a row that landed from the old primary is skipped when
 *     the new one replays it; a transaction the new server does not have
 *     is never matched (logged when the replay has caught up).
 *
 * A relay killed a moment ago may still have produce requests on their
 * way; the partitions are read again after half a second, until no new
 * record of this relay appears.
 *
 * Where exactness cannot be had the relay says so (log, and the metric
 * outbox_exactly_once_degraded_total) and that stretch is at-least-once:
 * records of this relay without `outbox-txn` (written by a version before
 * it), and a checkpoint without Kafka offsets (read from the partitions'
 * beginning instead: slower, still exact).
 *
 * Limits: the partition count of a topic must not change while the relay
 * is down; two live relays with the same name defeat the check (leader
 * election is what prevents that); topics must be discoverable through
 * metadata (describe permission).
 *
 * Pipeline thread only.
 */
#ifndef OUTBOX_RELAY_DEDUPE_H
#define OUTBOX_RELAY_DEDUPE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_relay.h"
#include "relay/koffsets.h"
#include "relay/outbox.h"
#include "common/position.h"

/* "mysql-bin.000003" -> 3 (the digits after the last dot). 0 or -1. */
int opos_file_number(const char *file, uint64_t *out);
/* Writes "FILE:OFFSET:ROW" for the record header. Returns its length, or
 * -1 when len is under strlen(file) + 43 (room for any two numbers). */
int opos_format(char *buf, size_t len, const char *file, uint64_t offset,
                uint32_t row);

struct dedupe;

/* Where the scan starts and what it may skip. */
struct dedupe_from {
    /* the checkpoint's position; rows of transactions it covers never
     * count. NULL: no checkpoint, nothing of this relay can be in Kafka
     * (a relay saves one before it produces anything). */
    const struct relay_position *checkpoint;
    /* per partition, where its scan starts; a partition without one is
     * read from its beginning. */
    const struct koffsets *offsets;
};

/* Reads the partitions. NULL with a message on failure. *found gets, for
 * every partition read, the offset a later scan may start from (the
 * first row found in it, else its end). */
struct dedupe *dedupe_load(const struct relay_cfg *cfg,
                           const struct outbox_table *tables, size_t ntables,
                           const struct dedupe_from *from,
                           struct koffsets *found, const atomic_int *stop,
                           char *err, size_t errlen);

/* Where a row that already landed is. */
struct dedupe_hit {
    const char *topic; /* valid while the dedupe lives */
    int32_t partition;
    int64_t offset;
};

/* 1 and *hit when row `row` (its outbox-txn value) already landed: skip
 * it; each row is found once. 0 otherwise. */
int dedupe_take(struct dedupe *d, const char *row, size_t len,
                struct dedupe_hit *hit);

/* Rows found and not yet taken; 0 once the replay has passed them all
 * (the check can then be skipped). */
size_t dedupe_pending(const struct dedupe *d);

/* Records of this relay read without an outbox-txn header (exactness
 * lost for them). */
size_t dedupe_unnamed(const struct dedupe *d);

void dedupe_free(struct dedupe *d);

#endif
