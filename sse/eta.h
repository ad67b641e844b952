/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eta: how long until a waiting user is admitted, from the queue's pace.
 *
 * The pace is the growth of the admitted set over a sliding window: users
 * leaving the head per second. Samples arrive with each recompute (many per
 * second under load), so the window keeps at most ETA_SLOTS of them, one
 * per window/ETA_SLOTS: constant memory per queue whatever the load. When
 * the admitted set shrinks (the application expires admissions) the window
 * starts over rather than report a negative pace.
 *
 * An estimate needs a second of history and at least one admission in the
 * window; until then it is unknown (eta_s is left out of the event). Pure.
 */
#ifndef OUTBOX_SSE_ETA_H
#define OUTBOX_SSE_ETA_H

#include <stdint.h>

#define ETA_SLOTS 32

struct eta {
    int64_t window_ms;
    int64_t t[ETA_SLOTS], admitted[ETA_SLOTS];
    int first, n;
};

void eta_init(struct eta *e, int64_t window_ms);
void eta_sample(struct eta *e, int64_t now_ms, int64_t admitted_total);
/* Admissions per second, or 0 while unknown. */
double eta_rate(const struct eta *e);
/* Seconds until the user at `rank` is admitted (rounded up), or -1. */
int64_t eta_seconds(const struct eta *e, int64_t rank);

#endif
