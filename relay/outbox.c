/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/outbox.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* "outbox.event.${aggregatetype}" -> [("outbox.event.", aggregatetype)];
 * a trailing literal gets a part with column NULL. */
static int parse_template(struct outbox_table *t, const char *tpl)
{
    size_t cap = 1;
    for (const char *p = tpl; *p; p++)
        cap += p[0] == '$' && p[1] == '{';
    if (!(t->parts = calloc(cap + 1, sizeof *t->parts)))
        return -1;
    const char *lit = tpl;
    for (const char *p = tpl; *p;) {
        if (p[0] != '$' || p[1] != '{') {
            p++;
            continue;
        }
        const char *end = strchr(p, '}'); /* checked by the config */
        struct outbox_tpl_part *part = &t->parts[t->nparts++];
        part->literal = dup_n(lit, (size_t)(p - lit));
        part->column = dup_n(p + 2, (size_t)(end - p - 2));
        if (!part->literal || !part->column)
            return -1;
        p = lit = end + 1;
    }
    if (*lit) {
        struct outbox_tpl_part *part = &t->parts[t->nparts++];
        if (!(part->literal = strdup(lit)))
            return -1;
    }
    return 0;
}

int outbox_table_compile(struct outbox_table *t,
                         const struct relay_table_cfg *cfg, char *err,
                         size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    const char *dot = strchr(cfg->table, '.');
    size_t placeholders = 0;
    for (const char *p = cfg->topic; (p = strstr(p, "${")); p += 2)
        placeholders++;
    if (placeholders > OUTBOX_MAX_HEADERS ||
        cfg->headers.count > OUTBOX_MAX_HEADERS) {
        snprintf(err, errlen, "%s: at most %d headers and placeholders",
                 cfg->table, OUTBOX_MAX_HEADERS);
        return -1;
    }
    t->db = dup_n(cfg->table, (size_t)(dot - cfg->table));
    t->name = strdup(dot + 1);
    if (!t->db || !t->name || parse_template(t, cfg->topic) < 0) {
        outbox_table_free(t);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void outbox_table_free(struct outbox_table *t)
{
    for (size_t i = 0; t->parts && i < t->nparts; i++) {
        free(t->parts[i].literal);
        free(t->parts[i].column);
    }
    free(t->parts);
    free(t->db);
    free(t->name);
    memset(t, 0, sizeof *t);
}

static int find_col(const char *const *names, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], want) == 0)
            return (int)i;
    return -1;
}

static int need_col(const struct outbox_table *t, const char *const *names,
                    size_t n, const char *col, const char *role, int *out,
                    char *err, size_t errlen)
{
    *out = find_col(names, n, col);
    if (*out >= 0)
        return 0;
    snprintf(err, errlen,
             "outbox table %s has no column '%s' (configured as %s)",
             t->cfg->table, col, role);
    return -1;
}

int outbox_layout_resolve(const struct outbox_table *t,
                          const char *const *names, size_t ncols,
                          struct outbox_layout *out, char *err,
                          size_t errlen)
{
    const struct relay_table_cfg *c = t->cfg;
    memset(out, -1, sizeof *out);
    if (need_col(t, names, ncols, c->key_column, "key_column", &out->key,
                 err, errlen) < 0 ||
        need_col(t, names, ncols, c->value_column, "value_column",
                 &out->value, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < t->nparts; i++)
        if (t->parts[i].column &&
            need_col(t, names, ncols, t->parts[i].column,
                     "a topic placeholder", &out->topic[i], err, errlen) < 0)
            return -1;
    for (size_t i = 0; i < c->headers.count; i++)
        if (need_col(t, names, ncols, c->headers.items[i].value,
                     "a header", &out->headers[i], err, errlen) < 0)
            return -1;
    return 0;
}

static int topic_char(unsigned char ch)
{
    return isalnum(ch) || ch == '.' || ch == '_' || ch == '-';
}

/* Renders the topic; -1 with a reason when Kafka would refuse the name. */
static int render_topic(const struct outbox_table *t,
                        const struct outbox_layout *l,
                        const struct outbox_cell *cells, char *buf,
                        char *why, size_t whylen)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nparts; i++) {
        const struct outbox_tpl_part *p = &t->parts[i];
        size_t ll = p->literal ? strlen(p->literal) : 0;
        const struct outbox_cell *c = p->column ? &cells[l->topic[i]] : NULL;
        if (c && c->is_null) {
            snprintf(why, whylen, "column %s of the topic is NULL", p->column);
            return -1;
        }
        size_t add = ll + (c ? c->len : 0);
        if (n + add > OUTBOX_TOPIC_MAX) {
            snprintf(why, whylen, "topic name longer than %d characters",
                     OUTBOX_TOPIC_MAX);
            return -1;
        }
        memcpy(buf + n, p->literal ? p->literal : "", ll);
        if (c)
            memcpy(buf + n + ll, c->data, c->len);
        n += add;
    }
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!topic_char((unsigned char)buf[i])) {
            snprintf(why, whylen, "topic name \"%.*s\" has a character "
                     "Kafka does not allow", (int)n, buf);
            return -1;
        }
    }
    if (n == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0) {
        snprintf(why, whylen, "topic name \"%s\" is not valid", buf);
        return -1;
    }
    return 0;
}

enum outbox_verdict outbox_map_row(const struct outbox_table *t,
                                   const struct outbox_layout *l,
                                   const struct outbox_cell *cells,
                                   char topic_buf[OUTBOX_TOPIC_MAX + 1],
                                   struct sink_header *hdrs,
                                   struct sink_record *rec,
                                   const char **error_type, char *why,
                                   size_t whylen)
{
    const struct relay_table_cfg *c = t->cfg;
    const struct outbox_cell *key = &cells[l->key], *val = &cells[l->value];

    rec->key = key->is_null ? NULL : key->data;
    rec->key_len = key->is_null ? 0 : key->len;
    rec->value = val->is_null ? NULL : val->data; /* NULL: a tombstone */
    rec->value_len = val->is_null ? 0 : val->len;
    rec->headers = hdrs;
    rec->nheaders = c->headers.count;
    for (size_t i = 0; i < c->headers.count; i++) {
        const struct outbox_cell *h = &cells[l->headers[i]];
        hdrs[i].name = c->headers.items[i].key;
        hdrs[i].value = h->is_null ? NULL : h->data;
        hdrs[i].len = h->is_null ? 0 : h->len;
    }
    rec->topic = topic_buf;
    topic_buf[0] = '\0';
    if (key->is_null) {
        *error_type = "null-key";
        snprintf(why, whylen, "column %s (the record key) is NULL",
                 c->key_column);
        return OUTBOX_INVALID;
    }
    if (!val->is_null && (int64_t)val->len > c->max_payload) {
        *error_type = "payload-too-large";
        snprintf(why, whylen, "%s is %zu bytes, over max_payload %lld",
                 c->value_column, val->len, (long long)c->max_payload);
        rec->value = NULL; /* too large for the dead-letter topic too */
        rec->value_len = 0;
        return OUTBOX_INVALID;
    }
    if (render_topic(t, l, cells, topic_buf, why, whylen) < 0) {
        *error_type = "invalid-topic";
        return OUTBOX_INVALID;
    }
    return OUTBOX_OK;
}
