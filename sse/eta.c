/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/eta.h"

#include <math.h>

void eta_init(struct eta *e, int64_t window_ms)
{
    *e = (struct eta){.window_ms = window_ms > 0 ? window_ms : 1};
}

static int slot(const struct eta *e, int k)
{
    return (e->first + k) % ETA_SLOTS;
}

void eta_sample(struct eta *e, int64_t now_ms, int64_t admitted_total)
{
    if (e->n > 0 && admitted_total < e->admitted[slot(e, e->n - 1)])
        e->n = 0; /* the set was trimmed: the old history says nothing */
    while (e->n > 1 && now_ms - e->t[slot(e, 1)] >= e->window_ms) {
        e->first = slot(e, 1); /* keep one sample at or before the start */
        e->n--;
    }
    int64_t spacing = e->window_ms / ETA_SLOTS;
    if (e->n >= 2 && now_ms - e->t[slot(e, e->n - 2)] < spacing)
        e->n--; /* replace the newest rather than crowd the window */
    if (e->n == ETA_SLOTS) {
        e->first = slot(e, 1);
        e->n--;
    }
    int k = slot(e, e->n++);
    e->t[k] = now_ms;
    e->admitted[k] = admitted_total;
}

double eta_rate(const struct eta *e)
{
    if (e->n < 2)
        return 0;
    int a = slot(e, 0), b = slot(e, e->n - 1);
    int64_t dt = e->t[b] - e->t[a];
    int64_t dn = e->admitted[b] - e->admitted[a];
    if (dt < 1000 || dn <= 0)
        return 0;
    return (double)dn * 1000.0 / (double)dt;
}

int64_t eta_seconds(const struct eta *e, int64_t rank)
{
    double r = eta_rate(e);
    if (r <= 0 || rank < 1)
        return -1;
    return (int64_t)ceil((double)rank / r);
}
