/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msum: the /metrics of several processes as the /metrics of one server.
 *
 * The supervisor of outbox-sse's workers (sse/super.h) asks each worker
 * for its rendered metrics (Prometheus text format 0.0.4, as
 * common/metrics renders it) and adds its own. A series present in
 * several texts (same name, same labels) is added up: connections, events
 * sent, resident memory and open descriptors of the whole server are the
 * sums of its processes'. A few are facts every process states alike, for
 * which a sum would be wrong; they take the smallest value instead:
 * sse_redis_up (1 only when every worker is connected),
 * sse_kafka_partitions (each worker reads them all), process_start_time_seconds
 * (the oldest process: the server's start) and outbox_build_info.
 *
 * Families come out in the order first seen, each with its HELP and TYPE
 * lines once, then its series in the order first seen. Pure: no I/O, so a
 * unit test reaches it. Not thread-safe; one merge at a time per object.
 */
#ifndef OUTBOX_SSE_MSUM_H
#define OUTBOX_SSE_MSUM_H

#include <stddef.h>

struct evbuffer;
struct msum;

struct msum *msum_new(void);
void msum_free(struct msum *m);

/* One process's exposition text (len bytes, need not end in a newline).
 * Lines that are neither HELP, TYPE nor "series value" are skipped.
 * 0, or -1 when out of memory (what was added so far stays). */
int msum_add(struct msum *m, const char *text, size_t len);

/* Everything added so far, merged. */
void msum_render(const struct msum *m, struct evbuffer *out);

#endif
