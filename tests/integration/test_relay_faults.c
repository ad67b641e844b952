/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-relay facing bad rows and bad server states: rows that cannot be
 * records go to the dead-letter topic and the relay keeps going; settings
 * that make change data capture impossible, and a checkpoint whose binlog
 * is gone, end the process with status 1 and a message saying what to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <mysql.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/relay_env.h"

static char *slurp(const char *path)
{
    static char buf[1 << 16];
    FILE *fp = fopen(path, "rb");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp)
        fclose(fp);
    buf[n] = '\0';
    return buf;
}

/* For topics too big for slurp's buffer. */
static int file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    size_t len = 0;
    if (!fp)
        return 0;
    FILE *mem = open_memstream(&text, &len);
    char chunk[8192];
    size_t n;
    while (mem && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(fp);
    if (mem)
        fclose(mem);
    int found = text && strstr(text, needle) != NULL;
    free(text);
    return found;
}

static int first_binlog_is_not(struct relay_env *e, const char *name)
{
    MYSQL *db = th_mariadb_connect(&e->db);
    int rc = 0;
    if (db && mysql_query(db, "SHOW BINARY LOGS") == 0) {
        MYSQL_RES *r = mysql_store_result(db);
        MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
        rc = row && strcmp(row[0], name) != 0;
        if (r)
            mysql_free_result(r);
    }
    if (db)
        mysql_close(db);
    return rc;
}

static void test_statement_format_refused(void **state)
{
    (void)state;
    static const char *const stmt[] = {"--binlog-format=STATEMENT", NULL};
    struct relay_env e;
    assert_int_equal(relay_env_start(&e, "at_least_once", stmt), 0);
    assert_int_equal(relay_env_spawn_relay(&e), 0);
    int rc = th_wait(&e.relay, 30000);
    if (rc != 1)
        th_dump_log(&e.relay, 20);
    assert_int_equal(rc, 1);
    assert_true(th_log_contains(&e.relay, "binlog_format is STATEMENT: the "
                                          "relay needs binlog_format=ROW"));
    relay_env_stop(&e);
}

static void test_purged_binlog_refused(void **state)
{
    (void)state;
    struct relay_env e;
    assert_int_equal(relay_env_start(&e, "at_least_once", NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load(&e, 100, 1, 0, 0), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 60000), 0);
    assert_int_equal(th_stop(&e.relay, 10000, NULL), 0);
    /* While the relay is down, its binlog is purged. */
    assert_int_equal(relay_env_load(&e, 2000, 2, 0, 1000000), 0);
    assert_int_equal(th_mariadb_exec(&e.db, "FLUSH BINARY LOGS"), 0);
    assert_int_equal(th_mariadb_exec(&e.db, "FLUSH BINARY LOGS"), 0);
    /* The server keeps a file its old dump thread still holds: purge until
     * the first file is really gone. */
    int purged = 0;
    for (int i = 0; i < 100 && !purged; i++) {
        assert_int_equal(th_mariadb_exec(&e.db, "PURGE BINARY LOGS BEFORE "
                                                "NOW() + INTERVAL 1 DAY"), 0);
        purged = first_binlog_is_not(&e, "bin.000001");
        if (!purged)
            usleep(100000);
    }
    assert_true(purged);
    assert_int_equal(relay_env_spawn_relay(&e), 0);
    int rc = th_wait(&e.relay, 30000);
    if (rc != 1)
        th_dump_log(&e.relay, 20);
    assert_int_equal(rc, 1);
    assert_true(th_log_contains(&e.relay, "The binlog the relay needs is gone"));
    assert_true(th_log_contains(&e.relay, "remove the checkpoint"));
    relay_env_stop(&e);
}

static void test_dead_letters(void **state)
{
    (void)state;
    struct relay_env e;
    char out[400];
    assert_int_equal(relay_env_start(&e, "at_least_once", NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(th_mariadb_exec(&e.db,
        "INSERT INTO shop.outbox VALUES ('dlq-null-key', 'queue', NULL, 't', '{}', NULL);"
        "INSERT INTO shop.outbox VALUES ('dlq-too-big', 'queue', 'k1', 't',"
        " CONCAT('\"', REPEAT('x', 5000000), '\"'), NULL);"
        "INSERT INTO shop.outbox VALUES ('dlq-bad-topic', 'no such/topic', 'k1', 't', '{}', NULL);"
        "INSERT INTO shop.outbox VALUES ('after', 'queue', 'k1', 't', '{}', NULL)"), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 60000), 0);
    snprintf(out, sizeof out, "%s/dlq.txt", e.dir);
    assert_int_equal(relay_env_kcat(&e, "outbox.dlq", "%k|%S|%h\\n", out), 0);
    char *text = slurp(out);
    assert_non_null(strstr(text, "id=dlq-null-key,type=t,outbox-position=bin."));
    assert_non_null(strstr(text, "error-type=null-key,error-message=column "
                                 "aggregateid (the record key) is NULL"));
    assert_non_null(strstr(text, "k1|-1|id=dlq-too-big,type=t,outbox-position="));
    assert_non_null(strstr(text, "error-type=payload-too-large,error-message="
                                 "payload is 5000002 bytes, over max_payload 4194304"));
    assert_non_null(strstr(text, "id=dlq-bad-topic"));
    assert_non_null(strstr(text, "error-type=invalid-topic"));
    snprintf(out, sizeof out, "%s/queue.txt", e.dir);
    assert_int_equal(relay_env_kcat(&e, "outbox.event.queue", "%k %h\\n", out), 0);
    text = slurp(out);
    assert_non_null(strstr(text, "k1 id=after,type=t")); /* it kept going */
    assert_null(strstr(text, "dlq-"));
    assert_int_equal(relay_env_health(&e), 200);
    char body[65536];
    assert_int_equal(th_http_get(e.metrics_port, "/metrics", body, sizeof body), 200);
    assert_non_null(strstr(body, "outbox_dead_letters_total 3\n"));
    assert_non_null(strstr(body, "outbox_events_total{topic=\"outbox.event.queue\"} 1\n"));
    relay_env_stop(&e);
}

/* Without binlog_row_metadata=FULL the column names come from
 * information_schema, and are read again after DDL on the outbox table. */
static void test_minimal_metadata_and_ddl(void **state)
{
    (void)state;
    static const char *const minimal[] = {"--binlog-row-metadata=MINIMAL", NULL};
    struct relay_env e;
    char out[400];
    assert_int_equal(relay_env_start(&e, "at_least_once", minimal), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load(&e, 3000, 5, 0, 0), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(relay_env_verify(&e, 1), 0);
    /* A new first column moves every other one. */
    assert_int_equal(th_mariadb_exec(&e.db,
        "ALTER TABLE shop.outbox ADD COLUMN tenant INT NOT NULL DEFAULT 7 FIRST;"
        "INSERT INTO shop.outbox (id, aggregatetype, aggregateid, type, payload)"
        " VALUES ('after-ddl', 'user', 'k-ddl', 'moved', '{\"ok\":1}')"), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 60000), 0);
    snprintf(out, sizeof out, "%s/user.txt", e.dir);
    assert_int_equal(relay_env_kcat(&e, "outbox.event.user", "%k|%s|%h\n", out), 0);
    assert_true(file_contains(out, "k-ddl|{\"ok\":1}|id=after-ddl,type=moved"));
    relay_env_stop(&e);
}

static long count_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    long n = 0;
    for (int c; fp && (c = fgetc(fp)) != EOF;)
        n += c == '\n';
    if (fp)
        fclose(fp);
    return fp ? n : -1;
}

/* Events of the given kind (SHOW BINLOG EVENTS' Event_type contains it)
 * in the server's first binlog. */
static int binlog_events_like(struct relay_env *e, const char *kind)
{
    MYSQL *db = th_mariadb_connect(&e->db);
    int n = -1;
    if (db && mysql_query(db, "SHOW BINLOG EVENTS") == 0) {
        MYSQL_RES *res = mysql_store_result(db);
        MYSQL_ROW row;
        for (n = 0; res && (row = mysql_fetch_row(res));)
            n += row[2] && strstr(row[2], kind) != NULL;
        mysql_free_result(res);
    }
    if (db)
        mysql_close(db);
    return n;
}

/* MariaDB's log_bin_compress: rows (and statements) over the minimum
 * length are written zlib-compressed; they arrive as any others. */
static void test_compressed_binlog(void **state)
{
    (void)state;
    static const char *const zip[] = {"--log-bin-compress=ON",
                                      "--log-bin-compress-min-len=10", NULL};
    struct relay_env e;
    assert_int_equal(relay_env_start(&e, "at_least_once", zip), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load(&e, 3000, 6, 2, 0), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(relay_env_verify(&e, 1), 0);
    assert_true(binlog_events_like(&e, "compressed") > 100);
    /* outbox-relay dump opens them too: one line per outbox event. */
    char cmd[2048], bin[512], out[600];
    snprintf(out, sizeof out, "%s/dump.txt", e.dir);
    snprintf(cmd, sizeof cmd, "'%s' dump -c '%s' --binlog-file '%s/bin.000001' "
             "> '%s'", th_build_path("relay/outbox-relay", bin, sizeof bin),
             e.config, e.db.dir, out);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(count_lines(out), 3000);
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dead_letters),
        cmocka_unit_test(test_statement_format_refused),
        cmocka_unit_test(test_purged_binlog_refused),
        cmocka_unit_test(test_minimal_metadata_and_ddl),
        cmocka_unit_test(test_compressed_binlog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
