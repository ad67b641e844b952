/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table-map cache (relay/tmap.h): a map the open transaction uses is
 * never evicted, however many it maps; maps of earlier transactions are
 * reused before the cache grows; DDL and a new connection forget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "relay/tmap.h"

/* Claims an entry for table_id of outbox table `outbox` with `ncols`
 * columns (allocated, as binlog_parse_table would), as the pipeline does
 * for a TABLE_MAP of an outbox table. */
static void map(struct tmap *c, uint64_t table_id, int outbox, size_t ncols)
{
    struct tmap_entry *e = tmap_claim(c);
    assert_non_null(e);
    assert_int_equal(e->outbox, -1);
    assert_null(e->map.cols); /* the entry's earlier map was freed */
    e->map.ncols = ncols;
    e->map.cols = calloc(ncols, sizeof *e->map.cols);
    assert_non_null(e->map.cols);
    tmap_bind(e, table_id, outbox);
}

static void expect_mapped(struct tmap *c, uint64_t table_id, int outbox,
                          size_t ncols)
{
    struct tmap_entry *e = tmap_find(c, table_id);
    if (!e)
        fail_msg("table id %llu is no longer mapped",
                 (unsigned long long)table_id);
    assert_int_equal(e->outbox, outbox);
    assert_int_equal(e->map.ncols, ncols);
}

/* One statement maps ten times more outbox tables than the cache has
 * entries (a trigger writing many outbox tables): every map stays, and
 * the cache grows instead of evicting one of them. */
static void test_open_transaction_keeps_every_map(void **state)
{
    (void)state;
    struct tmap c;
    assert_int_equal(tmap_init(&c, 4), 0);
    tmap_txn(&c);
    for (uint64_t id = 1; id <= 40; id++)
        map(&c, 100 + id, (int)id % 7, (size_t)id);
    for (uint64_t id = 1; id <= 40; id++)
        expect_mapped(&c, 100 + id, (int)id % 7, (size_t)id);
    assert_true(c.n >= 40);
    tmap_free(&c);
}

/* Maps of an earlier transaction are reused before the cache grows, and
 * only those: the next transaction's maps take their entries. */
static void test_earlier_transactions_maps_are_reused(void **state)
{
    (void)state;
    struct tmap c;
    assert_int_equal(tmap_init(&c, 4), 0);
    tmap_txn(&c);
    for (uint64_t id = 1; id <= 4; id++)
        map(&c, id, 0, 3);
    tmap_txn(&c);
    for (uint64_t id = 11; id <= 14; id++)
        map(&c, id, 1, 5);
    assert_int_equal(c.n, 4); /* no growth: the first four were free to go */
    for (uint64_t id = 1; id <= 4; id++)
        assert_null(tmap_find(&c, id));
    for (uint64_t id = 11; id <= 14; id++)
        expect_mapped(&c, id, 1, 5);
    /* One more in the same transaction: all four are in use, so it grows. */
    map(&c, 15, 1, 5);
    assert_int_equal(c.n, 8);
    for (uint64_t id = 11; id <= 15; id++)
        expect_mapped(&c, id, 1, 5);
    tmap_free(&c);
}

/* A claim whose map never got bound (the TABLE_MAP failed to decode, the
 * pipeline forgot it) leaves its entry free for the next claim. */
static void test_forgotten_claim_is_free(void **state)
{
    (void)state;
    struct tmap c;
    assert_int_equal(tmap_init(&c, 2), 0);
    tmap_txn(&c);
    map(&c, 1, 0, 2);
    struct tmap_entry *e = tmap_claim(&c);
    assert_non_null(e);
    tmap_forget(e);
    map(&c, 2, 0, 2);
    assert_int_equal(c.n, 2);
    expect_mapped(&c, 1, 0, 2);
    expect_mapped(&c, 2, 0, 2);
    tmap_free(&c);
}

/* DDL on one outbox table forgets its maps and no others; a new
 * connection forgets all. */
static void test_forget_table_and_clear(void **state)
{
    (void)state;
    struct tmap c;
    assert_int_equal(tmap_init(&c, 4), 0);
    tmap_txn(&c);
    map(&c, 1, 0, 2);
    map(&c, 2, 1, 2);
    map(&c, 3, 0, 2);
    tmap_forget_table(&c, 0);
    assert_null(tmap_find(&c, 1));
    assert_null(tmap_find(&c, 3));
    expect_mapped(&c, 2, 1, 2);
    tmap_clear(&c);
    assert_null(tmap_find(&c, 2));
    tmap_free(&c);
}

/* A free entry's id is zeroed: it must not answer for a lookup of table
 * id 0, which the decoder accepts like any other. */
static void test_free_entry_is_not_found(void **state)
{
    (void)state;
    struct tmap c;
    assert_int_equal(tmap_init(&c, 4), 0);
    assert_null(tmap_find(&c, 0));
    tmap_txn(&c);
    map(&c, 0, 2, 1);
    expect_mapped(&c, 0, 2, 1);
    tmap_forget(tmap_find(&c, 0));
    assert_null(tmap_find(&c, 0));
    tmap_free(&c);
}

/* The same TABLE_MAP bytes again (the next one-row transaction) find the
 * decoded map, which then belongs to the open transaction and is not
 * given away by a claim; other bytes, or a forgotten entry, do not. */
static void test_same_bytes_reuse_the_map(void **state)
{
    (void)state;
    static const uint8_t body[] = "\x07\0\0\0\0\0\x01\0\x04shop\0\x06outbox";
    uint8_t other[sizeof body];
    struct tmap c;
    assert_int_equal(tmap_init(&c, 1), 0);
    tmap_txn(&c);
    map(&c, 7, 0, 4);
    assert_null(tmap_reuse(&c, 7, body, sizeof body)); /* nothing kept yet */
    assert_int_equal(tmap_remember(tmap_find(&c, 7), body, sizeof body), 0);

    tmap_txn(&c); /* the next transaction maps the same table again */
    struct tmap_entry *e = tmap_reuse(&c, 7, body, sizeof body);
    assert_ptr_equal(e, tmap_find(&c, 7));
    assert_int_equal(e->gen, c.gen);
    map(&c, 8, 0, 2); /* a second map in it: the reused one stays (e may
                         move: the cache grows) */
    assert_int_equal(c.n, 2);
    expect_mapped(&c, 7, 0, 4);
    expect_mapped(&c, 8, 0, 2);

    memcpy(other, body, sizeof body);
    other[sizeof other - 2] ^= 1; /* one byte off: another table */
    assert_null(tmap_reuse(&c, 7, other, sizeof other));
    assert_null(tmap_reuse(&c, 7, body, sizeof body - 1));
    assert_null(tmap_reuse(&c, 8, body, sizeof body)); /* another id */
    tmap_forget_table(&c, 0); /* DDL */
    assert_null(tmap_reuse(&c, 7, body, sizeof body));
    for (size_t i = 0; i < c.n; i++)
        assert_null(c.e[i].raw); /* the copies went with their maps */
    tmap_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_transaction_keeps_every_map),
        cmocka_unit_test(test_earlier_transactions_maps_are_reused),
        cmocka_unit_test(test_forgotten_claim_is_free),
        cmocka_unit_test(test_forget_table_and_clear),
        cmocka_unit_test(test_free_entry_is_not_found),
        cmocka_unit_test(test_same_bytes_reuse_the_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
