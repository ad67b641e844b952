/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-cfg-docs [--check] FILE...: fills the key reference of each FILE
 * (markdown when it ends in .md, a man page otherwise) from the daemons'
 * cfg_schema tables, between its BEGIN KEYS / END KEYS markers.
 *
 * Without --check, a FILE whose reference differs is rewritten (the build
 * target config-docs does this to the checked-in documents). With
 * --check nothing is written: the exit status is 1 when some FILE differs
 * from what the tables give (test_config_docs), 0 when none does. Exit 2:
 * a FILE cannot be read or written, or its markers are wrong.
 *
 * A build tool, not installed.
 */
#include "common/textfile.h"
#include "config/cfg_doc.h"
#include "config/cfg_relay.h"
#include "config/cfg_sse.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cfg_schema *lookup(const char *name)
{
    if (strcmp(name, "relay") == 0)
        return &relay_cfg_schema;
    if (strcmp(name, "sse") == 0)
        return &sse_cfg_schema;
    return NULL;
}

/* Written beside the file and renamed over it, so that an interrupted
 * run leaves the old document whole. */
static int write_all(const char *path, const char *text)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return -1;
    bool ok = fputs(text, fp) >= 0;
    ok = fclose(fp) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

static bool is_markdown(const char *path)
{
    size_t n = strlen(path);
    return n > 3 && strcmp(path + n - 3, ".md") == 0;
}

/* 0: up to date (or rewritten); 1: differs (--check); 2: error. */
static int one_file(const char *path, bool check)
{
    char err[256];
    char *text = textfile_read(path);
    if (!text) {
        fprintf(stderr, "outbox-cfg-docs: cannot read %s\n", path);
        return 2;
    }
    enum cfg_doc_format fmt = is_markdown(path) ? CFG_DOC_MARKDOWN : CFG_DOC_MAN;
    char *want = cfg_doc_splice(text, fmt, lookup, err, sizeof err);
    int rc = 0;
    if (!want) {
        fprintf(stderr, "outbox-cfg-docs: %s: %s\n", path, err);
        rc = 2;
    } else if (strcmp(text, want) != 0 && check) {
        fprintf(stderr, "%s: the key reference differs from the cfg_field "
                "tables; run `cmake --build BUILD --target config-docs` and "
                "commit the result\n", path);
        rc = 1;
    } else if (strcmp(text, want) != 0 && write_all(path, want) < 0) {
        fprintf(stderr, "outbox-cfg-docs: cannot write %s\n", path);
        rc = 2;
    }
    free(text);
    free(want);
    return rc;
}

int main(int argc, char **argv)
{
    bool check = argc > 1 && strcmp(argv[1], "--check") == 0;
    int first = check ? 2 : 1, rc = 0;
    if (first >= argc) {
        fprintf(stderr, "usage: outbox-cfg-docs [--check] FILE...\n");
        return 2;
    }
    for (int i = first; i < argc; i++) {
        int r = one_file(argv[i], check);
        rc = r > rc ? r : rc;
    }
    return rc;
}
