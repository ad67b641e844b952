#include "relay/dedupe.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "relay/kscan.h"

#define TIMEOUT_MS 10000
#define SETTLE_MS 500
#define SETTLE_ROUNDS 60

struct dtopic {
    char *name;
    int32_t npart;
    struct opos *last; /* per partition */
    uint8_t *has;      /* per partition: last is set */
};

struct dedupe {
    struct dtopic *topics;
    size_t ntopics;
    struct opos max; /* the furthest position of all partitions */
    int any;
};

int opos_file_number(const char *file, uint64_t *out)
{
    const char *dot = strrchr(file, '.'); /* the binlog file's sequence */
    char *end;
    *out = strtoull(dot ? dot + 1 : file, &end, 10);
    return *end ? -1 : 0;
}

int opos_parse(const char *s, size_t len, struct opos *out)
{
    char buf[300];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *c2 = strrchr(buf, ':');
    if (!c2)
        return -1;
    *c2 = '\0';
    char *c1 = strrchr(buf, ':');
    if (!c1)
        return -1;
    *c1 = '\0';
    char *end2, *end3;
    out->offset = strtoull(c1 + 1, &end2, 10);
    unsigned long row = strtoul(c2 + 1, &end3, 10);
    if (opos_file_number(buf, &out->file) < 0 || *end2 || *end3 ||
        row > UINT32_MAX)
        return -1;
    out->row = (uint32_t)row;
    return 0;
}

/* Appends v in decimal at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
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
    p = put_u64(p, offset);
    *p++ = ':';
    p = put_u64(p, row);
    *p = '\0';
    return (int)(p - buf);
}

int opos_cmp(const struct opos *a, const struct opos *b)
{
    if (a->file != b->file)
        return a->file < b->file ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    if (a->row != b->row)
        return a->row < b->row ? -1 : 1;
    return 0;
}

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

static int take_last(const rd_kafka_message_t *m, void *arg)
{
    struct dedupe *d = arg;
    size_t len;
    struct opos pos;
    const void *v = kscan_header(m, "outbox-position", &len);
    if (!v || opos_parse(v, len, &pos) < 0)
        return 0; /* not written by us: nothing to compare with */
    for (size_t i = 0; i < d->ntopics; i++) {
        struct dtopic *t = &d->topics[i];
        if (strcmp(t->name, rd_kafka_topic_name(m->rkt)) != 0 ||
            m->partition < 0 || m->partition >= t->npart)
            continue;
        t->last[m->partition] = pos;
        t->has[m->partition] = 1;
        if (!d->any || opos_cmp(&pos, &d->max) > 0)
            d->max = pos;
        d->any = 1;
    }
    return 0;
}

/* Records the topic and adds its non-empty partitions to `tails`. */
static int add_topic(struct dedupe *d, rd_kafka_t *c,
                     const rd_kafka_metadata_topic_t *mt,
                     rd_kafka_topic_partition_list_t *tails,
                     const atomic_int *stop, char *err, size_t errlen)
{
    struct dtopic *t = &d->topics[d->ntopics];
    t->npart = mt->partition_cnt;
    t->name = strdup(mt->topic);
    t->last = calloc((size_t)t->npart + 1, sizeof *t->last);
    t->has = calloc((size_t)t->npart + 1, 1);
    d->ntopics++;
    if (!t->name || !t->last || !t->has)
        return snprintf(err, errlen, "out of memory"), -1;
    for (int32_t p = 0; p < t->npart; p++) {
        int32_t id = mt->partitions[p].id;
        int64_t low, high;
        if (id < 0 || id >= t->npart ||
            kscan_watermarks(c, t->name, id, &low, &high, TIMEOUT_MS, stop,
                             err, errlen) < 0)
            return -1;
        if (high > low) /* empty partitions have nothing to compare with */
            rd_kafka_topic_partition_list_add(tails, t->name, id)->offset =
                high - 1;
    }
    return 0;
}

/* A relay killed a moment ago may still have produce requests in its
 * socket buffers, which the brokers append after we look. So the ends are
 * read until they hold still for SETTLE_MS; the positions read after that
 * are final. */
static int settle(rd_kafka_t *c, rd_kafka_topic_partition_list_t *tails,
                  const atomic_int *stop, char *err, size_t errlen)
{
    for (int round = 0; round < SETTLE_ROUNDS; round++) {
        int moved = 0;
        usleep(SETTLE_MS * 1000);
        for (int i = 0; i < tails->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &tails->elems[i];
            int64_t low, high;
            if (kscan_watermarks(c, tp->topic, tp->partition, &low, &high,
                                 TIMEOUT_MS, stop, err, errlen) < 0)
                return -1;
            if (high - 1 != tp->offset) {
                tp->offset = high - 1;
                moved = 1;
            }
        }
        if (!moved)
            return 0;
    }
    snprintf(err, errlen, "the topics keep growing: is another relay with "
             "the same name running?");
    return -1;
}

struct dedupe *dedupe_load(const struct relay_cfg *cfg,
                           const struct outbox_table *tables, size_t ntables,
                           const atomic_int *stop, char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *tails = NULL;
    struct dedupe *d = calloc(1, sizeof *d);
    rd_kafka_t *c = kscan_consumer_new(&cfg->kafka, err, errlen);
    if (!d || !c)
        goto fail;
    if (kscan_all_topics(c, &md, TIMEOUT_MS, stop, err, errlen) < 0)
        goto fail;
    d->topics = calloc((size_t)md->topic_cnt + 1, sizeof *d->topics);
    tails = rd_kafka_topic_partition_list_new(16);
    if (!d->topics)
        goto fail;
    for (int i = 0; i < md->topic_cnt; i++)
        if (md->topics[i].err == 0 &&
            wanted(cfg, tables, ntables, md->topics[i].topic) &&
            add_topic(d, c, &md->topics[i], tails, stop, err, errlen) < 0)
            goto fail;
    if (settle(c, tails, stop, err, errlen) < 0 ||
        kscan_tails(c, tails, take_last, d, TIMEOUT_MS, stop, err, errlen) < 0)
        goto fail;
    rd_kafka_topic_partition_list_destroy(tails);
    rd_kafka_metadata_destroy(md);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    if (d->any)
        log_info("dedupe", "%zu topics read back; replayed events up to "
                 "file %" PRIu64 " offset %" PRIu64 " are checked",
                 d->ntopics, d->max.file, d->max.offset);
    return d;
fail:
    if (tails)
        rd_kafka_topic_partition_list_destroy(tails);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (c) {
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
    }
    dedupe_free(d);
    return NULL;
}

int dedupe_active(const struct dedupe *d, const struct opos *pos)
{
    return d && d->any && opos_cmp(pos, &d->max) <= 0;
}

int dedupe_seen(struct dedupe *d, const char *topic, const void *key,
                size_t keylen, const struct opos *pos)
{
    if (!dedupe_active(d, pos) || !key)
        return 0;
    for (size_t i = 0; i < d->ntopics; i++) {
        struct dtopic *t = &d->topics[i];
        if (strcmp(t->name, topic) != 0)
            continue;
        int32_t p = rd_kafka_msg_partitioner_murmur2_random(
            NULL, key, keylen, t->npart, NULL, NULL);
        return p >= 0 && p < t->npart && t->has[p] &&
               opos_cmp(pos, &t->last[p]) <= 0;
    }
    return 0;
}

void dedupe_free(struct dedupe *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->ntopics; i++) {
        free(d->topics[i].name);
        free(d->topics[i].last);
        free(d->topics[i].has);
    }
    free(d->topics);
    free(d);
}
