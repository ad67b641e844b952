/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SSE daemon's pure pieces: the admission-rate window (sse/eta.h),
 * the bytes of events and their JSON (sse/frame.h), and the strict
 * percent-decoding of paths and query parameters (route_pct_decode).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse/eta.h"
#include "sse/frame.h"
#include "sse/msum.h"
#include "sse/ranks.h"
#include "sse/route.h"

/* ---- eta ---------------------------------------------------------------- */

#define T0 INT64_C(1700000000000) /* a realistic monotonic-ish start, in ms */

static void assert_unknown(const struct eta *e)
{
    assert_true(eta_rate(e) == 0);
    assert_int_equal(eta_seconds(e, 1), -1);
    assert_int_equal(eta_seconds(e, 1000), -1);
}

static void assert_rate_near(const struct eta *e, double want, double tol)
{
    double r = eta_rate(e);
    if (r < want - tol || r > want + tol)
        fail_msg("rate %.4f, want %.4f +- %.4f", r, want, tol);
}

/* Samples every step_ms from `from` to `to` (excluded) with admissions
 * growing at per_s from `base`; returns the admitted count at `to`. */
static int64_t feed(struct eta *e, int64_t from, int64_t to, int64_t step_ms,
                    int64_t base, double per_s)
{
    for (int64_t t = from; t < to; t += step_ms) {
        eta_sample(e, t, base + (int64_t)((double)(t - from) * per_s / 1000.0));
        assert_true(e->n >= 1 && e->n <= ETA_SLOTS);
        assert_true(e->first >= 0 && e->first < ETA_SLOTS);
    }
    return base + (int64_t)((double)(to - from) * per_s / 1000.0);
}

static void test_eta_unknown(void **state)
{
    (void)state;
    struct eta e;
    eta_init(&e, 60000);
    assert_unknown(&e); /* no sample */
    eta_sample(&e, T0, 100);
    assert_unknown(&e); /* one sample */
    eta_sample(&e, T0 + 999, 150);
    assert_unknown(&e); /* under a second of history */
    eta_sample(&e, T0 + 1000, 150);
    assert_rate_near(&e, 50, 1e-9);
    assert_int_equal(eta_seconds(&e, 50), 1);
    assert_int_equal(eta_seconds(&e, 51), 2);

    eta_init(&e, 60000);
    feed(&e, T0, T0 + 10000, 100, 500, 0); /* ten seconds, nobody admitted */
    assert_unknown(&e);
    assert_int_equal(eta_seconds(&e, 0), -1);
}

static void test_eta_steady(void **state)
{
    (void)state;
    struct eta e;
    eta_init(&e, 60000);
    feed(&e, T0, T0 + 10001, 100, 0, 10.0);
    assert_rate_near(&e, 10, 0.05);
    assert_int_equal(eta_seconds(&e, 25), 3); /* 2.5 s, rounded up */
    assert_int_equal(eta_seconds(&e, 10), 1);
    assert_int_equal(eta_seconds(&e, 1), 1);
    assert_int_equal(eta_seconds(&e, 1000), 100);
    assert_int_equal(eta_seconds(&e, 0), -1);
    assert_int_equal(eta_seconds(&e, -3), -1);
}

static void test_eta_shrink_resets(void **state)
{
    (void)state;
    struct eta e;
    eta_init(&e, 60000);
    int64_t n = feed(&e, T0, T0 + 5000, 100, 1000, 10.0);
    assert_rate_near(&e, 10, 0.05);
    eta_sample(&e, T0 + 5000, n - 30); /* the application trimmed the set */
    assert_unknown(&e);
    assert_int_equal(e.n, 1);
    feed(&e, T0 + 5100, T0 + 6000, 100, n - 30, 2.0);
    assert_unknown(&e); /* under a second since the reset */
    feed(&e, T0 + 6000, T0 + 9001, 100, n - 30 + 2, 2.0);
    assert_rate_near(&e, 2, 0.1); /* the old 10/s no longer counts */
}

static void test_eta_window_forgets(void **state)
{
    (void)state;
    struct eta e;
    eta_init(&e, 10000);
    int64_t n = feed(&e, T0, T0 + 10000, 50, 0, 100.0); /* a burst */
    assert_rate_near(&e, 100, 1);
    feed(&e, T0 + 10000, T0 + 30001, 50, n, 1.0); /* then a trickle */
    /* Only the trickle is left in a 10 s window (plus at most one sample
     * before its start). */
    assert_rate_near(&e, 1, 0.1);
    assert_int_equal(eta_seconds(&e, 5), 5);
}

static void test_eta_constant_memory(void **state)
{
    (void)state;
    static const struct { int64_t window, step; } cases[] = {
        {60000, 1},   /* many samples per slot */
        {32000, 1000}, /* exactly one per slot: the window would hold 33 */
        {10, 1},      /* spacing below a millisecond */
        {1, 1},
        {3000, 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct eta e;
        eta_init(&e, cases[i].window);
        size_t before = sizeof e;
        feed(&e, T0, T0 + 200000 * cases[i].step, cases[i].step, 0, 10.0);
        assert_int_equal(sizeof e, before);
        assert_true(e.n <= ETA_SLOTS);
        if (cases[i].window >= 2000)
            assert_rate_near(&e, 10, 0.5);
    }
    /* With samples spaced a window apart the window holds exactly two. */
    struct eta e;
    eta_init(&e, 1000);
    feed(&e, T0, T0 + 100 * 1000, 1000, 0, 10.0);
    assert_int_equal(e.n, 2);
    assert_rate_near(&e, 10, 0.01);
    eta_init(&e, 0); /* a non-positive window is taken as 1 ms */
    assert_int_equal(e.window_ms, 1);
}

/* ---- frame -------------------------------------------------------------- */

/* The buffer's bytes as a NUL-terminated string (freed by the caller),
 * draining it. */
static char *take(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    assert_non_null(s);
    assert_int_equal(evbuffer_remove(b, s, n), (int)n);
    s[n] = '\0';
    return s;
}

static void expect(struct evbuffer *b, const char *want)
{
    size_t n = evbuffer_get_length(b);
    char *got = take(b);
    if (n != strlen(want) || memcmp(got, want, n) != 0)
        fail_msg("got  [%s]\nwant [%s]", got, want);
    free(got);
}

static void json_is(const char *in, const char *want)
{
    struct evbuffer *b = evbuffer_new();
    frame_json_string(b, in);
    expect(b, want);
    evbuffer_free(b);
}

static void test_frame_json_string(void **state)
{
    (void)state;
    json_is("", "\"\"");
    json_is("plain", "\"plain\"");
    json_is("a\"b", "\"a\\\"b\"");
    json_is("a\\b", "\"a\\\\b\"");
    json_is("\"\\\"", "\"\\\"\\\\\\\"\"");
    json_is("\n", "\"\\u000a\"");
    json_is("a\r\nb\tc", "\"a\\u000d\\u000ab\\u0009c\"");
    json_is("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    json_is("\x1b[31mred", "\"\\u001b[31mred\"");
    json_is("</script>", "\"</script>\"");
    /* UTF-8 passes through byte for byte, even when not valid UTF-8. */
    json_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    json_is("\xff\xfe\x80", "\"\xff\xfe\x80\"");
    /* Every byte from 1 to 255: each control character as \u00XX, '"'
     * and '\' escaped, everything else as itself. */
    char all[256], want[256 * 6 + 3];
    size_t k = 0;
    want[k++] = '"';
    for (int c = 1; c < 256; c++) {
        all[c - 1] = (char)c;
        if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(want + k, sizeof want - k, "\\u%04x", c);
        else if (c == '"' || c == '\\')
            k += (size_t)snprintf(want + k, sizeof want - k, "\\%c", c);
        else
            want[k++] = (char)c;
    }
    all[255] = '\0';
    want[k++] = '"';
    want[k] = '\0';
    json_is(all, want);
}

static struct hub_state waiting(int64_t rank, int64_t n, int64_t eta)
{
    return (struct hub_state){RANKS_WAITING, rank, n, eta};
}

static void test_frame_rank_event(void **state)
{
    (void)state;
    struct evbuffer *out = evbuffer_new(), *data = evbuffer_new();
    struct hub_state st = waiting(3, 10, 4);
    frame_rank_json(data, "sale-7", "u42", &st);
    frame_event(out, 7, "rank", data);
    assert_int_equal(evbuffer_get_length(data), 0); /* drained */
    expect(out, "id: 7\nevent: rank\ndata: {\"queue\":\"sale-7\",\"user\":\"u42\","
                "\"rank\":3,\"waiting\":10,\"eta_s\":4}\n\n");

    st = waiting(1234, 98765, -1); /* eta unknown: left out */
    frame_rank_json(data, "sale-7", "u42", &st);
    frame_event(out, UINT64_C(18446744073709551615), "rank", data);
    expect(out, "id: 18446744073709551615\nevent: rank\ndata: {\"queue\":"
                "\"sale-7\",\"user\":\"u42\",\"rank\":1234,\"waiting\":98765}\n\n");

    st = waiting(1, 1, 0);
    frame_rank_json(data, "q", "u", &st);
    expect(data, "{\"queue\":\"q\",\"user\":\"u\",\"rank\":1,\"waiting\":1,\"eta_s\":0}");

    /* A user name cannot end the data line or start another field. */
    st = waiting(2, 5, -1);
    frame_rank_json(data, "q\n\nevent: confirm", "u\r\ndata: x", &st);
    frame_event(out, 1, "rank", data);
    char *s = take(out);
    assert_string_equal(s, "id: 1\nevent: rank\ndata: {\"queue\":\"q\\u000a\\u000a"
                           "event: confirm\",\"user\":\"u\\u000d\\u000adata: x\","
                           "\"rank\":2,\"waiting\":5}\n\n");
    free(s);
    evbuffer_free(data);
    evbuffer_free(out);
}

static void test_frame_confirm_gone(void **state)
{
    (void)state;
    struct evbuffer *out = evbuffer_new(), *data = evbuffer_new();
    frame_confirm_json(data, "sale-7", "u42", "adm.tok\"en");
    frame_event(out, 42, "confirm", data);
    expect(out, "id: 42\nevent: confirm\ndata: {\"queue\":\"sale-7\",\"user\":"
                "\"u42\",\"admission\":\"adm.tok\\\"en\"}\n\n");
    frame_gone_json(data, "sale-7", "u\"42");
    frame_event(out, 43, "gone", data);
    expect(out, "id: 43\nevent: gone\ndata: {\"queue\":\"sale-7\",\"user\":"
                "\"u\\\"42\"}\n\n");
    frame_retry(out, 2500);
    expect(out, "retry: 2500\n\n");
    frame_ping(out);
    expect(out, ": ping\n\n");
    evbuffer_free(data);
    evbuffer_free(out);
}

static void test_frame_state_json(void **state)
{
    (void)state;
    struct evbuffer *b = evbuffer_new();
    struct hub_state st = waiting(12, 40, 6);
    frame_state_json(b, "q", "u", &st, NULL);
    expect(b, "{\"queue\":\"q\",\"user\":\"u\",\"state\":\"waiting\",\"rank\":12,"
              "\"waiting\":40,\"eta_s\":6}");
    st = waiting(12, 40, -1);
    frame_state_json(b, "q", "u", &st, "ignored while waiting");
    expect(b, "{\"queue\":\"q\",\"user\":\"u\",\"state\":\"waiting\",\"rank\":12,"
              "\"waiting\":40}");
    st = (struct hub_state){RANKS_ADMITTED, 0, 40, 3};
    frame_state_json(b, "q", "u", &st, "T.O.K.EN");
    expect(b, "{\"queue\":\"q\",\"user\":\"u\",\"state\":\"admitted\","
              "\"admission\":\"T.O.K.EN\"}");
    frame_state_json(b, "q", "u", &st, NULL);
    expect(b, "{\"queue\":\"q\",\"user\":\"u\",\"state\":\"admitted\"}");
    st = (struct hub_state){RANKS_GONE, 5, 40, 3};
    frame_state_json(b, "q", "u\\", &st, "x");
    expect(b, "{\"queue\":\"q\",\"user\":\"u\\\\\",\"state\":\"gone\"}");
    evbuffer_free(b);
}

/* ---- route_pct_decode -------------------------------------------------- */

/* Decodes `in` with out of `outlen` bytes; checks the result and that
 * nothing past outlen was written. */
static void pct_is(const char *in, int form, size_t outlen, const char *want)
{
    char out[64];
    assert_true(outlen <= sizeof out - 8);
    memset(out, '#', sizeof out);
    int n = route_pct_decode(in, strlen(in), form, out, outlen);
    for (size_t i = outlen; i < sizeof out; i++)
        if (out[i] != '#')
            fail_msg("\"%s\": byte %zu written, outlen %zu", in, i, outlen);
    if (!want) {
        if (n != -1)
            fail_msg("\"%s\" (form %d, outlen %zu) decoded to \"%.*s\"", in,
                     form, outlen, n < 0 ? 0 : n, out);
        return;
    }
    if (n < 0)
        fail_msg("\"%s\" (form %d, outlen %zu) refused", in, form, outlen);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, (size_t)n + 1);
}

static void test_pct_decode(void **state)
{
    (void)state;
    for (int form = 0; form <= 1; form++) {
        pct_is("", form, 8, "");
        pct_is("sale-7", form, 16, "sale-7");
        pct_is("a%20b", form, 16, "a b");
        pct_is("%41%62%7a%7A", form, 16, "Abzz");
        pct_is("%2B%2b", form, 16, "++");
        pct_is("%25", form, 16, "%");
        pct_is("%25zz", form, 16, "%zz");
        pct_is("caf%C3%A9", form, 16, "caf\xc3\xa9");
        pct_is("%0a", form, 16, "\n"); /* decoded; names are checked later */
        pct_is("%ff", form, 16, "\xff");
        /* bad escapes */
        pct_is("%zz", form, 16, NULL);
        pct_is("%g0", form, 16, NULL);
        pct_is("%0g", form, 16, NULL);
        pct_is("a%", form, 16, NULL);
        pct_is("%4", form, 16, NULL);
        pct_is("ab%4", form, 16, NULL);
        pct_is("% 41", form, 16, NULL);
        pct_is("%-1", form, 16, NULL);
        pct_is("%+1", form, 16, NULL);
        /* an encoded NUL would cut the name short */
        pct_is("%00", form, 16, NULL);
        pct_is("a%00b", form, 16, NULL);
    }
    pct_is("a+b", 1, 16, "a b");
    pct_is("a+b", 0, 16, "a+b");
    pct_is("+%2B+", 1, 16, " + ");
    pct_is("+%2B+", 0, 16, "+++");
    /* out must hold the text and its NUL */
    pct_is("abc", 0, 4, "abc");
    pct_is("abc", 0, 3, NULL);
    pct_is("%41%42%43", 0, 4, "ABC");
    pct_is("%41%42%43", 0, 3, NULL);
    pct_is("a", 0, 1, NULL);
    pct_is("", 0, 1, "");
    pct_is("", 0, 0, NULL);
    pct_is("a", 0, 0, NULL);
    /* the length given, not the NUL, ends the input */
    char out[16];
    assert_int_equal(route_pct_decode("abcdef", 3, 0, out, sizeof out), 3);
    assert_string_equal(out, "abc");
    assert_int_equal(route_pct_decode("%41%42", 4, 0, out, sizeof out), -1);
}

/* ---- route_name_ok ----------------------------------------------------- */

static void test_route_names(void **state)
{
    (void)state;
    static const char *const good[] = {"q", "sale-7", "q...", "a..b", ".a",
        "a.", "...", "a/b", "caf\xc3\xa9", "a/.b/c",
        "\xf0\x9f\x98\x80", "\xe2\x82\xac", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf",
        "\xc2\x80"};
    static const char *const bad[] = {"", ".", "..", "../x", "x/..", "a/../b",
        "./a", "a/.", "a/./b", "/..", "../../etc", "a\n",
        "\xc3\x28", "\xff", "\x80", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "x\xe2\x82",
        "\xf0\x9f\x98", "\xe2\x28\xa1"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!route_name_ok(good[i], strlen(good[i])))
            fail_msg("\"%s\" refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (route_name_ok(bad[i], strlen(bad[i])))
            fail_msg("\"%s\" accepted", bad[i]);
}

/* ---- msum: the workers' metrics as one server's ------------------------ */

static char *merged(const char *const *texts, size_t n)
{
    struct msum *m = msum_new();
    struct evbuffer *b = evbuffer_new();
    assert_non_null(m);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(msum_add(m, texts[i], strlen(texts[i])), 0);
    msum_render(m, b);
    size_t len = evbuffer_get_length(b);
    char *out = malloc(len + 1);
    assert_non_null(out);
    evbuffer_remove(b, out, len);
    out[len] = '\0';
    evbuffer_free(b);
    msum_free(m);
    return out;
}

static void test_msum(void **state)
{
    (void)state;
    static const char *const w[] = {
        "# HELP sse_connections Open SSE streams\n"
        "# TYPE sse_connections gauge\n"
        "sse_connections 1200\n"
        "# HELP sse_events_sent_total SSE events sent, by type\n"
        "# TYPE sse_events_sent_total counter\n"
        "sse_events_sent_total{type=\"rank\"} 10\n"
        "sse_events_sent_total{type=\"ping\"} 3\n"
        "sse_redis_up 1\n"
        "process_start_time_seconds 1796000100\n"
        "outbox_build_info{version=\"0.1.0\"} 1\n",
        /* another worker: a series the first lacks, Redis down */
        "# HELP sse_connections Open SSE streams\n"
        "# TYPE sse_connections gauge\n"
        "sse_connections 800\n"
        "sse_events_sent_total{type=\"rank\"} 5\n"
        "sse_events_sent_total{type=\"gone\"} 2\n"
        "sse_redis_up 0\n"
        "process_start_time_seconds 1796000050\n"
        "outbox_build_info{version=\"0.1.0\"} 1\n"
        "garbage line without value\n"
        "# a comment\n"
        "half_a_line",
        /* the supervisor, without a trailing newline */
        "sse_workers 2\nprocess_resident_memory_bytes 1.5e6"};
    char *out = merged(w, 3);
    assert_string_equal(out,
        "# HELP sse_connections Open SSE streams\n"
        "# TYPE sse_connections gauge\n"
        "sse_connections 2000\n"
        "# HELP sse_events_sent_total SSE events sent, by type\n"
        "# TYPE sse_events_sent_total counter\n"
        "sse_events_sent_total{type=\"rank\"} 15\n"
        "sse_events_sent_total{type=\"ping\"} 3\n"
        "sse_events_sent_total{type=\"gone\"} 2\n"
        "sse_redis_up 0\n"
        "process_start_time_seconds 1796000050\n"
        "outbox_build_info{version=\"0.1.0\"} 1\n"
        "sse_workers 2\n"
        "process_resident_memory_bytes 1500000\n");
    free(out);
    out = merged(w, 0);
    assert_string_equal(out, "");
    free(out);
}

/* ---- ranks_use_range: ZRANK per user or one ZRANGE -------------------- */

static void test_range_choice(void **state)
{
    (void)state;
    assert_false(ranks_use_range(100, 0));      /* the length unknown */
    assert_false(ranks_use_range(1, 1));        /* a new watch: one ZRANK */
    assert_false(ranks_use_range(0, 10));
    assert_true(ranks_use_range(2, 2));
    assert_true(ranks_use_range(10000, 100000)); /* at the ratio */
    assert_false(ranks_use_range(9999, 100000));
    assert_true(ranks_use_range(100000, 100000));
    assert_true(ranks_use_range(50, 20));       /* more watchers than waiting */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eta_unknown),
        cmocka_unit_test(test_eta_steady),
        cmocka_unit_test(test_eta_shrink_resets),
        cmocka_unit_test(test_eta_window_forgets),
        cmocka_unit_test(test_eta_constant_memory),
        cmocka_unit_test(test_frame_json_string),
        cmocka_unit_test(test_frame_rank_event),
        cmocka_unit_test(test_frame_confirm_gone),
        cmocka_unit_test(test_frame_state_json),
        cmocka_unit_test(test_pct_decode),
        cmocka_unit_test(test_route_names),
        cmocka_unit_test(test_msum),
        cmocka_unit_test(test_range_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
