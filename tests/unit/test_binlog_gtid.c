/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tagged MySQL GTIDs (GTID_TAGGED_LOG_EVENT, 42; MySQL 8.3+). No fixture
 * holds one, so the events are built here with an encoder written after
 * MySQL's libs/mysql/serialization (variable-length integers, zig-zag for
 * signed fields, the message's self-inclusive size), independent of the
 * decoder's own reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "relay/binlog.h"

struct enc {
    uint8_t b[512];
    size_t n;
};

static int bit_width(uint64_t v)
{
    int w = 0;
    for (; v; v >>= 1)
        w++;
    return w;
}

/* write_varlen_bytes_unsigned */
static void u(struct enc *e, uint64_t v)
{
    int n = ((bit_width(v) * 575) >> 12) + 1;
    e->b[e->n] = (uint8_t)(((1u << (n - 1)) - 1) | (uint8_t)(v << n));
    uint64_t rest = n == 1 ? 0 : v >> (8 - n + ((n + 7) >> 4));
    for (int i = 1; i < n; i++)
        e->b[e->n + (size_t)i] = (uint8_t)(rest >> (8 * (i - 1)));
    e->n += (size_t)n;
}

static void s64(struct enc *e, int64_t v)
{
    uint64_t mask = v < 0 ? ~0ULL : 0;
    u(e, (((uint64_t)v ^ mask) << 1) | (mask & 1));
}

static const uint8_t UUID[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11,
                                 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42,
                                 0x95, 0x62};

/* The fields of a tagged GTID; extra_field > 0 appends an unknown one. */
static void fields(struct enc *f, const char *tag, int64_t gno,
                   int with_original, uint64_t extra_field)
{
    u(f, 0); u(f, 1);                      /* gtid_flags */
    u(f, 1);
    for (int i = 0; i < 16; i++)
        u(f, UUID[i]);                     /* bytes >= 128 take two */
    u(f, 2); s64(f, gno);
    u(f, 3); u(f, strlen(tag));
    memcpy(f->b + f->n, tag, strlen(tag));
    f->n += strlen(tag);
    u(f, 4); s64(f, 5);                    /* last_committed */
    u(f, 5); s64(f, 6);                    /* sequence_number */
    u(f, 6); u(f, 1700000000123456ULL);    /* immediate commit, us */
    if (with_original) {
        u(f, 7); u(f, 1600000000654321ULL);
    }
    u(f, 8); u(f, 1234);                   /* transaction_length */
    u(f, 9); u(f, 80400);                  /* immediate server version */
    if (extra_field) {
        u(f, extra_field); u(f, 99);
    }
}

/* The envelope: id 1, the size of the whole message (counting its own
 * encoding), the last field id a reader may not skip, then the fields. */
static size_t event(uint8_t *out, const struct enc *f, uint64_t must)
{
    struct enc head;
    size_t size = f->n + 3;
    for (int round = 0; round < 3; round++) {
        head.n = 0;
        u(&head, 1);
        u(&head, size);
        u(&head, must);
        size = head.n + f->n;
    }
    memcpy(out, head.b, head.n);
    memcpy(out + head.n, f->b, f->n);
    return head.n + f->n;
}

static int parse(const uint8_t *body, size_t len, struct binlog_gtid *g,
                 char *err, size_t errlen)
{
    struct binlog_header h = {.type = BL_MYSQL_GTID_TAGGED};
    return binlog_parse_gtid(&h, body, len, 0, g, err, errlen);
}

static void test_tagged_gtid(void **state)
{
    (void)state;
    struct enc f = {.n = 0};
    uint8_t body[600];
    char err[256], text[100];
    fields(&f, "Orders_1", 4200000000LL, 1, 0);
    size_t len = event(body, &f, 9);
    struct binlog_gtid g;
    if (parse(body, len, &g, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(g.mysql, 1);
    assert_memory_equal(g.uuid, UUID, 16);
    assert_int_equal(g.seq, 4200000000ULL);
    assert_string_equal(g.tag, "orders_1"); /* MySQL folds the case */
    assert_int_equal(g.commit_us, 1600000000654321LL); /* the original one */
    assert_true(binlog_gtid_text(&g, text, sizeof text) > 0);
    assert_string_equal(text, "3e11fa47-71ca-11e1-9e33-c80aa9429562:orders_1:4200000000");

    /* without an original commit time, the immediate one */
    f.n = 0;
    fields(&f, "t", 7, 0, 0);
    len = event(body, &f, 9);
    assert_int_equal(parse(body, len, &g, err, sizeof err), 0);
    assert_int_equal(g.commit_us, 1700000000123456LL);
    assert_int_equal(g.seq, 7);
}

/* The names the relay gives transactions (txnid.h), formatted by hand:
 * every kind, the numbers' edges, and a buffer one byte short. */
static void test_gtid_text(void **state)
{
    (void)state;
    char text[100];
    struct binlog_gtid g = {.domain = 0, .server = 1, .seq = 100};
    assert_int_equal(binlog_gtid_text(&g, text, sizeof text), 7);
    assert_string_equal(text, "0-1-100");
    g = (struct binlog_gtid){.domain = 4294967295u, .server = 4294967295u,
                             .seq = 18446744073709551615ULL};
    assert_int_equal(binlog_gtid_text(&g, text, sizeof text), 42);
    assert_string_equal(text, "4294967295-4294967295-18446744073709551615");
    assert_int_equal(binlog_gtid_text(&g, text, 43), 42);
    assert_int_equal(binlog_gtid_text(&g, text, 42), -1);
    g = (struct binlog_gtid){.mysql = 1, .seq = 0};
    memcpy(g.uuid, UUID, 16);
    assert_int_equal(binlog_gtid_text(&g, text, sizeof text), 38);
    assert_string_equal(text, "3e11fa47-71ca-11e1-9e33-c80aa9429562:0");
    memset(g.tag, 'x', sizeof g.tag - 1); /* the longest tag */
    assert_int_equal(binlog_gtid_text(&g, text, sizeof text), 71);
    assert_string_equal(text, "3e11fa47-71ca-11e1-9e33-c80aa9429562:"
                              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx:0");
    assert_int_equal(binlog_gtid_text(&g, text, 71), -1);
}

static void test_unknown_fields(void **state)
{
    (void)state;
    struct enc f = {.n = 0};
    uint8_t body[600];
    char err[256];
    struct binlog_gtid g;
    /* a later field the relay does not know: skippable, so accepted */
    fields(&f, "t", 7, 1, 12);
    size_t len = event(body, &f, 9);
    assert_int_equal(parse(body, len, &g, err, sizeof err), 0);
    assert_string_equal(g.tag, "t");
    /* the same field marked as one a reader may not skip */
    len = event(body, &f, 13);
    assert_int_equal(parse(body, len, &g, err, sizeof err), -1);
    assert_non_null(strstr(err, "field 12"));
}

static void test_malformed_tagged(void **state)
{
    (void)state;
    struct enc f = {.n = 0};
    uint8_t body[600];
    char err[256];
    struct binlog_gtid g;
    fields(&f, "t", 7, 1, 0);
    size_t len = event(body, &f, 9);
    /* every truncation is an error, never a read past the end (ASan) */
    for (size_t cut = 0; cut < len; cut++)
        if (parse(body, cut, &g, err, sizeof err) == 0)
            fail_msg("accepted an event cut at %zu of %zu", cut, len);
    body[0] = 0x04; /* message id 2 */
    assert_int_equal(parse(body, len, &g, err, sizeof err), -1);

    static const char *const bad_tags[] = {"9lives", "a-b", "",
        "a234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++) {
        f.n = 0;
        fields(&f, bad_tags[i], 7, 1, 0);
        len = event(body, &f, 9);
        if (parse(body, len, &g, err, sizeof err) == 0)
            fail_msg("accepted tag \"%s\"", bad_tags[i]);
    }
    f.n = 0;
    fields(&f, "t", 0, 1, 0); /* gno 0 does not exist */
    len = event(body, &f, 9);
    assert_int_equal(parse(body, len, &g, err, sizeof err), -1);
    f.n = 0;
    fields(&f, "t", -5, 1, 0);
    len = event(body, &f, 9);
    assert_int_equal(parse(body, len, &g, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tagged_gtid),
        cmocka_unit_test(test_gtid_text),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_malformed_tagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
