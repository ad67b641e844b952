/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file is mapped read-only and walked event by event; nothing is kept
 * from one event to the next but the format (FORMAT_DESCRIPTION), the
 * table maps and the current GTID. Output lines are built in one growable
 * buffer and written whole, so a failure never leaves half a line.
 */
#include "relay/dump.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/utf8.h"
#include "config/cfg.h"
#include "relay/binlog.h"
#include "relay/bwalk.h"
#include "relay/mysql_json.h"
#include "relay/outbox.h"
#include "relay/mariadb_zip.h"

#define ROW_TEXT_MAX (1024UL * 1024 * 1024) /* as the relay's pipeline */

struct dtable {
    struct binlog_table map;
    int outbox; /* index into obx; -1: not an outbox table */
    struct outbox_layout layout;
};

struct dump {
    const struct dump_opts *o;
    FILE *out, *errs;
    const char *name; /* the file's name, as "file" shows it */
    struct binlog_format fmt;
    struct dtable *tables;
    size_t ntables;
    struct outbox_table *obx;
    size_t nobx;
    char gtid[120]; /* "" when anonymous */
    int64_t ts_ms;
    uint64_t pos; /* where the current (outer) event starts */
    struct binlog_scratch scratch;
    struct binlog_scratch inflated; /* MariaDB log_bin_compress records */
    struct outbox_cell *cells;
    size_t cells_cap;
    struct mysql_json_out line, before; /* growable */
};

__attribute__((format(printf, 2, 3))) static int
failf(struct dump *d, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(d->errs, "outbox-relay dump: %s: at offset %" PRIu64 ": %s\n",
            d->o->file, d->pos, msg);
    return EXIT_RUNTIME;
}

/* ---- values ----------------------------------------------------------- */

static void put(struct mysql_json_out *o, const char *s)
{
    mysql_json_put(o, s, strlen(s));
}

/* Text as a JSON string; other bytes the way MySQL puts binary in JSON. */
static void put_bytes(struct mysql_json_out *o, int type, const void *p,
                      size_t n)
{
    if (utf8_valid(p, n)) {
        mysql_json_put_string(o, p, n);
        return;
    }
    char head[32];
    snprintf(head, sizeof head, "\"base64:type%d:", type);
    put(o, head);
    mysql_json_put_base64(o, p, n);
    put(o, "\"");
}

static int is_number_type(int t)
{
    return t == BT_TINY || t == BT_SHORT || t == BT_INT24 || t == BT_LONG ||
           t == BT_LONGLONG || t == BT_FLOAT || t == BT_DOUBLE ||
           t == BT_DECIMAL || t == BT_NEWDECIMAL || t == BT_YEAR ||
           t == BT_BIT;
}

static int looks_numeric(const struct outbox_cell *c)
{
    const char *s = c->data;
    return c->len > 0 && c->len < 100 && isdigit((unsigned char)s[c->len - 1]) &&
           strspn(s, "0123456789+-.e") >= c->len;
}

/* A number as JSON has it: YEAR's text is SELECT's four digits, "0000"
 * for the year zero, and a JSON number has no leading zeros. */
static void put_number(struct mysql_json_out *o, const struct outbox_cell *c)
{
    const char *s = c->data;
    size_t i = 0;
    while (i + 1 < c->len && s[i] == '0' && isdigit((unsigned char)s[i + 1]))
        i++;
    mysql_json_put(o, s + i, c->len - i);
}

/* ENUM: the member (index 0 is MySQL's "" for an invalid value); SET: the
 * members of the bits, joined by ','. The number when a name is missing. */
static void put_members(struct mysql_json_out *o, const struct binlog_column *col,
                        int real, const struct outbox_cell *c)
{
    char num[32];
    snprintf(num, sizeof num, "%.*s", (int)c->len, (const char *)c->data);
    uint64_t v = strtoull(num, NULL, 10);
    int named = col->members && (real == BT_ENUM ? v <= col->nmembers
                : col->nmembers >= 64 || v >> col->nmembers == 0);
    if (!named) {
        put(o, num);
        return;
    }
    if (real == BT_ENUM) {
        const char *m = v ? col->members[v - 1] : "";
        mysql_json_put_string(o, m, strlen(m));
        return;
    }
    struct mysql_json_out set = {NULL, 0, 0, 0, 1, 0};
    int first = 1;
    for (size_t k = 0; k < col->nmembers && k < 64; k++) {
        if (!((v >> k) & 1))
            continue;
        mysql_json_put(&set, ",", !first);
        put(&set, col->members[k]);
        first = 0;
    }
    mysql_json_put_string(o, set.len ? set.buf : "", set.len);
    o->failed |= set.failed;
    free(set.buf);
}

static void put_cell(struct mysql_json_out *o, const struct binlog_column *col,
                     const struct outbox_cell *c)
{
    int real = binlog_column_real_type(col);
    if (c->is_null)
        put(o, "null");
    else if (real == BT_JSON)
        mysql_json_put(o, c->data, c->len);
    else if (real == BT_ENUM || real == BT_SET)
        put_members(o, col, real, c);
    else if (is_number_type(real) && looks_numeric(c))
        put_number(o, c);
    else
        put_bytes(o, real, c->data, c->len);
}

/* ---- lines ------------------------------------------------------------ */

/* {"file":..,"pos":..,"gtid":.., : every line starts so. */
static void line_start(struct dump *d)
{
    char pos[40];
    d->line.len = 0;
    put(&d->line, "{\"file\":");
    mysql_json_put_string(&d->line, d->name, strlen(d->name));
    snprintf(pos, sizeof pos, ",\"pos\":%" PRIu64 ",\"gtid\":", d->pos);
    put(&d->line, pos);
    if (d->gtid[0])
        mysql_json_put_string(&d->line, d->gtid, strlen(d->gtid));
    else
        put(&d->line, "null");
}

static int line_end(struct dump *d)
{
    put(&d->line, "}\n");
    if (d->line.failed)
        return failf(d, "out of memory for an output line");
    if (fwrite(d->line.buf, 1, d->line.len, d->out) != d->line.len)
        return failf(d, "cannot write the output");
    return 0;
}

static void put_image(struct mysql_json_out *o, const struct binlog_table *t,
                      const struct outbox_cell *cells)
{
    put(o, "{");
    for (size_t i = 0; i < t->ncols; i++) {
        char at[24];
        const char *name = t->cols[i].name;
        if (!name) {
            snprintf(at, sizeof at, "@%zu", i + 1);
            name = at;
        }
        put(o, i ? "," : "");
        mysql_json_put_string(o, name, strlen(name));
        put(o, ":");
        put_cell(o, &t->cols[i], &cells[i]);
    }
    put(o, "}");
}

/* --all-tables: one line per row; an update's before image is rendered
 * first, since decoding the after image reuses the scratch. */
static int row_line(struct dump *d, const struct dtable *t, int kind)
{
    static const char *const ops[] = {"insert", "update", "delete"};
    const char *op = ops[kind == 'w' ? 0 : kind == 'u' ? 1 : 2];
    line_start(d);
    put(&d->line, ",\"table\":");
    char name[140];
    snprintf(name, sizeof name, "%s.%s", t->map.id.db, t->map.id.table);
    mysql_json_put_string(&d->line, name, strlen(name));
    put(&d->line, ",\"op\":\"");
    put(&d->line, op);
    put(&d->line, "\",\"before\":");
    if (kind == 'u')
        mysql_json_put(&d->line, d->before.buf, d->before.len);
    else if (kind == 'd')
        put_image(&d->line, &t->map, d->cells);
    else
        put(&d->line, "null");
    put(&d->line, ",\"after\":");
    if (kind == 'd')
        put(&d->line, "null");
    else
        put_image(&d->line, &t->map, d->cells);
    return line_end(d);
}

/* ---- outbox events ---------------------------------------------------- */

static void put_field(struct mysql_json_out *o, const struct dtable *t,
                      int col, const void *p, size_t n)
{
    if (!p)
        put(o, "null");
    else
        put_bytes(o, binlog_column_real_type(&t->map.cols[col]), p, n);
}

static int event_line(struct dump *d, const struct dtable *t)
{
    const struct outbox_table *ot = &d->obx[t->outbox];
    char topic[OUTBOX_TOPIC_MAX + 1], why[512], ts[40];
    struct sink_header hdrs[OUTBOX_MAX_HEADERS];
    struct sink_record rec;
    const char *etype = NULL;
    enum outbox_verdict v = outbox_map_row(ot, &t->layout, d->cells, topic,
                                           hdrs, &rec, &etype, why, sizeof why);
    line_start(d);
    snprintf(ts, sizeof ts, ",\"timestamp\":%" PRId64 ",\"topic\":", d->ts_ms);
    put(&d->line, ts);
    mysql_json_put_string(&d->line, topic, strlen(topic));
    put(&d->line, ",\"key\":");
    put_field(&d->line, t, t->layout.key, rec.key, rec.key_len);
    put(&d->line, ",\"headers\":{");
    for (size_t i = 0; i < rec.nheaders; i++) {
        put(&d->line, i ? "," : "");
        mysql_json_put_string(&d->line, hdrs[i].name, strlen(hdrs[i].name));
        put(&d->line, ":");
        put_field(&d->line, t, t->layout.headers[i], hdrs[i].value, hdrs[i].len);
    }
    put(&d->line, "},\"value\":");
    put_field(&d->line, t, t->layout.value, rec.value, rec.value_len);
    if (v != OUTBOX_OK) {
        put(&d->line, ",\"error_type\":");
        mysql_json_put_string(&d->line, etype, strlen(etype));
        put(&d->line, ",\"error_message\":");
        mysql_json_put_string(&d->line, why, strlen(why));
    }
    return line_end(d);
}

/* ---- table maps ------------------------------------------------------- */

static int match_outbox(const struct dump *d, const struct binlog_table_id *id)
{
    for (size_t i = 0; i < d->nobx; i++)
        if ((!strcmp(d->obx[i].db, "*") || !strcmp(d->obx[i].db, id->db)) &&
            !strcmp(d->obx[i].name, id->table))
            return (int)i;
    return -1;
}

static struct dtable *find_table(struct dump *d, uint64_t id)
{
    for (size_t i = 0; i < d->ntables; i++)
        if (d->tables[i].map.cols && d->tables[i].map.id.table_id == id)
            return &d->tables[i];
    return NULL;
}

static struct dtable *new_table(struct dump *d, uint64_t id)
{
    struct dtable *t = find_table(d, id);
    if (t) { /* the id is reused: a new map replaces the old */
        binlog_table_free(&t->map);
        return t;
    }
    struct dtable *more = realloc(d->tables, (d->ntables + 1) * sizeof *more);
    if (!more)
        return NULL;
    d->tables = more;
    t = &d->tables[d->ntables++];
    memset(t, 0, sizeof *t);
    return t;
}

/* The outbox mapping needs names; without FULL metadata the table is
 * reported and its rows skipped. */
static void resolve_layout(struct dump *d, struct dtable *t)
{
    char err[512];
    const char **names = calloc(t->map.ncols, sizeof *names);
    for (size_t i = 0; names && i < t->map.ncols; i++)
        names[i] = t->map.cols[i].name;
    if (!t->map.has_names)
        snprintf(err, sizeof err, "no column names in the binlog (set "
                 "binlog_row_metadata=FULL)");
    if (!names || !t->map.has_names ||
        outbox_layout_resolve(&d->obx[t->outbox], names, t->map.ncols,
                              &t->layout, err, sizeof err) < 0) {
        fprintf(d->errs, "outbox-relay dump: %s: at offset %" PRIu64
                ": outbox table %s.%s skipped: %s\n", d->o->file, d->pos,
                t->map.id.db, t->map.id.table, names ? err : "out of memory");
        t->outbox = -1;
    }
    free(names);
}

static int on_table_map(struct dump *d, const uint8_t *body, size_t len)
{
    struct binlog_table_id id;
    char err[512];
    if (binlog_parse_table_id(&d->fmt, body, len, &id, err, sizeof err) < 0)
        return failf(d, "%s", err);
    int ob = match_outbox(d, &id);
    struct dtable *old = find_table(d, id.table_id);
    if (ob < 0 && !d->o->all_tables) {
        if (old)
            binlog_table_free(&old->map);
        return 0;
    }
    struct dtable *t = new_table(d, id.table_id);
    if (!t)
        return failf(d, "out of memory");
    if (binlog_parse_table(&d->fmt, body, len, &t->map, err, sizeof err) < 0)
        return failf(d, "%s", err);
    t->outbox = ob;
    if (ob >= 0)
        resolve_layout(d, t);
    return 0;
}

/* ---- rows ------------------------------------------------------------- */

static int next_row(struct dump *d, struct binlog_rows *r, struct dtable *t)
{
    char err[512];
    int got = binlog_next_row_grow(r, &t->map, d->cells, &d->scratch, err,
                                   sizeof err);
    if (got < 0)
        failf(d, "%s", err);
    return got;
}

static int on_rows(struct dump *d, const struct binlog_header *h,
                   const uint8_t *body, size_t len)
{
    struct binlog_rows r;
    struct binlog_header plain = *h;
    char err[512];
    plain.type = (uint8_t)mzip_plain_type(h->type);
    if (binlog_parse_rows(&plain, &d->fmt, body, len, &r, err, sizeof err) < 0)
        return failf(d, "%s", err);
    struct dtable *t = find_table(d, r.table_id);
    if (!t || (!d->o->all_tables && (t->outbox < 0 || r.kind != 'w')))
        return 0; /* not a table asked for, or not an outbox insert */
    if (mzip_open_rows(h, &r, &d->inflated, err, sizeof err) < 0)
        return failf(d, "%s", err);
    if (t->map.ncols > d->cells_cap) {
        free(d->cells);
        d->cells_cap = t->map.ncols;
        if (!(d->cells = calloc(d->cells_cap, sizeof *d->cells)))
            return failf(d, "out of memory");
    }
    int got, rc = 0;
    while (rc == 0 && (got = next_row(d, &r, t)) == 1) {
        if (!d->o->all_tables) {
            rc = event_line(d, t);
            continue;
        }
        if (r.kind == 'u') {
            d->before.len = 0;
            put_image(&d->before, &t->map, d->cells);
            if ((got = next_row(d, &r, t)) != 1)
                return got == 0 ? failf(d, "update without an after image")
                                : EXIT_RUNTIME;
        }
        rc = row_line(d, t, r.kind);
    }
    return rc ? rc : got < 0 ? EXIT_RUNTIME : 0;
}

/* ---- events ----------------------------------------------------------- */

static void on_gtid(struct dump *d, const struct binlog_header *h,
                    const struct binlog_gtid *g)
{
    d->gtid[0] = '\0';
    if (h->type != BL_MYSQL_ANONYMOUS_GTID)
        binlog_gtid_text(g, d->gtid, sizeof d->gtid);
    d->ts_ms = g->commit_us ? g->commit_us / 1000 : (int64_t)h->timestamp * 1000;
}

static int on_event(struct dump *d, const uint8_t *ev, size_t len, int inner);

/* MySQL 8 compressed transactions: inner events without checksums. */
static int on_payload(struct dump *d, const uint8_t *body, size_t len)
{
    uint8_t *buf;
    size_t n;
    char err[512];
    if (binlog_payload_expand(body, len, &buf, &n, err, sizeof err) < 0)
        return failf(d, "%s", err);
    int rc = 0, more = 0;
    struct bwalk w;
    const uint8_t *ev;
    size_t evlen;
    bwalk_init(&w, buf, n, 0);
    while (rc == 0 && (more = bwalk_next(&w, &ev, &evlen, err, sizeof err)) == 1)
        rc = on_event(d, ev, evlen, 1);
    if (rc == 0 && more < 0)
        rc = failf(d, "in the TRANSACTION_PAYLOAD, at inner offset %zu: %s",
                   w.at, err);
    free(buf);
    return rc;
}

static int on_body(struct dump *d, const struct binlog_header *h,
                   const uint8_t *body, size_t len, int inner)
{
    struct binlog_gtid g;
    char err[512];
    switch (h->type) {
    case BL_MYSQL_GTID: case BL_MYSQL_ANONYMOUS_GTID: case BL_MYSQL_GTID_TAGGED:
    case BL_MARIA_GTID:
        if (binlog_parse_gtid(h, body, len, h->server_id, &g, err, sizeof err) < 0)
            return failf(d, "%s", err);
        on_gtid(d, h, &g);
        return 0;
    case BL_TABLE_MAP:
        return on_table_map(d, body, len);
    case BL_WRITE_ROWS_V1: case BL_UPDATE_ROWS_V1: case BL_DELETE_ROWS_V1:
    case BL_WRITE_ROWS: case BL_UPDATE_ROWS: case BL_DELETE_ROWS:
    case BL_MARIA_WRITE_ROWS_COMPRESSED_V1: case BL_MARIA_UPDATE_ROWS_COMPRESSED_V1:
    case BL_MARIA_DELETE_ROWS_COMPRESSED_V1: case BL_MARIA_WRITE_ROWS_COMPRESSED:
    case BL_MARIA_UPDATE_ROWS_COMPRESSED: case BL_MARIA_DELETE_ROWS_COMPRESSED:
        return on_rows(d, h, body, len);
    case BL_TRANSACTION_PAYLOAD:
        return inner ? failf(d, "a TRANSACTION_PAYLOAD inside another")
                     : on_payload(d, body, len);
    case BL_PARTIAL_UPDATE_ROWS:
        if (d->o->all_tables)
            fprintf(d->errs, "outbox-relay dump: %s: at offset %" PRIu64
                    ": PARTIAL_UPDATE_ROWS (JSON diffs) not shown\n",
                    d->o->file, d->pos);
        return 0;
    default:
        return 0;
    }
}

static int on_event(struct dump *d, const uint8_t *ev, size_t len, int inner)
{
    struct binlog_header h;
    const uint8_t *body;
    size_t blen;
    char err[512];
    if (binlog_parse_header(ev, len, &h, err, sizeof err) < 0)
        return failf(d, "%s", err);
    if (h.type == BL_FORMAT_DESCRIPTION && !inner)
        return binlog_parse_fde(ev, h.size, &d->fmt, err, sizeof err) < 0
                   ? failf(d, "%s", err) : 0;
    struct binlog_format f = d->fmt;
    if (inner)
        f.checksum_len = 0; /* only the payload event carries one */
    if (binlog_body(&f, ev, h.size, 1, &body, &blen, err, sizeof err) < 0)
        return failf(d, "%s", err);
    return on_body(d, &h, body, blen, inner);
}

/* ---- the file --------------------------------------------------------- */

static int walk(struct dump *d, const uint8_t *p, size_t size)
{
    d->pos = 0;
    if (size < 4 || memcmp(p, "\xfe" "bin", 4) != 0)
        return failf(d, "not a binlog file (it does not start with \\xfebin)");
    binlog_format_default(&d->fmt);
    struct bwalk w;
    const uint8_t *ev;
    size_t len;
    char err[512];
    int more;
    bwalk_init(&w, p, size, 4);
    while ((more = bwalk_next(&w, &ev, &len, err, sizeof err)) == 1) {
        d->pos = w.at;
        int rc = on_event(d, ev, len, 0);
        if (rc)
            return rc;
    }
    if (more == 0)
        return 0;
    d->pos = w.at;
    return failf(d, "%s", err);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int compile_tables(struct dump *d, const struct relay_cfg *cfg)
{
    static struct cfg_kv headers[] = {{(char *)"id", (char *)"id"},
                                      {(char *)"type", (char *)"type"}};
    static struct relay_table_cfg builtin = {
        (char *)"*.outbox", (char *)"outbox.event.${aggregatetype}",
        (char *)"aggregateid", (char *)"payload", {headers, 2},
        4 * 1024 * 1024};
    char err[512];
    d->nobx = cfg ? cfg->outbox.count : 1;
    if (!(d->obx = calloc(d->nobx, sizeof *d->obx)))
        return failf(d, "out of memory");
    for (size_t i = 0; i < d->nobx; i++) {
        const struct relay_table_cfg *tc =
            cfg ? CFG_LIST_AT(cfg->outbox, struct relay_table_cfg, i) : &builtin;
        if (outbox_table_compile(&d->obx[i], tc, err, sizeof err) < 0)
            return failf(d, "%s", err);
    }
    return 0;
}

static void release(struct dump *d)
{
    for (size_t i = 0; i < d->ntables; i++)
        binlog_table_free(&d->tables[i].map);
    free(d->tables);
    for (size_t i = 0; d->obx && i < d->nobx; i++)
        outbox_table_free(&d->obx[i]);
    free(d->obx);
    binlog_scratch_free(&d->scratch);
    binlog_scratch_free(&d->inflated);
    free(d->cells);
    free(d->line.buf);
    free(d->before.buf);
}

int dump_run(const struct dump_opts *o, FILE *out, FILE *errs)
{
    struct dump d = {.o = o, .out = out, .errs = errs, .name = base_name(o->file)};
    d.scratch.max = d.inflated.max = ROW_TEXT_MAX;
    d.line = d.before = (struct mysql_json_out){NULL, 0, 0, 0, 1, 0};
    int fd = open(o->file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int rc = failf(&d, "cannot open: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    size_t size = (size_t)st.st_size;
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (size && map == MAP_FAILED)
        return failf(&d, "cannot map: %s", strerror(errno));
    int rc = compile_tables(&d, o->cfg);
    if (rc == 0)
        rc = walk(&d, map ? map : "", size);
    if (fflush(out) != 0 && rc == 0)
        rc = failf(&d, "cannot write the output");
    if (map)
        munmap(map, size);
    release(&d);
    return rc;
}

/* ---- the subcommand --------------------------------------------------- */

static const char DUMP_USAGE[] =
    "usage: outbox-relay dump --binlog-file FILE [--all-tables] [-c FILE]\n"
    "\n"
    "Decodes a binlog file offline and prints one JSON object per line: one\n"
    "per outbox event (topic, key, headers, value, source position), or with\n"
    "--all-tables one per row of every row event. Without -c, the outbox is\n"
    "any table named `outbox` with the default (Debezium) column names.\n";

static int usage_error(const char *msg)
{
    fprintf(stderr, "outbox-relay dump: %s\n%s", msg, DUMP_USAGE);
    return EXIT_USAGE;
}

int dump_main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"binlog-file", required_argument, NULL, 'f'},
        {"all-tables", no_argument, NULL, 'a'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct dump_opts o = {0};
    const char *config = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f': o.file = optarg; break;
        case 'a': o.all_tables = 1; break;
        case 'c': config = optarg; break;
        case 'h': fputs(DUMP_USAGE, stdout); return EXIT_OK;
        case ':': return usage_error("an option is missing its value");
        default: return usage_error("unknown option");
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument");
    if (!o.file)
        return usage_error("--binlog-file is required");
    struct relay_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    if (config) {
        int rc = cfg_load_for_main(&relay_cfg_schema, config, 0, &cfg);
        if (rc >= 0)
            return rc;
        o.cfg = &cfg;
    }
    int rc = dump_run(&o, stdout, stderr);
    if (config)
        cfg_free(&relay_cfg_schema, &cfg);
    return rc;
}
