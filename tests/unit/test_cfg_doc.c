/*
 * cfg_doc: the key reference is spliced between its markers and nowhere
 * else, bad markers are refused, and each format escapes what it must.
 * (test_config_docs holds the checked-in documents to the real tables.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/cfg_doc.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_man),
        cmocka_unit_test(test_splice),
        cmocka_unit_test(test_bad_markers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
