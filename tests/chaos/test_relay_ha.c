/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two relays with the same name and ha.enabled, the Kafka checkpoint
 * store, under load: exactly one leads (/healthz "ok",
 * outbox_relay_leader 1), the other stands by (/healthz 200 "standby",
 * outbox_relay_leader 0, streaming nothing), in both delivery modes:
 *
 *   - SIGKILL of the leader, several times: the standby streams within
 *     ha.session_timeout + 5 s, from the checkpoint; the killed one comes
 *     back as a standby;
 *   - SIGSTOP of the leader for twice the session timeout, then SIGCONT:
 *     the standby has taken over; the old leader turns standby without
 *     handling another binlog event and saves no checkpoint after that
 *     (checkpoint generations never go down in the checkpoint topic);
 *   - the leader on a host of its own (a network namespace, th_netns.h)
 *     whose link is cut for twice the session timeout, then restored:
 *     the standby streams within ha.session_timeout + 5 s; the old leader,
 *     which no binlog event reaches any more, stands by within a session
 *     timeout and saves no checkpoint after; once the link is back the
 *     group elects again (either may win); and the same with the database reached aside from
 *     the link, so that binlog events go on reaching the cut-off leader.
 *
 * Then kcat and outbox-verify: nothing lost, order per key kept; with
 * exactly_once the only records twice are those the paused leader had
 * already handed to librdkafka (at most its queue: buffer_memory / 1 KiB
 * records), counted and printed.
 *
 * The sanitizer build runs three of the six cases (main says which).
 *
 * OUTBOX_HA_DEBUG=1 runs the relays at log_level debug with librdkafka's
 * cgrp debug context, and prints 400 lines of their log on a failure.
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
#include <time.h>
#include <unistd.h>

#include "tests/harness/th_netns.h"
#include "tests/integration/relay_env.h"

#define SESSION_MS 3000 /* the mock times members out while they wait its 3 s initial rebalance delay when less */
#define QUEUE_RECORDS (16L << 10) /* buffer_memory 16 MiB / 1 KiB */

struct member {
    struct th_proc proc;
    char config[320];
    int metrics_port;
    struct th_netns *ns; /* the host it runs on; NULL: this one */
};

/* The cut tests' second host; th_netns_down in their teardown. */
static struct th_netns net;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_config(struct relay_env *e, struct member *m, int i)
{
    snprintf(m->config, sizeof m->config, "%s/ha-%d.yaml", e->dir, i);
    m->metrics_port = th_free_port();
    FILE *fp = fopen(m->config, "w");
    if (!fp)
        return -1;
    fprintf(fp,
            "name: ha-relay\nlog_level: %s\n"
            "source:\n  host: 127.0.0.1\n  port: %d\n  user: root\n"
            "  server_id: %d\n  start: latest\n"
            "  reconnect:\n    initial: 100ms\n    max: 1s\n"
            "outbox:\n  - table: shop.outbox\n  - table: shop.outbox2\n"
            "kafka:\n  brokers: \"%s\"\n  buffer_memory: 16MiB\n%s"
            "delivery:\n  mode: %s\n"
            "checkpoint:\n  store: kafka\n  interval: 100ms\n"
            "ha:\n  enabled: true\n  session_timeout: %dms\n"
            "metrics:\n  listen: 127.0.0.1:%d\n",
            getenv("OUTBOX_HA_DEBUG") ? "debug" : "info",
            e->db.port, 90 + i, e->kafka.bootstrap,
            getenv("OUTBOX_HA_DEBUG") ? "  properties:\n    debug: cgrp\n" : "",
            e->delivery, SESSION_MS,
            m->metrics_port);
    return fclose(fp);
}

/* GET from the member's own host. */
static int get(struct member *m, const char *path, char *body, size_t len)
{
    return m->ns ? th_netns_http_get(m->ns, m->metrics_port, path, body, len)
                 : th_http_get(m->metrics_port, path, body, len);
}

/* /healthz: its status, and whether its body starts with `word`. */
static int health_is(struct member *m, int code, const char *word)
{
    char body[512] = "";
    return get(m, "/healthz", body, sizeof body) == code &&
           strncmp(body, word, strlen(word)) == 0;
}

static double metric(struct member *m, const char *name)
{
    char body[1 << 15], key[128];
    if (get(m, "/metrics", body, sizeof body) != 200)
        return -1;
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(body, key);
    return p ? atof(p + strlen(key)) : -1;
}

static int spawn(struct relay_env *e, struct member *m)
{
    char bin[512];
    char *argv[] = {(char *)th_build_path("relay/outbox-relay", bin, sizeof bin),
                    "-c", m->config, NULL}, *in_ns[16];
    if (m->ns && th_netns_argv(m->ns, argv, in_ns, 16) < 0)
        return -1;
    return th_spawn(&m->proc, m->ns ? "relay-ns" : "relay", e->dir,
                    m->ns ? in_ns : argv);
}

/* Waits until m says `word` with `code`; the time it took, or -1. */
static int64_t wait_health(struct member *m, int code, const char *word,
                           int timeout_ms)
{
    int64_t t0 = now_ms();
    while (now_ms() - t0 < timeout_ms) {
        if (health_is(m, code, word))
            return now_ms() - t0;
        usleep(50000);
    }
    th_dump_log(&m->proc, 30);
    return -1;
}

/* The bound on a takeover: the session timeout plus 5 s. The
 * sanitizer build (OUTBOX_SANITIZED) gets twice that: ASan's slowdown of
 * the dedupe's read-back is not the relay's, and the plain build holds the
 * bound itself; every other check is the same in both. */
static int takeover_bound(void)
{
    return (SESSION_MS + 5000) * (getenv("OUTBOX_SANITIZED") ? 2 : 1);
}

/* One leads and one stands by, by /healthz and by the leader gauge
 * alike, within timeout_ms; returns the leader's index. Read one after the other, the four
 * may straddle a hand-over (against the mock a standby joining can cost
 * the leader its lease for a moment: README), so they are read again
 * until they agree. */
static int roles_within(struct member *m, int timeout_ms)
{
    for (int64_t t0 = now_ms(); now_ms() - t0 < timeout_ms;) {
        for (int i = 0; i < 2; i++)
            if (health_is(&m[i], 200, "ok") && health_is(&m[1 - i], 200, "standby") &&
                (int)metric(&m[i], "outbox_relay_leader") == 1 &&
                (int)metric(&m[1 - i], "outbox_relay_leader") == 0)
                return i;
        usleep(50000);
    }
    for (int i = 0; i < 2; i++) { /* what each said last, and why */
        char body[512] = "";
        int code = get(&m[i], "/healthz", body, sizeof body);
        body[strcspn(body, "\n")] = '\0';
        fprintf(stderr, "member %d: /healthz %d \"%s\", outbox_relay_leader "
                "%.0f\n", i, code, body, metric(&m[i], "outbox_relay_leader"));
        th_dump_log(&m[i].proc, getenv("OUTBOX_HA_DEBUG") ? 400 : 40);
    }
    fail_msg("no leader and standby after %d s", timeout_ms / 1000);
    return -1;
}

static int roles(struct member *m)
{
    return roles_within(m, 20000);
}

/* The checkpoint topic's generations, in order, never go down; except,
 * when `late_until_ms` (wall clock) is not 0, for checkpoints a leader
 * saved while its lease held and librdkafka sent only later, after its
 * successor's: when the link is back after a cut, or when a paused
 * process runs again (its broker threads send what they held before its
 * relay thread learns that the lease is gone). Those are counted, must
 * have been made (their record timestamp) before `late_until_ms`, when
 * the old leader had stood by or was paused, and the last checkpoint, the
 * one a loader keeps, must be of the highest generation. */
static void assert_generations_rise(struct relay_env *e, long long late_until_ms)
{
    char out[400], line[8192];
    snprintf(out, sizeof out, "%s/checkpoints.txt", e->dir);
    unlink(out);
    assert_int_equal(relay_env_kcat(e, "outbox-relay.checkpoints",
                                    "ts=%T\\n%s\\n--\\n", out), 0);
    FILE *fp = fopen(out, "r");
    assert_non_null(fp);
    unsigned long long gen, top = 0, n = 0, late = 0, final = 0;
    long long ts = 0;
    while (fgets(line, sizeof line, fp)) {
        if (sscanf(line, "ts=%lld", &ts) == 1 || sscanf(line, "gen=%llu", &gen) != 1)
            continue;
        n++;
        final = gen;
        if (gen >= top) {
            top = gen;
            continue;
        }
        if (!late_until_ms || ts > late_until_ms)
            fail_msg("checkpoint of generation %llu (made at %lld) after %llu",
                     gen, ts, top);
        late++;
    }
    fclose(fp);
    fprintf(stderr, "%llu checkpoints read back, generations up to %llu, "
            "never going down but for %llu made before the old leader stood "
            "by and landing late\n", n, top, late);
    assert_true(n > 0 && top >= 2);
    assert_true(final == top);
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The duplicates outbox-verify counted (its summary line), or -1. */
static long duplicates(struct relay_env *e)
{
    char path[400], line[512];
    long n = -1, got;
    snprintf(path, sizeof path, "%s/verify.log", e->dir);
    FILE *fp = fopen(path, "r");
    while (fp && fgets(line, sizeof line, fp)) {
        const char *p = strstr(line, " missing, ");
        if (p && sscanf(p, " missing, %ld duplicates", &got) == 1)
            n = got;
    }
    if (fp)
        fclose(fp);
    return n;
}

static void ha(const char *mode)
{
    struct relay_env e;
    struct member m[2];
    struct th_proc load;
    int exactly = strcmp(mode, "exactly_once") == 0;
    assert_int_equal(relay_env_start(&e, mode, NULL), 0);
    memset(m, 0, sizeof m);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(write_config(&e, &m[i], i), 0);
        assert_int_equal(spawn(&e, &m[i]), 0);
    }
    int lead = roles(m);
    assert_int_equal(relay_env_load_start(&e, &load, 20000, 11, 0, 0), 0);

    /* SIGKILL of the leader, three times. */
    for (int k = 0; k < 3; k++) {
        usleep(500000);
        th_kill(&m[lead].proc);
        int64_t took = wait_health(&m[1 - lead], 200, "ok", takeover_bound());
        fprintf(stderr, "%s: leader killed; the standby streams after %lld ms "
                "(bound %d)\n", mode, (long long)took, takeover_bound());
        assert_true(took >= 0);
        assert_int_equal(spawn(&e, &m[lead]), 0);
        assert_true(wait_health(&m[lead], 200, "standby", 20000) >= 0);
        /* The group takes the newcomer in (a rebalance) before the
         * next fault: a kill in the middle of that is a second fault. */
        usleep(2 * SESSION_MS * 1000);
        lead = roles(m);
    }

    /* SIGSTOP for twice the session timeout, then SIGCONT. */
    double in_flight = metric(&m[lead], "outbox_records_in_flight");
    long long paused_at = wall_ms();
    kill(m[lead].proc.pid, SIGSTOP);
    int64_t took = wait_health(&m[1 - lead], 200, "ok", takeover_bound());
    assert_true(took >= 0);
    usleep((useconds_t)(2 * SESSION_MS - took > 0 ? 2 * SESSION_MS - took : 0) * 1000);
    kill(m[lead].proc.pid, SIGCONT);
    fprintf(stderr, "%s: leader paused (%.0f records in flight); the standby "
            "streams after %lld ms\n", mode, in_flight, (long long)took);
    assert_true(wait_health(&m[lead], 200, "standby", 10000) >= 0);
    assert_true(th_log_contains(&m[lead].proc, "no longer the leader") ||
                th_log_contains(&m[lead].proc, "another relay leads now"));
    lead = roles(m);

    assert_int_equal(relay_env_load_wait(&load, 900000), 0);
    sleep(3); /* the leader catches up (its checkpoint is in Kafka) */
    assert_generations_rise(&e, paused_at);
    int verdict = relay_env_verify(&e, 0); /* nothing lost, order kept */
    assert_int_equal(verdict, 0);
    long dups = duplicates(&e);
    fprintf(stderr, "%s: %ld records twice (the paused leader had %.0f in "
            "flight; bound: its queue, %ld)\n", mode, dups, in_flight,
            QUEUE_RECORDS);
    if (exactly) /* twice: only what the paused leader had handed over */
        assert_true(dups >= 0 && dups <= QUEUE_RECORDS);
    for (int i = 0; i < 2; i++)
        th_stop(&m[i].proc, 10000, NULL);
    relay_env_stop(&e);
}

/* How many lines of p's log hold `needle`. */
static int log_count(const struct th_proc *p, const char *needle)
{
    char line[4096];
    int n = 0;
    FILE *fp = fopen(p->log, "r");
    while (fp && fgets(line, sizeof line, fp))
        n += strstr(line, needle) != NULL;
    if (fp)
        fclose(fp);
    return n;
}

/* The first moments, since `t0`, at which the new leader streams and the
 * old one stands by: says so and has stepped down, dropping its sink and
 * pipeline (-1: not within timeout_ms). */
static void wait_takeover(struct member *old, struct member *new, int64_t t0,
                          int timeout_ms, int64_t *old_ms, int64_t *new_ms)
{
    int before = log_count(&old->proc, "standing by");
    *old_ms = *new_ms = -1;
    while (now_ms() - t0 < timeout_ms && (*old_ms < 0 || *new_ms < 0)) {
        if (*old_ms < 0 && health_is(old, 200, "standby") &&
            log_count(&old->proc, "standing by") > before)
            *old_ms = now_ms() - t0;
        if (*new_ms < 0 && health_is(new, 200, "ok"))
            *new_ms = now_ms() - t0;
        usleep(20000);
    }
    if (*old_ms < 0)
        th_dump_log(&old->proc, 40);
    if (*new_ms < 0)
        th_dump_log(&new->proc, 40);
}

/* m[0], on a host of its own, leads; m[1] stands by on this one. The
 * database is reached over the link too, or aside from it (`db_aside`). */
static void start_cut_pair(struct relay_env *e, struct member *m, int db_aside)
{
    th_assert_started(th_netns_up(&net, "oxr-ha"));
    assert_int_equal(db_aside ? th_netns_forward_aside(&net, e->db.port)
                              : th_netns_forward(&net, e->db.port), 0);
    assert_int_equal(th_netns_forward_list(&net, e->kafka.bootstrap), 0);
    memset(m, 0, 2 * sizeof *m);
    m[0].ns = &net;
    for (int i = 0; i < 2; i++)
        assert_int_equal(write_config(e, &m[i], i), 0);
    assert_int_equal(spawn(e, &m[0]), 0);
    assert_true(wait_health(&m[0], 200, "ok", 20000) >= 0);
    /* The newcomer's join is a rebalance, which on a loaded machine can
     * cost m[0] its lease and hand partition 0 to m[1] (README: High
     * availability): a hand-over, not a fault, but the cut needs the
     * leader on the other host, so m[1] comes again until m[0] leads. */
    for (int tries = 0;; tries++) {
        assert_int_equal(spawn(e, &m[1]), 0);
        assert_true(wait_health(&m[1], 200, "standby", 20000) >= 0);
        usleep(2 * SESSION_MS * 1000); /* the group settles with both in it */
        int lead = roles(m);
        if (lead == 0)
            return;
        assert_true(lead == 1 && tries < 3);
        fprintf(stderr, "the standby took the lead as it joined; again\n");
        th_stop(&m[1].proc, 10000, NULL);
        assert_true(wait_health(&m[0], 200, "ok", takeover_bound()) >= 0);
    }
}

/* The leader's host loses its link to Kafka (and the database, unless
 * `db_aside`) in the middle of the load, for twice the session timeout:
 * the standby streams within the session timeout + 5 s; the old leader
 * stands by on its own within a session timeout, whether binlog events
 * still reach it or none do, and saves no checkpoint after it; with the
 * link back one leads and one stands by. */
static void ha_cut(const char *mode, int db_aside)
{
    struct relay_env e;
    struct member m[2];
    struct th_proc load;
    int exactly = strcmp(mode, "exactly_once") == 0;
    assert_int_equal(relay_env_start(&e, mode, NULL), 0);
    start_cut_pair(&e, m, db_aside);
    assert_int_equal(relay_env_load_start(&e, &load, 20000, 13, 0, 0), 0);
    sleep(1);

    double in_flight = metric(&m[0], "outbox_records_in_flight");
    assert_int_equal(th_netns_link(&net, 0), 0);
    int64_t t0 = now_ms(), old_ms, new_ms;
    assert_true(th_alive(&load)); /* cut under load */
    wait_takeover(&m[0], &m[1], t0, takeover_bound(), &old_ms, &new_ms);
    time_t takeover = time(NULL);
    long long stood_by = wall_ms() - (now_ms() - t0 - old_ms);
    fprintf(stderr, "%s: %s cut (%.0f records in flight); the old leader "
            "stands by after %lld ms (bound %d), the standby streams after "
            "%lld ms (bound %d)\n", mode, db_aside ? "Kafka" : "link",
            in_flight, (long long)old_ms,
            SESSION_MS, (long long)new_ms, takeover_bound());
    assert_true(new_ms >= 0);
    assert_true(old_ms >= 0 && old_ms <= SESSION_MS);
    assert_true(th_log_contains(&m[0].proc, "no longer the leader"));
    double saved = metric(&m[0], "outbox_checkpoint_timestamp_seconds");
    assert_true(saved > 0 && saved <= (double)takeover);

    usleep(2 * SESSION_MS * 1000);
    assert_true(health_is(&m[0], 200, "standby"));
    assert_int_equal(th_netns_link(&net, 1), 0);
    usleep(2 * SESSION_MS * 1000); /* it rejoins the group, as a standby */
    /* The mock's group can take several rounds of rebalancing to take
     * the returning member back, with both standing by meanwhile: once,
     * on a loaded machine, m[1]'s commits met REBALANCE_IN_PROGRESS and
     * then ILLEGAL_GENERATION every 4 s for over 20 s. */
    int lead = roles_within(m, 60000);
    /* The rejoin is a new election, which the old leader may win (the
     * mock's assignment is not sticky): then it leads under a higher
     * generation, from the checkpoint, which assert_generations_rise
     * checks; until it is elected again it saves nothing. */
    if (lead == 1)
        assert_true(metric(&m[0], "outbox_checkpoint_timestamp_seconds") == saved);
    else
        fprintf(stderr, "%s: the old leader won the election after the link "
                "came back\n", mode);

    assert_int_equal(relay_env_load_wait(&load, 900000), 0);
    sleep(3);
    assert_true(health_is(&m[1 - lead], 200, "standby"));
    assert_generations_rise(&e, stood_by);
    assert_int_equal(relay_env_verify(&e, 0), 0); /* nothing lost, order kept */
    long dups = duplicates(&e);
    fprintf(stderr, "%s: %s cut: %ld records twice (%.0f were in flight at "
            "the cut; bound: its queue, %ld)\n", mode,
            db_aside ? "Kafka" : "link", dups, in_flight, QUEUE_RECORDS);
    if (exactly)
        assert_true(dups >= 0 && dups <= QUEUE_RECORDS);
    for (int i = 0; i < 2; i++)
        th_stop(&m[i].proc, 10000, NULL);
    th_netns_down(&net);
    relay_env_stop(&e);
}

static int net_teardown(void **state)
{
    (void)state;
    th_netns_down(&net); /* also after a failed assertion */
    return 0;
}

static void test_ha_cut_at_least_once(void **state)
{
    (void)state;
    ha_cut("at_least_once", 0);
}

static void test_ha_cut_exactly_once(void **state)
{
    (void)state;
    ha_cut("exactly_once", 0);
}

static void test_ha_kafka_cut_at_least_once(void **state)
{
    (void)state;
    ha_cut("at_least_once", 1);
}

static void test_ha_kafka_cut_exactly_once(void **state)
{
    (void)state;
    ha_cut("exactly_once", 1);
}

static void test_ha_at_least_once(void **state)
{
    (void)state;
    ha("at_least_once");
}

static void test_ha_exactly_once(void **state)
{
    (void)state;
    ha("exactly_once");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ha_at_least_once),
        cmocka_unit_test(test_ha_exactly_once),
        cmocka_unit_test_teardown(test_ha_kafka_cut_exactly_once, net_teardown),
        cmocka_unit_test_teardown(test_ha_cut_at_least_once, net_teardown),
        cmocka_unit_test_teardown(test_ha_cut_exactly_once, net_teardown),
        cmocka_unit_test_teardown(test_ha_kafka_cut_at_least_once, net_teardown),
    };
    /* Under the sanitizers, which look for memory errors, the first three
     * cases: the kill, the pause, and the Kafka cut (a lease that runs
     * out while binlog events keep coming, a stand-by with records
     * queued). The link cuts, where the binlog read stalls as well, and
     * the Kafka cut at least once run in the plain build only: three
     * minutes of the sanitizer build's run for little code of their own. */
    size_t n = sizeof tests / sizeof *tests;
    if (getenv("OUTBOX_SANITIZED") && argc == 1) {
        fprintf(stderr, "sanitizer build: the link cuts and the Kafka cut at "
                "least once run in build/ only\n");
        n = 3;
    }
    return _cmocka_run_group_tests("test_relay_ha", tests, n, NULL, NULL);
}
