/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/leader.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "relay/kscan.h"

#define POLL_MS 100
#define SENT_MAX 32 /* commits awaiting an answer that can still count */

struct leader {
    rd_kafka_t *rk;
    char *topic;
    int64_t session_ms;
    pthread_t thread;
    atomic_int quit;
    atomic_int owns;                 /* partition 0 is ours */
    atomic_int_fast64_t lease_until; /* monotonic ms; 0: none */
    int64_t last_renew;              /* leader thread only */
    int64_t last_ok;                 /* when the last accepted one was sent */
    int64_t commits;
    struct {
        int64_t offset, at;          /* a commit and when it was sent */
    } sent[SENT_MAX];
    int held;                        /* the lease held at the last look */
    leader_lost_cb *on_lost;
    void *arg;
};

static int has_partition0(const rd_kafka_topic_partition_list_t *parts,
                          const char *topic)
{
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].partition == 0 &&
            strcmp(parts->elems[i].topic, topic) == 0)
            return 1;
    return 0;
}

static void lose(struct leader *l, const char *why)
{
    if (atomic_exchange(&l->owns, 0))
        log_warn("leader", "no longer the leader: %s", why);
    atomic_store(&l->lease_until, 0);
}

static void drop_error(rd_kafka_error_t *e)
{
    if (e) {
        log_warn("leader", "rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct leader *l = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative)
            drop_error(rd_kafka_incremental_assign(rk, parts));
        else
            rd_kafka_assign(rk, parts);
        if (has_partition0(parts, l->topic)) {
            atomic_store(&l->owns, 1);
            l->last_renew = 0; /* confirm at once */
        }
        return;
    }
    if (!cooperative || has_partition0(parts, l->topic))
        lose(l, "the group took partition 0 back");
    if (cooperative)
        drop_error(rd_kafka_incremental_unassign(rk, parts));
    else
        rd_kafka_assign(rk, NULL);
}

/* A commit the coordinator accepts only from a current member: sent at
 * t, it holds the lease until t + 2/3 of a session (the coordinator keeps
 * a member a whole session past its last heartbeat, and heartbeats go
 * every fifth of one). Asynchronous: settle() takes the answer. */
static void renew(struct leader *l)
{
    int64_t t = clock_mono_ms();
    l->last_renew = t;
    rd_kafka_topic_partition_list_t *o = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(o, l->topic, 0)->offset = ++l->commits;
    l->sent[l->commits % SENT_MAX].offset = l->commits;
    l->sent[l->commits % SENT_MAX].at = t;
    rd_kafka_resp_err_t e = rd_kafka_commit(l->rk, o, 1);
    rd_kafka_topic_partition_list_destroy(o);
    if (e)
        log_warn("leader", "lease not renewed: %s", rd_kafka_err2str(e));
}

/* The answer to the commit of `offset`. */
static void settle(struct leader *l, int64_t offset, rd_kafka_resp_err_t e)
{
    if (offset <= 0 || l->sent[offset % SENT_MAX].offset != offset)
        return; /* not ours, or too old to count */
    int64_t until = l->sent[offset % SENT_MAX].at + l->session_ms * 2 / 3;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (!atomic_load(&l->owns))
            return; /* partition 0 went meanwhile */
        if (atomic_load(&l->lease_until) == 0)
            log_info("leader", "leading: partition 0 of %s is ours", l->topic);
        if (until > atomic_load(&l->lease_until)) {
            atomic_store(&l->lease_until, until);
            l->last_ok = until - l->session_ms * 2 / 3;
        }
    } else if (e == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
               e == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
               e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID) {
        lose(l, rd_kafka_err2str(e));
    } else {
        log_warn("leader", "lease not renewed: %s", rd_kafka_err2str(e));
    }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    struct leader *l = opaque;
    (void)rk;
    for (int i = 0; offsets && i < offsets->cnt; i++)
        if (offsets->elems[i].partition == 0 &&
            strcmp(offsets->elems[i].topic, l->topic) == 0)
            settle(l, offsets->elems[i].offset,
                   err ? err : offsets->elems[i].err);
}

/* Tells the relay, once, that a lease it held has ended, whether the
 * group said so or no answer came in time. */
static void watch(struct leader *l)
{
    int valid = leader_valid(l);
    if (l->held && !valid) {
        if (atomic_load(&l->owns))
            log_warn("leader", "no longer the leader: the lease ran out (the "
                     "group coordinator accepted no renewal sent in the last "
                     "%lld ms)", (long long)(clock_mono_ms() - l->last_ok));
        if (l->on_lost)
            l->on_lost(l->arg);
    }
    l->held = valid;
}

static void *leader_main(void *arg)
{
    struct leader *l = arg;
    while (!atomic_load(&l->quit)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(l->rk, POLL_MS);
        if (m)
            rd_kafka_message_destroy(m); /* nobody writes the topic */
        if (atomic_load(&l->owns) &&
            clock_mono_ms() - l->last_renew >= l->session_ms / 6)
            renew(l);
        watch(l);
    }
    return NULL;
}

static rd_kafka_t *join(struct leader *l, const struct relay_cfg *cfg,
                        char *err, size_t errlen)
{
    char group[300], session[32], heartbeat[32], why[512];
    snprintf(group, sizeof group, "%s",
             cfg->ha.group && cfg->ha.group[0] ? cfg->ha.group : "");
    if (!group[0])
        snprintf(group, sizeof group, "outbox-relay.%s", cfg->name);
    snprintf(session, sizeof session, "%lld", (long long)l->session_ms);
    snprintf(heartbeat, sizeof heartbeat, "%lld", (long long)l->session_ms / 5);
    rd_kafka_conf_t *conf = kscan_conf(&cfg->kafka, group, err, errlen);
    const char *const set[][2] = {
        {"session.timeout.ms", session},
        {"heartbeat.interval.ms", heartbeat},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"auto.offset.reset", "latest"},
    };
    for (size_t i = 0; conf && i < sizeof set / sizeof set[0]; i++)
        if (rd_kafka_conf_set(conf, set[i][0], set[i][1], why, sizeof why)) {
            snprintf(err, errlen, "ha: %s: %s", set[i][0], why);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    if (!conf)
        return NULL;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_opaque(conf, l);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!rk) {
        snprintf(err, errlen, "ha: cannot create the group member: %s", why);
        rd_kafka_conf_destroy(conf);
    } else { /* the answers to async commits come on the main queue */
        rd_kafka_poll_set_consumer(rk);
    }
    return rk;
}

static int subscribe(rd_kafka_t *rk, const char *topic, char *err,
                     size_t errlen)
{
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (e)
        snprintf(err, errlen, "ha: cannot join on %s: %s", topic,
                 rd_kafka_err2str(e));
    return e ? -1 : 0;
}

struct leader *leader_new(const struct relay_cfg *cfg, leader_lost_cb *on_lost,
                          void *arg, char *err, size_t errlen)
{
    struct leader *l = calloc(1, sizeof *l);
    if (!l || !(l->topic = strdup(cfg->ha.topic))) {
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->session_ms = cfg->ha.session_timeout_ms;
    l->on_lost = on_lost;
    l->arg = arg;
    if (!(l->rk = join(l, cfg, err, errlen)) ||
        subscribe(l->rk, l->topic, err, errlen) < 0 ||
        pthread_create(&l->thread, NULL, leader_main, l) != 0) {
        if (l->rk)
            rd_kafka_destroy(l->rk);
        free(l->topic);
        free(l);
        return NULL;
    }
    return l;
}

void leader_free(struct leader *l)
{
    if (!l)
        return;
    atomic_store(&l->quit, 1);
    pthread_join(l->thread, NULL);
    atomic_store(&l->lease_until, 0);
    rd_kafka_consumer_close(l->rk); /* leaves the group: no wait for a standby */
    rd_kafka_destroy(l->rk);
    free(l->topic);
    free(l);
}

int leader_valid(const struct leader *l)
{
    return atomic_load(&l->owns) &&
           clock_mono_ms() < atomic_load(&l->lease_until);
}
