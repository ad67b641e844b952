/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/sink.h"

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "relay/dlq.h"

#define RING_CAP 16384 /* transactions awaiting acknowledgement, at most */
#define WAIT_POLL_MS 50
#define CHECKPOINT_OPAQUE ((void *)(uintptr_t)UINT64_MAX)
#define TOPIC_HANDLES 64   /* topics produced to, by handle (more go by name) */
#define METADATA_WAIT_MS 500
#define MSG_COST 1024 /* bytes a queued small record really takes */

enum slot_kind { SLOT_TXN, SLOT_ROTATE };

struct slot {
    uint64_t seq;
    uint64_t offset; /* TXN: after its last event; ROTATE: in the new file */
    uint32_t pending;
    uint8_t kind;
    uint8_t ended;
    uint8_t abandoned; /* TXN cut by a lost connection: moves nothing */
    /* ROTATE only: the file's name, and after its NUL the server's
     * (position.h), in one allocation */
    char *file;
    struct sink_gtid gtid;
};

struct topic_handle {
    char *name;
    rd_kafka_topic_t *rkt;
};

struct sink {
    rd_kafka_t *rk;
    struct topic_handle topics[TOPIC_HANDLES];
    size_t ntopics;
    const struct relay_cfg *cfg;
    struct slot *ring;
    uint64_t head, tail; /* seq of the oldest slot, and of the next one */
    struct relay_position committed;
    char server[POS_SERVER_MAX]; /* whose binlog the stream is now */
    struct koffsets *koff; /* exactly_once only */
    struct sink_stats stats;
    const atomic_int *stop; /* ends waits inside delivery callbacks too */
    atomic_int failed;
    /* Once set, the committed position moves no more: a record of some
     * transaction failed for good (or a stop cut its dead letter off), and
     * no checkpoint may pass it. */
    int frozen;
    int closing; /* sink_destroy: reports of purged records mean nothing */
    char err[512];
};

__attribute__((format(printf, 2, 3))) static void
set_failed(struct sink *s, const char *fmt, ...)
{
    va_list ap;
    s->frozen = 1;
    if (atomic_load(&s->failed))
        return; /* the first failure is the one to report */
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    atomic_store(&s->failed, 1);
    log_error("kafka", "%s", s->err);
}

/* ---- the ring --------------------------------------------------------- */

static struct slot *slot_of(struct sink *s, uint64_t seq)
{
    return &s->ring[seq % RING_CAP];
}

static void apply_slot(struct sink *s, struct slot *sl)
{
    if (sl->kind == SLOT_ROTATE) {
        pos_set_file(&s->committed, sl->file, sl->offset);
        snprintf(s->committed.server, sizeof s->committed.server, "%s",
                 sl->file + strlen(sl->file) + 1);
        free(sl->file);
        sl->file = NULL;
        return;
    }
    if (sl->abandoned)
        return;
    s->committed.offset = sl->offset;
    const struct sink_gtid *g = &sl->gtid;
    int rc = 0;
    if (g->kind == POS_GTID_MARIADB)
        rc = pos_add_mariadb(&s->committed, g->domain, g->server, g->seq);
    else if (g->kind == POS_GTID_MYSQL)
        rc = pos_add_mysql(&s->committed, g->uuid, g->tag, g->seq);
    if (rc < 0)
        set_failed(s, "cannot record the GTID of a transaction (out of "
                      "memory, or a GTID of the other server kind)");
}

/* Moves the committed position over every finished transaction at the
 * head of the ring. */
static void advance(struct sink *s)
{
    while (!s->frozen && s->head < s->tail) {
        struct slot *sl = slot_of(s, s->head);
        if (sl->kind == SLOT_TXN && (!sl->ended || sl->pending > 0))
            break;
        apply_slot(s, sl);
        s->head++;
    }
}

static int wait_for_room(struct sink *s, const atomic_int *stop)
{
    if (!stop)
        stop = s->stop;
    while (s->tail - s->head >= RING_CAP) {
        if (s->failed || (stop && atomic_load(stop)))
            return -1;
        rd_kafka_poll(s->rk, WAIT_POLL_MS);
    }
    return s->failed ? -1 : 0;
}

static struct slot *push_slot(struct sink *s, enum slot_kind kind)
{
    struct slot *sl = slot_of(s, s->tail);
    memset(sl, 0, sizeof *sl);
    sl->seq = s->tail++;
    sl->kind = (uint8_t)kind;
    return sl;
}

int sink_txn_begin(struct sink *s, const atomic_int *stop)
{
    if (wait_for_room(s, stop) < 0)
        return -1;
    push_slot(s, SLOT_TXN);
    return 0;
}

int sink_txn_end(struct sink *s, uint64_t next_offset,
                 const struct sink_gtid *gtid)
{
    if (s->head == s->tail)
        return -1; /* no transaction open: a caller bug */
    struct slot *sl = slot_of(s, s->tail - 1);
    sl->offset = next_offset;
    sl->ended = 1;
    if (gtid)
        sl->gtid = *gtid;
    advance(s);
    return s->failed ? -1 : 0;
}

void sink_txn_abandon(struct sink *s)
{
    if (s->head == s->tail)
        return;
    struct slot *sl = slot_of(s, s->tail - 1);
    if (sl->kind != SLOT_TXN || sl->ended)
        return;
    /* Ended, so that the slots behind it can move the position once its
     * records are acknowledged; abandoned, so that it moves nothing
     * itself: the transaction is read again from its start. */
    sl->ended = 1;
    sl->abandoned = 1;
    advance(s);
}

int sink_rotate(struct sink *s, const char *file, uint64_t offset)
{
    if (wait_for_room(s, NULL) < 0)
        return -1;
    struct slot *sl = push_slot(s, SLOT_ROTATE);
    size_t fl = strlen(file), sl_len = strlen(s->server);
    sl->offset = offset;
    if (!(sl->file = malloc(fl + sl_len + 2))) {
        set_failed(s, "out of memory");
        return -1;
    }
    memcpy(sl->file, file, fl + 1);
    memcpy(sl->file + fl + 1, s->server, sl_len + 1);
    advance(s);
    return 0;
}

void sink_set_server(struct sink *s, const char *server)
{
    snprintf(s->server, sizeof s->server, "%s", server ? server : "");
}

void sink_idle_offset(struct sink *s, uint64_t offset)
{
    if (s->head == s->tail && offset > s->committed.offset)
        s->committed.offset = offset;
}

/* ---- producing -------------------------------------------------------- */

/* The handle of a topic, made on first use. A handle spares librdkafka a
 * lookup by name under a lock for every record. A new topic's partitions
 * are asked for at once: librdkafka would otherwise learn them at its
 * next topic scan, up to a second later, holding every record for that
 * topic until then (a second added to each relay start). NULL when the
 * table is full: the record then goes by name. */
static rd_kafka_topic_t *topic_handle(struct sink *s, const char *name)
{
    for (size_t i = 0; i < s->ntopics; i++)
        if (!strcmp(s->topics[i].name, name))
            return s->topics[i].rkt;
    if (s->ntopics == TOPIC_HANDLES)
        return NULL;
    struct topic_handle *t = &s->topics[s->ntopics];
    if (!(t->name = strdup(name)))
        return NULL;
    if (!(t->rkt = rd_kafka_topic_new(s->rk, name, NULL))) {
        free(t->name);
        return NULL;
    }
    s->ntopics++;
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(s->rk, 0, t->rkt, &md, METADATA_WAIT_MS) ==
        RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    return t->rkt; /* without metadata yet: librdkafka goes on asking */
}

static rd_kafka_headers_t *make_headers(const struct sink *s,
                                        const struct sink_record *r,
                                        size_t extra)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(r->nheaders + extra + 3);
    for (size_t i = 0; i < r->nheaders; i++)
        rd_kafka_header_add(h, r->headers[i].name, -1, r->headers[i].value,
                            (ssize_t)r->headers[i].len);
    if (r->position)
        rd_kafka_header_add(h, "outbox-position", -1, r->position, -1);
    if (r->row) {
        rd_kafka_header_add(h, "outbox-relay", -1, s->cfg->name, -1);
        rd_kafka_header_add(h, "outbox-txn", -1, r->row, (ssize_t)r->row_len);
    }
    return h;
}

/* One rd_kafka_produceva call: by topic handle when there is one. */
static rd_kafka_resp_err_t produce_once(struct sink *s, rd_kafka_topic_t *rkt,
                                        const char *topic, const void *key,
                                        size_t key_len, const void *value,
                                        size_t value_len,
                                        rd_kafka_headers_t *hdrs, int64_t ts,
                                        uint64_t seq)
{
    rd_kafka_vu_t vu[] = {
        rkt ? (rd_kafka_vu_t){.vtype = RD_KAFKA_VTYPE_RKT, .u.rkt = rkt}
            : (rd_kafka_vu_t){.vtype = RD_KAFKA_VTYPE_TOPIC, .u.cstr = topic},
        {.vtype = RD_KAFKA_VTYPE_KEY, .u.mem = {(void *)key, key_len}},
        {.vtype = RD_KAFKA_VTYPE_VALUE, .u.mem = {(void *)value, value_len}},
        {.vtype = RD_KAFKA_VTYPE_MSGFLAGS, .u.i = RD_KAFKA_MSG_F_COPY},
        {.vtype = RD_KAFKA_VTYPE_HEADERS, .u.headers = hdrs},
        {.vtype = RD_KAFKA_VTYPE_TIMESTAMP, .u.i64 = ts},
        {.vtype = RD_KAFKA_VTYPE_OPAQUE, .u.ptr = (void *)(uintptr_t)seq},
    };
    rd_kafka_error_t *err = rd_kafka_produceva(s->rk, vu, sizeof vu / sizeof vu[0]);
    if (!err)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_resp_err_t e = rd_kafka_error_code(err);
    rd_kafka_error_destroy(err);
    return e;
}

/* Produces one message for the open transaction (seq), waiting while the
 * producer queue is full. Takes ownership of hdrs. */
static rd_kafka_resp_err_t produce_raw(struct sink *s, const char *topic,
                                       const void *key, size_t key_len,
                                       const void *value, size_t value_len,
                                       rd_kafka_headers_t *hdrs, int64_t ts,
                                       uint64_t seq, const atomic_int *stop)
{
    rd_kafka_topic_t *rkt = topic_handle(s, topic);
    for (;;) {
        rd_kafka_resp_err_t e = produce_once(s, rkt, topic, key, key_len, value,
                                             value_len, hdrs, ts, seq);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (e)
                rd_kafka_headers_destroy(hdrs);
            return e;
        }
        if (s->failed || (stop && atomic_load(stop))) {
            rd_kafka_headers_destroy(hdrs);
            return RD_KAFKA_RESP_ERR__QUEUE_FULL;
        }
        rd_kafka_poll(s->rk, WAIT_POLL_MS); /* backpressure */
    }
}

static int to_dead_letter(struct sink *s, const char *topic,
                          const void *key, size_t key_len, const void *value,
                          size_t value_len, rd_kafka_headers_t *hdrs,
                          int64_t ts, uint64_t seq, const char *type,
                          const char *message, const atomic_int *stop)
{
    if (s->cfg->dead_letter.action == RELAY_INVALID_STOP) {
        rd_kafka_headers_destroy(hdrs);
        set_failed(s, "%s: %s (dead_letter.action is stop)", type, message);
        return -1;
    }
    struct sink_header why[DLQ_HEADERS_MAX];
    size_t n = dlq_headers(type, message, topic, why);
    for (size_t i = 0; i < n; i++)
        rd_kafka_header_add(hdrs, why[i].name, -1, why[i].value,
                            (ssize_t)why[i].len);
    rd_kafka_resp_err_t e =
        produce_raw(s, s->cfg->dead_letter.topic, key, key_len, value,
                    value_len, hdrs, ts, seq, stop);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && stop && atomic_load(stop)) {
        s->frozen = 1; /* stopped: the row is neither here nor there */
        return -1;
    }
    if (e) {
        set_failed(s, "cannot produce to the dead-letter topic: %s",
                   rd_kafka_err2str(e));
        return -1;
    }
    atomic_fetch_add(&s->stats.dlq, 1);
    log_warn("kafka", "record sent to %s: %s: %s",
             s->cfg->dead_letter.topic, type, message);
    return 0;
}

/* One more record awaits its acknowledgement; the stall clock starts
 * when the first one does. */
static void count_pending(struct sink *s)
{
    if (atomic_fetch_add(&s->stats.in_flight, 1) == 0)
        atomic_store(&s->stats.pending_since_ms, clock_mono_ms());
}

int sink_produce(struct sink *s, const struct sink_record *r,
                 const atomic_int *stop)
{
    if (s->failed || s->head == s->tail)
        return -1;
    uint64_t seq = s->tail - 1;
    rd_kafka_headers_t *h = make_headers(s, r, 0);
    slot_of(s, seq)->pending++;
    count_pending(s);
    rd_kafka_resp_err_t e =
        produce_raw(s, r->topic, r->key, r->key_len, r->value, r->value_len,
                    h, r->timestamp_ms, seq, stop);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    if (dlq_kafka_refusal(e))
        return to_dead_letter(s, r->topic, r->key, r->key_len, r->value,
                              r->value_len, make_headers(s, r, DLQ_HEADERS_MAX),
                              r->timestamp_ms, seq, rd_kafka_err2name(e),
                              rd_kafka_err2str(e), stop);
    slot_of(s, seq)->pending--;
    atomic_fetch_sub(&s->stats.in_flight, 1);
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) /* QUEUE_FULL: we were stopped */
        set_failed(s, "cannot produce to %s: %s", r->topic,
                   rd_kafka_err2str(e));
    return -1;
}

int sink_dead_letter(struct sink *s, const struct sink_record *r,
                     const char *error_type, const char *error_message,
                     const atomic_int *stop)
{
    if (s->failed || s->head == s->tail)
        return -1;
    uint64_t seq = s->tail - 1;
    slot_of(s, seq)->pending++;
    count_pending(s);
    return to_dead_letter(s, NULL, r->key, r->key_len, r->value, r->value_len,
                          make_headers(s, r, DLQ_HEADERS_MAX), r->timestamp_ms, seq,
                          error_type, error_message, stop);
}

int sink_produce_checkpoint(struct sink *s, const char *topic,
                            const char *key, const char *value, char *err,
                            size_t errlen)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(
        s->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE((void *)value, strlen(value)),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(CHECKPOINT_OPAQUE), RD_KAFKA_V_END);
    if (e) {
        snprintf(err, errlen, "saving the checkpoint to %s: %s", topic,
                 rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

/* ---- delivery reports (on the owning thread, inside rd_kafka_poll) ----- */

static void redirect_failed(struct sink *s, const rd_kafka_message_t *m,
                            uint64_t seq)
{
    rd_kafka_headers_t *orig = NULL, *h;
    rd_kafka_message_headers(m, &orig);
    h = orig ? rd_kafka_headers_copy(orig) : rd_kafka_headers_new(4);
    slot_of(s, seq)->pending++; /* the dead letter replaces the original */
    atomic_fetch_add(&s->stats.in_flight, 1);
    to_dead_letter(s, rd_kafka_topic_name(m->rkt), m->key, m->key_len,
                   m->payload, m->len, h, rd_kafka_message_timestamp(m, NULL),
                   seq, rd_kafka_err2name(m->err), rd_kafka_err2str(m->err),
                   s->stop);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
    (void)rk;
    struct sink *s = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    struct slot *sl = slot_of(s, seq);

    if (s->closing)
        return;
    if (m->_private == CHECKPOINT_OPAQUE) {
        if (m->err) {
            atomic_fetch_add(&s->stats.checkpoint_failures, 1);
            atomic_fetch_add(&s->stats.checkpoint_failures_run, 1);
            log_warn("checkpoint", "saving to %s failed: %s",
                     rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        } else {
            atomic_store(&s->stats.checkpoint_failures_run, 0);
        }
        return;
    }
    atomic_fetch_sub(&s->stats.in_flight, 1);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        atomic_fetch_add(&s->stats.records, 1);
        atomic_fetch_add(&s->stats.bytes, m->len);
        atomic_store(&s->stats.last_ack_ms, clock_mono_ms());
        if (s->koff && koff_note(s->koff, rd_kafka_topic_name(m->rkt),
                                 m->partition, seq, m->offset) < 0)
            set_failed(s, "out of memory");
    } else {
        atomic_fetch_add(&s->stats.errors, 1);
        if (dlq_redirects(s->cfg, rd_kafka_topic_name(m->rkt), m->err))
            redirect_failed(s, m, seq);
        else
            set_failed(s, "delivery to %s failed: %s",
                       rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
    if (sl->seq == seq && sl->pending > 0)
        sl->pending--;
    advance(s);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque)
{
    struct sink *s = opaque;
    char fatal[512];
    atomic_fetch_add(&s->stats.errors, 1);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        set_failed(s, "fatal producer error: %s", fatal);
        return;
    }
    /* Transient (brokers down, ...): librdkafka retries by itself. */
    log_warn("kafka", "%s: %s", rd_kafka_err2name(err), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    (void)rk;
    /* We set it on purpose (a gap would break the checkpoint's promise);
     * librdkafka's reminder that it is experimental is no news to the
     * operator at every start. */
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "enable.gapless.guarantee"))
        level = 7;
    if (level <= 3)
        log_error("kafka", "%s: %s", fac, buf);
    else if (level <= 4)
        log_warn("kafka", "%s: %s", fac, buf);
    else
        log_debug("kafka", "%s: %s", fac, buf);
}

/* ---- setup ------------------------------------------------------------ */

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v,
                    char *err, size_t errlen)
{
    char why[256];
    if (rd_kafka_conf_set(conf, k, v, why, sizeof why) == RD_KAFKA_CONF_OK)
        return 0;
    snprintf(err, errlen, "kafka property %s: %s", k, why);
    return -1;
}

/* The user's properties first; then what the delivery guarantee rests on,
 * which a property must not weaken. */
static rd_kafka_conf_t *make_conf(struct sink *s, char *err, size_t errlen)
{
    const struct relay_cfg *c = s->cfg;
    char kbytes[32], msgs[32];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(kbytes, sizeof kbytes, "%lld",
             (long long)(c->kafka.buffer_memory / 1024));
    /* librdkafka counts payload bytes only; each message also costs about
     * 600 bytes of its own (message, key, three headers, allocator), so
     * small records are bounded by count: tests/bench measured ~800 bytes
     * of RSS per queued 200-byte record. */
    snprintf(msgs, sizeof msgs, "%lld",
             (long long)(c->kafka.buffer_memory / MSG_COST > 1000
                             ? c->kafka.buffer_memory / MSG_COST : 1000));
    for (size_t i = 0; i < c->kafka.properties.count; i++)
        if (conf_set(conf, c->kafka.properties.items[i].key,
                     c->kafka.properties.items[i].value, err, errlen) < 0)
            goto fail;
    const char *forced[][2] = {
        {"bootstrap.servers", c->kafka.brokers},
        {"client.id", c->kafka.client_id},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.timeout.ms", "0"}, /* retry until delivered */
        {"queue.buffering.max.kbytes", kbytes},
        {"queue.buffering.max.messages", msgs},
        /* Java's partitioner: same key, same partition as Debezium. */
        {"partitioner", "murmur2_random"},
        {"enable.gapless.guarantee",
         c->delivery.mode == RELAY_EXACTLY_ONCE ? "true" : "false"},
    };
    for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++)
        if (conf_set(conf, forced[i][0], forced[i][1], err, errlen) < 0)
            goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, s);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

struct sink *sink_new(const struct relay_cfg *cfg,
                      const struct relay_position *start, char *err,
                      size_t errlen)
{
    struct sink *s = calloc(1, sizeof *s);
    if (!s || !(s->ring = calloc(RING_CAP, sizeof *s->ring)) ||
        pos_copy(&s->committed, start) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->cfg = cfg;
    if (cfg->delivery.mode == RELAY_EXACTLY_ONCE && !(s->koff = koff_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    rd_kafka_conf_t *conf = make_conf(s, err, errlen);
    if (!conf)
        goto fail;
    char why[512];
    if (!(s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "cannot create the Kafka producer: %s", why);
        goto fail;
    }
    return s;
fail:
    if (s) {
        free(s->ring);
        pos_free(&s->committed);
        koff_free(s->koff);
    }
    free(s);
    return NULL;
}

void sink_destroy(struct sink *s, int timeout_ms)
{
    if (!s)
        return;
    if (s->rk && timeout_ms > 0)
        rd_kafka_flush(s->rk, timeout_ms);
    s->closing = 1;
    if (s->rk) /* what is still queued goes: a checkpoint never covers it */
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (size_t i = 0; i < s->ntopics; i++) {
        rd_kafka_topic_destroy(s->topics[i].rkt);
        free(s->topics[i].name);
    }
    if (s->rk)
        rd_kafka_destroy(s->rk);
    for (uint64_t q = s->head; q < s->tail; q++)
        free(slot_of(s, q)->file);
    free(s->ring);
    pos_free(&s->committed);
    koff_free(s->koff);
    free(s);
}

void sink_note_landed(struct sink *s, const char *topic, int32_t partition,
                      int64_t offset)
{
    if (s->koff && s->head < s->tail &&
        koff_note(s->koff, topic, partition, s->tail - 1, offset) < 0)
        set_failed(s, "out of memory");
}

int sink_seed_offsets(struct sink *s, const struct koffsets *from)
{
    return s->koff ? koff_merge(s->koff, from) : 0;
}

const struct koffsets *sink_offsets(const struct sink *s) { return s->koff; }

char *sink_offsets_text(struct sink *s)
{
    if (!s->koff)
        return NULL;
    koff_checkpoint(s->koff, s->head, s->tail);
    return koff_format(s->koff);
}

void sink_poll(struct sink *s, int timeout_ms) { rd_kafka_poll(s->rk, timeout_ms); }

int sink_flush(struct sink *s, int timeout_ms)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(s->rk, timeout_ms);
    return (e || atomic_load(&s->failed)) ? -1 : 0;
}

int sink_reset_position(struct sink *s, const struct relay_position *pos)
{
    if (s->head != s->tail)
        return -1;
    return pos_copy(&s->committed, pos);
}

const struct relay_position *sink_committed(const struct sink *s)
{
    return &s->committed;
}

int sink_failed(const struct sink *s, char *err, size_t errlen)
{
    int failed = atomic_load(&s->failed);
    if (failed && err)
        snprintf(err, errlen, "%s", s->err);
    return failed;
}

int sink_has_failed(const struct sink *s) { return atomic_load(&s->failed); }

void sink_set_stop(struct sink *s, const atomic_int *stop) { s->stop = stop; }

const atomic_int *sink_stop_flag(const struct sink *s) { return s->stop; }

struct sink_stats *sink_stats(struct sink *s) { return &s->stats; }

struct rd_kafka_s *sink_handle(struct sink *s) { return s->rk; }

/* ---- as the pipeline sees it (sink_ops) -------------------------------- */

static int op_txn_begin(void *s, const atomic_int *stop)
{
    return sink_txn_begin(s, stop);
}

static int op_produce(void *s, const struct sink_record *r,
                      const atomic_int *stop)
{
    return sink_produce(s, r, stop);
}

static int op_txn_end(void *s, uint64_t next_offset,
                      const struct sink_gtid *gtid)
{
    return sink_txn_end(s, next_offset, gtid);
}

static void op_txn_abandon(void *s) { sink_txn_abandon(s); }

static int op_rotate(void *s, const char *file, uint64_t offset)
{
    return sink_rotate(s, file, offset);
}

static void op_idle_offset(void *s, uint64_t offset)
{
    sink_idle_offset(s, offset);
}

static int op_dead_letter(void *s, const struct sink_record *r,
                          const char *error_type, const char *error_message,
                          const atomic_int *stop)
{
    return sink_dead_letter(s, r, error_type, error_message, stop);
}

static void op_note_landed(void *s, const char *topic, int32_t partition,
                           int64_t offset)
{
    sink_note_landed(s, topic, partition, offset);
}

static int op_failed(const void *s, char *err, size_t errlen)
{
    return sink_failed(s, err, errlen);
}

static const atomic_int *op_stop_flag(const void *s)
{
    return sink_stop_flag(s);
}

const struct sink_ops sink_kafka_ops = {
    .txn_begin = op_txn_begin,
    .produce = op_produce,
    .txn_end = op_txn_end,
    .txn_abandon = op_txn_abandon,
    .rotate = op_rotate,
    .idle_offset = op_idle_offset,
    .dead_letter = op_dead_letter,
    .note_landed = op_note_landed,
    .failed = op_failed,
    .stop_flag = op_stop_flag,
};
