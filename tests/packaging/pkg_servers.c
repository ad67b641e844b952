/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pkg-servers: the servers the installed daemons talk to in
 * test_systemd.sh, started with the harness (tests/harness/th.h).
 *
 *   pkg-servers ENVFILE SCHEMA_SQL
 *
 * starts MariaDB (th_server_kind(): the relay's binlog settings), creates
 * the database `shop` with SCHEMA_SQL's outbox table in it, Redis and
 * kafka-mock (topics outbox.event.queue and outbox.dlq, one partition
 * each, so that consumers see one ordered stream), all on the host's
 * 127.0.0.1; a container booted by systemd-nspawn without a network of
 * its own reaches them there. Then writes ENVFILE (shell assignments:
 * DB_PORT, REDIS_PORT, KAFKA, and free ports for the daemons:
 * RELAY_METRICS_PORT, SSE_HTTP_PORT, SSE_METRICS_PORT) and waits for
 * SIGTERM, on which the
 * harness stops every server and removes their directories.
 *
 * Exit status: 77 when the database server cannot be had here (with the
 * reason), 1 when a server does not start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness/th.h"

/* SCHEMA_SQL without its comment lines: th_mariadb_exec splits on ';'. */
static char *read_sql(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[1024];
    size_t len = 0, cap = 1 << 16;
    char *sql = malloc(cap);
    if (!fp || !sql) {
        perror(path);
        free(sql);
        if (fp)
            fclose(fp);
        return NULL;
    }
    sql[0] = '\0';
    while (fgets(line, sizeof line, fp)) {
        size_t n = strlen(line);
        if (!strncmp(line, "--", 2) || len + n + 1 > cap)
            continue;
        memcpy(sql + len, line, n + 1);
        len += n;
    }
    fclose(fp);
    return sql;
}

int main(int argc, char **argv)
{
    static const char *const topics[] = {"outbox.event.queue:1",
                                         "outbox.dlq:1", NULL};
    struct th_mariadb db;
    struct th_redis redis;
    struct th_kafka kafka;
    if (argc != 3) {
        fprintf(stderr, "usage: pkg-servers ENVFILE SCHEMA_SQL\n");
        return 2;
    }
    char *schema = read_sql(argv[2]);
    if (!schema)
        return 1;
    int rc = th_mariadb_start(&db, NULL);
    if (rc == TH_SKIP)
        return TH_SKIP;
    if (rc != 0)
        return 1;
    /* One connection runs them all: the table lands in `shop`. */
    char sql[1 << 16];
    snprintf(sql, sizeof sql, "CREATE DATABASE shop; USE shop; %s", schema);
    free(schema);
    if (th_mariadb_exec(&db, sql) != 0 || th_redis_start(&redis) != 0 ||
        th_kafka_start(&kafka, 1, topics) != 0)
        return 1;

    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *fp = fopen(tmp, "w");
    /* Free ports for the daemons in the container too, from the same
     * allocator, so that they do not collide with the servers'. */
    if (!fp || fprintf(fp, "DB_PORT=%d\nREDIS_PORT=%d\nKAFKA=%s\n"
                       "RELAY_METRICS_PORT=%d\nSSE_HTTP_PORT=%d\n"
                       "SSE_METRICS_PORT=%d\n", db.port, redis.port,
                       kafka.bootstrap, th_free_port(), th_free_port(),
                       th_free_port()) < 0 ||
        fclose(fp) != 0 || rename(tmp, argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    fprintf(stderr, "pkg-servers: %s on 127.0.0.1:%d, Redis on :%d, Kafka "
            "%s\n", db.version, db.port, redis.port, kafka.bootstrap);
    for (;;)
        pause(); /* SIGTERM: the harness stops the servers and exits */
}
