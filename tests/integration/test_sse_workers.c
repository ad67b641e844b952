/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-sse with http.workers: several processes on one port under a
 * supervisor (sse/super.h).
 *
 *   - one worker SIGKILLed while 5,000 browsers watch a queue and the
 *     ranks move: the killed worker's browsers reconnect (to the others,
 *     or to its successor) and end with their right rank; the other
 *     workers' browsers are never cut off and see every move, ids rising;
 *     the supervisor restarts the worker; /metrics and /healthz speak for
 *     the whole server throughout;
 *   - SIGTERM: every worker drains its streams over http.drain_window,
 *     each stream gets its retry hint, and the server exits 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sse/token.h"
#include "tests/integration/sse_env.h"

#define SECRET "test-secret-0123456789abcdef"
#define WORKERS 3
#define MAXW 16

/* The supervisor's children: its workers. */
static int worker_pids(pid_t super, pid_t *out, int max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)super,
             (int)super);
    FILE *fp = fopen(path, "r");
    int n = 0, pid;
    while (fp && n < max && fscanf(fp, "%d", &pid) == 1)
        out[n++] = pid;
    if (fp)
        fclose(fp);
    return n;
}

static int start(struct sse_env *e, const char *http_extra)
{
    struct sse_env_opts o = {.http_extra = http_extra, .workers = WORKERS};
    if (sse_env_start_opts(e, &o) < 0)
        return -1;
    /* /healthz is 200 once one worker serves: wait for all. */
    for (int i = 0; i < 200; i++) {
        if (sse_env_metric(e, "sse_workers") == WORKERS)
            return 0;
        usleep(50000);
    }
    return -1;
}

/* The descriptors 5,000 clients need, in this process. */
static void raise_fd_limit(rlim_t want)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void fill_queue(struct sse_env *e, int n)
{
    assert_int_equal(sse_env_fill(e, "queue:q:waiting", n), n);
}

/* Pumps until every client has rank want(i), or ms pass. 0 when they do. */
static int pump_ranks(struct sse_env *e, struct sse_client *c, int n,
                      long long base, int ms)
{
    int64_t end = sse_env_now_ms() + ms;
    for (;;) {
        int behind = 0;
        for (int i = 0; i < n; i++)
            behind += c[i].last_rank != base + i + 1;
        if (!behind)
            return 0;
        if (sse_env_now_ms() > end) {
            fprintf(stderr, "%d clients without their rank\n", behind);
            return -1;
        }
        sse_env_pump(e, 20);
    }
}

/* One move: someone joins ahead of everyone, every rank grows by one. */
static void wave(struct sse_env *e, int k)
{
    assert_true(sse_env_redis(e, "ZADD queue:q:waiting %d ahead%d", -k, k) == 1);
    assert_int_equal(sse_env_publish(e, "q", 1), 0);
}

#define CLIENTS 5000
#define WAVES 6
#define KILL_AT 3 /* the wave right after which a worker dies */

static void test_worker_killed_under_5000_clients(void **state)
{
    (void)state;
    struct sse_env e;
    char user[16], tok[TOKEN_MAX];
    pid_t pids[MAXW];
    raise_fd_limit(CLIENTS + 1000);
    struct sse_client *c = calloc(CLIENTS, sizeof *c);
    assert_non_null(c);
    assert_int_equal(start(&e, "  max_connections: 20000\n"), 0);
    assert_int_equal(worker_pids(e.sse.pid, pids, MAXW), WORKERS);
    fill_queue(&e, CLIENTS);
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(user, sizeof user, "u%d", i);
        assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", user,
                               (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
        assert_int_equal(sse_client_open(&e, &c[i], "q", user, tok, 0), 0);
        c[i].reconnect = 1;
        if (i % 500 == 0)
            sse_env_pump(&e, 1);
    }
    int64_t t0 = sse_env_now_ms();
    assert_int_equal(pump_ranks(&e, c, CLIENTS, 0, 60000), 0);
    fprintf(stderr, "%d streams with their rank after %lld ms\n", CLIENTS,
            (long long)(sse_env_now_ms() - t0));
    assert_int_equal(sse_env_metric(&e, "sse_connections"), CLIENTS);

    for (int k = 1; k <= WAVES; k++) {
        wave(&e, k);
        if (k == KILL_AT) {
            /* Right after the change: its browsers miss this move. */
            assert_int_equal(kill(pids[1], SIGKILL), 0);
            fprintf(stderr, "worker pid %d killed after wave %d\n",
                    (int)pids[1], k);
        }
        assert_int_equal(pump_ranks(&e, c, CLIENTS, k, 60000), 0);
    }
    int cut = 0, survivors_ok = 0;
    for (int i = 0; i < CLIENTS; i++) {
        assert_int_equal(c[i].foreign, 0);
        assert_int_equal(c[i].ids_backwards, 0);
        assert_int_equal(c[i].last_rank, WAVES + i + 1);
        if (c[i].reconnects) {
            cut++;
            continue;
        }
        /* Never cut off: the first state and then every move, one event
         * each, none missed. */
        assert_false(c[i].closed);
        if (c[i].ranks != 1 + WAVES)
            fail_msg("u%d: %d rank events, not %d", i, c[i].ranks, 1 + WAVES);
        survivors_ok++;
    }
    fprintf(stderr, "%d clients reconnected (the killed worker's), %d others "
            "saw all %d moves\n", cut, survivors_ok, WAVES);
    /* The kernel spread the streams over the three workers. */
    assert_true(cut >= CLIENTS / 20 && cut <= CLIENTS * 2 / 3);
    /* Restarted, and the whole server in /metrics again. */
    t0 = sse_env_now_ms();
    while (sse_env_metric(&e, "sse_workers") != WORKERS &&
           sse_env_now_ms() - t0 < 10000)
        sse_env_pump(&e, 100);
    assert_int_equal(sse_env_metric(&e, "sse_workers"), WORKERS);
    assert_int_equal(sse_env_metric(&e, "sse_worker_restarts_total"), 1);
    assert_int_equal(sse_env_metric(&e, "sse_connections"), CLIENTS);
    assert_int_equal(sse_env_metric(&e, "sse_redis_up"), 1);
    assert_true(th_log_contains(&e.sse, "was killed by signal 9"));
    for (int i = 0; i < CLIENTS; i++)
        sse_client_close(&c[i]);
    free(c);
    assert_int_equal(sse_env_stop(&e), 0);
}

static int ended_with_retry(const struct sse_client *c)
{
    return c->closed && c->retries >= 2; /* the first, and the drain's */
}

#define DRAINED 600

static void test_sigterm_drains_every_worker(void **state)
{
    (void)state;
    struct sse_env e;
    char user[16], tok[TOKEN_MAX];
    pid_t pids[MAXW];
    struct sse_client *c = calloc(DRAINED, sizeof *c);
    assert_non_null(c);
    assert_int_equal(start(&e, "  drain_window: 2s\n"), 0);
    assert_int_equal(worker_pids(e.sse.pid, pids, MAXW), WORKERS);
    fill_queue(&e, DRAINED);
    for (int i = 0; i < DRAINED; i++) {
        snprintf(user, sizeof user, "u%d", i);
        assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", user,
                               (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
        assert_int_equal(sse_client_open(&e, &c[i], "q", user, tok, 0), 0);
    }
    assert_int_equal(pump_ranks(&e, c, DRAINED, 0, 30000), 0);
    assert_int_equal(kill(e.sse.pid, SIGTERM), 0);
    /* The clients' loop runs meanwhile: they read their streams' ends as
     * they come, and note when. */
    int64_t t0 = sse_env_now_ms(), first = -1, last = -1;
    int status = -1;
    while (sse_env_now_ms() - t0 < 10000) {
        sse_env_pump(&e, 20);
        int closed = 0;
        for (int i = 0; i < DRAINED; i++)
            closed += c[i].closed;
        int64_t at = sse_env_now_ms() - t0;
        if (closed && first < 0)
            first = at;
        if (closed == DRAINED && last < 0)
            last = at;
        if (last >= 0 && (status = th_wait(&e.sse, 0)) >= 0)
            break;
    }
    int64_t took = sse_env_now_ms() - t0;
    fprintf(stderr, "drain: first stream closed at %lld ms, the last at %lld "
            "ms, the server exited with %d at %lld ms\n", (long long)first,
            (long long)last, status, (long long)took);
    assert_int_equal(status, 0);
    /* Spread over the 2 s window, not all at once, and not past it. */
    assert_true(first >= 0 && first < 1000);
    assert_true(last >= 1000 && last <= 3500);
    for (int i = 0; i < DRAINED; i++)
        if (!ended_with_retry(&c[i]))
            fail_msg("u%d: closed %d, %d retry hints", i, c[i].closed,
                     c[i].retries);
    for (int i = 0; i < WORKERS; i++)
        assert_int_equal(kill(pids[i], 0), -1); /* every worker gone */
    assert_true(th_log_contains(&e.sse, "draining 3 workers"));
    for (int i = 0; i < DRAINED; i++)
        sse_client_close(&c[i]);
    free(c);
    sse_env_stop(&e); /* the daemon has exited: this stops the rest */
}

/* http.max_connections is one limit for the server, not one per worker:
 * wherever the kernel puts the sixth connection, it is refused. */
static void test_limit_is_the_servers(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client c[6];
    char user[16], tok[TOKEN_MAX], req[1200], resp[4096];
    assert_int_equal(start(&e, "  max_connections: 6\n"), 0);
    fill_queue(&e, 6);
    for (int i = 0; i < 6; i++) {
        snprintf(user, sizeof user, "u%d", i);
        assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", user,
                               (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
        assert_int_equal(sse_client_open(&e, &c[i], "q", user, tok, 0), 0);
    }
    assert_int_equal(pump_ranks(&e, c, 6, 0, 10000), 0);
    assert_int_equal(sse_env_metric(&e, "sse_connections"), 6);
    /* Polls on fresh connections: the kernel spreads them over the
     * workers, so some land on a worker holding fewer than 6 itself. */
    int refused = 0;
    for (int i = 0; i < 12; i++) {
        assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q",
                               "u0", (int64_t)time(NULL) + 600, tok,
                               sizeof tok) > 0);
        snprintf(req, sizeof req, "GET /v1/queues/q/users/u0?token=%s "
                 "HTTP/1.0\r\n\r\n", tok);
        refused += sse_env_raw(&e, req, resp, sizeof resp) == 503;
    }
    fprintf(stderr, "%d of 12 polls refused at a limit of 6 held by 6 "
            "streams over %d workers\n", refused, WORKERS);
    assert_int_equal(refused, 12);
    assert_int_equal(sse_env_metric(&e, "sse_connections_refused_total"), 12);
    sse_client_close(&c[5]);
    int64_t t0 = sse_env_now_ms();
    int code;
    while ((code = sse_env_raw(&e, req, resp, sizeof resp)) == 503 &&
           sse_env_now_ms() - t0 < 3000)
        sse_env_pump(&e, 50);
    assert_int_equal(code, 200); /* the freed place is the server's */
    for (int i = 0; i < 5; i++)
        sse_client_close(&c[i]);
    assert_int_equal(sse_env_stop(&e), 0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_killed_under_5000_clients),
        cmocka_unit_test(test_sigterm_drains_every_worker),
        cmocka_unit_test(test_limit_is_the_servers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
