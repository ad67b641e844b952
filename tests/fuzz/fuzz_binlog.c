/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The binlog decoder (relay/binlog.h) on arbitrary bytes.
 *
 * Input: 5 bytes of settings, then the bytes under test.
 *   byte 0   which ROWS type (% 6: WRITE/UPDATE/DELETE v1, then v2) and
 *            which GTID type (/ 6 % 4: MySQL, anonymous, tagged, MariaDB)
 *   byte 1   bit 0: 4-byte table ids (post-header 6), bit 1: CRC32 format
 *   byte 2   the QUERY post-header length, as a FORMAT_DESCRIPTION may set
 *   byte 3-4 L, little-endian: the first L bytes of the rest are a
 *            TABLE_MAP body, the others the ROWS body that follows it
 * The whole rest is also given, as one event body, to every other body
 * decoder, and as a whole event to the header, checksum and FDE parsers.
 * Every buffer is exactly its size, so a read past one is caught.
 *
 * A table map that parses must have 1..BINLOG_MAX_COLUMNS columns; rows
 * are decoded with it until the end or an error, and every non-NULL cell
 * must point into the ROWS body or into the scratch buffer. Twice: with a
 * small fixed scratch (binlog_next_row), and with the growing one the
 * relay runs (binlog_next_row_grow), kept across the event's rows as the
 * relay keeps it, against a fixed scratch twice its starting size: every
 * row the fixed one decodes, the growing one must decode to the same
 * cells (it once failed a DATETIME2 that came when it was nearly full).
 */
#include <string.h>

#include "relay/binlog.h"
#include "tests/fuzz/fuzz.h"

#define SCRATCH 512
#define GROW_MAX (1 << 16)   /* the growing scratch's bound */
#define REFERENCE 8192       /* the fixed scratch it is held against */

static const uint8_t ROWS[] = {BL_WRITE_ROWS_V1, BL_UPDATE_ROWS_V1,
                               BL_DELETE_ROWS_V1, BL_WRITE_ROWS,
                               BL_UPDATE_ROWS, BL_DELETE_ROWS};
static const uint8_t GTIDS[] = {BL_MYSQL_GTID, BL_MYSQL_ANONYMOUS_GTID,
                                BL_MYSQL_GTID_TAGGED, BL_MARIA_GTID};

static int inside(const void *p, size_t n, const void *buf, size_t len)
{
    const char *a = p, *b = buf;
    return a >= b && n <= len && a - b <= (ptrdiff_t)(len - n);
}

/* Every non-NULL cell points into the ROWS body or the scratch. */
static void cells_inside(const struct outbox_cell *cells, size_t n,
                         const uint8_t *body, size_t len, const char *scratch,
                         size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (!cells[i].is_null)
            FUZZ_CHECK(inside(cells[i].data, cells[i].len, body, len) ||
                       inside(cells[i].data, cells[i].len, scratch, cap));
}

static int same_cells(const struct outbox_cell *a, const struct outbox_cell *b,
                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].is_null != b[i].is_null ||
            (!a[i].is_null && (a[i].len != b[i].len ||
                               memcmp(a[i].data, b[i].data, a[i].len) != 0)))
            return 0;
    return 1;
}

static void rows_fixed(struct binlog_rows r, const struct binlog_table *t,
                       const uint8_t *body, size_t len)
{
    char err[256];
    struct outbox_cell *cells = calloc(t->ncols, sizeof *cells);
    char *scratch = malloc(SCRATCH);
    FUZZ_CHECK(cells && scratch);
    int rc;
    while ((rc = binlog_next_row(&r, t, cells, scratch, SCRATCH, err,
                                 sizeof err)) == 1)
        cells_inside(cells, t->ncols, body, len, scratch, SCRATCH);
    FUZZ_CHECK(rc == 0 || rc == -1);
    free(scratch);
    free(cells);
}

/* The growing path, row by row in step with the fixed reference. */
static void rows_grow(struct binlog_rows r, const struct binlog_table *t,
                      const uint8_t *body, size_t len)
{
    char err[256];
    struct binlog_rows ref = r;
    struct outbox_cell *cells = calloc(t->ncols, sizeof *cells);
    struct outbox_cell *want = calloc(t->ncols, sizeof *want);
    char *fixed = malloc(REFERENCE);
    struct binlog_scratch sc = {NULL, 0, GROW_MAX};
    FUZZ_CHECK(cells && want && fixed);
    int rc, ref_rc = 1;
    while ((rc = binlog_next_row_grow(&r, t, cells, &sc, err, sizeof err)) == 1) {
        cells_inside(cells, t->ncols, body, len, sc.buf, sc.cap);
        if (ref_rc == 1 && (ref_rc = binlog_next_row(&ref, t, want, fixed,
                                                     REFERENCE, err,
                                                     sizeof err)) == 1)
            FUZZ_CHECK(same_cells(cells, want, t->ncols));
    }
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (ref_rc == 1) /* the row the growing scratch stopped at */
        FUZZ_CHECK(binlog_next_row(&ref, t, want, fixed, REFERENCE, err,
                                   sizeof err) != 1);
    binlog_scratch_free(&sc);
    free(fixed);
    free(want);
    free(cells);
}

static void rows(const struct binlog_format *f, uint8_t type,
                 const uint8_t *tmap, size_t tlen, const uint8_t *body,
                 size_t len)
{
    char err[256];
    struct binlog_table t;
    if (binlog_parse_table(f, tmap, tlen, &t, err, sizeof err) < 0)
        return;
    FUZZ_CHECK(t.ncols >= 1 && t.ncols <= BINLOG_MAX_COLUMNS && t.cols);
    struct binlog_header h = {.type = type};
    struct binlog_rows r;
    if (binlog_parse_rows(&h, f, body, len, &r, err, sizeof err) == 0) {
        FUZZ_CHECK(r.ncols >= 1 && r.ncols <= BINLOG_MAX_COLUMNS);
        FUZZ_CHECK(r.p >= body && r.p <= body + len && r.end == body + len);
        rows_fixed(r, &t, body, len);
        rows_grow(r, &t, body, len);
    }
    binlog_table_free(&t);
}

static void bodies(const struct binlog_format *f, uint8_t gtid_type,
                   const uint8_t *b, size_t len)
{
    char err[256];
    struct binlog_rotate rot;
    if (binlog_parse_rotate(b, len, &rot, err, sizeof err) == 0)
        FUZZ_CHECK(inside(rot.file, rot.file_len, b, len));
    struct binlog_header h = {.type = gtid_type};
    struct binlog_gtid g;
    binlog_parse_gtid(&h, b, len, 7, &g, err, sizeof err);
    struct binlog_query q;
    if (binlog_parse_query(f, b, len, &q, err, sizeof err) == 0) {
        FUZZ_CHECK(inside(q.db, q.db_len, b, len));
        FUZZ_CHECK(inside(q.sql, q.sql_len, b, len));
    }
    struct binlog_table_id id;
    if (binlog_parse_table_id(f, b, len, &id, err, sizeof err) == 0)
        FUZZ_CHECK(strlen(id.db) < sizeof id.db && strlen(id.table) < sizeof id.table);
    uint8_t *out = NULL;
    size_t outlen = 0;
    if (binlog_payload_expand(b, len, &out, &outlen, err, sizeof err) == 0) {
        FUZZ_CHECK(out && outlen > 0);
        free(out);
    }
}

static void event(const struct binlog_format *f, const uint8_t *ev, size_t len)
{
    char err[256];
    struct binlog_header h;
    if (binlog_parse_header(ev, len, &h, err, sizeof err) == 0)
        FUZZ_CHECK(h.size >= BINLOG_HEADER_LEN && h.size <= len);
    const uint8_t *body;
    size_t blen;
    for (int verify = 0; verify <= 1; verify++)
        if (binlog_body(f, ev, len, verify, &body, &blen, err, sizeof err) == 0)
            FUZZ_CHECK(inside(body, blen, ev, len));
    struct binlog_format f2;
    if (binlog_parse_fde(ev, len, &f2, err, sizeof err) == 0)
        FUZZ_CHECK(f2.checksum_len == 0 || f2.checksum_len == 4);
    binlog_type_name(len ? ev[0] : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    struct binlog_format f;
    binlog_format_default(&f);
    if (data[1] & 1) {
        f.post_header[BL_TABLE_MAP] = 6;
        for (size_t i = 0; i < sizeof ROWS; i++)
            f.post_header[ROWS[i]] = 6;
    }
    f.checksum_len = data[1] & 2 ? 4 : 0;
    f.post_header[BL_QUERY] = data[2];
    size_t n = size - 5, tlen = (size_t)data[3] | (size_t)data[4] << 8;
    if (tlen > n)
        tlen = n;
    uint8_t *all = (uint8_t *)fuzz_copy(data + 5, n, 0);
    uint8_t *tmap = (uint8_t *)fuzz_copy(data + 5, tlen, 0);
    uint8_t *rbody = (uint8_t *)fuzz_copy(data + 5 + tlen, n - tlen, 0);

    rows(&f, ROWS[data[0] % 6], tmap, tlen, rbody, n - tlen);
    bodies(&f, GTIDS[data[0] / 6 % 4], all, n);
    event(&f, all, n);

    free(rbody);
    free(tmap);
    free(all);
    return 0;
}
