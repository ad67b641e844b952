/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Both daemons as a user runs them: the sample configs pass
 * --check-config, a misspelt key is reported with its place and exits 2,
 * and a started daemon answers /healthz and /metrics and exits 0 within
 * 2 seconds of SIGTERM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness/th.h"

/* Runs a program to the end; its stdout+stderr in out. */
static int run(char *const argv[], char *out, size_t len)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n < len - 1 && (r = read(fds[0], out + n, len - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sample(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/config/%s", getenv("OUTBOX_SOURCE_DIR"), name);
}

static void test_check_config(void **state)
{
    (void)state;
    char bin[512], cfg[512], out[65536];
    th_build_path("relay/outbox-relay", bin, sizeof bin);
    sample("relay.yaml", cfg, sizeof cfg);
    char *a1[] = {bin, "-c", cfg, "--check-config", NULL};
    assert_int_equal(run(a1, out, sizeof out), 0);
    assert_non_null(strstr(out, "configuration OK"));
    th_build_path("sse/outbox-sse", bin, sizeof bin);
    sample("sse.yaml", cfg, sizeof cfg);
    char *a2[] = {bin, "-c", cfg, "--check-config", NULL};
    assert_int_equal(run(a2, out, sizeof out), 0);
    assert_null(strstr(out, "change-me")); /* the secret is masked */
    assert_non_null(strstr(out, "secret: \"***\""));
    assert_null(strstr(out, "warning"));
}

/* The sample as it ships, without OUTBOX_SSE_SECRET (which the unit reads
 * from its EnvironmentFile): --check-config passes with a warning, the
 * daemon and its token command refuse to trust the public placeholder. */
static void test_placeholder_secret(void **state)
{
    (void)state;
    char bin[512], cfg[512], out[65536];
    const char *saved = getenv("OUTBOX_SSE_SECRET");
    char keep[256];
    snprintf(keep, sizeof keep, "%s", saved ? saved : "");
    unsetenv("OUTBOX_SSE_SECRET");
    th_build_path("sse/outbox-sse", bin, sizeof bin);
    sample("sse.yaml", cfg, sizeof cfg);
    char *check[] = {bin, "-c", cfg, "--check-config", NULL};
    assert_int_equal(run(check, out, sizeof out), 0);
    assert_non_null(strstr(out, "warning: auth.secret is still the sample's "
                                "placeholder"));
    assert_non_null(strstr(out, "configuration OK"));
    char *start[] = {bin, "-c", cfg, NULL};
    assert_int_equal(run(start, out, sizeof out), 2);
    assert_non_null(strstr(out, "sse.yaml: auth.secret is still the sample's "
                                "placeholder"));
    char *token[] = {bin, "token", "--queue", "q", "--user", "u", "--ttl",
                     "60", "-c", cfg, NULL};
    int token_rc = run(token, out, sizeof out);
    setenv("OUTBOX_SSE_SECRET", keep, 1); /* before a failure returns */
    assert_int_equal(token_rc, 2);
    assert_non_null(strstr(out, "placeholder"));
}

/* A copy of relay.yaml with `brokers` misspelt `brokrs`. */
static void test_misspelt_key(void **state)
{
    (void)state;
    char src[512], dir[256], copy[600], bin[512], out[65536], want[700];
    sample("relay.yaml", src, sizeof src);
    assert_int_equal(th_tempdir("cfg", dir, sizeof dir), 0);
    snprintf(copy, sizeof copy, "%s/relay.yaml", dir);
    FILE *in = fopen(src, "r"), *o = fopen(copy, "w");
    char line[1024];
    int lineno = 0, at_line = 0, at_col = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        char *k = strstr(line, "brokers:");
        if (k && !at_line && line[0] != '#') {
            at_line = lineno;
            at_col = (int)(k - line) + 1;
            memmove(k + 4, k + 5, strlen(k + 5) + 1); /* brokers -> brokrs */
        }
        fputs(line, o);
    }
    fclose(in);
    fclose(o);
    assert_true(at_line > 0);
    th_build_path("relay/outbox-relay", bin, sizeof bin);
    char *argv[] = {bin, "-c", copy, "--check-config", NULL};
    assert_int_equal(run(argv, out, sizeof out), 2);
    snprintf(want, sizeof want,
             "%s:%d:%d: unknown key 'brokrs' (did you mean 'brokers'?)\n", copy,
             at_line, at_col);
    assert_string_equal(out, want);
}

static void serve_and_stop(const char *rel, const char *cfgname, int port)
{
    char bin[512], cfg[512], dir[256], body[65536];
    th_build_path(rel, bin, sizeof bin);
    sample(cfgname, cfg, sizeof cfg);
    assert_int_equal(th_tempdir("daemon", dir, sizeof dir), 0);
    struct th_proc p;
    char *argv[] = {bin, "-c", cfg, NULL};
    assert_int_equal(th_spawn(&p, "daemon", dir, argv), 0);
    int status = -1;
    for (int i = 0; i < 100 && status < 0; i++) {
        status = th_http_get(port, "/healthz", body, sizeof body);
        if (status < 0)
            usleep(50000);
    }
    if (status != 200 && status != 503) {
        th_dump_log(&p, 20);
        fail_msg("/healthz answered %d", status);
    }
    assert_true(strlen(body) > 0); /* "ok", or the reason it is not */
    assert_int_equal(th_http_get(port, "/metrics", body, sizeof body), 200);
    assert_non_null(strstr(body, "outbox_build_info{version=\""));
    assert_non_null(strstr(body, "process_resident_memory_bytes"));
    assert_int_equal(th_http_get(port, "/elsewhere", body, sizeof body), 404);
    int waited = 0;
    int rc = th_stop(&p, 5000, &waited);
    if (rc != 0 || waited > 2000)
        th_dump_log(&p, 20);
    assert_int_equal(rc, 0);
    assert_true(waited <= 2000);
}

static void test_relay_serves_and_stops(void **state)
{
    (void)state;
    serve_and_stop("relay/outbox-relay", "relay.yaml", 9464);
}

static void test_sse_serves_and_stops(void **state)
{
    (void)state;
    serve_and_stop("sse/outbox-sse", "sse.yaml", 9465);
}

int main(void)
{
    /* The sample's placeholder secret is refused: a deployment sets it. */
    setenv("OUTBOX_SSE_SECRET", "daemon-test-secret-0123456789", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_config),
        cmocka_unit_test(test_misspelt_key),
        cmocka_unit_test(test_placeholder_secret),
        cmocka_unit_test(test_relay_serves_and_stops),
        cmocka_unit_test(test_sse_serves_and_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
