/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/integration/relay_env.h"

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The dead-letter topic last: read only when dead letters are expected. */
static const char *const TOPICS[] = {"outbox.event.queue", "outbox.event.order",
                                     "outbox.event.user", "outbox.dlq"};

/* The mock keeps about 5 MB per partition and drops older records: the
 * load is spread over enough partitions that nothing is dropped. The
 * checkpoint topic is made as an operator would make it: the mock does
 * not implement CreateTopics, which the relay sends only when the topic
 * is missing. */
static const char *const PARTITIONS[] = {
    "outbox.event.queue:16", "outbox.event.order:16", "outbox.event.user:16",
    "outbox.dlq:4", "outbox-relay.checkpoints:1", NULL};

static int write_config(struct relay_env *e)
{
    char file_store[512];
    snprintf(file_store, sizeof file_store,
             "checkpoint:\n  store: file\n  path: %s\n  interval: 100ms\n",
             e->checkpoint);
    FILE *fp = fopen(e->config, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "name: test-relay\n"
            "source:\n  host: 127.0.0.1\n  port: %d\n  user: %s\n%s"
            "  server_id: 77\n  start: \"%s\"\n"
            "  reconnect:\n    initial: 100ms\n    max: 1s\n"
            "outbox:\n  - table: shop.outbox\n  - table: shop.outbox2\n"
            "kafka:\n  brokers: \"%s\"\n  buffer_memory: 16MiB\n"
            "  properties:\n    message.max.bytes: \"8000000\"\n%s"
            "delivery:\n  mode: %s\n%s%s"
            "metrics:\n  listen: 127.0.0.1:%d\n",
            e->db.port, e->source_user ? e->source_user : "root",
            e->source_extra ? e->source_extra : "",
            e->start ? e->start : "latest", e->kafka.bootstrap,
            e->kafka_properties ? e->kafka_properties : "", e->delivery,
            e->delivery_extra ? e->delivery_extra : "",
            e->checkpoint_yaml ? e->checkpoint_yaml : file_store,
            e->metrics_port);
    return fclose(fp);
}

int relay_env_start(struct relay_env *e, const char *delivery,
                    const char *const *mariadb_extra)
{
    memset(e, 0, sizeof *e);
    e->delivery = delivery;
    if (th_tempdir("relay-env", e->dir, sizeof e->dir) < 0)
        return -1;
    int rc = th_mariadb_start(&e->db, mariadb_extra);
    if (rc != 0)
        return rc; /* TH_SKIP: the server kind cannot be had here */
    if (th_kafka_start(&e->kafka, 1, PARTITIONS) < 0)
        return -1;
    snprintf(e->config, sizeof e->config, "%s/relay.yaml", e->dir);
    snprintf(e->checkpoint, sizeof e->checkpoint, "%s/relay.checkpoint", e->dir);
    snprintf(e->expect, sizeof e->expect, "%s/expect.tsv", e->dir);
    snprintf(e->dump, sizeof e->dump, "%s/dump.bin", e->dir);
    e->metrics_port = th_free_port();
    if (write_config(e) < 0)
        return -1;
    return relay_env_load(e, 0, 1, 0, 0); /* the schema */
}

int relay_env_configure(struct relay_env *e, const char *kafka_properties,
                        const char *checkpoint_yaml)
{
    e->kafka_properties = kafka_properties;
    e->checkpoint_yaml = checkpoint_yaml;
    return write_config(e);
}

void relay_env_stop(struct relay_env *e)
{
    if (e->relay.pid > 0)
        th_stop(&e->relay, 10000, NULL);
    th_kafka_stop(&e->kafka);
    th_mariadb_stop(&e->db);
}

int relay_env_health(struct relay_env *e)
{
    return th_http_get(e->metrics_port, "/healthz", NULL, 0);
}

int relay_env_spawn_relay(struct relay_env *e)
{
    char bin[512];
    char *argv[] = {(char *)th_build_path("relay/outbox-relay", bin, sizeof bin),
                    "-c", e->config, NULL};
    return th_spawn(&e->relay, "relay", e->dir, argv);
}

int relay_env_run_relay(struct relay_env *e)
{
    if (relay_env_spawn_relay(e) < 0)
        return -1;
    for (int i = 0; i < 300; i++) {
        if (relay_env_health(e) == 200)
            return 0;
        if (!th_alive(&e->relay))
            break;
        usleep(100000);
    }
    fprintf(stderr, "relay did not start streaming\n");
    th_dump_log(&e->relay, 20);
    return -1;
}

#define LOAD_ARGS 8
#define LOAD_ARGV 25

static void load_argv(struct relay_env *e, char *bin, size_t binlen,
                      char strs[LOAD_ARGS][32], long events, long seed,
                      long big, long id_base, char **argv)
{
    snprintf(strs[0], 32, "%d", e->db.port);
    snprintf(strs[1], 32, "%ld", events);
    snprintf(strs[2], 32, "%ld", seed);
    snprintf(strs[3], 32, "%ld", big);
    snprintf(strs[4], 32, "%ld", id_base);
    snprintf(strs[5], 32, "%ld", e->load_tables ? e->load_tables : 2);
    snprintf(strs[6], 32, "%ld", e->load_dlq_every);
    snprintf(strs[7], 32, "%d", e->load_failover_port);
    char *v[] = {(char *)th_build_path("tests/outbox-load", bin, binlen),
                 "--port", strs[0], "--events", strs[1], "--seed", strs[2],
                 "--big", strs[3], "--id-base", strs[4], "--tables", strs[5],
                 "--dlq-every", strs[6], "--expect", e->expect};
    size_t n = sizeof v / sizeof v[0];
    memcpy(argv, v, sizeof v);
    if (e->load_failover_port) {
        argv[n++] = "--port";
        argv[n++] = strs[7];
    }
    if (e->load_shard_keys)
        argv[n++] = "--shard-keys";
    if (e->load_init_sql) {
        argv[n++] = "--init-sql";
        argv[n++] = (char *)e->load_init_sql;
    }
    argv[n] = NULL;
}

int relay_env_load_start(struct relay_env *e, struct th_proc *p, long events,
                         long seed, long big, long id_base)
{
    char bin[512], strs[LOAD_ARGS][32], *argv[LOAD_ARGV];
    load_argv(e, bin, sizeof bin, strs, events, seed, big, id_base, argv);
    return th_spawn(p, "load", e->dir, argv);
}

int relay_env_load_wait(struct th_proc *p, int timeout_ms)
{
    int rc = th_wait(p, timeout_ms);
    if (rc != 0)
        th_dump_log(p, 10);
    return rc == 0 ? 0 : -1;
}

long relay_env_relay_rss(struct relay_env *e)
{
    return th_proc_rss(e->relay.pid);
}

int relay_env_load(struct relay_env *e, long events, long seed, long big,
                   long id_base)
{
    char bin[512], strs[LOAD_ARGS][32], *argv[LOAD_ARGV];
    load_argv(e, bin, sizeof bin, strs, events, seed, big, id_base, argv);
    return th_run("load", e->dir, argv, 600000) == 0 ? 0 : -1;
}

int relay_env_load_unexpected(struct relay_env *e, long events, long seed,
                              long id_base)
{
    char expect[sizeof e->expect];
    snprintf(expect, sizeof expect, "%s", e->expect);
    snprintf(e->expect, sizeof e->expect, "%s/before.tsv", e->dir);
    int rc = relay_env_load(e, events, seed, 0, id_base);
    snprintf(e->expect, sizeof e->expect, "%s", expect);
    return rc;
}

int relay_env_binlog_end(struct relay_env *e, char *file, size_t len,
                         unsigned long long *pos)
{
    MYSQL *db = th_mariadb_connect(&e->db);
    const char *sql = th_mariadb_binlog_status_sql(&e->db);
    if (!db || mysql_query(db, sql)) {
        if (db) {
            fprintf(stderr, "%s: %s\n", sql, mysql_error(db));
            mysql_close(db);
        }
        return -1;
    }
    MYSQL_RES *r = mysql_store_result(db);
    MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
    int rc = row ? 0 : -1;
    if (row) {
        snprintf(file, len, "%s", row[0]);
        *pos = strtoull(row[1], NULL, 10);
    }
    if (r)
        mysql_free_result(r);
    mysql_close(db);
    return rc;
}

int relay_env_purge_to(struct relay_env *e, const char *file)
{
    char sql[400], oldest[256] = "";
    snprintf(sql, sizeof sql, "PURGE BINARY LOGS TO '%s'", file);
    for (int waited = 0; waited < 60000; waited += 500) {
        if (th_mariadb_exec(&e->db, sql) < 0 ||
            relay_env_query(e, "SHOW BINARY LOGS", oldest, sizeof oldest) < 0)
            return -1;
        if (!strcmp(oldest, file))
            return 0;
        usleep(500000);
    }
    fprintf(stderr, "binlogs before %s not purged: %s is still there\n", file,
            oldest);
    return -1;
}

int relay_env_wait_caught_up(struct relay_env *e, int timeout_ms)
{
    return relay_env_wait_checkpoint(e, e->checkpoint, timeout_ms);
}

int relay_env_wait_checkpoint(struct relay_env *e, const char *path,
                              int timeout_ms)
{
    char want_file[256], file[256] = "";
    unsigned long long want, pos = 0;
    if (relay_env_binlog_end(e, want_file, sizeof want_file, &want) < 0)
        return -1;
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        FILE *fp = fopen(path, "r");
        if (fp) {
            if (fscanf(fp, "v1 file=%255s pos=%llu", file, &pos) != 2)
                pos = 0;
            fclose(fp);
        }
        if (!strcmp(file, want_file) && pos >= want)
            return 0;
        usleep(100000);
    }
    fprintf(stderr, "relay checkpoint %s:%llu, binlog ends at %s:%llu\n", file,
            pos, want_file, want);
    return -1;
}

int relay_env_query(struct relay_env *e, const char *sql, char *buf,
                    size_t len)
{
    MYSQL *db = th_mariadb_connect(&e->db);
    MYSQL_RES *r = NULL;
    MYSQL_ROW row;
    int rc = -1;
    buf[0] = '\0';
    if (db && mysql_query(db, sql) == 0 && (r = mysql_store_result(db))) {
        rc = 0;
        if ((row = mysql_fetch_row(r)) && row[0]) {
            size_t n = 0;
            for (const char *c = row[0]; *c && n + 1 < len; c++)
                if (*c != '\n')
                    buf[n++] = *c;
            buf[n] = '\0';
        }
    } else if (db) {
        fprintf(stderr, "%s: %s\n", sql, mysql_error(db));
    }
    if (r)
        mysql_free_result(r);
    if (db)
        mysql_close(db);
    return rc;
}

int relay_env_checkpoint_gtid(struct relay_env *e, char *buf, size_t len)
{
    char line[16384];
    FILE *fp = fopen(e->checkpoint, "r");
    const char *g = NULL;
    buf[0] = '\0';
    if (fp && fgets(line, sizeof line, fp) && (g = strstr(line, " gtid=")))
        snprintf(buf, len, "%.*s", (int)strcspn(g + 6, " \n"), g + 6);
    if (fp)
        fclose(fp);
    return g ? 0 : -1;
}

int relay_env_server_gtid(struct relay_env *e, char *buf, size_t len)
{
    return relay_env_query(e, e->db.mysql ? "SELECT @@GLOBAL.gtid_executed"
                                          : "SELECT @@GLOBAL.gtid_binlog_pos",
                           buf, len);
}

int relay_env_checkpoint_has_server_gtid(struct relay_env *e)
{
    static char ck[8192], sv[8192], sql[2 * sizeof ck + 2 * sizeof sv + 64];
    char same[8];
    if (relay_env_checkpoint_gtid(e, ck, sizeof ck) < 0 ||
        relay_env_server_gtid(e, sv, sizeof sv) < 0)
        return -1;
    if (!e->db.mysql) {
        snprintf(same, sizeof same, "%d", strcmp(ck, sv) == 0);
    } else {
        snprintf(sql, sizeof sql, "SELECT GTID_SUBSET('%s','%s') AND "
                 "GTID_SUBSET('%s','%s')", ck, sv, sv, ck);
        if (relay_env_query(e, sql, same, sizeof same) < 0)
            return -1;
    }
    fprintf(stderr, "checkpoint gtid=%s; server %s%s\n", ck, sv,
            strcmp(same, "1") ? ": DIFFERENT" : "");
    return strcmp(same, "1") == 0;
}

int relay_env_kcat(struct relay_env *e, const char *topic, const char *fmt,
                   const char *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "kcat -C -q -b '%s' -t %s -o beginning -e "
             "-f '%s' >> '%s'", e->kafka.bootstrap, topic, fmt, out);
    char *argv[] = {"sh", "-c", cmd, NULL};
    return th_run("kcat", e->dir, argv, 120000) == 0 ? 0 : -1;
}

int relay_env_verify(struct relay_env *e, int exactly_once)
{
    char bin[512];
    unlink(e->dump);
    size_t ntopics = sizeof TOPICS / sizeof TOPICS[0] - !e->verify_dlq;
    for (size_t i = 0; i < ntopics; i++)
        if (relay_env_kcat(e, TOPICS[i], "%t %p %o %K %S %h\\n%k%s\\n",
                           e->dump) < 0)
            return -1;
    char *argv[] = {(char *)th_build_path("tests/outbox-verify", bin, sizeof bin),
                    "--expect", e->expect, "--dump", e->dump,
                    exactly_once ? "--exactly-once" : NULL, NULL};
    int rc = th_run("verify", e->dir, argv, 120000);
    char log[600];
    snprintf(log, sizeof log, "tail -n 3 '%s/verify.log' >&2", e->dir);
    if (system(log) != 0)
        fprintf(stderr, "(no verify log)\n");
    return rc;
}
