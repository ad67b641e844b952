/* SPDX-License-Identifier: Apache-2.0 */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h> /* --callgrind: counts from the loop on */
#endif
#endif
#ifndef CALLGRIND_ZERO_STATS
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS
#define CALLGRIND_TOGGLE_COLLECT
#endif
#include "tests/bench/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_WAIT_MS 50

static int set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) == RD_KAFKA_CONF_OK)
        return 0;
    fprintf(stderr, "bench: kafka property %s=%s: %s\n", k, v, err);
    return -1;
}

static int set_props(rd_kafka_conf_t *conf, const struct bench_opts *o)
{
    for (int i = 0; i < o->nprops; i++) {
        char k[128];
        const char *eq = strchr(o->props[i], '=');
        if (!eq || (size_t)(eq - o->props[i]) >= sizeof k)
            return -1;
        snprintf(k, sizeof k, "%.*s", (int)(eq - o->props[i]), o->props[i]);
        if (set(conf, k, eq + 1) < 0)
            return -1;
    }
    return 0;
}

static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench: kafka client: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* ---- producing, as the relay does ---------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
    (void)rk;
    if (m->err) {
        atomic_long *failed = opaque;
        atomic_fetch_add(failed, 1);
    }
}

rd_kafka_t *bench_producer(const char *bootstrap, const struct bench_opts *o)
{
    static atomic_long failed;
    /* The values relay/sink.c forces, with the bench's 16MiB buffer_memory
     * (the relay's default): kbytes = 16MiB/1024, messages = 16MiB/1024. */
    const char *forced[][2] = {
        {"bootstrap.servers", bootstrap}, {"enable.idempotence", "true"},
        {"acks", "all"}, {"message.timeout.ms", "0"},
        {"queue.buffering.max.kbytes", "16384"},
        {"queue.buffering.max.messages", "16384"},
        {"partitioner", "murmur2_random"}, {"log_level", "3"},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set_props(conf, o) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++)
        if (set(conf, forced[i][0], forced[i][1]) < 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &failed);
    return client(RD_KAFKA_PRODUCER, conf);
}

int bench_produce(rd_kafka_t *rk, const char *topic, long seq,
                  const struct bench_opts *o)
{
    char id[40], key[32], pos[48], row[64], payload[8192];
    /* Under callgrind, making the record up is not counted (the relay
     * has it from the binlog): valgrind runs one thread at a time, so
     * nothing else is left out meanwhile. A no-op otherwise. */
    CALLGRIND_TOGGLE_COLLECT;
    bench_event_id(id, sizeof id, seq);
    bench_key(key, sizeof key, seq, o->keys);
    size_t len = bench_payload(payload, sizeof payload, seq, o->payload);
    /* the headers the relay adds, as long as its: id, type, its position,
     * its name and the row's name (relay/txnid.h) */
    snprintf(pos, sizeof pos, "bin.000001:%ld:0", 100000000 + seq * 300);
    snprintf(row, sizeof row, "0-1-%ld 0 shop.outbox", 1000 + seq);
    CALLGRIND_TOGGLE_COLLECT; /* the headers count: librdkafka's */
    rd_kafka_headers_t *h = rd_kafka_headers_new(5);
    rd_kafka_header_add(h, "id", -1, id, -1);
    rd_kafka_header_add(h, "type", -1, "event", -1);
    rd_kafka_header_add(h, "outbox-position", -1, pos, -1);
    rd_kafka_header_add(h, "outbox-relay", -1, "test-relay", -1);
    rd_kafka_header_add(h, "outbox-txn", -1, row, -1);
    char name[256];
    size_t tlen = strlen(topic);
    if (tlen && topic[tlen - 1] == '.') { /* a prefix: per type, as the relay */
        snprintf(name, sizeof name, "%s%s", topic, bench_type(seq));
        topic = name;
    }
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE(payload, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_headers_destroy(h);
            fprintf(stderr, "bench: produce: %s\n", rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(rk, QUEUE_WAIT_MS); /* backpressure, as the relay */
    }
}

/* ---- partitions ---------------------------------------------------------- */

/* "name:count" entries as a partition list, every offset END. */
static rd_kafka_topic_partition_list_t *partitions(const char *const *topics)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(64);
    for (int i = 0; topics[i]; i++) {
        char name[256];
        const char *colon = strrchr(topics[i], ':');
        if (!colon)
            continue;
        snprintf(name, sizeof name, "%.*s", (int)(colon - topics[i]), topics[i]);
        for (int p = 0; p < atoi(colon + 1); p++)
            rd_kafka_topic_partition_list_add(l, name, p)->offset =
                RD_KAFKA_OFFSET_END;
    }
    return l;
}

/* Asks for the end offsets (ListOffsets with timestamp -1 = latest). */
static int end_offsets(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, l, 10000);
    for (int i = 0; !e && i < l->cnt; i++)
        e = l->elems[i].err;
    if (e)
        fprintf(stderr, "bench: end offsets: %s\n", rd_kafka_err2str(e));
    return e ? -1 : 0;
}

int64_t bench_end_offsets(rd_kafka_t *rk, const char *const *topics)
{
    rd_kafka_topic_partition_list_t *l = partitions(topics);
    int64_t sum = 0;
    if (end_offsets(rk, l) < 0)
        sum = -1;
    for (int i = 0; sum >= 0 && i < l->cnt; i++)
        sum += l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    return sum;
}

/* ---- the throughput baseline, a process of its own ----------------------- */

struct paced_one {
    rd_kafka_t *rk;
    const char *topic;
    const struct bench_opts *o;
};

/* As the latency baseline produces: one record, then its delivery
 * reports served. */
static int paced_one(void *arg, long i)
{
    struct paced_one *p = arg;
    int rc = bench_produce(p->rk, p->topic, i, p->o);
    rd_kafka_poll(p->rk, 0);
    return rc;
}

int bench_produce_run(const char *bootstrap, const char *topic,
                      const struct bench_opts *o)
{
    rd_kafka_t *rk = bench_producer(bootstrap, o);
    if (!rk)
        return 1;
    int rc = 0;
    CALLGRIND_ZERO_STATS; /* under callgrind: the start-up stays out */
    if (o->paced) {
        struct paced_one one = {rk, topic, o};
        struct bench_pace pace = {bench_now_ns(), o->rate, 0, 1, o->events};
        int64_t *done = calloc((size_t)o->events, sizeof *done);
        rc = done && bench_paced(&pace, paced_one, &one, done) == o->events
                 ? 0 : -1;
        free(done);
    }
    for (long seq = 0; !o->paced && rc == 0 && seq < o->events; seq++) {
        rc = bench_produce(rk, topic, seq, o);
        if (seq % 1024 == 0)
            rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 600000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = -1;
    CALLGRIND_DUMP_STATS;
    long failed = atomic_load((atomic_long *)rd_kafka_opaque(rk));
    if (failed)
        fprintf(stderr, "bench: %ld deliveries failed\n", failed);
    rd_kafka_destroy(rk);
    return rc == 0 && !failed ? 0 : 1;
}

/* ---- the latency consumer ------------------------------------------------ */

static void note(struct bench_consumer *c, const rd_kafka_message_t *m)
{
    int64_t t = bench_now_ns();
    long seq = bench_payload_seq(m->payload, m->len);
    atomic_fetch_add(&c->received, 1);
    if (seq >= c->first && seq < c->first + c->n && !c->seen[seq - c->first])
        c->seen[seq - c->first] = t;
}

static void *consume_thread(void *arg)
{
    struct bench_consumer *c = arg;
    while (!atomic_load(&c->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 100);
        if (!m)
            continue;
        if (!m->err)
            note(c, m);
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static rd_kafka_t *consumer(const char *bootstrap, const struct bench_opts *o)
{
    char wait[16];
    snprintf(wait, sizeof wait, "%d", o->fetch_wait_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", bootstrap) < 0 ||
        set(conf, "group.id", "outbox-bench") < 0 || /* assign() wants one */
        set(conf, "enable.auto.commit", "false") < 0 ||
        set(conf, "fetch.wait.max.ms", wait) < 0 ||
        set(conf, "fetch.min.bytes", "1") < 0 ||
        set(conf, "log_level", "3") < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, conf);
    if (rk)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

int bench_consumer_start(struct bench_consumer *c, const char *bootstrap,
                         const char *const *topics,
                         const struct bench_opts *o, long first, long n)
{
    memset(c, 0, sizeof *c);
    c->first = first;
    c->n = n;
    if (!(c->seen = calloc((size_t)n, sizeof *c->seen)) ||
        !(c->rk = consumer(bootstrap, o)))
        return -1;
    /* From the ends as they are now, so the first event is not missed. */
    rd_kafka_topic_partition_list_t *l = partitions(topics);
    int rc = end_offsets(c->rk, l) < 0 || rd_kafka_assign(c->rk, l) ? -1 : 0;
    rd_kafka_topic_partition_list_destroy(l);
    if (rc == 0 && pthread_create(&c->thread, NULL, consume_thread, c) != 0)
        rc = -1;
    return rc;
}

void bench_consumer_stop(struct bench_consumer *c)
{
    atomic_store(&c->stop, 1);
    pthread_join(c->thread, NULL);
    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    c->rk = NULL;
}

void bench_consumer_free(struct bench_consumer *c)
{
    free(c->seen);
    c->seen = NULL;
}
