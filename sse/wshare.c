/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/wshare.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* A cache line each: workers write their own slot often. */
struct wslot {
    _Atomic int64_t held;
    char pad[64 - sizeof(int64_t)];
};

struct wshare {
    int fd;
    size_t n;
    struct wslot *slots;
};

static struct wshare *map(int fd, size_t n)
{
    struct wshare *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    void *p = mmap(NULL, n * sizeof(struct wslot), PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        free(ws);
        return NULL;
    }
    *ws = (struct wshare){fd, n, p};
    return ws;
}

struct wshare *wshare_create(size_t n)
{
    /* Not close-on-exec: the supervisor's workers inherit it (and only
     * they: the supervisor starts nothing else). */
    int fd = memfd_create("outbox-sse-workers", 0);
    if (fd < 0)
        return NULL;
    struct wshare *ws = NULL;
    if (ftruncate(fd, (off_t)(n * sizeof(struct wslot))) == 0)
        ws = map(fd, n);
    if (!ws) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return ws; /* a new memfd reads as zeros: every slot empty */
}

struct wshare *wshare_open(int fd, size_t n) { return map(fd, n); }

void wshare_free(struct wshare *ws)
{
    if (!ws)
        return;
    munmap(ws->slots, ws->n * sizeof(struct wslot));
    close(ws->fd);
    free(ws);
}

int wshare_fd(const struct wshare *ws) { return ws->fd; }

void wshare_set_held(struct wshare *ws, size_t slot, int64_t held)
{
    if (ws && slot < ws->n)
        atomic_store_explicit(&ws->slots[slot].held, held, memory_order_relaxed);
}

int64_t wshare_held_by_others(const struct wshare *ws, size_t slot)
{
    int64_t sum = 0;
    for (size_t i = 0; ws && i < ws->n; i++)
        if (i != slot)
            sum += atomic_load_explicit(&ws->slots[i].held, memory_order_relaxed);
    return sum;
}
