/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline: one binlog event in, Kafka records out.
 *
 * Keeps the little state the binlog needs (the format, the current file,
 * the open transaction, the table maps of outbox tables), recognises
 * transaction boundaries in both server dialects, decodes the INSERTed
 * rows of outbox tables only, maps them to records (outbox.h) and hands
 * them to the sink with the transaction's GTID and end offset, so that the
 * sink can tell when the transaction is safely in Kafka.
 *
 * Transactions: a GTID event or a BEGIN opens one; XID, COMMIT or
 * ROLLBACK closes it; a statement outside BEGIN (DDL) is a transaction by
 * itself. Rows of other tables are skipped at the TABLE_MAP: their row
 * events are never decoded. An event type the decoder does not know is
 * skipped outside outbox transactions and stops the relay inside one.
 *
 * The pipeline calls the sink through an ops table (struct sink_ops) and
 * asks for column names through a callback (pipeline_columns_fn), so that
 * a unit test drives it with a fake sink and no server.
 *
 * Pipeline thread only; the caller owns the sink and whatever the column
 * look-up uses.
 */
#ifndef OUTBOX_RELAY_PIPELINE_H
#define OUTBOX_RELAY_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_relay.h"
#include "relay/binlog.h"
#include "relay/dedupe.h"
#include "relay/outcome.h"
#include "relay/sink.h"

struct metrics;
struct pipeline;

/* The column names of db.table in table order, for a table map that
 * carries none (binlog_row_metadata is not FULL): the relay reads them
 * from information_schema (source_column_names), a test from a table of
 * its own. *names is one allocation, which the pipeline frees with
 * free(*names). Returns the column count, or -1 with a message in err.
 * Called on the pipeline thread, once per table until DDL on it. */
typedef int pipeline_columns_fn(void *ctx, const char *db, const char *table,
                                char ***names, char *err, size_t errlen);

/* Records go to `sink` through `ops` (sink_kafka_ops for a struct sink;
 * a test's own in tests). Returns NULL with a message (e.g. a table that
 * cannot be compiled). */
struct pipeline *pipeline_new(const struct relay_cfg *cfg,
                              const struct sink_ops *ops, void *sink,
                              struct metrics *m, char *err, size_t errlen);
void pipeline_free(struct pipeline *p);

/* Before streaming from a (new) connection: the server's checksum setting,
 * where the stream starts, the column look-up and its context (NULL: a
 * table map without names stops the relay) and the dedupe (NULL outside
 * exactly_once). Drops any half-read transaction. */
void pipeline_reset(struct pipeline *p, int checksum_len, const char *file,
                    pipeline_columns_fn *columns, void *columns_ctx,
                    struct dedupe *dedupe);

/* Processes one event. OUTCOME_OK; OUTCOME_STOP when `stop` ended a wait
 * for Kafka; OUTCOME_FATAL with a message (a record refused for good, a
 * row that cannot be decoded, ...). */
enum outcome pipeline_event(struct pipeline *p, const uint8_t *ev, size_t len,
                            const atomic_int *stop, char *err, size_t errlen);

/* Transactions whose MySQL GTID is in `set` are passed over: they were
 * delivered before a start from a GTID set (source.start), which the
 * server can only serve from the start of a binlog file. 0 or -1. */
int pipeline_skip_gtids(struct pipeline *p, const struct relay_position *set);



/* The compiled outbox tables (for the dedupe's topic templates). */
const struct outbox_table *pipeline_tables(const struct pipeline *p,
                                           size_t *n);

#endif
