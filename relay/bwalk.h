/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bwalk: the events of one buffer, one after the other.
 *
 * Several readers walk a run of binlog events held in memory: a binlog
 * file (outbox-relay dump, the fixture tests), and the inner events of a
 * MySQL TRANSACTION_PAYLOAD once expanded (the pipeline, dump). Each
 * event states its own size in its header; the walker checks that size
 * against what is left before handing the event out, so no reader goes
 * past the buffer, and a run cut short is an error at the offset where
 * it stops, never a partial event.
 *
 * The walker only delimits events: it reads no more of them than the
 * size field. Any thread; the buffer must outlive the walk.
 */
#ifndef OUTBOX_RELAY_BWALK_H
#define OUTBOX_RELAY_BWALK_H

#include <stddef.h>
#include <stdint.h>

struct bwalk {
    const uint8_t *buf;
    size_t len;
    size_t at;   /* where the event handed out last (or the bad one) starts */
    size_t next; /* where the next one starts */
};

/* Walks buf[start..len). */
void bwalk_init(struct bwalk *w, const uint8_t *buf, size_t len,
                size_t start);

/* 1 with the next event in *ev, *evlen bytes (the size its header
 * states); 0 at the end of the buffer; -1 with a message when what is
 * left is not a whole event (w->at says where it starts). */
int bwalk_next(struct bwalk *w, const uint8_t **ev, size_t *evlen, char *err,
               size_t errlen);

#endif
