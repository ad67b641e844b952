/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sse_fleet: outbox-sse-bench's SSE clients, in several processes.
 *
 * One process holds one descriptor per stream, and RLIMIT_NOFILE's hard
 * limit (20,000 on the machine these figures come from, which root there
 * cannot raise) caps what one process holds. So the clients live in
 * `procs` forked processes, each with its own libevent loop; client i
 * (a global index) is in process i % procs. Each client socket is bound
 * to its own process's source addresses, 127.P.A.B, spread over
 * 127.0.0.0/8 with at most SF_PER_SOURCE_ADDR streams each, so that the
 * 28k ephemeral ports of one address never run out.
 *
 * The parent drives them through a socketpair each: open clients up to a
 * total, arm some of them for their next rank (every rank in their queue
 * moved), collect when each got it (CLOCK_MONOTONIC, one clock for all
 * processes), close all. The children keep their loops running between
 * commands, so streams are read while the parent does other things.
 *
 * Fork before any thread starts (sfleet_start in main, first thing).
 */
#ifndef OUTBOX_BENCH_SSE_FLEET_H
#define OUTBOX_BENCH_SSE_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SF_PER_SOURCE_ADDR 4096

/* Who client i is: its queue and user; *rank is the first rank it must be
 * told, -1 for any positive one. A function of this program: the children
 * are forks, so its address holds there too. */
typedef void (*sf_who_fn)(size_t i, char *queue, size_t ql, char *user,
                          size_t ul, int64_t *rank);

/* What the clients ask for. */
enum sf_mode {
    SF_OUTBOX,  /* GET /v1/queues/Q/events?user=U&token=T (HMAC token) */
    SF_NCHAN,   /* GET /sub/U */
    SF_PUSHPIN, /* GET /sub/Q/U */
};

struct sfleet;

/* Forks `procs` client processes with room for `cap` clients in all; the
 * tokens are signed with `secret`. NULL on failure. */
struct sfleet *sfleet_start(int procs, size_t cap, const char *secret);
/* Ends the children. */
void sfleet_stop(struct sfleet *f);
int sfleet_procs(const struct sfleet *f);
/* Clients opened so far (the next global index). */
size_t sfleet_n(const struct sfleet *f);

/* Opens clients [sfleet_n, to) against 127.0.0.1:port, each process at
 * most `window` awaiting their first rank at once, and waits until every
 * one has it. A stream that ends without an HTTP error, or has no first
 * rank in 3 s, is opened again, as a browser's EventSource would. 0, or
 * -1 with a message. *reopens (may be NULL): streams opened again. */
int sfleet_open(struct sfleet *f, size_t to, sf_who_fn who, int port,
                enum sf_mode mode, int window, size_t *reopens);
/* Arms every client i with i % mod == rem (mod 0: all) to wait for its
 * rank plus one, until deadline (CLOCK_MONOTONIC ns). The number armed,
 * -1 on failure. Then the children watch; sfleet_collect waits for them.
 * A client that once missed its rank is not armed again (so that no later
 * wave waits for it until the deadline): their number in *missed (may be
 * NULL). */
long sfleet_arm(struct sfleet *f, size_t mod, size_t rem, int64_t deadline,
                size_t *missed);
/* After sfleet_arm: waits until each process has all its armed clients'
 * ranks or its deadline passed; the times they came (CLOCK_MONOTONIC ns)
 * into t[0..cap), their number in *n. 0, or -1 on failure. */
int sfleet_collect(struct sfleet *f, int64_t *t, size_t cap, size_t *n);
/* Closes every client; 0 or -1. */
int sfleet_close(struct sfleet *f);

/* The pids of the children, for their RSS; their number. */
int sfleet_pids(const struct sfleet *f, pid_t *pids, int cap);

#endif
