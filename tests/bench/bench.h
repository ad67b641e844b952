/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-bench: the relay's speed benchmark (see tests/bench/README.md).
 *
 * Every figure is measured next to a baseline taken in the same run on the
 * same servers, and reported as a ratio, because the machines are shared
 * and noisy: absolute numbers move from run to run, ratios much less.
 *
 * Modules: bench_db.c (bulk load and paced commits into MariaDB),
 * bench_kafka.c (end offsets, baseline producers, the latency consumer),
 * bench_stats.c (clock, RSS sampling, percentiles), bench_main.c (the
 * phases and the summary). th_* harness calls stay on the main thread;
 * the other threads only read /proc, MariaDB or Kafka.
 */
#ifndef OUTBOX_BENCH_H
#define OUTBOX_BENCH_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/harness/th.h"
#include "tests/bench/bench_seq.h"

#define BENCH_MAX_PROPS 16

struct bench_opts {
    long events;       /* backlog size */
    int payload;       /* payload bytes per event */
    int txn_rows;      /* rows per backlog transaction */
    int keys;          /* distinct record keys */
    int rate;          /* latency phase: commits per second */
    int seconds;       /* latency phase: how long */
    int warmup_ms;     /* latency phase: not counted */
    int fetch_wait_ms; /* the latency consumer's fetch.wait.max.ms */
    int writers;       /* latency phase: committing connections */
    /* librdkafka properties "k=v" given to the relay and the baselines */
    const char *props[BENCH_MAX_PROPS];
    int nprops;
    int skip_drain, skip_latency;
    int paced; /* produce: at `rate`, serving reports after each record */
};

/* ---- clock and records (bench_stats.c) --------------------------------- */

/* CLOCK_MONOTONIC in ns: one clock for every process on the machine. */
int64_t bench_now_ns(void);
void bench_sleep_until(int64_t ns);

/* The event `seq` as the loader writes it and the baselines produce it:
 * a ~`size`-byte JSON payload starting {"seq":N, an id, a key, a type. */
size_t bench_payload(char *buf, size_t cap, long seq, int size);
void bench_event_id(char *buf, size_t cap, long seq);
void bench_key(char *buf, size_t cap, long seq, int keys);
const char *bench_type(long seq);

/* Calls one(arg, i) for i = from, from+step, ... below n, call i due at
 * t0 + i/rate (later when calls run late: far behind, it starts again
 * from now rather than catching up in a burst), and sets done[i] to the
 * time call i returned. Several threads with the same t0 and rate and
 * from = 0..step-1 share one pace. Returns how many calls succeeded. */
struct bench_pace {
    int64_t t0;
    int rate;
    long from, step, n;
};

long bench_paced(const struct bench_pace *p, int (*one)(void *arg, long i),
                 void *arg, int64_t *done);

/* ---- RSS of a process, sampled every 50 ms (bench_stats.c) ------------- */

struct bench_rss {
    pthread_t thread;
    atomic_int pid, stop;
    atomic_long max_rss_kb; /* largest VmRSS sample since the last reset */
    atomic_long hwm_kb;     /* VmHWM (the kernel's own peak) last read */
};

int bench_rss_start(struct bench_rss *r);
/* Samples `pid` from now on (0: none) and restarts max_rss_kb. */
void bench_rss_watch(struct bench_rss *r, int pid);
void bench_rss_stop(struct bench_rss *r);

/* ---- latency percentiles (bench_stats.c) ------------------------------- */

struct bench_latency {
    long count, lost, early; /* early: seen before COMMIT returned */
    double p50_ms, p99_ms, p999_ms, max_ms;
};

/* From commit/seen times in ns of events [from, n); seen 0 is lost. */
int bench_latency_of(const int64_t *commit, const int64_t *seen, long from,
                     long n, struct bench_latency *out);
/* The same latencies as a CDF for gnuplot, "ms fraction" lines (1,000
 * quantiles, finer in the last 1 %), into path. 0 or -1. */
int bench_latency_cdf(const int64_t *commit, const int64_t *seen, long from,
                      long n, const char *path);

/* ---- the peer relay and CPU time (bench_peer.c) ------------------------- */

/* tests/bench/peer/peer-relay.mjs under node: found, or why not. */
struct bench_peer {
    int ok;
    char why[200];
    char node[512], script[512];
    long log_from; /* where the running peer's lines start in its log */
};

/* Looks for node in PATH and for the script and its node_modules under
 * srcdir (npm ci done); fills p->why when they are missing. */
int bench_peer_find(struct bench_peer *p, const char *srcdir);
/* Starts the peer on db and bootstrap, reading the binlog from file:pos
 * (file NULL: from the binlog's end). 0 or -1. */
int bench_peer_spawn(struct bench_peer *p, struct th_proc *proc,
                     const char *dir, const struct th_mariadb *db,
                     const char *bootstrap, const char *file,
                     unsigned long long pos);
/* Waits until the peer started last says it streams; seconds from t0_ns,
 * or -1. */
double bench_peer_await(const struct bench_peer *p, struct th_proc *proc,
                        int64_t t0_ns);
/* utime + stime of a process (all its threads) in seconds, or -1. */
double bench_cpu_s(int pid);

/* ---- MariaDB (bench_db.c) ---------------------------------------------- */

/* Events [first, first+o->events) into shop.outbox, o->txn_rows per
 * multi-row INSERT (each its own transaction). 0 or -1. */
int bench_db_load(const struct th_mariadb *db, const struct bench_opts *o,
                  long first);
/* n one-row transactions of events first.., paced at o->rate over
 * o->writers connections; commit[i] gets the time COMMIT returned for
 * event first+i. Returns the number committed (n unless an error), and
 * *elapsed_ns. */
long bench_db_paced(const struct th_mariadb *db, const struct bench_opts *o,
                    long first, long n, int64_t *commit, int64_t *elapsed_ns);

/* ---- Kafka (bench_kafka.c) --------------------------------------------- */

/* A producer configured as the relay's sink configures its own
 * (idempotent, acks=all, same buffer bounds and partitioner), plus
 * o->props. NULL with a message on stderr. */
rd_kafka_t *bench_producer(const char *bootstrap, const struct bench_opts *o);
/* Produces event seq to topic, as the relay would (key, headers). */
int bench_produce(rd_kafka_t *rk, const char *topic, long seq,
                  const struct bench_opts *o);

/* Sum of the end offsets of the partitions of `topics` ("name:count"),
 * or -1. One ListOffsets request. */
int64_t bench_end_offsets(rd_kafka_t *rk, const char *const *topics);

/* `outbox-bench produce BOOTSTRAP TOPIC ...`: the throughput baseline, as
 * a process of its own so that its RSS is measured like the relay's.
 * Produces o->events events and waits for every acknowledgement; 0 when
 * all were delivered (the exit status). */
int bench_produce_run(const char *bootstrap, const char *topic,
                      const struct bench_opts *o);

/* Reads `topics` from their current ends and notes, for each event
 * [first, first+n) it sees, the time it saw it in seen[seq-first]. */
struct bench_consumer {
    rd_kafka_t *rk;
    pthread_t thread;
    atomic_int stop;
    atomic_long received;
    long first, n;
    int64_t *seen;
};

int bench_consumer_start(struct bench_consumer *c, const char *bootstrap,
                         const char *const *topics,
                         const struct bench_opts *o, long first, long n);
/* Stops reading; c->seen stays until bench_consumer_free. */
void bench_consumer_stop(struct bench_consumer *c);
void bench_consumer_free(struct bench_consumer *c);

#endif
