/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox: the mapping from an outbox row to a Kafka record.
 *
 * Debezium's Outbox Event Router by default: the topic comes from a
 * template over column values (outbox.event.${aggregatetype}), the key
 * from aggregateid, the value from payload, headers from id, type and any
 * other configured column. The record timestamp is the commit time.
 *
 * Work is split by how often it happens:
 *   - outbox_table_compile, once per configured table at start-up, parses
 *     the topic template;
 *   - outbox_layout_resolve, once per TABLE_MAP whose columns changed,
 *     turns column names into indices (a configured column missing from
 *     the table is an error for the operator, not for a row);
 *   - outbox_map_row, once per row, only points into the row's cells and
 *     fills the caller's topic buffer: no allocation.
 *
 * A row that cannot become a valid record is not an error of the relay:
 * outbox_map_row says why (an error type and message for the dead-letter
 * headers) and the caller sends it to the dead-letter topic or stops.
 */
#ifndef OUTBOX_RELAY_OUTBOX_H
#define OUTBOX_RELAY_OUTBOX_H

#include <stddef.h>

#include "config/cfg_relay.h"
#include "relay/sink.h"

#define OUTBOX_MAX_HEADERS 32
#define OUTBOX_TOPIC_MAX 249 /* Kafka's limit */

struct outbox_tpl_part {
    char *literal; /* text before the placeholder, or NULL */
    char *column;  /* placeholder's column, or NULL at the end */
};

struct outbox_table {
    const struct relay_table_cfg *cfg;
    char *db, *name; /* from cfg->table "db.name" */
    struct outbox_tpl_part *parts;
    size_t nparts;
};

/* Column indices of one table layout; -1 where not present. */
struct outbox_layout {
    int key, value;
    int topic[OUTBOX_MAX_HEADERS + 1]; /* by template part */
    int headers[OUTBOX_MAX_HEADERS];
};

/* One column value of a row, as the bytes that go to Kafka (strings as
 * stored, JSON as JSON text, numbers as decimal text). */
struct outbox_cell {
    const void *data;
    size_t len;
    int is_null;
};

enum outbox_verdict { OUTBOX_OK, OUTBOX_INVALID };

int outbox_table_compile(struct outbox_table *t,
                         const struct relay_table_cfg *cfg, char *err,
                         size_t errlen);
void outbox_table_free(struct outbox_table *t);

/* Names the columns the mapping needs; -1 with a message when one is
 * missing from `names`. */
int outbox_layout_resolve(const struct outbox_table *t,
                          const char *const *names, size_t ncols,
                          struct outbox_layout *out, char *err,
                          size_t errlen);

/* Fills rec (topic in topic_buf, headers in hdrs[OUTBOX_MAX_HEADERS])
 * from cells. OUTBOX_INVALID: rec still holds key, value and headers as
 * far as they could be read (no value for payload-too-large: it would not
 * fit the dead-letter topic either), *error_type is a short code
 * (null-key, payload-too-large, invalid-topic) and why says the rest. */
enum outbox_verdict outbox_map_row(const struct outbox_table *t,
                                   const struct outbox_layout *l,
                                   const struct outbox_cell *cells,
                                   char topic_buf[OUTBOX_TOPIC_MAX + 1],
                                   struct sink_header *hdrs,
                                   struct sink_record *rec,
                                   const char **error_type, char *why,
                                   size_t whylen);

#endif
