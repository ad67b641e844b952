/* SPDX-License-Identifier: Apache-2.0 */
/*
 * checkpoint: where the relay's position is kept between runs.
 *
 * Two stores, chosen by checkpoint.store:
 *   kafka: a compacted topic, one record per relay, keyed by the relay's
 *          name; any machine with the config can resume (HA);
 *   file:  a local file (ckpt_file.h).
 * The value is the same text in both: the position's text form
 * (position.h) on the first line, and in exactly_once the Kafka offsets
 * the dedupe starts reading from (koffsets.h) on a second one:
 *
 *   v1 file=mysql-bin.000003 pos=1234 gtid=0-1-100
 *   kafka=outbox.event.queue/0@5812,outbox.dlq/2@17
 *   gen=3
 *
 * gen is the leader generation that saved it (ha.enabled; leader.h): on
 * load a checkpoint of a lower generation never wins over a higher one
 * read beside it, though it came later. (A deposed leader saves none
 * after it learns it lost; this is the second line of defence.) A checkpoint of an older version has the first line
 * only.
 *
 * Loading happens once at start-up, before the pipeline runs; saving is
 * done by the pipeline thread, periodically and at a clean stop.
 */
#ifndef OUTBOX_RELAY_CHECKPOINT_H
#define OUTBOX_RELAY_CHECKPOINT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_relay.h"
#include "relay/koffsets.h"
#include "common/position.h"
#include "relay/sink.h"

/* Returns 1 and fills p (and the offsets it holds into `offsets`) when a
 * checkpoint exists, 0 when none does, -1 with a message when it is
 * damaged (the relay must then stop: going on from `start` would resend
 * or skip events), -2 when the store cannot be reached now (Kafka down:
 * try again), or when *stop became nonzero. */
int ckpt_load(const struct relay_cfg *cfg, struct relay_position *p,
              struct koffsets *offsets, uint64_t *gen, const atomic_int *stop,
              char *err, size_t errlen);

/* Makes sure the Kafka store's topic exists and is compacted (creating it
 * when missing). A no-op for the file store. 0 or -1. */
int ckpt_prepare(const struct relay_cfg *cfg, struct sink *sink, char *err,
                 size_t errlen);

/* Saves p, with `offsets` (koffsets.h text; NULL for none). For Kafka the
 * record is produced through the sink's producer and becomes durable
 * asynchronously, in order with earlier saves. */
int ckpt_save(const struct relay_cfg *cfg, struct sink *sink,
              const struct relay_position *p, const char *offsets,
              uint64_t gen, char *err, size_t errlen);

/* The text form and back (for the stores, and tests). ckpt_format returns
 * a malloc'd string or NULL (out of memory, or a position too long);
 * ckpt_parse 0 or -1 with a message. */
char *ckpt_format(const struct relay_position *p, const char *offsets,
                  uint64_t gen);
int ckpt_parse(const char *text, struct relay_position *p,
               struct koffsets *offsets, uint64_t *gen, char *err,
               size_t errlen);
/* The generation a checkpoint's text names (0: none). */
uint64_t ckpt_generation(const char *text);

#endif
