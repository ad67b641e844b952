/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `outbox-relay dump` on the eight real MySQL 8.0/8.4/9.0 binlog files of
 * ../shared/fixtures/mysql8 (read in place), through dump_run: every row
 * the MANIFEST states comes out as the JSON line the dump documents, the
 * outbox mapping produces the record the relay would, and damaged files
 * (a flipped byte, a cut, not a binlog, missing) end with the offset on
 * stderr and status 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay/dump.h"
#include "tests/unit/mysql8_expect.h"

struct result {
    int rc;
    char *out, *err;
    size_t outlen, errlen;
};

static char path_buf[1024];

static const char *fixture(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/fixtures/mysql8/%s",
             getenv("OUTBOX_SHARED_DIR"), name);
    return path_buf;
}

static struct result run(const char *path, int all_tables,
                         const struct relay_cfg *cfg)
{
    struct result r = {0};
    FILE *out = open_memstream(&r.out, &r.outlen);
    FILE *err = open_memstream(&r.err, &r.errlen);
    assert_non_null(out);
    assert_non_null(err);
    struct dump_opts o = {path, all_tables, cfg};
    r.rc = dump_run(&o, out, err);
    fclose(out);
    fclose(err);
    return r;
}

static void release(struct result *r)
{
    free(r->out);
    free(r->err);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The output holds the fragments in this order. */
static void lines_have(const struct result *r, const char *const *want,
                       size_t n)
{
    const char *at = r->out;
    for (size_t i = 0; i < n; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fail_msg("no line with %s after offset %zu in:\n%s", want[i],
                     (size_t)(at - r->out), r->out);
        at = hit + strlen(want[i]);
    }
}

static struct result all_rows(const char *name)
{
    struct result r = run(fixture(name), 1, NULL);
    if (r.rc != 0)
        fail_msg("%s: status %d: %s", name, r.rc, r.err);
    return r;
}

static void test_01_compressed(void **state)
{
    (void)state;
    struct result r = all_rows("01_apecloud_mysql-8.0.31_payload_mysql-bin.000057");
    const char *const want[] = {
        "\"gtid\":\"76f3e7be-6720-11ed-9cad-0242ac110002:12\",\"table\":\"a.b\","
        "\"op\":\"insert\",\"before\":null,\"after\":{\"@1\":1}}",
        "\"table\":\"a.test_table_3\",\"op\":\"update\"",
        "\"op\":\"insert\",\"before\":null,\"after\":{\"@1\":6666,"
        "\"@2\":\"product_item_value_2\",",
    };
    lines_have(&r, want, 3);
    /* the insert's JSON column, and its last text column */
    const char *ins = strstr(r.out, "\"@1\":6666");
    assert_non_null(strstr(ins, "\"@10\":{\"c\":1},\"@11\":\"product_item_2_value\""));
    assert_non_null(strstr(ins, "\"@19\":\"description_4_value\""));
    assert_int_equal(count_lines(r.out), 3);
    release(&r);
}

static void test_02_smallest_payload(void **state)
{
    (void)state;
    struct result r = all_rows("02_rmc_mysql-8.0.32_transaction_compression.000001");
    assert_non_null(strstr(r.out, "\"gtid\":null,\"table\":\"test.tb1\",\"op\":"
                                  "\"insert\",\"before\":null,\"after\":{\"@1\":1}}\n"));
    assert_int_equal(count_lines(r.out), 1);
    release(&r);
}

static void test_03_json_rows(void **state)
{
    (void)state;
    struct result r = all_rows("03_rmc_mysql-8.0.22_json.binlog.000001");
    char want[6][200];
    const char *ptrs[6];
    for (int id = 1; id <= 6; id++) {
        snprintf(want[id - 1], sizeof want[0], "\"op\":\"insert\",\"before\":null,"
                 "\"after\":{\"@1\":%d,\"@2\":%s,\"@3\":\"%s\",\"@4\":%s}}", id,
                 MYSQL8_03_DOCS[(id - 1) % 3][0], MYSQL8_03_DOCS[(id - 1) % 3][1],
                 MYSQL8_03_DOCS[(id - 1) % 3][2]);
        ptrs[id - 1] = want[id - 1];
    }
    lines_have(&r, ptrs, 6);
    assert_non_null(strstr(r.err, "PARTIAL_UPDATE_ROWS"));
    release(&r);
}

static void test_04_json_opaque(void **state)
{
    (void)state;
    struct result r = all_rows("04_rmc_mysql-9.0.1_json-opaque.binlog");
    char want[8][100];
    const char *ptrs[8];
    for (int i = 0; i < 8; i++) {
        snprintf(want[i], sizeof want[0], "\"table\":\"foo.test\",\"op\":\"insert\","
                 "\"before\":null,\"after\":{\"a\":%s}}", MYSQL8_04_VALUES[i]);
        ptrs[i] = want[i];
    }
    lines_have(&r, ptrs, 8);
    assert_int_equal(count_lines(r.out), 8);
    release(&r);
}

static void test_05_enum_set_names(void **state)
{
    (void)state;
    struct result r = all_rows("05_rmc_mysql-8.0.28_full-meta_mysql-enum-string-set.000001");
    char f1[200];
    snprintf(f1, sizeof f1, "\"op\":\"insert\",\"before\":null,\"after\":{\"f1\":\"%s%s\"",
             "01234567890123456789012345678901234567890123456789",
             "01234567890123456789012345678901234567890123456789");
    const char *insert_tail =
        "\"f3\":\"var1\",\"f4\":\"one,three\",\"f5\":\"0123456789\"}}\n";
    const char *hit = strstr(r.out, insert_tail);
    assert_non_null(hit);
    assert_true(hit < strchr(r.out, '\n')); /* on the first line */
    const char *const want[] = {
        f1,
        "\"op\":\"update\",\"before\":{\"f1\":\"0123456789",
        "\"after\":{\"f1\":\"field1\",\"f2\":\"field_2\",\"f3\":\"variant2\","
        "\"f4\":\"two,four\",",
        "\"op\":\"delete\",\"before\":{\"f1\":\"field1\",\"f2\":\"field_2\","
        "\"f3\":\"variant2\",\"f4\":\"two,four\",",
    };
    lines_have(&r, want, 4);
    assert_non_null(strstr(r.out, "\"gtid\":\"93e95066-a2f4-11ec-9b69-9657f0ae95e2:3\""));
    release(&r);
}

static void test_06_unsigned_null_binary(void **state)
{
    (void)state;
    struct result r = all_rows("06_rmc_mysql-8.0.26_full-meta_binlog-invisible-columns.000001");
    const char *const want[] = {
        "\"after\":{\"f1\":1,\"f2\":2,\"f3\":-3,\"f4\":\"4\",\"f5\":\"\\u0005\","
        "\"f6\":6000000000}}",
        "\"after\":{\"f1\":null,\"f2\":null,\"f3\":-33,\"f4\":\"44\",\"f5\":\"U\","
        "\"f6\":null}}",
        "\"op\":\"update\"",
    };
    lines_have(&r, want, 3);
    assert_non_null(strstr(r.out, "\"f1\":111,\"f2\":222,\"f3\":-333,\"f4\":\"444\""));
    release(&r);
}

static void test_07_08_gtids(void **state)
{
    (void)state;
    struct result r = all_rows("07_percona-binsrv_mysql-8.0.45_gtid_binlog.000001");
    const char *const ids[] = {"{\"@1\":1}}", "{\"@1\":2}}", "{\"@1\":3}}",
                               "{\"@1\":4}}", "{\"@1\":5}}", "{\"@1\":6}}"};
    lines_have(&r, ids, 6);
    assert_int_equal(count_lines(r.out), 6);
    release(&r);

    r = all_rows("08_percona-operator_ps-8.4.10_gtid_binlog.000003");
    const char *const rows[] = {
        "\"gtid\":\"ca3ce93b-9bea-11f1-b808-e608fdb6e3c5:3\",\"table\":\"t.a\","
        "\"op\":\"insert\",\"before\":null,\"after\":{\"@1\":1}}",
        "ca3ce93b-9bea-11f1-b808-e608fdb6e3c5:3\",\"table\":\"t.a\","
        "\"op\":\"insert\",\"before\":null,\"after\":{\"@1\":2}}",
        "ca3ce93b-9bea-11f1-b808-e608fdb6e3c5:3\",\"table\":\"t.a\","
        "\"op\":\"insert\",\"before\":null,\"after\":{\"@1\":3}}",
    };
    lines_have(&r, rows, 3);
    assert_int_equal(count_lines(r.out), 3);
    release(&r);
}

/* The outbox mapping, on a fixture table configured as an outbox. */
static void test_outbox_events(void **state)
{
    (void)state;
    struct cfg_kv hdr = {(char *)"h", (char *)"f2"};
    struct relay_table_cfg tc = {(char *)"mysql.t", (char *)"t.${f3}",
                                 (char *)"f5", (char *)"f1", {&hdr, 1}, 1000};
    struct relay_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.outbox.items = &tc;
    cfg.outbox.count = 1;
    const char *file = "05_rmc_mysql-8.0.28_full-meta_mysql-enum-string-set.000001";
    struct result r = run(fixture(file), 0, &cfg);
    assert_int_equal(r.rc, 0);
    assert_int_equal(count_lines(r.out), 1); /* the insert; not the update */
    assert_non_null(strstr(r.out, "\"gtid\":\"93e95066-a2f4-11ec-9b69-9657f0ae95e2:3\""));
    assert_non_null(strstr(r.out, ",\"topic\":\"t.1\",\"key\":\"0123456789\","
                                  "\"headers\":{\"h\":\"0123456789"));
    assert_non_null(strstr(r.out, "\"value\":\"0123456789012345678901234567890123456789"));
    assert_null(strstr(r.out, "error_type"));
    release(&r);

    /* a payload over max_payload: what the dead-letter topic would get */
    tc.max_payload = 50;
    r = run(fixture(file), 0, &cfg);
    assert_non_null(strstr(r.out, "\"value\":null,\"error_type\":\"payload-too-large\""));
    release(&r);

    /* the built-in mapping wants a table named outbox: none here */
    r = run(fixture(file), 0, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.outlen, 0);
    release(&r);
}

/* A copy of fixture 07 in a temp file, changed by `damage`. */
static void damaged_copy(char *tmp, size_t cut, long flip_at)
{
    FILE *in = fopen(fixture("07_percona-binsrv_mysql-8.0.45_gtid_binlog.000001"), "rb");
    static unsigned char buf[1 << 16];
    assert_non_null(in);
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    if (flip_at >= 0)
        buf[flip_at] ^= 0x10;
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, cut ? cut : n), (ssize_t)(cut ? cut : n));
    close(fd);
}

static void test_damage_is_reported(void **state)
{
    (void)state;
    /* The event at 567 is the first WRITE_ROWS (see test_07): a flipped
     * byte in its body breaks its CRC32. */
    char tmp[] = "/tmp/dump-test-XXXXXX";
    damaged_copy(tmp, 0, 567 + 30);
    struct result r = run(tmp, 1, NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "at offset 567: checksum mismatch"));
    assert_int_equal(count_lines(r.out), 0); /* rows before 567: none */
    release(&r);
    unlink(tmp);

    char cut[] = "/tmp/dump-test-XXXXXX";
    damaged_copy(cut, 600, -1);
    r = run(cut, 1, NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "at offset 567: truncated event"));
    release(&r);
    unlink(cut);

    char junk[] = "/tmp/dump-test-XXXXXX";
    damaged_copy(junk, 3, -1);
    r = run(junk, 1, NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "at offset 0: not a binlog file"));
    release(&r);
    unlink(junk);

    r = run("/nonexistent/binlog.000001", 1, NULL);
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "cannot open"));
    release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_01_compressed),
        cmocka_unit_test(test_02_smallest_payload),
        cmocka_unit_test(test_03_json_rows),
        cmocka_unit_test(test_04_json_opaque),
        cmocka_unit_test(test_05_enum_set_names),
        cmocka_unit_test(test_06_unsigned_null_binary),
        cmocka_unit_test(test_07_08_gtids),
        cmocka_unit_test(test_outbox_events),
        cmocka_unit_test(test_damage_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
