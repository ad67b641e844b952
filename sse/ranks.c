/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/ranks.h"

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/backoff.h"
#include "common/hash.h"
#include "common/log.h"
#include "sse/redis_tls.h"

#define KEY_MAX 512

struct ranks {
    struct event_base *base;
    const struct sse_redis_cfg *cfg;
    redisAsyncContext *ac;
    struct rtls *tls; /* NULL without redis.tls */
    struct event *retry;
    struct backoff backoff;
    void (*on_up)(void *);
    void *arg;
    int up, stopping;
    struct ranks_stats stats;
    /* Batches not yet handed to their fn, in the order asked. */
    struct batch *head, **tail;
};

enum tag_kind { TAG_COUNT, TAG_ADMITTED_COUNT, TAG_RANK, TAG_ADMITTED,
                TAG_RANGE };

#define FIXED_TAGS 2 /* the two counts before the per-user questions */

struct batch;

/* The privdata of one command: which batch, which user, which question. */
struct tag {
    struct batch *b;
    uint32_t index;
    uint8_t kind;
};

struct batch {
    struct ranks *r;
    struct batch *next; /* in r's list of batches not handed over yet */
    ranks_done_fn fn;
    void *arg;
    size_t n, outstanding;
    int failed, done;
    struct ranks_totals totals;
    const char *queue;        /* borrowed, see ranks.h */
    const char *const *users; /* borrowed, see ranks.h */
    const char *adm;          /* ZSCORE or SISMEMBER */
    char *akey;               /* the admitted set's key */
    struct ranks_answer *answers;
    struct tag *tags; /* FIXED_TAGS + 2 * n + 1: the counts, then per
                       * user ZRANK and the admitted question next to it,
                       * then the ZRANGE of a batch asked that way */
};

#define TAGS(n) (FIXED_TAGS + 2 * (n) + 1)

int ranks_key(const char *tpl, const char *queue, char *buf, size_t len)
{
    const char *at = strstr(tpl, "{queue}");
    int n = at ? snprintf(buf, len, "%.*s%s%s", (int)(at - tpl), tpl, queue,
                          at + 7)
               : snprintf(buf, len, "%s", tpl);
    return (n < 0 || (size_t)n >= len) ? -1 : n;
}

/* ---- batches ---------------------------------------------------------- */

/* One allocation: the struct, its arrays and the admitted key. The names
 * are borrowed. */
static struct batch *batch_new(const char *queue, const char *const *users,
                               size_t n, const char *akey)
{
    size_t size = sizeof(struct batch) + n * sizeof(struct ranks_answer) +
                  TAGS(n) * sizeof(struct tag) + strlen(akey) + 1;
    struct batch *b = calloc(1, size);
    if (!b)
        return NULL;
    b->n = n;
    b->queue = queue;
    b->users = users;
    b->answers = (struct ranks_answer *)(b + 1);
    b->tags = (struct tag *)(b->answers + n);
    b->akey = strcpy((char *)(b->tags + TAGS(n)), akey);
    return b;
}

/* The ranks of the batch's users, read off a ZRANGE 0 -1 of the waiting
 * set: a table of the users (by name; two watches may name one user)
 * and one pass over the reply. */
static void range_reply(struct batch *b, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY) {
        b->failed = 1;
        return;
    }
    size_t size = 16;
    while (size < 2 * b->n)
        size *= 2;
    uint32_t *slot = calloc(size + b->n, sizeof *slot), *next = slot + size;
    if (!slot) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0; i < b->n; i++) { /* slot and next hold index + 1 */
        size_t k = hash_fnv1a(b->users[i], strlen(b->users[i])) & (size - 1);
        while (slot[k] && strcmp(b->users[slot[k] - 1], b->users[i]))
            k = (k + 1) & (size - 1);
        next[i] = slot[k];
        slot[k] = (uint32_t)i + 1;
    }
    for (size_t r = 0; r < rep->elements; r++) {
        const redisReply *e = rep->element[r];
        if (e->type != REDIS_REPLY_STRING)
            continue;
        size_t k = hash_fnv1a(e->str, e->len) & (size - 1);
        while (slot[k] && (strlen(b->users[slot[k] - 1]) != e->len ||
                           memcmp(b->users[slot[k] - 1], e->str, e->len)))
            k = (k + 1) & (size - 1);
        for (uint32_t u = slot[k]; u; u = next[u - 1])
            b->answers[u - 1] = (struct ranks_answer){RANKS_WAITING,
                                                      (int64_t)r + 1};
    }
    free(slot);
}

static void batch_reply(struct batch *b, const struct tag *t,
                        const redisReply *rep)
{
    struct ranks_answer *a = t->kind >= TAG_RANK && t->kind <= TAG_ADMITTED
                                 ? &b->answers[t->index] : NULL;
    if (!rep || rep->type == REDIS_REPLY_ERROR) {
        if (!b->failed && rep)
            log_warn("redis", "queue %s: %s", b->queue, rep->str);
        b->failed = 1;
    } else if (t->kind == TAG_COUNT) {
        b->totals.waiting = rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
    } else if (t->kind == TAG_ADMITTED_COUNT) {
        b->totals.admitted = rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
    } else if (t->kind == TAG_RANK && rep->type == REDIS_REPLY_INTEGER) {
        a->state = RANKS_WAITING;
        a->rank = rep->integer + 1;
    } else if (t->kind == TAG_RANGE) {
        range_reply(b, rep);
    } else if (t->kind == TAG_ADMITTED) {
        int in = (rep->type == REDIS_REPLY_INTEGER && rep->integer) ||
                 rep->type == REDIS_REPLY_STRING;
        a->state = in ? RANKS_ADMITTED : RANKS_GONE;
    }
}

/* The batch ends when its last reply is in; it is handed over once every
 * batch asked before it has been. A batch whose users all wait needs one
 * round trip, another two (see on_reply), so a later batch can end first:
 * holding it back keeps the promise that answers come in the order asked,
 * which the hub relies on (an older answer never overwrites a newer). */
static void batch_release(struct batch *b)
{
    struct ranks *r = b->r;
    if (--b->outstanding > 0)
        return;
    b->done = 1;
    while (r->head && r->head->done) {
        b = r->head;
        if (!(r->head = b->next)) /* unlinked first: fn may ask again */
            r->tail = &r->head;
        if (b->failed)
            atomic_fetch_add(&r->stats.errors, 1);
        b->fn(b->arg, b->queue, !b->failed, &b->totals, b->users, b->answers,
              b->n);
        free(b);
    }
}

static int send_cmd(redisAsyncContext *ac, struct tag *t, const char *cmd,
                    const char *key, const char *member);

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct tag *t = privdata;
    struct batch *b = t->b;
    batch_reply(b, t, reply);
    /* Only a user ZRANK did not find needs the admitted set asked; the
     * question goes out from here, a round trip later. */
    if (t->kind == TAG_RANK && !b->failed &&
        b->answers[t->index].state != RANKS_WAITING &&
        send_cmd(ac, t + 1, b->adm, b->akey, b->users[t->index]) < 0)
        b->failed = 1;
    for (size_t i = 0; t->kind == TAG_RANGE && !b->failed && i < b->n; i++) {
        struct tag *adm = &b->tags[FIXED_TAGS + 2 * i + 1];
        if (b->answers[i].state != RANKS_WAITING &&
            send_cmd(ac, adm, b->adm, b->akey, b->users[i]) < 0)
            b->failed = 1;
    }
    batch_release(b);
}

static int send_cmd(redisAsyncContext *ac, struct tag *t, const char *cmd,
                    const char *key, const char *member)
{
    const char *argv[3] = {cmd, key, member};
    size_t lens[3] = {strlen(cmd), strlen(key), member ? strlen(member) : 0};
    if (redisAsyncCommandArgv(ac, on_reply, t, member ? 3 : 2, argv, lens) !=
        REDIS_OK)
        return -1;
    t->b->outstanding++;
    return 0;
}

int ranks_use_range(size_t n, int64_t waiting)
{
    return waiting > 0 && n > 1 &&
           (int64_t)n * RANKS_RANGE_RATIO >= waiting;
}

int ranks_query(struct ranks *r, const char *queue, const char *const *users,
                size_t n, int64_t waiting_hint, ranks_done_fn fn, void *arg)
{
    char wkey[KEY_MAX], akey[KEY_MAX];
    if (!r->up || ranks_key(r->cfg->waiting_key, queue, wkey, sizeof wkey) < 0 ||
        ranks_key(r->cfg->admitted_key, queue, akey, sizeof akey) < 0)
        return -1;
    struct batch *b = batch_new(queue, users, n, akey);
    if (!b)
        return -1;
    b->r = r;
    b->fn = fn;
    b->arg = arg;
    int set = r->cfg->admitted_type == SSE_ADMITTED_SET;
    b->adm = set ? "SISMEMBER" : "ZSCORE";
    struct batch **link = r->tail;
    *link = b;
    r->tail = &b->next;
    /* Counted up as commands go out; the batch is freed by the last
     * reply, which hiredis delivers even when the link drops (NULL). The
     * hold keeps a reply that comes early from ending it too soon. */
    b->outstanding = 1;
    b->tags[0] = (struct tag){b, 0, TAG_COUNT};
    b->tags[1] = (struct tag){b, 0, TAG_ADMITTED_COUNT};
    int rc = send_cmd(r->ac, &b->tags[0], "ZCARD", wkey, NULL);
    if (rc == 0)
        rc = send_cmd(r->ac, &b->tags[1], set ? "SCARD" : "ZCARD", akey, NULL);
    int range = ranks_use_range(n, waiting_hint);
    for (size_t i = 0; i < n; i++) {
        struct tag *t = &b->tags[FIXED_TAGS + 2 * i];
        b->answers[i].state = RANKS_GONE;
        t[0] = (struct tag){b, (uint32_t)i, TAG_RANK};
        t[1] = (struct tag){b, (uint32_t)i, TAG_ADMITTED};
        if (rc == 0 && !range)
            rc = send_cmd(r->ac, &t[0], "ZRANK", wkey, b->users[i]);
    }
    if (rc == 0 && range) {
        struct tag *t = &b->tags[TAGS(n) - 1];
        *t = (struct tag){b, 0, TAG_RANGE};
        const char *argv[4] = {"ZRANGE", wkey, "0", "-1"};
        size_t lens[4] = {6, strlen(wkey), 1, 2};
        rc = redisAsyncCommandArgv(r->ac, on_reply, t, 4, argv, lens) == REDIS_OK
                 ? 0 : -1;
        b->outstanding += rc == 0;
        atomic_fetch_add(&r->stats.ranges, rc == 0);
    }
    if (b->outstanding == 1) {
        /* Nothing went out (hiredis refuses while the link is closing):
         * fail here, so that fn is never called from inside this call. */
        *link = NULL; /* the last batch: nothing was linked after it */
        r->tail = link;
        free(b);
        return -1;
    }
    atomic_fetch_add(&r->stats.queries, 1);
    b->failed |= rc < 0;
    batch_release(b); /* drops the hold taken above */
    return 0;
}

/* ---- the connection --------------------------------------------------- */

static void connect_now(struct ranks *r);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    connect_now(arg);
}

static void schedule_retry(struct ranks *r)
{
    int64_t ms = backoff_next(&r->backoff);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(r->retry, &tv);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct ranks *r = ac->data;
    if (status != REDIS_OK) {
        log_warn("redis", "cannot connect to %s:%lld: %s", r->cfg->host,
                 (long long)r->cfg->port, ac->errstr);
        r->ac = NULL; /* hiredis frees a context that failed to connect */
        schedule_retry(r);
    }
}

/* The PING sent after AUTH and SELECT: Redis answers, so it is up. (With
 * TLS, hiredis's own connect only reached our Unix socket.) */
static void on_ready(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct ranks *r = ac->data;
    redisReply *rep = reply;
    (void)privdata;
    if (!rep || rep->type != REDIS_REPLY_STATUS)
        return; /* the connection failed: on_disconnect follows */
    log_info("redis", "connected to %s:%lld%s", r->cfg->host,
             (long long)r->cfg->port, r->tls ? " over TLS" : "");
    r->up = 1;
    atomic_store(&r->stats.up, 1);
    backoff_reset(&r->backoff);
    if (r->on_up)
        r->on_up(r->arg);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct ranks *r = ac->data;
    int was_up = r->up;
    r->ac = NULL;
    r->up = 0;
    atomic_store(&r->stats.up, 0);
    if (r->stopping)
        return;
    if (was_up) {
        log_warn("redis", "connection lost: %s",
                 status == REDIS_OK ? "closed by us" : ac->errstr);
        atomic_fetch_add(&r->stats.reconnects, 1);
    } else if (status != REDIS_OK) {
        log_warn("redis", "connection to %s:%lld failed before it was ready: "
                 "%s", r->cfg->host, (long long)r->cfg->port, ac->errstr);
    }
    schedule_retry(r); /* also after a refused AUTH: it may be fixed */
}

/* AUTH and SELECT go out first; replies to them only matter on error. */
static void on_setup_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply *rep = reply;
    (void)privdata;
    if (rep && rep->type == REDIS_REPLY_ERROR) {
        log_error("redis", "setting up the connection: %s", rep->str);
        redisAsyncDisconnect(ac);
    }
}

static void connect_now(struct ranks *r)
{
    r->ac = r->tls ? redisAsyncConnectUnix(rtls_path(r->tls))
                   : redisAsyncConnect(r->cfg->host, (int)r->cfg->port);
    if (!r->ac || r->ac->err) {
        log_warn("redis", "cannot connect: %s",
                 r->ac ? r->ac->errstr : "out of memory");
        if (r->ac)
            redisAsyncFree(r->ac);
        r->ac = NULL;
        schedule_retry(r);
        return;
    }
    r->ac->data = r;
    redisLibeventAttach(r->ac, r->base);
    redisAsyncSetConnectCallback(r->ac, on_connect);
    redisAsyncSetDisconnectCallback(r->ac, on_disconnect);
    if (r->cfg->password)
        redisAsyncCommand(r->ac, on_setup_reply, NULL, "AUTH %s",
                          r->cfg->password);
    if (r->cfg->db)
        redisAsyncCommand(r->ac, on_setup_reply, NULL, "SELECT %lld",
                          (long long)r->cfg->db);
    redisAsyncCommand(r->ac, on_ready, NULL, "PING");
}

struct ranks *ranks_new(struct event_base *base, const struct sse_redis_cfg *cfg,
                        void (*on_up)(void *arg), void *arg, char *err,
                        size_t errlen)
{
    struct ranks *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *r = (struct ranks){.base = base, .cfg = cfg, .on_up = on_up, .arg = arg};
    r->tail = &r->head;
    backoff_init(&r->backoff, cfg->reconnect.initial_ms, cfg->reconnect.max_ms);
    if (cfg->tls.enabled && !(r->tls = rtls_new(base, cfg, err, errlen))) {
        free(r);
        return NULL;
    }
    if (!(r->retry = evtimer_new(base, on_retry, r))) {
        snprintf(err, errlen, "out of memory");
        rtls_free(r->tls);
        free(r);
        return NULL;
    }
    connect_now(r);
    return r;
}

void ranks_free(struct ranks *r)
{
    if (!r)
        return;
    r->stopping = 1;
    if (r->ac)
        redisAsyncFree(r->ac); /* pending callbacks get NULL replies */
    rtls_free(r->tls);
    event_free(r->retry);
    free(r);
}

int ranks_is_up(const struct ranks *r) { return r->up; }

struct ranks_stats *ranks_stats(struct ranks *r) { return &r->stats; }
