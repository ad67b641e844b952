/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/hub.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/hash.h"
#include "common/log.h"
#include "sse/eta.h"

struct hq {
    struct hub *h;
    struct hq *next; /* hash chain */
    char *name;
    struct hub_watch **w;
    size_t n, cap;
    struct event *timer;
    int armed, running, pending;
    int jobs; /* answers still to come that point here */
    int64_t last_run_ms;
    int64_t waiting; /* the queue's length as last seen, for ranks' choice */
    struct eta eta;
};

struct hub_watch {
    struct hq *q;
    char *user;
    hub_notify_fn fn;
    void *owner;
    size_t idx;
    int refs; /* the queue's list, and each job asking about it */
    int dead;
    int has_last;
    int gone_once; /* the last answer found the user in neither set */
    struct hub_state last;
};

struct hub {
    struct event_base *base;
    const struct sse_queues_cfg *cfg;
    struct ranks *ranks;
    struct hq **buckets;
    size_t nbuckets, nqueues;
    struct event *refresh;
    struct mseries *recomputes, *coalesced, *changes, *unknown;
};

/* The watches one Redis batch asked about, in the order asked. */
struct job {
    struct hub *h;
    struct hq *q;
    int full; /* a recompute of the queue, not a new watch's question */
    size_t n;
    const char **users; /* w[i]->user, lent to ranks_query (see ask) */
    struct hub_watch *w[];
};

/* ---- the queue table --------------------------------------------------- */

static struct hq *hq_find(struct hub *h, const char *name, size_t len)
{
    struct hq *q = h->buckets[hash_fnv1a(name, len) & (h->nbuckets - 1)];
    for (; q; q = q->next)
        if (strlen(q->name) == len && !memcmp(q->name, name, len))
            return q;
    return NULL;
}

static int grow(struct hub *h)
{
    size_t n = h->nbuckets * 2;
    struct hq **b = calloc(n, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < h->nbuckets; i++)
        for (struct hq *q = h->buckets[i], *next; q; q = next) {
            next = q->next;
            size_t k = hash_fnv1a(q->name, strlen(q->name)) & (n - 1);
            q->next = b[k];
            b[k] = q;
        }
    free(h->buckets);
    h->buckets = b;
    h->nbuckets = n;
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

static struct hq *hq_get(struct hub *h, const char *name)
{
    struct hq *q = hq_find(h, name, strlen(name));
    if (q)
        return q;
    if (h->nqueues >= h->nbuckets && grow(h) < 0)
        return NULL;
    if (!(q = calloc(1, sizeof *q)) || !(q->name = strdup(name)) ||
        !(q->timer = evtimer_new(h->base, on_timer, q))) {
        if (q)
            free(q->name);
        free(q);
        return NULL;
    }
    q->h = h;
    eta_init(&q->eta, h->cfg->eta_window_ms);
    size_t k = hash_fnv1a(name, strlen(name)) & (h->nbuckets - 1);
    q->next = h->buckets[k];
    h->buckets[k] = q;
    h->nqueues++;
    return q;
}

/* A queue nobody watches and nothing refers to goes away. */
static void hq_release(struct hq *q)
{
    if (q->n || q->running || q->armed || q->jobs)
        return;
    struct hub *h = q->h;
    struct hq **p = &h->buckets[hash_fnv1a(q->name, strlen(q->name)) & (h->nbuckets - 1)];
    while (*p != q)
        p = &(*p)->next;
    *p = q->next;
    h->nqueues--;
    event_free(q->timer);
    free(q->w);
    free(q->name);
    free(q);
}

/* ---- watches ----------------------------------------------------------- */

static void watch_unref(struct hub_watch *w)
{
    if (--w->refs > 0)
        return;
    free(w->user);
    free(w);
}

static struct job *job_new(struct hub *h, struct hq *q, int full, size_t n)
{
    struct job *j = malloc(sizeof *j + n * (sizeof j->w[0] + sizeof(char *)));
    if (j)
        *j = (struct job){h, q, full, n, (const char **)(j->w + n)};
    return j;
}

static void job_free(struct job *j)
{
    for (size_t i = 0; i < j->n; i++)
        watch_unref(j->w[i]);
    j->q->jobs--;
    free(j);
}

static void schedule(struct hq *q);

static void deliver(struct hub_watch *w, const struct hub_state *st)
{
    if (w->dead)
        return;
    if (st->state == RANKS_GONE && !w->gone_once) {
        w->gone_once = 1; /* maybe between two commands of a move: look again */
        schedule(w->q);
        return;
    }
    w->gone_once = st->state == RANKS_GONE;
    if (w->has_last && w->last.state == st->state &&
        (st->state != RANKS_WAITING || w->last.rank == st->rank))
        return;
    w->last = *st;
    w->has_last = 1;
    w->fn(w->owner, st);
}

static void on_answer(void *arg, const char *queue, int ok,
                      const struct ranks_totals *totals,
                      const char *const *users,
                      const struct ranks_answer *answers, size_t n)
{
    struct job *j = arg;
    struct hq *q = j->q;
    (void)queue;
    (void)users;
    if (ok) {
        q->waiting = totals->waiting;
        eta_sample(&q->eta, clock_mono_ms(), totals->admitted);
        for (size_t i = 0; i < n; i++) {
            struct hub_state st = {answers[i].state, answers[i].rank,
                                   totals->waiting, -1};
            if (st.state == RANKS_WAITING)
                st.eta_s = eta_seconds(&q->eta, st.rank);
            deliver(j->w[i], &st);
        }
    } else if (!j->full && !j->w[0]->dead && !j->w[0]->has_last) {
        j->w[0]->fn(j->w[0]->owner, NULL);
    }
    if (j->full) {
        q->running = 0;
        q->last_run_ms = clock_mono_ms();
        if (q->pending) {
            q->pending = 0;
            schedule(q);
        }
    }
    job_free(j);
    hq_release(q);
}

static void on_failed(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    struct ranks_totals none = {0, 0};
    (void)fd;
    (void)what;
    on_answer(j, j->q->name, 0, &none, NULL, NULL, 0);
}

/* Sends the job's question; the job is freed by the answer, or here.
 *
 * The batch borrows the queue's name and the users' names instead of
 * copying them; that is safe because the job outlives the batch and keeps
 * them alive: it holds a reference on every watch it asks about
 * (w->refs), so a watch dropped meanwhile (hub_unwatch) keeps its name
 * until job_free, and it counts in q->jobs, which keeps the queue and its
 * name from hq_release. The job is freed by on_answer, the batch's fn,
 * which ranks calls exactly once and after which it no longer reads the
 * names; when Redis goes away, or at shutdown (ranks_free runs before
 * hub_free), hiredis still calls it, with failed replies. */
static void ask(struct job *j)
{
    for (size_t i = 0; i < j->n; i++)
        j->users[i] = j->w[i]->user;
    int rc = ranks_query(j->h->ranks, j->q->name, j->users, j->n, j->q->waiting,
                         on_answer, j);
    /* The failure is reported from the loop, never from inside hub_watch,
     * whose caller does not hold the watch yet. */
    static const struct timeval now = {0, 0};
    if (rc < 0 && event_base_once(j->h->base, -1, EV_TIMEOUT, on_failed, j,
                                  &now) < 0)
        on_failed(-1, 0, j);
}

static void recompute(struct hq *q)
{
    struct job *j = job_new(q->h, q, 1, q->n);
    if (!j) {
        log_error("hub", "out of memory recomputing queue %s", q->name);
        return;
    }
    for (size_t i = 0; i < q->n; i++) {
        j->w[i] = q->w[i];
        q->w[i]->refs++;
    }
    q->jobs++;
    q->running = 1;
    mseries_add(q->h->recomputes, 1);
    ask(j);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct hq *q = arg;
    (void)fd;
    (void)what;
    q->armed = 0;
    if (q->n)
        recompute(q);
    hq_release(q);
}

/* At most one recompute per interval; one more after a running one. */
static void schedule(struct hq *q)
{
    if (q->running) {
        if (q->pending)
            mseries_add(q->h->coalesced, 1);
        q->pending = 1;
        return;
    }
    if (q->armed) {
        mseries_add(q->h->coalesced, 1);
        return;
    }
    int64_t wait = q->last_run_ms + q->h->cfg->coalesce_ms - clock_mono_ms();
    if (wait < 0 || q->last_run_ms == 0)
        wait = 0;
    struct timeval tv = {wait / 1000, (wait % 1000) * 1000};
    q->armed = 1;
    evtimer_add(q->timer, &tv);
}

struct hub_watch *hub_watch(struct hub *h, const char *queue, const char *user,
                            hub_notify_fn fn, void *owner)
{
    struct hq *q = hq_get(h, queue);
    struct hub_watch *w = q ? calloc(1, sizeof *w) : NULL;
    struct job *j = w ? job_new(h, q, 0, 1) : NULL;
    if (q && q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 4;
        struct hub_watch **a = realloc(q->w, cap * sizeof *a);
        if (a) {
            q->w = a;
            q->cap = cap;
        }
    }
    if (!j || !(w->user = strdup(user)) || q->n == q->cap) {
        if (w)
            free(w->user);
        free(w);
        free(j);
        if (q)
            hq_release(q);
        return NULL;
    }
    *w = (struct hub_watch){.q = q, .user = w->user, .fn = fn, .owner = owner,
                            .idx = q->n, .refs = 2};
    q->w[q->n++] = w;
    j->w[0] = w;
    q->jobs++;
    ask(j);
    return w;
}

void hub_unwatch(struct hub_watch *w)
{
    struct hq *q = w->q;
    if (w->dead)
        return;
    w->dead = 1;
    q->w[w->idx] = q->w[--q->n];
    q->w[w->idx]->idx = w->idx;
    watch_unref(w);
    hq_release(q);
}

void hub_changed(struct hub *h, const char *queue, size_t len)
{
    mseries_add(h->changes, 1);
    struct hq *q = hq_find(h, queue, len);
    if (q && q->n)
        schedule(q);
    else
        mseries_add(h->unknown, 1); /* nobody here watches it */
}

void hub_refresh_all(struct hub *h)
{
    for (size_t i = 0; i < h->nbuckets; i++)
        for (struct hq *q = h->buckets[i]; q; q = q->next)
            if (q->n)
                schedule(q);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hub_refresh_all(arg);
}


static void register_metrics(struct hub *h, struct metrics *m)
{
    h->recomputes = metrics_series(metrics_family(m, METRIC_COUNTER,
        "sse_recomputes_total", "Queue recomputes asked of Redis", NULL), NULL);
    h->coalesced = metrics_series(metrics_family(m, METRIC_COUNTER,
        "sse_coalesced_changes_total",
        "Change events folded into a recompute already due", NULL), NULL);
    h->changes = metrics_series(metrics_family(m, METRIC_COUNTER,
        "sse_changes_total", "Queue change events received", NULL), NULL);
    h->unknown = metrics_series(metrics_family(m, METRIC_COUNTER,
        "sse_changes_unwatched_total",
        "Change events for queues nobody here watches", NULL), NULL);
}

struct hub *hub_new(struct event_base *base, const struct sse_queues_cfg *cfg,
                    struct ranks *ranks, struct metrics *m)
{
    struct hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    *h = (struct hub){.base = base, .cfg = cfg, .ranks = ranks, .nbuckets = 64};
    h->buckets = calloc(h->nbuckets, sizeof *h->buckets);
    h->refresh = event_new(base, -1, EV_PERSIST, on_refresh, h);
    if (!h->buckets || !h->refresh) {
        hub_free(h);
        return NULL;
    }
    struct timeval tv = {cfg->refresh_ms / 1000, (cfg->refresh_ms % 1000) * 1000};
    evtimer_add(h->refresh, &tv);
    if (m)
        register_metrics(h, m);
    return h;
}

/* Watches must be gone (their owners closed) and ranks freed first, so
 * that every job has had its answer. */
void hub_free(struct hub *h)
{
    if (!h)
        return;
    for (size_t i = 0; h->buckets && i < h->nbuckets; i++)
        while (h->buckets[i]) {
            struct hq *q = h->buckets[i];
            q->armed = 0;
            evtimer_del(q->timer);
            q->n = q->running = q->jobs = 0;
            hq_release(q);
        }
    if (h->refresh)
        event_free(h->refresh);
    free(h->buckets);
    free(h);
}
