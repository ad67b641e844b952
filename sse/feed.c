/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/feed.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define DRAIN_MAX 10000 /* records per wake-up before yielding to the loop */

/* feed.known[] before a topic's partitions are assigned: not looked at
 * successfully yet, or looked at and not there (Kafka answered). */
#define KNOWN_NEVER (-1)
#define KNOWN_ABSENT (-2)

struct feed {
    struct event_base *base;
    const struct sse_cfg *cfg;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    int pipe[2];
    struct event *ev;
    feed_change_fn fn;
    void *arg;
    struct feed_stats stats;
    pthread_t discovery;
    int discovery_started;
    int64_t discovery_ms;
    pthread_mutex_t lock; /* guards stop, for the discovery thread */
    pthread_cond_t cond;
    int stop;
    int32_t *known; /* partitions assigned per topic, or KNOWN_* (discovery
                       thread) */
};

/* ---- JSON: one top-level string field, without allocation ------------- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Skips a string starting at its quote; returns past the closing quote. */
static const char *skip_string(const char *p, const char *end, int *escaped)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            *escaped = 1;
            p++;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Skips any value; nesting is counted, strings are skipped whole. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0, esc = 0;
    do {
        p = skip_ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == '"') {
            if (!(p = skip_string(p, end, &esc)))
                return NULL;
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            if (--depth < 0)
                return NULL;
            p++;
        } else if (depth > 0) {
            p++; /* commas, colons and scalars inside a container */
        } else {
            while (p < end && !strchr(",}] \t\r\n", *p))
                p++; /* a number or literal at the top */
        }
    } while (depth > 0);
    return p;
}

int feed_json_field(const char *json, size_t len, const char *field,
                    const char **out, size_t *outlen)
{
    const char *p = json, *end = json + len;
    size_t flen = strlen(field);
    p = skip_ws(p, end);
    if (p >= end || *p++ != '{')
        return -1;
    for (;;) {
        int esc = 0;
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return -1;
        const char *k = p + 1, *kend = skip_string(p, end, &esc);
        if (!kend)
            return -1;
        p = skip_ws(kend, end);
        if (p >= end || *p++ != ':')
            return -1;
        p = skip_ws(p, end);
        int match = !esc && (size_t)(kend - 1 - k) == flen &&
                    memcmp(k, field, flen) == 0;
        if (match && p < end && *p == '"') {
            int vesc = 0;
            const char *vend = skip_string(p, end, &vesc);
            if (!vend || vesc || vend - p < 3)
                return -1; /* escaped or empty names are not queue names */
            *out = p + 1;
            *outlen = (size_t)(vend - p - 2);
            return 0;
        }
        if (match || !(p = skip_value(p, end)))
            return -1;
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return -1;
        p++;
    }
}

/* ---- consuming -------------------------------------------------------- */

static void handle(struct feed *f, const rd_kafka_message_t *m)
{
    const char *q = m->key;
    size_t qlen = m->key_len;
    if (f->cfg->kafka.queue_from == SSE_QUEUE_FROM_FIELD)
        if (!m->payload || feed_json_field(m->payload, m->len,
                                           f->cfg->kafka.queue_field, &q,
                                           &qlen) < 0)
            q = NULL;
    atomic_fetch_add(&f->stats.records, 1);
    if (!q || qlen == 0) {
        if (atomic_fetch_add(&f->stats.unusable, 1) % 1000 == 0)
            log_warn("feed", "a record on %s names no queue (%s); ignored",
                     rd_kafka_topic_name(m->rkt),
                     f->cfg->kafka.queue_from == SSE_QUEUE_FROM_KEY
                         ? "no key" : "no such string field");
        return;
    }
    f->fn(q, qlen, f->arg);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct feed *f = arg;
    char drain[64];
    (void)what;
    while (read(fd, drain, sizeof drain) > 0)
        ;
    for (int i = 0; i < DRAIN_MAX; i++) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(f->queue, 0);
        if (!m)
            return;
        if (m->err == 0)
            handle(f, m);
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            atomic_fetch_add(&f->stats.errors, 1);
            log_warn("feed", "%s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    /* More is waiting: come back after the loop served the others. */
    event_active(f->ev, EV_READ, 0);
}

/* ---- partition discovery (its own thread: metadata calls block) ------- */

static void add_partitions(struct feed *f, size_t ti, const char *topic,
                           int32_t have, int32_t now)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(now - have);
    /* A topic found at its first look begins at its end (history is no
     * news); partitions added later, and a topic Kafka said was not there
     * yet, begin at their beginning, so that nothing sent to them is
     * missed. */
    for (int32_t p = have; p < now; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset =
            f->known[ti] == KNOWN_NEVER ? RD_KAFKA_OFFSET_END
                                        : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *e = rd_kafka_incremental_assign(f->rk, l);
    if (e) {
        log_warn("feed", "assigning %s: %s", topic, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else {
        log_info("feed", "reading %s partitions %d..%d", topic, (int)have,
                 (int)now - 1);
        f->known[ti] = now;
        atomic_fetch_add(&f->stats.partitions, now - have);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static int stopping(struct feed *f)
{
    pthread_mutex_lock(&f->lock);
    int stop = f->stop;
    pthread_mutex_unlock(&f->lock);
    return stop;
}

static void discover(struct feed *f)
{
    const struct cfg_strlist *topics = &f->cfg->kafka.topics;
    for (size_t i = 0; i < topics->count && !stopping(f); i++) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *t = rd_kafka_topic_new(f->rk, topics->items[i], NULL);
        /* Short slices, so that a stop need not wait for a dead broker. */
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        for (int slice = 0; slice < 20 && e == RD_KAFKA_RESP_ERR__TIMED_OUT &&
                            !stopping(f); slice++)
            e = rd_kafka_metadata(f->rk, 0, t, &md, 250);
        rd_kafka_topic_destroy(t);
        if (e || md->topic_cnt != 1 || md->topics[0].err) {
            if (!e && md && md->topic_cnt == 1 && f->known[i] == KNOWN_NEVER &&
                md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                f->known[i] = KNOWN_ABSENT; /* Kafka says: not there yet */
            if (md)
                rd_kafka_metadata_destroy(md);
            continue; /* not there yet, or Kafka down: try again later */
        }
        int32_t now = md->topics[0].partition_cnt;
        int32_t have = f->known[i] < 0 ? 0 : f->known[i];
        if (now > have)
            add_partitions(f, i, topics->items[i], have, now);
        rd_kafka_metadata_destroy(md);
    }
}

static void *discovery_main(void *arg)
{
    struct feed *f = arg;
    pthread_mutex_lock(&f->lock);
    while (!f->stop) {
        pthread_mutex_unlock(&f->lock);
        discover(f);
        pthread_mutex_lock(&f->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += f->discovery_ms / 1000;
        until.tv_nsec += (f->discovery_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (!f->stop)
            pthread_cond_timedwait(&f->cond, &f->lock, &until);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* ---- setup ------------------------------------------------------------ */

static rd_kafka_t *make_consumer(const struct sse_cfg *cfg, char *err,
                                 size_t errlen)
{
    char why[512], group[300];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* A group id is needed by the client, but no group is joined:
     * partitions are assigned by hand and no offset is committed. */
    snprintf(group, sizeof group, "%s-%d", cfg->name, (int)getpid());
    for (size_t i = 0; i < cfg->kafka.properties.count; i++)
        if (rd_kafka_conf_set(conf, cfg->kafka.properties.items[i].key,
                              cfg->kafka.properties.items[i].value, why,
                              sizeof why)) {
            snprintf(err, errlen, "kafka property %s: %s",
                     cfg->kafka.properties.items[i].key, why);
            goto fail;
        }
    const char *set[][2] = {
        {"bootstrap.servers", cfg->kafka.brokers}, {"client.id", cfg->name},
        {"group.id", group}, {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (rd_kafka_conf_set(conf, set[i][0], set[i][1], why, sizeof why)) {
            snprintf(err, errlen, "kafka property %s: %s", set[i][0], why);
            goto fail;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!rk)
        snprintf(err, errlen, "cannot create the Kafka consumer: %s", why);
    else
        return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

struct feed *feed_new(struct event_base *base, const struct sse_cfg *cfg,
                      feed_change_fn fn, void *arg, char *err, size_t errlen)
{
    struct feed *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    *f = (struct feed){.base = base, .cfg = cfg, .fn = fn, .arg = arg,
                       .discovery_ms = cfg->kafka.discovery_ms, .pipe = {-1, -1}};
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->known = malloc((cfg->kafka.topics.count + 1) * sizeof *f->known);
    if (!f->known || !(f->rk = make_consumer(cfg, err, errlen)))
        goto fail;
    for (size_t i = 0; i < cfg->kafka.topics.count; i++)
        f->known[i] = KNOWN_NEVER;
    if (pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    rd_kafka_poll_set_consumer(f->rk); /* errors arrive on the same queue */
    f->queue = rd_kafka_queue_get_consumer(f->rk);
    rd_kafka_queue_io_event_enable(f->queue, f->pipe[1], "1", 1);
    f->ev = event_new(base, f->pipe[0], EV_READ | EV_PERSIST, on_wake, f);
    if (!f->ev || event_add(f->ev, NULL) < 0 ||
        pthread_create(&f->discovery, NULL, discovery_main, f) != 0) {
        snprintf(err, errlen, "cannot start the Kafka feed");
        goto fail;
    }
    f->discovery_started = 1;
    return f;
fail:
    feed_free(f);
    return NULL;
}

void feed_free(struct feed *f)
{
    if (!f)
        return;
    if (f->discovery_started) {
        pthread_mutex_lock(&f->lock);
        f->stop = 1;
        pthread_cond_signal(&f->cond);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->discovery, NULL);
    }
    if (f->ev)
        event_free(f->ev);
    if (f->queue) {
        rd_kafka_queue_io_event_enable(f->queue, -1, NULL, 0);
        rd_kafka_queue_destroy(f->queue);
    }
    if (f->rk) {
        rd_kafka_consumer_close(f->rk);
        rd_kafka_destroy(f->rk);
    }
    for (int i = 0; i < 2; i++)
        if (f->pipe[i] >= 0)
            close(f->pipe[i]);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f->known);
    free(f);
}

struct feed_stats *feed_stats(struct feed *f) { return &f->stats; }
