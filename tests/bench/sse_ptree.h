/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sse_ptree: the memory of a server that is a tree of processes (a
 * supervisor and its workers, nginx's master and workers), for
 * outbox-sse-bench. The processes are found by PID: the root and every
 * process whose parent chain leads to it (/proc/PID/stat), never by name,
 * since other servers of the same name may run on the machine.
 */
#ifndef OUTBOX_BENCH_SSE_PTREE_H
#define OUTBOX_BENCH_SSE_PTREE_H

#include <sys/types.h>

struct ptree_mem {
    int procs;  /* processes found: the root and its descendants */
    long rss_kb; /* sum of VmRSS (shared pages counted once per process) */
    long pss_kb; /* sum of Pss (shared pages split among their users) */
};

/* The root and its descendants into pids[0..cap); their number (the root
 * first), 0 when the root is gone. */
int ptree_pids(pid_t root, pid_t *pids, int cap);
/* Sums over the tree of root; 0, or -1 when the root is gone. */
int ptree_mem(pid_t root, struct ptree_mem *m);

#endif
