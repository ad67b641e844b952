/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What only MySQL has, live against MySQL 9.7 (registered as
 * test_relay_mysql@mysql-9.7 alone):
 *
 *   - logging in with caching_sha2_password, MySQL 9's only password
 *     plugin: over TLS; without TLS through the server's RSA public key,
 *     fetched from the server or read from source.server_public_key; and
 *     a message saying what to change when neither can be had;
 *   - tagged GTIDs (8.3+, SET gtid_next='AUTOMATIC:orders') through the
 *     checkpoint and a resume, and in a GTID set given as source.start;
 *   - binlog_transaction_compression=ON, globally and per session, with a
 *     transaction whose compressed payload is over 1 MiB.
 *
 * Each ends with outbox-verify: the committed events arrive, in order per
 * key (and, with exactly_once, each once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/relay_env.h"

#define PASSWORD "sha2-pw"

/* The relay's account, with MySQL 9's default plugin. */
static void make_account(struct relay_env *e)
{
    assert_int_equal(th_mariadb_exec(&e->db,
        "CREATE USER 'outbox_relay'@'%' IDENTIFIED WITH caching_sha2_password "
        "BY '" PASSWORD "';"
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO "
        "'outbox_relay'@'%';"
        "GRANT SELECT ON shop.* TO 'outbox_relay'@'%'"), 0);
    e->source_user = "outbox_relay";
}

/* The relay with these source lines, from an empty authentication cache
 * (FLUSH PRIVILEGES empties it: the login takes the full path, TLS or
 * RSA, not the cached fast one). */
static void configure(struct relay_env *e, const char *source_lines)
{
    e->source_extra = source_lines;
    assert_int_equal(relay_env_configure(e, e->kafka_properties,
                                         e->checkpoint_yaml), 0);
    assert_int_equal(th_mariadb_exec(&e->db, "FLUSH PRIVILEGES"), 0);
}

/* Logs in, streams, relays `n` events, and stops cleanly. */
static void login_streams(struct relay_env *e, const char *source_lines,
                          long n, long seed, long id_base)
{
    configure(e, source_lines);
    fprintf(stderr, "login with:\n%s", source_lines);
    assert_int_equal(relay_env_run_relay(e), 0);
    assert_int_equal(relay_env_load(e, n, seed, 0, id_base), 0);
    assert_int_equal(relay_env_wait_caught_up(e, 60000), 0);
    int rc = th_stop(&e->relay, 10000, NULL);
    if (rc != 0)
        th_dump_log(&e->relay, 40);
    assert_int_equal(rc, 0);
}

/* The relay must not get in: it ends with status 1 and a log line
 * holding `message`. */
static void login_refused(struct relay_env *e, const char *source_lines,
                          const char *message)
{
    configure(e, source_lines);
    fprintf(stderr, "login refused with:\n%s", source_lines);
    assert_int_equal(relay_env_spawn_relay(e), 0);
    int rc = th_wait(&e->relay, 30000);
    if (rc != 1 || !th_log_contains(&e->relay, message)) {
        fprintf(stderr, "exit status %d; wanted 1 and \"%s\" in the log\n",
                rc, message);
        th_dump_log(&e->relay, 10);
        if (rc < 0)
            th_kill(&e->relay);
        fail();
    }
    th_dump_log(&e->relay, 2);
}

static void test_caching_sha2_password(void **state)
{
    (void)state;
    struct relay_env e;
    char pub[400], cmd[1200];
    th_assert_started(relay_env_start(&e, "at_least_once", NULL));
    make_account(&e);

    login_streams(&e, "  password: " PASSWORD "\n  ssl_mode: required\n",
                  300, 11, 0);
    login_streams(&e, "  password: " PASSWORD "\n  ssl_mode: disabled\n",
                  300, 12, 100000);

    /* The key from a file: the server's own, copied as an operator would.
     * An unrelated key proves the file is the one used (a fetched key
     * would let the login through). */
    snprintf(pub, sizeof pub, "%s/server-public.pem", e.dir);
    snprintf(cmd, sizeof cmd, "cp '%s/public_key.pem' '%s' && cd '%s' && "
             "openssl genrsa -out other.key 2048 2>/dev/null && "
             "openssl rsa -in other.key -pubout -out other.pem 2>/dev/null",
             e.db.datadir, pub, e.dir);
    assert_int_equal(system(cmd), 0);
    static char lines[1000];
    snprintf(lines, sizeof lines, "  password: " PASSWORD "\n"
             "  ssl_mode: disabled\n  server_public_key: %s\n", pub);
    login_streams(&e, lines, 300, 13, 200000);
    snprintf(lines, sizeof lines, "  password: " PASSWORD "\n"
             "  ssl_mode: disabled\n  server_public_key: %s/other.pem\n",
             e.dir);
    login_refused(&e, lines, "source.server_public_key");
    snprintf(lines, sizeof lines, "  password: " PASSWORD "\n"
             "  ssl_mode: disabled\n  server_public_key: %s/missing.pem\n",
             e.dir);
    login_refused(&e, lines, "missing.pem: No such file or directory");

    /* A server without RSA keys, and no TLS: neither way is open. */
    static const char *const no_rsa[] = {
        "--caching-sha2-password-auto-generate-rsa-keys=OFF",
        "--caching-sha2-password-private-key-path=/nonexistent.pem",
        "--caching-sha2-password-public-key-path=/nonexistent.pem", NULL};
    e.db.extra = no_rsa;
    assert_int_equal(th_mariadb_restart(&e.db), 0);
    login_refused(&e, "  password: " PASSWORD "\n  ssl_mode: disabled\n",
                  "login needs TLS or the server's RSA public key, and "
                  "neither was there");

    assert_int_equal(relay_env_verify(&e, 0), 0);
    relay_env_stop(&e);
}

/* ---- tagged GTIDs -------------------------------------------------- */

/* Kills the relay in the middle of a load and starts it again: it
 * resumes from its checkpoint, and exactly_once skips what it landed. */
static void load_with_a_kill(struct relay_env *e, long n, long seed,
                             long id_base)
{
    struct th_proc load;
    assert_int_equal(relay_env_load_start(e, &load, n, seed, 0, id_base), 0);
    usleep(1500 * 1000);
    th_kill(&e->relay);
    assert_int_equal(relay_env_run_relay(e), 0);
    assert_int_equal(relay_env_load_wait(&load, 300000), 0);
    assert_int_equal(relay_env_wait_caught_up(e, 120000), 0);
}

static void test_tagged_gtids(void **state)
{
    (void)state;
    struct relay_env e;
    char gtid[8192];
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    e.load_init_sql = "SET gtid_next = 'AUTOMATIC:orders'";
    assert_int_equal(relay_env_run_relay(&e), 0);
    load_with_a_kill(&e, 5000, 21, 0);
    assert_int_equal(relay_env_checkpoint_gtid(&e, gtid, sizeof gtid), 0);
    assert_non_null(strstr(gtid, ":orders:"));
    assert_int_equal(relay_env_checkpoint_has_server_gtid(&e), 1);

    /* Down while tagged and untagged transactions commit; resumed from
     * the tagged checkpoint. */
    assert_int_equal(th_stop(&e.relay, 10000, NULL), 0);
    assert_int_equal(relay_env_load(&e, 1000, 22, 0, 100000), 0);
    e.load_init_sql = NULL;
    assert_int_equal(relay_env_load(&e, 1000, 23, 0, 200000), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(relay_env_checkpoint_has_server_gtid(&e), 1);
    assert_int_equal(relay_env_verify(&e, 1), 0);
    relay_env_stop(&e);
}

/* start: a GTID set with tags, a rotation back: the relay begins at the
 * newest binlog whose Previous_gtids the set covers, and passes over the
 * set's tagged and untagged transactions after that. */
static void test_tagged_gtid_set_start(void **state)
{
    (void)state;
    struct relay_env e;
    static char start[8192];
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    e.load_init_sql = "SET gtid_next = 'AUTOMATIC:orders'";
    assert_int_equal(relay_env_load_unexpected(&e, 300, 24, 0), 0);
    assert_int_equal(th_mariadb_exec(&e.db, "FLUSH BINARY LOGS"), 0);
    assert_int_equal(relay_env_load_unexpected(&e, 300, 25, 10000), 0);
    e.load_init_sql = NULL;
    assert_int_equal(relay_env_load_unexpected(&e, 300, 26, 20000), 0);
    assert_int_equal(relay_env_server_gtid(&e, start, sizeof start), 0);
    assert_non_null(strstr(start, ":orders:"));
    assert_int_equal(relay_env_load(&e, 800, 27, 0, 100000), 0);
    e.start = start;
    fprintf(stderr, "source.start: %s\n", start);
    assert_int_equal(relay_env_configure(&e, NULL, NULL), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    e.load_init_sql = "SET gtid_next = 'AUTOMATIC:orders'";
    assert_int_equal(relay_env_load(&e, 800, 28, 0, 200000), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(relay_env_checkpoint_has_server_gtid(&e), 1);
    assert_int_equal(relay_env_verify(&e, 1), 0);
    relay_env_stop(&e);
}

/* ---- binlog_transaction_compression -------------------------------- */

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

/* One transaction of `rows` outbox rows of `bytes` random base64-like
 * text each (zstd cannot shrink it below 3/4), on a connection that
 * first runs `session_sql` (NULL: none); their expect lines appended. */
static void big_transaction(struct relay_env *e, const char *session_sql,
                            int rows, size_t bytes, long id_base)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    MYSQL *db = th_mariadb_connect(&e->db);
    FILE *exp = fopen(e->expect, "a");
    char *payload = malloc(bytes), *sql = malloc(2 * bytes + 512);
    unsigned seed = (unsigned)id_base;
    assert_non_null(db);
    assert_non_null(exp);
    assert_non_null(payload);
    assert_non_null(sql);
    if (session_sql)
        assert_int_equal(mysql_query(db, session_sql), 0);
    assert_int_equal(mysql_query(db, "BEGIN"), 0);
    for (int r = 0; r < rows; r++) {
        char id[40];
        for (size_t i = 0; i < bytes; i++)
            payload[i] = abc[rand_r(&seed) % 64];
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012ld", id_base + r);
        int k = snprintf(sql, 512, "INSERT INTO shop.outbox VALUES ('%s', "
                         "'order', 'big%d', 'big', '", id, r);
        k += (int)mysql_real_escape_string(db, sql + k, payload, bytes);
        snprintf(sql + k, 16, "', NOW(6))");
        if (mysql_query(db, sql) != 0)
            fail_msg("%s", mysql_error(db));
        fprintf(exp, "%s\toutbox.event.order\tbig%d\tbig\t%zu\t%016" PRIx64
                "\n", id, r, bytes, fnv1a(payload, bytes));
    }
    assert_int_equal(mysql_query(db, "COMMIT"), 0);
    fclose(exp);
    free(payload);
    free(sql);
    mysql_close(db);
}

#define MIB (1024L * 1024L)

/* The Transaction_payload events of every binlog: how many, how many of
 * them over 1 MiB (event header included), and the largest. */
static void payload_events(struct relay_env *e, long *count, long *over_mib,
                           long *largest)
{
    MYSQL *db = th_mariadb_connect(&e->db);
    MYSQL_RES *logs, *evs;
    MYSQL_ROW f, ev;
    char sql[400];
    *count = *over_mib = *largest = 0;
    assert_non_null(db);
    assert_int_equal(mysql_query(db, "SHOW BINARY LOGS"), 0);
    assert_non_null(logs = mysql_store_result(db));
    while ((f = mysql_fetch_row(logs))) {
        snprintf(sql, sizeof sql, "SHOW BINLOG EVENTS IN '%s'", f[0]);
        assert_int_equal(mysql_query(db, sql), 0);
        assert_non_null(evs = mysql_store_result(db));
        while ((ev = mysql_fetch_row(evs)))
            if (!strcmp(ev[2], "Transaction_payload")) {
                long size = atol(ev[4]) - atol(ev[1]);
                ++*count;
                *over_mib += size > MIB;
                if (size > MIB)
                    fprintf(stderr, "%s:%s: Transaction_payload of %ld "
                            "bytes\n", f[0], ev[1], size);
                if (size > *largest)
                    *largest = size;
            }
        mysql_free_result(evs);
    }
    mysql_free_result(logs);
    mysql_close(db);
}

static void test_transaction_compression(void **state)
{
    (void)state;
    struct relay_env e;
    long before, after, big, largest;
    static const char *const on[] = {"--binlog-transaction-compression=ON",
                                     NULL};
    th_assert_started(relay_env_start(&e, "exactly_once", on));
    assert_int_equal(relay_env_run_relay(&e), 0);

    /* Globally on. */
    load_with_a_kill(&e, 3000, 31, 0);
    big_transaction(&e, NULL, 4, 700000, 900000000);
    payload_events(&e, &before, &big, &largest);
    fprintf(stderr, "global: %ld compressed transactions, %ld over 1 MiB, "
            "the largest %ld bytes\n", before, big, largest);
    assert_true(before >= 5);
    assert_int_equal(big, 1);

    /* Off globally, on in the writers' sessions only. */
    assert_int_equal(th_mariadb_exec(&e.db,
        "SET GLOBAL binlog_transaction_compression = OFF"), 0);
    e.load_init_sql = "SET SESSION binlog_transaction_compression = ON";
    load_with_a_kill(&e, 3000, 32, 100000);
    big_transaction(&e, e.load_init_sql, 4, 700000, 910000000);
    e.load_init_sql = NULL;
    assert_int_equal(relay_env_load(&e, 500, 33, 0, 200000), 0);
    payload_events(&e, &after, &big, &largest);
    fprintf(stderr, "per session: %ld compressed transactions more, %ld "
            "over 1 MiB in all, the largest %ld bytes\n", after - before,
            big, largest);
    assert_true(after - before >= 5);
    /* The session's big transaction; a load's DELETE FROM shop.outbox
     * (delete-after-insert) may log the big rows' images once more. */
    assert_true(big >= 2);

    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(relay_env_verify(&e, 1), 0);
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caching_sha2_password),
        cmocka_unit_test(test_tagged_gtids),
        cmocka_unit_test(test_tagged_gtid_set_start),
        cmocka_unit_test(test_transaction_compression),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
