/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The peer relay (tests/bench/peer/peer-relay.mjs: zongji + kafkajs) as a
 * process of the benchmark, and the CPU time of a process from /proc.
 */
#include "tests/bench/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEER_SERVER_ID "78" /* the relay's is 77, the bench reader's its own */
#define PEER_START_S 60

static int in_path(const char *name, char *out, size_t len)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (char *save, *d = strtok_r(dirs, ":", &save); d;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/%s", d, name);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

int bench_peer_find(struct bench_peer *p, const char *srcdir)
{
    char mods[600];
    p->ok = 0;
    if (in_path("node", p->node, sizeof p->node) < 0) {
        snprintf(p->why, sizeof p->why, "node is not installed");
        return -1;
    }
    snprintf(p->script, sizeof p->script, "%s/tests/bench/peer/peer-relay.mjs",
             srcdir);
    snprintf(mods, sizeof mods, "%s/tests/bench/peer/node_modules/kafkajs",
             srcdir);
    if (access(p->script, R_OK) < 0) {
        snprintf(p->why, sizeof p->why, "%.150s is missing", p->script);
        return -1;
    }
    if (access(mods, R_OK) < 0) {
        snprintf(p->why, sizeof p->why, "its packages are not installed "
                 "(npm ci in tests/bench/peer; run.sh does it)");
        return -1;
    }
    p->ok = 1;
    return 0;
}

int bench_peer_spawn(struct bench_peer *p, struct th_proc *proc,
                     const char *dir, const struct th_mariadb *db,
                     const char *bootstrap, const char *file,
                     unsigned long long pos)
{
    char port[16], at[32], log[600];
    struct stat st;
    /* th_spawn appends to DIR/peer.log: this run's lines come after */
    snprintf(log, sizeof log, "%s/peer.log", dir);
    p->log_from = stat(log, &st) == 0 ? (long)st.st_size : 0;
    snprintf(port, sizeof port, "%d", db->port);
    snprintf(at, sizeof at, "%llu", pos);
    char *argv[] = {(char *)p->node, (char *)p->script, "--port", port,
                    "--brokers", (char *)bootstrap, "--server-id",
                    PEER_SERVER_ID, file ? "--binlog-file" : NULL,
                    (char *)file, "--binlog-pos", at, NULL};
    return th_spawn(proc, "peer", dir, argv);
}

/* 1 when the log holds needle after byte `from` */
static int log_has(const char *path, long from, const char *needle)
{
    char line[4096];
    int found = 0;
    FILE *fp = fopen(path, "r");
    if (fp && fseek(fp, from, SEEK_SET) == 0)
        while (!found && fgets(line, sizeof line, fp))
            found = strstr(line, needle) != NULL;
    if (fp)
        fclose(fp);
    return found;
}

double bench_peer_await(const struct bench_peer *p, struct th_proc *proc,
                        int64_t t0_ns)
{
    while (!log_has(proc->log, p->log_from, "peer: streaming")) {
        double s = (double)(bench_now_ns() - t0_ns) / 1e9;
        if (!th_alive(proc) || s > PEER_START_S) {
            fprintf(stderr, "bench: the peer did not start streaming\n");
            th_dump_log(proc, 20);
            return -1;
        }
        bench_sleep_until(bench_now_ns() + 20000000L);
    }
    return (double)(bench_now_ns() - t0_ns) / 1e9;
}

double bench_cpu_s(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *fp = fopen(path, "r");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp)
        fclose(fp);
    buf[n] = '\0';
    /* after "(comm)": state is field 3, utime 14, stime 15 */
    char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                     &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}
