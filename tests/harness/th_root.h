/* SPDX-License-Identifier: Apache-2.0 */
/*
 * th_root: Debian roots for database servers the host has no package of.
 *
 * A test that needs MySQL 9.7 (Debian sid) or MariaDB 11.8 (trixie) on
 * this Debian 12 machine runs the server in a minimal root made by
 * debootstrap from Debian's default mirror, entered with chroot(8): same
 * network namespace, so the server listens on the host's 127.0.0.1.
 *
 * A root is built once per machine, into a cache outside the repository:
 * $OUTBOX_TEST_ROOTS (default /var/cache/outbox-relay-test/roots), as
 * SUITE-PKG+PKG (e.g. sid-mysql-server-core+mysql-client). It is built in
 * NAME.build and renamed to NAME after its stamp file (STAMP, holding
 * the suite, packages and the server's --version) is written, so NAME is
 * there only when complete. Builders serialise on flock(NAME.lock): a
 * second test process waits for the first one's build and then reuses it.
 * A failed build is remembered in NAME.failed (with the reason) for
 * TH_ROOT_RETRY_S seconds, so that a machine without a mirror does not
 * spend a debootstrap on every test; remove that file to retry at once.
 *
 * The debootstrap log is NAME.debootstrap.log in the cache. Needs root
 * (debootstrap, chroot). Call from the main thread (th.h's rules).
 *
 * Roots that hold no database server (the packaging tests' build root and
 * the roots they boot under systemd-nspawn) use the same cache: their
 * spec names a program the root must have instead of a server, and no
 * version; th-root (th_root_main.c) makes them ready from a shell test.
 * Such a root is only ever read by its users (an nspawn --volatile=overlay
 * keeps their writes in memory), so that it stays as debootstrap made it.
 */
#ifndef OUTBOX_TEST_ROOT_H
#define OUTBOX_TEST_ROOT_H

#include <stddef.h>

#define TH_ROOT_STAMP ".outbox-root-complete"
#define TH_ROOT_RETRY_S 900

struct th_root_spec {
    const char *suite;          /* "sid", "trixie" */
    const char *packages;       /* debootstrap --include list, commas */
    const char *server;         /* absolute path inside: "/usr/sbin/mysqld" */
    const char *version_prefix; /* its --version must say "Ver " this; NULL:
                                   `server` is only a program the root must
                                   hold (no version asked, version "") */
    const char *name;           /* the cache's name for it; NULL: SUITE-PKGS
                                   ("trixie-mariadb-server") */
};

/* The root for `spec`, built if missing. Returns 0 with its path in
 * `path` and the server's version (from --version) in `version`; 1 when
 * it cannot be had here, with the reason in `why`; -1 on a local error
 * (also with `why`). */
int th_root_prepare(const struct th_root_spec *spec, char *path, size_t len,
                    char *version, size_t vlen, char *why, size_t whylen);

#endif
