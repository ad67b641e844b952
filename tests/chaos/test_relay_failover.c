/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-relay through a source failover (issue 12, part 2), on the
 * server kind of th_server_kind() (MariaDB 10.11 here, MySQL 9.7 as
 * test_relay_failover@mysql-9.7):
 *
 *   - a primary and a replica (log_slave_updates / log_replica_updates,
 *     GTID replication: MASTER_USE_GTID=slave_pos, SOURCE_AUTO_POSITION=1),
 *     both started by the test on 127.0.0.1; the relay has both in
 *     source.hosts, outbox-load both as --port (it writes to the writable
 *     one);
 *   - a third of the way into the load the primary is SIGKILLed; the
 *     relay then finds no writable server (the replica is read-only) and
 *     keeps trying; the test promotes the replica (STOP REPLICA,
 *     read_only=0), and the writer goes on against it;
 *   - the relay must move to the new primary by GTID: with kcat and
 *     outbox-verify, 0 events lost, in exactly_once 0 twice, and commit
 *     order per key kept. Kafka is down from just before the kill until
 *     a second after the promotion, and the relay paused (SIGSTOP) half a
 *     second before the writer and resumed after the kill: it moves with
 *     records unacknowledged, and must replay their transactions from
 *     the new primary (at_least_once: twice; exactly_once waits for them
 *     first). In both delivery modes, and once more with
 *     the relay SIGKILLed mid-stream instead and started again after the
 *     kill: it resumes on the new primary from a checkpoint of the old
 *     one, skipping (exactly_once) the rows it had landed past it, found
 *     in Kafka by their GTID names. The relay's count of replayed rows
 *     skipped (outbox_replayed_skipped_total) is printed.
 *
 * The writer is paused (SIGSTOP) while the replica catches up, just
 * before the kill: with asynchronous replication, transactions the dead
 * primary had committed and not yet sent are lost to the database
 * itself, and the relay, which may have delivered them, would rightly
 * refuse the replica (its history lacks them). That is the database's
 * loss, not the relay's, and semi-synchronous replication is its remedy;
 * here the replica has every transaction, so what is measured is the
 * relay alone. The writer is still in the middle of its load (possibly of
 * a transaction) when the primary dies.
 *
 * And a foreign server: a fresh, unrelated server in source.hosts, the
 * primary killed: the relay takes the fresh one (it is writable) and
 * refuses it, with exit status 1 and the reason, instead of skipping
 * ahead.
 *
 * OUTBOX_FAILOVER_EVENTS sets the load (30,000 events).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/relay_env.h"

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s ? atol(s) : dflt;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_mysql(void) { return strncmp(th_server_kind(), "mysql", 5) == 0; }

/* The first column of the first row, "" for NULL or none. 0 or -1. */
static int query_text(const struct th_mariadb *m, const char *sql, char *buf,
                      size_t len)
{
    MYSQL *db = th_mariadb_connect(m);
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int rc = -1;
    buf[0] = '\0';
    if (db && mysql_query(db, sql) == 0 && (res = mysql_store_result(db))) {
        if ((row = mysql_fetch_row(res)) && row[0])
            snprintf(buf, len, "%s", row[0]);
        rc = 0;
    } else if (db) {
        fprintf(stderr, "%s: %s\n", sql, mysql_error(db));
    }
    if (res)
        mysql_free_result(res);
    if (db)
        mysql_close(db);
    return rc;
}

/* What the server's binlog holds, in the text both servers of a
 * replication pair print alike once they hold the same. */
static int gtid_state(const struct th_mariadb *m, char *buf, size_t len)
{
    return query_text(m, is_mysql() ? "SELECT @@GLOBAL.gtid_executed"
                                    : "SELECT @@GLOBAL.gtid_binlog_pos",
                      buf, len);
}

/* A replica of `primary`, read-only, replicating by GTID. */
static int start_replica(const struct th_mariadb *primary,
                         struct th_mariadb *replica)
{
    static const char *const mariadb[] = {"--server-id=2",
        "--log-slave-updates=ON", "--read-only=ON", NULL};
    static const char *const mysql[] = {"--server-id=2",
        "--log-replica-updates=ON", "--read-only=ON", "--skip-replica-start",
        NULL};
    int rc = th_mariadb_start_kind(replica, th_server_kind(),
                                   is_mysql() ? mysql : mariadb);
    if (rc != 0)
        return rc;
    char sql[600];
    if (is_mysql())
        snprintf(sql, sizeof sql,
                 "CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', "
                 "SOURCE_PORT=%d, SOURCE_USER='root', SOURCE_PASSWORD='', "
                 "SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1; "
                 "START REPLICA", primary->port);
    else
        snprintf(sql, sizeof sql,
                 "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, "
                 "MASTER_USER='root', MASTER_PASSWORD='', "
                 "MASTER_USE_GTID=slave_pos; START SLAVE", primary->port);
    return th_mariadb_exec(replica, sql);
}

/* Until the replica holds what the primary does. */
static int wait_in_sync(const struct th_mariadb *primary,
                        const struct th_mariadb *replica, int timeout_ms)
{
    char a[8192], b[8192];
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (gtid_state(primary, a, sizeof a) < 0 ||
            gtid_state(replica, b, sizeof b) < 0)
            return -1;
        if (a[0] && strcmp(a, b) == 0)
            return 0;
        usleep(100000);
    }
    fprintf(stderr, "replica at \"%s\", primary at \"%s\"\n", b, a);
    th_mariadb_exec(replica, is_mysql() ? "SHOW REPLICA STATUS"
                                        : "SHOW SLAVE STATUS");
    return -1;
}

/* Until no client statement runs on the primary: the paused writer's
 * last one has been carried out (or it is waiting between statements). */
static int wait_writer_idle(const struct th_mariadb *primary, int timeout_ms)
{
    char n[32];
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (query_text(primary, "SELECT COUNT(*) FROM "
                       "information_schema.PROCESSLIST WHERE COMMAND = 'Query' "
                       "AND ID <> CONNECTION_ID()", n, sizeof n) < 0)
            return -1;
        if (atoi(n) == 0)
            return 0;
        usleep(50000);
    }
    fprintf(stderr, "the primary still runs %s statements\n", n);
    return -1;
}

static int promote(const struct th_mariadb *replica)
{
    return th_mariadb_exec(replica, is_mysql()
        ? "STOP REPLICA; RESET REPLICA ALL; SET GLOBAL super_read_only = 0; "
          "SET GLOBAL read_only = 0"
        : "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0");
}

static long expect_lines(const struct relay_env *e)
{
    FILE *fp = fopen(e->expect, "r");
    long n = 0;
    int c;
    while (fp && (c = getc(fp)) != EOF)
        n += c == '\n';
    if (fp)
        fclose(fp);
    return n;
}

static int wait_expect_lines(const struct relay_env *e, long want,
                             int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (expect_lines(e) >= want)
            return 0;
        usleep(20000);
    }
    fprintf(stderr, "only %ld of %ld events committed\n", expect_lines(e),
            want);
    return -1;
}

/* source.hosts: the primary first, then `other`. */
static int configure_hosts(struct relay_env *e, int other_port, char *buf,
                           size_t len)
{
    snprintf(buf, len, "  hosts: [\"127.0.0.1:%d\", \"127.0.0.1:%d\"]\n",
             e->db.port, other_port);
    e->source_extra = buf;
    return relay_env_configure(e, NULL, NULL);
}

/* Until /healthz says the relay streams again; the milliseconds it took,
 * or -1. */
static long wait_streaming(struct relay_env *e, int timeout_ms)
{
    int64_t t0 = now_ms();
    while (now_ms() - t0 < timeout_ms) {
        if (relay_env_health(e) == 200)
            return (long)(now_ms() - t0);
        if (!th_alive(&e->relay))
            break;
        usleep(20000);
    }
    th_dump_log(&e->relay, 30);
    return -1;
}

/* A counter of the relay's /metrics, or -1. */
static long metric(struct relay_env *e, const char *name)
{
    static char body[65536];
    if (th_http_get(e->metrics_port, "/metrics", body, sizeof body) != 200)
        return -1;
    size_t n = strlen(name);
    for (const char *l = body; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l)
        if (strncmp(l, name, n) == 0 && l[n] == ' ')
            return atol(l + n + 1);
    return -1;
}

static void failover(const char *mode, int restart_relay)
{
    struct relay_env e;
    struct th_mariadb replica, dead;
    struct th_proc load;
    char hosts[200], needle[200];
    int exactly = strcmp(mode, "exactly_once") == 0;
    long n = env_long("OUTBOX_FAILOVER_EVENTS", 30000);

    th_assert_started(relay_env_start(&e, mode, NULL));
    th_assert_started(start_replica(&e.db, &replica));
    assert_int_equal(wait_in_sync(&e.db, &replica, 60000), 0);
    assert_int_equal(configure_hosts(&e, replica.port, hosts, sizeof hosts), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    e.load_failover_port = replica.port;
    assert_int_equal(relay_env_load_start(&e, &load, n, 41, 0, 0), 0);

    /* A third of the way in: pause the writer, let the replica catch up,
     * kill the primary, let the writer go on (it waits for a writable
     * server). */
    assert_int_equal(wait_expect_lines(&e, n / 3, 300000), 0);
    assert_true(th_alive(&load));
    if (restart_relay) {
        th_kill(&e.relay); /* mid-stream, its checkpoint behind */
    } else {
        /* Kafka down: what the relay read last is not acknowledged when
         * it moves, so it must replay that from the new primary (from
         * its committed GTID state, not from where it stopped reading) */
        assert_int_equal(th_kafka_cmd(&e.kafka, "down 1"), 0);
        assert_int_equal(kill(e.relay.pid, SIGSTOP), 0);
        usleep(500000);
    }
    assert_int_equal(kill(load.pid, SIGSTOP), 0);
    assert_int_equal(wait_writer_idle(&e.db, 30000), 0);
    assert_int_equal(wait_in_sync(&e.db, &replica, 120000), 0);
    long before = expect_lines(&e);
    th_kill(&e.db.proc);
    assert_int_equal(kill(load.pid, SIGCONT), 0);
    if (restart_relay) /* it resumes from the old primary's checkpoint */
        assert_int_equal(relay_env_spawn_relay(&e), 0);
    else
        assert_int_equal(kill(e.relay.pid, SIGCONT), 0);

    /* No server is writable now: the relay keeps trying, and does not
     * take the read-only replica. */
    for (int i = 0; i < 100 && !th_log_contains(&e.relay, "no writable server"); i++)
        usleep(100000);
    assert_true(th_log_contains(&e.relay, "no writable server among source.hosts"));
    assert_true(th_alive(&e.relay));
    assert_int_equal(promote(&replica), 0);
    int64_t promoted = now_ms();
    if (!restart_relay) {
        usleep(1000000);
        assert_int_equal(th_kafka_cmd(&e.kafka, "up 1"), 0);
    }
    assert_true(wait_streaming(&e, 120000) >= 0);
    long took = (long)(now_ms() - promoted);

    dead = e.db; /* from here the relay_env helpers look at the new primary */
    e.db = replica;
    replica.proc.pid = 0;
    assert_int_equal(relay_env_load_wait(&load, 600000), 0);
    long after = expect_lines(&e);
    assert_int_equal(relay_env_wait_caught_up(&e, 300000), 0);
    int verified = relay_env_verify(&e, exactly);
    fprintf(stderr, "failover (%s%s): %ld events committed, %ld before the "
            "primary was killed; relay streaming from the new primary %ld ms "
            "after its promotion (Kafka %s); %ld replayed rows skipped; "
            "outbox-verify %s\n", mode, restart_relay ? ", relay restarted" : "", after,
            before, took, restart_relay ? "up" : "back 1 s after it",
            metric(&e, "outbox_replayed_skipped_total"),
            verified == 0 ? "passed" : "FAILED");
    assert_int_equal(verified, 0);
    assert_true(after >= n && before < n);
    snprintf(needle, sizeof needle, "reading 127.0.0.1:%d, the writable one",
             e.db.port);
    assert_true(th_log_contains(&e.relay, needle));
    assert_true(th_log_contains(&e.relay, "whose GTID history holds it: "
                                          "resuming after GTID"));
    snprintf(needle, sizeof needle, "writing to port %d", e.db.port);
    assert_true(th_log_contains(&load, needle));
    relay_env_stop(&e);
    th_mariadb_stop(&dead);
}

static void test_failover_at_least_once(void **state)
{
    (void)state;
    failover("at_least_once", 0);
}

static void test_failover_exactly_once(void **state)
{
    (void)state;
    failover("exactly_once", 0);
}

static void test_failover_exactly_once_restarted(void **state)
{
    (void)state;
    failover("exactly_once", 1);
}

/* A server that is not a replica of the primary is refused. */
static void test_foreign_server_refused(void **state)
{
    (void)state;
    struct relay_env e;
    struct th_mariadb other;
    static const char *const extra[] = {"--server-id=3", NULL};
    char hosts[200], needle[200];
    th_assert_started(relay_env_start(&e, "exactly_once", NULL));
    th_assert_started(th_mariadb_start_kind(&other, th_server_kind(), extra));
    /* a history of its own */
    assert_int_equal(th_mariadb_exec(&other, "CREATE DATABASE unrelated; "
        "CREATE TABLE unrelated.t (i INT PRIMARY KEY); "
        "INSERT INTO unrelated.t VALUES (1), (2)"), 0);
    assert_int_equal(configure_hosts(&e, other.port, hosts, sizeof hosts), 0);
    assert_int_equal(relay_env_run_relay(&e), 0);
    assert_int_equal(relay_env_load(&e, 3000, 43, 0, 0), 0);
    assert_int_equal(relay_env_wait_caught_up(&e, 120000), 0);
    th_kill(&e.db.proc);
    int64_t t0 = now_ms();
    int rc = th_wait(&e.relay, 60000);
    long took = (long)(now_ms() - t0);
    if (rc != 1)
        th_dump_log(&e.relay, 30);
    fprintf(stderr, "foreign server: relay exit status %d, %ld ms after the "
            "primary was killed\n", rc, took);
    assert_int_equal(rc, 1);
    snprintf(needle, sizeof needle, "refusing 127.0.0.1:%d (server ", other.port);
    assert_true(th_log_contains(&e.relay, needle));
    assert_true(th_log_contains(&e.relay, "does not hold the checkpoint's "
                                          "GTID position"));
    /* what it delivered before is all there, once */
    assert_int_equal(relay_env_verify(&e, 1), 0);
    th_mariadb_stop(&other);
    relay_env_stop(&e);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failover_at_least_once),
        cmocka_unit_test(test_failover_exactly_once),
        cmocka_unit_test(test_failover_exactly_once_restarted),
        cmocka_unit_test(test_foreign_server_refused),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
