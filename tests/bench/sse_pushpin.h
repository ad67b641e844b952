/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sse_pushpin: the system a team would build with Pushpin instead of
 * outbox-sse, for outbox-sse-bench's side-by-side run (tests/bench/SSE.md,
 * "Pushpin").
 *
 *   - pushpin (Debian's `pushpin` 1.36), started as a child with
 *     `pushpin --config DIR/pushpin.conf` on free ports of 127.0.0.1, its
 *     run and log directories in DIR. Its runner starts condure (the
 *     client-facing HTTP server), zurl (HTTP to the origin),
 *     pushpin-proxy and pushpin-handler;
 *   - the origin: a thread of this program with an evhttp server. For
 *     GET /sub/<queue>/<user> it reads the user's rank from Redis and
 *     answers with the first `rank` event and the GRIP headers
 *     `Grip-Hold: stream` and `Grip-Channel: <user>`: pushpin holds the
 *     stream open on the user's channel;
 *   - the publisher is sse_nchan.h's, in its GRIP form
 *     (npub_start_grip): one ZRANGE per wave, and the ranks POSTed to the
 *     handler's /publish/ endpoint, many items per POST.
 */
#ifndef OUTBOX_BENCH_SSE_PUSHPIN_H
#define OUTBOX_BENCH_SSE_PUSHPIN_H

#include <stddef.h>

#include "tests/harness/th.h"

struct porigin;

struct pushpin_srv {
    struct th_proc proc; /* the runner: `pushpin --config ...` */
    char dir[256];
    int port;        /* clients (condure) */
    int pub_port;    /* the handler's HTTP publish endpoint */
    int origin_port; /* the origin thread */
    struct porigin *origin;
};

/* Starts the origin (reading ranks from Redis at redis_port) and pushpin
 * with room for max_conns clients; 0 when both answer, -1 with a
 * message. */
int pushpin_start(struct pushpin_srv *p, long max_conns, int redis_port);
/* Stops pushpin (SIGTERM to the runner, which stops its services, then
 * SIGKILL to its process group) and the origin. */
void pushpin_stop(struct pushpin_srv *p);
/* VmRSS of the runner and all its descendants, in KiB (-1 when the runner
 * is gone). With parts, "condure 12.3, zurl 4.5, ..." in MiB. */
long pushpin_rss_kb(const struct pushpin_srv *p, char *parts, size_t len);
/* The last lines of the runner's and each service's log, on stderr. */
void pushpin_dump_logs(const struct pushpin_srv *p);
/* "pushpin 1.36.0" */
void pushpin_versions(char *out, size_t len);

#endif
