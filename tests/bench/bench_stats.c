/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/bench/bench.h"
#include "tests/harness/th.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RSS_EVERY_NS 50000000L
#define NKINDS 3

/* ---- clock ------------------------------------------------------------ */

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_sleep_until(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

long bench_paced(const struct bench_pace *p, int (*one)(void *arg, long i),
                 void *arg, int64_t *done)
{
    int64_t every = 1000000000L / p->rate;
    long i = p->from, n = 0;
    for (int64_t late = 0; i < p->n; i += p->step, n++) {
        int64_t due = p->t0 + i * every + late;
        bench_sleep_until(due);
        if (one(arg, i) < 0)
            break;
        done[i] = bench_now_ns();
        if (done[i] - due > 10 * every * p->step)
            late = done[i] - p->t0 - i * every; /* far behind: no burst */
    }
    return n;
}

/* ---- the events ------------------------------------------------------- */

static const char *const TYPES[NKINDS] = {"queue", "order", "user"};

const char *bench_type(long seq) { return TYPES[seq % NKINDS]; }

void bench_event_id(char *buf, size_t cap, long seq)
{
    snprintf(buf, cap, "00000000-0000-4000-8000-%012ld", seq);
}

void bench_key(char *buf, size_t cap, long seq, int keys)
{
    /* Not seq % keys: that would tie each key to one type, hence topic. */
    snprintf(buf, cap, "k%ld", (seq / NKINDS) % keys);
}

/* Plain ASCII without quotes or backslashes, so that SQL needs no
 * escaping and JSON stays valid. */
size_t bench_payload(char *buf, size_t cap, long seq, int size)
{
    int k = snprintf(buf, cap, "{\"seq\":%ld,\"pad\":\"", seq);
    size_t len = (size_t)k, end = (size_t)size > len + 2 ? (size_t)size - 2 : len;
    for (; len < end && len + 3 < cap; len++)
        buf[len] = (char)('a' + (seq + (long)len) % 26);
    memcpy(buf + len, "\"}", 3);
    return len + 2;
}

/* ---- RSS ---------------------------------------------------------------- */

static void rss_sample(struct bench_rss *r, int pid)
{
    long kb = th_proc_status_kb(pid, "VmRSS");
    if (kb > atomic_load(&r->max_rss_kb))
        atomic_store(&r->max_rss_kb, kb);
    if ((kb = th_proc_status_kb(pid, "VmHWM")) >= 0)
        atomic_store(&r->hwm_kb, kb);
}

static void *rss_thread(void *arg)
{
    struct bench_rss *r = arg;
    for (int64_t next = bench_now_ns(); !atomic_load(&r->stop);) {
        int pid = atomic_load(&r->pid);
        if (pid > 0)
            rss_sample(r, pid);
        next += RSS_EVERY_NS;
        bench_sleep_until(next);
    }
    return NULL;
}

int bench_rss_start(struct bench_rss *r)
{
    atomic_init(&r->pid, 0);
    atomic_init(&r->stop, 0);
    atomic_init(&r->max_rss_kb, 0);
    atomic_init(&r->hwm_kb, 0);
    return pthread_create(&r->thread, NULL, rss_thread, r) == 0 ? 0 : -1;
}

void bench_rss_watch(struct bench_rss *r, int pid)
{
    atomic_store(&r->pid, pid);
    atomic_store(&r->max_rss_kb, 0);
    atomic_store(&r->hwm_kb, 0);
    if (pid > 0)
        rss_sample(r, pid);
}

void bench_rss_stop(struct bench_rss *r)
{
    atomic_store(&r->stop, 1);
    pthread_join(r->thread, NULL);
}

/* ---- latency ------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct_ms(const int64_t *sorted, long n, double q)
{
    long i = (long)(q * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1e6;
}

int bench_latency_of(const int64_t *commit, const int64_t *seen, long from,
                     long n, struct bench_latency *out)
{
    memset(out, 0, sizeof *out);
    int64_t *lat = malloc(sizeof *lat * (size_t)(n > from ? n - from : 1));
    if (!lat)
        return -1;
    for (long i = from; i < n; i++) {
        if (!seen[i] || !commit[i]) {
            out->lost++;
            continue;
        }
        int64_t d = seen[i] - commit[i];
        /* The relay may hand an event to Kafka before the committing
         * client is scheduled again; that counts as zero. */
        out->early += d < 0;
        lat[out->count++] = d < 0 ? 0 : d;
    }
    if (out->count > 0) {
        qsort(lat, (size_t)out->count, sizeof *lat, cmp_i64);
        out->p50_ms = pct_ms(lat, out->count, 0.50);
        out->p99_ms = pct_ms(lat, out->count, 0.99);
        out->p999_ms = pct_ms(lat, out->count, 0.999);
        out->max_ms = (double)lat[out->count - 1] / 1e6;
    }
    free(lat);
    return out->count > 0 ? 0 : -1;
}

int bench_latency_cdf(const int64_t *commit, const int64_t *seen, long from,
                      long n, const char *path)
{
    long count = 0;
    int64_t *lat = malloc(sizeof *lat * (size_t)(n > from ? n - from : 1));
    FILE *fp = lat ? fopen(path, "w") : NULL;
    if (!fp) {
        free(lat);
        return -1;
    }
    for (long i = from; i < n; i++)
        if (seen[i] && commit[i])
            lat[count++] = seen[i] > commit[i] ? seen[i] - commit[i] : 0;
    qsort(lat, (size_t)count, sizeof *lat, cmp_i64);
    fprintf(fp, "# latency_ms fraction (%ld events)\n", count);
    /* 0.1 % steps to 99 %, then 0.01 % steps, then the maximum */
    for (int k = 0; count > 0 && k <= 1090; k++) {
        double q = k <= 990 ? k / 1000.0 : 0.99 + (k - 990) / 10000.0;
        fprintf(fp, "%.4f %.4f\n", pct_ms(lat, count, q), q);
    }
    free(lat);
    return fclose(fp) == 0 ? 0 : -1;
}
