/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resuming from the checkpoint, on every server kind (test_relay_resume,
 * @mysql-9.7, @mariadb-11.8), in exactly_once: every committed event
 * arrives, once, in order per key (outbox-verify), and once caught up
 * the checkpoint's GTID state is the server's.
 *
 *   restart  SIGKILLs in the middle of the load, and a clean stop;
 *   flush    FLUSH BINARY LOGS over and over while the load runs, the
 *            relay killed between rotations, so that it resumes in a
 *            binlog other than the one it was reading;
 *   purge    PURGE BINARY LOGS of the files the relay has passed, while
 *            it is down, then a resume and a kill under more load.
 *
 * MariaDB resumes by GTID (@slave_connect_state, checked in the relay's
 * log); MySQL, on the same server, by the checkpoint's file and offset
 * (Connector/C's COM_BINLOG_DUMP), its GTID set kept beside them.
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

static long binlog_count(struct relay_env *e)
{
    MYSQL *db = th_mariadb_connect(&e->db);
    assert_non_null(db);
    assert_int_equal(mysql_query(db, "SHOW BINARY LOGS"), 0);
    MYSQL_RES *r = mysql_store_result(db);
    assert_non_null(r);
    long count = (long)mysql_num_rows(r);
    mysql_free_result(r);
    mysql_close(db);
    return count;
}

static void kill_and_restart(struct relay_env *e)
{
    th_kill(&e->relay);
    assert_int_equal(relay_env_run_relay(e), 0);
}

/* Caught up, the GTID state right, each event once; on MariaDB the last
 * start resumed by GTID. */
static void check_all_once(struct relay_env *e)
{
    assert_int_equal(relay_env_wait_caught_up(e, 180000), 0);
    assert_int_equal(relay_env_checkpoint_has_server_gtid(e), 1);
    if (!e->db.mysql)
        assert_true(th_log_contains(&e->relay, "streaming from GTID 0-1-"));
    assert_int_equal(relay_env_verify(e, 1), 0);
}

static void test_restart(void **state)
{
    (void)state;
    struct relay_env e;
    struct th_proc load;
    int kills = 0;
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load_start(&e, &load, 50000, 51, 2, 0), 0);
    for (; kills < 4 && th_alive(&load); kills++) {
        usleep(800 * 1000);
        kill_and_restart(&e);
    }
    assert_int_equal(relay_env_load_wait(&load, 300000), 0);
    assert_int_equal(th_stop(&e.relay, 10000, NULL), 0); /* a clean stop */
    assert_int_equal(relay_env_load(&e, 1000, 52, 0, 100000), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    fprintf(stderr, "restart: %d SIGKILLs under load, one clean stop\n", kills);
    assert_true(kills >= 2);
    check_all_once(&e);
    relay_env_stop(&e);
}

static void test_flush(void **state)
{
    (void)state;
    struct relay_env e;
    struct th_proc load;
    int flushes = 0, kills = 0;
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    long files = binlog_count(&e);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load_start(&e, &load, 30000, 61, 0, 0), 0);
    while (th_alive(&load) && flushes < 12) {
        usleep(250 * 1000);
        assert_int_equal(th_mariadb_exec(&e.db, "FLUSH BINARY LOGS"), 0);
        if (++flushes % 3 == 0) {
            usleep(200 * 1000); /* into the new binlog, then down */
            kill_and_restart(&e);
            kills++;
        }
    }
    assert_int_equal(relay_env_load_wait(&load, 300000), 0);
    files = binlog_count(&e) - files;
    fprintf(stderr, "flush: %d FLUSH BINARY LOGS (%ld binlogs more), %d "
            "SIGKILLs, under load\n", flushes, files, kills);
    assert_true(flushes >= 4);
    assert_true(kills >= 1);
    check_all_once(&e);
    relay_env_stop(&e);
}

static void test_purge(void **state)
{
    (void)state;
    struct relay_env e;
    struct th_proc load;
    char file[256], ckpt[16384];
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    assert_int_equal(relay_env_run_relay(&e), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(relay_env_load(&e, 1500, 71 + i, 0, i * 10000L), 0);
        assert_int_equal(th_mariadb_exec(&e.db, "FLUSH BINARY LOGS"), 0);
    }
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    assert_int_equal(th_stop(&e.relay, 10000, NULL), 0);

    /* Every binlog before the checkpoint's goes, while the relay is down. */
    FILE *fp = fopen(e.checkpoint, "r");
    assert_non_null(fp);
    assert_non_null(fgets(ckpt, sizeof ckpt, fp));
    fclose(fp);
    assert_int_equal(sscanf(ckpt, "v1 file=%255s", file), 1);
    long before = binlog_count(&e);
    assert_int_equal(relay_env_purge_to(&e, file), 0);
    fprintf(stderr, "purge: %ld of %ld binlogs purged, up to %s, the "
            "checkpoint's\n", before - binlog_count(&e), before, file);
    assert_true(before - binlog_count(&e) >= 4);

    assert_int_equal(relay_env_load_start(&e, &load, 6000, 75, 0, 100000), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    usleep(1500 * 1000);
    kill_and_restart(&e);
    assert_int_equal(relay_env_load_wait(&load, 300000), 0);
    check_all_once(&e);
    relay_env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_purge),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
