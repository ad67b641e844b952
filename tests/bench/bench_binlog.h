/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_binlog: a second latency baseline, MariaDB's part alone: reads
 * the binlog from (file, pos) with the relay's source module and notes
 * when each event [first, first+n) arrives, in seen[seq-first]. One
 * thread reads; start and stop are called from the main thread.
 */
#ifndef OUTBOX_BENCH_BINLOG_H
#define OUTBOX_BENCH_BINLOG_H

#include "relay/source.h"
#include "tests/bench/bench.h"

struct bench_binlog {
    struct relay_source_cfg cfg;
    struct source src;
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_long received;
    long first, n;
    int64_t *seen;
};

int bench_binlog_start(struct bench_binlog *b, const struct th_mariadb *db,
                       const char *file, unsigned long long pos, long first,
                       long n);
/* Stops reading; b->seen stays until bench_binlog_free. */
void bench_binlog_stop(struct bench_binlog *b);
void bench_binlog_free(struct bench_binlog *b);

#endif
