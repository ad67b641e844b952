/* SPDX-License-Identifier: Apache-2.0 */
/*
 * source.start: latest. On its first start (no checkpoint) the relay
 * begins where the source's binlog ends then: outbox rows committed
 * before are not relayed, those committed after are, each once. Runs
 * against every server kind (test_relay_latest@mysql-9.7, ...): finding
 * the binlog's end takes a different statement on MySQL 8.2 and later
 * (SHOW BINARY LOG STATUS; 8.4 removed SHOW MASTER STATUS).
 *
 * The relay logs in as schema/grants.sql's account, with a password: on
 * MySQL 9 that account has caching_sha2_password (mysql_native_password
 * is gone), whose first login with a password needs TLS or the server's
 * RSA key; the relay's default ssl_mode (preferred) gives it TLS, with the
 * certificates MySQL made for itself at --initialize.
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
    MYSQL *db = th_mariadb_connect(&e->db);
    MYSQL_RES *r = NULL;
    MYSQL_ROW row;
    out[0] = '\0';
    if (db && mysql_query(db, "SELECT plugin FROM mysql.user WHERE "
                              "user = 'outbox_relay'") == 0 &&
        (r = mysql_store_result(db)) && (row = mysql_fetch_row(r)) && row[0])
        snprintf(out, len, "%s", row[0]);
    if (r)
        mysql_free_result(r);
    if (db)
        mysql_close(db);
}

static void test_latest_skips_what_came_before(void **state)
{
    (void)state;
    struct relay_env e;
    char expect[sizeof e.expect], plugin[64];
    th_assert_started(relay_env_start(&e, "at_least_once", NULL));
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
    assert_int_equal(relay_env_configure(&e, NULL, NULL), 0);

    /* Committed before the relay's first start: expected nowhere. */
    snprintf(expect, sizeof expect, "%s", e.expect);
    snprintf(e.expect, sizeof e.expect, "%s/before.tsv", e.dir);
    assert_int_equal(relay_env_load(&e, 500, 7, 0, 0), 0);
    snprintf(e.expect, sizeof e.expect, "%s", expect);

    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load(&e, 3000, 8, 1, 1000000), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(relay_env_verify(&e, 1), 0); /* these, once, no others */
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latest_skips_what_came_before),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
