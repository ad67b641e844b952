/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The decoder on real binlog files written by MySQL 8.0, 8.4 and 9.0
 * (../shared/fixtures/mysql8, read in place): every event's checksum holds,
 * every table map and row decodes, compressed transactions expand, and the
 * values the MANIFEST states come out.
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
#include "relay/bwalk.h"
#include "tests/unit/binlog_build.h"
#include "tests/unit/mysql8_expect.h"

#define MAX_ROWS 64
#define MAX_TABLES 8

/* What a file decoded to: rows as text "v1|v2|...", GTIDs as text. */
struct decoded {
    struct binlog_format fmt;
    struct binlog_table tables[MAX_TABLES];
    int ntables;
    char rows[MAX_ROWS][1024];
    char row_table[MAX_ROWS][140];
    int nrows, payloads, gtids;
    char last_gtid[80];
};

static char *fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/mysql8/%s",
             getenv("OUTBOX_SHARED_DIR"), name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    static char buf[1 << 20];
    *len = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    return buf;
}

static struct binlog_table *table_of(struct decoded *d, uint64_t id)
{
    for (int i = 0; i < d->ntables; i++)
        if (d->tables[i].id.table_id == id)
            return &d->tables[i];
    return NULL;
}

static void row_text(struct decoded *d, const struct binlog_table *t,
                     const struct outbox_cell *cells)
{
    char *out = d->rows[d->nrows];
    size_t n = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        n += (size_t)snprintf(out + n, 1024 - n, "%s", i ? "|" : "");
        if (cells[i].is_null)
            n += (size_t)snprintf(out + n, 1024 - n, "NULL");
        else
            n += (size_t)snprintf(out + n, 1024 - n, "%.*s",
                                  (int)cells[i].len, (const char *)cells[i].data);
    }
    snprintf(d->row_table[d->nrows], 140, "%s.%s", t->id.db, t->id.table);
    d->nrows++;
}

static void on_rows(struct decoded *d, const struct binlog_header *h,
                    const uint8_t *body, size_t blen)
{
    struct binlog_rows r;
    char err[256], scratch[8192];
    struct outbox_cell cells[64];
    assert_int_equal(binlog_parse_rows(h, &d->fmt, body, blen, &r, err, sizeof err), 0);
    struct binlog_table *t = table_of(d, r.table_id);
    assert_non_null(t);
    int got;
    while ((got = binlog_next_row(&r, t, cells, scratch, sizeof scratch, err,
                                  sizeof err)) == 1 && d->nrows < MAX_ROWS)
        row_text(d, t, cells);
    if (got < 0)
        fail_msg("row of %s.%s: %s", t->id.db, t->id.table, err);
}

static void events(struct decoded *d, const uint8_t *p, size_t len, int inner);

static void one_event(struct decoded *d, const uint8_t *ev, size_t len,
                      int inner)
{
    struct binlog_header h;
    const uint8_t *body;
    size_t blen;
    char err[256];
    assert_int_equal(binlog_parse_header(ev, len, &h, err, sizeof err), 0);
    if (h.type == BL_FORMAT_DESCRIPTION) {
        if (binlog_parse_fde(ev, h.size, &d->fmt, err, sizeof err) != 0)
            fail_msg("%s", err);
        return;
    }
    struct binlog_format f = d->fmt;
    if (inner)
        f.checksum_len = 0;
    if (binlog_body(&f, ev, h.size, 1, &body, &blen, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (h.type == BL_TABLE_MAP && d->ntables < MAX_TABLES) {
        struct binlog_table *t = &d->tables[d->ntables++];
        if (binlog_parse_table(&d->fmt, body, blen, t, err, sizeof err) != 0)
            fail_msg("%s", err);
    } else if (h.type >= BL_WRITE_ROWS && h.type <= BL_DELETE_ROWS) {
        on_rows(d, &h, body, blen);
    } else if (h.type == BL_MYSQL_GTID) {
        struct binlog_gtid g;
        assert_int_equal(binlog_parse_gtid(&h, body, blen, 0, &g, err, sizeof err), 0);
        snprintf(d->last_gtid, sizeof d->last_gtid,
                 "%02x%02x%02x%02x:%llu", g.uuid[0], g.uuid[1], g.uuid[2],
                 g.uuid[3], (unsigned long long)g.seq);
        d->gtids++;
    } else if (h.type == BL_TRANSACTION_PAYLOAD) {
        uint8_t *buf;
        size_t n;
        if (binlog_payload_expand(body, blen, &buf, &n, err, sizeof err) != 0)
            fail_msg("%s", err);
        d->payloads++;
        events(d, buf, n, 1);
        free(buf);
    }
}

static void events(struct decoded *d, const uint8_t *p, size_t len, int inner)
{
    struct bwalk w;
    const uint8_t *ev;
    size_t evlen;
    char err[256];
    int more;
    bwalk_init(&w, p, len, 0);
    while ((more = bwalk_next(&w, &ev, &evlen, err, sizeof err)) == 1)
        one_event(d, ev, evlen, inner);
    if (more < 0)
        fail_msg("at %zu: %s", w.at, err);
}

static void decode(const char *name, struct decoded *d)
{
    size_t len;
    char *buf = fixture(name, &len);
    memset(d, 0, sizeof *d);
    binlog_format_default(&d->fmt);
    assert_true(len > 4);
    assert_memory_equal(buf, "\xfe" "bin", 4);
    events(d, (const uint8_t *)buf + 4, len - 4, 0);
}

static void release(struct decoded *d)
{
    for (int i = 0; i < d->ntables; i++)
        binlog_table_free(&d->tables[i]);
}

static void test_every_fixture_decodes(void **state)
{
    (void)state;
    static const char *const files[] = {
        "01_apecloud_mysql-8.0.31_payload_mysql-bin.000057",
        "02_rmc_mysql-8.0.32_transaction_compression.000001",
        "03_rmc_mysql-8.0.22_json.binlog.000001",
        "04_rmc_mysql-9.0.1_json-opaque.binlog",
        "05_rmc_mysql-8.0.28_full-meta_mysql-enum-string-set.000001",
        "06_rmc_mysql-8.0.26_full-meta_binlog-invisible-columns.000001",
        "07_percona-binsrv_mysql-8.0.45_gtid_binlog.000001",
        "08_percona-operator_ps-8.4.10_gtid_binlog.000003",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct decoded d;
        decode(files[i], &d);
        assert_true(d.fmt.checksum_len == 4);
        assert_true(d.nrows > 0);
        release(&d);
    }
}

static void test_compressed_transactions(void **state)
{
    (void)state;
    struct decoded d;
    decode("02_rmc_mysql-8.0.32_transaction_compression.000001", &d);
    assert_int_equal(d.payloads, 1);
    assert_int_equal(d.nrows, 1);
    assert_string_equal(d.row_table[0], "test.tb1");
    assert_string_equal(d.rows[0], "1");
    release(&d);

    decode("01_apecloud_mysql-8.0.31_payload_mysql-bin.000057", &d);
    assert_int_equal(d.payloads, 2);
    assert_int_equal(d.gtids, 3);
    assert_string_equal(d.last_gtid, "76f3e7be:13");
    assert_string_equal(d.rows[0], "1"); /* insert into b values(1) */
    /* the insert into test_table_3 starts 6666|product_item_value_2 */
    int found = 0;
    for (int i = 0; i < d.nrows; i++)
        found |= !strncmp(d.rows[i], "6666|product_item_value_2|", 26);
    assert_true(found);
    release(&d);
}

static void test_char_over_255_enum_set(void **state)
{
    (void)state;
    struct decoded d;
    decode("05_rmc_mysql-8.0.28_full-meta_mysql-enum-string-set.000001", &d);
    assert_string_equal(d.row_table[0], "mysql.t");
    /* f1 CHAR(128) utf8mb4: 512 bytes, length packed into the metadata;
     * f3 ENUM index 1, f4 SET bits 0b101, f5 TEXT (MANIFEST; f2 unstated) */
    const char *f1 = "0123456789012345678901234567890123456789012345678901234567890123"
                     "456789012345678901234567890123456789|";
    const char *tail = "|1|5|0123456789";
    assert_int_equal(strncmp(d.rows[0], f1, strlen(f1)), 0);
    size_t rl = strlen(d.rows[0]);
    assert_true(rl > strlen(tail));
    assert_string_equal(d.rows[0] + rl - strlen(tail), tail);
    assert_int_equal(d.tables[0].has_names, 1);
    assert_string_equal(d.tables[0].cols[0].name, "f1");
    assert_string_equal(d.tables[0].cols[4].name, "f5");
    /* the update's after image: field1, field_2, enum 2, set 0b1010 */
    int found = 0;
    for (int i = 0; i < d.nrows; i++)
        found |= !strncmp(d.rows[i], "field1|field_2|2|10|", 20);
    assert_true(found);
    release(&d);
}

static void test_unsigned_and_invisible(void **state)
{
    (void)state;
    struct decoded d;
    decode("06_rmc_mysql-8.0.26_full-meta_binlog-invisible-columns.000001", &d);
    assert_string_equal(d.rows[0], "1|2|-3|4|\x05|6000000000");
    assert_string_equal(d.rows[1], "NULL|NULL|-33|44|U|NULL");
    assert_int_equal(d.tables[0].cols[5].is_unsigned, 1);
    assert_int_equal(d.tables[0].cols[2].is_unsigned, 0);
    release(&d);
}

static void test_gtid_files(void **state)
{
    (void)state;
    struct decoded d;
    decode("07_percona-binsrv_mysql-8.0.45_gtid_binlog.000001", &d);
    assert_int_equal(d.nrows, 6);
    for (int i = 0; i < 6; i++) {
        char want[8];
        snprintf(want, sizeof want, "%d", i + 1);
        assert_string_equal(d.rows[i], want);
    }
    assert_string_equal(d.last_gtid, "396e294c:4");
    release(&d);
    decode("08_percona-operator_ps-8.4.10_gtid_binlog.000003", &d);
    assert_int_equal(d.nrows, 3);
    assert_string_equal(d.rows[2], "3");
    assert_string_equal(d.row_table[0], "t.a");
    release(&d);
}

/* MySQL JSON columns arrive as JSON text (compact: no spaces). */
static void test_json_columns(void **state)
{
    (void)state;
    struct decoded d;
    decode("03_rmc_mysql-8.0.22_json.binlog.000001", &d);
    for (int id = 1; id <= 6; id++) { /* ids 4..6 repeat 1..3 */
        char want[200];
        const char *const *p = MYSQL8_03_DOCS[(id - 1) % 3];
        snprintf(want, sizeof want, "%d|%s|%s|%s", id, p[0], p[1], p[2]);
        assert_string_equal(d.rows[id - 1], want);
    }
    release(&d);
    decode("04_rmc_mysql-9.0.1_json-opaque.binlog", &d);
    assert_int_equal(d.nrows, 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(d.rows[i], MYSQL8_04_VALUES[i]);
    release(&d);
}

/* A row whose JSON text outgrows the scratch: the scratch grows up to its
 * bound and the cells decoded before (the id, rendered into the scratch)
 * move with it; past the bound, or with a fixed scratch, it is an error. */
static void test_scratch_grows_for_json(void **state)
{
    (void)state;
    struct binlog_column cols[2] = {{.type = 3}, {.type = 245, .meta = 4}};
    struct binlog_table t = {.ncols = 2, .cols = cols};
    strcpy(t.id.db, "d");
    strcpy(t.id.table, "t");
    static uint8_t row[6020];
    const uint8_t present = 0x03;
    struct bb b = {row, 0, sizeof row};
    bb_le(&b, 0x00, 1);                   /* no NULLs */
    bb_le(&b, 42, 4);                     /* LONG 42 */
    bb_json_string(&b, 4, 'x', 6000);
    size_t n = b.n;
    struct outbox_cell cells[2];
    char err[256];
    struct binlog_rows r = {.kind = 'w', .ncols = 2, .present = &present,
                            .p = row, .end = row + n};
    struct binlog_scratch sc = {NULL, 0, 1 << 20};
    assert_int_equal(binlog_next_row_grow(&r, &t, cells, &sc, err, sizeof err), 1);
    assert_true(sc.cap >= 6004);
    assert_int_equal(cells[0].len, 2);
    assert_memory_equal(cells[0].data, "42", 2);
    assert_int_equal(cells[1].len, 6002);
    assert_memory_equal(cells[1].data, "\"xxx", 4);
    binlog_scratch_free(&sc);

    struct binlog_scratch tight = {NULL, 0, 5000};
    r.p = row;
    assert_int_equal(binlog_next_row_grow(&r, &t, cells, &tight, err, sizeof err), -1);
    assert_non_null(strstr(err, "column 2"));
    binlog_scratch_free(&tight);

    char fixed[100];
    r.p = row;
    assert_int_equal(binlog_next_row(&r, &t, cells, fixed, sizeof fixed, err,
                                     sizeof err), -1);
    assert_non_null(strstr(err, "column 2"));
}

static void test_corruption_is_caught(void **state)
{
    (void)state;
    size_t len;
    char *buf = fixture("07_percona-binsrv_mysql-8.0.45_gtid_binlog.000001", &len);
    static uint8_t copy[1 << 16];
    memcpy(copy, buf, len);
    struct binlog_format f;
    struct binlog_header h;
    const uint8_t *body;
    size_t blen;
    char err[256];
    binlog_format_default(&f);
    assert_int_equal(binlog_parse_header(copy + 4, len - 4, &h, err, sizeof err), 0);
    assert_int_equal(binlog_parse_fde(copy + 4, h.size, &f, err, sizeof err), 0);
    uint8_t *next = copy + 4 + h.size;
    assert_int_equal(binlog_parse_header(next, len - 4 - h.size, &h, err, sizeof err), 0);
    next[BINLOG_HEADER_LEN] ^= 0x40; /* one flipped bit in the body */
    assert_int_equal(binlog_body(&f, next, h.size, 1, &body, &blen, err, sizeof err), -1);
    assert_non_null(strstr(err, "checksum mismatch"));
    /* Truncated events never read past their end. */
    for (size_t cut = 0; cut < h.size; cut++)
        if (binlog_parse_header(next, cut, &h, err, sizeof err) == 0)
            fail_msg("accepted a header cut at %zu", cut);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture_decodes),
        cmocka_unit_test(test_compressed_transactions),
        cmocka_unit_test(test_char_over_255_enum_set),
        cmocka_unit_test(test_unsigned_and_invisible),
        cmocka_unit_test(test_gtid_files),
        cmocka_unit_test(test_json_columns),
        cmocka_unit_test(test_scratch_grows_for_json),
        cmocka_unit_test(test_corruption_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
