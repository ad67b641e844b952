/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MySQL binary JSON, read after sql-common/json_binary.{h,cc}. The checks
 * are those of MySQL's reader (parse_array_or_object, Value::key,
 * Value::element), slightly stricter: a value or key must lie after its
 * container's header, not merely after its own entry.
 */
#include "relay/mysql_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/binlog.h"

enum {
    JB_SMALL_OBJECT = 0x00, JB_LARGE_OBJECT = 0x01, JB_SMALL_ARRAY = 0x02,
    JB_LARGE_ARRAY = 0x03, JB_LITERAL = 0x04, JB_INT16 = 0x05,
    JB_UINT16 = 0x06, JB_INT32 = 0x07, JB_UINT32 = 0x08, JB_INT64 = 0x09,
    JB_UINT64 = 0x0a, JB_DOUBLE = 0x0b, JB_STRING = 0x0c, JB_OPAQUE = 0x0f,
};

struct ctx {
    const uint8_t *doc;
    struct mysql_json_out *o;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int
fail(struct ctx *c, const uint8_t *at, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "malformed MySQL JSON at byte %zu: %s",
             (size_t)(at - c->doc), what);
    return -1;
}

/* ---- output ----------------------------------------------------------- */

static int grow(struct mysql_json_out *o, size_t need)
{
    size_t cap = o->cap ? o->cap : 256;
    while (cap < need)
        cap *= 2;
    char *b = realloc(o->buf, cap);
    if (!b)
        return -1;
    o->buf = b;
    o->cap = cap;
    return 0;
}

void mysql_json_put(struct mysql_json_out *o, const void *s, size_t n)
{
    if (o->failed)
        return;
    if (o->limit && n > o->limit - o->len) {
        o->failed = 1;
        return;
    }
    if (o->growable && o->len + n > o->cap && grow(o, o->len + n) < 0) {
        o->failed = 1;
        return;
    }
    if (o->len < o->cap)
        memcpy(o->buf + o->len, s, n < o->cap - o->len ? n : o->cap - o->len);
    o->len += n;
}

static void put_str(struct mysql_json_out *o, const char *s)
{
    mysql_json_put(o, s, strlen(s));
}

void mysql_json_put_string(struct mysql_json_out *o, const void *s, size_t n)
{
    const unsigned char *p = s;
    size_t run = 0; /* bytes that need no escape, copied in one go */
    mysql_json_put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        const char *esc = ch == '"' ? "\\\"" : ch == '\\' ? "\\\\"
                        : ch == '\n' ? "\\n" : ch == '\r' ? "\\r"
                        : ch == '\t' ? "\\t" : ch == '\b' ? "\\b"
                        : ch == '\f' ? "\\f" : NULL;
        if (!esc && ch >= 0x20)
            continue;
        mysql_json_put(o, p + run, i - run);
        run = i + 1;
        char u[8];
        if (!esc) {
            snprintf(u, sizeof u, "\\u%04x", ch);
            esc = u;
        }
        put_str(o, esc);
    }
    mysql_json_put(o, p + run, n - run);
    mysql_json_put(o, "\"", 1);
}

void mysql_json_put_base64(struct mysql_json_out *o, const void *s, size_t n)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = s;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {abc[v >> 18], abc[(v >> 12) & 63],
                     i + 1 < n ? abc[(v >> 6) & 63] : '=',
                     i + 2 < n ? abc[v & 63] : '='};
        mysql_json_put(o, q, 4);
    }
}

__attribute__((format(printf, 2, 3))) static void
putf(struct mysql_json_out *o, const char *fmt, ...)
{
    char b[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (n > 0)
        mysql_json_put(o, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

/* ---- reading ---------------------------------------------------------- */

static uint64_t rd(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* data-length: 7 bits a byte, high bit set on all but the last; at most 5
 * bytes and 32 bits (MySQL's read_variable_length). */
static int varlen(const uint8_t *p, size_t avail, uint32_t *len, size_t *used)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 5 && i < avail; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (v > UINT32_MAX)
                return -1;
            *len = (uint32_t)v;
            *used = i + 1;
            return 0;
        }
    }
    return -1;
}

/* ---- scalars ---------------------------------------------------------- */

/* Shortest digits that read back as the same double; ".0" keeps an
 * integral value a double, as MySQL prints it. */
static int put_double(struct ctx *c, const uint8_t *p)
{
    uint64_t bits = rd(p, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    if (!isfinite(d))
        return fail(c, p, "a double that is not a finite number");
    char b[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, d);
        if (strtod(b, NULL) == d)
            break;
    }
    put_str(c->o, b);
    if (!strpbrk(b, ".e"))
        put_str(c->o, ".0");
    return 0;
}

/* Packed datetime (TIME_to_longlong_datetime_packed): the integer part
 * shifted 24 bits left over the microseconds; negative for negative
 * times. */
static int put_datetime(struct ctx *c, int ftype, const uint8_t *p,
                        size_t len)
{
    if (len != 8)
        return fail(c, p, "a date/time of %zu bytes, not 8", len);
    int64_t v = (int64_t)rd(p, 8);
    int neg = v < 0;
    uint64_t a = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    unsigned frac = (unsigned)(a & 0xffffff);
    uint64_t ymdhms = a >> 24;
    if (ftype == BT_TIME) {
        putf(c->o, "\"%s%02u:%02u:%02u.%06u\"", neg ? "-" : "",
             (unsigned)((ymdhms >> 12) & 0x3ff), (unsigned)((ymdhms >> 6) & 63),
             (unsigned)(ymdhms & 63), frac);
        return 0;
    }
    uint64_t ymd = ymdhms >> 17, ym = ymd >> 5, hms = ymdhms & 0x1ffff;
    putf(c->o, "\"%04u-%02u-%02u", (unsigned)(ym / 13 % 10000),
         (unsigned)(ym % 13), (unsigned)(ymd & 31));
    if (ftype != BT_DATE)
        putf(c->o, " %02u:%02u:%02u.%06u", (unsigned)(hms >> 12),
             (unsigned)((hms >> 6) & 63), (unsigned)(hms & 63), frac);
    put_str(c->o, "\"");
    return 0;
}

/* Decimal: precision, scale, then MySQL's binary decimal. */
static int put_decimal(struct ctx *c, const uint8_t *p, size_t len)
{
    char text[BINLOG_DECIMAL_TEXT];
    size_t used;
    if (len < 2 || binlog_decimal_text(p + 2, len - 2, p[0], p[1], text,
                                       &used) < 0 || used != len - 2)
        return fail(c, p, "a DECIMAL that does not decode");
    put_str(c->o, text);
    return 0;
}

static int put_opaque(struct ctx *c, const uint8_t *p, size_t avail)
{
    uint32_t n;
    size_t used;
    if (avail < 1 || varlen(p + 1, avail - 1, &n, &used) < 0 ||
        n > avail - 1 - used)
        return fail(c, p, "truncated opaque value");
    const uint8_t *data = p + 1 + used;
    switch (p[0]) {
    case BT_DATE: case BT_TIME: case BT_DATETIME: case BT_TIMESTAMP:
        return put_datetime(c, p[0], data, n);
    case BT_NEWDECIMAL:
        return put_decimal(c, data, n);
    case BT_VAR_STRING:
        mysql_json_put_string(c->o, data, n);
        return 0;
    default:
        putf(c->o, "\"base64:type%u:", p[0]);
        mysql_json_put_base64(c->o, data, n);
        put_str(c->o, "\"");
        return 0;
    }
}

static int put_scalar(struct ctx *c, uint8_t type, const uint8_t *p,
                      size_t avail)
{
    static const size_t width[] = {
        [JB_LITERAL] = 1, [JB_INT16] = 2, [JB_UINT16] = 2, [JB_INT32] = 4,
        [JB_UINT32] = 4, [JB_INT64] = 8, [JB_UINT64] = 8, [JB_DOUBLE] = 8,
    };
    if (type >= JB_LITERAL && type <= JB_DOUBLE && avail < width[type])
        return fail(c, p, "truncated scalar of type 0x%02x", type);
    uint32_t n;
    size_t used;
    switch (type) {
    case JB_LITERAL:
        if (p[0] > 2)
            return fail(c, p, "unknown literal 0x%02x", p[0]);
        put_str(c->o, p[0] == 0 ? "null" : p[0] == 1 ? "true" : "false");
        return 0;
    case JB_INT16: putf(c->o, "%d", (int16_t)rd(p, 2)); return 0;
    case JB_UINT16: putf(c->o, "%u", (unsigned)rd(p, 2)); return 0;
    case JB_INT32: putf(c->o, "%" PRId32, (int32_t)rd(p, 4)); return 0;
    case JB_UINT32: putf(c->o, "%" PRIu32, (uint32_t)rd(p, 4)); return 0;
    case JB_INT64: putf(c->o, "%" PRId64, (int64_t)rd(p, 8)); return 0;
    case JB_UINT64: putf(c->o, "%" PRIu64, rd(p, 8)); return 0;
    case JB_DOUBLE: return put_double(c, p);
    case JB_STRING:
        if (varlen(p, avail, &n, &used) < 0 || n > avail - used)
            return fail(c, p, "truncated string");
        mysql_json_put_string(c->o, p + used, n);
        return 0;
    case JB_OPAQUE:
        return put_opaque(c, p, avail);
    default:
        return fail(c, p - 1, "unknown value type 0x%02x", type);
    }
}

/* ---- objects and arrays ----------------------------------------------- */

/* One container: p[0..size) holds count, size, the key entries (objects),
 * the value entries, then keys and values. */
struct box {
    const uint8_t *p;
    size_t size, os; /* os: 2 (small) or 4 (large) byte offsets */
    uint32_t count;
    size_t header; /* where the header ends */
    int is_obj;
};

static int put_value(struct ctx *c, uint8_t type, const uint8_t *p,
                     size_t avail, int depth);

static int put_key(struct ctx *c, const struct box *b, uint32_t i)
{
    const uint8_t *e = b->p + 2 * b->os + (size_t)i * (b->os + 2);
    uint64_t off = rd(e, b->os), n = rd(e + b->os, 2);
    if (off < b->header || off > b->size || n > b->size - off)
        return fail(c, e, "key %u lies outside its object", i);
    mysql_json_put_string(c->o, b->p + off, (size_t)n);
    put_str(c->o, ":");
    return 0;
}

/* Literals and 16-bit integers (32-bit too in the large format) sit in the
 * entry itself; everything else is at an offset. */
static int put_entry(struct ctx *c, const struct box *b, uint32_t i,
                     int depth)
{
    size_t keys = b->is_obj ? (size_t)b->count * (b->os + 2) : 0;
    const uint8_t *e = b->p + 2 * b->os + keys + (size_t)i * (1 + b->os);
    uint8_t t = e[0];
    int inlined = t == JB_LITERAL || t == JB_INT16 || t == JB_UINT16 ||
                  (b->os == 4 && (t == JB_INT32 || t == JB_UINT32));
    if (inlined)
        return put_scalar(c, t, e + 1, b->os);
    uint64_t off = rd(e + 1, b->os);
    if (off < b->header || off >= b->size)
        return fail(c, e, "value %u lies outside its container", i);
    return put_value(c, t, b->p + off, b->size - off, depth);
}

static int put_container(struct ctx *c, int is_obj, int large,
                         const uint8_t *p, size_t avail, int depth)
{
    struct box b = {p, 0, large ? 4 : 2, 0, 0, is_obj};
    if (depth >= MYSQL_JSON_MAX_DEPTH)
        return fail(c, p, "nested deeper than %d levels", MYSQL_JSON_MAX_DEPTH);
    if (avail < 2 * b.os)
        return fail(c, p, "truncated %s header", is_obj ? "object" : "array");
    b.count = (uint32_t)rd(p, b.os);
    b.size = (size_t)rd(p + b.os, b.os);
    uint64_t header = 2 * b.os + (uint64_t)b.count *
                      ((is_obj ? b.os + 2 : 0) + 1 + b.os);
    if (b.size > avail || header > b.size)
        return fail(c, p, "%s of %u members does not fit its %zu bytes",
                    is_obj ? "object" : "array", b.count, b.size);
    b.header = (size_t)header;
    put_str(c->o, is_obj ? "{" : "[");
    for (uint32_t i = 0; i < b.count && !c->o->failed; i++) {
        if (i)
            put_str(c->o, ",");
        if ((is_obj && put_key(c, &b, i) < 0) || put_entry(c, &b, i, depth + 1) < 0)
            return -1;
    }
    put_str(c->o, is_obj ? "}" : "]");
    return 0;
}

static int put_value(struct ctx *c, uint8_t type, const uint8_t *p,
                     size_t avail, int depth)
{
    switch (type) {
    case JB_SMALL_OBJECT: return put_container(c, 1, 0, p, avail, depth);
    case JB_LARGE_OBJECT: return put_container(c, 1, 1, p, avail, depth);
    case JB_SMALL_ARRAY: return put_container(c, 0, 0, p, avail, depth);
    case JB_LARGE_ARRAY: return put_container(c, 0, 1, p, avail, depth);
    default: return put_scalar(c, type, p, avail);
    }
}

int mysql_json_to_text(const uint8_t *doc, size_t len,
                       struct mysql_json_out *out, char *err, size_t errlen)
{
    struct ctx c = {doc, out, err, errlen};
    if (len == 0) { /* what IGNORE or a non-strict sql_mode stores for NULL */
        put_str(out, "null");
    } else if (put_value(&c, doc[0], doc + 1, len - 1, 0) < 0) {
        return -1;
    }
    if (out->failed) {
        snprintf(err, errlen, "MySQL JSON document of %zu bytes: its text "
                 "passes %zu bytes, or memory ran out", len, out->limit);
        return -1;
    }
    return 0;
}
