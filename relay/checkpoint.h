/*
 * checkpoint: where the relay's position is kept between runs.
 *
 * Two stores, chosen by checkpoint.store:
 *   kafka: a compacted topic, one record per relay, keyed by the relay's
 *          name; any machine with the config can resume (HA);
 *   file:  a local file (ckpt_file.h).
 * The value is the position's text form (position.h) in both.
 *
 * Loading happens once at start-up, before the pipeline runs; saving is
 * done by the pipeline thread, periodically and at a clean stop.
 */
#ifndef OUTBOX_RELAY_CHECKPOINT_H
#define OUTBOX_RELAY_CHECKPOINT_H

#include <stdatomic.h>
#include <stddef.h>

#include "config/cfg_relay.h"
#include "relay/position.h"
#include "relay/sink.h"

/* Returns 1 and fills p when a checkpoint exists, 0 when none does, -1
 * with a message when it is damaged (the relay must then stop: going on
 * from `start` would resend or skip events), -2 when the store cannot be
 * reached now (Kafka down: try again), or when *stop became nonzero. */
int ckpt_load(const struct relay_cfg *cfg, struct relay_position *p,
              const atomic_int *stop, char *err, size_t errlen);

/* Makes sure the Kafka store's topic exists and is compacted (creating it
 * when missing). A no-op for the file store. 0 or -1. */
int ckpt_prepare(const struct relay_cfg *cfg, struct sink *sink, char *err,
                 size_t errlen);

/* Saves p. For Kafka the record is produced through the sink's producer
 * and becomes durable asynchronously, in order with earlier saves. */
int ckpt_save(const struct relay_cfg *cfg, struct sink *sink,
              const struct relay_position *p, char *err, size_t errlen);

#endif
