/* SPDX-License-Identifier: Apache-2.0 */
/* Binlog positions and GTID sets: arithmetic and text round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "relay/checkpoint.h"
#include "relay/ckpt_file.h"
#include "relay/koffsets.h"
#include "common/position.h"

static const uint8_t U1[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                               0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};

static void gtid_is(const struct relay_position *p, const char *want)
{
    char buf[POS_TEXT_MAX];
    assert_true(pos_format_gtid(p, buf, sizeof buf) >= 0);
    assert_string_equal(buf, want);
}

static void test_mariadb_domains(void **state)
{
    (void)state;
    struct relay_position p;
    pos_init(&p);
    assert_int_equal(pos_add_mariadb(&p, 1, 2, 7), 0);
    assert_int_equal(pos_add_mariadb(&p, 0, 1, 100), 0);
    assert_int_equal(pos_add_mariadb(&p, 0, 3, 101), 0);
    gtid_is(&p, "0-3-101,1-2-7");
    assert_int_equal(pos_add_mysql(&p, U1, NULL, 1), -1); /* no mixing */
    pos_free(&p);
}

static void test_mysql_intervals_merge(void **state)
{
    (void)state;
    struct relay_position p;
    pos_init(&p);
    static const uint64_t gnos[] = {5, 1, 3, 2, 9, 4, 10, 7};
    for (size_t i = 0; i < sizeof gnos / sizeof gnos[0]; i++)
        assert_int_equal(pos_add_mysql(&p, U1, NULL, gnos[i]), 0);
    gtid_is(&p, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7:9-10");
    assert_true(pos_mysql_contains(&p, U1, NULL, 4));
    assert_false(pos_mysql_contains(&p, U1, NULL, 6));
    assert_false(pos_mysql_contains(&p, U1, "t1", 4));
    assert_int_equal(pos_add_mysql(&p, U1, NULL, 8), 0);
    gtid_is(&p, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-10");
    assert_int_equal(pos_add_mysql(&p, U1, NULL, 6), 0);
    gtid_is(&p, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10");
    assert_int_equal(p.my[0].niv, 1);
    assert_int_equal(pos_add_mysql(&p, U1, NULL, 0), -1); /* gno 0 is invalid */
    pos_free(&p);
}

static int subset(const char *a, const char *b)
{
    struct relay_position pa, pb;
    char err[128];
    pos_init(&pa);
    pos_init(&pb);
    if (a[0])
        assert_int_equal(pos_parse_gtid(&pa, a, err, sizeof err), 0);
    assert_int_equal(pos_parse_gtid(&pb, b, err, sizeof err), 0);
    int rc = pos_mysql_subset(&pa, &pb);
    pos_free(&pa);
    pos_free(&pb);
    return rc;
}

/* Which binlog a GTID-set start begins in rests on this. */
static void test_mysql_subset(void **state)
{
    (void)state;
    const char *u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const char *v = "4e11fa47-71ca-11e1-9e33-c80aa9429562";
    char a[200], b[200];
    snprintf(b, sizeof b, "%s:1-10:20-30,%s:1-5", u, v);
    assert_true(subset("", b));
    snprintf(a, sizeof a, "%s:1-10", u);
    assert_true(subset(a, b));
    snprintf(a, sizeof a, "%s:2-9:21,%s:5", u, v);
    assert_true(subset(a, b));
    snprintf(a, sizeof a, "%s:1-11", u); /* 11 is missing */
    assert_false(subset(a, b));
    snprintf(a, sizeof a, "%s:10-20", u); /* spans the gap */
    assert_false(subset(a, b));
    snprintf(a, sizeof a, "%s:31", u);
    assert_false(subset(a, b));
    snprintf(a, sizeof a, "%s:1", "5e11fa47-71ca-11e1-9e33-c80aa9429562");
    assert_false(subset(a, b)); /* a server b never saw */
    snprintf(a, sizeof a, "%s:tag:1", u);
    assert_false(subset(a, b)); /* tagged is another sequence */
}

static void test_parse_round_trip(void **state)
{
    (void)state;
    static const char *const sets[] = {
        "0-1-100",
        "0-1-100,1-2-7,4294967295-4294967295-18446744073709551615",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100:105",
        ("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,"
         "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag_1:1-3"), /* one set */
    };
    char err[256], buf[POS_TEXT_MAX];
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        struct relay_position p;
        pos_init(&p);
        if (pos_parse_gtid(&p, sets[i], err, sizeof err) != 0)
            fail_msg("%s: %s", sets[i], err);
        assert_true(pos_format_gtid(&p, buf, sizeof buf) >= 0);
        assert_string_equal(buf, sets[i]);
        pos_free(&p);
    }
    /* MySQL's own form groups the tags of one uuid in one element and
     * folds the case of tags; both read back in the split form */
    static const char *const tagged[][2] = {
        {"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:Tag_1:1-3:7",
         "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,"
         "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag_1:1-3:7"},
        {"3e11fa47-71ca-11e1-9e33-c80aa9429562:_x:9",
         "3e11fa47-71ca-11e1-9e33-c80aa9429562:_x:9"},
    };
    for (size_t i = 0; i < sizeof tagged / sizeof tagged[0]; i++) {
        struct relay_position p;
        pos_init(&p);
        if (pos_parse_gtid(&p, tagged[i][0], err, sizeof err) != 0)
            fail_msg("%s: %s", tagged[i][0], err);
        assert_true(pos_format_gtid(&p, buf, sizeof buf) >= 0);
        assert_string_equal(buf, tagged[i][1]);
        pos_free(&p);
    }
    static const char *const bad[] = {"0-1", "0-1-x", "1-2-3,", "a-b-c",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag-x:1",
        ("3e11fa47-71ca-11e1-9e33-c80aa9429562:"
         "a23456789012345678901234567890123:1"), /* a 33-character tag */
        "3e11fa47-71ca-11e1-9e33-c80aa9429562",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-1",
        "3e11fa47-71ca-11e1-9e33-c80aa942956:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct relay_position p;
        pos_init(&p);
        if (pos_parse_gtid(&p, bad[i], err, sizeof err) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        pos_free(&p);
    }
}

static void test_whole_position(void **state)
{
    (void)state;
    struct relay_position p, q, c;
    char buf[POS_TEXT_MAX], buf2[POS_TEXT_MAX], err[256];
    pos_init(&p);
    pos_init(&q);
    pos_init(&c);
    pos_set_file(&p, "mysql-bin.000003", 1234);
    assert_int_equal(pos_add_mysql(&p, U1, NULL, 42), 0);
    assert_true(pos_format(&p, buf, sizeof buf) > 0);
    assert_string_equal(buf, "v1 file=mysql-bin.000003 pos=1234 "
                             "gtid=3e11fa47-71ca-11e1-9e33-c80aa9429562:42");
    assert_int_equal(pos_parse(&q, buf, err, sizeof err), 0);
    assert_string_equal(q.file, "mysql-bin.000003");
    assert_int_equal(q.offset, 1234);
    assert_int_equal(pos_copy(&c, &q), 0);
    pos_free(&q);
    assert_true(pos_format(&c, buf2, sizeof buf2) > 0);
    assert_string_equal(buf, buf2);
    assert_int_equal(pos_parse(&q, "v1 file=- pos=0 gtid=", err, sizeof err), 0);
    assert_string_equal(q.file, "");
    assert_int_equal(q.kind, POS_GTID_NONE);
    assert_int_equal(pos_parse(&q, "file=x pos=1", err, sizeof err), -1);
    assert_int_equal(pos_format(&p, buf, 10), -1); /* too small: refused */
    pos_free(&p);
    pos_free(&q);
    pos_free(&c);
}

/* The server whose binlog file and offset a position names. */
static void test_position_server(void **state)
{
    (void)state;
    struct relay_position p, q;
    char buf[POS_TEXT_MAX], err[256];
    pos_init(&p);
    pos_init(&q);
    pos_set_file(&p, "bin.000002", 77);
    assert_int_equal(pos_add_mariadb(&p, 0, 2, 9), 0);
    snprintf(p.server, sizeof p.server, "2");
    assert_true(pos_format(&p, buf, sizeof buf) > 0);
    assert_string_equal(buf, "v1 file=bin.000002 pos=77 gtid=0-2-9 server=2");
    assert_int_equal(pos_parse(&q, buf, err, sizeof err), 0);
    assert_string_equal(q.server, "2");
    assert_int_equal(q.md[0].seq, 9);
    assert_int_equal(pos_parse(&q, "v1 file=b.1 pos=4 gtid= server="
                                   "3e11fa47-71ca-11e1-9e33-c80aa9429562",
                               err, sizeof err), 0);
    assert_string_equal(q.server, "3e11fa47-71ca-11e1-9e33-c80aa9429562");
    assert_int_equal(q.kind, POS_GTID_NONE);
    /* older versions wrote none: unknown, not an error */
    assert_int_equal(pos_parse(&q, "v1 file=b.1 pos=4 gtid=0-1-5", err,
                               sizeof err), 0);
    assert_string_equal(q.server, "");
    assert_int_equal(pos_parse(&q, "v1 file=b.1 pos=4 gtid=0-1-5 srv=1", err,
                               sizeof err), -1);
    pos_free(&p);
    pos_free(&q);
}

static int covers(const char *history, const char *ckpt)
{
    struct relay_position p;
    char err[128];
    pos_init(&p);
    if (ckpt[0])
        assert_int_equal(pos_parse_gtid(&p, ckpt, err, sizeof err), 0);
    int rc = pos_history_covers(history, &p);
    pos_free(&p);
    return rc;
}

/* A server may serve a checkpoint only when its GTID history holds it:
 * a promoted replica does, an unrelated server does not. */
static void test_history_covers(void **state)
{
    (void)state;
    /* MariaDB: gtid_binlog_state, one entry per domain and server_id */
    assert_int_equal(covers("0-1-500,0-2-510", "0-1-500"), 1);
    assert_int_equal(covers("0-1-500,0-2-510", "0-1-499"), 1);
    assert_int_equal(covers("0-2-510", "0-2-505"), 1);
    assert_int_equal(covers("0-1-400,0-2-510", "0-1-500"), 0); /* lost */
    assert_int_equal(covers("0-3-9000", "0-1-500"), 0); /* unrelated */
    assert_int_equal(covers("", "0-1-500"), 0);
    assert_int_equal(covers("0-1-500", "0-1-500,1-4-2"), 0); /* a domain */
    assert_int_equal(covers("0-1-500, 1-4-2", "0-1-500,1-4-2"), 1);
    assert_int_equal(covers("", ""), 1);
    assert_int_equal(covers("garbage", "0-1-5"), -1);
    /* MySQL: gtid_executed, as the server prints it (line breaks) */
    const char *u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const char *v = "4e11fa47-71ca-11e1-9e33-c80aa9429562";
    char h[300], c[300];
    snprintf(h, sizeof h, "%s:1-1000,\n%s:1-20", u, v);
    snprintf(c, sizeof c, "%s:1-990", u);
    assert_int_equal(covers(h, c), 1);
    snprintf(c, sizeof c, "%s:1-1001", u); /* the new primary lacks 1001 */
    assert_int_equal(covers(h, c), 0);
    snprintf(c, sizeof c, "%s:1-3", "5e11fa47-71ca-11e1-9e33-c80aa9429562");
    assert_int_equal(covers(h, c), 0);
    assert_int_equal(covers("", c), 0);
    assert_int_equal(covers("0-1-5", c), -1);
}

static void test_ckpt_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/outbox-ckpt.XXXXXX", path[256], err[512];
    char *text = NULL;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/relay.checkpoint", dir);
    assert_int_equal(ckpt_file_load(path, &text, err, sizeof err), 0);
    assert_int_equal(ckpt_file_save(path, "v1 a", err, sizeof err), 0);
    assert_int_equal(ckpt_file_save(path, "v1 b\nkafka=t/0@1", err,
                                    sizeof err), 0);
    assert_int_equal(ckpt_file_load(path, &text, err, sizeof err), 1);
    assert_string_equal(text, "v1 b\nkafka=t/0@1\n");
    free(text);

    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing-dir/x", dir);
    assert_int_equal(ckpt_file_save(bad, "v1 a", err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot save"));
    unlink(path);
    rmdir(dir);
}

/* The checkpoint's text: the position, then the Kafka offsets. */
static void test_ckpt_text(void **state)
{
    (void)state;
    char err[512];
    struct relay_position p, q;
    struct koffsets *k = koff_new(), *back = koff_new();
    pos_init(&p);
    pos_init(&q);
    pos_set_file(&p, "bin.000001", 4242);
    assert_int_equal(pos_add_mariadb(&p, 0, 1, 100), 0);
    assert_int_equal(koff_raise(k, "outbox.event.queue", 3, 812), 0);
    assert_int_equal(koff_raise(k, "outbox.dlq", 0, 7), 0);
    char *offsets = koff_format(k);
    char *text = ckpt_format(&p, offsets, 7);
    uint64_t gen = 0;
    assert_non_null(strstr(text, "v1 file=bin.000001 pos=4242 gtid=0-1-100\n"
                                 "kafka="));
    assert_int_equal(ckpt_parse(text, &q, back, &gen, err, sizeof err), 0);
    assert_int_equal(gen, 7);
    assert_int_equal(ckpt_generation(text), 7);
    assert_string_equal(q.file, "bin.000001");
    assert_int_equal(q.offset, 4242);
    assert_int_equal(q.md[0].seq, 100);
    assert_int_equal(koff_bound(back, "outbox.event.queue", 3), 812);
    assert_int_equal(koff_bound(back, "outbox.dlq", 0), 7);
    assert_int_equal(koff_bound(back, "outbox.dlq", 1), -1);
    free(text);
    free(offsets);

    /* An older version's checkpoint: the position alone. */
    koff_free(back);
    back = koff_new();
    assert_int_equal(ckpt_parse("v1 file=bin.000002 pos=9 gtid=0-1-5\n", &q,
                                back, &gen, err, sizeof err), 0);
    assert_int_equal(gen, 0);
    assert_int_equal(q.offset, 9);
    assert_int_equal(koff_bound(back, "outbox.dlq", 0), -1);
    /* A damaged one is an error, never a reset. */
    assert_int_equal(ckpt_parse("garbage\n", &q, back, &gen, err, sizeof err), -1);
    assert_int_equal(ckpt_parse("v1 file=b.1 pos=9 gtid=\nkafka=t/x@1", &q,
                                back, &gen, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a Kafka offset"));
    koff_free(k);
    koff_free(back);
    pos_free(&p);
    pos_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mariadb_domains),
        cmocka_unit_test(test_mysql_intervals_merge),
        cmocka_unit_test(test_mysql_subset),
        cmocka_unit_test(test_parse_round_trip),
        cmocka_unit_test(test_whole_position),
        cmocka_unit_test(test_position_server),
        cmocka_unit_test(test_history_covers),
        cmocka_unit_test(test_ckpt_file),
        cmocka_unit_test(test_ckpt_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
