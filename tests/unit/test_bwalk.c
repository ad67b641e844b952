/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event walker (relay/bwalk.h): whole events one after the other,
 * from a start offset, and a run cut short or a size below the header
 * an error at the offset where it stops, never an event handed out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "relay/binlog.h"
#include "relay/bwalk.h"
#include "tests/unit/binlog_build.h"

/* Two XID events (8-byte bodies) after a 4-byte magic: 4 + 2 * 27. */
static size_t two_events(uint8_t *buf, size_t cap)
{
    struct bb o = {buf, 0, cap};
    uint8_t body[8] = {0};
    struct bb b = {body, sizeof body, sizeof body};
    bb_bytes(&o, "\xfe" "bin", 4);
    bb_event(&o, BL_XID, 31, &b);
    bb_event(&o, BL_XID, 58, &b);
    return o.n;
}

static void test_whole_events(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = two_events(buf, sizeof buf);
    struct bwalk w;
    const uint8_t *ev;
    size_t len;
    char err[128];
    bwalk_init(&w, buf, n, 4);
    assert_int_equal(bwalk_next(&w, &ev, &len, err, sizeof err), 1);
    assert_ptr_equal(ev, buf + 4);
    assert_int_equal(len, 27);
    assert_int_equal(w.at, 4);
    assert_int_equal(bwalk_next(&w, &ev, &len, err, sizeof err), 1);
    assert_ptr_equal(ev, buf + 31);
    assert_int_equal(w.at, 31);
    assert_int_equal(bwalk_next(&w, &ev, &len, err, sizeof err), 0);
    assert_int_equal(bwalk_next(&w, &ev, &len, err, sizeof err), 0);
    bwalk_init(&w, buf, 0, 0); /* nothing at all: the end at once */
    assert_int_equal(bwalk_next(&w, &ev, &len, err, sizeof err), 0);
}

/* Every cut inside the second event is an error at offset 31, after
 * the first event came out whole. */
static void test_cut_short(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = two_events(buf, sizeof buf);
    for (size_t cut = 31 + 1; cut < n; cut++) {
        struct bwalk w;
        const uint8_t *ev;
        size_t len;
        char err[128];
        bwalk_init(&w, buf, cut, 4);
        assert_int_equal(bwalk_next(&w, &ev, &len, err, sizeof err), 1);
        if (bwalk_next(&w, &ev, &len, err, sizeof err) != -1)
            fail_msg("a cut at %zu handed out an event", cut);
        assert_int_equal(w.at, 31);
        assert_non_null(strstr(err, "truncated event"));
        assert_non_null(strstr(err, cut - 31 < 13 ? "needs a header" : "needs more"));
    }
}

static void test_size_below_header(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = two_events(buf, sizeof buf);
    buf[31 + 9] = 18; /* the second event claims 18 bytes */
    struct bwalk w;
    const uint8_t *ev;
    size_t len;
    char err[128];
    bwalk_init(&w, buf, n, 4);
    assert_int_equal(bwalk_next(&w, &ev, &len, err, sizeof err), 1);
    assert_int_equal(bwalk_next(&w, &ev, &len, err, sizeof err), -1);
    assert_string_equal(err, "event size 18 is smaller than its header");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_events),
        cmocka_unit_test(test_cut_short),
        cmocka_unit_test(test_size_below_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
