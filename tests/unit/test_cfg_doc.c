/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_doc: the key reference is spliced between its markers and nowhere
 * else, bad markers are refused, and each format escapes what it must.
 * (test_config_docs holds the checked-in documents to the real tables.)
 * And the prose around it, the README and the man pages in section 8 name
 * no key the tables lack.
 */
#include "common/textfile.h"
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/cfg_doc.h"
#include "config/cfg_relay.h"
#include "config/cfg_sse.h"

struct toy {
    char *word;
    int64_t wait_ms;
    int pick;
    struct cfg_backoff retry;
};

static const char *const picks[] = {"a", "b", NULL};

static const struct cfg_field toy_fields[] = {
    {"word", CFG_STR, offsetof(struct toy, word), CFG_F_REQUIRED, NULL, 0, 0,
     NULL, NULL, "'quoted' first, a | bar"},
    {"wait", CFG_DURATION, offsetof(struct toy, wait_ms), 0, "2s", 100,
     60000, NULL, NULL, "how long."},
    {"pick", CFG_ENUM, offsetof(struct toy, pick), 0, "a", 0, 0, picks, NULL,
     "one-of"},
    {"old", CFG_INT, 0, CFG_F_OBSOLETE, NULL, 0, 0, NULL, NULL, "gone"},
    {"retry", CFG_SECTION, offsetof(struct toy, retry), 0, NULL, 0, 0, NULL,
     &cfg_backoff_schema, "backoff"},
    {.key = NULL},
};
static const struct cfg_schema toy_schema = {
    "toy", sizeof(struct toy), toy_fields, NULL,
};

static const struct cfg_schema *lookup(const char *name)
{
    return strcmp(name, "toy") == 0 ? &toy_schema : NULL;
}

static char *render(enum cfg_doc_format fmt)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    cfg_doc_write(&toy_schema, fmt, fp);
    fclose(fp);
    return text;
}

static void test_markdown(void **state)
{
    (void)state;
    char *md = render(CFG_DOC_MARKDOWN);
    assert_non_null(strstr(md, "| `word` | string | required |  | "
                               "'quoted' first, a \\| bar |\n"));
    assert_non_null(strstr(md, "| `wait` | duration | `2s` | 100ms to 1m | "
                               "how long. |\n"));
    assert_non_null(strstr(md, "| `pick` | enum | `a` | a, b | one-of |\n"));
    assert_non_null(strstr(md, "| `retry.initial` | duration | `500ms` |"));
    assert_null(strstr(md, "old"));
    free(md);
}

static void test_man(void **state)
{
    (void)state;
    char *man = render(CFG_DOC_MAN);
    /* a line beginning with ' would be a roff request */
    assert_non_null(strstr(man, ".TP\n.B word\n\\&string; required.\n"
                                "\\&'quoted' first, a | bar.\n"));
    assert_non_null(strstr(man, ".B wait\n\\&duration, 100ms to 1m; default "
                                "\\fB2s\\fR.\n\\&how long.\n"));
    assert_non_null(strstr(man, "\\&enum: a, b; default \\fBa\\fR.\n"
                                "\\&one-of.\n"));
    assert_non_null(strstr(man, ".B retry.max\n"));
    assert_null(strstr(man, "old"));
    free(man);
}

static void test_splice(void **state)
{
    (void)state;
    char err[256];
    const char *doc = "before\n<!-- BEGIN KEYS toy -->\nstale\nlines\n"
                      "<!-- END KEYS -->\nafter\n";
    char *out = cfg_doc_splice(doc, CFG_DOC_MARKDOWN, lookup, err, sizeof err);
    char *md = render(CFG_DOC_MARKDOWN);
    char want[4096];
    assert_non_null(out);
    snprintf(want, sizeof want, "before\n<!-- BEGIN KEYS toy -->\n%s"
             "<!-- END KEYS -->\nafter\n", md);
    assert_string_equal(out, want);
    /* splicing what it wrote changes nothing */
    char *again = cfg_doc_splice(out, CFG_DOC_MARKDOWN, lookup, err,
                                 sizeof err);
    assert_non_null(again);
    assert_string_equal(again, out);
    free(again);
    free(out);
    free(md);
}

static void test_bad_markers(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *want;
    } cases[] = {
        {"a\n.\\\" BEGIN KEYS toy\nb\n", "line 2: BEGIN KEYS without END KEYS"},
        {".\\\" BEGIN KEYS nope\n.\\\" END KEYS\n",
         "line 1: the marker names no schema (\"nope\")"},
        {"no markers at all\n", "no BEGIN KEYS marker"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        char *out = cfg_doc_splice(cases[i].doc, CFG_DOC_MAN, lookup, err,
                                   sizeof err);
        assert_null(out);
        assert_string_equal(err, cases[i].want);
    }
}

/* ---- the prose names real keys ------------------------------------------ */

/* Whether `path` (a dotted key as prose writes it) starts with a section
 * of `schema`: only those are taken for keys, since "outbox.dlq" and
 * "outbox.event.queue" are topic names. */
static bool in_a_section(const struct cfg_schema *schema, const char *path)
{
    size_t n = strcspn(path, ".");
    for (const struct cfg_field *f = schema->fields; f->key; f++)
        if (f->type == CFG_SECTION && strlen(f->key) == n &&
            strncmp(f->key, path, n) == 0)
            return path[n] == '.';
    return false;
}

/* A key the text names at p: "a.b.c" of `a.b.c`, `a.b: x`, \fBa.b\fR or
 * ".B a.b"; copied into key. */
static bool key_at(const char *p, char *key, size_t len)
{
    size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_.[]");
    while (n > 0 && p[n - 1] == '.')
        n--; /* a full stop after the key */
    if (n == 0 || n >= len || !memchr(p, '.', n))
        return false;
    memcpy(key, p, n);
    key[n] = '\0';
    return true;
}

/* Reports each key `file` names that neither daemon's tables hold.
 * Obsolete keys count as held: prose may say they are gone. Returns their
 * number. */
static int mentions_checked;

static int unknown_mentions(const char *file)
{
    static const char *const opens[] = {"`", "\\fB", "\n.B ", NULL};
    const struct cfg_schema *schemas[] = {&relay_cfg_schema, &sse_cfg_schema};
    char *text = textfile_read(file);
    int bad = 0;
    if (!text)
        fail_msg("cannot read %s", file);
    for (size_t o = 0; opens[o]; o++) {
        for (const char *p = strstr(text, opens[o]); p;
             p = strstr(p + 1, opens[o])) {
            char key[256];
            if (!key_at(p + strlen(opens[o]), key, sizeof key))
                continue;
            bool sectioned = false, found = false;
            for (size_t i = 0; i < 2 && !found; i++) {
                bool free_form; /* any key under a map is the user's */
                const struct cfg_field *f =
                    cfg_doc_find(schemas[i], key, &free_form);
                sectioned = sectioned || in_a_section(schemas[i], key);
                found = in_a_section(schemas[i], key) && f;
            }
            mentions_checked += sectioned;
            if (sectioned && !found) {
                fprintf(stderr, "%s: names '%s', which no table has\n", file,
                        key);
                bad++;
            }
        }
    }
    free(text);
    return bad;
}

static void test_prose_names_real_keys(void **state)
{
    (void)state;
    static const char *const patterns[] = {
        "README.md", "docs/*.md", "tests/*/README.md", "tests/bench/*.md",
        "packaging/man/*.[58]", NULL};
    const char *src = getenv("OUTBOX_SOURCE_DIR");
    int bad = 0;
    size_t files = 0;
    assert_non_null(src);
    for (size_t i = 0; patterns[i]; i++) {
        char pat[4096];
        glob_t g;
        snprintf(pat, sizeof pat, "%s/%s", src, patterns[i]);
        if (glob(pat, 0, NULL, &g) != 0)
            continue;
        for (size_t k = 0; k < g.gl_pathc; k++, files++)
            bad += unknown_mentions(g.gl_pathv[k]);
        globfree(&g);
    }
    printf("%zu files, %d key mentions checked\n", files, mentions_checked);
    assert_true(files >= 5);
    if (bad)
        fail_msg("%d mention(s) of keys the tables lack (listed above)", bad);
}

static void test_find(void **state)
{
    (void)state;
    bool ff;
    assert_non_null(cfg_doc_find(&relay_cfg_schema, "source.reconnect.max", &ff));
    assert_false(ff);
    assert_non_null(cfg_doc_find(&relay_cfg_schema, "outbox[].table", &ff));
    assert_non_null(cfg_doc_find(&relay_cfg_schema, "outbox.table", &ff));
    assert_non_null(cfg_doc_find(&relay_cfg_schema, "source.password_file", &ff));
    assert_null(cfg_doc_find(&relay_cfg_schema, "source.host_file", &ff));
    assert_non_null(cfg_doc_find(&relay_cfg_schema, "kafka.properties.acks", &ff));
    assert_true(ff);
    assert_null(cfg_doc_find(&relay_cfg_schema, "source.port.x", &ff));
    assert_null(cfg_doc_find(&sse_cfg_schema, "redis.tls.nope", &ff));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_man),
        cmocka_unit_test(test_splice),
        cmocka_unit_test(test_bad_markers),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_prose_names_real_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
