/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/dedupe.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/numfmt.h"
#include "relay/kscan.h"
#include "relay/txnid.h"

#define TIMEOUT_MS 10000
#define SETTLE_MS 500
#define SETTLE_ROUNDS 60

/* A row this relay already landed. */
struct landed {
    char *row; /* its outbox-txn value; NULL: a free slot */
    const char *topic;
    int32_t partition;
    int64_t offset;
    int taken;
};

struct dedupe {
    char *name; /* the relay's */
    const struct relay_position *checkpoint;
    char **topics; /* names of the topics read, for the hits */
    size_t ntopics;
    struct landed *set; /* open addressing, cap a power of two */
    size_t cap, used, pending, unnamed;
    size_t found_round; /* rows found in the current reading round */
};

/* ---- record positions (the outbox-position header) ------------------- */

int opos_file_number(const char *file, uint64_t *out)
{
    const char *dot = strrchr(file, '.'); /* the binlog file's sequence */
    char *end;
    *out = strtoull(dot ? dot + 1 : file, &end, 10);
    return *end ? -1 : 0;
}

/* By hand: it runs for every record, and snprintf was a few percent of
 * the relay's CPU draining a backlog (tests/bench). */
int opos_format(char *buf, size_t len, const char *file, uint64_t offset,
                uint32_t row)
{
    size_t flen = strlen(file);
    if (len < flen + 2 * 21 + 1)
        return -1; /* room for the longest numbers, whatever they are */
    char *p = buf + flen;
    memcpy(buf, file, flen);
    *p++ = ':';
    p = numfmt_u64(p, offset);
    *p++ = ':';
    p = numfmt_u64(p, row);
    *p = '\0';
    return (int)(p - buf);
}

/* ---- the set of landed rows --------------------------------------------- */

static struct landed *probe(struct landed *set, size_t cap, const char *row,
                            size_t len)
{
    for (size_t i = hash_fnv1a(row, len) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!set[i].row ||
            (strlen(set[i].row) == len && memcmp(set[i].row, row, len) == 0))
            return &set[i];
}

static int grow(struct dedupe *d)
{
    size_t cap = d->cap ? d->cap * 2 : 1024;
    struct landed *set = calloc(cap, sizeof *set);
    if (!set)
        return -1;
    for (size_t i = 0; i < d->cap; i++)
        if (d->set[i].row)
            *probe(set, cap, d->set[i].row, strlen(d->set[i].row)) = d->set[i];
    free(d->set);
    d->set = set;
    d->cap = cap;
    return 0;
}

/* Adds a landed row; one seen twice (a produce retried across a crash
 * can land twice) counts once. 0 or -1 (out of memory). */
static int add_row(struct dedupe *d, const char *row, size_t len,
                   const char *topic, int32_t partition, int64_t offset)
{
    if ((d->used + 1) * 2 > d->cap && grow(d) < 0)
        return -1;
    struct landed *l = probe(d->set, d->cap, row, len);
    if (l->row)
        return 0;
    if (!(l->row = strndup(row, len)))
        return -1;
    *l = (struct landed){l->row, topic, partition, offset, 0};
    d->used++;
    d->pending++;
    d->found_round++;
    return 0;
}

int dedupe_take(struct dedupe *d, const char *row, size_t len,
                struct dedupe_hit *hit)
{
    if (!d || d->pending == 0)
        return 0;
    struct landed *l = probe(d->set, d->cap, row, len);
    if (!l->row || l->taken)
        return 0;
    l->taken = 1;
    d->pending--;
    *hit = (struct dedupe_hit){l->topic, l->partition, l->offset};
    return 1;
}

size_t dedupe_pending(const struct dedupe *d) { return d ? d->pending : 0; }

size_t dedupe_unnamed(const struct dedupe *d) { return d ? d->unnamed : 0; }

void dedupe_free(struct dedupe *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->cap; i++)
        free(d->set[i].row);
    for (size_t i = 0; i < d->ntopics; i++)
        free(d->topics[i]);
    free(d->topics);
    free(d->set);
    free(d->name);
    free(d);
}

/* ---- which topics ------------------------------------------------------ */

static int topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Does `name` fit template parts[i..]? A placeholder takes one or more
 * topic characters. */
static int tpl_match(const struct outbox_tpl_part *parts, size_t n,
                     const char *name)
{
    if (n == 0)
        return *name == '\0';
    size_t ll = parts->literal ? strlen(parts->literal) : 0;
    if (strncmp(name, parts->literal ? parts->literal : "", ll) != 0)
        return 0;
    name += ll;
    if (!parts->column)
        return tpl_match(parts + 1, n - 1, name);
    for (size_t k = 1; name[k - 1] && topic_char(name[k - 1]); k++)
        if (tpl_match(parts + 1, n - 1, name + k))
            return 1;
    return 0;
}

static int wanted(const struct relay_cfg *cfg, const struct outbox_table *t,
                  size_t nt, const char *name)
{
    if (strcmp(name, cfg->dead_letter.topic) == 0)
        return 1;
    for (size_t i = 0; i < nt; i++)
        if (tpl_match(t[i].parts, t[i].nparts, name))
            return 1;
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

/* One record read back: a row of ours for a transaction after the
 * checkpoint goes into the set. */
static int take_record(const rd_kafka_message_t *m, void *arg)
{
    struct dedupe *d = arg;
    size_t nlen, rlen;
    const char *name = kscan_header(m, "outbox-relay", &nlen);
    if (!name || nlen != strlen(d->name) || memcmp(name, d->name, nlen) != 0)
        return 0; /* another relay's, or none's */
    const char *row = kscan_header(m, "outbox-txn", &rlen);
    int tlen = row ? txnid_row_txn(row, rlen) : -1;
    if (tlen < 0) {
        d->unnamed++;
        return 0;
    }
    if (d->checkpoint &&
        txnid_covered(row, (size_t)tlen, d->checkpoint) == 1)
        return 0; /* before the checkpoint: never replayed */
    const char *topic = rd_kafka_topic_name(m->rkt);
    for (size_t i = 0; i < d->ntopics; i++)
        if (strcmp(d->topics[i], topic) == 0)
            return add_row(d, row, rlen, d->topics[i], m->partition,
                           m->offset) < 0;
    return 0;
}

/* The partitions to read, each from its bound; ends[] their high marks. */
struct scan {
    rd_kafka_topic_partition_list_t *parts;
    int64_t *ends;
    int cap;
};

static int scan_add(struct scan *sc, const char *topic, int32_t partition,
                    int64_t from, int64_t end)
{
    if (sc->parts->cnt == sc->cap) {
        int64_t *e = realloc(sc->ends, (size_t)(sc->cap * 2 + 16) * sizeof *e);
        if (!e)
            return -1;
        sc->ends = e;
        sc->cap = sc->cap * 2 + 16;
    }
    sc->ends[sc->parts->cnt] = end;
    rd_kafka_topic_partition_list_add(sc->parts, topic, partition)->offset = from;
    return 0;
}

/* Where a partition's scan starts: its bound, else (with a checkpoint)
 * its beginning, else (none: nothing of ours can be there) its end. */
static int64_t scan_from(const struct dedupe_from *from, const char *topic,
                         int32_t p, int64_t low, int64_t high)
{
    int64_t b = from->offsets ? koff_bound(from->offsets, topic, p) : -1;
    if (b >= 0)
        return b < low ? low : b > high ? high : b;
    return from->checkpoint ? low : high;
}

static int add_topic(struct dedupe *d, rd_kafka_t *c,
                     const rd_kafka_metadata_topic_t *mt,
                     const struct dedupe_from *from, struct scan *sc,
                     const atomic_int *stop, char *err, size_t errlen)
{
    char *name = strdup(mt->topic);
    if (!name)
        return snprintf(err, errlen, "out of memory"), -1;
    d->topics[d->ntopics++] = name;
    for (int i = 0; i < mt->partition_cnt; i++) {
        int32_t p = mt->partitions[i].id;
        int64_t low, high;
        if (kscan_watermarks(c, name, p, &low, &high, TIMEOUT_MS, stop, err,
                             errlen) < 0 ||
            scan_add(sc, name, p, scan_from(from, name, p, low, high), high) < 0)
            return -1;
    }
    return 0;
}

/* Reads what the scan has not read yet, up to each partition's end now.
 * Returns the number of our rows found, or -1. */
static long read_round(struct dedupe *d, rd_kafka_t *c, struct scan *sc,
                       const atomic_int *stop, char *err, size_t errlen)
{
    for (int i = 0; i < sc->parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &sc->parts->elems[i];
        int64_t low;
        if (kscan_watermarks(c, tp->topic, tp->partition, &low, &sc->ends[i],
                             TIMEOUT_MS, stop, err, errlen) < 0)
            return -1;
        if (tp->offset < low)
            tp->offset = low; /* retention went past it */
    }
    d->found_round = 0;
    if (kscan_ranges(c, sc->parts, sc->ends, take_record, d, TIMEOUT_MS, stop,
                     err, errlen) < 0)
        return -1;
    return (long)d->found_round;
}

/* A relay killed a moment ago may still have produce requests in its
 * socket buffers, which the brokers append after we look. So the
 * partitions are read again after SETTLE_MS until a round finds no new
 * row of ours. Other relays' records may go on arriving all along. */
static int settle(struct dedupe *d, rd_kafka_t *c, struct scan *sc,
                  const atomic_int *stop, char *err, size_t errlen)
{
    if (read_round(d, c, sc, stop, err, errlen) < 0)
        return -1;
    for (int round = 0; round < SETTLE_ROUNDS; round++) {
        usleep(SETTLE_MS * 1000);
        long n = read_round(d, c, sc, stop, err, errlen);
        if (n <= 0)
            return (int)n;
    }
    snprintf(err, errlen, "records of relay '%s' keep arriving: is another "
             "relay with the same name running?", d->name);
    return -1;
}

/* For every partition read: where the next scan may start. */
static int note_found(const struct dedupe *d, const struct scan *sc,
                      struct koffsets *found)
{
    for (int i = 0; i < sc->parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &sc->parts->elems[i];
        int64_t first = sc->ends[i];
        for (size_t k = 0; k < d->cap; k++) {
            const struct landed *l = &d->set[k];
            if (l->row && l->partition == tp->partition &&
                l->offset < first && strcmp(l->topic, tp->topic) == 0)
                first = l->offset;
        }
        if (koff_raise(found, tp->topic, tp->partition, first) < 0)
            return -1;
    }
    return 0;
}

static struct dedupe *dedupe_new(const char *name,
                                 const struct relay_position *checkpoint,
                                 int ntopics)
{
    struct dedupe *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->checkpoint = checkpoint;
    d->name = strdup(name);
    d->topics = calloc((size_t)ntopics + 1, sizeof *d->topics);
    if (!d->name || !d->topics || grow(d) < 0) {
        dedupe_free(d);
        return NULL;
    }
    return d;
}

static int scan_topics(struct dedupe *d, rd_kafka_t *c,
                       const struct rd_kafka_metadata *md,
                       const struct relay_cfg *cfg,
                       const struct outbox_table *tables, size_t ntables,
                       const struct dedupe_from *from, struct koffsets *found,
                       const atomic_int *stop, char *err, size_t errlen)
{
    struct scan sc = {rd_kafka_topic_partition_list_new(64), NULL, 0};
    int rc = 0;
    for (int i = 0; rc == 0 && i < md->topic_cnt; i++)
        if (md->topics[i].err == 0 &&
            wanted(cfg, tables, ntables, md->topics[i].topic))
            rc = add_topic(d, c, &md->topics[i], from, &sc, stop, err, errlen);
    if (rc == 0)
        rc = settle(d, c, &sc, stop, err, errlen);
    if (rc == 0 && note_found(d, &sc, found) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(sc.parts);
    free(sc.ends);
    return rc;
}

struct dedupe *dedupe_load(const struct relay_cfg *cfg,
                           const struct outbox_table *tables, size_t ntables,
                           const struct dedupe_from *from,
                           struct koffsets *found, const atomic_int *stop,
                           char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    struct dedupe *d = NULL;
    rd_kafka_t *c = kscan_consumer_new(&cfg->kafka, err, errlen);
    if (!c || kscan_all_topics(c, &md, TIMEOUT_MS, stop, err, errlen) < 0)
        goto out;
    if (!(d = dedupe_new(cfg->name, from->checkpoint, md->topic_cnt))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (scan_topics(d, c, md, cfg, tables, ntables, from, found, stop, err,
                    errlen) < 0) {
        dedupe_free(d);
        d = NULL;
    }
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    if (c) {
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
    }
    if (d)
        log_info("dedupe", "%zu topics read back; %zu rows of relay '%s' "
                 "already landed after the checkpoint", d->ntopics,
                 d->pending, cfg->name);
    return d;
}
