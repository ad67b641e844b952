/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text the relay renders on its hot path, against printf-made references:
 * DATETIME2 cells (a common outbox column, created_at) at every fractional
 * precision, and the outbox-position header "FILE:OFFSET:ROW".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "relay/binlog.h"
#include "relay/dedupe.h"
#include "tests/unit/binlog_build.h"

#define MYSQL_TYPE_DATETIME2 18

static void check_datetime(int y, int mo, int d, int h, int mi, int s,
                           uint32_t usec, int fsp)
{
    static const uint32_t scale[] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    uint32_t stored = usec / scale[fsp]; /* what the server keeps */
    uint32_t raw = fsp == 0 ? 0 : stored * (fsp % 2 ? 10 : 1);
    uint8_t row[16], present = 1;
    struct bb b = {row, 0, sizeof row};
    bb_le(&b, 0, 1); /* not NULL */
    bb_datetime2(&b, y, mo, d, h, mi, s, raw, fsp);
    struct binlog_column col = {.type = MYSQL_TYPE_DATETIME2, .meta = (uint16_t)fsp};
    struct binlog_table t = {.ncols = 1, .cols = &col};
    struct binlog_rows r = {.kind = 'w', .ncols = 1, .present = &present};
    r.p = row;
    r.end = row + b.n;
    struct outbox_cell cell;
    char scratch[64], err[128], want[64];
    assert_int_equal(binlog_next_row(&r, &t, &cell, scratch, sizeof scratch,
                                     err, sizeof err), 1);
    int k = snprintf(want, sizeof want, "%04d-%02d-%02d %02d:%02d:%02d", y, mo,
                     d, h, mi, s);
    if (fsp) {
        int f = snprintf(want + k, sizeof want - (size_t)k, ".%0*" PRIu32, fsp,
                         stored);
        assert_true(f > 0 && (size_t)f < sizeof want - (size_t)k);
    }
    assert_int_equal(cell.len, strlen(want));
    assert_memory_equal(cell.data, want, cell.len);
}

static void test_datetime2(void **state)
{
    (void)state;
    for (int fsp = 0; fsp <= 6; fsp++) {
        check_datetime(2026, 11, 30, 20, 53, 7, 123456, fsp);
        check_datetime(1, 1, 1, 0, 0, 0, 0, fsp);
        check_datetime(9999, 12, 31, 23, 59, 59, 999999, fsp);
        check_datetime(0, 0, 0, 0, 0, 0, 0, fsp); /* the zero date */
        check_datetime(1970, 6, 9, 7, 8, 9, 1, fsp);
    }
}

static void test_position_text(void **state)
{
    (void)state;
    static const uint64_t offsets[] = {0, 4, 1234567, UINT64_MAX};
    static const uint32_t rows[] = {0, 9, 10, UINT32_MAX};
    char got[300], want[300];
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++) {
            int n = opos_format(got, sizeof got, "bin.000042", offsets[i], rows[j]);
            snprintf(want, sizeof want, "bin.000042:%" PRIu64 ":%" PRIu32,
                     offsets[i], rows[j]);
            assert_string_equal(got, want);
            assert_int_equal(n, (int)strlen(want));
        }
    assert_int_equal(opos_format(got, 12, "bin.000042", 1234567, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datetime2),
        cmocka_unit_test(test_position_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
