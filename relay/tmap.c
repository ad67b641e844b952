/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/tmap.h"

#include <stdlib.h>
#include <string.h>

int tmap_init(struct tmap *c, size_t slots)
{
    c->gen = 0;
    c->n = 0;
    if (!(c->e = calloc(slots ? slots : 1, sizeof *c->e)))
        return -1;
    c->n = slots ? slots : 1;
    for (size_t i = 0; i < c->n; i++)
        c->e[i].outbox = -1;
    return 0;
}

void tmap_free(struct tmap *c)
{
    tmap_clear(c);
    free(c->e);
    c->e = NULL;
    c->n = 0;
}

struct tmap_entry *tmap_find(struct tmap *c, uint64_t table_id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].outbox >= 0 && c->e[i].table_id == table_id)
            return &c->e[i];
    return NULL;
}

void tmap_txn(struct tmap *c) { c->gen++; }

/* A free entry, or one claimed before the open transaction; else the
 * cache doubles. */
static struct tmap_entry *reusable(struct tmap *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].outbox < 0 || c->e[i].gen != c->gen)
            return &c->e[i];
    struct tmap_entry *e = realloc(c->e, 2 * c->n * sizeof *e);
    if (!e)
        return NULL;
    for (size_t i = c->n; i < 2 * c->n; i++)
        e[i] = (struct tmap_entry){.outbox = -1};
    c->e = e;
    c->n *= 2;
    return &e[c->n / 2];
}

struct tmap_entry *tmap_claim(struct tmap *c)
{
    struct tmap_entry *e = reusable(c);
    if (!e)
        return NULL;
    tmap_forget(e);
    e->gen = c->gen;
    return e;
}

void tmap_bind(struct tmap_entry *e, uint64_t table_id, int outbox)
{
    e->table_id = table_id;
    e->outbox = outbox;
}

int tmap_remember(struct tmap_entry *e, const uint8_t *body, size_t len)
{
    free(e->raw);
    e->raw_len = 0;
    if (!(e->raw = malloc(len ? len : 1)))
        return -1;
    memcpy(e->raw, body, len);
    e->raw_len = len;
    return 0;
}

struct tmap_entry *tmap_reuse(struct tmap *c, uint64_t table_id,
                              const uint8_t *body, size_t len)
{
    struct tmap_entry *e = tmap_find(c, table_id);
    if (!e || !e->raw || e->raw_len != len || memcmp(e->raw, body, len))
        return NULL;
    e->gen = c->gen;
    return e;
}

void tmap_forget(struct tmap_entry *e)
{
    binlog_table_free(&e->map);
    free(e->raw);
    e->raw = NULL;
    e->raw_len = 0;
    e->outbox = -1;
    e->table_id = 0;
}

void tmap_forget_table(struct tmap *c, int outbox)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].outbox == outbox)
            tmap_forget(&c->e[i]);
}

void tmap_clear(struct tmap *c)
{
    for (size_t i = 0; i < c->n; i++)
        tmap_forget(&c->e[i]);
}
