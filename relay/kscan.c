/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/kscan.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

#define STEP_MS 500

static int stopped(const atomic_int *stop, char *err, size_t errlen)
{
    if (!stop || !atomic_load(stop))
        return 0;
    snprintf(err, errlen, "stopped");
    return 1;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    (void)rk;
    if (level <= 3)
        log_warn("kafka", "%s: %s", fac, buf);
    else
        log_debug("kafka", "%s: %s", fac, buf);
}

/* Metadata in steps, so that a stop is noticed. */
static rd_kafka_resp_err_t metadata(rd_kafka_t *rk, int all,
                                    rd_kafka_topic_t *t,
                                    const struct rd_kafka_metadata **md,
                                    int timeout_ms, const atomic_int *stop)
{
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (int waited = 0; waited < timeout_ms && !(stop && atomic_load(stop));
         waited += STEP_MS) {
        e = rd_kafka_metadata(rk, all, t, md, STEP_MS);
        if (e != RD_KAFKA_RESP_ERR__TIMED_OUT &&
            e != RD_KAFKA_RESP_ERR__TRANSPORT)
            break;
    }
    return e;
}

int kscan_all_topics(rd_kafka_t *rk, const struct rd_kafka_metadata **md,
                     int timeout_ms, const atomic_int *stop, char *err,
                     size_t errlen)
{
    rd_kafka_resp_err_t e = metadata(rk, 1, NULL, md, timeout_ms, stop);
    if (e) {
        snprintf(err, errlen, "listing Kafka topics: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

/* Sets each pair; 0, or -1 with a message. */
static int conf_pairs(rd_kafka_conf_t *conf, const char *const (*set)[2],
                      size_t n, char *err, size_t errlen)
{
    char why[512];
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_conf_set(conf, set[i][0], set[i][1], why, sizeof why)) {
            snprintf(err, errlen, "kafka property %s: %s", set[i][0], why);
            return -1;
        }
    return 0;
}

rd_kafka_conf_t *kscan_conf(const struct relay_kafka_cfg *cfg,
                            const char *group, char *err, size_t errlen)
{
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < cfg->properties.count; i++) {
        /* Producer-only properties would be refused by a consumer. */
        rd_kafka_conf_set(conf, cfg->properties.items[i].key,
                          cfg->properties.items[i].value, why, sizeof why);
    }
    const char *const set[][2] = {
        {"bootstrap.servers", cfg->brokers},
        {"client.id", cfg->client_id},
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
    };
    if (conf_pairs(conf, set, sizeof set / sizeof set[0], err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, on_log);
    return conf;
}

rd_kafka_t *kscan_consumer_new(const struct relay_kafka_cfg *cfg, char *err,
                               size_t errlen)
{
    char why[512], group[300];
    /* assign() needs a group id; no group is joined and nothing is
     * committed under it. */
    snprintf(group, sizeof group, "%s-scan", cfg->client_id);
    rd_kafka_conf_t *conf = kscan_conf(cfg, group, err, errlen);
    const char *const set[][2] = {
        {"enable.partition.eof", "true"},
        {"auto.offset.reset", "error"},
        {"isolation.level", "read_uncommitted"},
    };
    if (!conf || conf_pairs(conf, set, sizeof set / sizeof set[0], err,
                            errlen) < 0) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!rk) {
        snprintf(err, errlen, "cannot create a Kafka consumer: %s", why);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

int kscan_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms,
                          const atomic_int *stop, char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = metadata(rk, 0, t, &md, timeout_ms, stop);
    rd_kafka_topic_destroy(t);
    if (e) {
        snprintf(err, errlen, "metadata of %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    int n = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == 0)
        n = md->topics[0].partition_cnt;
    else if (md->topic_cnt == 1 &&
             md->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        snprintf(err, errlen, "metadata of %s: %s", topic,
                 rd_kafka_err2str(md->topics[0].err));
        n = -1;
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

int kscan_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition,
                     int64_t *low, int64_t *high, int timeout_ms,
                     const atomic_int *stop, char *err, size_t errlen)
{
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (int waited = 0; waited < timeout_ms && e == RD_KAFKA_RESP_ERR__TIMED_OUT;
         waited += STEP_MS) {
        if (stopped(stop, err, errlen))
            return -1;
        e = rd_kafka_query_watermark_offsets(rk, topic, partition, low, high,
                                             STEP_MS);
    }
    if (e) {
        snprintf(err, errlen, "offsets of %s[%d]: %s", topic, (int)partition,
                 rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static int assign_one(rd_kafka_t *rk, const char *topic, int32_t partition,
                      int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return e ? -1 : 0;
}

int kscan_range(rd_kafka_t *rk, const char *topic, int32_t partition,
                int64_t from, int64_t to, kscan_fn fn, void *arg,
                int timeout_ms, const atomic_int *stop, char *err,
                size_t errlen)
{
    int rc = 0, waited = 0;
    if (from >= to)
        return 0;
    if (assign_one(rk, topic, partition, from) < 0) {
        snprintf(err, errlen, "cannot read %s[%d]", topic, (int)partition);
        return -1;
    }
    int64_t next = from;
    while (rc == 0 && next < to) {
        if (stopped(stop, err, errlen)) {
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            if ((waited += 100) >= timeout_ms) {
                snprintf(err, errlen, "timed out reading %s[%d] at offset %lld",
                         topic, (int)partition, (long long)next);
                rc = -1;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            next = to; /* the range ended early (compaction, deletion) */
        } else if (m->err) {
            snprintf(err, errlen, "reading %s[%d]: %s", topic, (int)partition,
                     rd_kafka_message_errstr(m));
            rc = -1;
        } else if (m->offset >= next) {
            next = m->offset + 1;
            if (m->offset < to && fn(m, arg) != 0)
                next = to;
            waited = 0;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(rk, NULL);
    return rc;
}

const void *kscan_header(const rd_kafka_message_t *m, const char *name,
                         size_t *len)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    if (rd_kafka_message_headers(m, &h) || !h)
        return NULL;
    if (rd_kafka_header_get_last(h, name, &v, len))
        return NULL;
    return v;
}

/* The entry of m's partition in parts, and its index; NULL if none. */
static rd_kafka_topic_partition_t *entry_of(rd_kafka_topic_partition_list_t *parts,
                                            const rd_kafka_message_t *m,
                                            int *index)
{
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(
        parts, rd_kafka_topic_name(m->rkt), m->partition);
    if (tp)
        *index = (int)(tp - parts->elems);
    return tp;
}

/* One message of kscan_ranges: 1 when its partition is done now. */
static int range_step(rd_kafka_topic_partition_t *tp, int64_t end,
                      const rd_kafka_message_t *m, kscan_fn fn, void *arg)
{
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return 1; /* ended early (retention, compaction) */
    if (m->offset < tp->offset)
        return 0; /* already seen */
    tp->offset = m->offset + 1;
    if (m->offset < end && fn(m, arg) != 0)
        return 1;
    return tp->offset >= end;
}

int kscan_ranges(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                 const int64_t *ends, kscan_fn fn, void *arg, int timeout_ms,
                 const atomic_int *stop, char *err, size_t errlen)
{
    int left = 0, waited = 0, rc = 0;
    for (int i = 0; i < parts->cnt; i++)
        left += parts->elems[i].offset < ends[i];
    if (left == 0)
        return 0;
    if (rd_kafka_assign(rk, parts)) {
        snprintf(err, errlen, "cannot read back the relay's partitions");
        return -1;
    }
    while (left > 0 && rc == 0) {
        if (stopped(stop, err, errlen)) {
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            if ((waited += 100) >= timeout_ms) {
                snprintf(err, errlen, "timed out reading the relay's partitions");
                rc = -1;
            }
            continue;
        }
        int i;
        rd_kafka_topic_partition_t *tp = entry_of(parts, m, &i);
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            snprintf(err, errlen, "reading the relay's partitions: %s",
                     rd_kafka_message_errstr(m));
            rc = -1;
        } else if (tp && tp->offset < ends[i] &&
                   range_step(tp, ends[i], m, fn, arg)) {
            tp->offset = ends[i];
            left--;
            waited = 0;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(rk, NULL);
    return rc;
}
