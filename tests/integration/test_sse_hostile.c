/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-sse against hostile clients: trickled headers, huge request
 * lines, a flood of idle connections past the limit, odd names, injected
 * CRLFs, and a watcher's token replayed by others (for another user, for
 * another queue, altered, as an admission). Each gets its 4xx or is cut
 * off, nothing of the watcher leaks, and the watcher keeps getting its
 * events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sse/token.h"
#include "tests/integration/sse_env.h"

#define SECRET "test-secret-0123456789abcdef"

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 once the server has closed fd (EOF or reset), 0 if it still holds it
 * after ms milliseconds. Whatever the server sent first is discarded. */
static int closed_within(int fd, int ms)
{
    int64_t end = sse_env_now_ms() + ms;
    char buf[4096];
    while (sse_env_now_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EAGAIN))
                return 1;
        }
    }
    return 0;
}

/* A browser that watches the queue during the attack. */

static void watch(struct sse_env *e, struct sse_client *c, const char *user)
{
    char tok[TOKEN_MAX];
    assert_true(sse_env_redis(e, "ZADD queue:q:waiting 5 %s", user) >= 0);
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", user,
                           (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
    assert_int_equal(sse_client_open(e, c, "q", user, tok, 0), 0);
    for (int i = 0; i < 200 && c->ranks == 0; i++)
        sse_env_pump(e, 20);
    assert_true(c->ranks > 0);
}

/* The watcher is told of a change in time: someone joins ahead of it. */
static void still_served(struct sse_env *e, struct sse_client *c, int round)
{
    long long before = c->last_rank;
    assert_true(sse_env_redis(e, "ZADD queue:q:waiting 1 ahead%d", round) == 1);
    assert_int_equal(sse_env_publish(e, "q", 1), 0);
    int64_t t0 = sse_env_now_ms();
    while (c->last_rank == before && sse_env_now_ms() - t0 < 2000)
        sse_env_pump(e, 10);
    assert_int_equal(c->last_rank, before + 1);
    assert_false(c->closed);
    assert_int_equal(c->foreign, 0);
}

static void test_slowloris_and_huge_lines(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client w;
    char resp[4096];
    assert_int_equal(sse_env_start(&e, "  header_timeout: 1s\n", NULL), 0);
    watch(&e, &w, "watcher");

    /* Headers trickled one byte at a time: cut off at the header timeout. */
    int slow = dial(e.http_port);
    assert_true(slow >= 0);
    const char *req = "GET /v1/queues/q/events?user=watcher HTTP/1.1\r\nHost: x\r\n";
    int64_t t0 = sse_env_now_ms();
    int cut = 0;
    for (size_t i = 0; req[i] && !cut; i++) {
        if (write(slow, req + i, 1) != 1)
            cut = 1;
        cut |= closed_within(slow, 200);
        sse_env_pump(&e, 1);
    }
    if (!cut)
        cut = closed_within(slow, 3000);
    close(slow);
    int64_t took = sse_env_now_ms() - t0;
    fprintf(stderr, "slowloris cut off after %lld ms\n", (long long)took);
    assert_true(cut);
    assert_true(took < 2500); /* the whole request within 1 s, or out */
    assert_true(sse_env_metric(&e, "sse_header_timeouts_total") >= 1);
    still_served(&e, &w, 1);

    /* A 1 MB request line. */
    size_t big = 1 << 20;
    char *line = malloc(big + 64);
    assert_non_null(line);
    int n = snprintf(line, 64, "GET /v1/queues/q/events?user=");
    memset(line + n, 'u', big);
    strcpy(line + n + big, " HTTP/1.1\r\n\r\n");
    int code = sse_env_raw(&e, line, resp, sizeof resp);
    free(line);
    fprintf(stderr, "1 MB request line: %d\n", code);
    assert_true(code == -1 || (code >= 400 && code < 500)); /* -1: cut off */
    still_served(&e, &w, 2);

    /* CRLF in a user id, traversal in a queue name. */
    assert_int_equal(sse_env_raw(&e, "GET /v1/queues/q/events?user=a%0D%0AX-Evil:%201"
                                     " HTTP/1.0\r\n\r\n", resp, sizeof resp), 400);
    assert_null(strstr(resp, "X-Evil"));
    /* Refused before the token is looked at (test_dot_segments). */
    assert_int_equal(sse_env_raw(&e, "GET /v1/queues/..%2F..%2Fetc/users/watcher"
                                     " HTTP/1.0\r\n\r\n", resp, sizeof resp), 400);
    assert_int_equal(sse_env_raw(&e, "GET /v1/queues/../users/watcher"
                                     " HTTP/1.0\r\n\r\n", resp, sizeof resp), 400);
    assert_null(strstr(resp, "watcher\",\"state"));
    still_served(&e, &w, 3);
    sse_client_close(&w);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* A raw GET with the token; the status, the body in resp. */
static int get_with(struct sse_env *e, const char *target, const char *tok,
                    char *resp, size_t len)
{
    char req[1024];
    snprintf(req, sizeof req, "GET %s%ctoken=%s HTTP/1.0\r\n\r\n", target,
             strchr(target, '?') ? '&' : '?', tok);
    return sse_env_raw(e, req, resp, len);
}

/* The watcher's token, captured and replayed by someone else. A subscribe
 * token names its queue and user inside the MAC, so it opens nothing but
 * the watcher's own state. */
static void test_replayed_tokens(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client w;
    char tok[TOKEN_MAX], bad[TOKEN_MAX], resp[4096];
    assert_int_equal(sse_env_start(&e, NULL, NULL), 0);
    watch(&e, &w, "watcher");
    assert_true(sse_env_redis(&e, "ZADD queue:q:waiting 9 mallory") == 1);
    assert_true(sse_env_redis(&e, "ZADD queue:q2:waiting 1 watcher") == 1);
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q",
                           "watcher", (int64_t)time(NULL) + 600, tok,
                           sizeof tok) > 0);
    static const char *const others[] = {
        "/v1/queues/q/events?user=mallory", "/v1/queues/q/users/mallory",
        "/v1/queues/q2/events?user=watcher", "/v1/queues/q2/users/watcher"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        assert_int_equal(get_with(&e, others[i], tok, resp, sizeof resp), 403);
        assert_null(strstr(resp, "rank"));
    }
    /* Altered in its last character: the MAC no longer holds. */
    snprintf(bad, sizeof bad, "%s", tok);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    assert_int_equal(get_with(&e, "/v1/queues/q/users/watcher", bad, resp,
                              sizeof resp), 401);
    assert_null(strstr(resp, "rank"));
    /* An admission token is no subscribe token, even for the same user. */
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_ADMISSION, "q",
                           "watcher", (int64_t)time(NULL) + 600, bad,
                           sizeof bad) > 0);
    int code = get_with(&e, "/v1/queues/q/users/watcher", bad, resp, sizeof resp);
    assert_true(code == 401 || code == 403);
    /* The token itself still works for its owner, and the watcher is served. */
    assert_int_equal(get_with(&e, "/v1/queues/q/users/watcher", tok, resp,
                              sizeof resp), 200);
    still_served(&e, &w, 1);
    sse_client_close(&w);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* get_with, the token minted for exactly (queue, user): whatever refuses
 * the request, it is not the token. */
static int get_minted(struct sse_env *e, const char *target, const char *queue,
                      const char *user, char *resp, size_t len)
{
    char tok[TOKEN_MAX];
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, queue, user,
                           (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
    return get_with(e, target, tok, resp, len);
}

/* Found by an independent client: "." and ".." as a queue or user name,
 * raw or percent-encoded, and paths with such segments, opened streams
 * (with a token minted for that name). A name that a proxy, a log reader
 * or a Redis key template might take for a path step is refused: 400. */
static void test_dot_segments(void **state)
{
    (void)state;
    struct sse_env e;
    char resp[4096];
    static const struct { const char *target, *queue, *user; } cases[] = {
        {"/v1/queues/../events?user=watcher", "..", "watcher"},
        {"/v1/queues/%2e%2E/events?user=watcher", "..", "watcher"},
        {"/v1/queues/./events?user=watcher", ".", "watcher"},
        {"/v1/queues/../users/watcher", "..", "watcher"},
        {"/v1/queues/..%2F..%2Fetc/events?user=watcher", "../../etc", "watcher"},
        {"/v1/queues/a%2F..%2Fq/users/watcher", "a/../q", "watcher"},
        {"/v1/queues/q/users/..", "q", ".."},
        {"/v1/queues/q/events?user=..", "q", ".."},
        {"/v1/queues/q/events?user=%2E%2E%2Fx", "q", "../x"},
        {"/v1/queues/q/../q/events?user=watcher", "q", "watcher"},
        {"/v1/../v1/queues/q/events?user=watcher", "q", "watcher"},
        {"/v1/queues/q/./events?user=watcher", "q", "watcher"},
    };
    assert_int_equal(sse_env_start(&e, NULL, NULL), 0);
    assert_true(sse_env_redis(&e, "ZADD queue:..:waiting 1 watcher") == 1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int code = get_minted(&e, cases[i].target, cases[i].queue,
                              cases[i].user, resp, sizeof resp);
        fprintf(stderr, "%s: %d\n", cases[i].target, code);
        assert_int_equal(code, 400);
        assert_null(strstr(resp, "text/event-stream"));
    }
    /* Dots inside a name are fine. */
    assert_int_equal(get_minted(&e, "/v1/queues/q.../users/a..b", "q...",
                                "a..b", resp, sizeof resp), 200);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* Found by an independent client: a user (or queue) that percent-decodes
 * to bytes that are not UTF-8 reached the JSON answer raw, which no JSON
 * parser accepts. Refused with 400; real UTF-8 is served. */
static void test_invalid_utf8_names(void **state)
{
    (void)state;
    struct sse_env e;
    char resp[4096], target[256];
    static const struct { const char *enc, *raw; } bad[] = {
        {"%c3%28", "\xc3\x28"},             /* a lead byte, no continuation */
        {"a%ff", "a\xff"},                   /* never in UTF-8 */
        {"%80", "\x80"},                     /* a lone continuation byte */
        {"%c0%af", "\xc0\xaf"},             /* overlong '/' */
        {"%e0%80%af", "\xe0\x80\xaf"},     /* overlong, three bytes */
        {"%ed%a0%80", "\xed\xa0\x80"},     /* a UTF-16 surrogate */
        {"%f4%90%80%80", "\xf4\x90\x80\x80"}, /* past U+10FFFF */
        {"x%e2%82", "x\xe2\x82"},           /* cut short */
    };
    assert_int_equal(sse_env_start(&e, NULL, NULL), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(target, sizeof target, "/v1/queues/q/users/%s", bad[i].enc);
        int poll_code = get_minted(&e, target, "q", bad[i].raw, resp, sizeof resp);
        snprintf(target, sizeof target, "/v1/queues/q/events?user=%s", bad[i].enc);
        int stream_code = get_minted(&e, target, "q", bad[i].raw, resp, sizeof resp);
        snprintf(target, sizeof target, "/v1/queues/%s/users/u", bad[i].enc);
        int queue_code = get_minted(&e, target, bad[i].raw, "u", resp, sizeof resp);
        fprintf(stderr, "%s: poll %d, stream %d, as a queue %d\n", bad[i].enc,
                poll_code, stream_code, queue_code);
        assert_int_equal(poll_code, 400);
        assert_int_equal(stream_code, 400);
        assert_int_equal(queue_code, 400);
    }
    assert_int_equal(get_minted(&e, "/v1/queues/caf%C3%A9/users/%F0%9F%98%80",
                                "caf\xc3\xa9", "\xf0\x9f\x98\x80", resp,
                                sizeof resp), 200);
    assert_non_null(strstr(resp, "\"user\":\"\xf0\x9f\x98\x80\""));
    assert_int_equal(sse_env_stop(&e), 0);
}

/* Found by an independent client: a Last-Event-ID of 32 bytes or more got
 * 400, which a browser's EventSource takes as fatal: it never reconnects.
 * An id that is no id of ours (too long, not a number, badly encoded) is
 * ignored, and the stream starts with the current state as always. */
static void test_unusable_last_event_id(void **state)
{
    (void)state;
    struct sse_env e;
    char tok[TOKEN_MAX], req[2048], resp[4096], id[600];
    assert_int_equal(sse_env_start(&e, NULL, NULL), 0);
    assert_true(sse_env_redis(&e, "ZADD queue:q:waiting 1 bob") == 1);
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", "bob",
                           (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
    static const size_t lens[] = {31, 32, 40, 500};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        memset(id, '7', lens[i]);
        id[lens[i]] = '\0';
        snprintf(req, sizeof req, "GET /v1/queues/q/events?user=bob&token=%s"
                 " HTTP/1.0\r\nLast-Event-ID: %s\r\n\r\n", tok, id);
        int code = sse_env_raw(&e, req, resp, sizeof resp);
        fprintf(stderr, "Last-Event-ID of %zu bytes: %d\n", lens[i], code);
        assert_int_equal(code, 200);
        assert_non_null(strstr(resp, "text/event-stream"));
    }
    static const char *const params[] = {
        "%zz", "not-a-number", "7777777777777777777777777777777777777777777777"};
    for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
        snprintf(req, sizeof req, "GET /v1/queues/q/events?user=bob&token=%s"
                 "&lastEventId=%s HTTP/1.0\r\n\r\n", tok, params[i]);
        int code = sse_env_raw(&e, req, resp, sizeof resp);
        fprintf(stderr, "lastEventId=%s: %d\n", params[i], code);
        assert_int_equal(code, 200);
    }
    /* And the stream of a long id carries the current state. */
    int fd = dial(e.http_port);
    assert_true(fd >= 0);
    snprintf(req, sizeof req, "GET /v1/queues/q/events?user=bob&token=%s"
             " HTTP/1.0\r\nLast-Event-ID: %s\r\n\r\n", tok, id);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    size_t got = 0;
    int64_t end = sse_env_now_ms() + 3000;
    resp[0] = '\0';
    while (!strstr(resp, "\"rank\":1,") && got < sizeof resp - 1 &&
           sse_env_now_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = read(fd, resp + got, sizeof resp - 1 - got);
        if (n <= 0)
            break;
        resp[got += (size_t)n] = '\0';
    }
    close(fd);
    assert_non_null(strstr(resp, "event: rank"));
    assert_non_null(strstr(resp, "\"rank\":1,"));
    assert_int_equal(sse_env_stop(&e), 0);
}

#define IDLE 10000

static void test_idle_flood_past_the_limit(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client w, late;
    char tok[TOKEN_MAX];
    static int fds[IDLE];
    assert_int_equal(sse_env_start(&e, "  header_timeout: 2s\n"
                                       "  max_connections: 20\n", NULL), 0);
    watch(&e, &w, "watcher");
    int opened = 0;
    for (; opened < IDLE; opened++)
        if ((fds[opened] = dial(e.http_port)) < 0)
            break;
    fprintf(stderr, "%d idle connections opened\n", opened);
    assert_true(opened >= IDLE / 2);
    still_served(&e, &w, 1); /* while they sit there */

    /* The limit counts the idle ones too (test_idle_count_against_limit):
     * while they sit there a newcomer is refused. They are closed at the
     * header timeout, and then it gets in. */
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", "late",
                           (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
    assert_true(sse_env_redis(&e, "ZADD queue:q:waiting 9 late") == 1);
    char resp[4096];
    assert_int_equal(get_with(&e, "/v1/queues/q/users/late", tok, resp,
                              sizeof resp), 503);
    int still_open = 0;
    for (int i = 0; i < opened; i++) {
        still_open += !closed_within(fds[i], i == 0 ? 4000 : 1);
        close(fds[i]);
    }
    fprintf(stderr, "%d idle connections outlived the header timeout\n",
            still_open);
    assert_true(still_open < opened / 100);
    int64_t t0 = sse_env_now_ms();
    int code;
    while ((code = get_with(&e, "/v1/queues/q/users/late", tok, resp,
                            sizeof resp)) == 503 && sse_env_now_ms() - t0 < 3000)
        sse_env_pump(&e, 50);
    assert_int_equal(code, 200);
    assert_int_equal(sse_client_open(&e, &late, "q", "late", tok, 0), 0);
    for (int i = 0; i < 200 && late.ranks == 0; i++)
        sse_env_pump(&e, 20);
    assert_true(late.ranks > 0);
    still_served(&e, &w, 2);
    sse_client_close(&late);
    sse_client_close(&w);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* Found by an independent client: connections that had not finished
 * their request did not count against http.max_connections, so with a
 * limit of 50, 100 idle sockets were held and a poll still got 200. They
 * count: the poll and a stream get 503, and once the idle ones are gone
 * both are served again. */
static void test_idle_count_against_limit(void **state)
{
    (void)state;
    struct sse_env e;
    char tok[TOKEN_MAX], resp[4096];
    int fds[100];
    assert_int_equal(sse_env_start(&e, "  max_connections: 50\n", NULL), 0);
    assert_true(sse_env_redis(&e, "ZADD queue:q:waiting 1 bob") == 1);
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", "bob",
                           (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
    for (int i = 0; i < 100; i++)
        assert_true((fds[i] = dial(e.http_port)) >= 0);
    /* Every one of them accepted by the server before the poll's. */
    for (int64_t t0 = sse_env_now_ms(); sse_env_now_ms() - t0 < 300;)
        sse_env_pump(&e, 20);
    int poll_code = get_with(&e, "/v1/queues/q/users/bob", tok, resp, sizeof resp);
    int stream_code = get_with(&e, "/v1/queues/q/events?user=bob", tok, resp,
                               sizeof resp);
    fprintf(stderr, "100 idle at a limit of 50: poll %d, stream %d\n",
            poll_code, stream_code);
    assert_int_equal(poll_code, 503);
    assert_non_null(strstr(resp, "Retry-After: "));
    assert_int_equal(stream_code, 503);
    assert_int_equal(sse_env_metric(&e, "sse_connections_refused_total"), 2);
    for (int i = 0; i < 100; i++)
        close(fds[i]);
    int64_t t0 = sse_env_now_ms();
    while ((poll_code = get_with(&e, "/v1/queues/q/users/bob", tok, resp,
                                 sizeof resp)) == 503 &&
           sse_env_now_ms() - t0 < 2000)
        sse_env_pump(&e, 20);
    assert_int_equal(poll_code, 200);
    assert_int_equal(sse_env_stop(&e), 0);
}

/* At max_connections a new request is refused with 503 and Retry-After;
 * those being served do not notice. */
static void test_limit_refuses_with_503(void **state)
{
    (void)state;
    struct sse_env e;
    struct sse_client c[5];
    char tok[TOKEN_MAX], path[1200], resp[4096];
    assert_int_equal(sse_env_start(&e, "  max_connections: 5\n", NULL), 0);
    for (int i = 0; i < 5; i++) {
        char user[16];
        snprintf(user, sizeof user, "u%d", i);
        watch(&e, &c[i], user);
    }
    assert_true(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "q", "u0",
                           (int64_t)time(NULL) + 600, tok, sizeof tok) > 0);
    snprintf(path, sizeof path,
             "GET /v1/queues/q/users/u0?token=%s HTTP/1.0\r\n\r\n", tok);
    assert_int_equal(sse_env_raw(&e, path, resp, sizeof resp), 503);
    assert_non_null(strstr(resp, "Retry-After: "));
    assert_int_equal(sse_env_metric(&e, "sse_connections_refused_total"), 1);
    still_served(&e, &c[0], 1);
    for (int i = 0; i < 5; i++)
        sse_client_close(&c[i]);
    assert_int_equal(sse_env_stop(&e), 0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slowloris_and_huge_lines),
        cmocka_unit_test(test_replayed_tokens),
        cmocka_unit_test(test_idle_flood_past_the_limit),
        cmocka_unit_test(test_limit_refuses_with_503),
        cmocka_unit_test(test_dot_segments),
        cmocka_unit_test(test_invalid_utf8_names),
        cmocka_unit_test(test_unusable_last_event_id),
        cmocka_unit_test(test_idle_count_against_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
