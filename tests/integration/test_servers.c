/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The harness: MariaDB (or the server kind $OUTBOX_TEST_SERVER names:
 * test_servers@mysql-9.7 ...), Redis and kafka-mock start, answer, and
 * stop without leaving a process behind, even when the test is SIGKILLed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>
#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness/th.h"

/* Not running: no such process, or a zombie awaiting its reaper. */
static int gone(pid_t pid)
{
    char path[64], stat[256];
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 1;
    size_t n = fread(stat, 1, sizeof stat - 1, fp);
    fclose(fp);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

/* `pgrep -f PATTERN` finds nothing. Run without a shell, whose own
 * command line would hold the pattern. */
static int no_process_matches(const char *pattern)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("pgrep", "pgrep", "-f", pattern, (char *)NULL);
        _exit(3);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 1; /* 1: nothing matched */
}

static int wait_gone(pid_t pid, int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        if (gone(pid))
            return 1;
        usleep(20000);
    }
    return gone(pid);
}

static void check_mariadb(struct th_mariadb *m)
{
    MYSQL *db = th_mariadb_connect(m);
    assert_non_null(db);
    assert_int_equal(mysql_query(db, "SELECT @@log_bin, @@binlog_format, "
                                     "@@binlog_row_image, @@binlog_row_metadata"), 0);
    MYSQL_RES *r = mysql_store_result(db);
    MYSQL_ROW row = mysql_fetch_row(r);
    assert_string_equal(row[0], "1");
    assert_string_equal(row[1], "ROW");
    assert_string_equal(row[2], "FULL");
    assert_string_equal(row[3], "FULL");
    mysql_free_result(r);
    /* The kind asked for ("mysql-9.7": VERSION() 9.7.x, no "MariaDB"),
     * and the statement that says where its binlog ends works on it. */
    const char *want = strchr(m->kind, '-') + 1;
    assert_memory_equal(m->version, want, strlen(want));
    assert_int_equal(m->version[strlen(want)], '.');
    assert_int_equal(strstr(m->version, "MariaDB") != NULL, !m->mysql);
    assert_int_equal(mysql_query(db, th_mariadb_binlog_status_sql(m)), 0);
    r = mysql_store_result(db);
    row = r ? mysql_fetch_row(r) : NULL;
    assert_non_null(row);
    assert_memory_equal(row[0], "bin.", 4);
    mysql_free_result(r);
    mysql_close(db);
}

static void check_redis(struct th_redis *rs)
{
    redisContext *c = redisConnect("127.0.0.1", rs->port);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    redisReply *rep = redisCommand(c, "PING");
    assert_non_null(rep);
    assert_string_equal(rep->str, "PONG");
    freeReplyObject(rep);
    redisFree(c);
}

static void check_kafka(struct th_kafka *k, int brokers)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", k->bootstrap,
                                       err, sizeof err), RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(rk);
    const struct rd_kafka_metadata *md = NULL;
    assert_int_equal(rd_kafka_metadata(rk, 1, NULL, &md, 10000), 0);
    assert_int_equal(md->broker_cnt, brokers);
    int found = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        found |= !strcmp(md->topics[i].topic, "harness.topic") &&
                 md->topics[i].partition_cnt == 3;
    assert_true(found);
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    assert_int_equal(th_kafka_cmd(k, "down 1"), 0);
    assert_int_equal(th_kafka_cmd(k, "up 1"), 0);
    assert_int_equal(th_kafka_cmd(k, "bogus"), -1);
}

static void test_start_answer_stop(void **state)
{
    (void)state;
    static const char *const topics[] = {"harness.topic:3", NULL};
    struct th_mariadb m;
    struct th_redis r;
    struct th_kafka k;
    th_assert_started(th_mariadb_start(&m, NULL));
    assert_int_equal(th_redis_start(&r), 0);
    assert_int_equal(th_kafka_start(&k, 2, topics), 0);
    check_mariadb(&m);
    check_redis(&r);
    check_kafka(&k, 2);

    pid_t pids[3] = {m.proc.pid, r.proc.pid, k.proc.pid};
    char dirs[3][256];
    /* as the server sees it: in a root, its command line says /tmp/... */
    snprintf(dirs[0], sizeof dirs[0], "%s", m.dir + strlen(m.root));
    snprintf(dirs[1], sizeof dirs[1], "%s", r.dir);
    snprintf(dirs[2], sizeof dirs[2], "%s", k.dir);
    assert_int_equal(th_mariadb_restart(&m), 0); /* same data, same port */
    check_mariadb(&m);
    pids[0] = m.proc.pid;
    assert_int_equal(th_mariadb_stop(&m), 0);
    assert_int_equal(th_redis_stop(&r), 0);
    assert_int_equal(th_kafka_stop(&k), 0);
    struct stat st;
    for (int i = 0; i < 3; i++) {
        assert_true(gone(pids[i]));
        assert_true(no_process_matches(dirs[i]));
        assert_int_equal(stat(dirs[i], &st), -1);
    }
}

/* The test process dies by SIGKILL: its servers must die with it. */
static void test_sigkilled_test_leaves_nothing(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct th_redis r;
        struct th_kafka k;
        close(fds[0]);
        if (th_redis_start(&r) < 0 || th_kafka_start(&k, 1, NULL) < 0)
            _exit(1);
        pid_t pids[2] = {r.proc.pid, k.proc.pid};
        if (write(fds[1], pids, sizeof pids) != sizeof pids)
            _exit(1);
        pause();
        _exit(0);
    }
    close(fds[1]);
    pid_t pids[2];
    assert_int_equal(read(fds[0], pids, sizeof pids), (ssize_t)sizeof pids);
    close(fds[0]);
    assert_false(gone(pids[0]));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_true(wait_gone(pids[0], 5000));
    assert_true(wait_gone(pids[1], 5000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_answer_stop),
        cmocka_unit_test(test_sigkilled_test_leaves_nothing),
    };
    return th_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
