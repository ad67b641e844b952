/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema walker behind cfg.h.
 *
 * libyaml's document API loads the whole file into a node tree first (the
 * files are small), which gives every node its position and resolves
 * anchors and aliases for us. The walk then visits each mapping once:
 * unknown and duplicate keys are reported at the key, bad values at the
 * value, missing required keys and whole-struct checks at the mapping that
 * should have held them. The first error stops the load: later messages
 * would mostly be consequences of the first.
 */
#include "config/cfg.h"

#include "common/admin_http.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define SECRET_FILE_SUFFIX "_file"
#define SECRET_FILE_MAX (64 * 1024)

struct ctx {
    yaml_document_t *doc;
    const char *name;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int
fail(struct ctx *c, yaml_mark_t m, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name, m.line + 1,
                     m.column + 1);
    if (n < 0 || (size_t)n >= c->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- scalars ---------------------------------------------------------- */

static const char *scalar(yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain `~`, `null` or empty scalar means "no value here". */
static bool is_null(yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE ||
        n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = scalar(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0;
}

static const char *node_kind(yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a scalar";
    }
}

/* Replaces each ${NAME} with the environment variable NAME. */
static char *expand_env(struct ctx *c, yaml_mark_t m, const char *key,
                        const char *s)
{
    size_t cap = strlen(s) + 1, len = 0;
    char *out = malloc(cap);
    char var[256]; /* outlives one turn: val may point into it */
    while (out && *s) {
        const char *val = NULL, *start = s;
        size_t vlen = 1;
        if (s[0] == '$' && s[1] == '{') {
            const char *end = strchr(s + 2, '}');
            if (!end) {
                fail(c, m, "'%s': unterminated '${' in value", key);
                goto error;
            }
            size_t n = (size_t)(end - s - 2);
            if (n == 0 || n >= sizeof var) {
                fail(c, m, "'%s': bad environment reference", key);
                goto error;
            }
            memcpy(var, s + 2, n);
            var[n] = '\0';
            char *dflt = strstr(var, ":-"); /* ${NAME:-default} */
            if (dflt)
                *dflt = '\0';
            val = getenv(var);
            if (dflt && (!val || !*val))
                val = dflt + 2;
            if (!val) {
                fail(c, m, "'%s': environment variable '%s' is not set", key,
                     var);
                goto error;
            }
            vlen = strlen(val);
            s = end + 1;
        } else {
            val = start;
            s++;
        }
        if (len + vlen + 1 > cap) {
            cap = (len + vlen + 1) * 2;
            char *grown = realloc(out, cap);
            if (!grown)
                goto error;
            out = grown;
        }
        memcpy(out + len, val, vlen);
        len += vlen;
    }
    if (out)
        out[len] = '\0';
    return out;
error:
    free(out);
    return NULL;
}

int cfg_parse_duration(const char *s, int64_t *ms)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
    };
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0 || !isdigit((unsigned char)s[0]))
        return -1;
    if (*end == '\0') {
        if (v != 0) /* a bare number is ambiguous; only 0 needs no unit */
            return -1;
        *ms = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (v > INT64_MAX / units[i].ms)
                return -1;
            *ms = v * units[i].ms;
            return 0;
        }
    }
    return -1;
}

int cfg_parse_size(const char *s, int64_t *bytes)
{
    static const struct { const char *unit; int64_t mul; } units[] = {
        {"", 1}, {"B", 1},
        {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000},
        {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024 * 1024 * 1024},
    };
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0 || !isdigit((unsigned char)s[0]))
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (v > INT64_MAX / units[i].mul)
                return -1;
            *bytes = v * units[i].mul;
            return 0;
        }
    }
    return -1;
}

static int parse_int(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end || errno || isspace((unsigned char)s[0]))
        return -1;
    *v = x;
    return 0;
}

static int parse_bool(const char *s, bool *v)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *v = true, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *v = false, 0;
    }
    return -1;
}

/* Formats a number of milliseconds or bytes the way a person writes it. */
static void fmt_duration(int64_t ms, char *buf, size_t len)
{
    if (ms != 0 && ms % 3600000 == 0)
        snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
    else if (ms != 0 && ms % 60000 == 0)
        snprintf(buf, len, "%" PRId64 "m", ms / 60000);
    else if (ms != 0 && ms % 1000 == 0)
        snprintf(buf, len, "%" PRId64 "s", ms / 1000);
    else
        snprintf(buf, len, "%" PRId64 "ms", ms);
}

static void fmt_size(int64_t b, char *buf, size_t len)
{
    static const char *const units[] = {"GiB", "MiB", "KiB"};
    for (int i = 0; i < 3; i++) {
        int64_t mul = (int64_t)1 << (10 * (3 - i));
        if (b != 0 && b % mul == 0) {
            snprintf(buf, len, "%" PRId64 "%s", b / mul, units[i]);
            return;
        }
    }
    snprintf(buf, len, "%" PRId64, b);
}

static void fmt_value(const struct cfg_field *f, int64_t v, char *buf,
                      size_t len)
{
    if (f->type == CFG_DURATION)
        fmt_duration(v, buf, len);
    else if (f->type == CFG_SIZE)
        fmt_size(v, buf, len);
    else
        snprintf(buf, len, "%" PRId64, v);
}

void cfg_format_number(const struct cfg_field *f, int64_t v, char *buf,
                       size_t len)
{
    fmt_value(f, v, buf, len);
}

static int check_range(struct ctx *c, yaml_mark_t m, const struct cfg_field *f,
                       int64_t v)
{
    char lo[32], hi[32], got[32];
    if (f->min == 0 && f->max == 0)
        return 0;
    if (v >= f->min && v <= f->max)
        return 0;
    fmt_value(f, f->min, lo, sizeof lo);
    fmt_value(f, f->max, hi, sizeof hi);
    fmt_value(f, v, got, sizeof got);
    return fail(c, m, "'%s' must be between %s and %s (got %s)", f->key, lo,
                hi, got);
}

static void choices_text(const char *const *ch, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; ch[i] && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", ch[i]);
}

/* Shows a user's value in a message; secrets are never echoed. */
static const char *shown(const struct cfg_field *f, const char *v)
{
    return (f->flags & CFG_F_SECRET) ? "***" : v;
}

static int set_number(struct ctx *c, yaml_mark_t m, const struct cfg_field *f,
                      const char *v, int64_t *dst)
{
    static const char *const what[] = {
        [CFG_INT] = "an integer",
        [CFG_DURATION] = "a duration like 250ms, 5s, 2m or 1h",
        [CFG_SIZE] = "a size like 512, 64KiB, 30MiB or 1GB",
    };
    int rc = f->type == CFG_INT        ? parse_int(v, dst)
             : f->type == CFG_DURATION ? cfg_parse_duration(v, dst)
                                       : cfg_parse_size(v, dst);
    if (rc < 0)
        return fail(c, m, "'%s' must be %s (got \"%s\")", f->key,
                    what[f->type], shown(f, v));
    return check_range(c, m, f, *dst);
}

static int set_enum(struct ctx *c, yaml_mark_t m, const struct cfg_field *f,
                    const char *v, int *dst)
{
    char list[256];
    for (int i = 0; f->choices[i]; i++) {
        if (strcmp(v, f->choices[i]) == 0) {
            *dst = i;
            return 0;
        }
    }
    choices_text(f->choices, list, sizeof list);
    return fail(c, m, "'%s' must be one of %s (got \"%s\")", f->key, list, v);
}

/* Parses one scalar value (from the file or from a default) into place. */
static int set_scalar(struct ctx *c, yaml_mark_t m, const struct cfg_field *f,
                      const char *v, void *obj)
{
    void *dst = (char *)obj + f->offset;
    switch (f->type) {
    case CFG_STR: {
        char **s = dst;
        free(*s);
        *s = strdup(v);
        return *s ? 0 : fail(c, m, "out of memory");
    }
    case CFG_INT:
    case CFG_DURATION:
    case CFG_SIZE:
        return set_number(c, m, f, v, dst);
    case CFG_BOOL:
        if (parse_bool(v, dst) < 0)
            return fail(c, m, "'%s' must be true or false (got \"%s\")",
                        f->key, v);
        return 0;
    case CFG_ENUM:
        return set_enum(c, m, f, v, dst);
    default:
        return fail(c, m, "'%s' must be %s, not a scalar", f->key,
                    f->type == CFG_SECTION ? "a mapping" : "a list or mapping");
    }
}

static int read_secret_file(struct ctx *c, yaml_mark_t m, const char *key,
                            const char *path, char **out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return fail(c, m, "'%s': cannot read %s: %s", key, path,
                    strerror(errno));
    char *buf = malloc(SECRET_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, SECRET_FILE_MAX + 1, fp) : 0;
    int rerr = ferror(fp);
    fclose(fp);
    if (!buf || rerr || n > SECRET_FILE_MAX) {
        free(buf);
        return fail(c, m, "'%s': cannot read %s: %s", key, path,
                    rerr ? "read error" : "larger than 64 KiB");
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (n == 0 || memchr(buf, '\0', n)) {
        free(buf);
        return fail(c, m, "'%s': %s is empty or holds a NUL byte", key, path);
    }
    *out = buf;
    return 0;
}

/* ---- walking the tree ------------------------------------------------- */

static int walk_section(struct ctx *c, const struct cfg_schema *s,
                        yaml_node_t *map, yaml_mark_t at, void *obj);

static int set_strlist(struct ctx *c, const struct cfg_field *f,
                       yaml_node_t *n, void *obj)
{
    struct cfg_strlist *l = (struct cfg_strlist *)((char *)obj + f->offset);
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(c, n->start_mark, "'%s' must be a list, not %s", f->key,
                    node_kind(n));
    size_t cnt = (size_t)(n->data.sequence.items.top -
                          n->data.sequence.items.start);
    l->items = calloc(cnt ? cnt : 1, sizeof *l->items);
    if (!l->items)
        return fail(c, n->start_mark, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it =
            yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
        if (it->type != YAML_SCALAR_NODE)
            return fail(c, it->start_mark, "items of '%s' must be scalars",
                        f->key);
        l->items[i] = (f->flags & CFG_F_TEMPLATE)
                          ? strdup(scalar(it))
                          : expand_env(c, it->start_mark, f->key, scalar(it));
        if (!l->items[i])
            return -1;
        l->count++;
    }
    if ((int64_t)cnt < f->min)
        return fail(c, n->start_mark, "'%s' needs at least %" PRId64 " item%s",
                    f->key, f->min, f->min == 1 ? "" : "s");
    return 0;
}

static int check_duplicate(struct ctx *c, yaml_node_pair_t *first,
                           yaml_node_pair_t *pair)
{
    yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
    for (yaml_node_pair_t *p = first; p < pair; p++) {
        yaml_node_t *prev = yaml_document_get_node(c->doc, p->key);
        if (prev->type == YAML_SCALAR_NODE &&
            strcmp(scalar(prev), scalar(k)) == 0)
            return fail(c, k->start_mark,
                        "duplicate key '%s' (first defined at line %zu)",
                        scalar(k), prev->start_mark.line + 1);
    }
    return 0;
}

static int set_map(struct ctx *c, const struct cfg_field *f, yaml_node_t *n,
                   void *obj)
{
    struct cfg_map *mp = (struct cfg_map *)((char *)obj + f->offset);
    if (n->type != YAML_MAPPING_NODE)
        return fail(c, n->start_mark, "'%s' must be a mapping, not %s",
                    f->key, node_kind(n));
    yaml_node_pair_t *first = n->data.mapping.pairs.start;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - first);
    mp->items = calloc(cnt ? cnt : 1, sizeof *mp->items);
    if (!mp->items)
        return fail(c, n->start_mark, "out of memory");
    for (yaml_node_pair_t *p = first; p < first + cnt; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
            return fail(c, k->start_mark,
                        "'%s' holds only 'name: value' pairs", f->key);
        if (check_duplicate(c, first, p) < 0)
            return -1;
        struct cfg_kv *kv = &mp->items[mp->count];
        kv->key = strdup(scalar(k));
        kv->value = expand_env(c, v->start_mark, scalar(k), scalar(v));
        mp->count++;
        if (!kv->key || !kv->value)
            return kv->key ? -1 : fail(c, k->start_mark, "out of memory");
    }
    return 0;
}

static int set_list(struct ctx *c, const struct cfg_field *f, yaml_node_t *n,
                    void *obj)
{
    struct cfg_list *l = (struct cfg_list *)((char *)obj + f->offset);
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(c, n->start_mark, "'%s' must be a list, not %s", f->key,
                    node_kind(n));
    size_t cnt = (size_t)(n->data.sequence.items.top -
                          n->data.sequence.items.start);
    l->items = calloc(cnt ? cnt : 1, f->sub->size);
    if (!l->items)
        return fail(c, n->start_mark, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *it =
            yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
        l->count++; /* counted first so cfg_free sees a half-filled item */
        if (walk_section(c, f->sub, it, it->start_mark,
                         (char *)l->items + i * f->sub->size) < 0)
            return -1;
    }
    if ((int64_t)cnt < f->min)
        return fail(c, n->start_mark, "'%s' needs at least %" PRId64 " item%s",
                    f->key, f->min, f->min == 1 ? "" : "s");
    return 0;
}

static int set_field(struct ctx *c, const struct cfg_field *f, yaml_node_t *v,
                     void *obj)
{
    switch (f->type) {
    case CFG_SECTION:
        return walk_section(c, f->sub, v, v->start_mark,
                            (char *)obj + f->offset);
    case CFG_LIST:
        return set_list(c, f, v, obj);
    case CFG_STRLIST:
        return set_strlist(c, f, v, obj);
    case CFG_MAP:
        return set_map(c, f, v, obj);
    default:
        break;
    }
    if (v->type != YAML_SCALAR_NODE)
        return fail(c, v->start_mark, "'%s' must be a scalar, not %s", f->key,
                    node_kind(v));
    if (f->flags & CFG_F_TEMPLATE)
        return set_scalar(c, v->start_mark, f, scalar(v), obj);
    char *val = expand_env(c, v->start_mark, f->key, scalar(v));
    if (!val)
        return -1;
    int rc = set_scalar(c, v->start_mark, f, val, obj);
    free(val);
    return rc;
}

/* Finds the field for `key`; *via_file is set for "password_file"-style
 * keys of secret fields. */
static const struct cfg_field *find_field(const struct cfg_schema *s,
                                          const char *key, bool *via_file)
{
    size_t klen = strlen(key), slen = strlen(SECRET_FILE_SUFFIX);
    *via_file = false;
    for (const struct cfg_field *f = s->fields; f->key; f++)
        if (strcmp(f->key, key) == 0)
            return f;
    if (klen <= slen || strcmp(key + klen - slen, SECRET_FILE_SUFFIX) != 0)
        return NULL;
    for (const struct cfg_field *f = s->fields; f->key; f++) {
        if ((f->flags & CFG_F_SECRET) && strlen(f->key) == klen - slen &&
            strncmp(f->key, key, klen - slen) == 0) {
            *via_file = true;
            return f;
        }
    }
    return NULL;
}

static int unknown_key(struct ctx *c, const struct cfg_schema *s,
                       yaml_node_t *k)
{
    const char *key = scalar(k);
    char best[128] = "", alt[128];
    int best_d = 3; /* suggest only what is at most two edits away */
    for (const struct cfg_field *f = s->fields; f->key; f++) {
        snprintf(alt, sizeof alt, "%s%s", f->key, SECRET_FILE_SUFFIX);
        for (int variant = 0; variant < 2; variant++) {
            const char *cand = variant ? alt : f->key;
            if (variant && !(f->flags & CFG_F_SECRET))
                break;
            int d = cfg_edit_distance(key, cand);
            if (d < best_d && d < (int)strlen(cand)) {
                best_d = d;
                snprintf(best, sizeof best, "%s", cand);
            }
        }
    }
    if (best[0])
        return fail(c, k->start_mark, "unknown key '%s' (did you mean '%s'?)",
                    key, best);
    return fail(c, k->start_mark, "unknown key '%s' in '%s'", key, s->name);
}

/* An obsolete key is no error, so that files written for an older
 * version keep loading; the warning tells that its value does nothing. */
static int obsolete_key(struct ctx *c, yaml_node_t *k)
{
    log_warn("config", "%s:%zu:%zu: '%s' is obsolete and ignored: delete it",
             c->name, k->start_mark.line + 1, k->start_mark.column + 1,
             scalar(k));
    return 0;
}

static int apply_pair(struct ctx *c, const struct cfg_schema *s,
                      yaml_node_pair_t *first, yaml_node_pair_t *p,
                      bool *seen, void *obj)
{
    yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
    bool via_file;
    if (k->type != YAML_SCALAR_NODE)
        return fail(c, k->start_mark, "keys must be scalars");
    if (check_duplicate(c, first, p) < 0)
        return -1;
    const struct cfg_field *f = find_field(s, scalar(k), &via_file);
    if (!f)
        return unknown_key(c, s, k);
    size_t idx = (size_t)(f - s->fields);
    if (seen[idx])
        return fail(c, k->start_mark,
                    "'%s' and '%s%s' cannot both be set", f->key, f->key,
                    SECRET_FILE_SUFFIX);
    if (f->flags & CFG_F_OBSOLETE)
        return obsolete_key(c, k);
    if (is_null(v))
        return 0; /* same as absent: the default applies */
    seen[idx] = true;
    if (!via_file)
        return set_field(c, f, v, obj);
    if (v->type != YAML_SCALAR_NODE)
        return fail(c, v->start_mark, "'%s' must be a file name", scalar(k));
    char *path = expand_env(c, v->start_mark, scalar(k), scalar(v));
    char **dst = (char **)((char *)obj + f->offset);
    int rc = path ? read_secret_file(c, v->start_mark, scalar(k), path, dst)
                  : -1;
    free(path);
    return rc;
}

/* Defaults of lists and maps are written "a,b" and "k=v,k2=v2". */
static int set_default(struct ctx *c, yaml_mark_t at, const struct cfg_field *f,
                       void *obj)
{
    if (f->type != CFG_STRLIST && f->type != CFG_MAP)
        return set_scalar(c, at, f, f->def, obj);
    char *copy = strdup(f->def), *save = NULL;
    size_t n = 1;
    for (const char *p = f->def; *p; p++)
        n += *p == ',';
    struct cfg_strlist *l = (struct cfg_strlist *)((char *)obj + f->offset);
    struct cfg_map *m = (struct cfg_map *)((char *)obj + f->offset);
    void *items = calloc(n, f->type == CFG_MAP ? sizeof(struct cfg_kv)
                                               : sizeof(char *));
    if (!copy || !items) {
        free(copy);
        free(items);
        return fail(c, at, "out of memory");
    }
    if (f->type == CFG_MAP)
        m->items = items;
    else
        l->items = items;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (f->type == CFG_STRLIST) {
            l->items[l->count++] = strdup(tok);
            continue;
        }
        char *eq = strchr(tok, '=');
        *eq = '\0'; /* the defaults are ours: always "k=v" */
        m->items[m->count].key = strdup(tok);
        m->items[m->count++].value = strdup(eq + 1);
    }
    free(copy);
    return 0;
}

/* Applies defaults to the fields the file left out, or reports them. */
static int fill_defaults(struct ctx *c, const struct cfg_schema *s,
                         const bool *seen, yaml_mark_t at, void *obj)
{
    for (const struct cfg_field *f = s->fields; f->key; f++) {
        if (seen[f - s->fields] || (f->flags & CFG_F_OBSOLETE))
            continue;
        if (f->flags & CFG_F_REQUIRED)
            return fail(c, at, "missing required key '%s' in '%s'", f->key,
                        s->name);
        if (f->type == CFG_SECTION) {
            if (walk_section(c, f->sub, NULL, at, (char *)obj + f->offset) < 0)
                return -1;
        } else if (f->def && set_default(c, at, f, obj) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Where `key`'s value stands in `map`; `at` when it is not there. */
static yaml_mark_t value_mark(struct ctx *c, yaml_node_t *map, const char *key,
                              yaml_mark_t at)
{
    if (!map || !key)
        return at;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0)
            return yaml_document_get_node(c->doc, p->value)->start_mark;
    }
    return at;
}

/* `map` is NULL when the whole section is absent: every field defaults. */
static int walk_section(struct ctx *c, const struct cfg_schema *s,
                        yaml_node_t *map, yaml_mark_t at, void *obj)
{
    size_t nfields = 0;
    while (s->fields[nfields].key)
        nfields++;
    if (map && is_null(map))
        map = NULL;
    if (map && map->type != YAML_MAPPING_NODE)
        return fail(c, map->start_mark, "'%s' must be a mapping, not %s",
                    s->name, node_kind(map));
    bool *seen = calloc(nfields + 1, sizeof *seen);
    if (!seen)
        return fail(c, at, "out of memory");
    int rc = 0;
    if (map) {
        yaml_node_pair_t *first = map->data.mapping.pairs.start;
        for (yaml_node_pair_t *p = first;
             rc == 0 && p < map->data.mapping.pairs.top; p++)
            rc = apply_pair(c, s, first, p, seen, obj);
    }
    if (rc == 0)
        rc = fill_defaults(c, s, seen, at, obj);
    free(seen);
    if (rc == 0 && s->validate) {
        char msg[512];
        const char *key = NULL;
        if (s->validate(obj, &key, msg, sizeof msg) < 0)
            return fail(c, value_mark(c, map, key, at), "%s", msg);
    }
    return rc;
}

/* ---- entry points ----------------------------------------------------- */

static int parse_error(struct ctx *c, yaml_parser_t *p)
{
    yaml_mark_t m = p->problem_mark;
    if (p->context)
        return fail(c, m, "malformed YAML: %s %s", p->problem, p->context);
    return fail(c, m, "malformed YAML: %s",
                p->problem ? p->problem : "cannot parse");
}

int cfg_load_string(const struct cfg_schema *schema, const char *name,
                    const char *text, size_t len, void *out, char *err,
                    size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ctx c = {.doc = &doc, .name = name, .err = err, .errlen = errlen};
    yaml_mark_t top = {0, 0, 0};
    int rc;

    memset(out, 0, schema->size);
    if (!yaml_parser_initialize(&parser))
        return fail(&c, top, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = parse_error(&c, &parser);
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    rc = walk_section(&c, schema, root, top, out);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0)
        cfg_free(schema, out);
    return rc;
}

int cfg_load(const struct cfg_schema *schema, const char *path, void *out,
             char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    memset(out, 0, schema->size);
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t cap = 0, len = 0, n;
    do {
        if (len + 4096 > cap) {
            char *grown = realloc(text, cap = (cap + 4096) * 2);
            if (!grown) {
                free(text);
                fclose(fp);
                snprintf(err, errlen, "%s: out of memory", path);
                return -1;
            }
            text = grown;
        }
        n = fread(text + len, 1, cap - len, fp);
        len += n;
    } while (n > 0);
    int rerr = ferror(fp);
    fclose(fp);
    if (rerr) {
        free(text);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    int rc = cfg_load_string(schema, path, text, len, out, err, errlen);
    free(text);
    return rc;
}

int cfg_load_for_main(const struct cfg_schema *schema, const char *path,
                      int check_config, void *out)
{
    char err[CFG_ERR_MAX];
    if (cfg_load(schema, path, out, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    return check_config ? cfg_report_ok(schema, path, out) : -1;
}

int cfg_report_ok(const struct cfg_schema *schema, const char *path, void *obj)
{
    printf("# %s: configuration OK; effective values:\n", path);
    cfg_print(schema, obj, stdout);
    cfg_free(schema, obj);
    return 0;
}

void cfg_free(const struct cfg_schema *schema, void *obj)
{
    for (const struct cfg_field *f = schema->fields; f->key; f++) {
        void *p = (char *)obj + f->offset;
        if (f->flags & CFG_F_OBSOLETE)
            continue; /* no storage */
        if (f->type == CFG_STR) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (f->type == CFG_SECTION) {
            cfg_free(f->sub, p);
        } else if (f->type == CFG_LIST) {
            struct cfg_list *l = p;
            for (size_t i = 0; i < l->count; i++)
                cfg_free(f->sub, (char *)l->items + i * f->sub->size);
            free(l->items);
            memset(l, 0, sizeof *l);
        } else if (f->type == CFG_STRLIST) {
            struct cfg_strlist *l = p;
            for (size_t i = 0; i < l->count; i++)
                free(l->items[i]);
            free(l->items);
            memset(l, 0, sizeof *l);
        } else if (f->type == CFG_MAP) {
            struct cfg_map *m = p;
            for (size_t i = 0; i < m->count; i++) {
                free(m->items[i].key);
                free(m->items[i].value);
            }
            free(m->items);
            memset(m, 0, sizeof *m);
        }
    }
}

int cfg_edit_distance(const char *a, const char *b)
{
    enum { MAX = 64 };
    size_t la = strlen(a), lb = strlen(b);
    int row[MAX + 1];
    if (la > MAX || lb > MAX)
        return MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* ---- printing --------------------------------------------------------- */

/* Keys of free-form maps (librdkafka properties) whose values are masked. */
static bool sensitive_key(const char *k)
{
    static const char *const words[] = {"password", "secret", "token",
                                        "credential", "oauthbearer.config"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(k, words[i]))
            return true;
    return false;
}

static void print_quoted(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(fp, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", fp);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(fp, "\\x%02x", ch);
        else
            fputc(ch, fp);
    }
    fputc('"', fp);
}

static void print_section(const struct cfg_schema *s, const void *obj,
                          FILE *fp, int indent, bool list_item);

static void print_collection(const struct cfg_field *f, const void *p,
                             FILE *fp, int indent)
{
    if (f->type == CFG_LIST) {
        const struct cfg_list *l = p;
        fputs(l->count ? "\n" : " []\n", fp);
        for (size_t i = 0; i < l->count; i++)
            print_section(f->sub, (const char *)l->items + i * f->sub->size,
                          fp, indent + 4, true);
    } else if (f->type == CFG_STRLIST) {
        const struct cfg_strlist *l = p;
        fputs(l->count ? "\n" : " []\n", fp);
        for (size_t i = 0; i < l->count; i++) {
            fprintf(fp, "%*s- ", indent + 2, "");
            print_quoted(fp, l->items[i]);
            fputc('\n', fp);
        }
    } else {
        const struct cfg_map *m = p;
        fputs(m->count ? "\n" : " {}\n", fp);
        for (size_t i = 0; i < m->count; i++) {
            fprintf(fp, "%*s", indent + 2, "");
            print_quoted(fp, m->items[i].key);
            fputs(": ", fp);
            print_quoted(fp, sensitive_key(m->items[i].key)
                                 ? "***"
                                 : m->items[i].value);
            fputc('\n', fp);
        }
    }
}

static void print_scalar(const struct cfg_field *f, const void *p, FILE *fp)
{
    char buf[64];
    switch (f->type) {
    case CFG_STR: {
        const char *v = *(char *const *)p;
        if (!v)
            fputs("null", fp);
        else
            print_quoted(fp, (f->flags & CFG_F_SECRET) ? "***" : v);
        break;
    }
    case CFG_BOOL:
        fputs(*(const bool *)p ? "true" : "false", fp);
        break;
    case CFG_ENUM:
        fputs(f->choices[*(const int *)p], fp);
        break;
    default:
        fmt_value(f, *(const int64_t *)p, buf, sizeof buf);
        fputs(buf, fp);
        break;
    }
    fputc('\n', fp);
}

static void print_section(const struct cfg_schema *s, const void *obj,
                          FILE *fp, int indent, bool list_item)
{
    for (const struct cfg_field *f = s->fields; f->key; f++) {
        const void *p = (const char *)obj + f->offset;
        /* Not in effect, so not printed (the first field of a list item,
         * which carries the "- ", is never obsolete) */
        if (f->flags & CFG_F_OBSOLETE)
            continue;
        if (list_item && f == s->fields)
            fprintf(fp, "%*s- %s:", indent - 2, "", f->key);
        else
            fprintf(fp, "%*s%s:", indent, "", f->key);
        if (f->type == CFG_SECTION) {
            fputc('\n', fp);
            print_section(f->sub, p, fp, indent + 2, false);
        } else if (f->type == CFG_LIST || f->type == CFG_STRLIST ||
                   f->type == CFG_MAP) {
            print_collection(f, p, fp, indent);
        } else {
            fputc(' ', fp);
            print_scalar(f, p, fp);
        }
    }
}

void cfg_print(const struct cfg_schema *schema, const void *obj, FILE *fp)
{
    print_section(schema, obj, fp, 0, false);
}

/* ---- shared schema pieces --------------------------------------------- */

const char *const cfg_log_levels[] = {"error", "warn", "info", "debug", NULL};

static int backoff_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    const struct cfg_backoff *b = obj;
    *key = "max";
    if (b->max_ms < b->initial_ms) {
        snprintf(err, errlen, "'max' must not be below 'initial'");
        return -1;
    }
    return 0;
}

static const struct cfg_field backoff_fields[] = {
    {.key = "initial", .type = CFG_DURATION,
     .offset = offsetof(struct cfg_backoff, initial_ms), .def = "500ms",
     .min = 1, .max = 3600000, .doc = "first wait after a failure"},
    {.key = "max", .type = CFG_DURATION,
     .offset = offsetof(struct cfg_backoff, max_ms), .def = "30s",
     .min = 1, .max = 3600000, .doc = "longest wait; doubles up to this"},
    {.key = NULL},
};
const struct cfg_schema cfg_backoff_schema = {
    .name = "reconnect", .size = sizeof(struct cfg_backoff),
    .fields = backoff_fields, .validate = backoff_validate,
};

int cfg_check_listen(const char *addr, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (admin_split_hostport(addr, host, sizeof host, &port) < 0) {
        snprintf(err, errlen,
                 "'listen' must be host:port or [ipv6]:port (got \"%s\")",
                 addr);
        return -1;
    }
    return 0;
}

int cfg_metrics_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    const struct cfg_metrics *m = obj;
    *key = "listen";
    return m->listen ? cfg_check_listen(m->listen, err, errlen) : 0;
}

static const struct cfg_field metrics_fields[] = {
    {.key = "listen", .type = CFG_STR,
     .offset = offsetof(struct cfg_metrics, listen), .def = "127.0.0.1:9464",
     .doc = "address of /metrics and /healthz"},
    {.key = NULL},
};
const struct cfg_schema cfg_metrics_schema = {
    .name = "metrics", .size = sizeof(struct cfg_metrics),
    .fields = metrics_fields, .validate = cfg_metrics_validate,
};
