/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RESET BINARY LOGS AND GTIDS (RESET MASTER) under a relay whose source
 * has no GTIDs (MySQL 9.7, gtid_mode=OFF): its checkpoint's file:offset
 * points into a history the server threw away. The relay must say so
 * (warning, outbox_exactly_once_degraded_total), stream the new history
 * from its start, and deliver every event committed after the reset
 * (at-least-once for them; resume.h). MariaDB always has GTIDs, where
 * the GTID check refuses instead (test_resume), so this runs on MySQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/relay_env.h"

static char *slurp(const char *path)
{
    static char buf[1 << 20];
    FILE *fp = fopen(path, "rb");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp)
        fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_reset_master_without_gtids(void **state)
{
    (void)state;
    static const char *const no_gtids[] = {
        "--gtid-mode=OFF", "--enforce-gtid-consistency=OFF", NULL};
    struct relay_env e;
    char body[65536];
    th_assert_started(relay_env_start(&e, "at_least_once", no_gtids));
    assert_int_equal(relay_env_run_relay(&e), 0);
    /* more than the new history will hold, so that its file is shorter
     * than the checkpoint's offset */
    assert_int_equal(relay_env_load(&e, 3000, 11, 0, 0), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(th_stop(&e.relay, 10000, NULL), 0);
    fprintf(stderr, "checkpoint before the reset: %s\n",
            slurp(e.checkpoint));

    assert_int_equal(th_mariadb_exec(&e.db, "RESET BINARY LOGS AND GTIDS"),
                     0);
    assert_int_equal(relay_env_load(&e, 300, 12, 0, 1000000), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    /* all 3,300 there; those of the new history may be twice */
    assert_int_equal(relay_env_verify(&e, 0), 0);
    assert_int_equal(th_http_get(e.metrics_port, "/metrics", body,
                                 sizeof body), 200);
    assert_non_null(strstr(body, "outbox_exactly_once_degraded_total 1\n"));
    const char *log = slurp(e.relay.log);
    assert_non_null(strstr(log, "was reset (RESET MASTER?): the checkpoint's"));
    assert_non_null(strstr(log, "streaming from the start of the new "
                                "history, at-least-once for it"));
    relay_env_stop(&e);
}

int main(void)
{
    /* the case exists on MySQL only (see above) */
    setenv("OUTBOX_TEST_SERVER", "mysql-9.7", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_master_without_gtids),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
