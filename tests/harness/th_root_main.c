/* SPDX-License-Identifier: Apache-2.0 */
/*
 * th-root: a cached Debian root (th_root.h) for the shell tests.
 *
 *   th-root SUITE PACKAGES PROGRAM [NAME]
 *
 * builds (once per machine, with debootstrap --variant=minbase
 * --include=PACKAGES) or reuses the root NAME (default SUITE-PACKAGES) in
 * the roots' cache and prints its path. PROGRAM is an absolute path the
 * finished root must hold as an executable (/usr/lib/systemd/systemd,
 * /usr/bin/cmake): a root without it is not stamped complete.
 *
 * Exit status: 0 with the path on stdout; 77 (TH_SKIP: CTest's skip code)
 * when the root cannot be had here (no mirror, not root), the reason on
 * stdout as "SKIPPED: why"; 1 on a local error; 2 usage.
 */
#include <stdio.h>

#include "tests/harness/th.h"
#include "tests/harness/th_root.h"

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || argv[3][0] != '/') {
        fprintf(stderr, "usage: th-root SUITE PACKAGES /PROGRAM [NAME]\n");
        return 2;
    }
    struct th_root_spec spec = {argv[1], argv[2], argv[3], NULL,
                                argc == 5 ? argv[4] : NULL};
    char path[512], version[128], why[800];
    int rc = th_root_prepare(&spec, path, sizeof path, version,
                             sizeof version, why, sizeof why);
    if (rc == 0) {
        printf("%s\n", path);
        return 0;
    }
    if (rc > 0) {
        printf("SKIPPED: %s\n", why);
        return TH_SKIP;
    }
    fprintf(stderr, "th-root: %s\n", why);
    return 1;
}
