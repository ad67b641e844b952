/* SPDX-License-Identifier: Apache-2.0 */
/* MariaDB's compressed binlog records (relay/mariadb_zip): a record made
 * as the server makes it opens to its text; every kind of broken one is
 * refused with a message, never read past. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "relay/mariadb_zip.h"

#define TEXT "INSERT INTO shop.outbox VALUES ('a fairly long row, repeated, repeated, repeated')"

/* header byte, the length in `lenlen` big-endian bytes, zlib data */
static size_t make_record(uint8_t *out, size_t cap, const char *text,
                          size_t claim, int lenlen, int algo)
{
    uLongf z = (uLongf)(cap - 1 - lenlen);
    out[0] = (uint8_t)(0x80 | algo << 4 | lenlen);
    for (int i = lenlen; i >= 1; i--, claim >>= 8)
        out[i] = (uint8_t)(claim & 0xff);
    assert_int_equal(compress(out + 1 + lenlen, &z, (const Bytef *)text,
                              strlen(text)), Z_OK);
    return 1 + (size_t)lenlen + z;
}

static void test_opens(void **state)
{
    (void)state;
    uint8_t rec[512];
    char err[256];
    size_t n, len = make_record(rec, sizeof rec, TEXT, strlen(TEXT), 3, 0);
    struct binlog_scratch out = {NULL, 0, 4096};
    assert_int_equal(mzip_inflate(rec, len, &out, &n, err, sizeof err), 0);
    assert_int_equal(n, strlen(TEXT));
    assert_memory_equal(out.buf, TEXT, n);
    binlog_scratch_free(&out);
}

static void refused(const uint8_t *rec, size_t len, size_t max, const char *why)
{
    char err[256] = "";
    size_t n;
    struct binlog_scratch out = {NULL, 0, max};
    assert_int_equal(mzip_inflate(rec, len, &out, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, why));
    binlog_scratch_free(&out);
}

static void test_refuses_broken(void **state)
{
    (void)state;
    uint8_t rec[512];
    size_t t = strlen(TEXT), len;
    len = make_record(rec, sizeof rec, TEXT, t + 1, 2, 0);
    refused(rec, len, 4096, "wrong length"); /* claims one byte more */
    len = make_record(rec, sizeof rec, TEXT, t - 1, 2, 0);
    refused(rec, len, 4096, "compressed event"); /* inflates longer */
    len = make_record(rec, sizeof rec, TEXT, t, 2, 1);
    refused(rec, len, 4096, "not zlib");
    len = make_record(rec, sizeof rec, TEXT, t, 2, 0);
    refused(rec, len - 5, 4096, "compressed event"); /* cut short */
    refused(rec, len, t - 1, "over the bound");
    rec[0] = 0x02; /* the compressed flag missing */
    refused(rec, len, 4096, "no compressed record");
    rec[0] = 0x85; /* a length field of 5 bytes */
    refused(rec, len, 4096, "bad length field");
    refused(rec, 1, 4096, "no compressed record");
}

static void test_types(void **state)
{
    (void)state;
    assert_int_equal(mzip_plain_type(BL_MARIA_QUERY_COMPRESSED), BL_QUERY);
    assert_int_equal(mzip_plain_type(BL_MARIA_UPDATE_ROWS_COMPRESSED_V1),
                     BL_UPDATE_ROWS_V1);
    assert_int_equal(mzip_plain_type(BL_MARIA_DELETE_ROWS_COMPRESSED),
                     BL_DELETE_ROWS);
    assert_int_equal(mzip_plain_type(BL_WRITE_ROWS), BL_WRITE_ROWS);
    assert_true(mzip_is_compressed(BL_MARIA_WRITE_ROWS_COMPRESSED));
    assert_false(mzip_is_compressed(BL_MARIA_START_ENCRYPTION));
    assert_false(mzip_is_compressed(172));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens),
        cmocka_unit_test(test_refuses_broken),
        cmocka_unit_test(test_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
