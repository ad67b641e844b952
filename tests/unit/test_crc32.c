/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32: the sliced implementation against the check value of CRC-32/IEEE
 * and against a one-byte-at-a-time reference, for every length and
 * alignment around the 8-byte step, whole and chained.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "relay/crc32.h"

static uint32_t reference(uint32_t crc, const uint8_t *buf, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? 0xedb88320u ^ (crc >> 1) : crc >> 1;
    }
    return ~crc;
}

static void test_check_value(void **state)
{
    (void)state;
    assert_int_equal(crc32_update(0, (const uint8_t *)"123456789", 9),
                     0xcbf43926u);
    assert_int_equal(crc32_update(0, NULL, 0), 0);
}

static void test_lengths_and_alignments(void **state)
{
    (void)state;
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof buf; len++)
            assert_int_equal(crc32_update(0, buf + off, len),
                             reference(0, buf + off, len));
}

/* Long buffers, as a drained backlog's rows events are (the folding path
 * where the CPU has it), at every alignment of a 16-byte step, against
 * the reference and chained across every kind of cut. */
static void test_long_buffers(void **state)
{
    (void)state;
    static uint8_t buf[9000];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof buf; i++) { /* xorshift: no pattern */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 48; len + off <= sizeof buf; len += len < 300 ? 1 : 97)
            assert_int_equal(crc32_update(0, buf + off, len),
                             reference(0, buf + off, len));
    uint32_t whole = crc32_update(0, buf, sizeof buf);
    assert_int_equal(whole, reference(0, buf, sizeof buf));
    for (size_t cut = 0; cut <= sizeof buf; cut += 61)
        assert_int_equal(crc32_update(crc32_update(0, buf, cut), buf + cut,
                                      sizeof buf - cut), whole);
    assert_int_equal(crc32_update(0x12345678u, buf, 4096),
                     reference(0x12345678u, buf, 4096));
}

static void test_chained(void **state)
{
    (void)state;
    uint8_t buf[100];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(255 - i);
    uint32_t whole = crc32_update(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut++)
        assert_int_equal(crc32_update(crc32_update(0, buf, cut), buf + cut,
                                      sizeof buf - cut), whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_lengths_and_alignments),
        cmocka_unit_test(test_chained),
        cmocka_unit_test(test_long_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
