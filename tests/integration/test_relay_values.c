/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The differential value test, live: rows of every column type the
 * server has are INSERTed, `outbox-relay dump --all-tables` decodes the
 * server's binlog file, and every value is compared with what SELECT
 * returns for the same row. JSON documents of every shape go through the
 * outbox too, and each Kafka record's value (read back with kcat) is
 * compared with SELECT's payload.
 *
 * Only the differences README.md documents are allowed ("Looking into a
 * binlog file", relay/dump.h): numbers are JSON numbers (FLOAT and DOUBLE
 * compared as the float or double they read back as, BIT with SELECT's
 * b+0, YEAR as the number SELECT's text is); MySQL JSON embedded (compared
 * as JSON: the same members in the same order, numbers as numbers, so
 * SELECT's spacing does not count; a DECIMAL inside is a number either
 * way); MySQL 9 VECTOR as VECTOR_TO_STRING()'s text; bytes that are not
 * UTF-8 as "base64:typeNN:..." with NN the column's type; TIMESTAMP in
 * UTC (the SELECT session's time_zone is +00:00). FLOAT is SELECTed as
 * CAST(f AS DOUBLE): MariaDB's text of a FLOAT keeps 6 digits, fewer than
 * the float has. Any other difference fails, naming table, row, column,
 * the dump's value and SELECT's.
 *
 * Per server: MySQL 9 VECTOR; MariaDB INET4 (10.10+), INET6, UUID (10.7+)
 * and its own VECTOR (11.7+), which the binlog carries as BINARY(n) and
 * VARBINARY bytes without their type, so the dump shows their stored
 * bytes: compared with CAST(col AS BINARY) (INET4, INET6) and with the
 * raw bytes (VECTOR); UUID is left out (see README.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <mysql.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "tests/integration/relay_env.h"

/* ---- a small strict JSON reader -------------------------------------- */

enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
    enum jt t;
    char *s; /* J_STR: the decoded bytes; J_NUM, J_BOOL: the text */
    size_t n;
    const char *raw; /* the value's text in the document */
    size_t rawlen;
    struct jv *kids; /* J_ARR, J_OBJ */
    struct jv *keys; /* J_OBJ: J_STR each */
    size_t nkids;
};

struct jp {
    const char *p, *end;
    int bad;
};

static void ws(struct jp *j)
{
    while (j->p < j->end && strchr(" \t\r\n", *j->p))
        j->p++;
}

static void put_utf8(char *out, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | cp >> 6);
        out[(*n)++] = (char)(0x80 | (cp & 63));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | cp >> 12);
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 63));
        out[(*n)++] = (char)(0x80 | (cp & 63));
    } else {
        out[(*n)++] = (char)(0xf0 | cp >> 18);
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 63));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 63));
        out[(*n)++] = (char)(0x80 | (cp & 63));
    }
}

static unsigned hex4(struct jp *j)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++, j->p++) {
        if (j->p >= j->end || !isxdigit((unsigned char)*j->p)) {
            j->bad = 1;
            return 0;
        }
        char c = (char)tolower((unsigned char)*j->p);
        v = v * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
    }
    return v;
}

static void jstring(struct jp *j, struct jv *v)
{
    j->p++; /* the quote */
    v->t = J_STR;
    v->s = malloc((size_t)(j->end - j->p) + 1);
    v->n = 0;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p++;
        if (c < 0x20) {
            j->bad = 1;
            break;
        }
        if (c != '\\') {
            v->s[v->n++] = (char)c;
            continue;
        }
        if (j->p >= j->end) {
            j->bad = 1;
            break;
        }
        char e = *j->p++;
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, e);
        if (e && k) {
            v->s[v->n++] = to[k - from];
        } else if (e == 'u') {
            unsigned cp = hex4(j);
            if (cp >= 0xd800 && cp < 0xdc00 && j->p + 1 < j->end &&
                j->p[0] == '\\' && j->p[1] == 'u') {
                j->p += 2;
                unsigned lo = hex4(j);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            put_utf8(v->s, &v->n, cp);
        } else {
            j->bad = 1;
            break;
        }
    }
    v->s[v->n] = '\0'; /* for strcmp; the bytes are s[0..n) */
    if (j->p >= j->end)
        j->bad = 1;
    else
        j->p++;
}

/* JSON's number grammar: no leading zeros, no '+', digits after '.'. */
static void jnumber(struct jp *j, struct jv *v)
{
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (j->p < j->end && isdigit((unsigned char)*j->p))
        while (j->p < j->end && isdigit((unsigned char)*j->p))
            j->p++;
    else
        j->bad = 1;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || !isdigit((unsigned char)*j->p))
            j->bad = 1;
        while (j->p < j->end && isdigit((unsigned char)*j->p))
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || !isdigit((unsigned char)*j->p))
            j->bad = 1;
        while (j->p < j->end && isdigit((unsigned char)*j->p))
            j->p++;
    }
    v->t = J_NUM;
    v->n = (size_t)(j->p - s);
    v->s = strndup(s, v->n);
}

static void jvalue(struct jp *j, struct jv *v, int depth);

static void jcontainer(struct jp *j, struct jv *v, int obj, int depth)
{
    char close = obj ? '}' : ']';
    size_t cap = 0;
    v->t = obj ? J_OBJ : J_ARR;
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return;
    }
    while (!j->bad) {
        if (v->nkids == cap) {
            cap = cap ? cap * 2 : 4;
            v->kids = realloc(v->kids, cap * sizeof *v->kids);
            if (obj)
                v->keys = realloc(v->keys, cap * sizeof *v->keys);
        }
        struct jv *kid = &v->kids[v->nkids];
        memset(kid, 0, sizeof *kid);
        if (obj) {
            memset(&v->keys[v->nkids], 0, sizeof *v->keys);
            ws(j);
            if (j->p >= j->end || *j->p != '"') {
                j->bad = 1;
                return;
            }
            jstring(j, &v->keys[v->nkids]);
            ws(j);
            if (j->p >= j->end || *j->p++ != ':') {
                j->bad = 1;
                return;
            }
        }
        v->nkids++;
        jvalue(j, kid, depth + 1);
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return;
        }
        j->bad = 1;
    }
}

static void jvalue(struct jp *j, struct jv *v, int depth)
{
    ws(j);
    v->raw = j->p;
    if (j->p >= j->end || depth > 200) {
        j->bad = 1;
        return;
    }
    static const char *const lits[] = {"null", "true", "false"};
    char c = *j->p;
    if (c == '"') {
        jstring(j, v);
    } else if (c == '{' || c == '[') {
        jcontainer(j, v, c == '{', depth);
    } else if (c == '-' || isdigit((unsigned char)c)) {
        jnumber(j, v);
    } else {
        int k;
        for (k = 0; k < 3; k++) {
            size_t n = strlen(lits[k]);
            if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, lits[k], n)) {
                v->t = k ? J_BOOL : J_NULL;
                v->s = strdup(lits[k]);
                j->p += n;
                break;
            }
        }
        if (k == 3)
            j->bad = 1;
    }
    v->rawlen = (size_t)(j->p - v->raw);
}

static void jfree(struct jv *v)
{
    for (size_t i = 0; i < v->nkids; i++) {
        jfree(&v->kids[i]);
        if (v->keys)
            jfree(&v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->s);
}

/* The whole of s..s+n as one JSON value; 0 or -1. */
static int jparse(const char *s, size_t n, struct jv *v)
{
    struct jp j = {s, s + n, 0};
    memset(v, 0, sizeof *v);
    jvalue(&j, v, 0);
    ws(&j);
    if (j.bad || j.p != j.end) {
        jfree(v);
        return -1;
    }
    return 0;
}

static const struct jv *jget(const struct jv *o, const char *key)
{
    for (size_t i = 0; o && o->t == J_OBJ && i < o->nkids; i++)
        if (o->keys[i].n == strlen(key) && !memcmp(o->keys[i].s, key, o->keys[i].n))
            return &o->kids[i];
    return NULL;
}

static int is_integral(const char *num)
{
    return !strpbrk(num, ".eE");
}

/* Numbers: integers by their digits, others as the double they read
 * back as, and an integer is never equal to a number with a fraction or
 * an exponent (MySQL's JSON keeps 1 and 1.0 apart). */
static int jequal(const struct jv *a, const struct jv *b)
{
    if (a->t != b->t || a->nkids != b->nkids)
        return 0;
    switch (a->t) {
    case J_NULL: return 1;
    case J_BOOL: return !strcmp(a->s, b->s);
    case J_NUM:
        if (is_integral(a->s) != is_integral(b->s))
            return 0;
        return is_integral(a->s) ? !strcmp(a->s, b->s)
                                 : strtod(a->s, NULL) == strtod(b->s, NULL);
    case J_STR: return a->n == b->n && !memcmp(a->s, b->s, a->n);
    case J_ARR: case J_OBJ:
        for (size_t i = 0; i < a->nkids; i++)
            if ((a->keys && !jequal(&a->keys[i], &b->keys[i])) ||
                !jequal(&a->kids[i], &b->kids[i]))
                return 0;
        return 1;
    }
    return 0;
}

/* ---- the columns ------------------------------------------------------ */

enum kind {
    K_INT,    /* a number, SELECT's digits exactly */
    K_FLOAT,  /* a number, the same float as SELECT's CAST(f AS DOUBLE) */
    K_DOUBLE, /* a number, the same double */
    K_YEAR,   /* a number, the value of SELECT's text */
    K_STR,    /* a string: SELECT's bytes, or base64:typeNN: when not UTF-8 */
    K_JSON,   /* MySQL: embedded JSON equal to SELECT's; MariaDB: K_STR */
};

enum { ALL = 0, ONLY_MYSQL = 1, ONLY_MARIADB = 2 };

#define NROWS 5

struct col {
    const char *name, *type;
    enum kind kind;
    int typecode;       /* NN of "base64:typeNN:" (K_STR) */
    int servers;        /* ALL, ONLY_MYSQL or ONLY_MARIADB */
    int min_version;    /* major*100+minor the server needs (0: any) */
    const char *select; /* NULL: the column itself */
    const char *v[NROWS - 1]; /* SQL literals per row (NULL: NULL); the
                                 last row is NULL in every column */
};

/* One table: `id` (1..NROWS) first, then the columns. */
struct table {
    const char *name;
    const struct col *cols;
};

#define U8_300 "REPEAT('\u20ac', 300)"

static const struct col ALLTYPES[] = {
    {"ti", "TINYINT", K_INT, 0, ALL, 0, NULL, {"-128", "127", "0", "-1"}},
    {"tu", "TINYINT UNSIGNED", K_INT, 0, ALL, 0, NULL, {"0", "255", "128", "1"}},
    {"si", "SMALLINT", K_INT, 0, ALL, 0, NULL, {"-32768", "32767", "0", "-2"}},
    {"su", "SMALLINT UNSIGNED", K_INT, 0, ALL, 0, NULL, {"0", "65535", "32768", "3"}},
    {"mi", "MEDIUMINT", K_INT, 0, ALL, 0, NULL, {"-8388608", "8388607", "0", "-3"}},
    {"mu", "MEDIUMINT UNSIGNED", K_INT, 0, ALL, 0, NULL, {"0", "16777215", "8388608", "4"}},
    {"ii", "INT", K_INT, 0, ALL, 0, NULL, {"-2147483648", "2147483647", "0", "-4"}},
    {"iu", "INT UNSIGNED", K_INT, 0, ALL, 0, NULL, {"0", "4294967295", "2147483648", "5"}},
    {"bi", "BIGINT", K_INT, 0, ALL, 0, NULL,
     {"-9223372036854775808", "9223372036854775807", "0", "-5"}},
    {"bu", "BIGINT UNSIGNED", K_INT, 0, ALL, 0, NULL,
     {"0", "18446744073709551615", "9223372036854775808", "6"}},
    {"d1", "DECIMAL(5,2)", K_INT, 0, ALL, 0, NULL, {"-999.99", "999.99", "0.05", "-0.5"}},
    {"d2", "DECIMAL(65,30)", K_INT, 0, ALL, 0, NULL,
     {"-99999999999999999999999999999999999.999999999999999999999999999999",
      "12345678901234567890123456789012345.123456789012345678901234567890",
      "0", "-0.000000000000000000000000000001"}},
    {"d3", "DECIMAL(10,0)", K_INT, 0, ALL, 0, NULL, {"-9999999999", "9999999999", "0", "-42"}},
    {"d4", "DECIMAL(18,9)", K_INT, 0, ALL, 0, NULL,
     {"-0.000000001", "123456789.123456789", "999999999.999999999", "-100.5"}},
    {"d5", "DECIMAL(4,4)", K_INT, 0, ALL, 0, NULL, {"-0.9999", "0.9999", "0", "0.0001"}},
    {"d6", "DECIMAL(20,10)", K_INT, 0, ALL, 0, NULL,
     {"-1234567890.0123456789", "9999999999.9999999999", "0.1", "-1"}},
    {"fl", "FLOAT", K_FLOAT, 0, ALL, 0, "CAST(fl AS DOUBLE)",
     {"-3.40282e38", "3.14", "1.17549e-38", "-0.1"}},
    {"db", "DOUBLE", K_DOUBLE, 0, ALL, 0, NULL,
     {"-1.7976931348623157e308", "0.1", "2.2250738585072014e-308", "-5e-324"}},
    {"b1", "BIT(1)", K_INT, 0, ALL, 0, "b1+0", {"b'0'", "b'1'", "b'1'", "b'0'"}},
    {"b13", "BIT(13)", K_INT, 0, ALL, 0, "b13+0",
     {"b'1010101010101'", "b'1111111111111'", "b'0'", "b'1'"}},
    {"b64", "BIT(64)", K_INT, 0, ALL, 0, "b64+0",
     {"b'1111111111111111111111111111111111111111111111111111111111111111'",
      "b'1000000000000000000000000000000000000000000000000000000000000001'",
      "b'0'", "b'10000000'"}},
    {"dt", "DATE", K_STR, 0, ALL, 0, NULL,
     {"'1000-01-01'", "'9999-12-31'", "'0000-00-00'", "'2024-02-29'"}},
    {"t0", "TIME", K_STR, 0, ALL, 0, NULL,
     {"'-838:59:59'", "'838:59:59'", "'00:00:00'", "'-00:00:01'"}},
    {"t1", "TIME(1)", K_STR, 0, ALL, 0, NULL,
     {"'-838:59:58.9'", "'838:59:58.9'", "'-00:00:00.1'", "'12:34:56.5'"}},
    {"t2", "TIME(2)", K_STR, 0, ALL, 0, NULL,
     {"'-00:00:00.01'", "'00:00:00.99'", "'-01:00:00.50'", "'-00:00:01.99'"}},
    {"t3", "TIME(3)", K_STR, 0, ALL, 0, NULL,
     {"'-12:34:56.789'", "'838:59:58.999'", "'-00:00:00.001'", "'00:00:00.000'"}},
    {"t4", "TIME(4)", K_STR, 0, ALL, 0, NULL,
     {"'-00:00:00.0001'", "'23:59:59.9999'", "'-100:00:00.5000'", "'-00:00:59.9999'"}},
    {"t5", "TIME(5)", K_STR, 0, ALL, 0, NULL,
     {"'-00:00:00.00001'", "'838:59:58.99999'", "'-838:59:58.99999'", "'00:00:01.00001'"}},
    {"t6", "TIME(6)", K_STR, 0, ALL, 0, NULL,
     {"'-00:00:00.000001'", "'838:59:58.999999'", "'-838:59:58.999999'", "'-00:00:01.000000'"}},
    {"dt0", "DATETIME", K_STR, 0, ALL, 0, NULL,
     {"'1000-01-01 00:00:00'", "'9999-12-31 23:59:59'", "'0000-00-00 00:00:00'",
      "'2024-02-29 12:34:56'"}},
    {"dt1", "DATETIME(1)", K_STR, 0, ALL, 0, NULL,
     {"'1000-01-01 00:00:00.1'", "'9999-12-31 23:59:59.9'", "'2000-01-01 00:00:00.0'",
      "'2024-02-29 12:34:56.5'"}},
    {"dt2", "DATETIME(2)", K_STR, 0, ALL, 0, NULL,
     {"'1000-01-01 00:00:00.01'", "'9999-12-31 23:59:59.99'", "'2000-01-01 00:00:00.00'",
      "'2024-02-29 12:34:56.50'"}},
    {"dt3", "DATETIME(3)", K_STR, 0, ALL, 0, NULL,
     {"'1000-01-01 00:00:00.001'", "'9999-12-31 23:59:59.999'", "'2000-01-01 00:00:00.000'",
      "'2024-02-29 12:34:56.789'"}},
    {"dt4", "DATETIME(4)", K_STR, 0, ALL, 0, NULL,
     {"'1000-01-01 00:00:00.0001'", "'9999-12-31 23:59:59.9999'", "'2000-01-01 00:00:00.0000'",
      "'2024-02-29 12:34:56.5000'"}},
    {"dt5", "DATETIME(5)", K_STR, 0, ALL, 0, NULL,
     {"'1000-01-01 00:00:00.00001'", "'9999-12-31 23:59:59.99999'", "'2000-01-01 00:00:00.00000'",
      "'2024-02-29 12:34:56.12345'"}},
    {"dt6", "DATETIME(6)", K_STR, 0, ALL, 0, NULL,
     {"'1000-01-01 00:00:00.000001'", "'9999-12-31 23:59:59.999999'",
      "'0000-00-00 00:00:00.000000'", "'2024-02-29 12:34:56.123456'"}},
    {"ts0", "TIMESTAMP NULL", K_STR, 0, ALL, 0, NULL,
     {"'1970-01-01 00:00:01'", "'2038-01-19 03:14:07'", "'0000-00-00 00:00:00'",
      "'2024-02-29 12:34:56'"}},
    {"ts1", "TIMESTAMP(1) NULL", K_STR, 0, ALL, 0, NULL,
     {"'1970-01-01 00:00:01.1'", "'2038-01-19 03:14:07.9'", "'2000-01-01 00:00:00.0'",
      "'2024-02-29 12:34:56.5'"}},
    {"ts2", "TIMESTAMP(2) NULL", K_STR, 0, ALL, 0, NULL,
     {"'1970-01-01 00:00:01.01'", "'2038-01-19 03:14:07.99'", "'2000-01-01 00:00:00.00'",
      "'2024-02-29 12:34:56.50'"}},
    {"ts3", "TIMESTAMP(3) NULL", K_STR, 0, ALL, 0, NULL,
     {"'1970-01-01 00:00:01.001'", "'2038-01-19 03:14:07.999'", "'2000-01-01 00:00:00.000'",
      "'2024-02-29 12:34:56.789'"}},
    {"ts4", "TIMESTAMP(4) NULL", K_STR, 0, ALL, 0, NULL,
     {"'1970-01-01 00:00:01.0001'", "'2038-01-19 03:14:07.9999'", "'2000-01-01 00:00:00.0000'",
      "'2024-02-29 12:34:56.5000'"}},
    {"ts5", "TIMESTAMP(5) NULL", K_STR, 0, ALL, 0, NULL,
     {"'1970-01-01 00:00:01.00001'", "'2038-01-19 03:14:07.99999'", "'2000-01-01 00:00:00.00000'",
      "'2024-02-29 12:34:56.12345'"}},
    {"ts6", "TIMESTAMP(6) NULL", K_STR, 0, ALL, 0, NULL,
     {"'1970-01-01 00:00:01.000001'", "'2038-01-19 03:14:07.999999'",
      "'0000-00-00 00:00:00.000000'", "'2024-02-29 12:34:56.123456'"}},
    {"yr", "YEAR", K_YEAR, 0, ALL, 0, NULL, {"1901", "2155", "0", "2024"}},
    {"c10", "CHAR(10)", K_STR, 254, ALL, 0, NULL,
     {"'ab'", "'\u00fcn\u00efc\u00f8d\u00e9 \U0001F600'", "''", "'a\\tb\\\"c\\\\'"}},
    {"c255", "CHAR(255)", K_STR, 254, ALL, 0, NULL,
     {"REPEAT('\u00e9', 255)", "REPEAT('x', 255)", "CONCAT('1', CHAR(1), '2')",
      "REPEAT('\U0001F600', 255)"}},
    {"vc", "VARCHAR(300)", K_STR, 15, ALL, 0, NULL,
     {U8_300, "'tab\\there \"q\" back\\\\slash nl\\n'", "''",
      "CONCAT(CHAR(1), CHAR(31), CHAR(127), '\u2028')"}},
    {"bn", "BINARY(4)", K_STR, 254, ALL, 0, NULL,
     {"x'00ff0041'", "x'41424344'", "x'ff'", "x'c3a9c3a9'"}},
    {"vb", "VARBINARY(300)", K_STR, 15, ALL, 0, NULL,
     {"x'00ff80fe'", "''", "'plain text'", "REPEAT(x'80', 300)"}},
    {"tb", "TINYBLOB", K_STR, 252, ALL, 0, NULL, {"x'ff'", "x'00'", "'text'", "x'e08080'"}},
    {"bl", "BLOB", K_STR, 252, ALL, 0, NULL,
     {"CONCAT(x'deadbeef', REPEAT(x'80', 300))", "'ok'", "''", "x'c0'"}},
    {"mb", "MEDIUMBLOB", K_STR, 252, ALL, 0, NULL,
     {"REPEAT(x'fe', 70000)", "'m'", "''", "x'e282'"}},
    {"lb", "LONGBLOB", K_STR, 252, ALL, 0, NULL,
     {"x'f4908080'", "REPEAT('L', 300)", "''", "x'eda080'"}},
    {"tt", "TINYTEXT", K_STR, 252, ALL, 0, NULL, {"'t\u00ee'", "''", "'x'", "'back\\\\slash'"}},
    {"tx", "TEXT", K_STR, 252, ALL, 0, NULL, {U8_300, "''", "'\"'", "'\\n\\r'"}},
    {"mt", "MEDIUMTEXT", K_STR, 252, ALL, 0, NULL,
     {"REPEAT('\u00df', 40000)", "''", "'m'", "'\U0001F600'"}},
    {"lt", "LONGTEXT", K_STR, 252, ALL, 0, NULL,
     {"REPEAT('long ', 100)", "''", "'\u00e9'", "'{\"not\": \"json\"}'"}},
    {"en", "ENUM('a','b','\u00fc','', 'x y')", K_STR, 0, ALL, 0, NULL,
     {"'a'", "'\u00fc'", "''", "'x y'"}},
    {"st", "SET('x','y','z', '\u00e9')", K_STR, 0, ALL, 0, NULL,
     {"'x,z'", "''", "'x,y,z,\u00e9'", "'\u00e9'"}},
    {"js", "JSON", K_JSON, 252, ALL, 0, NULL,
     {"'{\"a\": [1, 2.5, \"s\"], \"b\": {\"c\": null}}'", "'[]'", "'{}'", "'\"str\"'"}},
    {"g", "GEOMETRY", K_STR, 255, ALL, 0, NULL,
     {"ST_GeomFromText('POINT(1 2)')", "ST_GeomFromText('LINESTRING(0 0, 1.5 -2)')",
      "ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))')", "ST_GeomFromText('POINT(-1e300 0)')"}},
    {"vec", "VECTOR(3)", K_STR, 0, ONLY_MYSQL, 900, "VECTOR_TO_STRING(vec)",
     {"STRING_TO_VECTOR('[1,2.5,-3]')", "STRING_TO_VECTOR('[3.4028234e38,-1.17549435e-38,0]')",
      "STRING_TO_VECTOR('[0.1,0.2,0.3]')", "STRING_TO_VECTOR('[-0,7,1e-30]')"}},
    {"mvec", "VECTOR(2)", K_STR, 15, ONLY_MARIADB, 1107, NULL,
     {"VEC_FromText('[1,2.5]')", "VEC_FromText('[-3.5,0.1]')", "VEC_FromText('[0,0]')",
      "VEC_FromText('[1000000.5,-0.25]')"}},
    {"i4", "INET4", K_STR, 254, ONLY_MARIADB, 1010, "CAST(i4 AS BINARY(4))",
     {"'127.0.0.1'", "'255.255.255.255'", "'0.0.0.0'", "'192.168.1.10'"}},
    {"i6", "INET6", K_STR, 254, ONLY_MARIADB, 1005, "CAST(i6 AS BINARY(16))",
     {"'::1'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'", "'::'", "'2001:db8::ff00:42:8329'"}},
    {NULL, NULL, 0, 0, 0, 0, NULL, {NULL}},
};

/* The orders in which a wrong count of SIGNEDNESS bits shows: numeric
 * columns (which have a bit) after YEAR, BIT, ENUM and DECIMAL. */
static const struct col ORDER1[] = {
    {"y", "YEAR", K_YEAR, 0, ALL, 0, NULL, {"2024", "1901", "0", "2155"}},
    {"f", "FLOAT", K_FLOAT, 0, ALL, 0, "CAST(f AS DOUBLE)", {"1.5", "-2.25", "0", "1e10"}},
    {"u", "BIGINT UNSIGNED", K_INT, 0, ALL, 0, NULL,
     {"18446744073709551615", "9223372036854775808", "0", "1"}},
    {NULL, NULL, 0, 0, 0, 0, NULL, {NULL}},
};

static const struct col ORDER2[] = {
    {"b", "BIT(8)", K_INT, 0, ALL, 0, "b+0", {"b'11111111'", "b'0'", "b'10000000'", "b'1'"}},
    {"t", "TINYINT UNSIGNED", K_INT, 0, ALL, 0, NULL, {"255", "0", "128", "200"}},
    {"y", "YEAR", K_YEAR, 0, ALL, 0, NULL, {"1999", "0", "2155", "1901"}},
    {"d", "DECIMAL(6,2)", K_INT, 0, ALL, 0, NULL, {"-1234.56", "9999.99", "0.00", "-0.01"}},
    {"s", "SMALLINT", K_INT, 0, ALL, 0, NULL, {"-32768", "32767", "-1", "0"}},
    {"e", "ENUM('p','q')", K_STR, 0, ALL, 0, NULL, {"'q'", "'p'", "'q'", "'p'"}},
    {"m", "MEDIUMINT UNSIGNED", K_INT, 0, ALL, 0, NULL, {"16777215", "8388608", "0", "1"}},
    {"x", "DOUBLE", K_DOUBLE, 0, ALL, 0, NULL, {"-0.5", "1e300", "0", "-1e-300"}},
    {"i", "BIGINT", K_INT, 0, ALL, 0, NULL,
     {"-9223372036854775808", "-1", "9223372036854775807", "0"}},
    {"iu", "INT UNSIGNED", K_INT, 0, ALL, 0, NULL, {"4294967295", "2147483648", "0", "1"}},
    {NULL, NULL, 0, 0, 0, 0, NULL, {NULL}},
};

/* JSON documents of every shape: into vt.docs and into the outbox.
 * mysql: an expression only MySQL's JSON type has (a DECIMAL, a date,
 * opaque bytes inside a document); text: the document otherwise. */
struct doc {
    const char *text, *mysql;
};

static const struct doc DOCS[] = {
    {"null", NULL}, {"true", NULL}, {"false", NULL}, {"0", NULL}, {"-1", NULL},
    {"32767", NULL}, {"-32768", NULL}, {"65535", NULL}, {"2147483647", NULL},
    {"-2147483648", NULL}, {"4294967295", NULL},
    {"9223372036854775807", NULL}, {"-9223372036854775808", NULL},
    {"18446744073709551615", NULL}, {"3.14", NULL}, {"-2.5e-300", NULL},
    {"1e300", NULL}, {"0.1", NULL}, {"-0.0", NULL}, {"1.0", NULL},
    {"\"\"", NULL},
    {"\"q\\\"b\\\\s\\/ n\\n t\\t r\\r b\\b f\\f \\u0001 \\u001f \\u007f\"", NULL},
    {"\"\\u00fcn\\u00efc\\u00f8d\\u00e9 \\u20ac \\ud83d\\ude00 \\u2028\"", NULL},
    {"[]", NULL}, {"{}", NULL}, {"[[]]", NULL}, {"{\"\": {}}", NULL},
    {"[1, [2, [3, [4, {\"k\": [true, false, null]}]]]]", NULL},
    {"{\"a\": {\"b\": [null, true, 1.5, -7]}, \"k\": \"v\", \"zz\": {}, "
     "\"\\u00e9\": [\"x\", {}, []]}",
     NULL},
    {"{\"order\": 1, \"id\": \"o-1\", \"amount\": 12.5, \"tags\": [\"a\", \"b\"], "
     "\"big\": 18446744073709551615, \"neg\": -9223372036854775808}",
     NULL},
    {NULL, "JSON_OBJECT('d', CAST(123.456 AS DECIMAL(6,3)), 'n', "
           "CAST(-0.5 AS DECIMAL(3,1)))"},
    {NULL, "JSON_ARRAY(CAST('2024-02-29' AS DATE), CAST('12:34:56.5' AS TIME(1)), "
           "CAST('-838:59:59' AS TIME), CAST('2024-02-29 01:02:03.123456' AS DATETIME(6)))"},
    {NULL, "JSON_OBJECT('bin', x'00ff', 'txt', CAST('abc' AS BINARY))"},
    {NULL, "CAST(CAST(1.5 AS DECIMAL(2,1)) AS JSON)"},
    {NULL, "JSON_ARRAY(CAST(2.5 AS DOUBLE), CAST(1 AS DOUBLE), "
           "CAST(1e-7 AS DOUBLE), CAST(123456789012345680000 AS DOUBLE))"},
};
#define NDOCS (sizeof DOCS / sizeof DOCS[0])

/* ---- the server ------------------------------------------------------- */

static int server_version(const struct th_mariadb *m)
{
    int major = 0, minor = 0;
    sscanf(m->version, "%d.%d", &major, &minor);
    return major * 100 + minor;
}

static int has_col(const struct th_mariadb *m, const struct col *c)
{
    if ((c->servers == ONLY_MYSQL && !m->mysql) || (c->servers == ONLY_MARIADB && m->mysql))
        return 0;
    return server_version(m) >= c->min_version;
}

static MYSQL *session(const struct th_mariadb *m)
{
    MYSQL *db = th_mariadb_connect(m);
    assert_non_null(db);
    assert_int_equal(mysql_set_character_set(db, "utf8mb4"), 0);
    /* zero dates allowed; TIMESTAMPs read and written in UTC, as the
     * binlog (and so the dump) holds them */
    if (mysql_query(db, "SET time_zone = '+00:00', "
                        "sql_mode = 'STRICT_TRANS_TABLES'")) {
        fprintf(stderr, "%s\n", mysql_error(db));
        fail();
    }
    return db;
}

static void exec(MYSQL *db, const char *sql)
{
    if (mysql_query(db, sql)) {
        size_t n = strlen(sql);
        fprintf(stderr, "%s\n  in: %.200s ... %s\n", mysql_error(db), sql,
                n > 200 ? sql + n - 200 : "");
        fail();
    }
}

struct sbuf {
    char *p;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void sb(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void create_and_fill(MYSQL *db, const struct th_mariadb *m,
                            const struct table *t)
{
    struct sbuf s = {0};
    sb(&s, "CREATE TABLE vt.%s (id INT NOT NULL PRIMARY KEY", t->name);
    for (const struct col *c = t->cols; c->name; c++)
        if (has_col(m, c))
            sb(&s, ", %s %s", c->name, c->type);
    sb(&s, ") DEFAULT CHARSET=utf8mb4");
    exec(db, s.p);
    for (int r = 0; r < NROWS; r++) {
        s.len = 0;
        sb(&s, "INSERT INTO vt.%s VALUES (%d", t->name, r + 1);
        for (const struct col *c = t->cols; c->name; c++)
            if (has_col(m, c))
                sb(&s, ", %s", r < NROWS - 1 && c->v[r] ? c->v[r] : "NULL");
        sb(&s, ")");
        exec(db, s.p);
    }
    free(s.p);
}

/* ---- comparing -------------------------------------------------------- */

/* The oracle's base64 is OpenSSL's, not the relay's own encoder. */
static void base64(struct sbuf *b, const unsigned char *p, size_t n)
{
    unsigned char *out = malloc(4 * ((n + 2) / 3) + 1);
    assert_non_null(out);
    EVP_EncodeBlock(out, p, (int)n);
    sb(b, "%s", (const char *)out);
    free(out);
}

static int failures;

static void mismatch(const char *table, long id, const char *col, const struct jv *dv,
                     const char *sel, size_t sellen, const char *why)
{
    failures++;
    fprintf(stderr, "MISMATCH %s id=%ld column %s (%s):\n  dump:   %.*s\n  SELECT: ",
            table, id, col, why, dv ? (int)(dv->rawlen > 400 ? 400 : dv->rawlen) : 9,
            dv ? dv->raw : "(missing)");
    if (!sel)
        fprintf(stderr, "NULL\n");
    else if (utf8_valid(sel, sellen))
        fprintf(stderr, "%.*s\n", (int)(sellen > 400 ? 400 : sellen), sel);
    else {
        struct sbuf b = {0};
        base64(&b, (const unsigned char *)sel, sellen > 300 ? 300 : sellen);
        fprintf(stderr, "(bytes, base64) %s\n", b.p);
        free(b.p);
    }
}

/* One value: the dump's dv against SELECT's sel (NULL for SQL NULL). */
static void compare(const char *table, long id, const struct col *c, int mysql,
                    const struct jv *dv, const char *sel, size_t sellen)
{
    if (!dv) {
        mismatch(table, id, c->name, dv, sel, sellen, "not in the dump");
        return;
    }
    if (!sel) {
        if (dv->t != J_NULL)
            mismatch(table, id, c->name, dv, sel, sellen, "NULL expected");
        return;
    }
    char *text = strndup(sel, sellen);
    enum kind k = c->kind == K_JSON && !mysql ? K_STR : c->kind;
    switch (k) {
    case K_INT:
        if (dv->t != J_NUM || strcmp(dv->s, text))
            mismatch(table, id, c->name, dv, sel, sellen, "the same number");
        break;
    case K_FLOAT:
        if (dv->t != J_NUM || (float)strtod(dv->s, NULL) != (float)strtod(text, NULL))
            mismatch(table, id, c->name, dv, sel, sellen, "the same float");
        break;
    case K_DOUBLE:
        if (dv->t != J_NUM || strtod(dv->s, NULL) != strtod(text, NULL))
            mismatch(table, id, c->name, dv, sel, sellen, "the same double");
        break;
    case K_YEAR:
        if (dv->t != J_NUM || !is_integral(dv->s) ||
            strtol(dv->s, NULL, 10) != strtol(text, NULL, 10))
            mismatch(table, id, c->name, dv, sel, sellen, "the same year");
        break;
    case K_STR:
        if (utf8_valid(sel, sellen)) {
            if (dv->t != J_STR || dv->n != sellen || memcmp(dv->s, sel, sellen))
                mismatch(table, id, c->name, dv, sel, sellen, "the same text");
        } else {
            struct sbuf want = {0};
            sb(&want, "base64:type%d:", c->typecode);
            base64(&want, (const unsigned char *)sel, sellen);
            if (dv->t != J_STR || dv->n != want.len || memcmp(dv->s, want.p, want.len))
                mismatch(table, id, c->name, dv, sel, sellen, "the same bytes in base64");
            free(want.p);
        }
        break;
    case K_JSON: {
        struct jv sv;
        if (jparse(sel, sellen, &sv) < 0) {
            mismatch(table, id, c->name, dv, sel, sellen, "SELECT's JSON does not parse");
            break;
        }
        if (!jequal(dv, &sv))
            mismatch(table, id, c->name, dv, sel, sellen, "the same JSON");
        jfree(&sv);
        break;
    }
    }
    free(text);
}

/* The dump's rows of vt.* and shop.outbox: their "after" images. */
struct dumped {
    struct jv *lines;
    char **texts; /* the lines, which the values' raw point into */
    size_t n, cap;
    int bad_lines;
};

static void read_dump(const char *path, struct dumped *d)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) > 0) {
        struct jv v;
        char *text = strndup(line, (size_t)len);
        if (jparse(text, (size_t)len, &v) < 0) {
            fprintf(stderr, "dump line is not JSON: %.300s\n", line);
            d->bad_lines++;
            free(text);
            continue;
        }
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 64;
            d->lines = realloc(d->lines, d->cap * sizeof *d->lines);
            d->texts = realloc(d->texts, d->cap * sizeof *d->texts);
        }
        d->texts[d->n] = text;
        d->lines[d->n++] = v;
    }
    free(line);
    fclose(fp);
}

static const struct jv *dumped_row(const struct dumped *d, const char *table, long id)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct jv *t = jget(&d->lines[i], "table");
        const struct jv *a = jget(&d->lines[i], "after");
        const struct jv *op = jget(&d->lines[i], "op");
        if (!t || t->t != J_STR || strcmp(t->s, table) || !a || !op ||
            strcmp(op->s, "insert"))
            continue;
        const struct jv *k = jget(a, "id");
        if (k && k->t == J_NUM && strtol(k->s, NULL, 10) == id)
            return a;
    }
    return NULL;
}

/* SELECT every column of vt.<table> (each through its select
 * expression) and compare each row with the dump's. */
static void compare_table(MYSQL *db, const struct th_mariadb *m,
                          const struct dumped *d, const char *table,
                          const struct col *cols)
{
    struct sbuf s = {0};
    const struct col *use[128];
    size_t n = 0;
    sb(&s, "SELECT id");
    for (const struct col *c = cols; c->name; c++)
        if (has_col(m, c)) {
            use[n++] = c;
            sb(&s, ", %s", c->select ? c->select : c->name);
        }
    sb(&s, " FROM vt.%s ORDER BY id", table);
    exec(db, s.p);
    MYSQL_RES *r = mysql_store_result(db);
    assert_non_null(r);
    char full[64];
    snprintf(full, sizeof full, "vt.%s", table);
    MYSQL_ROW row;
    int rows = 0;
    while ((row = mysql_fetch_row(r))) {
        unsigned long *lens = mysql_fetch_lengths(r);
        long id = strtol(row[0], NULL, 10);
        const struct jv *after = dumped_row(d, full, id);
        rows++;
        if (!after) {
            failures++;
            fprintf(stderr, "MISMATCH %s id=%ld: no insert in the dump\n", full, id);
            continue;
        }
        for (size_t i = 0; i < n; i++)
            compare(full, id, use[i], m->mysql, jget(after, use[i]->name), row[i + 1],
                    lens[i + 1]);
    }
    mysql_free_result(r);
    assert_int_equal(rows, NROWS);
    fprintf(stderr, "%s: %d rows x %zu columns compared\n", full, rows, n + 1);
    free(s.p);
}

static const struct col PAYLOAD_COL = {"payload", "JSON", K_JSON, 252, ALL, 0, NULL, {NULL}};

static int doc_here(const struct th_mariadb *m, size_t i)
{
    return DOCS[i].text || m->mysql;
}

static void insert_docs(MYSQL *db, const struct th_mariadb *m)
{
    struct sbuf s = {0};
    exec(db, "CREATE TABLE vt.docs (id INT NOT NULL PRIMARY KEY, j JSON)");
    for (size_t i = 0; i < NDOCS; i++) {
        if (!doc_here(m, i))
            continue;
        char lit[1024];
        const char *expr = DOCS[i].mysql;
        if (!expr) {
            s.len = 0;
            sb(&s, "'");
            for (const char *p = DOCS[i].text; *p; p++)
                sb(&s, "%s%c", *p == '\\' || *p == '\'' ? "\\" : "", *p);
            sb(&s, "'");
            snprintf(lit, sizeof lit, "%s", s.p);
            expr = lit;
        }
        s.len = 0;
        sb(&s, "INSERT INTO vt.docs VALUES (%zu, %s)", i + 1, expr);
        exec(db, s.p);
        s.len = 0;
        sb(&s, "INSERT INTO shop.outbox (id, aggregatetype, aggregateid, type, "
               "payload) VALUES ('values-%zu', 'queue', 'doc-%zu', 'values', %s)",
           i + 1, i + 1, expr);
        exec(db, s.p);
    }
    /* a NULL payload: a record with a null value */
    exec(db, "INSERT INTO shop.outbox (id, aggregatetype, aggregateid, type, "
             "payload) VALUES ('values-null', 'queue', 'doc-null', 'values', NULL)");
    free(s.p);
}

/* Each record's value (kcat: key, size, value) against SELECT's payload
 * of the same row; a NULL payload is a record whose value is null. */
static void compare_records(MYSQL *db, const struct th_mariadb *m, const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[len] = '\0';
    int seen = 0;
    exec(db, "SELECT aggregateid, payload FROM shop.outbox WHERE type = 'values'");
    MYSQL_RES *r = mysql_store_result(db);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(r))) {
        unsigned long *lens = mysql_fetch_lengths(r);
        char head[64];
        const char *p = NULL;
        long size = -2;
        snprintf(head, sizeof head, "%s\t", row[0]);
        for (const char *q = buf; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL)
            if (!strncmp(q, head, strlen(head))) {
                p = q + strlen(head);
                size = strtol(p, (char **)&p, 10);
                p++;
                break;
            }
        struct jv rv;
        memset(&rv, 0, sizeof rv);
        if (size == -2) {
            mismatch("kafka", 0, row[0], NULL, row[1], lens[1], "no record");
            continue;
        }
        seen++;
        if (size < 0) {
            rv.t = J_NULL;
            rv.raw = "null";
            rv.rawlen = 4;
            compare("kafka", 0, &PAYLOAD_COL, m->mysql, &rv, row[1], lens[1]);
        } else if (!m->mysql) {
            /* MariaDB's payload is text: the record holds its bytes */
            rv.t = J_STR;
            rv.s = (char *)p;
            rv.n = (size_t)size;
            rv.raw = p;
            rv.rawlen = (size_t)size;
            compare("kafka", 0, &PAYLOAD_COL, 0, &rv, row[1], lens[1]);
        } else if (jparse(p, (size_t)size, &rv) < 0) {
            rv.raw = p;
            rv.rawlen = (size_t)size;
            mismatch("kafka", 0, row[0], &rv, row[1], lens[1], "the value is not JSON");
        } else {
            compare("kafka", 0, &PAYLOAD_COL, 1, &rv, row[1], lens[1]);
            jfree(&rv);
        }
    }
    mysql_free_result(r);
    fprintf(stderr, "kafka: %d records compared with SELECT's payload\n", seen);
}

static void test_values(void **state)
{
    (void)state;
    struct relay_env e;
    char file[256], path[700], out[700], cmd[2000], bin[512];
    unsigned long long end;
    th_assert_started(relay_env_start(&e, "at_least_once", NULL));
    assert_int_equal(relay_env_run_relay(&e), 0);
    MYSQL *db = session(&e.db);
    exec(db, "CREATE DATABASE vt");
    static const struct table tables[] = {
        {"alltypes", ALLTYPES}, {"order1", ORDER1}, {"order2", ORDER2}};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        create_and_fill(db, &e.db, &tables[i]);
    insert_docs(db, &e.db);

    /* the dump of the binlog file the rows are in */
    assert_int_equal(relay_env_binlog_end(&e, file, sizeof file, &end), 0);
    snprintf(path, sizeof path, "%s/%s", e.db.dir, file);
    snprintf(out, sizeof out, "%s/values.jsonl", e.dir);
    snprintf(cmd, sizeof cmd, "'%s' dump --binlog-file '%s' --all-tables > '%s'",
             th_build_path("relay/outbox-relay", bin, sizeof bin), path, out);
    char *argv[] = {"sh", "-c", cmd, NULL};
    int rc = th_run("dump", e.dir, argv, 60000);
    /* the dump's stderr: nothing, when every row decodes */
    snprintf(cmd, sizeof cmd, "cat '%s/dump.log' >&2", e.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "(no dump log)\n");
    if (getenv("OUTBOX_VALUES_KEEP")) {
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", out, getenv("OUTBOX_VALUES_KEEP"));
        if (system(cmd) != 0)
            fprintf(stderr, "(not kept)\n");
    }
    assert_int_equal(rc, 0);
    struct dumped d = {0};
    read_dump(out, &d);
    fprintf(stderr, "dump of %s: %zu lines\n", file, d.n);
    failures += d.bad_lines;

    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        compare_table(db, &e.db, &d, tables[i].name, tables[i].cols);
    static const struct col DOCS_COLS[] = {
        {"j", "JSON", K_JSON, 252, ALL, 0, NULL, {NULL}},
        {NULL, NULL, 0, 0, 0, 0, NULL, {NULL}}};
    {
        /* vt.docs: its rows are not NROWS */
        exec(db, "SELECT id, j FROM vt.docs ORDER BY id");
        MYSQL_RES *r = mysql_store_result(db);
        MYSQL_ROW row;
        int rows = 0;
        while ((row = mysql_fetch_row(r))) {
            unsigned long *lens = mysql_fetch_lengths(r);
            long id = strtol(row[0], NULL, 10);
            const struct jv *after = dumped_row(&d, "vt.docs", id);
            rows++;
            compare("vt.docs", id, &DOCS_COLS[0], e.db.mysql,
                    after ? jget(after, "j") : NULL, row[1], lens[1]);
        }
        mysql_free_result(r);
        fprintf(stderr, "vt.docs: %d documents compared\n", rows);
    }

    /* the relay's records of the same documents */
    assert_int_equal(relay_env_wait_caught_up(&e, 60000), 0);
    snprintf(out, sizeof out, "%s/records.txt", e.dir);
    assert_int_equal(relay_env_kcat(&e, "outbox.event.queue", "%k\\t%S\\t%s\\n", out), 0);
    compare_records(db, &e.db, out);

    mysql_close(db);
    for (size_t i = 0; i < d.n; i++) {
        jfree(&d.lines[i]);
        free(d.texts[i]);
    }
    free(d.lines);
    free(d.texts);
    if (failures)
        fprintf(stderr, "%d values differ\n", failures);
    assert_int_equal(failures, 0);
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
