/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: a small Prometheus registry (text exposition format 0.0.4).
 *
 * Families are registered at start-up; a family has at most one label
 * (topic, type, ...), and its series are created on first use. Updating a
 * series is one relaxed atomic operation, so any thread may count
 * (librdkafka's callbacks, the pipeline thread, the loop); creating a
 * series or rendering takes the registry's mutex. Gauges may instead be
 * computed at scrape time by a callback (queue depth, lag), run on the
 * thread that renders.
 *
 * Series are never removed: label values must come from a bounded set
 * (topics, event types), never from user input.
 */
#ifndef OUTBOX_METRICS_H
#define OUTBOX_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

struct evbuffer;
struct metrics;
struct mfamily;

struct mseries {
    atomic_int_fast64_t value;
    char *label_value;
    struct mseries *next;
};

enum mtype { METRIC_COUNTER, METRIC_GAUGE };

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* `label` is the label's name, or NULL for a family of one series. */
struct mfamily *metrics_family(struct metrics *m, enum mtype type,
                               const char *name, const char *help,
                               const char *label);

/* The series for label_value (NULL for a label-less family); created on
 * first use. NULL only when out of memory. */
struct mseries *metrics_series(struct mfamily *f, const char *label_value);

/* A gauge read at scrape time. */
typedef double (*metrics_gauge_fn)(void *arg);
int metrics_gauge_cb(struct metrics *m, const char *name, const char *help,
                     metrics_gauge_fn fn, void *arg);

static inline void mseries_add(struct mseries *s, int64_t n)
{
    if (s)
        atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

static inline void mseries_set(struct mseries *s, int64_t v)
{
    if (s)
        atomic_store_explicit(&s->value, v, memory_order_relaxed);
}

/* Renders every family, then process_* metrics and outbox_build_info. */
void metrics_render(struct metrics *m, struct evbuffer *out);

#endif
