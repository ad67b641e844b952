/* SPDX-License-Identifier: Apache-2.0 */
/*
 * th-servers: the harness's database servers from the command line.
 *
 *   th-servers prepare [KIND...]   build (or reuse) the roots of the kinds
 *                                  (all when none is named); one line each,
 *                                  "KIND: ready" or "KIND: SKIPPED: why"
 *                                  (the root and its server's version go
 *                                  to stderr)
 *   th-servers start KIND          start one, print how to reach it, and
 *                                  wait for Ctrl-C (then stop and remove it)
 *
 * tests/run.sh runs `prepare` before CTest, so that the tests find the
 * roots built (a test would build a missing one itself, under its own
 * timeout). Exit status: 0 (skipped kinds too), 1 on an error, 2 usage.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness/th.h"

static int prepare(int n, char **names)
{
    int rc = 0;
    for (size_t i = 0;; i++) {
        const char *kind = n ? (i < (size_t)n ? names[i] : NULL)
                             : th_server_kind_name(i);
        char why[800];
        if (!kind)
            break;
        switch (th_server_prepare(kind, why, sizeof why)) {
        case 0:
            printf("%s: ready\n", kind);
            break;
        case TH_SKIP:
            printf("%s: SKIPPED: %s\n", kind, why);
            break;
        default:
            printf("%s: error: %s\n", kind, why);
            rc = 1;
        }
        fflush(stdout);
    }
    return rc;
}

static int start(const char *kind)
{
    struct th_mariadb m;
    int rc = th_mariadb_start_kind(&m, kind, NULL);
    if (rc == TH_SKIP) {
        printf("%s: SKIPPED: %s\n", kind, th_skip_reason());
        return 0;
    }
    if (rc != 0)
        return 1;
    printf("%s: %s on 127.0.0.1:%d (mariadb -h127.0.0.1 -P%d -uroot); "
           "directory %s; Ctrl-C stops it\n", kind, m.version, m.port, m.port,
           m.dir);
    fflush(stdout);
    pause(); /* the harness's signal handler stops it and exits */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "prepare"))
        return prepare(argc - 2, argv + 2);
    if (argc == 3 && !strcmp(argv[1], "start"))
        return start(argv[2]);
    fprintf(stderr, "usage: th-servers prepare [KIND...] | start KIND\n"
            "kinds:");
    for (size_t i = 0; th_server_kind_name(i); i++)
        fprintf(stderr, " %s", th_server_kind_name(i));
    fprintf(stderr, "\n");
    return 2;
}
