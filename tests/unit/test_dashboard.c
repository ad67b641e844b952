/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Grafana dashboards (packaging/grafana/, one per daemon) query only metrics the
 * daemon they are for really exports.
 *
 * Each dashboard is parsed as JSON (strictly: a file Grafana cannot import
 * fails here), and every PromQL query in it ("expr" of a panel target,
 * the "query"/"definition" of a template variable) is cut into the metric
 * names it selects. Each must be one the daemon registers: the names
 * passed to metrics_family() and metrics_gauge_cb() in its own sources
 * (relay/ or sse/) and the process_* and outbox_build_info families that
 * common/metrics.c renders for both. The names come from the source, not
 * from a list here, so a metric renamed in the code fails the test until
 * the dashboard follows.
 *
 * Built with DASHBOARD_SCRAPE (test_dashboard_scrape, an integration
 * test) it asks the daemons themselves instead: it starts kafka-mock,
 * outbox-relay (its source a closed port: the relay registers every
 * family once it has reached Kafka) and outbox-sse (Redis a closed port),
 * and every metric a dashboard queries must appear as a "# TYPE" line on
 * that daemon's /metrics.
 */
#include "common/textfile.h"
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifdef DASHBOARD_SCRAPE
#include "tests/harness/th.h"
#include <unistd.h>
#endif

#define NAMES_MAX 256
#define NAME_LEN 128

struct names {
    char v[NAMES_MAX][NAME_LEN];
    size_t n;
};

static void names_add(struct names *s, const char *name, size_t len)
{
    if (len == 0 || len >= NAME_LEN || s->n == NAMES_MAX)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == len && memcmp(s->v[i], name, len) == 0)
            return;
    memcpy(s->v[s->n], name, len);
    s->v[s->n++][len] = '\0';
}

static bool names_has(const struct names *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return true;
    return false;
}

static bool name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/* ---- what the code registers -------------------------------------------- */

/* Whether the `fn(` at p is its definition or declaration ("int
 * metrics_gauge_cb(", "*metrics_family("): a type stands before it. */
static bool defined_at(const char *text, const char *p)
{
    while (p > text && isspace((unsigned char)p[-1]))
        p--;
    return p > text && (p[-1] == '*' || isalnum((unsigned char)p[-1]) ||
                        p[-1] == '_');
}

/* The first string literal after each call of `fn(` in text. */
static void literals_after(const char *text, const char *fn, struct names *out)
{
    for (const char *p = strstr(text, fn); p; p = strstr(p + 1, fn)) {
        if (defined_at(text, p))
            continue;
        const char *q = strchr(p + strlen(fn), '"');
        if (!q)
            break;
        size_t n = 0;
        while (name_char(q[1 + n], n == 0))
            n++;
        if (q[1 + n] == '"')
            names_add(out, q + 1, n);
    }
}

/* Families written out by hand ("# TYPE name gauge" in a literal), and
 * every family of a scraped /metrics. */
static void typed_literals(const char *text, struct names *out)
{
    for (const char *p = strstr(text, "# TYPE "); p;
         p = strstr(p + 1, "# TYPE ")) {
        const char *q = p + strlen("# TYPE ");
        size_t n = 0;
        while (name_char(q[n], n == 0))
            n++;
        /* a family's line names its type; a comment quoting the format
         * ("# TYPE name ...") does not */
        if (strncmp(q + n, " gauge", 6) == 0 ||
            strncmp(q + n, " counter", 8) == 0)
            names_add(out, q, n);
    }
}

static void registered_in(const char *dir, struct names *out)
{
    const char *src = getenv("OUTBOX_SOURCE_DIR");
    char path[4096];
    assert_non_null(src);
    snprintf(path, sizeof path, "%s/%s", src, dir);
    DIR *d = opendir(path);
    if (!d)
        fail_msg("cannot read %s", path);
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s/%s", src, dir, e->d_name);
        char *text = textfile_read(path);
        if (!text)
            fail_msg("cannot read %s", path);
        literals_after(text, "metrics_family(", out);
        literals_after(text, "metrics_gauge_cb(", out);
        typed_literals(text, out);
        free(text);
    }
    closedir(d);
}

/* ---- JSON, strictly ---------------------------------------------------- */

struct json {
    const char *s;
    int line;
    char err[256];
    char **queries;
    size_t nqueries;
};

static void ws(struct json *j)
{
    while (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r')
        j->line += *j->s++ == '\n';
}

static bool jfail(struct json *j, const char *what)
{
    if (!j->err[0])
        snprintf(j->err, sizeof j->err, "line %d: %s", j->line, what);
    return false;
}

static bool value(struct json *j, const char *key);

/* A string, unescaped into *out (malloc'd) when out is not NULL. Escapes
 * other than \uXXXX are kept as their character; \u is kept as '?', which
 * is enough to read PromQL. */
static bool string(struct json *j, char **out)
{
    size_t cap = 64, n = 0;
    char *buf = malloc(cap);
    if (!buf || *j->s != '"')
        return free(buf), jfail(j, "a string expected");
    for (j->s++; *j->s != '"'; j->s++) {
        char c = *j->s;
        if ((unsigned char)c < 0x20)
            return free(buf), jfail(j, "control character in a string");
        if (c == '\\') {
            c = *++j->s;
            if (!strchr("\"\\/bfnrtu", c) || !c)
                return free(buf), jfail(j, "bad escape");
            if (c == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)j->s[i]))
                        return free(buf), jfail(j, "bad \\u escape");
                j->s += 4;
                c = '?';
            } else if (c == 'n' || c == 't' || c == 'r' || c == 'b' || c == 'f') {
                c = ' ';
            }
        }
        if (n + 2 > cap && !(buf = realloc(buf, cap *= 2)))
            return jfail(j, "out of memory");
        buf[n++] = c;
    }
    j->s++;
    buf[n] = '\0';
    if (out)
        *out = buf;
    else
        free(buf);
    return true;
}

static bool number(struct json *j)
{
    const char *p = j->s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return jfail(j, "a value expected");
    if (*p == '0' && isdigit((unsigned char)p[1]))
        return jfail(j, "leading zero");
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return jfail(j, "digits expected after '.'");
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p += p[1] == '+' || p[1] == '-' ? 2 : 1;
        if (!isdigit((unsigned char)*p))
            return jfail(j, "digits expected in an exponent");
        while (isdigit((unsigned char)*p))
            p++;
    }
    j->s = p;
    return true;
}

static bool members(struct json *j, char end, bool keyed)
{
    j->s++;
    ws(j);
    if (*j->s == end) {
        j->s++;
        return true;
    }
    for (;;) {
        char *key = NULL;
        ws(j);
        if (keyed) {
            if (!string(j, &key))
                return false;
            ws(j);
            if (*j->s != ':')
                return free(key), jfail(j, "':' expected");
            j->s++;
        }
        bool ok = value(j, key);
        free(key);
        if (!ok)
            return false;
        ws(j);
        if (*j->s == end) {
            j->s++;
            return true;
        }
        if (*j->s != ',') /* never past the end, which is '\0' */
            return jfail(j, keyed ? "',' or '}' expected" : "',' or ']' expected");
        j->s++;
    }
}

/* A query is the "expr" of a target, or the "query"/"definition" of a
 * template variable when it is PromQL (a datasource variable's "query"
 * is a plugin name). */
static void maybe_query(struct json *j, const char *key, char *text)
{
    bool promql = strcmp(key, "expr") == 0 ||
                  ((strcmp(key, "query") == 0 ||
                    strcmp(key, "definition") == 0) && strchr(text, '('));
    if (!promql) {
        free(text);
        return;
    }
    j->queries = realloc(j->queries, (j->nqueries + 1) * sizeof *j->queries);
    assert_non_null(j->queries);
    j->queries[j->nqueries++] = text;
}

static bool value(struct json *j, const char *key)
{
    ws(j);
    switch (*j->s) {
    case '{':
        return members(j, '}', true);
    case '[':
        return members(j, ']', false);
    case '"': {
        char *text = NULL;
        if (!string(j, &text))
            return false;
        if (key)
            maybe_query(j, key, text);
        else
            free(text);
        return true;
    }
    }
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        if (strncmp(j->s, words[i], strlen(words[i])) == 0) {
            j->s += strlen(words[i]);
            return true;
        }
    }
    return number(j);
}

/* ---- PromQL: the metric names a query selects ---------------------------- */

static bool word_in(const char *w, size_t n, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == n && strncmp(list[i], w, n) == 0)
            return true;
    return false;
}

/* Followed by a list of label names in parentheses. */
static const char *const label_listers[] = {
    "by", "without", "on", "ignoring", "group_left", "group_right", NULL};
/* Never metric names; the aggregations among them may stand before a
 * "by (...)" rather than their '('. */
static const char *const keywords[] = {
    "bool", "offset", "and", "or", "unless", "sum", "min", "max", "avg",
    "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile", "limitk", "limit_ratio", NULL};

/* Past the string literal that starts at p (PromQL's "...", '...'). */
static const char *skip_string(const char *p)
{
    char q = *p;
    for (p++; *p && *p != q; p++)
        if (*p == '\\' && p[1])
            p++;
    return *p ? p + 1 : p;
}

/* From an opening bracket to past its match; strings inside are skipped
 * whole. */
static const char *skip_group(const char *p, char open, char close)
{
    int depth = 0;
    while (*p) {
        if (*p == '"' || *p == '\'') {
            p = skip_string(p);
            continue;
        }
        if (*p == open)
            depth++;
        else if (*p == close && --depth == 0)
            return p + 1;
        p++;
    }
    return p;
}

/* Adds to `out` the metric names `q` selects. Label matchers {...},
 * ranges [...], strings, numbers, $variables, function names (a name
 * before '(') and the label lists of by/without/on/ignoring/group_* are
 * not metric names. label_values(metric, label) names only its metric. */
static void query_metrics(const char *q, struct names *out)
{
    for (const char *p = q; *p;) {
        if (*p == '{') {
            p = skip_group(p, '{', '}');
        } else if (*p == '[') {
            p = skip_group(p, '[', ']');
        } else if (*p == '"' || *p == '\'') {
            p = skip_string(p);
        } else if (*p == '$') {
            for (p++; name_char(*p, false) || *p == '{' || *p == '}'; p++)
                ;
        } else if (isdigit((unsigned char)*p) ||
                   (*p == '.' && isdigit((unsigned char)p[1]))) {
            while (isalnum((unsigned char)*p) || *p == '.')
                p++; /* 0.99, 1e3, a 5m offset */
        } else if (name_char(*p, true)) {
            const char *w = p;
            while (name_char(*p, false))
                p++;
            size_t n = (size_t)(p - w);
            const char *after = p + strspn(p, " \t\n");
            if (word_in(w, n, label_listers) && *after == '(') {
                p = skip_group(after, '(', ')');
            } else if (n == 12 && strncmp(w, "label_values", n) == 0 &&
                       *after == '(') {
                const char *m = after + 1 + strspn(after + 1, " ");
                size_t mn = 0;
                while (name_char(m[mn], mn == 0))
                    mn++;
                names_add(out, m, mn);
                p = skip_group(after, '(', ')');
            } else if (*after != '(' && !word_in(w, n, keywords)) {
                names_add(out, w, n);
            }
        } else {
            p++;
        }
    }
}

/* ---- the test ------------------------------------------------------------ */

/* Checks one dashboard against the metrics `reg` of the daemon `whose`;
 * reports each problem on stderr (unless whose is NULL: quiet) and
 * returns their number. */
/* Where a quiet check_dashboard writes. */
static FILE *quiet(void)
{
    static FILE *null;
    if (!null)
        null = fopen("/dev/null", "w");
    assert_non_null(null);
    return null;
}

static int check_dashboard(const char *file, const struct names *reg,
                           const char *whose)
{
    const char *src = getenv("OUTBOX_SOURCE_DIR");
    char path[4096];
    struct names *used = calloc(1, sizeof *used);
    int bad = 0;
    FILE *out = whose ? stderr : quiet();
    assert_non_null(src);
    assert_non_null(used);
    snprintf(path, sizeof path, "%s/packaging/grafana/%s", src, file);
    char *text = textfile_read(path);
    if (!text)
        fail_msg("cannot read %s", path);
    struct json j = {.s = text, .line = 1};
    bool ok = value(&j, NULL);
    ws(&j);
    if (ok && *j.s)
        ok = jfail(&j, "text after the JSON value");
    if (!ok) {
        fprintf(out, "%s: not JSON: %s\n", file, j.err);
        bad++;
    }
    if (ok && j.nqueries == 0) {
        fprintf(out, "%s: no queries\n", file);
        bad++;
    }
    for (size_t i = 0; i < j.nqueries; i++) {
        struct names *m = calloc(1, sizeof *m);
        assert_non_null(m);
        query_metrics(j.queries[i], m);
        if (m->n == 0) {
            fprintf(out, "%s: query names no metric: %s\n", file,
                    j.queries[i]);
            bad++;
        }
        for (size_t k = 0; k < m->n; k++) {
            if (names_has(reg, m->v[k])) {
                names_add(used, m->v[k], strlen(m->v[k]));
            } else {
                fprintf(out, "%s: '%s' is not a metric of %s (query: "
                        "%s)\n", file, m->v[k], whose, j.queries[i]);
                bad++;
            }
        }
        free(m);
        free(j.queries[i]);
    }
    /* For whoever adds a metric: not a failure, a dashboard shows what
     * it chooses to. */
    for (size_t i = 0; ok && i < reg->n; i++)
        if (!names_has(used, reg->v[i]))
            fprintf(out, "%s: (note) shows no '%s'\n", file, reg->v[i]);
    fprintf(whose ? stdout : out, "%s: %zu queries, %zu metrics shown of %zu exported\n", file,
           j.nqueries, used->n, reg->n);
    free(j.queries);
    free(text);
    free(used);
    return bad;
}

/* What the sources of daemon_dir (and common/) register. */
static int check_against_source(const char *file, const char *daemon_dir)
{
    struct names *reg = calloc(1, sizeof *reg);
    char whose[64];
    assert_non_null(reg);
    registered_in(daemon_dir, reg);
    registered_in("common", reg);
    snprintf(whose, sizeof whose, "%s/ or common/", daemon_dir);
    int bad = check_dashboard(file, reg, whose);
    free(reg);
    return bad;
}

/* The scanners themselves, on queries whose answer is known. */
static void test_query_metrics(void **state)
{
    (void)state;
    static const struct {
        const char *q, *want;
    } cases[] = {
        {"sum by (topic) (rate(outbox_events_total{instance=~\"$instance\"}"
         "[$__rate_interval]))", "outbox_events_total"},
        {"time() - process_start_time_seconds{job=\"a b\"}",
         "process_start_time_seconds"},
        {"a_total / on (instance) group_left (version) clamp_min(b, 1)",
         "a_total b"},
        {"label_values(sse_connections, instance)", "sse_connections"},
        {"histogram_quantile(0.99, sum(rate(x_bucket[5m])) by (le)) > 1e3",
         "x_bucket"},
        {"vector(1)", ""},
        {"sum without (a) (max by (b) (c))", "c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct names m = {.n = 0};
        char got[1024] = "";
        query_metrics(cases[i].q, &m);
        for (size_t k = 0; k < m.n; k++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
                     k ? " " : "", m.v[k]);
        assert_string_equal(got, cases[i].want);
    }
}

static void test_json_strict(void **state)
{
    (void)state;
    static const char *const bad[] = {"{\"a\": 1,}", "{\"a\" 1}", "[01]",
                                      "{\"expr\": \"x\"", "[1] 2", "tru"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct json j = {.s = bad[i], .line = 1};
        bool ok = value(&j, NULL);
        ws(&j);
        assert_false(ok && *j.s == '\0');
        for (size_t k = 0; k < j.nqueries; k++)
            free(j.queries[k]);
        free(j.queries);
    }
}

static void test_relay_dashboard(void **state)
{
    (void)state;
    int bad = check_against_source("outbox-relay.json", "relay");
    if (bad)
        fail_msg("outbox-relay.json: %d problem(s), listed above", bad);
}

static void test_sse_dashboard(void **state)
{
    (void)state;
    int bad = check_against_source("outbox-sse.json", "sse");
    if (bad)
        fail_msg("outbox-sse.json: %d problem(s), listed above", bad);
}

#ifdef DASHBOARD_SCRAPE

static struct th_kafka kafka;

/* The "# TYPE" families of the /metrics of a daemon on `port`. Families
 * appear as the daemon gets on (the relay's pipeline ones once it has
 * reached Kafka), so it is asked again every 500 ms, for up to 20 s,
 * until it serves every metric `file` queries; what is then still
 * missing, check_dashboard reports. */
static void scrape(int port, const char *file, struct names *out)
{
    static char body[256 * 1024];
    for (int i = 0; i < 40; i++) {
        usleep(500 * 1000);
        if (th_http_get(port, "/metrics", body, sizeof body) != 200)
            continue;
        out->n = 0;
        typed_literals(body, out);
        if (check_dashboard(file, out, NULL) == 0)
            return;
    }
    if (out->n == 0)
        fail_msg("no /metrics on port %d", port);
}

/* Starts the daemon `rel` on the configuration `yaml`, whose metrics
 * listen on `mport`, scrapes it and checks `file` against what it
 * serves. */
static void check_live(const char *file, const char *rel, const char *yaml,
                       int mport)
{
    char dir[256], cfg[512], bin[512], whose[600];
    struct th_proc p;
    struct names *reg = calloc(1, sizeof *reg);
    assert_non_null(reg);
    assert_int_equal(th_tempdir("dashboard", dir, sizeof dir), 0);
    snprintf(cfg, sizeof cfg, "%s/daemon.yaml", dir);
    FILE *fp = fopen(cfg, "w");
    assert_non_null(fp);
    fputs(yaml, fp);
    fclose(fp);
    th_build_path(rel, bin, sizeof bin);
    char *argv[] = {bin, "-c", cfg, NULL};
    assert_int_equal(th_spawn(&p, "daemon", dir, argv), 0);
    scrape(mport, file, reg);
    snprintf(whose, sizeof whose, "%s's /metrics", rel);
    int bad = check_dashboard(file, reg, whose);
    printf("%s: %zu families on /metrics\n", rel, reg->n);
    th_stop(&p, 10000, NULL);
    free(reg);
    if (bad)
        fail_msg("%s: %d problem(s), listed above", file, bad);
}

static void test_relay_live(void **state)
{
    (void)state;
    char yaml[1024];
    int mport = th_free_port();
    snprintf(yaml, sizeof yaml,
             "source: {host: 127.0.0.1, port: %d, user: u, server_id: 9}\n"
             "outbox: [{table: shop.outbox}]\n"
             "kafka: {brokers: \"%s\"}\n"
             "metrics: {listen: \"127.0.0.1:%d\"}\n",
             th_free_port(), kafka.bootstrap, mport);
    check_live("outbox-relay.json", "relay/outbox-relay", yaml, mport);
}

static void test_sse_live(void **state)
{
    (void)state;
    char yaml[1024];
    int mport = th_free_port();
    snprintf(yaml, sizeof yaml,
             "kafka: {brokers: \"%s\"}\n"
             "redis: {port: %d}\n"
             "auth: {mode: none}\n"
             "http: {listen: \"127.0.0.1:%d\"}\n"
             "metrics: {listen: \"127.0.0.1:%d\"}\n",
             kafka.bootstrap, th_free_port(), th_free_port(), mport);
    check_live("outbox-sse.json", "sse/outbox-sse", yaml, mport);
}

static int setup(void **state)
{
    (void)state;
    return th_kafka_start(&kafka, 1, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return th_kafka_stop(&kafka);
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_metrics),
        cmocka_unit_test(test_json_strict),
        cmocka_unit_test(test_relay_dashboard),
        cmocka_unit_test(test_sse_dashboard),
#ifdef DASHBOARD_SCRAPE
        cmocka_unit_test(test_relay_live),
        cmocka_unit_test(test_sse_live),
#endif
    };
#ifdef DASHBOARD_SCRAPE
    return th_exit(cmocka_run_group_tests(tests, setup, teardown));
#else
    return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
