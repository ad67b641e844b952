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

#include "common/textfile.h"
#include "tests/harness/th.h"

/* "CREATE DATABASE shop; USE shop;" and SCHEMA_SQL without its comment
 * lines (th_mariadb_exec splits on ';', and a ';' in a comment would cut
 * a statement), to free(); NULL, said, when the file cannot be read. */
static char *schema_script(const char *path)
{
    static const char head[] = "CREATE DATABASE shop; USE shop;\n";
    char *text = textfile_read(path);
    char *sql = text ? malloc(sizeof head + strlen(text)) : NULL;
    if (!sql) {
        perror(path);
        free(text);
        return NULL;
    }
    char *out = stpcpy(sql, head);
    for (char *line = text, *next; *line; line = next) {
        next = line + strcspn(line, "\n");
        next += *next == '\n';
        if (strncmp(line, "--", 2) != 0) {
            memcpy(out, line, (size_t)(next - line));
            out += next - line;
        }
    }
    *out = '\0';
    free(text);
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
    char *sql = schema_script(argv[2]);
    if (!sql)
        return 1;
    int rc = th_mariadb_start(&db, NULL);
    if (rc == TH_SKIP)
        return TH_SKIP;
    if (rc != 0)
        return 1;
    /* One connection runs them all: the table lands in `shop`. */
    rc = th_mariadb_exec(&db, sql);
    free(sql);
    if (rc != 0 || th_redis_start(&redis) != 0 ||
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
