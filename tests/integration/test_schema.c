/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema/: the MariaDB files load, a row goes in, the replication account
 * of grants.sql can do what the relay needs, and the settings of
 * server.cnf are options the server accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness/th.h"

static char *slurp(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/schema/%s", getenv("OUTBOX_SOURCE_DIR"), rel);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return strdup(buf);
}

/* "key = value  # comment" lines of [mysqld] become --key=value. */
static size_t cnf_options(const char *text, char opts[][256], size_t max)
{
    size_t n = 0;
    char *copy = strdup(text), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l && n < max;
         l = strtok_r(NULL, "\n", &save)) {
        char key[100], val[100];
        if (l[0] == '#' || l[0] == '[' ||
            sscanf(l, " %99[a-z_] = %99[^ #]", key, val) != 2)
            continue;
        snprintf(opts[n++], 256, "--%s=%s", key, val);
    }
    free(copy);
    return n;
}

static MYSQL *connect_as(const struct th_mariadb *m, const char *user,
                         const char *pw)
{
    MYSQL *db = mysql_init(NULL);
    if (!mysql_real_connect(db, "127.0.0.1", user, pw, NULL, (unsigned)m->port,
                            NULL, 0))
        fail_msg("connect as %s: %s", user, mysql_error(db));
    return db;
}

static int query_ok(MYSQL *db, const char *sql)
{
    if (mysql_query(db, sql) != 0) {
        print_error("%s: %s\n", sql, mysql_error(db));
        return 0;
    }
    MYSQL_RES *r = mysql_store_result(db);
    int rows = r ? (int)mysql_num_rows(r) : 0;
    if (r)
        mysql_free_result(r);
    return rows > 0;
}

static void test_schema_and_grants(void **state)
{
    (void)state;
    char opts[32][256];
    const char *extra[33];
    char *cnf = slurp("server.cnf");
    size_t n = cnf_options(cnf, opts, 32);
    assert_true(n >= 6); /* log_bin, format, image, metadata, id, expiry */
    for (size_t i = 0; i < n; i++)
        extra[i] = opts[i];
    extra[n] = NULL;
    struct th_mariadb m;
    assert_int_equal(th_mariadb_start(&m, extra), 0);

    char *outbox = slurp("outbox-mariadb.sql"), *room = slurp("waiting-room.sql");
    char sql[200000];
    snprintf(sql, sizeof sql, "CREATE DATABASE shop; USE shop; %s %s", outbox, room);
    assert_int_equal(th_mariadb_exec(&m, sql), 0);
    assert_int_equal(th_mariadb_exec(&m,
        "INSERT INTO shop.outbox (id, aggregatetype, aggregateid, type, payload) "
        "VALUES (UUID(), 'queue', 'sale', 'UserJoined', '{\"user\":\"u42\"}')"), 0);
    /* The CHECK keeps payloads JSON. */
    assert_int_equal(th_mariadb_exec(&m,
        "INSERT INTO shop.outbox (id, aggregatetype, aggregateid, type, payload) "
        "VALUES (UUID(), 'queue', 'sale', 'Bad', 'not json')"), -1);

    char *grants = slurp("grants.sql");
    char *pw = strstr(grants, "change-me");
    assert_non_null(pw);
    memcpy(pw, "s3cret-pw", 9);
    assert_int_equal(th_mariadb_exec(&m, grants), 0);
    MYSQL *relay = connect_as(&m, "outbox_relay", "s3cret-pw");
    assert_true(query_ok(relay, "SHOW MASTER STATUS"));
    assert_true(query_ok(relay, "SHOW BINARY LOGS"));
    assert_true(query_ok(relay,
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE "
        "TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'outbox'"));
    assert_true(query_ok(relay, "SELECT @@binlog_format, @@binlog_row_metadata"));
    /* The relay's account cannot change data. */
    assert_int_not_equal(mysql_query(relay, "DELETE FROM shop.outbox"), 0);
    mysql_close(relay);
    free(cnf);
    free(outbox);
    free(room);
    free(grants);
    assert_int_equal(th_mariadb_stop(&m), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_and_grants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
