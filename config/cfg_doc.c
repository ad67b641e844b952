/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reference is written in two passes over nothing but the tables: a
 * field's facts (path, type, default, range) are put into words once, by
 * describe(), and each format only lays them out. That keeps markdown and
 * man page from saying different things about one key.
 */
#include "config/cfg_doc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DOC_TEXT_MAX 512

/* One key in words. */
struct doc_key {
    char path[256];
    char type[64];
    char def[256]; /* "" when there is none */
    char range[DOC_TEXT_MAX];
    const char *about;
    bool required;
    bool choices; /* range lists an enum's choices */
};

static const char *type_name(const struct cfg_field *f)
{
    switch (f->type) {
    case CFG_STR:
        return f->flags & CFG_F_SECRET     ? "string, secret"
               : f->flags & CFG_F_TEMPLATE ? "string, template"
                                           : "string";
    case CFG_INT:
        return "integer";
    case CFG_BOOL:
        return "boolean";
    case CFG_DURATION:
        return "duration";
    case CFG_SIZE:
        return "size";
    case CFG_ENUM:
        return "enum";
    case CFG_SECTION:
        return "section";
    case CFG_LIST:
        return "list of sections";
    case CFG_STRLIST:
        return "list of strings";
    case CFG_MAP:
        return "map";
    }
    return "?";
}

/* Defaults of maps and string lists are written "k=v,k2=v2" and "a,b" in
 * the tables; the reference shows them as YAML would. */
static void default_text(const struct cfg_field *f, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!f->def)
        return;
    if (f->type != CFG_MAP && f->type != CFG_STRLIST) {
        snprintf(buf, len, "%s", f->def[0] ? f->def : "\"\"");
        return;
    }
    n += (size_t)snprintf(buf, len, "%s", f->type == CFG_MAP ? "{" : "[");
    for (const char *p = f->def; *p && n < len; p++) {
        if (*p == ',')
            n += (size_t)snprintf(buf + n, len - n, ", ");
        else if (*p == '=')
            n += (size_t)snprintf(buf + n, len - n, ": ");
        else
            buf[n++] = *p, buf[n] = '\0';
    }
    if (n < len)
        snprintf(buf + n, len - n, "%s", f->type == CFG_MAP ? "}" : "]");
}

static void range_text(const struct cfg_field *f, char *buf, size_t len)
{
    char lo[32], hi[32];
    size_t n = 0;
    buf[0] = '\0';
    if (f->type == CFG_ENUM) {
        for (size_t i = 0; f->choices[i] && n < len; i++)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
                                  f->choices[i]);
    } else if ((f->type == CFG_LIST || f->type == CFG_STRLIST) && f->min > 0) {
        snprintf(buf, len, "at least %lld", (long long)f->min);
    } else if ((f->type == CFG_INT || f->type == CFG_DURATION ||
                f->type == CFG_SIZE) && (f->min || f->max)) {
        cfg_format_number(f, f->min, lo, sizeof lo);
        cfg_format_number(f, f->max, hi, sizeof hi);
        snprintf(buf, len, "%s to %s", lo, hi);
    }
}

static void describe(const struct cfg_field *f, const char *path,
                     struct doc_key *k)
{
    snprintf(k->path, sizeof k->path, "%s%s%s", path, *path ? "." : "",
             f->key);
    snprintf(k->type, sizeof k->type, "%s", type_name(f));
    default_text(f, k->def, sizeof k->def);
    range_text(f, k->range, sizeof k->range);
    k->about = f->doc ? f->doc : "";
    k->required = (f->flags & CFG_F_REQUIRED) != 0;
    k->choices = f->type == CFG_ENUM;
}

/* ---- markdown ---------------------------------------------------------- */

/* Table cells: a '|' would end the cell. */
static void md_cell(FILE *fp, const char *s, bool code)
{
    bool tick = code && *s;
    fputs(tick ? " `" : " ", fp);
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', fp);
        fputc(*s, fp);
    }
    fputs(tick ? "` |" : " |", fp);
}

static void md_row(FILE *fp, const struct doc_key *k)
{
    fputc('|', fp);
    md_cell(fp, k->path, true);
    md_cell(fp, k->type, false);
    if (k->required)
        md_cell(fp, "required", false);
    else if (k->def[0])
        md_cell(fp, k->def, true);
    else
        md_cell(fp, "", false);
    md_cell(fp, k->range, false);
    md_cell(fp, k->about, false);
    fputc('\n', fp);
}

/* ---- roff --------------------------------------------------------------- */

/* Text for a roff line: backslashes escaped; in literal values (keys,
 * defaults) '-' is a minus, so that a copied value works. */
static void man_text(FILE *fp, const char *s, bool literal)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", fp);
        else if (*s == '-' && literal)
            fputs("\\-", fp);
        else
            fputc(*s, fp);
    }
}

static void man_key(FILE *fp, const struct doc_key *k)
{
    fputs(".TP\n.B ", fp);
    man_text(fp, k->path, true);
    /* "\&" keeps a line that would begin with ' or . from being a request */
    fprintf(fp, "\n\\&%s", k->type);
    if (k->range[0]) {
        fputs(k->choices ? ": " : ", ", fp);
        man_text(fp, k->range, true);
    }
    if (k->required) {
        fputs("; required", fp);
    } else if (k->def[0]) {
        fputs("; default \\fB", fp);
        man_text(fp, k->def, true);
        fputs("\\fR", fp);
    }
    fputs(".\n\\&", fp);
    man_text(fp, k->about, false);
    size_t n = strlen(k->about);
    fputs(n && k->about[n - 1] == '.' ? "\n" : ".\n", fp);
}

/* ---- the walk ----------------------------------------------------------- */

static void write_section(const struct cfg_schema *s, const char *path,
                          enum cfg_doc_format fmt, FILE *fp)
{
    for (const struct cfg_field *f = s->fields; f->key; f++) {
        struct doc_key k;
        if (f->flags & CFG_F_OBSOLETE)
            continue;
        describe(f, path, &k);
        if (fmt == CFG_DOC_MARKDOWN)
            md_row(fp, &k);
        else
            man_key(fp, &k);
        if (f->type == CFG_SECTION || f->type == CFG_LIST) {
            char sub[sizeof k.path + 2];
            snprintf(sub, sizeof sub, "%s%s", k.path,
                     f->type == CFG_LIST ? "[]" : "");
            write_section(f->sub, sub, fmt, fp);
        }
    }
}

void cfg_doc_write(const struct cfg_schema *schema, enum cfg_doc_format fmt,
                   FILE *fp)
{
    if (fmt == CFG_DOC_MARKDOWN)
        fputs("| Key | Type | Default | Range | Description |\n"
              "| --- | --- | --- | --- | --- |\n", fp);
    write_section(schema, "", fmt, fp);
}

/* ---- looking a path up -------------------------------------------------- */

static bool names_field(const struct cfg_field *f, const char *head, size_t n)
{
    size_t kl = strlen(f->key);
    if (kl == n && strncmp(f->key, head, n) == 0)
        return true;
    return (f->flags & CFG_F_SECRET) && n == kl + 5 &&
           strncmp(head, f->key, kl) == 0 && strncmp(head + kl, "_file", 5) == 0;
}

const struct cfg_field *cfg_doc_find(const struct cfg_schema *schema,
                                     const char *path, bool *free_form)
{
    size_t n = strcspn(path, ".[");
    *free_form = false;
    for (const struct cfg_field *f = schema->fields; f->key; f++) {
        if (!names_field(f, path, n))
            continue;
        const char *rest = path + n;
        if (f->type == CFG_LIST && strncmp(rest, "[]", 2) == 0)
            rest += 2;
        if (*rest == '\0')
            return f;
        if (*rest != '.')
            return NULL;
        if (f->type == CFG_MAP) {
            *free_form = true;
            return f;
        }
        if (f->type != CFG_SECTION && f->type != CFG_LIST)
            return NULL;
        return cfg_doc_find(f->sub, rest + 1, free_form);
    }
    return NULL;
}

/* ---- splicing ------------------------------------------------------------ */

#define MARK_BEGIN "BEGIN KEYS "
#define MARK_END "END KEYS"

/* The schema name of a BEGIN line ("relay" of "<!-- BEGIN KEYS relay -->"),
 * copied into name; false when the line is no BEGIN marker. */
static bool begin_marker(const char *line, size_t len, char *name,
                         size_t namelen)
{
    const char *m = memmem(line, len, MARK_BEGIN, strlen(MARK_BEGIN));
    if (!m)
        return false;
    const char *p = m + strlen(MARK_BEGIN);
    size_t n = strcspn(p, " \t\n-");
    if (p + n > line + len || n == 0 || n >= namelen)
        n = 0;
    memcpy(name, p, n);
    name[n] = '\0';
    return true;
}

static bool end_marker(const char *line, size_t len)
{
    return memmem(line, len, MARK_END, strlen(MARK_END)) != NULL;
}

char *cfg_doc_splice(const char *text, enum cfg_doc_format fmt,
                     cfg_doc_lookup_fn lookup, char *err, size_t errlen)
{
    char *out = NULL, name[64];
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    int lineno = 0, regions = 0, open_at = 0;
    bool failed = false;
    if (!fp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (const char *line = text; *line && !failed;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line + 1) : strlen(line);
        bool keep = true;
        lineno++;
        if (open_at) {
            keep = end_marker(line, len); /* the old reference goes */
            open_at = keep ? 0 : open_at;
        } else if (begin_marker(line, len, name, sizeof name)) {
            const struct cfg_schema *s = name[0] ? lookup(name) : NULL;
            if (s) {
                fwrite(line, 1, len, fp);
                cfg_doc_write(s, fmt, fp);
                open_at = lineno;
                regions++;
                keep = false;
            } else {
                snprintf(err, errlen, "line %d: the marker names no schema "
                         "(\"%s\")", lineno, name);
                failed = true;
            }
        }
        if (keep)
            fwrite(line, 1, len, fp);
        line += len;
    }
    fclose(fp);
    if (!failed && open_at)
        snprintf(err, errlen, "line %d: BEGIN KEYS without END KEYS", open_at);
    else if (!failed && regions == 0)
        snprintf(err, errlen, "no BEGIN KEYS marker");
    if (failed || open_at || regions == 0) {
        free(out);
        return NULL;
    }
    return out;
}
