/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/bench/sse_ptree.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness/th.h"

enum { PT_MAX = 32768 };

/* Every process's parent, from /proc; the count. */
static int scan(pid_t *pid, pid_t *ppid, int cap)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d)) && n < cap) {
        char path[300], buf[512];
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        size_t l = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[l] = '\0';
        const char *rp = strrchr(buf, ')'); /* comm may hold spaces */
        int pp;
        if (!rp || sscanf(rp + 1, " %*c %d", &pp) != 1)
            continue;
        pid[n] = atoi(de->d_name);
        ppid[n++] = pp;
    }
    if (d)
        closedir(d);
    return n;
}

int ptree_pids(pid_t root, pid_t *out, int cap)
{
    static pid_t pid[PT_MAX], ppid[PT_MAX];
    int n = scan(pid, ppid, PT_MAX), k = 0;
    for (int i = 0; i < n && !k; i++)
        if (pid[i] == root && cap > 0)
            out[k++] = root;
    /* breadth first: out[0..k) grows until no process has a parent in it */
    for (int done = 0; done < k; done++)
        for (int i = 0; i < n && k < cap; i++)
            if (ppid[i] == out[done])
                out[k++] = pid[i];
    return k;
}

/* Pss of one process in KiB (smaps_rollup), -1 when unreadable. */
static long pss_kb(pid_t p)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)p);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    while (fgets(line, sizeof line, fp))
        if (!strncmp(line, "Pss:", 4)) {
            kb = strtol(line + 4, NULL, 10);
            break;
        }
    fclose(fp);
    return kb;
}

int ptree_mem(pid_t root, struct ptree_mem *m)
{
    static pid_t pids[PT_MAX];
    memset(m, 0, sizeof *m);
    m->procs = ptree_pids(root, pids, PT_MAX);
    for (int i = 0; i < m->procs; i++) {
        long r = th_proc_status_kb(pids[i], "VmRSS"), p = pss_kb(pids[i]);
        m->rss_kb += r > 0 ? r : 0;
        m->pss_kb += p > 0 ? p : 0;
    }
    return m->procs ? 0 : -1;
}
