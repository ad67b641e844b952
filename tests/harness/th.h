/* SPDX-License-Identifier: Apache-2.0 */
/*
 * th: throwaway servers for integration tests.
 *
 * A test starts what it needs (MariaDB, Redis, kafka-mock, or a daemon of
 * ours) on 127.0.0.1, on free ports, in a temporary directory
 * $TMPDIR/outbox-test.PID.XXXXXX, and gets them stopped in every case:
 *
 *   - th_*_stop (which also removes the server's directory), or at exit (atexit), or on SIGINT/SIGTERM/SIGABRT/SIGSEGV
 *     (the handler kills every server's process group and exits): all
 *     stop and their directories are removed;
 *   - if the test itself is SIGKILLed, each server dies with it
 *     (prctl(PR_SET_PDEATHSIG, SIGKILL) in the child before exec; servers
 *     are exec'd directly, never through a wrapper script). Its directory
 *     is left behind; the next test run removes directories whose owner
 *     pid is gone.
 *
 * Database servers come in kinds (th_mariadb_start_kind): "mariadb-10.11"
 * is the host's own package; "mariadb-11.8" and "mysql-9.7" run in a
 * Debian root (th_root.h: built once per machine, cached) entered with
 * chroot(8), exec'd directly as `chroot ROOT mysqld ...` (chroot execs the
 * server, so the pid is the server's and PDEATHSIG holds). Their
 * directories are in the root's /tmp, as ROOT/tmp/outbox-test.PID.XXXXXX,
 * removed and swept like the host's. Clients on the host reach every kind
 * over TCP on 127.0.0.1. A kind that cannot be had here (no mirror, no
 * root privileges, Debian moved on) makes the start return TH_SKIP with
 * the reason printed; th_assert_started() turns that into cmocka's skip()
 * and th_exit() into exit status TH_SKIP, which CTest reports as skipped
 * (SKIP_RETURN_CODE): such a test never passes.
 *
 * Every server started is recorded, with the version it reported (SELECT
 * VERSION()), on stderr and, when $OUTBOX_TEST_SERVERS_LOG names a file,
 * appended there as "KIND<TAB>VERSION" (or "KIND<TAB>SKIPPED: why"), for
 * tests/run.sh's summary.
 *
 * Single-threaded tests; call from the main thread (PDEATHSIG follows the
 * thread that forked). Functions return 0 or -1 and print why on stderr.
 */
#ifndef OUTBOX_TEST_HARNESS_H
#define OUTBOX_TEST_HARNESS_H

#include <stdio.h>
#include <sys/types.h>

struct st_mysql;

struct th_proc {
    pid_t pid;
    char name[32];
    char log[512]; /* its stdout and stderr */
};

/* Exit status and return value for "cannot be had here": CTest's
 * SKIP_RETURN_CODE of the integration tests. */
#define TH_SKIP 77

/* A MariaDB or MySQL server. Paths are as the host sees them (in a root,
 * the socket's may be too long for connect(2): use the port). */
struct th_mariadb {
    struct th_proc proc;
    char dir[256], datadir[320], socket[320];
    int port;
    const char *const *extra; /* more server options, NULL-terminated */
    const char *kind;         /* "mariadb-10.11", "mariadb-11.8", "mysql-9.7" */
    int mysql;                /* 1 for MySQL, 0 for MariaDB */
    char root[256];           /* the root it runs in; "" on the host */
    char version[128];        /* what SELECT VERSION() said */
};

struct th_redis {
    struct th_proc proc;
    char dir[256];
    int port;
    int tls_port;     /* 0 without TLS */
    char certs[256];  /* th_make_certs's directory, with TLS */
};

struct th_kafka {
    struct th_proc proc;
    char dir[256];
    char bootstrap[512];
    FILE *ctl; /* the mock's standard input */
    FILE *out; /* its standard output (answers) */
};

/* A free TCP port on 127.0.0.1, below the kernel's ephemeral range and not
 * given before by this process (checked by binding it: a small race). */
int th_free_port(void);

/* A new directory under the run's temporary root, its path in out; -1,
 * with a message on stderr, when it cannot be made or its path does not
 * fit in len bytes. */
int th_tempdir(const char *name, char *out, size_t len);

/* The server kind tests start by default: $OUTBOX_TEST_SERVER, else
 * "mariadb-10.11". */
const char *th_server_kind(void);
/* Makes `kind` ready to start (builds or reuses its root). 0; TH_SKIP
 * when it cannot be had here, with the reason in why; -1 for a kind not
 * known. */
int th_server_prepare(const char *kind, char *why, size_t len);
/* The i-th kind known (0 is the default), NULL past the last. */
const char *th_server_kind_name(size_t i);
/* The last reason for a TH_SKIP ("" when none). */
const char *th_skip_reason(void);

/* A server of th_server_kind() with the binlog settings the relay needs
 * (log_bin, ROW, FULL image, FULL metadata, server_id 1; MySQL also with
 * gtid_mode=ON); `extra` options come last, so they win (e.g.
 * "--binlog-format=STATEMENT"). Root connects over TCP without a password
 * (caching_sha2_password on MySQL). 0, -1, or TH_SKIP. */
int th_mariadb_start(struct th_mariadb *m, const char *const *extra);
int th_mariadb_start_kind(struct th_mariadb *m, const char *kind,
                          const char *const *extra);
int th_mariadb_stop(struct th_mariadb *m);
/* Stop and start again on the same data and port. */
int th_mariadb_restart(struct th_mariadb *m);
/* A new connection as root; NULL on failure. */
struct st_mysql *th_mariadb_connect(const struct th_mariadb *m);
/* Runs statements (separated by ';' allowed); 0 or -1. */
int th_mariadb_exec(const struct th_mariadb *m, const char *sql);
/* The statement that says where the binlog ends: SHOW BINARY LOG STATUS
 * on MySQL 8.2 and later (8.4 removed the old name), else SHOW MASTER
 * STATUS. */
const char *th_mariadb_binlog_status_sql(const struct th_mariadb *m);

/* In a cmocka test: skip() when a start returned TH_SKIP, else assert 0. */
#define th_assert_started(expr)                                              \
    do {                                                                     \
        int th_rc_ = (expr);                                                 \
        if (th_rc_ == TH_SKIP)                                               \
            skip();                                                          \
        assert_int_equal(th_rc_, 0);                                         \
    } while (0)
/* main's exit status from cmocka_run_group_tests' count of failures:
 * TH_SKIP when nothing failed but a server could not be had. */
int th_exit(int failed);

int th_redis_start(struct th_redis *r);
/* Also listening with TLS on r->tls_port (server.pem from `certs`, made by
 * th_make_certs), asking clients for a certificate signed by ca.pem. */
int th_redis_start_tls(struct th_redis *r, const char *certs);
/* A throwaway CA (ca.pem, ca.key), a server certificate it signs for
 * 127.0.0.1 (server.pem, server.key), a client certificate (client.pem,
 * client.key), and an unrelated CA (evil.pem), in a new directory. */
int th_make_certs(char *dir, size_t len);
int th_redis_stop(struct th_redis *r);
/* Stops Redis, keeping its directory (and a dump.rdb in it) for... */
int th_redis_halt(struct th_redis *r);
/* ...starting it again on the same port and directory. */
int th_redis_restart(struct th_redis *r);

/* kafka-mock with `brokers` brokers; `topics` like {"t:4", NULL} or NULL. */
int th_kafka_start(struct th_kafka *k, int brokers, const char *const *topics);
/* Sends a control line ("down 1", "up 1", ...) and waits for "ok". */
int th_kafka_cmd(struct th_kafka *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int th_kafka_stop(struct th_kafka *k);

/* Any program, its output to a log in dir; registered for cleanup. */
int th_spawn(struct th_proc *p, const char *name, const char *dir,
             char *const argv[]);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the exit status
 * (0..255), 128+signal when killed, or -1. *waited_ms how long it took. */
int th_stop(struct th_proc *p, int timeout_ms, int *waited_ms);
/* Waits up to timeout_ms for the process to end by itself. Returns its
 * exit status (128+signal when killed), or -1 if it still runs. */
int th_wait(struct th_proc *p, int timeout_ms);
/* SIGKILL and reap. */
void th_kill(struct th_proc *p);
/* 1 while the process runs. */
int th_alive(struct th_proc *p);

/* The "FIELD:  N kB" line of /proc/PID/status ("VmRSS", "VmHWM",
 * "RssShmem", ...), in kB; -1 when the process or the field is missing.
 * Touches no shared state: any thread may call it. */
long th_proc_status_kb(pid_t pid, const char *field);
/* A process's resident set (VmRSS) in bytes; -1 when unreadable. */
long th_proc_rss(pid_t pid);

/* Runs a program to its end (at most timeout_ms, then SIGKILL); its
 * output goes to DIR/NAME.log. Returns its exit status or -1. */
int th_run(const char *name, const char *dir, char *const argv[],
           int timeout_ms);

/* GET path from 127.0.0.1:port over HTTP/1.0. Returns the status code (and
 * the body in body), or -1 when nothing answers. */
int th_http_get(int port, const char *path, char *body, size_t len);

/* The build's path of a tool or daemon (OUTBOX_BUILD_DIR + rel). */
const char *th_build_path(const char *rel, char *buf, size_t len);

/* 1 when the process's log holds `needle`. */
int th_log_contains(const struct th_proc *p, const char *needle);

/* Prints the last lines of a process's log on stderr (on failure). */
void th_dump_log(const struct th_proc *p, int lines);
/* Every thread's stack of a running process (gdb), to stderr: where a
 * daemon that stopped making progress is waiting. */
void th_dump_stacks(const struct th_proc *p);

#endif
