/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-sse end to end: real Redis, kafka-mock, the daemon, and a
 * thousand SSE clients of the test's own (see sse_env.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sse/token.h"
#include "tests/integration/sse_env.h"

#define SECRET "test-secret-0123456789abcdef"

static void token_for(const char *queue, const char *user, int64_t ttl,
                      char *out)
{
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, queue, user,
                           (int64_t)time(NULL) + ttl, out, TOKEN_MAX) > 0);
}

/* Pumps until every client satisfies `done`, at most timeout_ms. */
static int pump_until(struct sse_env *e, struct sse_client *c, size_t n,
                      int (*done)(struct sse_client *), int timeout_ms)
{
    int64_t end = sse_env_now_ms() + timeout_ms;
    for (;;) {
        size_t ok = 0;
        for (size_t i = 0; i < n; i++)
            ok += done(&c[i]) != 0;
        if (ok == n)
            return 0;
        if (sse_env_now_ms() > end) {
            fprintf(stderr, "only %zu of %zu clients got there\n", ok, n);
            for (size_t i = 0; i < n; i++)
                if (!done(&c[i]))
                    fprintf(stderr, "  %s/%s: status %d rank %lld (ZRANK %lld) "
                            "ranks %d confirms %d gones %d closed %d last %s\n",
                            c[i].queue, c[i].user, c[i].status, c[i].last_rank,
                            sse_env_redis(e, "ZRANK queue:%s:waiting %s",
                                          c[i].queue, c[i].user),
                            c[i].ranks, c[i].confirms, c[i].gones, c[i].closed,
                            c[i].last_data);
            return -1;
        }
        sse_env_pump(e, 20);
    }
}

static int has_rank(struct sse_client *c) { return c->ranks > 0; }

/* The client's last word agrees with Redis: rank = ZRANK + 1 while
 * waiting; one confirm (and the end) once admitted. */
static int agrees(struct sse_client *c)
{
    long long r = sse_env_redis(c->e, "ZRANK queue:%s:waiting %s", c->queue,
                                c->user);
    if (r >= 0)
        return c->confirms == 0 && c->last_rank == r + 1;
    return c->confirms == 1 && c->closed;
}

static void open_clients(struct sse_env *e, struct sse_client *c, int queues,
                         int per_queue)
{
    char q[32], u[32], tok[TOKEN_MAX];
    for (int i = 0; i < queues * per_queue; i++) {
        snprintf(q, sizeof q, "q%d", i / per_queue);
        snprintf(u, sizeof u, "u%d", i % per_queue);
        if (i % per_queue == 0)
            assert_true(sse_env_redis(e, "DEL queue:%s:waiting queue:%s:admitted",
                                      q, q) >= 0);
        assert_true(sse_env_redis(e, "ZADD queue:%s:waiting %d %s", q,
                                  i % per_queue, u) == 1);
        token_for(q, u, 600, tok);
        assert_int_equal(sse_client_open(e, &c[i], q, u, tok, 0), 0);
    }
}

static void close_clients(struct sse_client *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sse_client_close(&c[i]);
}

/* ---- tokens and malformed requests ----------------------------------- */

static int poll_status(struct sse_env *e, const char *path_and_query)
{
    char req[1200], resp[4096];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             path_and_query);
    return sse_env_raw(e, req, resp, sizeof resp);
}

/* The same with a subscribe token added to the target's query. */
static int poll_with_token(struct sse_env *e, const char *target,
                           const char *tok)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%ctoken=%s", target,
             strchr(target, '?') ? '&' : '?', tok);
    return poll_status(e, path);
}

#define BOB "/v1/queues/q1/users/bob" /* bob's state, for polling clients */

static void test_tokens_and_bad_requests(void **state)
{
    (void)state;
    struct sse_env e;
    char tok[TOKEN_MAX], path[1024], resp[4096];
    assert_int_equal(sse_env_start(&e, "  cors_origins: [\"http://shop.example\"]\n",
                                   NULL), 0);
    assert_int_equal(sse_env_redis(&e, "ZADD queue:q1:waiting 1 alice 2 bob"), 2);

    assert_int_equal(poll_status(&e, BOB), 401);
    assert_int_equal(sse_env_token(&e, "q1", "bob", 60, tok, sizeof tok), 0);
    assert_int_equal(poll_with_token(&e, BOB, tok), 200);
    tok[strlen(tok) - 2] ^= 1; /* a signature that is not ours */
    assert_int_equal(poll_with_token(&e, BOB, tok), 401);
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q1", "bob",
                           (int64_t)time(NULL) - 1, tok, sizeof tok) > 0);
    assert_int_equal(poll_with_token(&e, BOB, tok), 401); /* expired */
    token_for("q1", "alice", 60, tok);
    assert_int_equal(poll_with_token(&e, BOB, tok), 403); /* another user */
    token_for("q2", "bob", 60, tok);
    assert_int_equal(poll_with_token(&e, "/v1/queues/q1/events?user=bob", tok),
                     403); /* another queue */

    /* The state itself, for polling clients. */
    token_for("q1", "bob", 60, tok);
    snprintf(path, sizeof path,
             "GET /v1/queues/q1/users/bob?token=%s HTTP/1.0\r\n\r\n", tok);
    assert_int_equal(sse_env_raw(&e, path, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "{\"queue\":\"q1\",\"user\":\"bob\","
                                 "\"state\":\"waiting\",\"rank\":2,\"waiting\":2"));

    /* Malformed requests get 4xx; the server keeps serving. */
    assert_int_equal(poll_status(&e, "/v1/queues/q%zz/users/bob?token=x"), 400);
    assert_int_equal(poll_status(&e, "/v1/queues/q1/events?user=b%0"), 400);
    assert_int_equal(poll_status(&e, "/v1/queues/q1/events"), 400); /* no user */
    assert_int_equal(poll_status(&e, "/v1/elsewhere"), 404);
    assert_int_equal(sse_env_raw(&e, "POST /v1/queues/q1/events HTTP/1.0\r\n\r\n",
                                 resp, sizeof resp), 405);
    assert_non_null(strstr(resp, "Allow: GET, OPTIONS"));
    /* A made-up method is the client's error, like any other. */
    assert_int_equal(sse_env_raw(&e, "BREW /v1/queues/q1/events HTTP/1.0\r\n\r\n",
                                 resp, sizeof resp), 405);
    size_t big = 64 * 1024;
    char *huge = malloc(big + 128);
    assert_non_null(huge);
    int n = snprintf(huge, big + 128, "GET /v1/queues/q1/events?user=bob HTTP/1.1\r\nX-Big: ");
    memset(huge + n, 'a', big);
    strcpy(huge + n + big, "\r\n\r\n");
    int code = sse_env_raw(&e, huge, resp, sizeof resp);
    free(huge);
    assert_true(code >= 400 && code < 500);
    assert_int_equal(sse_env_raw(&e, "GARBAGE\r\n\r\n", resp, sizeof resp), 400);
    assert_int_equal(poll_with_token(&e, BOB, tok), 200); /* still serving */
    assert_int_equal(sse_env_metric(&e, "sse_http_responses_total{code=\"401\"}"), 3);

    /* CORS: the listed origin is allowed, another is not; preflight. */
    snprintf(path, sizeof path, "GET /v1/queues/q1/users/bob?token=%s HTTP/1.0\r\n"
             "Origin: http://shop.example\r\n\r\n", tok);
    assert_int_equal(sse_env_raw(&e, path, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "Access-Control-Allow-Origin: http://shop.example\r\n"));
    snprintf(path, sizeof path, "GET /v1/queues/q1/users/bob?token=%s HTTP/1.0\r\n"
             "Origin: http://evil.example\r\n\r\n", tok);
    assert_int_equal(sse_env_raw(&e, path, resp, sizeof resp), 200);
    assert_null(strstr(resp, "Access-Control-Allow-Origin"));
    assert_int_equal(sse_env_raw(&e, "OPTIONS /v1/queues/q1/events HTTP/1.0\r\n"
                                     "Origin: http://shop.example\r\n\r\n",
                                 resp, sizeof resp), 204);
    assert_non_null(strstr(resp, "Access-Control-Allow-Headers: Last-Event-ID"));

    /* Last-Event-ID on reconnect: accepted (the stream starts with the
     * current state anyway), also one that is no event id of ours
     * (test_sse_hostile test_unusable_last_event_id has more). */
    snprintf(path, sizeof path, "GET /v1/queues/q1/events?user=bob&token=%s HTTP/1.0\r\n"
             "Last-Event-ID: 1796071461410246\r\n\r\n", tok);
    assert_int_equal(sse_env_raw(&e, path, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "text/event-stream"));
    snprintf(path, sizeof path, "GET /v1/queues/q1/events?user=bob&token=%s"
             "&lastEventId=%%zz HTTP/1.0\r\n\r\n", tok);
    assert_int_equal(sse_env_raw(&e, path, resp, sizeof resp), 200);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* ---- a thousand clients ----------------------------------------------- */

#define QUEUES 5
#define PER_QUEUE 200
#define CLIENTS (QUEUES * PER_QUEUE)

/* Admits the head of every queue a few times over, with change events;
 * also lets strangers join at the back. */
static void drive(struct sse_env *e, struct sse_client *c, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        for (int q = 0; q < QUEUES; q++) {
            char name[16];
            snprintf(name, sizeof name, "q%d", q);
            for (int k = 0; k < 3 + (r + q) % 7; k++) {
                redisReply *rep = redisCommand(e->rc, "ZPOPMIN queue:%s:waiting",
                                               name);
                assert_non_null(rep);
                if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2)
                    assert_true(sse_env_redis(e, "ZADD queue:%s:admitted %d %s",
                                              name, r, rep->element[0]->str) == 1);
                freeReplyObject(rep);
            }
            assert_true(sse_env_redis(e, "ZADD queue:%s:waiting %d stranger%d",
                                      name, 1000 + r, r) == 1);
            assert_int_equal(sse_env_publish(e, name, 1 + r % 3), 0);
        }
        sse_env_pump(e, 150);
    }
    (void)c;
}

static void test_thousand_clients(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client *c = calloc(CLIENTS, sizeof *c);
    char tok[TOKEN_MAX];
    assert_non_null(c);
    assert_int_equal(sse_env_start(&e, "  max_connections: 5000\n",
                                   "queues:\n  refresh_interval: 60s\n"), 0);
    open_clients(&e, c, QUEUES, PER_QUEUE);
    assert_int_equal(pump_until(&e, c, CLIENTS, has_rank, 30000), 0);
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(c[i].last_rank, i % PER_QUEUE + 1);
    drive(&e, c, 12);
    assert_int_equal(pump_until(&e, c, CLIENTS, agrees, 15000), 0);
    int admitted = 0;
    for (int i = 0; i < CLIENTS; i++) {
        admitted += c[i].confirms;
        assert_int_equal(c[i].foreign, 0); /* nobody hears of anyone else */
    }
    assert_true(admitted > 100);

    /* Connecting after the last change: the current rank at once. */
    struct sse_client late;
    token_for("q3", "u199", 600, tok);
    assert_int_equal(sse_client_open(&e, &late, "q3", "u199", tok, 0), 0);
    assert_int_equal(pump_until(&e, &late, 1, has_rank, 2000), 0);
    assert_true(agrees(&late));
    sse_client_close(&late);
    close_clients(c, CLIENTS);
    free(c);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* ---- coalescing -------------------------------------------------------- */

static void test_burst_is_coalesced(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client c[10];
    assert_int_equal(sse_env_start(&e, NULL, "queues:\n  refresh_interval: 60s\n"), 0);
    open_clients(&e, c, 1, 10);
    assert_int_equal(pump_until(&e, c, 10, has_rank, 10000), 0);
    long long before = sse_env_metric(&e, "sse_recomputes_total");
    long long changes = sse_env_metric(&e, "sse_changes_total");
    assert_true(sse_env_redis(&e, "ZREM queue:q0:waiting u0 u1 u2") == 3);
    assert_int_equal(sse_env_publish(&e, "q0", 10000), 0);
    int64_t end = sse_env_now_ms() + 20000;
    while (sse_env_metric(&e, "sse_changes_total") < changes + 10000 &&
           sse_env_now_ms() < end)
        sse_env_pump(&e, 50);
    sse_env_pump(&e, 300); /* the last recompute */
    long long spent = sse_env_metric(&e, "sse_recomputes_total") - before;
    fprintf(stderr, "10000 change events cost %lld recomputes\n", spent);
    assert_int_equal(sse_env_metric(&e, "sse_changes_total"), changes + 10000);
    assert_true(spent >= 1 && spent <= 20);
    assert_true(sse_env_metric(&e, "sse_coalesced_changes_total") >= 10000 - 20);
    for (int i = 3; i < 10; i++)
        assert_int_equal(c[i].last_rank, i - 2);
    close_clients(c, 10);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* ---- waiting, admitted and gone in one batch -------------------------- */

/* How often Redis ran a command since the last CONFIG RESETSTAT. */
static long long calls(struct sse_env *e, const char *cmd)
{
    char key[64];
    redisReply *r = redisCommand(e->rc, "INFO commandstats");
    snprintf(key, sizeof key, "cmdstat_%s:calls=", cmd);
    const char *p = r && r->str ? strstr(r->str, key) : NULL;
    long long n = p ? atoll(p + strlen(key)) : 0;
    if (r)
        freeReplyObject(r);
    return n;
}

static int told(struct sse_client *c) { return c->ranks > 0 || c->closed; }

static void test_every_state(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client c[4];
    const char *users[4] = {"w1", "w2", "in", "out"};
    char tok[TOKEN_MAX];
    assert_int_equal(sse_env_start(&e, NULL, "queues:\n  refresh_interval: 60s\n"), 0);
    assert_int_equal(sse_env_redis(&e, "ZADD queue:q:waiting 1 w1 2 w2"), 2);
    assert_int_equal(sse_env_redis(&e, "ZADD queue:q:admitted 1 in"), 1);
    for (int i = 0; i < 4; i++) {
        token_for("q", users[i], 600, tok);
        assert_int_equal(sse_client_open(&e, &c[i], "q", users[i], tok, 0), 0);
    }
    assert_int_equal(pump_until(&e, c, 4, told, 5000), 0);
    assert_int_equal(c[0].last_rank, 1);
    assert_int_equal(c[1].last_rank, 2);
    assert_true(c[2].confirms == 1 && c[2].closed && !c[2].ranks);
    assert_true(c[3].gones == 1 && c[3].closed && !c[3].ranks);
    sse_env_pump(&e, 100);

    /* w1 is admitted: the recompute asks for the waiting set with one
     * ZRANGE (two watchers of a queue of two: cheaper than two ZRANKs,
     * see ranks.h), and the admitted set only of w1, whom it did not
     * find. */
    assert_true(sse_env_redis(&e, "CONFIG RESETSTAT") >= -1);
    assert_int_equal(sse_env_redis(&e, "ZREM queue:q:waiting w1"), 1);
    assert_int_equal(sse_env_redis(&e, "ZADD queue:q:admitted 2 w1"), 1);
    assert_int_equal(sse_env_publish(&e, "q", 1), 0);
    int64_t end = sse_env_now_ms() + 5000;
    while (!(c[0].closed && c[1].last_rank == 1) && sse_env_now_ms() < end)
        sse_env_pump(&e, 20);
    assert_true(c[0].confirms == 1 && c[0].closed);
    assert_int_equal(c[1].last_rank, 1);
    assert_int_equal(calls(&e, "zrank"), 0);
    assert_int_equal(calls(&e, "zrange"), 1);
    assert_int_equal(calls(&e, "zscore"), 1);
    close_clients(c, 4);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* ---- ZRANK per user, or one ZRANGE of the queue ------------------------ */

/* A queue of 3,000 waiting: 100 watchers are asked about with a ZRANK
 * each (100 x 10 < 3,000), 400 with one ZRANGE (see ranks.h). Either way
 * every watcher, two watching one user among them, and the admitted and
 * gone ones, is told the same as ZRANK says. */
static int rank_agrees(struct sse_client *c)
{
    long long r = sse_env_redis(c->e, "ZRANK queue:%s:waiting %s", c->queue,
                                c->user);
    return r >= 0 ? c->last_rank == r + 1 : c->closed;
}

#define LONGQ 3000

static void wave_and_count(struct sse_env *e, struct sse_client *c, int n,
                           int k, long long *zrank, long long *zrange)
{
    assert_true(sse_env_redis(e, "CONFIG RESETSTAT") >= -1);
    assert_int_equal(sse_env_redis(e, "ZADD queue:big:waiting %d ahead%d", -k, k), 1);
    assert_int_equal(sse_env_redis(e, "ZREM queue:big:waiting u7"), 1);
    assert_true(sse_env_redis(e, "ZADD queue:big:admitted 1 u7") >= 0);
    long long before = sse_env_metric(e, "sse_recomputes_total");
    assert_int_equal(sse_env_publish(e, "big", 1), 0);
    /* The daemon's commands counted before the test's own ZRANKs below:
     * they go out the moment the recompute starts. */
    int64_t end = sse_env_now_ms() + 5000;
    while (sse_env_metric(e, "sse_recomputes_total") == before &&
           sse_env_now_ms() < end)
        sse_env_pump(e, 20);
    sse_env_pump(e, 300);
    *zrank = calls(e, "zrank");
    *zrange = calls(e, "zrange");
    assert_int_equal(pump_until(e, c, (size_t)n, rank_agrees, 10000), 0);
}

static void test_range_or_rank(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client *c = calloc(401, sizeof *c);
    char u[16], tok[TOKEN_MAX];
    long long zrank, zrange;
    assert_non_null(c);
    assert_int_equal(sse_env_start(&e, NULL, "queues:\n  refresh_interval: 60s\n"), 0);
    assert_int_equal(sse_env_fill(&e, "queue:big:waiting", LONGQ), LONGQ);
    /* 100 watchers, every 30th user; u7 among them (admitted below). */
    int n = 0;
    for (int i = 0; n < 100; i += 30, n++) {
        snprintf(u, sizeof u, "u%d", n == 1 ? 7 : i);
        token_for("big", u, 600, tok);
        assert_int_equal(sse_client_open(&e, &c[n], "big", u, tok, 0), 0);
    }
    assert_int_equal(pump_until(&e, c, (size_t)n, rank_agrees, 10000), 0);
    wave_and_count(&e, c, n, 1, &zrank, &zrange);
    fprintf(stderr, "%d watchers of %d: %lld ZRANK, %lld ZRANGE\n", n, LONGQ,
            zrank, zrange);
    assert_int_equal(zrange, 0);
    assert_true(zrank >= n - 1); /* u7's stream has ended */
    /* 301 more (one of them a second tab of u0's): 400 x 10 >= 3,000. */
    for (; n < 401; n++) {
        snprintf(u, sizeof u, "u%d", n == 400 ? 0 : 3 * n + 1);
        token_for("big", u, 600, tok);
        assert_int_equal(sse_client_open(&e, &c[n], "big", u, tok, 0), 0);
    }
    assert_int_equal(pump_until(&e, c, (size_t)n, rank_agrees, 10000), 0);
    assert_true(sse_env_redis(&e, "ZADD queue:big:waiting 1 u7") == 1);
    wave_and_count(&e, c, n, 2, &zrank, &zrange);
    fprintf(stderr, "%d watchers of %d: %lld ZRANK, %lld ZRANGE\n", n, LONGQ,
            zrank, zrange);
    assert_int_equal(zrank, 0);
    assert_true(zrange >= 1);
    assert_true(sse_env_metric(&e, "sse_redis_range_queries") >= 1);
    assert_int_equal(c[400].last_rank, c[0].last_rank); /* u0's two tabs */
    for (int i = 0; i < n; i++)
        assert_int_equal(c[i].foreign, 0);
    close_clients(c, (size_t)n);
    free(c);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* ---- a reader that stops reading -------------------------------------- */

static void test_slow_reader_cut_off(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client slow, fast;
    char user[200], tok[TOKEN_MAX];
    /* Long names make long events, so the bound is passed sooner. */
    memset(user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    assert_int_equal(sse_env_start(&e, "  max_output_buffer: 8KiB\n",
                                   "queues:\n  coalesce_interval: 5ms\n"), 0);
    assert_int_equal(sse_env_redis(&e, "ZADD queue:q:waiting 10 %s 11 fast", user), 2);
    token_for("q", user, 600, tok);
    assert_int_equal(sse_client_open(&e, &slow, "q", user, tok, 2048), 0);
    token_for("q", "fast", 600, tok);
    assert_int_equal(sse_client_open(&e, &fast, "q", "fast", tok, 0), 0);
    assert_int_equal(pump_until(&e, &slow, 1, has_rank, 5000), 0);
    assert_int_equal(pump_until(&e, &fast, 1, has_rank, 5000), 0);
    bufferevent_disable(slow.bev, EV_READ); /* the browser tab froze */

    /* Someone joins ahead and leaves again: every step moves both. */
    int step = 0;
    for (; step < 5000 && (step % 20 ||
                           sse_env_metric(&e, "sse_slow_clients_dropped_total") < 1);
         step++) {
        if (step % 2 == 0)
            sse_env_redis(&e, "ZADD queue:q:waiting 1 ahead");
        else
            sse_env_redis(&e, "ZREM queue:q:waiting ahead");
        assert_int_equal(sse_env_publish(&e, "q", 1), 0);
        sse_env_pump(&e, 10);
    }
    fprintf(stderr, "cut off after %d changes\n", step);
    assert_int_equal(sse_env_metric(&e, "sse_slow_clients_dropped_total"), 1);
    /* The other reader kept up all along and still does. */
    sse_env_redis(&e, "ZADD queue:q:waiting 1 ahead2");
    assert_int_equal(sse_env_publish(&e, "q", 1), 0);
    int64_t t0 = sse_env_now_ms();
    while (!agrees(&fast) && sse_env_now_ms() - t0 < 1000)
        sse_env_pump(&e, 5);
    assert_true(agrees(&fast));
    assert_true(fast.ranks >= 10); /* it was told all along */
    assert_false(fast.closed);
    sse_client_close(&slow);
    sse_client_close(&fast);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* ---- Redis goes away and comes back ----------------------------------- */

static int ranks_match(struct sse_client *c) { return agrees(c) && !c->closed; }

static void test_redis_restart(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client c[50];
    assert_int_equal(sse_env_start(&e, "  heartbeat_interval: 200ms\n",
                                   "queues:\n  refresh_interval: 60s\n"), 0);
    open_clients(&e, c, 1, 50);
    assert_int_equal(pump_until(&e, c, 50, has_rank, 10000), 0);
    /* A change nobody announces: only a recompute on reconnection finds it. */
    assert_true(sse_env_redis(&e, "ZREM queue:q0:waiting u0 u1 u2 u3 u4") == 5);
    assert_true(sse_env_redis(&e, "ZADD queue:q0:admitted 1 u0 1 u1 1 u2 1 u3 1 u4") == 5);
    assert_true(sse_env_redis(&e, "SAVE") >= 0);
    assert_int_equal(th_redis_halt(&e.redis), 0);
    int pings = c[10].pings;
    sse_env_pump(&e, 1500); /* streams stay open, heartbeats go on */
    for (int i = 0; i < 50; i++)
        assert_false(c[i].closed);
    assert_true(c[10].pings > pings);
    assert_int_equal(c[10].last_rank, 11); /* nothing changed meanwhile */
    assert_int_equal(th_redis_restart(&e.redis), 0);
    int64_t t0 = sse_env_now_ms();
    assert_int_equal(pump_until(&e, c + 5, 45, ranks_match, 2000), 0);
    fprintf(stderr, "ranks right %lld ms after Redis returned\n",
            (long long)(sse_env_now_ms() - t0));
    assert_int_equal(c[10].last_rank, 6);
    for (int i = 0; i < 5; i++)
        assert_int_equal(c[i].confirms, 1);
    close_clients(c, 50);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* ---- SIGTERM with a thousand streams ---------------------------------- */

static int ended_with_retry(struct sse_client *c)
{
    return c->closed && c->retries >= 2;
}

static void test_drain(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client *c = calloc(CLIENTS, sizeof *c);
    assert_non_null(c);
    assert_int_equal(sse_env_start(&e, "  max_connections: 5000\n"
                                       "  drain_window: 2s\n", NULL), 0);
    open_clients(&e, c, QUEUES, PER_QUEUE);
    assert_int_equal(pump_until(&e, c, CLIENTS, has_rank, 30000), 0);
    int waited = 0;
    assert_int_equal(th_stop(&e.sse, 10000, &waited), 0); /* exit status 0 */
    fprintf(stderr, "drained 1000 streams in %d ms\n", waited);
    /* The 2 s window, then the exit (about 0.15 s more in the sanitizer
     * build, whose leak check runs at exit). */
    assert_true(waited >= 1000 && waited <= 3000);
    assert_true(th_log_contains(&e.sse, "every stream closed"));
    assert_int_equal(pump_until(&e, c, CLIENTS, ended_with_retry, 5000), 0);
    close_clients(c, CLIENTS);
    free(c);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* ---- a topic created later ------------------------------------------- */

static int rank_is_one(struct sse_client *c) { return c->last_rank == 1; }

/* A configured topic that does not exist at start (kafka-mock creates it
 * on the daemon's first metadata request, as a broker with
 * auto.create.topics.enable does): the discovery thread starts reading
 * it, and a change event on it moves the ranks (the periodic refresh is
 * an hour away, so only the event can). */
static void test_late_topic_is_discovered(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client c;
    char tok[TOKEN_MAX];
    struct sse_env_opts o = {.more_topics = ", outbox.event.late",
                             .kafka_extra = "  discovery_interval: 200ms\n",
                             .sections = "queues:\n  refresh_interval: 1h\n"};
    assert_int_equal(sse_env_start_opts(&e, &o), 0);
    assert_true(sse_env_redis(&e, "ZADD queue:late:waiting 1 a 2 me") == 2);
    token_for("late", "me", 600, tok);
    assert_int_equal(sse_client_open(&e, &c, "late", "me", tok, 0), 0);
    assert_int_equal(pump_until(&e, &c, 1, has_rank, 5000), 0);
    assert_int_equal(c.last_rank, 2);
    /* outbox.event.queue has 4 partitions; more are the new topic's. */
    for (int i = 0; i < 100 && sse_env_metric(&e, "sse_kafka_partitions") <= 4; i++)
        sse_env_pump(&e, 100);
    assert_true(sse_env_metric(&e, "sse_kafka_partitions") > 4);
    assert_true(th_log_contains(&e.sse, "reading outbox.event.late partitions"));

    /* A change event on it. If the topic was there at the first pass it is
     * read from its end, which the consumer learns a moment after the
     * assignment: an event sent before that is (rightly) not news to it,
     * so the event is sent again until one is heard. */
    assert_true(sse_env_redis(&e, "ZREM queue:late:waiting a") == 1);
    for (int i = 0; i < 25 && c.last_rank != 1; i++) {
        assert_int_equal(rd_kafka_producev(e.producer,
                                           RD_KAFKA_V_TOPIC("outbox.event.late"),
                                           RD_KAFKA_V_KEY("late", 4),
                                           RD_KAFKA_V_VALUE("{}", 2),
                                           RD_KAFKA_V_END), 0);
        assert_int_equal(rd_kafka_flush(e.producer, 10000), 0);
        sse_env_pump(&e, 200);
    }
    assert_int_equal(pump_until(&e, &c, 1, rank_is_one, 1000), 0);
    sse_client_close(&c);
    assert_int_equal(sse_env_stop(&e), 0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_and_bad_requests),
        cmocka_unit_test(test_thousand_clients),
        cmocka_unit_test(test_burst_is_coalesced),
        cmocka_unit_test(test_every_state),
        cmocka_unit_test(test_range_or_rank),
        cmocka_unit_test(test_slow_reader_cut_off),
        cmocka_unit_test(test_redis_restart),
        cmocka_unit_test(test_drain),
        cmocka_unit_test(test_late_topic_is_discovered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
