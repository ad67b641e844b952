/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The binlog format, from MySQL's libbinlogevents and MariaDB's
 * log_event.h. Every read goes through a cursor that checks the bytes are
 * there, so a truncated or hostile event is an error, never a read past
 * the buffer.
 */
#include "relay/binlog.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/numfmt.h"
#include "relay/crc32.h"
#include "relay/mysql_json.h"

#include <zstd.h>

#define PAYLOAD_MAX (1024ULL * 1024 * 1024) /* decompressed, at most */


/* ---- the cursor ------------------------------------------------------- */

struct cur {
    const uint8_t *p, *end;
    int bad;
};

static int need(struct cur *c, size_t n)
{
    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return 0;
    }
    return 1;
}

static uint64_t le(struct cur *c, int n)
{
    uint64_t v = 0;
    if (!need(c, (size_t)n))
        return 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += n;
    return v;
}

static uint64_t be(struct cur *c, int n)
{
    uint64_t v = 0;
    if (!need(c, (size_t)n))
        return 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | c->p[i];
    c->p += n;
    return v;
}

static const uint8_t *take(struct cur *c, size_t n)
{
    const uint8_t *p = c->p;
    if (!need(c, n))
        return NULL;
    c->p += n;
    return p;
}

/* MySQL's length-encoded integer. */
static uint64_t packed(struct cur *c)
{
    if (!need(c, 1))
        return 0;
    uint8_t b = *c->p++;
    if (b < 251)
        return b;
    if (b == 252)
        return le(c, 2);
    if (b == 253)
        return le(c, 3);
    if (b == 254)
        return le(c, 8);
    c->bad = 1; /* 251 is NULL, 255 is not an integer */
    return 0;
}

static int bad(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "malformed %s event", what);
    return BINLOG_ERR;
}

/* ---- header, checksum, format ----------------------------------------- */

void binlog_format_default(struct binlog_format *f)
{
    memset(f, 0, sizeof *f);
    /* Binlog v4 post-header lengths of the events we read, for a stream
     * whose FORMAT_DESCRIPTION has not arrived yet. */
    f->post_header[BL_QUERY] = 13;
    f->post_header[BL_ROTATE] = 8;
    f->post_header[BL_TABLE_MAP] = 8;
    for (int t = BL_WRITE_ROWS_V1; t <= BL_DELETE_ROWS_V1; t++)
        f->post_header[t] = 8;
    for (int t = BL_WRITE_ROWS; t <= BL_DELETE_ROWS; t++)
        f->post_header[t] = 10;
}

int binlog_parse_header(const uint8_t *ev, size_t len, struct binlog_header *h,
                        char *err, size_t errlen)
{
    struct cur c = {ev, ev + len, 0};
    h->timestamp = (uint32_t)le(&c, 4);
    h->type = (uint8_t)le(&c, 1);
    h->server_id = (uint32_t)le(&c, 4);
    h->size = (uint32_t)le(&c, 4);
    h->log_pos = (uint32_t)le(&c, 4);
    h->flags = (uint16_t)le(&c, 2);
    if (c.bad || h->size < BINLOG_HEADER_LEN || h->size > len) {
        snprintf(err, errlen, "malformed event header (size %u of %zu bytes)",
                 h->size, len);
        return BINLOG_ERR;
    }
    return BINLOG_OK;
}

int binlog_body(const struct binlog_format *f, const uint8_t *ev, size_t len,
                int verify, const uint8_t **body, size_t *body_len, char *err,
                size_t errlen)
{
    size_t cs = (size_t)f->checksum_len;
    if (len < BINLOG_HEADER_LEN + cs)
        return bad(err, errlen, "short");
    if (verify && cs) {
        uint32_t want = (uint32_t)ev[len - 4] | (uint32_t)ev[len - 3] << 8 |
                        (uint32_t)ev[len - 2] << 16 | (uint32_t)ev[len - 1] << 24;
        uint32_t got = crc32_update(0, ev, len - 4);
        if (want != got) {
            snprintf(err, errlen, "checksum mismatch in a %s event (stored "
                     "%08x, computed %08x)", binlog_type_name(ev[4]), want, got);
            return BINLOG_ERR;
        }
    }
    *body = ev + BINLOG_HEADER_LEN;
    *body_len = len - BINLOG_HEADER_LEN - cs;
    return BINLOG_OK;
}

int binlog_parse_fde(const uint8_t *ev, size_t len, struct binlog_format *f,
                     char *err, size_t errlen)
{
    struct cur c = {ev + BINLOG_HEADER_LEN, ev + len, 0};
    const size_t fixed = 2 + 50 + 4 + 1; /* version, server, time, hdr len */
    if (len < BINLOG_HEADER_LEN + fixed + 5 || le(&c, 2) != 4)
        return bad(err, errlen, "FORMAT_DESCRIPTION");
    const uint8_t *ver = take(&c, 50);
    c.p += 4;
    if (le(&c, 1) != BINLOG_HEADER_LEN)
        return bad(err, errlen, "FORMAT_DESCRIPTION");
    binlog_format_default(f);
    memcpy(f->server_version, ver, 50);
    f->server_version[50] = '\0';
    /* The event ends with the checksum algorithm (1 byte) and a CRC. */
    size_t n = len - BINLOG_HEADER_LEN - fixed - 5;
    for (size_t i = 0; i < n && i < 255; i++)
        f->post_header[i + 1] = c.p[i];
    uint8_t alg = ev[len - 5];
    if (alg != 0 && alg != 1) {
        snprintf(err, errlen, "unknown binlog checksum algorithm %u", alg);
        return BINLOG_ERR;
    }
    f->checksum_len = alg == 1 ? 4 : 0;
    if (alg != 1)
        return BINLOG_OK;
    /* The server sums the event as first written, before it set
     * LOG_EVENT_BINLOG_IN_USE_F (0x1) in a file still being written. */
    uint8_t flags0 = ev[17] & (uint8_t)~0x01;
    uint32_t crc = crc32_update(0, ev, 17);
    crc = crc32_update(crc, &flags0, 1);
    crc = crc32_update(crc, ev + 18, len - 4 - 18);
    if (crc != ((uint32_t)ev[len - 4] | (uint32_t)ev[len - 3] << 8 |
                (uint32_t)ev[len - 2] << 16 | (uint32_t)ev[len - 1] << 24))
        return bad(err, errlen, "FORMAT_DESCRIPTION (checksum)");
    return BINLOG_OK;
}

int binlog_parse_rotate(const uint8_t *body, size_t len,
                        struct binlog_rotate *out, char *err, size_t errlen)
{
    struct cur c = {body, body + len, 0};
    out->position = le(&c, 8);
    out->file = (const char *)c.p;
    out->file_len = c.bad ? 0 : (size_t)(c.end - c.p);
    if (c.bad || out->file_len == 0 || out->file_len > 255)
        return bad(err, errlen, "ROTATE");
    return BINLOG_OK;
}

/* ---- transactions ----------------------------------------------------- */

static int parse_mysql_gtid(const uint8_t *body, size_t len,
                            struct binlog_gtid *g, char *err, size_t errlen)
{
    struct cur c = {body, body + len, 0};
    g->mysql = 1;
    le(&c, 1); /* commit flag */
    const uint8_t *sid = take(&c, 16);
    g->seq = le(&c, 8);
    if (c.bad)
        return bad(err, errlen, "GTID");
    memcpy(g->uuid, sid, 16);
    if ((size_t)(c.end - c.p) >= 17 + 7) { /* logical clock, then times */
        c.p += 17;
        uint64_t imm = le(&c, 7);
        uint64_t orig = imm;
        if (imm & (1ULL << 55)) {
            imm &= ~(1ULL << 55);
            orig = le(&c, 7);
        }
        g->commit_us = (int64_t)(c.bad ? imm : orig);
    }
    return BINLOG_OK;
}

/* The MySQL serialization library's integers (libs/mysql/serialization/
 * variable_length_integers.h): the trailing one bits of the first byte,
 * plus one, give the length (1 to 9 bytes); the value is little-endian
 * in the remaining bits. Signed ones are zig-zag coded. */
static uint64_t ser_uint(struct cur *c)
{
    if (!need(c, 1))
        return 0;
    int n = 1;
    while (n < 9 && ((c->p[0] >> (n - 1)) & 1))
        n++;
    if (!need(c, (size_t)n))
        return 0;
    uint64_t v = n < 8 ? (uint64_t)(c->p[0] >> n) : 0, rest = 0;
    for (int i = 1; i < n; i++)
        rest |= (uint64_t)c->p[i] << (8 * (i - 1));
    c->p += n;
    return v | rest << (n == 9 ? 0 : 8 - n);
}

static int64_t ser_int(struct cur *c)
{
    uint64_t u = ser_uint(c);
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

/* A tag is [a-z_][a-z0-9_]*, at most 32 characters; MySQL folds case. */
static int copy_tag(struct cur *c, char tag[33])
{
    uint64_t n = ser_uint(c);
    const uint8_t *s = n >= 1 && n <= 32 ? take(c, (size_t)n) : NULL;
    for (size_t i = 0; s && i < n; i++) {
        char ch = (char)tolower(s[i]);
        if (!(ch == '_' || (ch >= 'a' && ch <= 'z') ||
              (i > 0 && ch >= '0' && ch <= '9')))
            return -1;
        tag[i] = ch;
    }
    if (!s)
        return -1;
    tag[n] = '\0';
    return 0;
}

/* One field of a tagged GTID, by its id (Gtid_event::define_fields in
 * libs/mysql/binlog/event/control_events.h). 1: done (a field the relay
 * has no use for and whose size it cannot know), 0, or -1. */
static int tagged_field(struct cur *c, uint64_t id, struct binlog_gtid *g,
                        uint64_t *imm, int *orig)
{
    switch (id) {
    case 0: case 8: case 9: case 10: case 11: /* flags, length, versions */
        ser_uint(c);
        return 0;
    case 1:
        for (int i = 0; i < 16; i++) {
            uint64_t b = ser_uint(c);
            if (b > 255)
                return -1;
            g->uuid[i] = (uint8_t)b;
        }
        return 0;
    case 2: {
        int64_t gno = ser_int(c);
        g->seq = gno > 0 ? (uint64_t)gno : 0;
        return gno > 0 ? 0 : -1;
    }
    case 3: return copy_tag(c, g->tag);
    case 4: case 5: ser_int(c); return 0; /* logical clock */
    case 6: *imm = ser_uint(c); return 0;
    case 7:
        g->commit_us = (int64_t)ser_uint(c);
        *orig = 1;
        return 0;
    default: return 1;
    }
}

/* GTID_TAGGED_LOG_EVENT (MySQL 8.3+): one message of the serialization
 * library: its id (1), its size from its first byte, the last field id a
 * reader may not skip, then (field id, value) pairs in id order. */
static int parse_tagged_gtid(const uint8_t *body, size_t len,
                             struct binlog_gtid *g, char *err, size_t errlen)
{
    struct cur c = {body, body + len, 0};
    g->mysql = 1;
    uint64_t id = ser_uint(&c), size = ser_uint(&c), imm = 0;
    uint64_t must = ser_uint(&c);
    int orig = 0, rc = 0;
    if (c.bad || id != 1 || size > len || size < (uint64_t)(c.p - body))
        return bad(err, errlen, "GTID_TAGGED");
    c.end = body + size;
    while (rc == 0 && c.p < c.end) {
        uint64_t field = ser_uint(&c);
        rc = c.bad ? -1 : tagged_field(&c, field, g, &imm, &orig);
        if (rc == 1 && field <= must) {
            snprintf(err, errlen, "GTID_TAGGED event with field %" PRIu64
                     ", unknown to this relay, that may not be skipped", field);
            return BINLOG_ERR;
        }
    }
    if (rc < 0 || c.bad || !g->seq || !g->tag[0])
        return bad(err, errlen, "GTID_TAGGED");
    if (!orig)
        g->commit_us = (int64_t)imm;
    return BINLOG_OK;
}

int binlog_parse_gtid(const struct binlog_header *h, const uint8_t *body,
                      size_t len, uint32_t server_id, struct binlog_gtid *out,
                      char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (h->type == BL_MYSQL_GTID || h->type == BL_MYSQL_ANONYMOUS_GTID)
        return parse_mysql_gtid(body, len, out, err, errlen);
    if (h->type == BL_MYSQL_GTID_TAGGED)
        return parse_tagged_gtid(body, len, out, err, errlen);
    struct cur c = {body, body + len, 0};
    out->seq = le(&c, 8);
    out->domain = (uint32_t)le(&c, 4);
    uint8_t flags = (uint8_t)le(&c, 1);
    if (c.bad)
        return bad(err, errlen, "GTID");
    out->server = server_id;
    out->standalone = flags & 0x01;
    return BINLOG_OK;
}

/* By hand (common/numfmt.h): once per transaction, where snprintf was a
 * tenth of the relay's own instructions for a one-row transaction. */
int binlog_gtid_text(const struct binlog_gtid *g, char *buf, size_t len)
{
    char text[36 + 1 + sizeof g->tag + 1 + NUMFMT_U64_MAX], *e = text;
    if (g->mysql) {
        static const uint8_t group[] = {4, 2, 2, 2, 6}; /* 8-4-4-4-12 */
        const uint8_t *u = g->uuid;
        for (size_t i = 0; i < sizeof group; u += group[i++]) {
            if (i)
                *e++ = '-';
            e = numfmt_hex(e, u, group[i]);
        }
        size_t tlen = strnlen(g->tag, sizeof g->tag);
        if (tlen) {
            *e++ = ':';
            memcpy(e, g->tag, tlen);
            e += tlen;
        }
        *e++ = ':';
    } else {
        e = numfmt_u64(e, g->domain);
        *e++ = '-';
        e = numfmt_u64(e, g->server);
        *e++ = '-';
    }
    e = numfmt_u64(e, g->seq);
    size_t n = (size_t)(e - text);
    if (n >= len)
        return -1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    return (int)n;
}

int binlog_parse_query(const struct binlog_format *f, const uint8_t *body,
                       size_t len, struct binlog_query *out, char *err,
                       size_t errlen)
{
    struct cur c = {body, body + len, 0};
    uint8_t ph = f->post_header[BL_QUERY] ? f->post_header[BL_QUERY] : 13;
    take(&c, 8); /* thread id, exec time */
    size_t db_len = (size_t)le(&c, 1);
    le(&c, 2); /* error code */
    size_t status_len = ph >= 13 ? (size_t)le(&c, 2) : 0;
    if (c.bad || (size_t)(c.p - body) > ph || ph > len)
        return bad(err, errlen, "QUERY");
    c.p = body + ph;
    take(&c, status_len);
    out->db = (const char *)take(&c, db_len + 1);
    out->db_len = db_len;
    if (c.bad)
        return bad(err, errlen, "QUERY");
    out->sql = (const char *)c.p;
    out->sql_len = (size_t)(c.end - c.p);
    return BINLOG_OK;
}

/* ---- table maps ------------------------------------------------------- */

static uint64_t read_table_id(struct cur *c, const struct binlog_format *f,
                              int type)
{
    return le(c, f->post_header[type] == 6 ? 4 : 6);
}

static int copy_name(struct cur *c, char *out, size_t cap)
{
    size_t n = (size_t)le(c, 1);
    const uint8_t *s = take(c, n + 1); /* and its NUL */
    if (!s || n >= cap)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

static int parse_table_head(struct cur *c, const struct binlog_format *f,
                            struct binlog_table_id *out)
{
    out->table_id = read_table_id(c, f, BL_TABLE_MAP);
    le(c, 2); /* flags */
    if (copy_name(c, out->db, sizeof out->db) < 0 ||
        copy_name(c, out->table, sizeof out->table) < 0)
        return -1;
    return c->bad ? -1 : 0;
}

int binlog_parse_table_id(const struct binlog_format *f, const uint8_t *body,
                          size_t len, struct binlog_table_id *out, char *err,
                          size_t errlen)
{
    struct cur c = {body, body + len, 0};
    if (parse_table_head(&c, f, out) < 0)
        return bad(err, errlen, "TABLE_MAP");
    return BINLOG_OK;
}

static int meta_size(uint8_t type)
{
    switch (type) {
    case BT_FLOAT: case BT_DOUBLE: case BT_BLOB: case BT_TINY_BLOB:
    case BT_MEDIUM_BLOB: case BT_LONG_BLOB: case BT_GEOMETRY: case BT_JSON:
    case BT_VECTOR: /* a BLOB's: the length's size (MySQL writes 4) */
    case BT_TIMESTAMP2: case BT_DATETIME2: case BT_TIME2:
        return 1;
    case BT_VARCHAR: case BT_VAR_STRING: case BT_BIT: case BT_NEWDECIMAL:
    case BT_SET: case BT_ENUM: case BT_STRING:
        return 2;
    default:
        return 0;
    }
}

/* The columns SIGNEDNESS has a bit for: the integers, FLOAT, DOUBLE,
 * DECIMAL, and YEAR (a TINYINT UNSIGNED to the servers), not BIT. Seen
 * live on MySQL 9.7, MariaDB 10.11 and 11.8 (test_relay_values): an
 * unsigned column after a YEAR was read with the bit of the column
 * before it, 18446744073709551615 as -1. */
static int is_numeric(uint8_t t)
{
    return t == BT_TINY || t == BT_SHORT || t == BT_INT24 || t == BT_LONG ||
           t == BT_LONGLONG || t == BT_FLOAT || t == BT_DOUBLE ||
           t == BT_NEWDECIMAL || t == BT_DECIMAL || t == BT_YEAR;
}

static void read_meta(struct cur *c, struct binlog_column *col)
{
    int n = meta_size(col->type);
    if (n == 1)
        col->meta = (uint16_t)le(c, 1);
    else if (n == 2 && (col->type == BT_VARCHAR || col->type == BT_VAR_STRING))
        col->meta = (uint16_t)le(c, 2);
    else if (n == 2)
        col->meta = (uint16_t)be(c, 2); /* (real type or precision, length) */
}

int binlog_column_real_type(const struct binlog_column *col)
{
    if (col->type != BT_STRING)
        return col->type;
    uint8_t b0 = col->meta >> 8;
    return (b0 & 0x30) != 0x30 ? (b0 | 0x30) : b0; /* CHAR over 255 bytes */
}

/* The names of one column's ENUM or SET members. */
static int read_members(struct cur *v, struct binlog_column *col)
{
    size_t n = (size_t)packed(v);
    if (v->bad || n > 65535 || (n && !(col->members = calloc(n, sizeof(char *)))))
        return -1;
    col->nmembers = n;
    for (size_t k = 0; k < n; k++) {
        size_t len = (size_t)packed(v);
        const uint8_t *s = take(v, len);
        if (!s || !(col->members[k] = malloc(len + 1)))
            return -1;
        memcpy(col->members[k], s, len);
        col->members[k][len] = '\0';
    }
    return 0;
}

/* SET_STR_VALUE / ENUM_STR_VALUE: the member lists of every SET (ENUM)
 * column, in column order. */
static int str_values(struct cur *v, struct binlog_table *t, int real)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (binlog_column_real_type(&t->cols[i]) == real && !t->cols[i].members &&
            read_members(v, &t->cols[i]) < 0)
            return -1;
    return 0;
}

/* The columns the charset metadata has a collation for (MySQL's
 * is_character_type of the real type): CHAR, BINARY, VARCHAR, VARBINARY,
 * TEXT and BLOB; not ENUM and SET (they have their own), nor JSON or
 * GEOMETRY. */
static int is_character(const struct binlog_column *col)
{
    int t = binlog_column_real_type(col);
    return t == BT_STRING || t == BT_VAR_STRING || t == BT_VARCHAR ||
           t == BT_BLOB;
}

#define COLLATION_BINARY 63

/* DEFAULT_CHARSET (a default collation, then column/collation pairs for
 * the others) or COLUMN_CHARSET (one collation per character column):
 * only whether a column is binary is kept. */
static int charsets(struct cur *v, struct binlog_table *t, int per_column)
{
    uint64_t dflt = per_column ? 0 : packed(v);
    for (size_t i = 0; i < t->ncols; i++)
        if (is_character(&t->cols[i]))
            t->cols[i].binary = per_column ? packed(v) == COLLATION_BINARY
                                           : dflt == COLLATION_BINARY;
    while (!per_column && v->p < v->end && !v->bad) {
        uint64_t index = packed(v), coll = packed(v);
        size_t k = 0;
        for (size_t i = 0; i < t->ncols; i++)
            if (is_character(&t->cols[i]) && k++ == index)
                t->cols[i].binary = coll == COLLATION_BINARY;
    }
    return v->bad ? -1 : 0;
}

/* Optional metadata (binlog_row_metadata): signedness, charsets, names. */
static int parse_optional(struct cur *c, struct binlog_table *t)
{
    while (c->p < c->end && !c->bad) {
        uint8_t kind = (uint8_t)le(c, 1);
        size_t len = (size_t)packed(c);
        struct cur v = {take(c, len), NULL, 0};
        if (!v.p)
            return -1;
        v.end = v.p + len;
        if (kind == 1) { /* SIGNEDNESS: one bit per numeric column */
            size_t bit = 0;
            for (size_t i = 0; i < t->ncols; i++) {
                if (!is_numeric(t->cols[i].type))
                    continue;
                if (bit / 8 < len)
                    t->cols[i].is_unsigned = (v.p[bit / 8] >> (7 - bit % 8)) & 1;
                bit++;
            }
        } else if (kind == 2 || kind == 3) { /* DEFAULT_/COLUMN_CHARSET */
            if (charsets(&v, t, kind == 3) < 0)
                return -1;
        } else if (kind == 5 || kind == 6) { /* SET_/ENUM_STR_VALUE */
            if (str_values(&v, t, kind == 5 ? BT_SET : BT_ENUM) < 0)
                return -1;
        } else if (kind == 4) { /* COLUMN_NAME */
            for (size_t i = 0; i < t->ncols; i++) {
                size_t n = (size_t)packed(&v);
                const uint8_t *s = take(&v, n);
                free(t->cols[i].name); /* a second COLUMN_NAME field */
                t->cols[i].name = s ? malloc(n + 1) : NULL;
                if (!t->cols[i].name)
                    return -1;
                memcpy(t->cols[i].name, s, n);
                t->cols[i].name[n] = '\0';
            }
            t->has_names = 1;
        }
    }
    return c->bad ? -1 : 0;
}

int binlog_parse_table(const struct binlog_format *f, const uint8_t *body,
                       size_t len, struct binlog_table *out, char *err,
                       size_t errlen)
{
    struct cur c = {body, body + len, 0};
    memset(out, 0, sizeof *out);
    if (parse_table_head(&c, f, &out->id) < 0)
        return bad(err, errlen, "TABLE_MAP");
    out->ncols = (size_t)packed(&c);
    const uint8_t *types = take(&c, out->ncols);
    if (!types || out->ncols == 0 || out->ncols > BINLOG_MAX_COLUMNS ||
        !(out->cols = calloc(out->ncols, sizeof *out->cols)))
        return bad(err, errlen, "TABLE_MAP");
    for (size_t i = 0; i < out->ncols; i++)
        out->cols[i].type = types[i];
    size_t meta_len = (size_t)packed(&c);
    struct cur m = {take(&c, meta_len), NULL, 0};
    m.end = m.p ? m.p + meta_len : NULL;
    for (size_t i = 0; m.p && i < out->ncols; i++)
        read_meta(&m, &out->cols[i]);
    const uint8_t *nulls = take(&c, (out->ncols + 7) / 8);
    for (size_t i = 0; nulls && i < out->ncols; i++)
        out->cols[i].nullable = (nulls[i / 8] >> (i % 8)) & 1;
    if (c.bad || !m.p || m.bad || parse_optional(&c, out) < 0) {
        binlog_table_free(out);
        return bad(err, errlen, "TABLE_MAP");
    }
    return BINLOG_OK;
}

void binlog_table_free(struct binlog_table *t)
{
    for (size_t i = 0; t->cols && i < t->ncols; i++) {
        free(t->cols[i].name);
        for (size_t k = 0; t->cols[i].members && k < t->cols[i].nmembers; k++)
            free(t->cols[i].members[k]);
        free(t->cols[i].members);
    }
    free(t->cols);
    memset(t, 0, sizeof *t);
}

/* ---- rows ------------------------------------------------------------- */

int binlog_parse_rows(const struct binlog_header *h,
                      const struct binlog_format *f, const uint8_t *body,
                      size_t len, struct binlog_rows *out, char *err,
                      size_t errlen)
{
    struct cur c = {body, body + len, 0};
    int v2 = h->type >= BL_WRITE_ROWS && h->type <= BL_DELETE_ROWS;
    int base = v2 ? BL_WRITE_ROWS : BL_WRITE_ROWS_V1;
    memset(out, 0, sizeof *out);
    out->kind = "wud"[h->type - base];
    out->table_id = read_table_id(&c, f, h->type);
    le(&c, 2); /* flags */
    if (v2) {
        size_t extra = (size_t)le(&c, 2);
        if (extra < 2 || !take(&c, extra - 2))
            return bad(err, errlen, "ROWS");
    }
    out->ncols = (size_t)packed(&c);
    size_t bm = (out->ncols + 7) / 8;
    out->present = take(&c, bm);
    out->present_after = out->kind == 'u' ? take(&c, bm) : NULL;
    if (c.bad || out->ncols == 0 || out->ncols > BINLOG_MAX_COLUMNS)
        return bad(err, errlen, "ROWS");
    out->p = c.p;
    out->end = c.end;
    return BINLOG_OK;
}

/* Where numbers, dates and JSON text are rendered for the current row.
 * A growable scratch (max > len) is reallocated by copy; the cells of the
 * row that already point into it are moved along (cells[0..ncells)).
 * Values reach it only through scratch_room and scratch_took. */
struct scratch {
    char *buf;
    size_t len, used, max;
    struct binlog_scratch *owner; /* NULL: the caller's fixed array */
    struct outbox_cell *cells;
    size_t ncells;
};

static int scratch_reserve(struct scratch *s, size_t more)
{
    if (more <= s->len - s->used)
        return 0;
    if (!s->owner || more > s->max - s->used)
        return -1;
    size_t cap = s->len ? s->len : 4096;
    while (cap - s->used < more)
        cap = cap > s->max / 2 ? s->max : cap * 2;
    char *b = malloc(cap);
    if (!b)
        return -1;
    if (s->used)
        memcpy(b, s->buf, s->used);
    uintptr_t lo = (uintptr_t)s->buf, hi = lo + s->used;
    for (size_t i = 0; i < s->ncells; i++) {
        uintptr_t d = (uintptr_t)s->cells[i].data;
        if (!s->cells[i].is_null && d >= lo && d <= hi)
            s->cells[i].data = b + (d - lo);
    }
    free(s->buf);
    s->buf = s->owner->buf = b;
    s->len = s->owner->cap = cap;
    return 0;
}

/* Where a value's text goes: the end of the scratch, once room for
 * `want` bytes is made if the scratch can grow (a fixed one, or one at
 * its bound, has what it has). The value writes at most *room bytes
 * there, then scratch_took. Every type goes through this pair and none
 * measures the buffer itself, so none can write past it, nor fail for
 * room a growing scratch would have made (a DATETIME2 after a large JSON
 * column once did, and wedged the relay on a valid row). */
static char *scratch_room(struct scratch *s, size_t want, size_t *room)
{
    (void)scratch_reserve(s, want);
    *room = s->len - s->used;
    return s->buf + s->used;
}

/* The n bytes written at scratch_room's place become the cell. */
static void scratch_took(struct scratch *s, struct outbox_cell *cell, size_t n)
{
    cell->data = s->buf + s->used;
    cell->len = n;
    s->used += n;
}

#define PUT_MAX 128 /* any number or date; a DECIMAL's 80 is the longest */

__attribute__((format(printf, 3, 4))) static int
put(struct scratch *s, struct outbox_cell *cell, const char *fmt, ...)
{
    va_list ap;
    size_t room;
    char *p = scratch_room(s, PUT_MAX, &room);
    va_start(ap, fmt);
    int n = vsnprintf(p, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        return -1;
    scratch_took(s, cell, (size_t)n);
    return 0;
}

/* MySQL's binary JSON as JSON text: measured first when it does not fit,
 * then rendered again into room made for it. */
static int decode_json(struct cur *c, size_t n, struct scratch *s,
                       struct outbox_cell *cell, char *err, size_t errlen)
{
    const uint8_t *doc = take(c, n);
    size_t want = 0;
    for (int pass = 0; doc && pass < 2; pass++) {
        size_t room;
        char *p = scratch_room(s, want, &room);
        struct mysql_json_out o = {p, room, 0,
                                   s->max ? s->max - s->used : room, 0, 0};
        if (room < want) {
            snprintf(err, errlen, "JSON text of %zu bytes does not fit the "
                     "row buffer (%zu bytes at most)", want,
                     s->max ? s->max : s->len);
            return -2;
        }
        if (mysql_json_to_text(doc, n, &o, err, errlen) < 0)
            return -2; /* err says why */
        if (o.len <= room) {
            scratch_took(s, cell, o.len);
            return 0;
        }
        want = o.len;
    }
    return -1;
}

static int put_frac(struct scratch *s, struct outbox_cell *cell, uint64_t frac,
                    int fsp)
{
    if (fsp <= 0)
        return 0;
    for (int i = fsp; i < 6; i++)
        frac /= 10; /* stored in micro-seconds precision, shown with fsp */
    struct outbox_cell more;
    if (put(s, &more, ".%0*" PRIu64, fsp, frac) < 0)
        return -1;
    cell->len += more.len;
    return 0;
}

/* Fractional seconds: (fsp+1)/2 big-endian bytes, scaled to micro. */
static uint64_t read_frac(struct cur *c, int fsp)
{
    switch ((fsp + 1) / 2) {
    case 1: return be(c, 1) * 10000;
    case 2: return be(c, 2) * 100;
    case 3: return be(c, 3);
    default: return 0;
    }
}

int binlog_decimal_text(const uint8_t *raw, size_t avail, int prec, int scale,
                        char out[BINLOG_DECIMAL_TEXT], size_t *used)
{
    static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    if (prec < 1 || prec > 65 || scale < 0 || scale > 30 || scale > prec)
        return -1;
    int intg = prec - scale, ig0 = intg / 9, igx = intg % 9;
    int fr0 = scale / 9, frx = scale % 9;
    size_t size = (size_t)(ig0 * 4 + dig2bytes[igx] + fr0 * 4 + dig2bytes[frx]);
    uint8_t b[40];
    if (size > avail || size > sizeof b)
        return -1;
    memcpy(b, raw, size);
    int neg = !(b[0] & 0x80);
    b[0] ^= 0x80;
    for (size_t i = 0; neg && i < size; i++)
        b[i] = (uint8_t)~b[i];
    struct cur d = {b, b + size, 0};
    char *text = out + neg; /* room for the sign */
    const size_t room = BINLOG_DECIMAL_TEXT - 1;
    size_t n = 0;
    int started = 0;
    uint64_t part = dig2bytes[igx] ? be(&d, dig2bytes[igx]) : 0;
    if (part) {
        n += (size_t)snprintf(text + n, room - n, "%" PRIu64, part);
        started = 1;
    }
    for (int i = 0; i < ig0; i++) {
        part = be(&d, 4);
        n += (size_t)snprintf(text + n, room - n,
                              started ? "%09" PRIu64 : "%" PRIu64, part);
        started |= part != 0;
        if (!started)
            n = 0; /* leading zero groups print nothing */
    }
    if (!started)
        text[n++] = '0';
    if (scale)
        text[n++] = '.';
    for (int i = 0; i < fr0; i++)
        n += (size_t)snprintf(text + n, room - n, "%09" PRIu64, be(&d, 4));
    if (frx)
        n += (size_t)snprintf(text + n, room - n, "%0*" PRIu64, frx,
                              be(&d, dig2bytes[frx]));
    text[n] = '\0';
    out[0] = neg ? '-' : out[0];
    *used = size;
    return 0;
}

static int decode_decimal(struct cur *c, uint16_t meta, struct scratch *s,
                          struct outbox_cell *cell)
{
    char text[BINLOG_DECIMAL_TEXT];
    size_t used;
    if (binlog_decimal_text(c->p, (size_t)(c->end - c->p), meta >> 8,
                            meta & 0xff, text, &used) < 0 || !take(c, used))
        return -1;
    return put(s, cell, "%s", text);
}

/* TIME2 (my_time_packed_from_binary in MySQL's my_time.cc): the
 * integer part in 3 bytes with an offset, then (fsp+1)/2 bytes of
 * fraction. So that the bytes sort, a negative time keeps its integer
 * part rounded down and its fraction counted up from there, in the
 * fraction's own units: -00:00:00.01 is -1 and 0xff of 0x100. For fsp 5
 * and 6 the two are one 6-byte number, which reads the same way. */
static int decode_time2(struct cur *c, int fsp, struct scratch *s,
                        struct outbox_cell *cell)
{
    static const uint64_t usec_per_unit[] = {0, 10000, 100, 1};
    int nbytes = (fsp + 1) / 2;
    if (fsp > 6)
        return -1;
    int64_t v = (int64_t)be(c, 3) - 0x800000;
    uint64_t frac = nbytes ? be(c, nbytes) : 0;
    int neg = v < 0;
    if (neg && frac) { /* counted from the second above instead */
        v++;
        frac = (1ULL << (8 * nbytes)) - frac;
    }
    frac *= usec_per_unit[nbytes];
    uint64_t a = (uint64_t)(neg ? -v : v);
    if (put(s, cell, "%s%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, neg ? "-" : "",
            (a >> 12) & 0x3ff, (a >> 6) & 0x3f, a & 0x3f) < 0)
        return -1;
    return put_frac(s, cell, frac, fsp);
}

/* Fixed-width decimal digits: DATETIME columns (an outbox's created_at)
 * are in every row, and printf spent a twentieth of a backlog drain on
 * them (tests/bench). */
static char *digits(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

static int decode_datetime2(struct cur *c, int fsp, struct scratch *s,
                            struct outbox_cell *cell)
{
    int64_t v = (int64_t)be(c, 5) - 0x8000000000LL;
    uint64_t frac = read_frac(c, fsp);
    if (v < 0 || fsp > 6)
        return -1;
    uint64_t ymd = (uint64_t)v >> 17, hms = (uint64_t)v & 0x1ffff;
    uint64_t ym = ymd >> 5;
    uint64_t year = ym / 13; /* 17 bits allow a fifth digit; printf gave it */
    size_t need = (year > 9999 ? 20 : 19) + (fsp ? (size_t)fsp + 1 : 0), room;
    char *start = scratch_room(s, need, &room);
    if (room < need)
        return -1;
    char *p = digits(start, year, year > 9999 ? 5 : 4);
    *p++ = '-';
    p = digits(p, ym % 13, 2);
    *p++ = '-';
    p = digits(p, ymd & 31, 2);
    *p++ = ' ';
    p = digits(p, hms >> 12, 2);
    *p++ = ':';
    p = digits(p, (hms >> 6) & 63, 2);
    *p++ = ':';
    p = digits(p, hms & 63, 2);
    if (fsp > 0) {
        *p++ = '.';
        for (int i = fsp; i < 6; i++)
            frac /= 10; /* stored in micro-seconds precision, shown with fsp */
        p = digits(p, frac, fsp);
    }
    scratch_took(s, cell, (size_t)(p - start));
    return 0;
}

/* In UTC. 0 is the zero TIMESTAMP, '0000-00-00 00:00:00' as SELECT shows
 * it: a TIMESTAMP's range starts at 1970-01-01 00:00:01 UTC. */
static int decode_timestamp(uint64_t secs, uint64_t frac, int fsp,
                            struct scratch *s, struct outbox_cell *cell)
{
    time_t t = (time_t)secs;
    struct tm tm;
    if (secs == 0) {
        if (put(s, cell, "0000-00-00 00:00:00") < 0)
            return -1;
        return put_frac(s, cell, frac, fsp);
    }
    gmtime_r(&t, &tm);
    if (put(s, cell, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) < 0)
        return -1;
    return put_frac(s, cell, frac, fsp);
}

static int decode_string(struct cur *c, const struct binlog_column *col,
                         struct scratch *s, struct outbox_cell *cell)
{
    uint16_t meta = col->meta;
    uint8_t b0 = meta >> 8, b1 = meta & 0xff;
    unsigned real = b0, max = b1;
    if ((b0 & 0x30) != 0x30) { /* CHAR over 255 bytes: length bits in b0 */
        max = b1 | (((unsigned)(b0 & 0x30) ^ 0x30) << 4);
        real = b0 | 0x30;
    }
    /* The pack length: 1 or 2 bytes for an ENUM, up to 8 for a SET. */
    if (real == BT_ENUM || real == BT_SET) {
        if (max < 1 || max > (real == BT_ENUM ? 2u : 8u))
            return -1;
        return put(s, cell, "%" PRIu64, le(c, (int)max));
    }
    size_t n = (size_t)le(c, max < 256 ? 1 : 2);
    cell->data = take(c, n);
    cell->len = n;
    if (!cell->data)
        return -1;
    if (col->binary && n < max) { /* BINARY(max): SELECT's bytes */
        size_t room;
        char *p = scratch_room(s, max, &room);
        if (room < max)
            return -1;
        memcpy(p, cell->data, n);
        memset(p + n, 0, max - n);
        scratch_took(s, cell, max);
    }
    return 0;
}

/* MySQL 9's VECTOR: a BLOB of little-endian float32s, shown as MySQL's
 * VECTOR_TO_STRING shows it (from_vector_to_string in
 * sql/vector_conversion.h): "[1.00000e+00,2.00000e+00]". A SELECT gives
 * the raw bytes, which are no text for a Kafka record or a dump line. */
static int decode_vector(struct cur *c, uint16_t meta, struct scratch *s,
                         struct outbox_cell *cell)
{
    if (meta < 1 || meta > 4)
        return -1;
    size_t n = (size_t)le(c, meta), dims = n / 4;
    const uint8_t *v = take(c, n);
    if (!v || n == 0 || n % 4)
        return -1;
    /* "%.5e" of a float is at most 12 bytes ("-3.40282e+38"), then ','
     * or ']'; one more for '[' and one for snprintf's NUL. */
    size_t room;
    char *start = scratch_room(s, dims * 13 + 2, &room), *p = start;
    if (room < 2)
        return -1;
    *p++ = '[';
    for (size_t i = 0; i < dims; i++, v += 4) {
        uint32_t bits = (uint32_t)v[0] | (uint32_t)v[1] << 8 |
                        (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
        float f;
        size_t left = room - (size_t)(p - start);
        memcpy(&f, &bits, 4);
        int k = snprintf(p, left, "%.5e%c", (double)f, i + 1 < dims ? ',' : ']');
        if (k < 0 || (size_t)k >= left)
            return -1;
        p += k;
    }
    scratch_took(s, cell, (size_t)(p - start));
    return 0;
}

static int decode_value(struct cur *c, const struct binlog_column *col,
                        struct scratch *s, struct outbox_cell *cell)
{
    int u = col->is_unsigned, fsp = col->meta;
    switch (col->type) {
    case BT_TINY: return u ? put(s, cell, "%" PRIu64, le(c, 1)) : put(s, cell, "%d", (int8_t)le(c, 1));
    case BT_SHORT: return u ? put(s, cell, "%" PRIu64, le(c, 2)) : put(s, cell, "%d", (int16_t)le(c, 2));
    case BT_INT24: {
        uint64_t v = le(c, 3);
        return u ? put(s, cell, "%" PRIu64, v)
                 : put(s, cell, "%" PRId64, (int64_t)(v ^ 0x800000) - 0x800000);
    }
    case BT_LONG: return u ? put(s, cell, "%" PRIu64, le(c, 4)) : put(s, cell, "%d", (int32_t)le(c, 4));
    case BT_LONGLONG: return u ? put(s, cell, "%" PRIu64, le(c, 8)) : put(s, cell, "%" PRId64, (int64_t)le(c, 8));
    case BT_FLOAT: {
        uint32_t bits = (uint32_t)le(c, 4);
        float f;
        memcpy(&f, &bits, 4);
        return put(s, cell, "%.9g", (double)f);
    }
    case BT_DOUBLE: {
        uint64_t bits = le(c, 8);
        double d;
        memcpy(&d, &bits, 8);
        return put(s, cell, "%.17g", d);
    }
    case BT_YEAR: {
        uint64_t y = le(c, 1);
        return put(s, cell, "%04" PRIu64, y ? y + 1900 : 0);
    }
    case BT_DATE: case BT_NEWDATE: {
        uint64_t v = le(c, 3);
        return put(s, cell, "%04" PRIu64 "-%02" PRIu64 "-%02" PRIu64, v >> 9,
                   (v >> 5) & 15, v & 31);
    }
    case BT_TIME: {
        int64_t v = (int64_t)(le(c, 3) ^ 0x800000) - 0x800000;
        uint64_t a = (uint64_t)(v < 0 ? -v : v);
        return put(s, cell, "%s%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
                   v < 0 ? "-" : "", a / 10000, a / 100 % 100, a % 100);
    }
    case BT_DATETIME: {
        uint64_t v = le(c, 8), d = v / 1000000, t = v % 1000000;
        return put(s, cell, "%04" PRIu64 "-%02" PRIu64 "-%02" PRIu64
                   " %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, d / 10000,
                   d / 100 % 100, d % 100, t / 10000, t / 100 % 100, t % 100);
    }
    case BT_TIMESTAMP: return decode_timestamp(le(c, 4), 0, 0, s, cell);
    case BT_TIMESTAMP2: {
        uint64_t secs = be(c, 4);
        return decode_timestamp(secs, read_frac(c, fsp), fsp, s, cell);
    }
    case BT_DATETIME2: return decode_datetime2(c, fsp, s, cell);
    case BT_TIME2: return decode_time2(c, fsp, s, cell);
    case BT_VECTOR: return decode_vector(c, col->meta, s, cell);
    case BT_NEWDECIMAL: return decode_decimal(c, col->meta, s, cell);
    case BT_BIT: {
        size_t n = (size_t)(col->meta & 0xff) + ((col->meta >> 8) + 7) / 8;
        if (n > 8)
            return -1;
        return put(s, cell, "%" PRIu64, be(c, (int)n));
    }
    case BT_VARCHAR: case BT_VAR_STRING: {
        size_t n = (size_t)le(c, col->meta < 256 ? 1 : 2);
        cell->data = take(c, n);
        cell->len = n;
        return cell->data ? 0 : -1;
    }
    case BT_STRING: case BT_ENUM: case BT_SET:
        return decode_string(c, col, s, cell);
    case BT_BLOB: case BT_TINY_BLOB: case BT_MEDIUM_BLOB: case BT_LONG_BLOB:
    case BT_GEOMETRY: {
        if (col->meta < 1 || col->meta > 4)
            return -1;
        size_t n = (size_t)le(c, col->meta);
        cell->data = take(c, n);
        cell->len = n;
        return cell->data ? 0 : -1;
    }
    default:
        return -1;
    }
}

static int decode_cell(struct cur *c, const struct binlog_column *col,
                       struct scratch *s, struct outbox_cell *cell,
                       char *why, size_t whylen)
{
    if (col->type != BT_JSON)
        return decode_value(c, col, s, cell);
    if (col->meta < 1 || col->meta > 4)
        return -1;
    return decode_json(c, (size_t)le(c, col->meta), s, cell, why, whylen);
}

static int next_row(struct binlog_rows *r, const struct binlog_table *t,
                    struct outbox_cell *cells, struct scratch *s, char *err,
                    size_t errlen)
{
    if (r->p >= r->end)
        return 0;
    if (r->ncols != t->ncols) {
        snprintf(err, errlen, "row has %zu columns, table map %zu",
                 r->ncols, t->ncols);
        return -1;
    }
    struct cur c = {r->p, r->end, 0};
    size_t npresent = 0;
    for (size_t i = 0; i < r->ncols; i++)
        npresent += (r->present[i / 8] >> (i % 8)) & 1;
    if (npresent == 0) { /* it would take no bytes: the same row forever */
        snprintf(err, errlen, "row image without columns in %s.%s",
                 t->id.db, t->id.table);
        return -1;
    }
    const uint8_t *nulls = take(&c, (npresent + 7) / 8);
    size_t k = 0;
    for (size_t i = 0; nulls && i < r->ncols; i++) {
        struct outbox_cell *cell = &cells[i];
        *cell = (struct outbox_cell){NULL, 0, 1};
        s->ncells = i + 1; /* the cells to move if the scratch grows */
        if (!((r->present[i / 8] >> (i % 8)) & 1))
            continue;
        int is_null = (nulls[k / 8] >> (k % 8)) & 1;
        k++;
        if (is_null)
            continue;
        cell->is_null = 0;
        char why[256] = "";
        if (decode_cell(&c, &t->cols[i], s, cell, why, sizeof why) < 0 ||
            c.bad) {
            snprintf(err, errlen, "cannot decode column %zu (type %u) of "
                     "%s.%s%s%s", i + 1, t->cols[i].type, t->id.db,
                     t->id.table, why[0] ? ": " : "", why);
            return -1;
        }
    }
    if (c.bad || !nulls) {
        snprintf(err, errlen, "truncated row of %s.%s", t->id.db, t->id.table);
        return -1;
    }
    r->p = c.p;
    if (r->kind == 'u' && r->present_after) { /* before, then after image */
        const uint8_t *tmp = r->present;
        r->present = r->present_after;
        r->present_after = tmp;
    }
    return 1;
}

int binlog_next_row(struct binlog_rows *r, const struct binlog_table *t,
                    struct outbox_cell *cells, char *scratch,
                    size_t scratch_len, char *err, size_t errlen)
{
    struct scratch s = {scratch, scratch_len, 0, 0, NULL, cells, 0};
    return next_row(r, t, cells, &s, err, errlen);
}

int binlog_next_row_grow(struct binlog_rows *r, const struct binlog_table *t,
                         struct outbox_cell *cells, struct binlog_scratch *sc,
                         char *err, size_t errlen)
{
    struct scratch s = {sc->buf, sc->cap, 0, sc->max, sc, cells, 0};
    if (sc->cap > sc->max)
        s.max = sc->cap;
    if (scratch_reserve(&s, 4096) < 0 && !sc->buf) {
        snprintf(err, errlen, "out of memory for a row buffer");
        return -1;
    }
    return next_row(r, t, cells, &s, err, errlen);
}

void binlog_scratch_free(struct binlog_scratch *sc)
{
    free(sc->buf);
    sc->buf = NULL;
    sc->cap = 0;
}

/* Each header field: type, length, value, all MySQL packed integers (the
 * value in `length` bytes). Type 0 ends the header. */
static int payload_fields(struct cur *c, uint64_t fields[4])
{
    while (need(c, 1)) {
        uint64_t type = packed(c);
        if (type == 0)
            return 0;
        size_t n = (size_t)packed(c);
        struct cur v = {take(c, n), NULL, 0};
        if (!v.p || n == 0)
            return -1;
        v.end = v.p + n;
        uint64_t val = packed(&v);
        if (v.bad)
            return -1;
        if (type < 4)
            fields[type] = val;
    }
    return -1;
}

int binlog_payload_expand(const uint8_t *body, size_t len, uint8_t **out,
                          size_t *outlen, char *err, size_t errlen)
{
    struct cur c = {body, body + len, 0};
    uint64_t f[4] = {0}; /* 1 size, 2 compression, 3 uncompressed size */
    if (payload_fields(&c, f) < 0)
        return bad(err, errlen, "TRANSACTION_PAYLOAD");
    if (f[2] != 0) {
        snprintf(err, errlen, "TRANSACTION_PAYLOAD compression %" PRIu64
                 " is not zstd", f[2]);
        return BINLOG_ERR;
    }
    if (f[3] == 0 || f[3] > PAYLOAD_MAX) {
        snprintf(err, errlen, "TRANSACTION_PAYLOAD of %" PRIu64 " bytes", f[3]);
        return BINLOG_ERR;
    }
    uint8_t *buf = malloc(f[3]);
    size_t got = buf ? ZSTD_decompress(buf, f[3], c.p, (size_t)(c.end - c.p)) : 0;
    if (!buf || ZSTD_isError(got) || got != f[3]) {
        free(buf);
        snprintf(err, errlen, "cannot decompress a TRANSACTION_PAYLOAD");
        return BINLOG_ERR;
    }
    *out = buf;
    *outlen = got;
    return BINLOG_OK;
}

void binlog_set_log_pos(uint8_t *ev, uint32_t pos)
{
    for (int i = 0; i < 4; i++)
        ev[13 + i] = (uint8_t)(pos >> (8 * i));
}

const char *binlog_type_name(int type)
{
    switch (type) {
    case BL_QUERY: return "QUERY";
    case BL_STOP: return "STOP";
    case BL_ROTATE: return "ROTATE";
    case BL_FORMAT_DESCRIPTION: return "FORMAT_DESCRIPTION";
    case BL_XID: return "XID";
    case BL_TABLE_MAP: return "TABLE_MAP";
    case BL_WRITE_ROWS_V1: case BL_WRITE_ROWS: return "WRITE_ROWS";
    case BL_UPDATE_ROWS_V1: case BL_UPDATE_ROWS: return "UPDATE_ROWS";
    case BL_DELETE_ROWS_V1: case BL_DELETE_ROWS: return "DELETE_ROWS";
    case BL_HEARTBEAT: case BL_HEARTBEAT_V2: return "HEARTBEAT";
    case BL_ROWS_QUERY: return "ROWS_QUERY";
    case BL_MYSQL_GTID: return "GTID";
    case BL_MYSQL_ANONYMOUS_GTID: return "ANONYMOUS_GTID";
    case BL_MYSQL_PREVIOUS_GTIDS: return "PREVIOUS_GTIDS";
    case BL_PARTIAL_UPDATE_ROWS: return "PARTIAL_UPDATE_ROWS";
    case BL_TRANSACTION_PAYLOAD: return "TRANSACTION_PAYLOAD";
    case BL_MYSQL_GTID_TAGGED: return "GTID_TAGGED";
    case BL_MARIA_ANNOTATE_ROWS: return "ANNOTATE_ROWS";
    case BL_MARIA_BINLOG_CHECKPOINT: return "BINLOG_CHECKPOINT";
    case BL_MARIA_GTID: return "GTID";
    case BL_MARIA_GTID_LIST: return "GTID_LIST";
    case BL_MARIA_START_ENCRYPTION: return "START_ENCRYPTION";
    case BL_MARIA_QUERY_COMPRESSED: return "QUERY_COMPRESSED";
    case BL_MARIA_WRITE_ROWS_COMPRESSED_V1: case BL_MARIA_WRITE_ROWS_COMPRESSED:
        return "WRITE_ROWS_COMPRESSED";
    case BL_MARIA_UPDATE_ROWS_COMPRESSED_V1: case BL_MARIA_UPDATE_ROWS_COMPRESSED:
        return "UPDATE_ROWS_COMPRESSED";
    case BL_MARIA_DELETE_ROWS_COMPRESSED_V1: case BL_MARIA_DELETE_ROWS_COMPRESSED:
        return "DELETE_ROWS_COMPRESSED";
    default: return "unknown";
    }
}
