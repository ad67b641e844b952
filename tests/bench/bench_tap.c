/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-bench-tap: an LD_PRELOAD library for the latency benchmark's
 * --split option. It is loaded into outbox-relay (never into anything
 * else) and notes, per benchmark event, when the relay
 *
 *   read   had the binlog packet holding the event (mysql_net_read_packet
 *          returned it),
 *   produce handed the record to librdkafka (rd_kafka_produceva called),
 *   ack    was told that Kafka acknowledged it (its delivery report
 *          callback, which the relay serves inside rd_kafka_poll).
 *
 * Times are CLOCK_MONOTONIC ns, the benchmark's clock. Each event is found
 * by the "{"seq":N" that begins its payload. They go into a file that the
 * benchmark created and sized, mapped shared: three arrays of N int64_t
 * (read, produce, ack) for seq FIRST .. FIRST+N-1, the first time of each.
 *
 *   OUTBOX_BENCH_TAP=FILE OUTBOX_BENCH_TAP_FIRST=FIRST OUTBOX_BENCH_TAP_N=N
 *
 * Nothing here changes what the relay does: every wrapped call goes on to
 * the real function. Without the variables the library only passes calls
 * through.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <mysql.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench_seq.h"

enum { TAP_READ, TAP_PRODUCE, TAP_ACK };

static _Atomic(int64_t) *tap; /* 3 * tap_n, NULL: not tapping */
static long tap_first, tap_n;

typedef void (*dr_cb_t)(rd_kafka_t *, const rd_kafka_message_t *, void *);
static dr_cb_t real_dr;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

__attribute__((constructor)) static void tap_init(void)
{
    const char *path = getenv("OUTBOX_BENCH_TAP");
    const char *first = getenv("OUTBOX_BENCH_TAP_FIRST");
    const char *n = getenv("OUTBOX_BENCH_TAP_N");
    if (!path || !first || !n || atol(n) <= 0)
        return;
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return;
    size_t bytes = 3 * (size_t)atol(n) * sizeof(int64_t);
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    tap_first = atol(first);
    tap_n = atol(n);
    tap = m;
}

static void note(int what, long seq, int64_t t)
{
    if (seq < tap_first || seq >= tap_first + tap_n)
        return;
    int64_t zero = 0;
    atomic_compare_exchange_strong(&tap[what * tap_n + (seq - tap_first)],
                                   &zero, t);
}

unsigned long mysql_net_read_packet(MYSQL *mysql)
{
    static unsigned long (*real)(MYSQL *);
    if (!real)
        real = (unsigned long (*)(MYSQL *))dlsym(RTLD_NEXT,
                                                 "mysql_net_read_packet");
    unsigned long n = real(mysql);
    if (!tap || n == 0 || n == (unsigned long)-1 || !mysql->net.read_pos)
        return n;
    int64_t t = now_ns();
    static const char key[] = "{\"seq\":";
    const char *p = (const char *)mysql->net.read_pos, *end = p + n;
    /* a rows event may hold several rows; each payload starts {"seq": */
    while ((p = memmem(p, (size_t)(end - p), key, sizeof key - 1))) {
        note(TAP_READ, bench_payload_seq(p, (size_t)(end - p)), t);
        p += sizeof key - 1;
    }
    return n;
}

rd_kafka_error_t *rd_kafka_produceva(rd_kafka_t *rk, const rd_kafka_vu_t *vus,
                                     size_t cnt)
{
    static rd_kafka_error_t *(*real)(rd_kafka_t *, const rd_kafka_vu_t *,
                                     size_t);
    if (!real)
        real = (rd_kafka_error_t * (*)(rd_kafka_t *, const rd_kafka_vu_t *,
                                       size_t))dlsym(RTLD_NEXT,
                                                     "rd_kafka_produceva");
    if (tap) {
        int64_t t = now_ns();
        for (size_t i = 0; i < cnt; i++)
            if (vus[i].vtype == RD_KAFKA_VTYPE_VALUE)
                note(TAP_PRODUCE, bench_payload_seq(vus[i].u.mem.ptr, vus[i].u.mem.size),
                     t);
    }
    return real(rk, vus, cnt);
}

static void tap_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (tap && !m->err)
        note(TAP_ACK, bench_payload_seq(m->payload, m->len), now_ns());
    real_dr(rk, m, opaque);
}

void rd_kafka_conf_set_dr_msg_cb(rd_kafka_conf_t *conf, dr_cb_t cb)
{
    static void (*real)(rd_kafka_conf_t *, dr_cb_t);
    if (!real)
        real = (void (*)(rd_kafka_conf_t *, dr_cb_t))dlsym(
            RTLD_NEXT, "rd_kafka_conf_set_dr_msg_cb");
    /* the relay sets one delivery callback; a second, different one would
     * not be told apart: pass it through untapped */
    if (!cb || (real_dr && real_dr != cb)) {
        real(conf, cb);
        return;
    }
    real_dr = cb;
    real(conf, tap_dr);
}
