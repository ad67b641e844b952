/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sse_nchan: the system a team would build with nchan instead of
 * outbox-sse, for outbox-sse-bench's side-by-side run (tests/bench/SSE.md,
 * "Side by side with nchan").
 *
 *   - nginx (Debian's nginx-light + libnginx-mod-nchan), started as a child
 *     with `nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'` on a free port
 *     of 127.0.0.1, `workers` worker processes (one by default), one
 *     channel per user:
 *     GET /sub/<user> (EventSource) and POST /pub/<user>, a buffer of one
 *     message per channel so that a new subscriber gets the current rank;
 *   - the publisher: a thread with its own loop, a Redis connection and
 *     keep-alive HTTP connections to /pub. Told "queue Q changed", it reads
 *     the queue with one ZRANGE and POSTs every waiting user's rank,
 *     pipelined over its connections.
 */
#ifndef OUTBOX_BENCH_SSE_NCHAN_H
#define OUTBOX_BENCH_SSE_NCHAN_H

#include <stdint.h>
#include <sys/types.h>

#include "tests/harness/th.h"

#define NCHAN_MODULE "/usr/lib/nginx/modules/ngx_nchan_module.so"

struct nchan_srv {
    struct th_proc proc; /* the master */
    pid_t worker;        /* a worker (the only one when there is one) */
    char dir[256];
    int port;
};

/* Writes the configuration (room for max_conns connections over
 * `workers` worker processes) and starts nginx; 0 when it answers, -1
 * with a message. */
int nchan_start(struct nchan_srv *n, long max_conns, int workers);
void nchan_stop(struct nchan_srv *n);
/* A number from nchan_stub_status ("shared memory used", "channels", ...),
 * -1 when missing. */
long long nchan_status(const struct nchan_srv *n, const char *field);
/* "nginx/1.22.1, nchan 1.3.6" */
void nchan_versions(const struct nchan_srv *n, char *out, size_t len);

struct npub;

/* The publisher thread: `conns` keep-alive connections to nginx. */
struct npub *npub_start(int http_port, int redis_port, int conns);
/* The same publisher for Pushpin (sse_pushpin.h): the ranks go to the
 * handler's GRIP publish endpoint, POST /publish/ on publish_port, `batch`
 * items per POST (one per user, its channel and the SSE event text). That
 * endpoint closes the connection after each answer, so every POST of a
 * wave has its own connection, all opened at once. */
struct npub *npub_start_grip(int publish_port, int redis_port, int batch);
/* Tells it that `queue` changed (at t0, now_ns): it publishes every rank of
 * the queue, after any wave still going. Returns the wave's number. */
long npub_wave(struct npub *p, const char *queue, int64_t t0);
/* Waits until wave w is answered (all POSTs), at most until deadline (ns).
 * The time from t0 to the last answer in *ns; 0, or -1 (late or failed). */
int npub_wait(struct npub *p, long w, int64_t deadline, int64_t *ns);
/* POSTs sent and non-2xx answers so far. */
long npub_errors(const struct npub *p);
void npub_stop(struct npub *p);

#endif
