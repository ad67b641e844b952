/* SPDX-License-Identifier: Apache-2.0 */
/*
 * super: outbox-sse as several worker processes under one supervisor
 * (http.workers > 1).
 *
 * Why processes: a process here may hold 20,000 descriptors, and 100,000
 * streams need five times that; a crash (or an out-of-memory kill) takes
 * one worker's streams with it, not the server's, and those browsers
 * reconnect to the others at once. Threads would share the descriptor
 * limit and every crash.
 *
 * Each worker is a whole outbox-sse: its own event loop, its own Kafka
 * consumer reading every partition from the end, its own Redis client,
 * its own SO_REUSEPORT listening socket on the one port (the kernel
 * spreads new connections over the workers' sockets). Change events are
 * tiny ("queue X changed") and every worker must see all of them, so a
 * consumer per worker costs a few MB per process and no code, where a
 * fan-out from the supervisor would add a hop, a protocol and a single
 * process whose stall stalls every stream. The supervisor reads neither
 * Kafka nor Redis and holds no stream: there is little in it to crash.
 *
 * The supervisor
 *   - holds the port: a bound, not listening, SO_REUSEPORT socket (so port
 *     0 picks one port for all, and a restarted worker gets the same);
 *   - starts each worker as a fresh program (fork, then exec of its own
 *     binary with the same command line), handing it a socketpair for
 *     frames (sse/wlink.h) and the shared page (sse/wshare.h) on
 *     descriptors 3 and 4, and OUTBOX_SSE_WORKER=index/count/port; a
 *     worker dies with its supervisor (PR_SET_PDEATHSIG);
 *   - restarts a worker that died: at once if it had run a second or
 *     more, else after a backoff from 100 ms doubling to 5 s. Its clients'
 *     sockets close with it and they reconnect, to the other workers;
 *   - on SIGTERM (or SIGINT) tells every worker to drain (a frame, see
 *     wlink.h), each closes its streams over http.drain_window, and exits 0 when all have exited 0; a worker
 *     still there drain_window + 5 s later is killed (exit 1). A second
 *     SIGTERM exits at once, and the workers die with it;
 *   - owns metrics.listen: /metrics asks every serving worker for its
 *     metrics and adds them up with its own (sse/msum.h), so counters and
 *     process_resident_memory_bytes are the whole server's; /healthz is
 *     200 while one worker or more is healthy ("ok" when all are, else
 *     "K of N workers serving") and 503 with a worker's reason when none
 *     is. It adds sse_workers (serving now) and
 *     sse_worker_restarts_total. A worker that does not answer within 2 s
 *     is left out of that scrape. A dead worker's counters leave the sums
 *     with it (a counter reset, as Prometheus' rate() expects of one).
 *   - tells systemd READY once every worker has served once; a worker
 *     that dies before that stops the server with status 1 (it cannot
 *     start: a taken port, a bad Kafka setting).
 *
 * Loop thread only (the supervisor runs no other thread).
 */
#ifndef OUTBOX_SSE_SUPER_H
#define OUTBOX_SSE_SUPER_H

#include <stddef.h>

#include "config/cfg_sse.h"

/* Descriptors a worker inherits. */
#define SUPER_LINK_FD 3
#define SUPER_SHARE_FD 4
#define SUPER_ENV "OUTBOX_SSE_WORKER"

/* Runs the supervisor of `n` (>= 2) workers until it is stopped; returns
 * the exit status. argv is the daemon's command line, NULL-terminated,
 * with which each worker is started. */
int super_run(const struct sse_cfg *cfg, size_t n, char *const argv[]);

/* What a worker was started with. */
struct super_worker {
    size_t index, count;
    int port;
};

/* 1 with *w filled in when this process is a worker, 0 when it is not,
 * -1 when OUTBOX_SSE_WORKER is malformed. */
int super_worker_env(struct super_worker *w);

/* The number of workers http.workers asks for (0: one per online core). */
size_t super_workers_wanted(const struct sse_cfg *cfg);

#endif
