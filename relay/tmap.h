/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tmap: the pipeline's cache of table maps, by table id, outbox tables
 * only.
 *
 * A rows event names its table by a number the server assigned in a
 * TABLE_MAP just before it; the cache keeps the decoded map and the
 * outbox layout resolved from it until a rows event asks for that id.
 *
 * The one rule: a map the open transaction uses is never evicted. The
 * server sends all of a statement's table maps before its rows (a trigger
 * or a multi-table statement maps many outbox tables at once), so a cache
 * that evicted by age would drop a map whose rows are still to come, and
 * those rows would be skipped as another table's, silently. Each entry
 * carries the generation of the transaction that mapped it; tmap_txn
 * opens a new generation, and only entries of older generations (which no
 * later row needs: the server maps again in each transaction) or free
 * ones are reused. When none is left the cache doubles.
 *
 * Entries are addressed by pointer; a tmap_claim may move them (realloc),
 * so a pointer is good only until the next claim. Pipeline thread only.
 */
#ifndef OUTBOX_RELAY_TMAP_H
#define OUTBOX_RELAY_TMAP_H

#include <stddef.h>
#include <stdint.h>

#include "relay/binlog.h"
#include "relay/outbox.h"

struct tmap_entry {
    uint64_t table_id;
    int outbox;   /* index of the outbox table; -1 when the entry is free */
    unsigned gen; /* the transaction generation it was claimed in */
    struct binlog_table map;
    struct outbox_layout layout;
    /* The TABLE_MAP body it was decoded from (tmap_remember): the server
     * maps a table again in every transaction, and the same bytes again
     * need no decoding (tmap_reuse). NULL: not kept. */
    uint8_t *raw;
    size_t raw_len;
};

struct tmap {
    struct tmap_entry *e;
    size_t n;
    unsigned gen; /* the open transaction's */
};

/* `slots` entries to start with (at least 1). 0, or -1 out of memory. */
int tmap_init(struct tmap *c, size_t slots);
void tmap_free(struct tmap *c);

/* The entry mapped under table_id, or NULL. */
struct tmap_entry *tmap_find(struct tmap *c, uint64_t table_id);

/* A new transaction maps its first outbox table: every entry mapped
 * before it may be reused from now on. */
void tmap_txn(struct tmap *c);

/* An entry for a map of the open transaction, emptied (its old map
 * freed) and marked with the open generation but still free (outbox -1)
 * until tmap_bind. Never one of the open transaction's. NULL: out of
 * memory. */
struct tmap_entry *tmap_claim(struct tmap *c);

/* The entry now holds table_id's map of outbox table `outbox`. */
void tmap_bind(struct tmap_entry *e, uint64_t table_id, int outbox);

/* Keeps a copy of the TABLE_MAP body the entry's map was decoded from.
 * 0, or -1 out of memory (the entry stays bound, without the copy). */
int tmap_remember(struct tmap_entry *e, const uint8_t *body, size_t len);

/* The entry mapped under table_id when it was decoded from exactly these
 * bytes (the same table id, table, columns and metadata), now of the open
 * transaction's generation (so never evicted while it lasts); else NULL,
 * and nothing changes. It spares a one-row transaction the decoding of
 * its table map and the allocations that go with it. */
struct tmap_entry *tmap_reuse(struct tmap *c, uint64_t table_id,
                              const uint8_t *body, size_t len);

/* Frees an entry's map and marks it free. */
void tmap_forget(struct tmap_entry *e);

/* Forgets every entry of outbox table `outbox` (DDL changed it). */
void tmap_forget_table(struct tmap *c, int outbox);

/* Forgets every entry (a new connection: table ids start over). */
void tmap_clear(struct tmap *c);

#endif
