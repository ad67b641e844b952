/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets never show: the database password, the HMAC secret and a Kafka
 * SASL password, given through ${ENV}, *_file and plain properties, must
 * not appear in --check-config output, in configuration errors, in the
 * daemons' logs (also when the password is refused), or in /metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness/th.h"

#define DB_PW "db-pw-7c1f9e2a"
#define SASL_PW "sasl-pw-3b8d0e55"
#define HMAC "hmac-secret-99a4c6d1e0"

static const char *const SECRETS[] = {DB_PW, SASL_PW, HMAC};

/* The file's content, or "" (freed by the next call). */
static const char *slurp(const char *path)
{
    static char *text;
    size_t len = 0;
    free(text);
    text = NULL;
    FILE *fp = fopen(path, "rb"), *mem = open_memstream(&text, &len);
    char buf[4096];
    size_t n;
    while (fp && mem && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        fwrite(buf, 1, n, mem);
    if (fp)
        fclose(fp);
    if (mem)
        fclose(mem);
    return text ? text : "";
}

static void no_secret_in(const char *what, const char *text)
{
    for (size_t i = 0; i < sizeof SECRETS / sizeof SECRETS[0]; i++)
        if (strstr(text, SECRETS[i])) {
            fprintf(stderr, "%s holds a secret:\n%s\n", what, text);
            fail();
        }
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Runs the daemon with args; its output goes to DIR/NAME.log. */
static int run_daemon(const char *dir, const char *name, const char *bin_rel,
                      const char *cfg, const char *arg)
{
    char bin[512];
    char *argv[] = {(char *)th_build_path(bin_rel, bin, sizeof bin), "-c",
                    (char *)cfg, (char *)arg, NULL};
    return th_run(name, dir, argv, 20000);
}

static void test_secrets_stay_secret(void **state)
{
    (void)state;
    struct th_mariadb db;
    struct th_kafka kafka;
    struct th_proc relay, sse;
    char dir[256], rcfg[320], scfg[320], hfile[320], log[400], body[1 << 16];
    static const char *const topics[] = {"outbox.event.queue:1", NULL};
    assert_int_equal(th_tempdir("secrets", dir, sizeof dir), 0);
    assert_int_equal(th_mariadb_start(&db, NULL), 0);
    assert_int_equal(th_kafka_start(&kafka, 1, topics), 0);
    assert_int_equal(th_mariadb_exec(&db,
        "CREATE DATABASE shop; CREATE TABLE shop.outbox (id CHAR(36) PRIMARY KEY,"
        " aggregatetype VARCHAR(255), aggregateid VARCHAR(255), type VARCHAR(255),"
        " payload LONGTEXT);"
        "CREATE USER relay@'%' IDENTIFIED BY '" DB_PW "';"
        "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO relay@'%'"), 0);
    setenv("TEST_DB_PASSWORD", DB_PW, 1);
    snprintf(hfile, sizeof hfile, "%s/hmac.secret", dir);
    write_file(hfile, HMAC "\n");
    int relay_port = th_free_port(), sse_port = th_free_port();
    snprintf(rcfg, sizeof rcfg, "%s/relay.yaml", dir);
    snprintf(scfg, sizeof scfg, "%s/sse.yaml", dir);
    char text[2048];
    snprintf(text, sizeof text,
             "source:\n  host: 127.0.0.1\n  port: %d\n  user: relay\n"
             "  password: ${TEST_DB_PASSWORD}\n  server_id: 99\n"
             "outbox:\n  - table: shop.outbox\n"
             "kafka:\n  brokers: \"%s\"\n  properties:\n"
             "    sasl.password: " SASL_PW "\n"
             "checkpoint:\n  store: file\n  path: %s/ckpt\n"
             "metrics:\n  listen: 127.0.0.1:%d\n",
             db.port, kafka.bootstrap, dir, relay_port);
    write_file(rcfg, text);
    snprintf(text, sizeof text,
             "kafka:\n  brokers: \"%s\"\n  properties:\n    sasl.password: " SASL_PW "\n"
             "redis:\n  port: 1\n"
             "http:\n  listen: 127.0.0.1:0\n"
             "auth:\n  secret_file: %s\n"
             "metrics:\n  listen: 127.0.0.1:%d\n", kafka.bootstrap, hfile, sse_port);
    write_file(scfg, text);

    /* --check-config prints everything, secrets as *** */
    assert_int_equal(run_daemon(dir, "relay-check", "relay/outbox-relay", rcfg,
                                "--check-config"), 0);
    snprintf(log, sizeof log, "%s/relay-check.log", dir);
    assert_non_null(strstr(slurp(log), "\"***\""));
    no_secret_in("relay --check-config", slurp(log));
    assert_int_equal(run_daemon(dir, "sse-check", "sse/outbox-sse", scfg,
                                "--check-config"), 0);
    snprintf(log, sizeof log, "%s/sse-check.log", dir);
    no_secret_in("sse --check-config", slurp(log));

    /* Running: logs and /metrics, with the SASL password handed to
     * librdkafka (which keeps it unused: the mock speaks plaintext, and
     * security.protocol is left so). */
    char bin[512];
    char *rargv[] = {(char *)th_build_path("relay/outbox-relay", bin, sizeof bin),
                     "-c", rcfg, NULL};
    assert_int_equal(th_spawn(&relay, "relay", dir, rargv), 0);
    int healthy = 0;
    for (int i = 0; i < 200 && !healthy; i++) {
        healthy = th_http_get(relay_port, "/healthz", body, sizeof body) == 200;
        usleep(50000);
    }
    assert_true(healthy); /* the password worked */
    assert_int_equal(th_http_get(relay_port, "/metrics", body, sizeof body), 200);
    no_secret_in("relay /metrics", body);
    char bin2[512];
    char *sargv[] = {(char *)th_build_path("sse/outbox-sse", bin2, sizeof bin2),
                     "-c", scfg, NULL};
    assert_int_equal(th_spawn(&sse, "sse", dir, sargv), 0);
    usleep(500000);
    assert_int_equal(th_http_get(sse_port, "/metrics", body, sizeof body), 200);
    no_secret_in("sse /metrics", body);

    /* A refused password: the relay says so without saying it. */
    assert_int_equal(th_mariadb_exec(&db, "ALTER USER relay@'%' IDENTIFIED BY 'other';"
                                          "FLUSH PRIVILEGES"), 0);
    assert_int_equal(th_mariadb_restart(&db), 0); /* drops the session */
    int refused = 0;
    for (int i = 0; i < 100 && !refused; i++) {
        refused = th_log_contains(&relay, "Access denied");
        usleep(100000);
    }
    assert_true(refused);
    th_stop(&relay, 10000, NULL);
    th_stop(&sse, 10000, NULL);
    no_secret_in("relay log", slurp(relay.log));
    no_secret_in("sse log", slurp(sse.log));

    /* Errors about secret keys do not quote them. */
    snprintf(text, sizeof text, "source:\n  host: h\n  password: [" DB_PW "]\n");
    write_file(rcfg, text);
    assert_int_equal(run_daemon(dir, "relay-bad", "relay/outbox-relay", rcfg,
                                "--check-config"), 2);
    snprintf(log, sizeof log, "%s/relay-bad.log", dir);
    assert_non_null(strstr(slurp(log), "relay.yaml:3:"));
    no_secret_in("a configuration error", slurp(log));
    th_kafka_stop(&kafka);
    th_mariadb_stop(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secrets_stay_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
