/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-sse while its world fails, with 5,000 browsers that reconnect
 * the way EventSource does:
 *
 *   - Redis restarted, with the queues moving meanwhile;
 *   - Kafka (the mock's broker) down while the queues move: the periodic
 *     refresh carries the ranks;
 *   - the daemon SIGKILLed and started again: 5,000 reconnect at once;
 *
 * and after each: no crash, every client ends with its right rank (or its
 * one confirm); at the end, with the clients gone, the memory the daemon
 * holds (malloc's count, process_heap_bytes) is back where it started.
 * Resident memory is printed too: glibc keeps some freed pages for reuse
 * even after the daemon's malloc_trim, so it is no measure of holding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sse/token.h"
#include "tests/integration/sse_env.h"

#define SECRET "test-secret-0123456789abcdef"
#define QUEUES 5
#define PER_QUEUE 1000
#define CLIENTS (QUEUES * PER_QUEUE)
#define SLACK (1 << 20) /* metric series, hash tables grown on the way */

/* Right rank while waiting; one confirm (and the end) once admitted. */
static int agrees(struct sse_client *c)
{
    long long r = sse_env_redis(c->e, "ZRANK queue:%s:waiting %s", c->queue,
                                c->user);
    if (r >= 0)
        return c->last_rank == r + 1 && c->confirms == 0 && c->bev;
    return c->confirms == 1 && c->closed;
}

static int all_agree(struct sse_env *e, struct sse_client *c, int timeout_ms)
{
    int64_t end = sse_env_now_ms() + timeout_ms;
    size_t ok = 0;
    while (sse_env_now_ms() < end) {
        ok = 0;
        for (int i = 0; i < CLIENTS; i++)
            ok += agrees(&c[i]) != 0;
        if (ok == CLIENTS)
            return 0;
        sse_env_pump(e, 100);
    }
    fprintf(stderr, "only %zu of %d clients agree with Redis\n", ok, CLIENTS);
    return -1;
}

/* Admits a few from the head of every queue; announces it when asked. */
static void move(struct sse_env *e, int announce)
{
    for (int q = 0; q < QUEUES; q++) {
        char name[16];
        snprintf(name, sizeof name, "q%d", q);
        for (int k = 0; k < 5; k++) {
            redisReply *r = redisCommand(e->rc, "ZPOPMIN queue:%s:waiting", name);
            if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
                sse_env_redis(e, "ZADD queue:%s:admitted 1 %s", name,
                              r->element[0]->str);
            if (r)
                freeReplyObject(r);
        }
        if (announce)
            assert_int_equal(sse_env_publish(e, name, 1), 0);
    }
}

static void test_sse_chaos(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client *c = calloc(CLIENTS, sizeof *c);
    char q[16], u[16], tok[TOKEN_MAX];
    assert_non_null(c);
    assert_int_equal(sse_env_start(&e, "  max_connections: 20000\n"
                                       "  heartbeat_interval: 1s\n",
                                   "queues:\n  refresh_interval: 1s\n"), 0);
    sse_env_pump(&e, 500);
    long base_rss = th_proc_rss(e.sse.pid);
    long long base_heap = sse_env_metric(&e, "process_heap_bytes");
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(q, sizeof q, "q%d", i / PER_QUEUE);
        snprintf(u, sizeof u, "u%d", i % PER_QUEUE);
        assert_true(sse_env_redis(&e, "ZADD queue:%s:waiting %d %s", q,
                                  i % PER_QUEUE, u) == 1);
        assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, q, u,
                               (int64_t)time(NULL) + 3600, tok, sizeof tok) > 0);
        assert_int_equal(sse_client_open(&e, &c[i], q, u, tok, 0), 0);
        c[i].reconnect = 1;
    }
    assert_int_equal(all_agree(&e, c, 60000), 0);
    long peak_rss = th_proc_rss(e.sse.pid);

    /* Redis goes away; the queues move while it is back but unannounced. */
    assert_true(sse_env_redis(&e, "SAVE") >= 0);
    assert_int_equal(th_redis_halt(&e.redis), 0);
    sse_env_pump(&e, 1500);
    assert_int_equal(th_redis_restart(&e.redis), 0);
    move(&e, 0);
    assert_int_equal(all_agree(&e, c, 15000), 0);

    /* Kafka goes away: no change event arrives, the refresh carries on. */
    assert_int_equal(th_kafka_cmd(&e.kafka, "down 1"), 0);
    move(&e, 0);
    assert_int_equal(all_agree(&e, c, 15000), 0);
    assert_int_equal(th_kafka_cmd(&e.kafka, "up 1"), 0);

    /* The daemon dies; 5,000 browsers come back at once. */
    th_kill(&e.sse);
    move(&e, 0);
    assert_int_equal(sse_env_run_sse(&e), 0);
    assert_int_equal(all_agree(&e, c, 60000), 0);
    int reconnects = 0;
    for (int i = 0; i < CLIENTS; i++)
        reconnects += c[i].reconnects;
    fprintf(stderr, "%d reconnects after the kill\n", reconnects);
    assert_true(reconnects >= CLIENTS - QUEUES * 15);
    move(&e, 1);
    assert_int_equal(all_agree(&e, c, 15000), 0);
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(c[i].foreign, 0);

    /* Everyone leaves: the memory the streams took goes back. */
    long loaded = th_proc_rss(e.sse.pid);
    long long loaded_heap = sse_env_metric(&e, "process_heap_bytes");
    for (int i = 0; i < CLIENTS; i++) {
        c[i].reconnect = 0;
        sse_client_close(&c[i]);
    }
    int64_t end = sse_env_now_ms() + 10000;
    long long heap = loaded_heap;
    while (sse_env_now_ms() < end &&
           ((heap = sse_env_metric(&e, "process_heap_bytes")) > base_heap + SLACK ||
            sse_env_metric(&e, "sse_connections") != 0))
        sse_env_pump(&e, 200);
    fprintf(stderr, "daemon heap: %lld KiB at start, %lld with 5,000 streams, "
            "%lld after they left; RSS %ld, %ld, %ld KiB (peak before the "
            "kill %ld)\n", base_heap >> 10, loaded_heap >> 10, heap >> 10,
            base_rss >> 10, loaded >> 10, th_proc_rss(e.sse.pid) >> 10, peak_rss >> 10);
    if (getenv("OUTBOX_SANITIZED"))
        fprintf(stderr, "sanitizer build: malloc's count is the sanitizer's, "
                "so the heap's return to its baseline is checked in build/ "
                "only (LeakSanitizer sees unreachable blocks, not held ones)\n");
    else
        /* The load shows in the count: 5,000 streams hold 563 B of heap
         * each since a stream is a socket and a small record (issue 13;
         * over 800 B each before), so 400 B each is a floor. */
        assert_true(heap >= 0 && heap <= base_heap + SLACK &&
                    loaded_heap > base_heap + CLIENTS * 400LL);
    free(c);
    assert_int_equal(sse_env_stop(&e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_chaos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
