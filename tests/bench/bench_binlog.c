/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The binlog reader of the latency phase: the relay's own source module
 * (relay/source.c: replica connection, COM_BINLOG_DUMP, raw events) with
 * nothing behind it but a search for the event's seq. Commit -> read here
 * is what MariaDB and the replication protocol cost; the relay's line
 * minus this one is what decoding, Kafka and the consumer add.
 */
#include "tests/bench/bench_binlog.h"

#include <stdlib.h>
#include <string.h>

static void note(struct bench_binlog *b, const uint8_t *ev, size_t len)
{
    static const char key[] = "{\"seq\":";
    const uint8_t *p = ev, *end = ev + len;
    /* a rows event may hold several rows; each payload starts {"seq": */
    while ((p = memmem(p, (size_t)(end - p), key, sizeof key - 1))) {
        int64_t t = bench_now_ns();
        long seq = bench_payload_seq(p, (size_t)(end - p));
        atomic_fetch_add(&b->received, 1);
        if (seq >= b->first && seq < b->first + b->n && !b->seen[seq - b->first])
            b->seen[seq - b->first] = t;
        p += sizeof key - 1;
    }
}

static void *read_thread(void *arg)
{
    struct bench_binlog *b = arg;
    const uint8_t *ev;
    size_t len;
    while (!atomic_load(&b->stop) && source_read(&b->src, &ev, &len) == 1)
        note(b, ev, len);
    return NULL;
}

int bench_binlog_start(struct bench_binlog *b, const struct th_mariadb *db,
                       const char *file, unsigned long long pos, long first,
                       long n)
{
    memset(b, 0, sizeof *b);
    b->cfg = (struct relay_source_cfg){
        .host = "127.0.0.1", .port = db->port, .user = "root",
        .server_id = 4299, .flavor = RELAY_FLAVOR_AUTO,
        .ssl_mode = RELAY_SSL_DISABLED, .connect_timeout_ms = 10000,
        .read_timeout_ms = 60000, .heartbeat_ms = 1000};
    b->first = first;
    b->n = n;
    if (!(b->seen = calloc((size_t)n, sizeof *b->seen)))
        return -1;
    struct relay_position from;
    pos_init(&from);
    pos_set_file(&from, file, pos);
    source_init(&b->src, &b->cfg, NULL);
    int rc = source_connect(&b->src) < 0 ||
                     source_start_dump(&b->src, &from) < 0
                 ? -1 : 0;
    pos_free(&from);
    if (rc == 0 && pthread_create(&b->thread, NULL, read_thread, b) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "bench: binlog reader: %s\n", b->src.err);
    b->started = rc == 0;
    return rc;
}

void bench_binlog_stop(struct bench_binlog *b)
{
    atomic_store(&b->stop, 1);
    source_interrupt(&b->src);
    if (b->started)
        pthread_join(b->thread, NULL);
    source_close(&b->src);
    source_fini(&b->src);
}

void bench_binlog_free(struct bench_binlog *b)
{
    free(b->seen);
    b->seen = NULL;
}
