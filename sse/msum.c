/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/msum.h"

#include <event2/buffer.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A few hundred series at most, from a handful of processes: plain
 * arrays and linear search cost less than any table would. */
struct mfam {
    char *name, *help, *type; /* help and type: whole lines, or NULL */
};

struct mser {
    char *key; /* name{labels} */
    size_t fam;
    double value;
    int min;   /* merged by taking the smallest value */
};

struct msum {
    struct mfam *fam;
    size_t nfam, capfam;
    struct mser *ser;
    size_t nser, capser;
};

static const char *const TAKE_MIN[] = {"sse_redis_up", "sse_kafka_partitions",
    "process_start_time_seconds", "outbox_build_info"};

static int takes_min(const char *fam)
{
    for (size_t i = 0; i < sizeof TAKE_MIN / sizeof *TAKE_MIN; i++)
        if (!strcmp(TAKE_MIN[i], fam))
            return 1;
    return 0;
}

struct msum *msum_new(void) { return calloc(1, sizeof(struct msum)); }

void msum_free(struct msum *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfam; i++) {
        free(m->fam[i].name);
        free(m->fam[i].help);
        free(m->fam[i].type);
    }
    for (size_t i = 0; i < m->nser; i++)
        free(m->ser[i].key);
    free(m->fam);
    free(m->ser);
    free(m);
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 32;
    void *p = realloc(*arr, c * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

/* The family named s[0..n), made if new; (size_t)-1 when out of memory. */
static size_t family(struct msum *m, const char *s, size_t n)
{
    for (size_t i = 0; i < m->nfam; i++)
        if (strlen(m->fam[i].name) == n && !memcmp(m->fam[i].name, s, n))
            return i;
    if (grow((void **)&m->fam, &m->capfam, m->nfam, sizeof *m->fam) < 0)
        return (size_t)-1;
    struct mfam *f = &m->fam[m->nfam];
    if (!(f->name = strndup(s, n)))
        return (size_t)-1;
    f->help = f->type = NULL;
    return m->nfam++;
}

/* "# HELP name ..." or "# TYPE name ...": kept once per family. */
static int meta_line(struct msum *m, const char *line, size_t n)
{
    int help = !strncmp(line, "# HELP ", 7);
    if (!help && strncmp(line, "# TYPE ", 7))
        return 0; /* another comment */
    const char *name = line + 7, *end = memchr(name, ' ', n - 7);
    size_t f = family(m, name, end ? (size_t)(end - name) : n - 7);
    if (f == (size_t)-1)
        return -1;
    char **slot = help ? &m->fam[f].help : &m->fam[f].type;
    if (!*slot && !(*slot = strndup(line, n)))
        return -1;
    return 0;
}

static int sample_line(struct msum *m, const char *line, size_t n)
{
    const char *sp = NULL;
    for (size_t i = n; i > 0; i--)
        if (line[i - 1] == ' ') {
            sp = line + i - 1;
            break;
        }
    if (!sp || sp == line)
        return 0;
    char num[64];
    size_t vl = n - (size_t)(sp + 1 - line);
    if (vl == 0 || vl >= sizeof num)
        return 0;
    memcpy(num, sp + 1, vl);
    num[vl] = '\0';
    char *end;
    double v = strtod(num, &end);
    if (*end)
        return 0;
    size_t kl = (size_t)(sp - line);
    for (size_t i = 0; i < m->nser; i++) {
        struct mser *s = &m->ser[i];
        if (strlen(s->key) == kl && !memcmp(s->key, line, kl)) {
            s->value = s->min ? fmin(s->value, v) : s->value + v;
            return 0;
        }
    }
    const char *brace = memchr(line, '{', kl);
    size_t f = family(m, line, brace ? (size_t)(brace - line) : kl);
    if (f == (size_t)-1 ||
        grow((void **)&m->ser, &m->capser, m->nser, sizeof *m->ser) < 0)
        return -1;
    struct mser *s = &m->ser[m->nser];
    if (!(s->key = strndup(line, kl)))
        return -1;
    s->fam = f;
    s->value = v;
    s->min = takes_min(m->fam[f].name);
    m->nser++;
    return 0;
}

int msum_add(struct msum *m, const char *text, size_t len)
{
    for (size_t at = 0; at < len;) {
        const char *line = text + at, *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + 1;
        if (n == 0)
            continue;
        int rc = line[0] == '#' ? meta_line(m, line, n) : sample_line(m, line, n);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static void value(struct evbuffer *out, double v)
{
    if (fabs(v) < 9e15 && v == (double)(int64_t)v)
        evbuffer_add_printf(out, "%lld", (long long)v);
    else
        evbuffer_add_printf(out, "%.17g", v);
}

void msum_render(const struct msum *m, struct evbuffer *out)
{
    for (size_t f = 0; f < m->nfam; f++) {
        if (m->fam[f].help)
            evbuffer_add_printf(out, "%s\n", m->fam[f].help);
        if (m->fam[f].type)
            evbuffer_add_printf(out, "%s\n", m->fam[f].type);
        for (size_t i = 0; i < m->nser; i++) {
            if (m->ser[i].fam != f)
                continue;
            evbuffer_add_printf(out, "%s ", m->ser[i].key);
            value(out, m->ser[i].value);
            evbuffer_add(out, "\n", 1);
        }
    }
}
