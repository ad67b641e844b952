/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GTID bookkeeping for both server dialects. MariaDB's state is tiny (one
 * entry per domain); MySQL's is an interval set per uuid, kept sorted and
 * merged so that a long-running relay holds "uuid:1-1000000", not a
 * million entries.
 */
#include "common/position.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pos_init(struct relay_position *p) { memset(p, 0, sizeof *p); }

void pos_free(struct relay_position *p)
{
    for (size_t i = 0; i < p->nmy; i++)
        free(p->my[i].iv);
    free(p->my);
    free(p->md);
    pos_init(p);
}

int pos_copy(struct relay_position *dst, const struct relay_position *src)
{
    pos_free(dst);
    *dst = *src;
    dst->md = NULL;
    dst->my = NULL;
    dst->nmd = dst->mdcap = dst->nmy = dst->mycap = 0;
    if (src->nmd) {
        dst->md = malloc(src->nmd * sizeof *dst->md);
        if (!dst->md)
            return -1;
        memcpy(dst->md, src->md, src->nmd * sizeof *dst->md);
        dst->nmd = dst->mdcap = src->nmd;
    }
    if (src->nmy) {
        dst->my = calloc(src->nmy, sizeof *dst->my);
        if (!dst->my)
            return -1;
        dst->mycap = src->nmy;
        for (size_t i = 0; i < src->nmy; i++) {
            const struct pos_my_sid *s = &src->my[i];
            struct pos_my_sid *d = &dst->my[i];
            *d = *s;
            d->iv = malloc((s->niv ? s->niv : 1) * sizeof *d->iv);
            if (!d->iv)
                return -1;
            memcpy(d->iv, s->iv, s->niv * sizeof *d->iv);
            d->cap = s->niv;
            dst->nmy++;
        }
    }
    return 0;
}

void pos_set_file(struct relay_position *p, const char *file, uint64_t offset)
{
    snprintf(p->file, sizeof p->file, "%s", file);
    p->offset = offset;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    while (ncap < need)
        ncap *= 2;
    void *n = realloc(*arr, ncap * elem);
    if (!n)
        return -1;
    *arr = n;
    *cap = ncap;
    return 0;
}

int pos_add_mariadb(struct relay_position *p, uint32_t domain,
                    uint32_t server, uint64_t seq)
{
    if (p->kind == POS_GTID_MYSQL)
        return -1;
    p->kind = POS_GTID_MARIADB;
    for (size_t i = 0; i < p->nmd; i++) {
        if (p->md[i].domain == domain) {
            p->md[i].server = server;
            p->md[i].seq = seq;
            return 0;
        }
    }
    if (grow((void **)&p->md, &p->mdcap, p->nmd + 1, sizeof *p->md) < 0)
        return -1;
    size_t at = p->nmd; /* kept sorted by domain for a stable text form */
    while (at > 0 && p->md[at - 1].domain > domain) {
        p->md[at] = p->md[at - 1];
        at--;
    }
    p->md[at] = (struct pos_md_domain){domain, server, seq};
    p->nmd++;
    return 0;
}

static struct pos_my_sid *find_sid(const struct relay_position *p,
                                   const uint8_t uuid[16], const char *tag)
{
    for (size_t i = 0; i < p->nmy; i++)
        if (memcmp(p->my[i].uuid, uuid, 16) == 0 &&
            strcmp(p->my[i].tag, tag ? tag : "") == 0)
            return &p->my[i];
    return NULL;
}

static struct pos_my_sid *add_sid(struct relay_position *p,
                                  const uint8_t uuid[16], const char *tag)
{
    if (grow((void **)&p->my, &p->mycap, p->nmy + 1, sizeof *p->my) < 0)
        return NULL;
    struct pos_my_sid *s = &p->my[p->nmy++];
    memset(s, 0, sizeof *s);
    memcpy(s->uuid, uuid, 16);
    snprintf(s->tag, sizeof s->tag, "%s", tag ? tag : "");
    return s;
}

/* Inserts [first, last] into the sorted, disjoint interval list. */
static int add_interval(struct pos_my_sid *s, uint64_t first, uint64_t last)
{
    size_t i = 0;
    while (i < s->niv && s->iv[i].last + 1 < first)
        i++;
    if (i < s->niv && s->iv[i].first <= last + 1) { /* overlaps or touches */
        if (first < s->iv[i].first)
            s->iv[i].first = first;
        if (last > s->iv[i].last)
            s->iv[i].last = last;
        while (i + 1 < s->niv && s->iv[i + 1].first <= s->iv[i].last + 1) {
            if (s->iv[i + 1].last > s->iv[i].last)
                s->iv[i].last = s->iv[i + 1].last;
            memmove(&s->iv[i + 1], &s->iv[i + 2],
                    (s->niv - i - 2) * sizeof *s->iv);
            s->niv--;
        }
        return 0;
    }
    if (grow((void **)&s->iv, &s->cap, s->niv + 1, sizeof *s->iv) < 0)
        return -1;
    memmove(&s->iv[i + 1], &s->iv[i], (s->niv - i) * sizeof *s->iv);
    s->iv[i] = (struct pos_interval){first, last};
    s->niv++;
    return 0;
}

static int add_mysql_range(struct relay_position *p, const uint8_t uuid[16],
                           const char *tag, uint64_t first, uint64_t last)
{
    if (p->kind == POS_GTID_MARIADB || first == 0 || last < first)
        return -1;
    p->kind = POS_GTID_MYSQL;
    struct pos_my_sid *s = find_sid(p, uuid, tag);
    if (!s && !(s = add_sid(p, uuid, tag)))
        return -1;
    return add_interval(s, first, last);
}

int pos_add_mysql(struct relay_position *p, const uint8_t uuid[16],
                  const char *tag, uint64_t gno)
{
    return add_mysql_range(p, uuid, tag, gno, gno);
}

int pos_mysql_contains(const struct relay_position *p, const uint8_t uuid[16],
                       const char *tag, uint64_t gno)
{
    const struct pos_my_sid *s = find_sid(p, uuid, tag);
    for (size_t i = 0; s && i < s->niv; i++)
        if (gno >= s->iv[i].first && gno <= s->iv[i].last)
            return 1;
    return 0;
}

int pos_mysql_subset(const struct relay_position *a,
                     const struct relay_position *b)
{
    for (size_t i = 0; i < a->nmy; i++) {
        const struct pos_my_sid *sa = &a->my[i];
        const struct pos_my_sid *sb = find_sid(b, sa->uuid, sa->tag);
        for (size_t k = 0; k < sa->niv; k++) {
            /* b's intervals are disjoint and merged: one must hold it all */
            size_t j = 0;
            while (sb && j < sb->niv && sb->iv[j].last < sa->iv[k].first)
                j++;
            if (!sb || j == sb->niv || sb->iv[j].first > sa->iv[k].first ||
                sb->iv[j].last < sa->iv[k].last)
                return 0;
        }
    }
    return 1;
}

/* Is D-S-N held by a gtid_binlog_state text (D-S-M with M >= N)? */
static int mariadb_state_holds(const char *state, const struct pos_md_domain *d)
{
    const char *s = state;
    while (*s) {
        char *end;
        unsigned long long v[3];
        for (int i = 0; i < 3; i++) {
            s += strspn(s, " \t\r\n");
            if (!isdigit((unsigned char)*s))
                return -1;
            v[i] = strtoull(s, &end, 10);
            s = end;
            if (i < 2 && *s++ != '-')
                return -1;
        }
        if (v[0] == d->domain && v[1] == d->server && v[2] >= d->seq)
            return 1;
        s += strspn(s, " \t\r\n");
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

/* A MySQL GTID set as the server prints it: MySQL breaks long ones after
 * the commas. */
static int parse_server_set(struct relay_position *h, const char *text)
{
    size_t n = strlen(text), k = 0;
    char *flat = malloc(n + 1);
    if (!flat)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)text[i]))
            flat[k++] = text[i];
    flat[k] = '\0';
    char err[64];
    int rc = k ? pos_parse_gtid(h, flat, err, sizeof err) : 0;
    free(flat);
    return rc < 0 || (k && h->kind != POS_GTID_MYSQL) ? -1 : 0;
}

int pos_history_covers(const char *history, const struct relay_position *p)
{
    if (p->kind == POS_GTID_MARIADB) {
        for (size_t i = 0; i < p->nmd; i++) {
            int held = mariadb_state_holds(history, &p->md[i]);
            if (held <= 0)
                return held;
        }
        return 1;
    }
    if (p->kind != POS_GTID_MYSQL)
        return 1;
    struct relay_position h;
    pos_init(&h);
    int rc = parse_server_set(&h, history);
    if (rc == 0)
        rc = pos_mysql_subset(p, &h);
    pos_free(&h);
    return rc;
}

/* ---- text forms ------------------------------------------------------- */

struct out {
    char *buf;
    size_t len, n;
    int overflow;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(o->buf + o->n, o->n < o->len ? o->len - o->n : 0, fmt,
                      ap);
    va_end(ap);
    if (w < 0 || o->n + (size_t)w >= o->len)
        o->overflow = 1;
    else
        o->n += (size_t)w;
}

static void put_uuid(struct out *o, const uint8_t u[16])
{
    for (int i = 0; i < 16; i++)
        put(o, "%s%02x", (i == 4 || i == 6 || i == 8 || i == 10) ? "-" : "",
            u[i]);
}

int pos_format_gtid(const struct relay_position *p, char *buf, size_t len)
{
    struct out o = {buf, len, 0, 0};
    if (len == 0)
        return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < p->nmd; i++)
        put(&o, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64, i ? "," : "",
            p->md[i].domain, p->md[i].server, p->md[i].seq);
    for (size_t i = 0; i < p->nmy; i++) {
        const struct pos_my_sid *s = &p->my[i];
        if (i)
            put(&o, ",");
        put_uuid(&o, s->uuid);
        if (s->tag[0])
            put(&o, ":%s", s->tag);
        for (size_t j = 0; j < s->niv; j++) {
            if (s->iv[j].first == s->iv[j].last)
                put(&o, ":%" PRIu64, s->iv[j].first);
            else
                put(&o, ":%" PRIu64 "-%" PRIu64, s->iv[j].first,
                    s->iv[j].last);
        }
    }
    return o.overflow ? -1 : (int)o.n;
}

static int parse_u64(const char **s, uint64_t *v)
{
    char *end;
    if (!isdigit((unsigned char)**s))
        return -1;
    errno = 0;
    unsigned long long x = strtoull(*s, &end, 10);
    if (errno)
        return -1;
    *v = x;
    *s = end;
    return 0;
}

static int parse_mariadb(struct relay_position *p, const char *s)
{
    while (*s) {
        uint64_t d, srv, seq;
        if (parse_u64(&s, &d) < 0 || *s++ != '-' || parse_u64(&s, &srv) < 0 ||
            *s++ != '-' || parse_u64(&s, &seq) < 0 || d > UINT32_MAX ||
            srv > UINT32_MAX)
            return -1;
        if (pos_add_mariadb(p, (uint32_t)d, (uint32_t)srv, seq) < 0)
            return -1;
        if (*s == ',' && s[1])
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

static int parse_uuid(const char **s, uint8_t u[16])
{
    int nib = 0;
    const char *c = *s;
    for (; nib < 32 && *c; c++) {
        if (*c == '-')
            continue;
        if (!isxdigit((unsigned char)*c))
            return -1;
        int v = isdigit((unsigned char)*c) ? *c - '0'
                                           : tolower((unsigned char)*c) - 'a' + 10;
        if (nib % 2 == 0)
            u[nib / 2] = (uint8_t)(v << 4);
        else
            u[nib / 2] |= (uint8_t)v;
        nib++;
    }
    if (nib != 32 || c - *s != 36)
        return -1;
    *s = c;
    return 0;
}

/* One "uuid(:tag|:N|:N-M)+" element. */
static int parse_mysql_sid(struct relay_position *p, const char **sp)
{
    const char *s = *sp;
    uint8_t uuid[16];
    char tag[33] = "";
    int ranges = 0;
    if (parse_uuid(&s, uuid) < 0)
        return -1;
    while (*s == ':') {
        s++;
        if (!isdigit((unsigned char)*s)) { /* a tag; MySQL folds case */
            size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
            if (n == 0 || n >= sizeof tag)
                return -1;
            for (size_t i = 0; i < n; i++)
                tag[i] = (char)tolower((unsigned char)s[i]);
            tag[n] = '\0';
            s += n;
            continue;
        }
        uint64_t first, last;
        if (parse_u64(&s, &first) < 0)
            return -1;
        last = first;
        if (*s == '-' && (s++, parse_u64(&s, &last) < 0))
            return -1;
        if (add_mysql_range(p, uuid, tag, first, last) < 0)
            return -1;
        ranges++;
    }
    *sp = s;
    return ranges ? 0 : -1;
}

static int parse_mysql(struct relay_position *p, const char *s)
{
    while (*s) {
        if (parse_mysql_sid(p, &s) < 0)
            return -1;
        if (*s == ',' && s[1])
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

int pos_parse_gtid(struct relay_position *p, const char *s, char *err,
                   size_t errlen)
{
    /* A MySQL set starts with a uuid; a MariaDB list with a number. */
    int is_mysql = strlen(s) > 36 && s[8] == '-' && s[13] == '-';
    int rc = !*s ? -1 : is_mysql ? parse_mysql(p, s) : parse_mariadb(p, s);
    if (rc < 0)
        snprintf(err, errlen, "not a GTID set: \"%s\"", s);
    return rc;
}

int pos_format(const struct relay_position *p, char *buf, size_t len)
{
    int n = snprintf(buf, len, "v1 file=%s pos=%" PRIu64 " gtid=",
                     p->file[0] ? p->file : "-", p->offset);
    if (n < 0 || (size_t)n >= len)
        return -1;
    int g = pos_format_gtid(p, buf + n, len - (size_t)n);
    if (g < 0)
        return -1;
    n += g;
    if (!p->server[0])
        return n;
    int w = snprintf(buf + n, len - (size_t)n, " server=%s", p->server);
    return w < 0 || (size_t)w >= len - (size_t)n ? -1 : n + w;
}

/* The " server=S" after the GTID state, if any. */
static int parse_server(struct relay_position *p, const char *s, char *err,
                        size_t errlen)
{
    size_t n;
    s += strspn(s, " ");
    if (!*s || *s == '\r' || *s == '\n')
        return 0;
    if (strncmp(s, "server=", 7) != 0 ||
        (n = strcspn(s + 7, " \r\n")) == 0 || n >= sizeof p->server) {
        snprintf(err, errlen, "not a position: \"%.80s\"", s);
        return -1;
    }
    memcpy(p->server, s + 7, n);
    p->server[n] = '\0';
    return 0;
}

int pos_parse(struct relay_position *p, const char *s, char *err,
              size_t errlen)
{
    char file[256];
    unsigned long long off;
    int used = 0;
    pos_free(p);
    if (sscanf(s, "v1 file=%255s pos=%llu gtid=%n", file, &off, &used) != 2 ||
        used == 0) {
        snprintf(err, errlen, "not a position: \"%.80s\"", s);
        return -1;
    }
    if (strcmp(file, "-") != 0)
        pos_set_file(p, file, off);
    const char *g = s + used;
    char gtid[POS_TEXT_MAX];
    size_t glen = strcspn(g, " \r\n");
    if (glen >= sizeof gtid) {
        snprintf(err, errlen, "GTID state too long");
        return -1;
    }
    memcpy(gtid, g, glen);
    gtid[glen] = '\0';
    if (glen && pos_parse_gtid(p, gtid, err, errlen) < 0)
        return -1;
    return parse_server(p, g + glen, err, errlen);
}
