/* SPDX-License-Identifier: Apache-2.0 */
/* Where the relay resumes on the server it connected to: the same one,
 * a promoted replica (by GTID), or one that is refused (resume.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/position.h"
#include "relay/resume.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "4e11fa47-71ca-11e1-9e33-c80aa9429562"

static char why[2048];

/* A checkpoint's position in its text form (position.h). */
static enum resume_how plan(const char *ckpt, const char *server,
                            const char *history)
{
    struct relay_position p;
    char err[256];
    pos_init(&p);
    if (pos_parse(&p, ckpt, err, sizeof err) != 0)
        fail_msg("%s: %s", ckpt, err);
    why[0] = '\0';
    enum resume_how how = resume_plan(&p, server, "db:3306", history, NULL,
                                      why, sizeof why);
    pos_free(&p);
    return how;
}

/* The same, on a server without GTIDs whose SHOW BINARY LOGS is `logs`,
 * "name:size" oldest first, comma-separated. */
static enum resume_how plan_files(const char *ckpt, const char *logs)
{
    struct resume_binlog v[8];
    struct resume_binlogs list = {v, 0};
    char copy[256];
    snprintf(copy, sizeof copy, "%s", logs);
    for (char *save, *t = strtok_r(copy, ",", &save); t && list.n < 8;
         t = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(t, ':');
        snprintf(v[list.n].name, sizeof v[list.n].name, "%.*s",
                 (int)(colon - t), t);
        v[list.n++].size = strtoull(colon + 1, NULL, 10);
    }
    struct relay_position p;
    char err[256];
    pos_init(&p);
    if (pos_parse(&p, ckpt, err, sizeof err) != 0)
        fail_msg("%s: %s", ckpt, err);
    why[0] = '\0';
    enum resume_how how = resume_plan(&p, U1, "db:3306", "", &list, why,
                                      sizeof why);
    pos_free(&p);
    return how;
}

static void test_same_server(void **state)
{
    (void)state;
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid=0-1-500 server=1",
                          "1", "0-1-510"), RESUME_AS_IS);
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid= server=" U1, U1,
                          ""), RESUME_AS_IS); /* MySQL without GTIDs */
    /* a checkpoint of an older version names no server: as before */
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid=", "2", ""),
                     RESUME_AS_IS);
}

static void test_promoted_replica(void **state)
{
    (void)state;
    /* MariaDB: the replica logged the primary's transactions
     * (log_slave_updates) and has written its own since */
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid=0-1-500 server=1",
                          "2", "0-1-500,0-2-530"), RESUME_BY_GTID);
    assert_non_null(strstr(why, "resuming after GTID 0-1-500"));
    /* MySQL: gtid_executed holds the checkpoint's set */
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid=" U1 ":1-500 "
                          "server=" U1, U2, U1 ":1-500,\n" U2 ":1-30"),
                     RESUME_BY_GTID);
}

static void test_refused(void **state)
{
    (void)state;
    /* no GTIDs: file and offset of another server mean nothing */
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid= server=" U1, U2,
                          U2 ":1-30"), RESUME_REFUSE);
    assert_non_null(strstr(why, "no GTID position"));
    /* a foreign server: an unrelated history */
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid=0-1-500 server=1",
                          "3", "0-3-12"), RESUME_REFUSE);
    assert_non_null(strstr(why, "refusing db:3306 (server 3)"));
    assert_non_null(strstr(why, "does not hold the checkpoint's GTID "
                                "position (0-1-500)"));
    /* a replica that never got the last transaction the relay delivered */
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid=" U1 ":1-501 "
                          "server=" U1, U2, U1 ":1-500"), RESUME_REFUSE);
    /* the same server after RESET MASTER */
    assert_int_equal(plan("v1 file=bin.000003 pos=900 gtid=" U1 ":1-501 "
                          "server=" U1, U1, ""), RESUME_REFUSE);
    assert_non_null(strstr(why, "(empty)"));
    /* a history the relay cannot read */
    assert_int_equal(plan("v1 file=b.1 pos=4 gtid=0-1-5 server=1", "2", "?"),
                     RESUME_REFUSE);
}

/* MySQL with gtid_mode=OFF, the same server: the checkpoint's file and
 * offset against its binlog list. */
static void test_no_gtids_binlog_list(void **state)
{
    (void)state;
    const char *ck = "v1 file=bin.000003 pos=900 gtid= server=" U1;
    /* still there, the offset within it (or at its end) */
    assert_int_equal(plan_files(ck, "bin.000002:5000,bin.000003:900"),
                     RESUME_AS_IS);
    assert_int_equal(plan_files(ck, "bin.000003:1200,bin.000004:300"),
                     RESUME_AS_IS);
    /* the numbers compare as numbers, not as text */
    assert_int_equal(plan_files("v1 file=bin.999999 pos=900 gtid= server=" U1,
                                "bin.999999:900,bin.1000000:4"),
                     RESUME_AS_IS);
    /* purged: sorts before the oldest binlog; events lost, refused */
    assert_int_equal(plan_files(ck, "bin.000004:800,bin.000005:300"),
                     RESUME_REFUSE);
    assert_non_null(strstr(why, "bin.000003 (offset 900) is purged on "
                                "db:3306, whose oldest binlog is bin.000004"));
    assert_non_null(strstr(why, "The binlog the relay needs is gone"));
    /* RESET MASTER: the new history has fewer files... */
    assert_int_equal(plan_files(ck, "bin.000001:2300"), RESUME_FROM_START);
    assert_non_null(strstr(why, "the binlog history of db:3306 was reset "
                                "(RESET MASTER?)"));
    assert_non_null(strstr(why, "streaming from the start of the new "
                                "history, at-least-once for it"));
    /* ...or the file again, shorter than the checkpoint's offset */
    assert_int_equal(plan_files(ck, "bin.000001:400,bin.000002:400,"
                                    "bin.000003:500"),
                     RESUME_FROM_START);
    /* a gap in the middle of the list: nothing to explain it, refused */
    assert_int_equal(plan_files(ck, "bin.000002:400,bin.000004:500"),
                     RESUME_REFUSE);
    /* with GTIDs the list is not asked for (GTID history decides) */
    assert_int_equal(plan_files("v1 file=bin.000003 pos=900 gtid=" U1 ":1-5 "
                                "server=" U1, "bin.000001:100"),
                     RESUME_REFUSE);
    assert_non_null(strstr(why, "does not hold"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_server),
        cmocka_unit_test(test_promoted_replica),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_no_gtids_binlog_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
