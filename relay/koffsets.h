/* SPDX-License-Identifier: Apache-2.0 */
/*
 * koffsets: per Kafka partition, the offset from which a restarted relay
 * must read to find every record it wrote after its checkpoint.
 *
 * exactly_once replays the binlog from the checkpoint and skips the
 * records that already landed. Finding them must not mean reading whole
 * partitions (other relays write there too, for days of retention), so
 * each checkpoint carries, for every partition the relay writes to, a
 * bound: every record of a transaction after the checkpoint sits at or
 * past it. Records before the bound are never looked at.
 *
 * How the bound is kept, per partition: the producer is idempotent, so
 * our records land in each partition in the order they were produced,
 * which is binlog order; transactions are numbered in that order (the
 * sink's ring sequence). A delivery report gives (sequence, offset).
 *   - When the last record acknowledged in the partition belongs to a
 *     committed transaction (sequence below the ring's head), the bound
 *     is the offset after it: every later record of ours lands after it.
 *   - Under steady load the partition's last record usually belongs to a
 *     transaction still open, so a mark is set at each checkpoint: the
 *     ring's tail then. The first record acknowledged with a sequence at
 *     or past the mark gives a candidate offset; once the head passes the
 *     mark, every record of a later transaction lands at or past that
 *     candidate, and it becomes the bound.
 * Records that a replay finds already in Kafka are noted the same way,
 * with their old offsets: they precede, in each partition, everything
 * the replay produces there.
 *
 * Text form, kept in the checkpoint: "topic/partition@offset,..." (topic
 * names cannot hold '/', '@' or ',').
 *
 * Not thread-safe: the sink's thread owns it.
 */
#ifndef OUTBOX_RELAY_KOFFSETS_H
#define OUTBOX_RELAY_KOFFSETS_H

#include <stddef.h>
#include <stdint.h>

struct koffsets;

struct koffsets *koff_new(void);
void koff_free(struct koffsets *k);

/* A record of transaction `seq` is in topic/partition at `offset`.
 * Returns 0, or -1 when out of memory (the bound of that partition then
 * stays where it was: still a bound, only a lower one). */
int koff_note(struct koffsets *k, const char *topic, int32_t partition,
              uint64_t seq, int64_t offset);

/* Raises a partition's bound to `bound` (known from elsewhere: a scan at
 * start-up, a checkpoint); a lower one is kept. 0 or -1. */
int koff_raise(struct koffsets *k, const char *topic, int32_t partition,
               int64_t bound);

/* Raises every bound of k to those of `from`. 0 or -1. */
int koff_merge(struct koffsets *k, const struct koffsets *from);

/* The checkpoint about to be saved covers every transaction below `head`;
 * `tail` is the next sequence to be given out. Moves the bounds as far as
 * that allows and sets the next marks. */
void koff_checkpoint(struct koffsets *k, uint64_t head, uint64_t tail);

/* The bound of a partition, or -1 when none is known. */
int64_t koff_bound(const struct koffsets *k, const char *topic,
                   int32_t partition);

/* Text form of every known bound. Returns a malloc'd string ("" when
 * none), or NULL when out of memory. */
char *koff_format(const struct koffsets *k);

/* Adds the bounds of a text form. Returns 0, or -1 with a message when it
 * is not one. */
int koff_parse(struct koffsets *k, const char *text, char *err,
               size_t errlen);

#endif
