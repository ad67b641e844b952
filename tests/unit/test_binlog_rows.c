/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Column values decoded from table maps and row images built by hand
 * (binlog_build.h): types no fixture holds, edge values, optional
 * metadata, and the scratch the values are rendered into.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/binlog.h"
#include "tests/unit/binlog_build.h"

#define MAX_COLS 16

/* A table map body parsed as the relay parses it. */
static void parse_map(const struct bb *body, struct binlog_table *t)
{
    struct binlog_format f;
    char err[256];
    binlog_format_default(&f);
    if (binlog_parse_table(&f, body->b, body->n, t, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* Decodes one row image, every column present, into cells on a growing
 * scratch; returns what binlog_next_row_grow returned. */
static int decode_row(const struct binlog_table *t, const struct bb *row,
                      struct outbox_cell *cells, struct binlog_scratch *sc,
                      char *err, size_t errlen)
{
    static const uint8_t all[MAX_COLS / 8 + 1] = {0xff, 0xff};
    struct binlog_rows r = {.kind = 'w', .ncols = t->ncols, .present = all,
                            .p = row->b, .end = row->b + row->n};
    assert_true(t->ncols <= MAX_COLS);
    return binlog_next_row_grow(&r, t, cells, sc, err, errlen);
}

static void cell_is(const struct outbox_cell *c, const char *want)
{
    assert_false(c->is_null);
    if (c->len != strlen(want) || memcmp(c->data, want, c->len) != 0)
        fail_msg("got \"%.*s\", want \"%s\"", (int)c->len,
                 (const char *)c->data, want);
}

/* VECTOR's value: its length (in as many bytes as the metadata says),
 * then little-endian float32s. */
static void vector_value(struct bb *o, const float *v, size_t n)
{
    bb_le(o, n * 4, 4);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        bb_le(o, bits, 4);
    }
}

/* MySQL 9's VECTOR (type 242): one metadata byte, the length's size (4),
 * like a BLOB's; the text is VECTOR_TO_STRING's, each float "%.5e". */
static void test_vector(void **state)
{
    (void)state;
    uint8_t mbuf[128], rbuf[128];
    struct bb map = {mbuf, 0, sizeof mbuf}, row = {rbuf, 0, sizeof rbuf};
    const uint8_t types[] = {BT_LONG, 242, BT_VARCHAR};
    const uint8_t meta[] = {4, 10, 0}; /* VECTOR: 4; VARCHAR(10): 10, LE */
    bb_table_map(&map, 7, "d", "t", types, 3, meta, sizeof meta);
    struct binlog_table t;
    parse_map(&map, &t);

    const float v[] = {1, 2, 3};
    bb_le(&row, 0, 1); /* no NULLs */
    bb_le(&row, 42, 4);
    vector_value(&row, v, 3);
    bb_le(&row, 2, 1);
    bb_bytes(&row, "ok", 2);
    struct outbox_cell cells[3];
    struct binlog_scratch sc = {NULL, 0, 1 << 20};
    char err[256];
    if (decode_row(&t, &row, cells, &sc, err, sizeof err) != 1)
        fail_msg("%s", err);
    cell_is(&cells[0], "42");
    cell_is(&cells[1], "[1.00000e+00,2.00000e+00,3.00000e+00]");
    cell_is(&cells[2], "ok");
    assert_int_equal(t.cols[1].meta, 4);
    assert_int_equal(t.cols[2].meta, 10);

    const float w[] = {-0.5f, 3.40282347e38f, 1e-45f, 0.f, 123456.789f};
    row.n = 0;
    bb_le(&row, 0, 1);
    bb_le(&row, 1, 4);
    vector_value(&row, w, 5);
    bb_le(&row, 0, 1);
    if (decode_row(&t, &row, cells, &sc, err, sizeof err) != 1)
        fail_msg("%s", err);
    cell_is(&cells[1], "[-5.00000e-01,3.40282e+38,1.40130e-45,0.00000e+00,"
                       "1.23457e+05]");
    binlog_scratch_free(&sc);
    binlog_table_free(&t);
}

/* A VECTOR whose length is no whole number of floats, or zero, is not a
 * value MySQL writes; a text that does not fit a fixed scratch is an
 * error naming the column, never a write past it. */
static void test_vector_malformed(void **state)
{
    (void)state;
    uint8_t mbuf[64], rbuf[64];
    struct bb map = {mbuf, 0, sizeof mbuf}, row = {rbuf, 0, sizeof rbuf};
    const uint8_t types[] = {242}, meta[] = {4};
    bb_table_map(&map, 7, "d", "t", types, 1, meta, 1);
    struct binlog_table t;
    parse_map(&map, &t);
    struct outbox_cell cell;
    struct binlog_scratch sc = {NULL, 0, 1 << 20};
    char err[256];
    for (uint32_t len = 0; len < 4; len++) {
        row.n = 0;
        bb_le(&row, 0, 1);
        bb_le(&row, len == 0 ? 0 : 4 + len, 4);
        bb_bytes(&row, "\0\0\200?\0\0\0", len == 0 ? 0 : 4 + len);
        assert_int_equal(decode_row(&t, &row, &cell, &sc, err, sizeof err), -1);
        assert_non_null(strstr(err, "column 1 (type 242)"));
    }
    const float v[] = {1, 2, 3, 4, 5, 6, 7, 8};
    row.n = 0;
    bb_le(&row, 0, 1);
    vector_value(&row, v, 8);
    const uint8_t present = 1;
    struct binlog_rows r = {.kind = 'w', .ncols = 1, .present = &present,
                            .p = row.b, .end = row.b + row.n};
    char fixed[64];
    assert_int_equal(binlog_next_row(&r, &t, &cell, fixed, sizeof fixed, err,
                                     sizeof err), -1);
    assert_non_null(strstr(err, "column 1 (type 242)"));
    binlog_scratch_free(&sc);
    binlog_table_free(&t);
}

/* One TIME2(fsp) value against the text MySQL shows for it. */
static void time2_is(int neg, unsigned h, unsigned m, unsigned s,
                     uint32_t usec, int fsp)
{
    static const uint32_t scale[] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    uint32_t frac = usec / scale[fsp]; /* the digits the column keeps */
    neg = neg && (h || m || s || frac);  /* there is no -00:00:00 */
    uint8_t rbuf[16];
    struct bb row = {rbuf, 0, sizeof rbuf};
    bb_le(&row, 0, 1);
    bb_time2(&row, neg, h, m, s, frac * scale[fsp], fsp);
    struct binlog_column col = {.type = BT_TIME2, .meta = (uint16_t)fsp};
    struct binlog_table t = {.ncols = 1, .cols = &col};
    struct outbox_cell cell;
    struct binlog_scratch sc = {NULL, 0, 1 << 20};
    char err[256], want[64];
    if (decode_row(&t, &row, &cell, &sc, err, sizeof err) != 1)
        fail_msg("%s", err);
    int k = snprintf(want, sizeof want, "%s%02u:%02u:%02u", neg ? "-" : "",
                     h, m, s);
    if (fsp)
        snprintf(want + k, sizeof want - (size_t)k, ".%0*u", fsp, frac);
    cell_is(&cell, want);
    binlog_scratch_free(&sc);
}

/* A negative time's fraction is stored counted down from the next
 * second (for byte order), in 1, 2 or (with the seconds) 6 bytes. */
static void test_negative_time2_fraction(void **state)
{
    (void)state;
    time2_is(1, 838, 59, 58, 999000, 3);
    time2_is(1, 1, 2, 3, 40000, 2);
    for (int fsp = 0; fsp <= 6; fsp++) {
        for (int neg = 0; neg <= 1; neg++) {
            time2_is(neg, 838, 59, 59, 0, fsp);
            time2_is(neg, 838, 59, 58, 999999, fsp);
            time2_is(neg, 1, 2, 3, 40000, fsp);
            time2_is(neg, 0, 0, 0, 10000, fsp);
            time2_is(neg, 0, 0, 0, 999999, fsp);
            time2_is(neg, 0, 0, 1, 1, fsp);
            time2_is(neg, 12, 34, 56, 123456, fsp);
        }
    }
}

/* SIGNEDNESS (optional metadata 1) as the servers write it: one bit per
 * numeric column, the first in the high bit; YEAR has one too (MySQL 9.7,
 * MariaDB 10.11 and 11.8, live in test_relay_values), BIT not. */
static void signedness(struct bb *map, const uint8_t *types, size_t n,
                       const int *is_unsigned)
{
    uint8_t bits[4] = {0};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int numeric = types[i] == BT_TINY || types[i] == BT_SHORT ||
                      types[i] == BT_INT24 || types[i] == BT_LONG ||
                      types[i] == BT_LONGLONG || types[i] == BT_NEWDECIMAL ||
                      types[i] == BT_FLOAT || types[i] == BT_DOUBLE ||
                      types[i] == BT_YEAR;
        if (numeric && is_unsigned[i])
            bits[k / 8] |= (uint8_t)(0x80 >> (k % 8));
        k += numeric;
    }
    bb_opt(map, 1, bits, (k + 7) / 8);
}

/* id INT, y YEAR, f FLOAT, u BIGINT UNSIGNED: the bitmap counts id, y,
 * f, u. */
static void test_signedness_counts_numeric_columns(void **state)
{
    (void)state;
    uint8_t mbuf[128], rbuf[64];
    struct bb map = {mbuf, 0, sizeof mbuf}, row = {rbuf, 0, sizeof rbuf};
    const uint8_t types[] = {BT_LONG, BT_YEAR, BT_FLOAT, BT_LONGLONG};
    const uint8_t meta[] = {4}; /* FLOAT: its size */
    const int is_unsigned[] = {0, 0, 0, 1};
    bb_table_map(&map, 9, "d", "t", types, 4, meta, sizeof meta);
    signedness(&map, types, 4, is_unsigned);
    struct binlog_table t;
    parse_map(&map, &t);

    float f = 1.5f;
    uint32_t fbits;
    memcpy(&fbits, &f, 4);
    bb_le(&row, 0, 1);
    bb_le(&row, (uint32_t)-7, 4);
    bb_le(&row, 126, 1); /* 2026 */
    bb_le(&row, fbits, 4);
    bb_le(&row, UINT64_MAX, 8);
    struct outbox_cell cells[4];
    struct binlog_scratch sc = {NULL, 0, 1 << 20};
    char err[256];
    if (decode_row(&t, &row, cells, &sc, err, sizeof err) != 1)
        fail_msg("%s", err);
    cell_is(&cells[0], "-7");
    cell_is(&cells[1], "2026");
    cell_is(&cells[2], "1.5");
    cell_is(&cells[3], "18446744073709551615");
    binlog_scratch_free(&sc);
    binlog_table_free(&t);
}

/* Every type the servers count and some they do not, over two bitmap bytes:
 * all-ones bytes read as unsigned where the bit is set, else signed. */
static void test_signedness_every_type(void **state)
{
    (void)state;
    uint8_t mbuf[128], rbuf[128];
    struct bb map = {mbuf, 0, sizeof mbuf}, row = {rbuf, 0, sizeof rbuf};
    const uint8_t types[] = {BT_TINY, BT_YEAR, BT_SHORT, BT_BIT, BT_INT24,
                             BT_VARCHAR, BT_LONG, BT_FLOAT, BT_DOUBLE,
                             BT_NEWDECIMAL, BT_TINY, BT_LONGLONG};
    const int is_unsigned[] = {1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0};
    const uint8_t meta[] = {1, 0,  /* BIT(8): 0 bits, 1 byte */
                            8, 0,  /* VARCHAR(8) */
                            4, 8,  /* FLOAT, DOUBLE */
                            3, 1}; /* DECIMAL(3,1) */
    bb_table_map(&map, 9, "d", "t", types, 12, meta, sizeof meta);
    signedness(&map, types, 12, is_unsigned);
    struct binlog_table t;
    parse_map(&map, &t);
    bb_le(&row, 0, 2);
    bb_le(&row, 0xff, 1);
    bb_le(&row, 0xff, 1);    /* YEAR 2155 */
    bb_le(&row, 0xffff, 2);
    bb_le(&row, 0xff, 1);    /* BIT */
    bb_le(&row, 0xffffff, 3);
    bb_le(&row, 1, 1);
    bb_bytes(&row, "v", 1);
    bb_le(&row, 0xffffffff, 4);
    bb_le(&row, 0xbfc00000, 4);              /* -1.5f */
    bb_le(&row, 0xbff8000000000000ULL, 8);   /* -1.5 */
    bb_be(&row, 0x7efa, 2);  /* -1.5 as DECIMAL(3,1): ~(0x80|1, 5) */
    bb_le(&row, 0xff, 1);
    bb_le(&row, UINT64_MAX, 8);
    struct outbox_cell cells[12];
    struct binlog_scratch sc = {NULL, 0, 1 << 20};
    char err[256];
    if (decode_row(&t, &row, cells, &sc, err, sizeof err) != 1)
        fail_msg("%s", err);
    static const char *const want[] = {"255", "2155", "-1", "255", "16777215",
                                       "v", "-1", "-1.5", "-1.5", "-1.5",
                                       "255", "-1"};
    for (size_t i = 0; i < 12; i++)
        cell_is(&cells[i], want[i]);
    binlog_scratch_free(&sc);
    binlog_table_free(&t);
}

/* The relay's scratch (pipeline.c): 64 KiB to start, grown up to 1 GiB. */
#define RELAY_SCRATCH 65536

/* One value of each type that renders its text into the scratch, at its
 * longest or nearly: type, metadata, its bytes in a row image. */
struct typed_value {
    uint8_t type;
    uint16_t meta;
    uint8_t bytes[32];
    size_t len;
};

static const struct typed_value VALUES[] = {
    {BT_TINY, 0, {0x80}, 1},
    {BT_SHORT, 0, {0x00, 0x80}, 2},
    {BT_INT24, 0, {0x00, 0x00, 0x80}, 3},
    {BT_LONG, 0, {0, 0, 0, 0x80}, 4},
    {BT_LONGLONG, 0, {0, 0, 0, 0, 0, 0, 0, 0x80}, 8},
    {BT_FLOAT, 4, {0x01, 0x00, 0x80, 0x80}, 4},                    /* -1.17549449e-38 */
    {BT_DOUBLE, 8, {0x01, 0, 0, 0, 0, 0, 0x10, 0x80}, 8},          /* -2.2250738585072019e-308 */
    {BT_YEAR, 0, {0xff}, 1},
    {BT_DATE, 0, {0x9f, 0x1f, 0x4e}, 3},
    {BT_TIME, 0, {0x59, 0x0a, 0x80}, 3},                           /* -838:59:59 */
    {BT_DATETIME, 0, {0x77, 0x87, 0xd1, 0x05, 0xf1, 0x5a, 0, 0}, 8},
    {BT_TIMESTAMP, 0, {0xff, 0xff, 0xff, 0x7f}, 4},
    {BT_TIMESTAMP2, 6, {0x7f, 0xff, 0xff, 0xff, 0x0f, 0x42, 0x3f}, 7},
    {BT_DATETIME2, 6, {0xfe, 0xf3, 0xff, 0x7e, 0xfb, 0x0f, 0x42, 0x3f}, 8},
    {BT_TIME2, 6, {0x4b, 0x91, 0x05, 0xf0, 0xbd, 0xc1}, 6},        /* -838:59:58.999999 */
    {BT_NEWDECIMAL, 65 << 8 | 30,
     {0x7a, 0x0a, 0x1f, 0x00, 0xc4, 0x65, 0x36, 0x00, 0xc4, 0x65, 0x36, 0x00,
      0xc4, 0x65, 0x36, 0x00, 0xc4, 0x65, 0x36, 0x00, 0xc4, 0x65, 0x36, 0x00,
      0xc4, 0x65, 0x36, 0x00, 0xfc, 0x18}, 30},
    {BT_BIT, 8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8},
    {BT_STRING, BT_SET << 8 | 8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8},
    {BT_VECTOR, 4, {12, 0, 0, 0, 0x01, 0x00, 0x80, 0x80, 0x01, 0x00, 0x80, 0x80,
                    0x01, 0x00, 0x80, 0x80}, 16},
};

/* A row: a JSON column whose text is `text` bytes, then the value. */
static void json_then(struct bb *row, size_t text, const struct typed_value *v)
{
    bb_le(row, 0, 1);
    bb_json_string(row, 4, 'x', text - 2);
    bb_bytes(row, v->bytes, v->len);
}

/* The value's text decoded on its own, with room to spare. */
static void alone(const struct typed_value *v, char *out, size_t cap)
{
    uint8_t rbuf[64];
    struct bb row = {rbuf, 0, sizeof rbuf};
    bb_le(&row, 0, 1);
    bb_bytes(&row, v->bytes, v->len);
    struct binlog_column col = {.type = v->type, .meta = v->meta};
    struct binlog_table t = {.ncols = 1, .cols = &col};
    struct outbox_cell cell;
    struct binlog_scratch sc = {NULL, 0, 1 << 20};
    char err[256];
    if (decode_row(&t, &row, &cell, &sc, err, sizeof err) != 1)
        fail_msg("type %u alone: %s", v->type, err);
    assert_true(cell.len < cap);
    memcpy(out, cell.data, cell.len);
    out[cell.len] = '\0';
    binlog_scratch_free(&sc);
}

/* The relay's growing scratch nearly full when a value comes: 65,530
 * bytes of JSON text, then a DATETIME(6) (the report), then every type
 * that renders text, with 0 to 40 bytes left: each must make room, never
 * fail for want of it. */
static void test_grow_reserves_every_value(void **state)
{
    (void)state;
    static uint8_t rbuf[RELAY_SCRATCH + 64];
    struct bb row = {rbuf, 0, sizeof rbuf};
    struct binlog_column cols[2] = {{.type = BT_JSON, .meta = 4},
                                    {.type = BT_DATETIME2, .meta = 6}};
    struct binlog_table t = {.ncols = 2, .cols = cols};
    strcpy(t.id.db, "d");
    strcpy(t.id.table, "t");
    struct outbox_cell cells[2];
    struct binlog_scratch sc = {malloc(RELAY_SCRATCH), RELAY_SCRATCH, 1u << 30};
    char err[256], want[128];
    bb_le(&row, 0, 1);
    bb_json_string(&row, 4, 'x', 65530 - 2);
    bb_datetime2(&row, 2026, 11, 30, 20, 53, 7, 123456, 6);
    if (decode_row(&t, &row, cells, &sc, err, sizeof err) != 1)
        fail_msg("%s", err);
    assert_int_equal(cells[0].len, 65530);
    cell_is(&cells[1], "2026-11-30 20:53:07.123456");

    for (size_t i = 0; i < sizeof VALUES / sizeof VALUES[0]; i++) {
        const struct typed_value *v = &VALUES[i];
        alone(v, want, sizeof want);
        cols[1] = (struct binlog_column){.type = v->type, .meta = v->meta};
        for (size_t left = 0; left <= 40; left++) {
            binlog_scratch_free(&sc);
            sc = (struct binlog_scratch){malloc(RELAY_SCRATCH), RELAY_SCRATCH,
                                         1u << 30};
            row.n = 0;
            json_then(&row, RELAY_SCRATCH - left, v);
            if (decode_row(&t, &row, cells, &sc, err, sizeof err) != 1)
                fail_msg("type %u with %zu bytes left: %s", v->type, left, err);
            assert_int_equal(cells[0].len, RELAY_SCRATCH - left);
            cell_is(&cells[1], want);
        }
    }
    binlog_scratch_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_vector_malformed),
        cmocka_unit_test(test_negative_time2_fraction),
        cmocka_unit_test(test_signedness_counts_numeric_columns),
        cmocka_unit_test(test_signedness_every_type),
        cmocka_unit_test(test_grow_reserves_every_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
