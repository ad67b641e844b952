/* SPDX-License-Identifier: Apache-2.0 */
/*
 * koffsets (the checkpoint's per-partition bounds) and txnid (the names
 * of transactions and rows): pure functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "relay/koffsets.h"
#include "relay/txnid.h"

/* Acknowledged records all of committed transactions: the bound is past
 * the last one. */
static void test_bound_after_settled_partition(void **state)
{
    (void)state;
    struct koffsets *k = koff_new();
    assert_int_equal(koff_note(k, "t", 0, 0, 10), 0);
    assert_int_equal(koff_note(k, "t", 0, 1, 11), 0);
    koff_checkpoint(k, 1, 3); /* transaction 1 still open */
    /* The first record since the mark (seq 0) is the candidate: offset 10. */
    assert_int_equal(koff_bound(k, "t", 0), 10);
    koff_checkpoint(k, 2, 3); /* 0 and 1 committed */
    assert_int_equal(koff_bound(k, "t", 0), 12);
    assert_int_equal(koff_bound(k, "t", 1), -1);
    koff_free(k);
}

/* Under steady load the last record always belongs to an open
 * transaction; the mark set at one checkpoint moves the bound at a
 * later one. It never moves past a record of an open transaction. */
static void test_bound_under_steady_load(void **state)
{
    (void)state;
    struct koffsets *k = koff_new();
    koff_raise(k, "t", 0, 5);
    uint64_t seq = 0;
    int64_t off = 5;
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 4; i++)
            koff_note(k, "t", 0, seq++, off++);
        /* Two transactions still open at every checkpoint. */
        uint64_t head = seq - 2;
        koff_checkpoint(k, head, seq);
        int64_t b = koff_bound(k, "t", 0);
        /* Records of seq >= head were at offsets >= off - 2. */
        assert_true(b <= off - 2);
        if (round >= 2)
            assert_true(b >= off - 8); /* and it keeps up */
    }
    koff_free(k);
}

static void test_text_round_trip(void **state)
{
    (void)state;
    char err[128];
    struct koffsets *k = koff_new(), *back = koff_new();
    for (int p = 0; p < 100; p++)
        koff_raise(k, "outbox.event.queue", p, p * 1000);
    koff_raise(k, "outbox.dlq", 3, 7);
    char *text = koff_format(k);
    assert_int_equal(koff_parse(back, text, err, sizeof err), 0);
    for (int p = 0; p < 100; p++)
        assert_int_equal(koff_bound(back, "outbox.event.queue", p), p * 1000);
    assert_int_equal(koff_bound(back, "outbox.dlq", 3), 7);
    free(text);
    assert_int_equal(koff_parse(back, "t/1", err, sizeof err), -1);
    assert_int_equal(koff_parse(back, "t/-1@3", err, sizeof err), -1);
    assert_int_equal(koff_parse(back, "/1@3", err, sizeof err), -1);
    assert_int_equal(koff_parse(back, "t/1@", err, sizeof err), -1);
    assert_non_null(strstr(err, "not a Kafka offset"));
    assert_int_equal(koff_parse(back, "", err, sizeof err), 0);
    koff_free(k);
    koff_free(back);
}

static void test_row_names(void **state)
{
    (void)state;
    char buf[TXNID_ROW_MAX];
    int n = txnid_row(buf, sizeof buf, "0-1-100", 7, 3, "shop.outbox");
    assert_string_equal(buf, "0-1-100 3 shop.outbox");
    assert_int_equal(txnid_row_txn(buf, (size_t)n), 7);
    assert_int_equal(txnid_row_txn("0-1-100", 7), -1);
    assert_int_equal(txnid_row_txn("0-1-100 x shop.outbox", 21), -1);
    assert_int_equal(txnid_row_txn("0-1-100 3 ", 10), -1);
    /* formatted by hand: the numbers' edges, and the buffer's */
    assert_int_equal(txnid_row(buf, sizeof buf, "0-1-100", 7, 0, "a.b"), 13);
    assert_string_equal(buf, "0-1-100 0 a.b");
    n = txnid_row(buf, sizeof buf, "0-1-100 trailing", 7, 4294967295u, "a.b");
    assert_string_equal(buf, "0-1-100 4294967295 a.b");
    assert_int_equal(n, 22);
    assert_int_equal(txnid_row(buf, 23, "0-1-100", 7, 4294967295u, "a.b"), 22);
    assert_int_equal(txnid_row(buf, 22, "0-1-100", 7, 4294967295u, "a.b"), -1);
    assert_int_equal(txnid_row(buf, 1, "", 0, 0, ""), -1);
    txnid_by_position(buf, sizeof buf, "binlog.000042", 1234, 1733000000);
    assert_string_equal(buf, "binlog.000042:1234@1733000000");
    assert_int_equal(txnid_by_position(buf, 10, "binlog.000042", 1, 1), -1);
    assert_int_equal(txnid_by_position(buf, sizeof buf, "b", 0, 0), 5);
    assert_string_equal(buf, "b:0@0");
    n = txnid_by_position(buf, sizeof buf, "b", 18446744073709551615ULL,
                          4294967295u);
    assert_int_equal(n, 33);
    assert_string_equal(buf, "b:18446744073709551615@4294967295");
    assert_int_equal(txnid_by_position(buf, 34, "b", 18446744073709551615ULL,
                                       4294967295u), 33);
    assert_int_equal(txnid_by_position(buf, 33, "b", 18446744073709551615ULL,
                                       4294967295u), -1);
}

static void test_covered(void **state)
{
    (void)state;
    char err[128];
    struct relay_position md, my, none;
    pos_init(&md);
    pos_init(&my);
    pos_init(&none);
    pos_set_file(&md, "bin.000003", 900);
    pos_add_mariadb(&md, 0, 1, 100);
    pos_add_mariadb(&md, 5, 2, 7);
    assert_int_equal(txnid_covered("0-1-100", 7, &md), 1);
    assert_int_equal(txnid_covered("0-2-100", 7, &md), 1); /* same domain */
    assert_int_equal(txnid_covered("0-2-101", 7, &md), 0);
    assert_int_equal(txnid_covered("5-2-8", 5, &md), 0);
    assert_int_equal(txnid_covered("9-1-1", 5, &md), 0); /* unknown domain */
    assert_int_equal(txnid_covered("bin.000003:800@5", 16, &md), 1);
    assert_int_equal(txnid_covered("bin.000003:901@5", 16, &md), 0);
    assert_int_equal(txnid_covered("bin.000004:10@5", 15, &md), 0);
    assert_int_equal(txnid_covered("nonsense", 8, &md), -1);
    pos_parse_gtid(&my, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", err,
                   sizeof err);
    assert_int_equal(txnid_covered("3e11fa47-71ca-11e1-9e33-c80aa9429562:5",
                                   38, &my), 1);
    assert_int_equal(txnid_covered("3e11fa47-71ca-11e1-9e33-c80aa9429562:6",
                                   38, &my), 0);
    assert_int_equal(txnid_covered("0-1-1", 5, &my), 0); /* other dialect */
    assert_int_equal(txnid_covered("0-1-1", 5, &none), 0);
    pos_free(&md);
    pos_free(&my);
    pos_free(&none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_after_settled_partition),
        cmocka_unit_test(test_bound_under_steady_load),
        cmocka_unit_test(test_text_round_trip),
        cmocka_unit_test(test_row_names),
        cmocka_unit_test(test_covered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
