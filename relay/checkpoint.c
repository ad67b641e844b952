/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/checkpoint.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "relay/ckpt_file.h"
#include "relay/kscan.h"

#define SCAN_CHUNK 1000
#define KAFKA_TIMEOUT_MS 10000

#define OFFSETS_PREFIX "kafka="
#define GEN_PREFIX "gen="

char *ckpt_format(const struct relay_position *p, const char *offsets,
                  uint64_t gen)
{
    size_t olen = offsets ? strlen(offsets) : 0;
    size_t cap = POS_TEXT_MAX + sizeof OFFSETS_PREFIX + olen + 48;
    char *text = malloc(cap);
    int n = text ? pos_format(p, text, POS_TEXT_MAX) : -1;
    if (n < 0) {
        free(text);
        return NULL;
    }
    if (olen)
        n += snprintf(text + n, cap - (size_t)n, "\n" OFFSETS_PREFIX "%s",
                      offsets);
    if (gen)
        snprintf(text + n, cap - (size_t)n, "\n" GEN_PREFIX "%" PRIu64, gen);
    return text;
}

/* The value of the line "KEY..." after the first, or NULL; *len its
 * length. */
static const char *line_of(const char *text, const char *key, size_t *len)
{
    size_t klen = strlen(key);
    for (const char *nl = strchr(text, '\n'); nl; nl = strchr(nl + 1, '\n'))
        if (strncmp(nl + 1, key, klen) == 0) {
            *len = strcspn(nl + 1 + klen, "\r\n");
            return nl + 1 + klen;
        }
    return NULL;
}

uint64_t ckpt_generation(const char *text)
{
    size_t len;
    const char *g = line_of(text, GEN_PREFIX, &len);
    return g ? strtoull(g, NULL, 10) : 0;
}

int ckpt_parse(const char *text, struct relay_position *p,
               struct koffsets *offsets, uint64_t *gen, char *err,
               size_t errlen)
{
    size_t len;
    if (pos_parse(p, text, err, errlen) < 0)
        return -1;
    *gen = ckpt_generation(text);
    const char *o = line_of(text, OFFSETS_PREFIX, &len);
    if (!o)
        return 0; /* none kept (at_least_once, or an older version) */
    char *line = strndup(o, len);
    int rc = line ? koff_parse(offsets, line, err, errlen) : -1;
    if (!line)
        snprintf(err, errlen, "out of memory");
    free(line);
    return rc;
}

struct last_match {
    const char *key;
    char *value; /* malloc'd */
};

/* A later record under the key supersedes, unless it comes from an
 * older leader generation (a deposed leader's late save). */
static int match_key(const rd_kafka_message_t *m, void *arg)
{
    struct last_match *lm = arg;
    size_t klen = strlen(lm->key);
    if (m->key_len == klen && memcmp(m->key, lm->key, klen) == 0 &&
        m->payload) {
        char *v = strndup(m->payload, m->len);
        if (v && (!lm->value || ckpt_generation(v) >= ckpt_generation(lm->value))) {
            free(lm->value);
            lm->value = v;
        } else {
            free(v);
        }
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
    for (int64_t end = high; end > low && !lm->value; end -= SCAN_CHUNK) {
        int64_t from = end - SCAN_CHUNK > low ? end - SCAN_CHUNK : low;
        if (kscan_range(c, topic, part, from, end, match_key, lm,
                        KAFKA_TIMEOUT_MS, stop, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* The text of the last checkpoint under the relay's name: 1 with *text,
 * 0 when none, -2 when unreachable or stopped. */
static int load_kafka(const struct relay_cfg *cfg, char **text,
                      const atomic_int *stop, char *err, size_t errlen)
{
    struct last_match lm = {cfg->name, NULL};
    rd_kafka_t *c = kscan_consumer_new(&cfg->kafka, err, errlen);
    int rc = -2; /* unreachable or stopped, unless we get further */
    if (!c)
        return rc;
    int n = kscan_partition_count(c, cfg->checkpoint.topic, KAFKA_TIMEOUT_MS,
                                  stop, err, errlen);
    int32_t i = 0;
    while (i < n && !lm.value &&
           scan_partition(c, cfg->checkpoint.topic, i, &lm, stop, err,
                          errlen) == 0)
        i++;
    if (n >= 0 && (i == n || lm.value))
        rc = lm.value ? 1 : 0;
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    if (rc == 1)
        *text = lm.value;
    else
        free(lm.value);
    return rc;
}

int ckpt_load(const struct relay_cfg *cfg, struct relay_position *p,
              struct koffsets *offsets, uint64_t *gen, const atomic_int *stop,
              char *err, size_t errlen)
{
    char *text = NULL, why[256];
    int file = cfg->checkpoint.store == RELAY_CKPT_FILE;
    int rc = file ? ckpt_file_load(cfg->checkpoint.path, &text, err, errlen)
                  : load_kafka(cfg, &text, stop, err, errlen);
    *gen = 0;
    if (rc == 1 && ckpt_parse(text, p, offsets, gen, why, sizeof why) < 0) {
        if (file)
            snprintf(err, errlen, "checkpoint %s is damaged (%s); restore it "
                     "or remove it and set source.start",
                     cfg->checkpoint.path, why);
        else
            snprintf(err, errlen, "checkpoint of '%s' in %s is damaged: %s",
                     cfg->name, cfg->checkpoint.topic, why);
        rc = -1;
    }
    free(text);
    return rc;
}

/* 1 when the topic exists, 0 when not, -1 when the brokers cannot say.
 * All topics are asked for: asking for one by name would let a broker
 * with auto.create.topics.enable create it, uncompacted. */
static int topic_exists(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, KAFKA_TIMEOUT_MS) != 0)
        return -1;
    int found = 0;
    for (int i = 0; i < md->topic_cnt && !found; i++)
        found = md->topics[i].err == 0 && strcmp(md->topics[i].topic, topic) == 0;
    rd_kafka_metadata_destroy(md);
    return found;
}

static rd_kafka_resp_err_t create_result(rd_kafka_event_t *ev)
{
    if (!ev)
        return RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (rd_kafka_event_error(ev))
        return rd_kafka_event_error(ev);
    const rd_kafka_CreateTopics_result_t *res =
        rd_kafka_event_CreateTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr =
        res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : NULL;
    return cnt ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Creates the topic compacted with one partition; an existing topic is
 * left as it is (a person may have made it on purpose). Only a missing
 * topic costs a CreateTopics request: librdkafka's mock cluster, for
 * one, never answers it (it does not implement the Admin API), and a
 * start would wait out the whole timeout for nothing. */
int ckpt_prepare(const struct relay_cfg *cfg, struct sink *sink, char *err,
                 size_t errlen)
{
    if (cfg->checkpoint.store != RELAY_CKPT_KAFKA)
        return 0;
    rd_kafka_t *rk = sink_handle(sink);
    if (topic_exists(rk, cfg->checkpoint.topic) == 1)
        return 0;
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
    rd_kafka_resp_err_t e = create_result(ev);
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
    return 0;
}

int ckpt_save(const struct relay_cfg *cfg, struct sink *sink,
              const struct relay_position *p, const char *offsets,
              uint64_t gen, char *err, size_t errlen)
{
    char *text = ckpt_format(p, offsets, gen);
    if (!text) {
        snprintf(err, errlen, "checkpoint: position too long to store");
        return -1;
    }
    int rc = cfg->checkpoint.store == RELAY_CKPT_FILE
                 ? ckpt_file_save(cfg->checkpoint.path, text, err, errlen)
                 : sink_produce_checkpoint(sink, cfg->checkpoint.topic,
                                           cfg->name, text, err, errlen);
    free(text);
    return rc;
}
