/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS from the relay to MariaDB, with a throwaway CA and server
 * certificate made by the test: verify_identity against the right CA
 * streams (as a user the server only lets in over TLS); the wrong CA is
 * refused with a message about the certificate, and nothing is relayed.
 *
 * (outbox-sse's TLS to Redis: test_sse_tls.)
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

#include "tests/integration/relay_env.h"

static char certs[256];

static void make_certs(void)
{
    assert_int_equal(th_make_certs(certs, sizeof certs), 0);
}

static void start(struct relay_env *e, const char *ca)
{
    static char o[3][400], extra[800];
    snprintf(o[0], sizeof o[0], "--ssl-ca=%s/ca.pem", certs);
    snprintf(o[1], sizeof o[1], "--ssl-cert=%s/server.pem", certs);
    snprintf(o[2], sizeof o[2], "--ssl-key=%s/server.key", certs);
    static const char *opts[4];
    for (int i = 0; i < 3; i++)
        opts[i] = o[i];
    assert_int_equal(relay_env_start(e, "at_least_once", opts), 0);
    assert_int_equal(th_mariadb_exec(&e->db,
        "CREATE USER tlsrelay@'%' REQUIRE SSL;"
        "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* "
        "TO tlsrelay@'%'"), 0);
    snprintf(extra, sizeof extra,
             "  ssl_mode: verify_identity\n  ssl_ca: %s/%s\n", certs, ca);
    e->source_user = "tlsrelay";
    e->source_extra = extra;
    assert_int_equal(relay_env_configure(e, NULL, NULL), 0);
}

static void test_tls_verified(void **state)
{
    (void)state;
    struct relay_env e;
    make_certs();
    start(&e, "ca.pem");
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load(&e, 2000, 3, 0, 0), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(relay_env_verify(&e, 0), 0);
    /* The relay's sessions are encrypted (the account allows nothing else). */
    relay_env_stop(&e);
}

static void test_tls_wrong_ca_refused(void **state)
{
    (void)state;
    struct relay_env e;
    start(&e, "evil.pem");
    assert_int_equal(relay_env_spawn_relay(&e), 0);
    int said = 0;
    for (int i = 0; i < 100 && !said; i++) {
        said = th_log_contains(&e.relay, "certificate") ||
               th_log_contains(&e.relay, "SSL") || th_log_contains(&e.relay, "TLS");
        usleep(100000);
    }
    th_dump_log(&e.relay, 3); /* what an operator would read */
    assert_true(said);
    assert_int_not_equal(relay_env_health(&e), 200);
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_verified),
        cmocka_unit_test(test_tls_wrong_ca_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
