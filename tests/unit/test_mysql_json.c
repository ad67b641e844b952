/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MySQL binary JSON to text: hand-built documents for every value type and
 * storage format, documents taken byte for byte from the fixture binlogs
 * 03 and 04 (../shared/fixtures/mysql8) with the values their MANIFEST
 * states, and malformed documents (truncated, offsets out of range, too
 * deep) that must come back as errors, under the sanitizers without a read
 * out of bounds.
 *
 * Formatting: compact (no space after ':' or ','); MySQL prints the same
 * documents with a space after each. DECIMAL prints as a JSON number (as
 * MySQL prints it), where the MANIFEST's rust-derived expectation quotes
 * it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/mysql_json.h"

/* Renders into a bounded buffer and checks the text. */
static void text_is(const uint8_t *doc, size_t len, const char *want)
{
    char buf[4096], err[256] = "";
    struct mysql_json_out o = {buf, sizeof buf, 0, 0, 0, 0};
    if (mysql_json_to_text(doc, len, &o, err, sizeof err) != 0)
        fail_msg("expected %s, got error: %s", want, err);
    assert_true(o.len < sizeof buf);
    buf[o.len] = '\0';
    assert_string_equal(buf, want);
}

/* Fails with a message that names the problem. */
static void error_has(const uint8_t *doc, size_t len, const char *word)
{
    char buf[256], err[256] = "";
    struct mysql_json_out o = {buf, sizeof buf, 0, 0, 0, 0};
    assert_int_equal(mysql_json_to_text(doc, len, &o, err, sizeof err), -1);
    if (!strstr(err, word))
        fail_msg("error \"%s\" does not mention \"%s\"", err, word);
}

#define DOC(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void test_scalars(void **state)
{
    (void)state;
    text_is(NULL, 0, "null"); /* an empty value is JSON null in MySQL */
    text_is(DOC(0x04, 0x00), "null");
    text_is(DOC(0x04, 0x01), "true");
    text_is(DOC(0x04, 0x02), "false");
    text_is(DOC(0x05, 0xfe, 0xff), "-2");
    text_is(DOC(0x06, 0xff, 0xff), "65535");
    text_is(DOC(0x07, 0x60, 0x79, 0xfe, 0xff), "-100000");
    text_is(DOC(0x08, 0xff, 0xff, 0xff, 0xff), "4294967295");
    text_is(DOC(0x09, 0, 0, 0, 0, 0, 0, 0, 0x80), "-9223372036854775808");
    text_is(DOC(0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
            "18446744073709551615");
    text_is(DOC(0x0b, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f), "1.5");
    text_is(DOC(0x0b, 0, 0, 0, 0, 0, 0, 0x08, 0x40), "3.0");
    text_is(DOC(0x0b, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f), "0.1");
    text_is(DOC(0x0c, 0x00), "\"\"");
    /* quote, backslash, newline, a control byte and UTF-8 */
    text_is(DOC(0x0c, 0x08, 'a', '"', '\\', '\n', 0x01, 0xc3, 0xa9, 'z'),
            "\"a\\\"\\\\\\n\\u0001\xc3\xa9z\"");
}

static void test_long_string_length(void **state)
{
    (void)state;
    /* 200 bytes: the length takes two 7-bit groups (0xc8 0x01) */
    uint8_t doc[203] = {0x0c, 0xc8, 0x01};
    memset(doc + 3, 'q', 200);
    char want[203] = "\"";
    memset(want + 1, 'q', 200);
    want[201] = '"';
    want[202] = '\0';
    text_is(doc, sizeof doc, want);
}

static void test_small_object_and_array(void **state)
{
    (void)state;
    /* {"a":1,"bb":"x"}: count, size, key entries (offset, length), value
     * entries (type, inline value or offset), keys, values */
    text_is(DOC(0x00, 2, 0, 23, 0,
                18, 0, 1, 0, 19, 0, 2, 0,
                0x05, 1, 0, 0x0c, 21, 0,
                'a', 'b', 'b', 1, 'x'),
            "{\"a\":1,\"bb\":\"x\"}");
    /* [7,[true,null],{}] with the nested values at offsets */
    text_is(DOC(0x02, 3, 0, 27, 0,
                0x06, 7, 0, 0x02, 13, 0, 0x00, 23, 0,
                2, 0, 10, 0, 0x04, 1, 0, 0x04, 0, 0,
                0, 0, 4, 0),
            "[7,[true,null],{}]");
    text_is(DOC(0x02, 0, 0, 4, 0), "[]");
}

static void test_large_object_and_array(void **state)
{
    (void)state;
    /* large format: 4-byte counts and offsets; int32 is inlined */
    text_is(DOC(0x01, 1, 0, 0, 0, 20, 0, 0, 0,
                19, 0, 0, 0, 1, 0,
                0x07, 0x70, 0x11, 0x01, 0,
                'k'),
            "{\"k\":70000}");
    text_is(DOC(0x03, 2, 0, 0, 0, 20, 0, 0, 0,
                0x08, 0xff, 0xff, 0xff, 0xff, 0x0c, 18, 0, 0, 0,
                1, 'y'),
            "[4294967295,\"y\"]");
}

static void test_opaque(void **state)
{
    (void)state;
    /* DATE, DATETIME, TIMESTAMP, TIME (packed), DECIMAL(5,2) -1.50,
     * VAR_STRING, and a BLOB shown as base64 */
    text_is(DOC(0x0f, 10, 8, 0, 0, 0, 0, 0, 0xe4, 0x8b, 0x19), "\"2012-03-18\"");
    text_is(DOC(0x0f, 12, 8, 0, 0, 0, 0xad, 0xb7, 0xe4, 0x8b, 0x19),
            "\"2012-03-18 11:30:45.000000\"");
    text_is(DOC(0x0f, 7, 8, 0, 0, 0, 0xad, 0xb7, 0xe4, 0x8b, 0x19),
            "\"2012-03-18 11:30:45.000000\"");
    text_is(DOC(0x0f, 11, 8, 0xf1, 0xfb, 0x09, 0xee, 0x77, 0x05, 0, 0),
            "\"87:31:46.654321\"");
    text_is(DOC(0x0f, 246, 5, 5, 2, 0x7f, 0xfe, 0xcd), "-1.50");
    text_is(DOC(0x0f, 253, 2, 'h', 'i'), "\"hi\"");
    text_is(DOC(0x0f, 252, 3, 0x00, 0xff, 0x10), "\"base64:type252:AP8Q\"");
}

/* The eight documents of fixture 04 (foo.test, one JSON column), copied
 * from its WRITE_ROWS events, with the values the MANIFEST lists. */
static void test_fixture_04_documents(void **state)
{
    (void)state;
    text_is(DOC(0x00, 1, 0, 0x0f, 0, 0x0b, 0, 1, 0, 0x0f, 0x0c, 0, 'a',
                0x0f, 1, 0x55),
            "{\"a\":\"base64:type15:VQ==\"}");
    text_is(DOC(0x00, 1, 0, 0x16, 0, 0x0b, 0, 1, 0, 0x0f, 0x0c, 0, 'b',
                0x0a, 8, 0, 0, 0, 0, 0, 0xe4, 0x8b, 0x19),
            "{\"b\":\"2012-03-18\"}");
    text_is(DOC(0x00, 1, 0, 0x16, 0, 0x0b, 0, 1, 0, 0x0f, 0x0c, 0, 'c',
                0x0c, 8, 0, 0, 0, 0xad, 0xb7, 0xe4, 0x8b, 0x19),
            "{\"c\":\"2012-03-18 11:30:45.000000\"}");
    text_is(DOC(0x00, 1, 0, 0x16, 0, 0x0b, 0, 1, 0, 0x0f, 0x0c, 0, 'c',
                0x0b, 8, 0xf1, 0xfb, 0x09, 0xee, 0x77, 0x05, 0, 0),
            "{\"c\":\"87:31:46.654321\"}");
    text_is(DOC(0x00, 1, 0, 0x14, 0, 0x0b, 0, 1, 0, 0x0f, 0x0c, 0, 'd',
                0xf6, 6, 6, 3, 0x80, 0x7b, 0x01, 0xc8),
            "{\"d\":123.456}");
    text_is(DOC(0x00, 1, 0, 0x15, 0, 0x0b, 0, 1, 0, 0x0f, 0x0c, 0, 'e',
                0xf6, 7, 0x0b, 2, 0x80, 0, 0, 0x09, 0),
            "{\"e\":9.00}");
    text_is(DOC(0x00, 1, 0, 0x1c, 0, 0x0b, 0, 1, 0, 0x02, 0x0c, 0, 'e',
                4, 0, 0x10, 0, 0x05, 0, 0, 0x05, 1, 0, 0x04, 1, 0, 0x04, 2, 0),
            "{\"e\":[0,1,true,false]}");
    text_is(DOC(0x00, 1, 0, 0x0c, 0, 0x0b, 0, 1, 0, 0x04, 0, 0, 'e'),
            "{\"e\":null}");
}

/* Fixture 03 (mysql.t, row id 1): keys stored sorted, as MySQL does. */
static void test_fixture_03_document(void **state)
{
    (void)state;
    text_is(DOC(0x00, 3, 0, 0x33, 0, 0x19, 0, 3, 0, 0x1c, 0, 4, 0, 0x20, 0,
                4, 0, 0x05, 0x18, 0, 0x0c, 0x24, 0, 0x0c, 0x2f, 0,
                'a', 'g', 'e', 'd', 'a', 't', 'a', 'n', 'a', 'm', 'e',
                10, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
                3, 'J', 'o', 'e'),
            "{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}");
}

static void test_malformed(void **state)
{
    (void)state;
    error_has(DOC(0x04), "truncated");
    error_has(DOC(0x04, 0x07), "literal");
    error_has(DOC(0x0e, 0), "unknown value type");
    error_has(DOC(0x09, 1, 2, 3), "truncated");
    error_has(DOC(0x0b, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f), "finite"); /* inf */
    error_has(DOC(0x0c, 5, 'a'), "truncated string");
    error_has(DOC(0x0c, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), "truncated");
    error_has(DOC(0x0f, 10, 3, 1, 2, 3), "8");
    error_has(DOC(0x0f, 246, 3, 70, 2, 0), "DECIMAL");
    error_has(DOC(0x0f, 15, 9, 1), "opaque");
    error_has(DOC(0x02, 1), "header");
    /* size says 200 bytes, the document has 8 */
    error_has(DOC(0x02, 1, 0, 200, 0, 0x04, 0, 0), "does not fit");
    /* a count whose header would pass the size */
    error_has(DOC(0x02, 0xff, 0xff, 8, 0, 0x04, 0, 0), "does not fit");
    /* a value offset past the end, and one inside the header */
    error_has(DOC(0x02, 1, 0, 8, 0, 0x0c, 0x40, 0, 0), "outside");
    error_has(DOC(0x02, 1, 0, 8, 0, 0x0c, 1, 0, 0), "outside");
    /* a key past the end */
    error_has(DOC(0x00, 1, 0, 12, 0, 11, 0, 9, 0, 0x04, 0, 0, 'k'), "key");
    /* the large format's offsets checked the same way */
    error_has(DOC(0x03, 1, 0, 0, 0, 13, 0, 0, 0, 0x0c, 0xff, 0xff, 0xff, 0x7f),
              "outside");
}

/* Arrays nested n deep: [[[...[]...]]] */
static size_t nested(uint8_t *doc, int n)
{
    size_t len = 1 + (size_t)n * 7 - 3;
    doc[0] = 0x02;
    for (int i = 0; i < n; i++) {
        uint8_t *p = doc + 1 + (size_t)i * 7;
        size_t size = len - 1 - (size_t)i * 7;
        p[0] = i < n - 1;
        p[1] = 0;
        p[2] = (uint8_t)size;
        p[3] = (uint8_t)(size >> 8);
        if (i < n - 1) {
            p[4] = 0x02;
            p[5] = 7;
            p[6] = 0;
        }
    }
    return len;
}

static void test_depth_bound(void **state)
{
    (void)state;
    static uint8_t doc[2000];
    char buf[1024], err[256];
    size_t len = nested(doc, 100);
    struct mysql_json_out o = {buf, sizeof buf, 0, 0, 0, 0};
    assert_int_equal(mysql_json_to_text(doc, len, &o, err, sizeof err), 0);
    assert_int_equal(o.len, 200);
    assert_memory_equal(buf, "[[[", 3);
    len = nested(doc, 101);
    error_has(doc, len, "deeper than 100");
}

static void test_bounded_counts_and_growable(void **state)
{
    (void)state;
    const uint8_t doc[] = {0x0c, 10, '0', '1', '2', '3', '4', '5', '6', '7',
                           '8', '9'};
    char small[4], err[256];
    /* bounded: fills what fits, counts the rest (so callers can grow) */
    struct mysql_json_out o = {small, sizeof small, 0, 0, 0, 0};
    assert_int_equal(mysql_json_to_text(doc, sizeof doc, &o, err, sizeof err), 0);
    assert_int_equal(o.len, 12);
    assert_memory_equal(small, "\"012", 4);
    /* growable: realloc'd here, freed by the caller */
    struct mysql_json_out g = {NULL, 0, 0, 0, 1, 0};
    assert_int_equal(mysql_json_to_text(doc, sizeof doc, &g, err, sizeof err), 0);
    assert_int_equal(g.len, 12);
    assert_memory_equal(g.buf, "\"0123456789\"", 12);
    free(g.buf);
    /* a limit stops expansion: an error, not a partial text */
    struct mysql_json_out l = {NULL, 0, 0, 5, 1, 0};
    assert_int_equal(mysql_json_to_text(doc, sizeof doc, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "passes 5 bytes"));
    free(l.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_long_string_length),
        cmocka_unit_test(test_small_object_and_array),
        cmocka_unit_test(test_large_object_and_array),
        cmocka_unit_test(test_opaque),
        cmocka_unit_test(test_fixture_04_documents),
        cmocka_unit_test(test_fixture_03_document),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_bounded_counts_and_growable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
