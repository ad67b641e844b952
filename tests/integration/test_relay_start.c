/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every form of source.start, on every server kind (test_relay_start,
 * test_relay_start@mysql-9.7, test_relay_start@mariadb-11.8). On its
 * first start (no checkpoint) the relay begins where `start` says: the
 * outbox rows committed before that point are relayed nowhere, those
 * after it each once (exactly_once, checked by outbox-verify), and once
 * caught up its checkpoint holds the server's whole GTID state, the
 * transactions before the start point included.
 *
 *   latest     where the binlog ends (SHOW BINARY LOG STATUS on MySQL 8.2
 *              and later: 8.4 removed SHOW MASTER STATUS);
 *   earliest   the oldest binlog kept (the one before it purged);
 *   FILE:POS   a binlog position read from the server;
 *   GTID set   the server's GTID state at a moment, a binlog rotation
 *              before it: MySQL starts at the newest binlog whose
 *              Previous_gtids the set covers and passes over the set's
 *              transactions after that; MariaDB by @slave_connect_state.
 *
 * In `latest` the relay logs in as schema/grants.sql's account with a
 * password: on MySQL 9 that account has caching_sha2_password, whose
 * first login needs TLS or the server's RSA key; the relay's default
 * ssl_mode (preferred) gives it TLS, with the certificates MySQL made
 * for itself at --initialize (test_relay_mysql has the other ways).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <mysql.h>
#include <stdio.h>
#include <string.h>

#include "tests/integration/relay_env.h"

/* The account's authentication plugin, "" when unknown. */
static void auth_plugin(struct relay_env *e, char *out, size_t len)
{
    relay_env_query(e, "SELECT plugin FROM mysql.user WHERE "
                       "user = 'outbox_relay'", out, len);
}

static void load_unexpected(struct relay_env *e, long n, long seed,
                            long id_base)
{
    assert_int_equal(relay_env_load_unexpected(e, n, seed, id_base), 0);
}

/* The relay's first start from e->start (set by the caller), then more
 * load; everything since the start point arrives once. */
static void run_and_check(struct relay_env *e, long id_base)
{
    fprintf(stderr, "source.start: %s\n", e->start ? e->start : "latest");
    assert_int_equal(relay_env_configure(e, NULL, NULL), 0);
    assert_int_equal(relay_env_run_relay(e), 0);
    assert_int_equal(relay_env_load(e, 2000, 9, 1, id_base), 0);
    assert_int_equal(relay_env_wait_caught_up(e, 120000), 0);
    assert_int_equal(relay_env_checkpoint_has_server_gtid(e), 1);
    assert_int_equal(relay_env_verify(e, 1), 0); /* these, once, no others */
    relay_env_stop(e);
}

static void test_latest(void **state)
{
    (void)state;
    struct relay_env e;
    char plugin[64];
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    assert_int_equal(th_mariadb_exec(&e.db,
        "CREATE USER 'outbox_relay'@'%' IDENTIFIED BY 'latest-pw';"
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO "
        "'outbox_relay'@'%';"
        "GRANT SELECT ON shop.* TO 'outbox_relay'@'%'"), 0);
    auth_plugin(&e, plugin, sizeof plugin);
    fprintf(stderr, "relay account's plugin: %s\n", plugin[0] ? plugin : "(default)");
    if (e.db.mysql)
        assert_string_equal(plugin, "caching_sha2_password");
    e.source_user = "outbox_relay";
    e.source_extra = "  password: latest-pw\n";
    load_unexpected(&e, 500, 7, 0);
    run_and_check(&e, 1000000);
}

static void test_earliest(void **state)
{
    (void)state;
    struct relay_env e;
    char file[256];
    unsigned long long pos;
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    load_unexpected(&e, 500, 7, 0); /* in the binlog purged below */
    assert_int_equal(th_mariadb_exec(&e.db, "FLUSH BINARY LOGS"), 0);
    assert_int_equal(relay_env_binlog_end(&e, file, sizeof file, &pos), 0);
    assert_int_equal(relay_env_load(&e, 800, 8, 0, 500000), 0);
    assert_int_equal(relay_env_purge_to(&e, file), 0);
    e.start = "earliest";
    run_and_check(&e, 1000000);
}

static void test_file_pos(void **state)
{
    (void)state;
    struct relay_env e;
    char file[256];
    unsigned long long pos;
    static char start[300];
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    load_unexpected(&e, 500, 7, 0);
    assert_int_equal(relay_env_binlog_end(&e, file, sizeof file, &pos), 0);
    snprintf(start, sizeof start, "%s:%llu", file, pos);
    assert_int_equal(relay_env_load(&e, 800, 8, 0, 500000), 0);
    e.start = start;
    run_and_check(&e, 1000000);
}

static void test_gtid_set(void **state)
{
    (void)state;
    struct relay_env e;
    static char start[8192];
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    load_unexpected(&e, 300, 7, 0);
    assert_int_equal(th_mariadb_exec(&e.db, "FLUSH BINARY LOGS"), 0);
    load_unexpected(&e, 300, 17, 300000); /* in the binlog the set starts in */
    assert_int_equal(relay_env_server_gtid(&e, start, sizeof start), 0);
    assert_true(start[0] != '\0');
    assert_int_equal(relay_env_load(&e, 800, 8, 0, 500000), 0);
    e.start = start;
    run_and_check(&e, 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latest),
        cmocka_unit_test(test_earliest),
        cmocka_unit_test(test_file_pos),
        cmocka_unit_test(test_gtid_set),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
