/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-verify: checks what an independent consumer (kcat) read from
 * Kafka against the expect file of outbox-load.
 *
 *   kcat -C -b BROKERS -G/-t ... -e -f '%t %p %o %K %S %h\n%k%s\n' > dump
 *   outbox-verify --expect FILE --dump dump [--exactly-once]
 *
 * Every expected event must be there with the right topic, key, type
 * header and payload (length and FNV-1a hash); no other event may be
 * there (rolled-back rows); for each topic and key, the first appearances
 * must keep the expected order. With --exactly-once, each event must appear once.
 * An expected key of "*" (a dead letter, keyed by its source position)
 * matches any key and has no order to keep.
 * Prints one summary line ("N passed, M failed" style) and exits 0 only
 * when everything holds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct exp {
    char id[40], topic[64], key[16], type[32];
    size_t len;
    uint64_t fnv;
    long key_rank; /* position among events of the same key */
    int seen;
};

/* Kafka keeps order per partition: per topic and key. */
struct keyorder {
    char key[96];
    long next_rank; /* rank of the next first appearance we expect */
};

static int cmp_exp(const void *a, const void *b)
{
    return strcmp(((const struct exp *)a)->id, ((const struct exp *)b)->id);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static struct keyorder keys[4096];
static size_t nkeys;

static struct keyorder *key_slot(const char *topic, const char *key)
{
    char k[96];
    snprintf(k, sizeof k, "%s/%s", topic, key);
    for (size_t i = 0; i < nkeys; i++)
        if (strcmp(keys[i].key, k) == 0)
            return &keys[i];
    if (nkeys == sizeof keys / sizeof keys[0]) {
        fprintf(stderr, "outbox-verify: too many keys\n");
        exit(2);
    }
    snprintf(keys[nkeys].key, sizeof keys[nkeys].key, "%s", k);
    return &keys[nkeys++];
}

static struct exp *load_expect(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "r");
    size_t cap = 1024;
    struct exp *e = malloc(cap * sizeof *e);
    char line[512];
    if (!fp || !e) {
        perror(path);
        exit(2);
    }
    *n = 0;
    while (fgets(line, sizeof line, fp)) {
        if (*n == cap && !(e = realloc(e, (cap *= 2) * sizeof *e)))
            exit(2);
        struct exp *x = &e[*n];
        memset(x, 0, sizeof *x);
        if (sscanf(line, "%39s\t%63s\t%15s\t%31s\t%zu\t%" SCNx64, x->id,
                   x->topic, x->key, x->type, &x->len, &x->fnv) != 6) {
            fprintf(stderr, "outbox-verify: bad expect line: %s", line);
            exit(2);
        }
        x->key_rank = key_slot(x->topic, x->key)->next_rank++;
        (*n)++;
    }
    fclose(fp);
    for (size_t i = 0; i < nkeys; i++)
        keys[i].next_rank = 0;
    qsort(e, *n, sizeof *e, cmp_exp);
    return e;
}

/* Value of header `name` in kcat's "n=v,n=v" list, copied to out. */
static int header(const char *list, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = strcspn(p + nl + 1, ",");
            snprintf(out, cap, "%.*s", (int)vl, p + nl + 1);
            return 1;
        }
    }
    return 0;
}

struct tally {
    long records, dup, unexpected, bad, order;
};

static void check_record(struct exp *e, size_t n, const char *topic,
                         const char *hdrs, const char *key, const char *val,
                         long vlen, struct tally *t)
{
    struct exp probe;
    char type[64];
    if (!header(hdrs, "id", probe.id, sizeof probe.id)) {
        t->unexpected++;
        return;
    }
    struct exp *x = bsearch(&probe, e, n, sizeof *e, cmp_exp);
    if (!x) {
        if (t->unexpected++ < 5)
            fprintf(stderr, "unexpected event %s on %s\n", probe.id, topic);
        return;
    }
    if (x->seen++) {
        t->dup++;
        return;
    }
    /* kcat shows a null header value as NULL (never an event type here). */
    int has_type = header(hdrs, "type", type, sizeof type) && type[0] &&
                   strcmp(type, "NULL") != 0;
    int type_ok = strcmp(x->type, "\\N") == 0 ? !has_type
                                             : has_type && !strcmp(type, x->type);
    int any_key = strcmp(x->key, "*") == 0;
    if (strcmp(topic, x->topic) || (!any_key && strcmp(key, x->key)) || !type_ok ||
        vlen < 0 || (size_t)vlen != x->len || fnv1a(val, (size_t)vlen) != x->fnv) {
        if (t->bad++ < 5)
            fprintf(stderr, "wrong record for %s: topic %s key %s type %s len %ld\n",
                    x->id, topic, key, has_type ? type : "-", vlen);
    }
    if (any_key)
        return;
    struct keyorder *k = key_slot(x->topic, x->key);
    if (x->key_rank != k->next_rank && t->order++ < 5)
        fprintf(stderr, "order broken for key %s at %s\n", x->key, x->id);
    k->next_rank = x->key_rank + 1;
}

static char *read_n(FILE *fp, long n)
{
    char *b = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!b || (n > 0 && fread(b, 1, (size_t)n, fp) != (size_t)n)) {
        fprintf(stderr, "outbox-verify: truncated dump\n");
        exit(2);
    }
    b[n > 0 ? n : 0] = '\0';
    return b;
}

int main(int argc, char **argv)
{
    const char *expect = NULL, *dump = NULL;
    int exactly = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect") && i + 1 < argc)
            expect = argv[++i];
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump = argv[++i];
        else if (!strcmp(argv[i], "--exactly-once"))
            exactly = 1;
        else
            expect = NULL, i = argc;
    }
    if (!expect || !dump) {
        fprintf(stderr, "usage: outbox-verify --expect FILE --dump FILE "
                        "[--exactly-once]\n");
        return 2;
    }
    size_t n;
    struct exp *e = load_expect(expect, &n);
    FILE *fp = fopen(dump, "rb");
    if (!fp) {
        perror(dump);
        return 2;
    }
    struct tally t = {0};
    char line[8192], topic[256], hdrs[4096];
    int part;
    long off, klen, vlen;
    while (fgets(line, sizeof line, fp)) {
        hdrs[0] = '\0';
        if (sscanf(line, "%255s %d %ld %ld %ld %4095s", topic, &part, &off,
                   &klen, &vlen, hdrs) < 5) {
            fprintf(stderr, "outbox-verify: bad dump line: %.100s\n", line);
            return 2;
        }
        char *key = read_n(fp, klen), *val = read_n(fp, vlen);
        fgetc(fp); /* the newline after the payload */
        t.records++;
        check_record(e, n, topic, hdrs, key, val, vlen, &t);
        free(key);
        free(val);
    }
    fclose(fp);
    long missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += !e[i].seen;
    long failed = missing + t.unexpected + t.bad + t.order + (exactly ? t.dup : 0);
    printf("outbox-verify: %zu expected, %ld records read, %ld missing, "
           "%ld duplicates, %ld unexpected, %ld wrong, %ld out of order\n",
           n, t.records, missing, t.dup, t.unexpected, t.bad, t.order);
    free(e);
    return failed ? 1 : 0;
}
