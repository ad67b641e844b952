/* SPDX-License-Identifier: Apache-2.0 */
#include "common/metrics.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct mfamily {
    enum mtype type;
    char *name, *help, *label;
    metrics_gauge_fn fn;
    void *arg;
    struct metrics *owner;
    struct mseries *series;
    struct mfamily *next;
};

struct metrics {
    pthread_mutex_t lock;
    struct mfamily *families, **tail;
    double start_time;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->tail = &m->families;
    m->start_time = (double)time(NULL);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (struct mfamily *f = m->families, *fn; f; f = fn) {
        fn = f->next;
        for (struct mseries *s = f->series, *sn; s; s = sn) {
            sn = s->next;
            free(s->label_value);
            free(s);
        }
        free(f->name);
        free(f->help);
        free(f->label);
        free(f);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct mfamily *add_family(struct metrics *m, enum mtype type,
                                  const char *name, const char *help,
                                  const char *label)
{
    struct mfamily *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->type = type;
    f->owner = m;
    f->name = strdup(name);
    f->help = strdup(help);
    f->label = label ? strdup(label) : NULL;
    if (!f->name || !f->help || (label && !f->label)) {
        free(f->name);
        free(f->help);
        free(f->label);
        free(f);
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    *m->tail = f;
    m->tail = &f->next;
    pthread_mutex_unlock(&m->lock);
    return f;
}

struct mfamily *metrics_family(struct metrics *m, enum mtype type,
                               const char *name, const char *help,
                               const char *label)
{
    return add_family(m, type, name, help, label);
}

int metrics_gauge_cb(struct metrics *m, const char *name, const char *help,
                     metrics_gauge_fn fn, void *arg)
{
    struct mfamily *f = add_family(m, METRIC_GAUGE, name, help, NULL);
    if (!f)
        return -1;
    f->fn = fn;
    f->arg = arg;
    return 0;
}

struct mseries *metrics_series(struct mfamily *f, const char *label_value)
{
    struct mseries *s;
    if (!f)
        return NULL;
    pthread_mutex_lock(&f->owner->lock);
    for (s = f->series; s; s = s->next)
        if ((!label_value && !s->label_value) ||
            (label_value && s->label_value &&
             strcmp(label_value, s->label_value) == 0))
            break;
    if (!s && (s = calloc(1, sizeof *s))) {
        s->label_value = label_value ? strdup(label_value) : NULL;
        if (label_value && !s->label_value) {
            free(s);
            s = NULL;
        } else {
            s->next = f->series;
            f->series = s;
        }
    }
    pthread_mutex_unlock(&f->owner->lock);
    return s;
}

/* Label values escape backslash, quote and newline (format 0.0.4). */
static void add_label_value(struct evbuffer *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            evbuffer_add_printf(out, "\\%c", *v);
        else if (*v == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, v, 1);
    }
}

static void render_family(struct mfamily *f, struct evbuffer *out)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
                        f->name, f->type == METRIC_COUNTER ? "counter" : "gauge");
    if (f->fn) {
        evbuffer_add_printf(out, "%s %.17g\n", f->name, f->fn(f->arg));
        return;
    }
    for (struct mseries *s = f->series; s; s = s->next) {
        long long v = (long long)atomic_load_explicit(&s->value,
                                                      memory_order_relaxed);
        if (f->label && s->label_value) {
            evbuffer_add_printf(out, "%s{%s=\"", f->name, f->label);
            add_label_value(out, s->label_value);
            evbuffer_add_printf(out, "\"} %lld\n", v);
        } else {
            evbuffer_add_printf(out, "%s %lld\n", f->name, v);
        }
    }
}

static long resident_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (fp) {
        if (fscanf(fp, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(fp);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own descriptor */
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

void metrics_render(struct metrics *m, struct evbuffer *out)
{
    pthread_mutex_lock(&m->lock);
    for (struct mfamily *f = m->families; f; f = f->next)
        render_family(f, out);
    pthread_mutex_unlock(&m->lock);
    evbuffer_add_printf(
        out,
        "# HELP process_resident_memory_bytes Resident memory size.\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes %ld\n"
        "# HELP process_heap_bytes Memory allocated and not yet freed (malloc's "
        "count; resident memory also holds what the allocator keeps for reuse).\n"
        "# TYPE process_heap_bytes gauge\n"
        "process_heap_bytes %zu\n"
        "# HELP process_open_fds Open file descriptors.\n"
        "# TYPE process_open_fds gauge\n"
        "process_open_fds %d\n"
        "# HELP process_start_time_seconds Start time since the epoch.\n"
        "# TYPE process_start_time_seconds gauge\n"
        "process_start_time_seconds %.0f\n"
        "# HELP outbox_build_info Version of this build.\n"
        "# TYPE outbox_build_info gauge\n"
        "outbox_build_info{version=\"%s\"} 1\n",
        resident_bytes(), heap_bytes(), open_fds(), m->start_time,
        OUTBOX_VERSION);
}
