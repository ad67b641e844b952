/*
 * dedupe: exactly-once delivery without trusting transaction markers.
 *
 * Why not Kafka transactions alone: a crash between producing and
 * committing leaves aborted records in the log. read_committed consumers
 * skip them, read_uncommitted ones do not (and librdkafka's mock cluster
 * does not filter them for anyone); the replay after the restart would
 * then show those consumers every such event twice.
 *
 * What we do instead: the producer is idempotent with
 * enable.gapless.guarantee, so within a partition the records that landed
 * are exactly a prefix of those produced, in order. Every record carries
 * its source position in the `outbox-position` header ("FILE:OFFSET:ROW").
 * At start-up we read the last record of every partition of every topic
 * the relay can write to (topics matching a configured template, and the
 * dead-letter topic) and keep its position. While the relay replays the
 * binlog from its checkpoint, a record whose position is at or before the
 * last one of the partition it would go to (Java's murmur2 partitioner,
 * as the producer uses) already landed and is skipped. Once the replay has
 * passed every partition's last position, the check is switched off.
 *
 * A relay killed a moment ago may still have produce requests on their
 * way; the ends are read until they have held still for half a second.
 *
 * Limits: the partition count of a topic must not change while the relay
 * is down; another live relay with the same name (no fencing yet) would
 * defeat the check; positions are binlog file and offset, so a restart against
 * another server (failover) starts from its checkpoint without dedupe;
 * topics must be discoverable through metadata (describe permission).
 *
 * Pipeline thread only.
 */
#ifndef OUTBOX_RELAY_DEDUPE_H
#define OUTBOX_RELAY_DEDUPE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_relay.h"
#include "relay/outbox.h"

/* An ordered source position: binlog file number, event offset, row. */
struct opos {
    uint64_t file;
    uint64_t offset;
    uint32_t row;
};

/* "mysql-bin.000003" -> 3 (the digits after the last dot). 0 or -1. */
int opos_file_number(const char *file, uint64_t *out);
/* "mysql-bin.000003:1234:2" -> {3, 1234, 2}. 0 or -1. */
int opos_parse(const char *s, size_t len, struct opos *out);
/* Writes "FILE:OFFSET:ROW" for the record header. Returns its length, or
 * -1 when len is under strlen(file) + 43 (room for any two numbers). */
int opos_format(char *buf, size_t len, const char *file, uint64_t offset,
                uint32_t row);
int opos_cmp(const struct opos *a, const struct opos *b);

struct dedupe;

/* Reads the tails. NULL with a message on failure. An empty dedupe (no
 * topic had records) is valid and skips nothing. */
struct dedupe *dedupe_load(const struct relay_cfg *cfg,
                           const struct outbox_table *tables, size_t ntables,
                           const atomic_int *stop, char *err, size_t errlen);

/* 1 when the record for (topic, key) at pos is already in Kafka. */
int dedupe_seen(struct dedupe *d, const char *topic, const void *key,
                size_t keylen, const struct opos *pos);

/* 1 while some partition still has a position ahead of pos. */
int dedupe_active(const struct dedupe *d, const struct opos *pos);

void dedupe_free(struct dedupe *d);

#endif
