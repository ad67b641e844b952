#include "relay/checkpoint.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "relay/ckpt_file.h"
#include "relay/kscan.h"

#define SCAN_CHUNK 1000
#define KAFKA_TIMEOUT_MS 10000

struct last_match {
    const char *key;
    char value[POS_TEXT_MAX];
    int found;
};

static int match_key(const rd_kafka_message_t *m, void *arg)
{
    struct last_match *lm = arg;
    size_t klen = strlen(lm->key);
    if (m->key_len == klen && memcmp(m->key, lm->key, klen) == 0 &&
        m->payload && m->len < sizeof lm->value) {
        memcpy(lm->value, m->payload, m->len);
        lm->value[m->len] = '\0';
        lm->found = 1;
    }
    return 0;
}

/* The last record under our key, searching back from the end in chunks:
 * compaction keeps the topic short, but it runs late. */
static int scan_partition(rd_kafka_t *c, const char *topic, int32_t part,
                          struct last_match *lm, const atomic_int *stop,
                          char *err, size_t errlen)
{
    int64_t low, high;
    if (kscan_watermarks(c, topic, part, &low, &high, KAFKA_TIMEOUT_MS, stop,
                         err, errlen) < 0)
        return -1;
    for (int64_t end = high; end > low && !lm->found; end -= SCAN_CHUNK) {
        int64_t from = end - SCAN_CHUNK > low ? end - SCAN_CHUNK : low;
        if (kscan_range(c, topic, part, from, end, match_key, lm,
                        KAFKA_TIMEOUT_MS, stop, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static int load_kafka(const struct relay_cfg *cfg, struct relay_position *p,
                      const atomic_int *stop, char *err, size_t errlen)
{
    struct last_match *lm = calloc(1, sizeof *lm);
    rd_kafka_t *c = kscan_consumer_new(&cfg->kafka, err, errlen);
    int rc = -2; /* unreachable or stopped, unless we get further */
    if (!lm || !c)
        goto out;
    lm->key = cfg->name;
    int n = kscan_partition_count(c, cfg->checkpoint.topic, KAFKA_TIMEOUT_MS,
                                  stop, err, errlen);
    if (n < 0)
        goto out;
    for (int32_t i = 0; i < n && !lm->found; i++)
        if (scan_partition(c, cfg->checkpoint.topic, i, lm, stop, err,
                           errlen) < 0)
            goto out;
    rc = 0;
    if (lm->found) {
        char why[256];
        rc = pos_parse(p, lm->value, why, sizeof why) == 0 ? 1 : -1;
        if (rc < 0)
            snprintf(err, errlen, "checkpoint of '%s' in %s is damaged: %s",
                     cfg->name, cfg->checkpoint.topic, why);
    }
out:
    if (c) {
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
    }
    free(lm);
    return rc;
}

int ckpt_load(const struct relay_cfg *cfg, struct relay_position *p,
              const atomic_int *stop, char *err, size_t errlen)
{
    if (cfg->checkpoint.store == RELAY_CKPT_FILE)
        return ckpt_file_load(cfg->checkpoint.path, p, err, errlen);
    return load_kafka(cfg, p, stop, err, errlen);
}

/* Creates the topic compacted with one partition; an existing topic is
 * left as it is (a person may have made it on purpose). */
int ckpt_prepare(const struct relay_cfg *cfg, struct sink *sink, char *err,
                 size_t errlen)
{
    if (cfg->checkpoint.store != RELAY_CKPT_KAFKA)
        return 0;
    rd_kafka_t *rk = sink_handle(sink);
    char why[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(
        cfg->checkpoint.topic, 1, -1, why, sizeof why);
    if (!nt) {
        snprintf(err, errlen, "checkpoint topic: %s", why);
        return -1;
    }
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, KAFKA_TIMEOUT_MS);
    int rc = 0;
    const rd_kafka_CreateTopics_result_t *res =
        ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr =
        res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;
    rd_kafka_resp_err_t e = !ev ? RD_KAFKA_RESP_ERR__TIMED_OUT
                            : rd_kafka_event_error(ev)
                                ? rd_kafka_event_error(ev)
                                : (cnt ? rd_kafka_topic_result_error(tr[0]) : 0);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        log_info("checkpoint", "created compacted topic %s",
                 cfg->checkpoint.topic);
    else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        log_warn("checkpoint",
                 "could not create %s (%s): create it with "
                 "cleanup.policy=compact, or it grows without bound",
                 cfg->checkpoint.topic, rd_kafka_err2str(e));
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

int ckpt_save(const struct relay_cfg *cfg, struct sink *sink,
              const struct relay_position *p, char *err, size_t errlen)
{
    char text[POS_TEXT_MAX];
    if (cfg->checkpoint.store == RELAY_CKPT_FILE)
        return ckpt_file_save(cfg->checkpoint.path, p, err, errlen);
    if (pos_format(p, text, sizeof text) < 0) {
        snprintf(err, errlen, "checkpoint: position too long to store");
        return -1;
    }
    return sink_produce_checkpoint(sink, cfg->checkpoint.topic, cfg->name,
                                   text, err, errlen);
}
