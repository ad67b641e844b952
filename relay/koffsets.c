/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/koffsets.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

struct kentry {
    char *topic; /* NULL: a free slot */
    int32_t partition;
    int64_t bound;    /* -1 while unknown */
    int64_t last_off; /* the last record noted, and its transaction */
    uint64_t last_seq;
    int has_last;
    uint64_t mark; /* the first record at or past it gives the candidate */
    int64_t cand;  /* -1 until then */
};

struct koffsets {
    struct kentry *slots;
    size_t cap, used; /* cap is a power of two */
};

static uint64_t hash(const char *topic, int32_t partition)
{
    uint32_t part = (uint32_t)partition;
    return hash_fnv1a_more(hash_fnv1a(topic, strlen(topic)), &part, sizeof part);
}

struct koffsets *koff_new(void)
{
    return calloc(1, sizeof(struct koffsets));
}

void koff_free(struct koffsets *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->cap; i++)
        free(k->slots[i].topic);
    free(k->slots);
    free(k);
}

static struct kentry *probe(struct kentry *slots, size_t cap,
                            const char *topic, int32_t partition)
{
    for (size_t i = hash(topic, partition) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slots[i].topic || (slots[i].partition == partition &&
                                strcmp(slots[i].topic, topic) == 0))
            return &slots[i];
}

static int grow(struct koffsets *k)
{
    size_t cap = k->cap ? k->cap * 2 : 64;
    struct kentry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < k->cap; i++)
        if (k->slots[i].topic)
            *probe(slots, cap, k->slots[i].topic, k->slots[i].partition) =
                k->slots[i];
    free(k->slots);
    k->slots = slots;
    k->cap = cap;
    return 0;
}

static const struct kentry *find(const struct koffsets *k, const char *topic,
                                 int32_t partition)
{
    if (!k->cap)
        return NULL;
    const struct kentry *e = probe(k->slots, k->cap, topic, partition);
    return e->topic ? e : NULL;
}

/* The entry of a partition, made when missing; NULL when out of memory. */
static struct kentry *entry(struct koffsets *k, const char *topic,
                            int32_t partition)
{
    if ((k->used + 1) * 2 > k->cap && grow(k) < 0)
        return NULL;
    struct kentry *e = probe(k->slots, k->cap, topic, partition);
    if (e->topic)
        return e;
    if (!(e->topic = strdup(topic)))
        return NULL;
    e->partition = partition;
    e->bound = e->cand = -1;
    k->used++;
    return e;
}

int koff_note(struct koffsets *k, const char *topic, int32_t partition,
              uint64_t seq, int64_t offset)
{
    struct kentry *e = entry(k, topic, partition);
    if (!e)
        return -1;
    e->last_off = offset;
    e->last_seq = seq;
    e->has_last = 1;
    if (e->cand < 0 && seq >= e->mark)
        e->cand = offset;
    return 0;
}

static void raise_to(struct kentry *e, int64_t bound)
{
    if (bound > e->bound)
        e->bound = bound;
}

int koff_raise(struct koffsets *k, const char *topic, int32_t partition,
               int64_t bound)
{
    struct kentry *e = entry(k, topic, partition);
    if (!e)
        return -1;
    raise_to(e, bound);
    return 0;
}

int koff_merge(struct koffsets *k, const struct koffsets *from)
{
    for (size_t i = 0; i < from->cap; i++) {
        const struct kentry *e = &from->slots[i];
        if (e->topic && e->bound >= 0 &&
            koff_raise(k, e->topic, e->partition, e->bound) < 0)
            return -1;
    }
    return 0;
}

void koff_checkpoint(struct koffsets *k, uint64_t head, uint64_t tail)
{
    for (size_t i = 0; i < k->cap; i++) {
        struct kentry *e = &k->slots[i];
        if (!e->topic)
            continue;
        int settled = e->has_last && e->last_seq < head;
        int promoted = e->cand >= 0 && e->mark <= head;
        if (settled)
            raise_to(e, e->last_off + 1);
        else if (promoted)
            raise_to(e, e->cand);
        if (settled || promoted) {
            e->mark = tail;
            e->cand = -1;
        }
    }
}

int64_t koff_bound(const struct koffsets *k, const char *topic,
                   int32_t partition)
{
    const struct kentry *e = find(k, topic, partition);
    return e ? e->bound : -1;
}

char *koff_format(const struct koffsets *k)
{
    size_t cap = 1, len = 0;
    for (size_t i = 0; i < k->cap; i++)
        if (k->slots[i].topic)
            cap += strlen(k->slots[i].topic) + 34; /* "/p@off," */
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < k->cap; i++) {
        const struct kentry *e = &k->slots[i];
        if (e->topic && e->bound >= 0)
            len += (size_t)snprintf(out + len, cap - len, "%s%s/%" PRId32
                                    "@%" PRId64, len ? "," : "", e->topic,
                                    e->partition, e->bound);
    }
    return out;
}

/* One "topic/partition@offset" of length n at s. */
static int parse_one(struct koffsets *k, const char *s, size_t n)
{
    char topic[256];
    const char *slash = memchr(s, '/', n), *at = memchr(s, '@', n);
    if (!slash || !at || at < slash || slash == s ||
        (size_t)(slash - s) >= sizeof topic)
        return -1;
    memcpy(topic, s, (size_t)(slash - s));
    topic[slash - s] = '\0';
    char num[48], *end;
    if ((size_t)(at - slash - 1) >= sizeof num / 2 ||
        (size_t)(s + n - at - 1) >= sizeof num / 2)
        return -1;
    snprintf(num, sizeof num, "%.*s", (int)(at - slash - 1), slash + 1);
    long part = strtol(num, &end, 10);
    if (!num[0] || *end || part < 0 || part > INT32_MAX)
        return -1;
    snprintf(num, sizeof num, "%.*s", (int)(s + n - at - 1), at + 1);
    long long off = strtoll(num, &end, 10);
    if (!num[0] || *end || off < 0)
        return -1;
    return koff_raise(k, topic, (int32_t)part, off);
}

int koff_parse(struct koffsets *k, const char *text, char *err,
               size_t errlen)
{
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, ",");
        if (parse_one(k, s, n) < 0) {
            snprintf(err, errlen, "not a Kafka offset: \"%.*s\"",
                     (int)(n > 80 ? 80 : n), s);
            return -1;
        }
        s += n + (s[n] == ',');
    }
    return 0;
}
