/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "relay/checkpoint.h"
#include "relay/dedupe.h"
#include "relay/leader.h"
#include "relay/outcome.h"
#include "relay/pipeline.h"
#include "relay/resume.h"
#include "relay/sink.h"
#include "relay/source.h"

#define POLL_EVERY 256      /* events between delivery-report polls */
#define STOP_FLUSH_MS 300   /* each of a stop's two waits for Kafka */
#define LEASE_LOST "the leadership is lost, stepping down" /* /healthz */

enum state {
    ST_STARTING, ST_STANDBY, ST_CONNECTING, ST_STREAMING, ST_FAILED, ST_STOPPED
};

struct relay {
    const struct relay_cfg *cfg;
    struct event_base *base;
    struct event *wake_ev;
    int wake[2];
    void (*on_end)(void *, int);
    void *arg;
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_int state;
    atomic_int exit_code;
    struct source source;
    struct sink *sink;
    struct pipeline *pipeline;
    struct dedupe *dedupe;
    struct leader *leader; /* ha.enabled only */
    pthread_mutex_t sink_lock; /* the loop thread reads the sink's stats */
    uint64_t gen;          /* the leader generation its checkpoints carry */
    struct relay_position from; /* where the current stream began */
    struct backoff backoff;
    int64_t last_ckpt_ms;
    /* mirrored for the metrics thread */
    atomic_int_fast64_t last_event_ts, ckpt_ts, ckpt_offset, queue_depth,
        kafka_errors, in_flight;
    atomic_int_fast64_t ckpt_failures, ckpt_failures_run; /* file store */
    struct mseries *reconnects, *degraded;
    struct metrics *metrics;
    char why[1100];
    pthread_mutex_t why_lock;
};

static void set_state(struct relay *r, enum state s, const char *why)
{
    atomic_store(&r->state, s);
    pthread_mutex_lock(&r->why_lock);
    snprintf(r->why, sizeof r->why, "%s", why ? why : "");
    pthread_mutex_unlock(&r->why_lock);
}

/* ---- metrics ---------------------------------------------------------- */

static double g_lag(void *arg)
{
    struct relay *r = arg;
    int64_t t = atomic_load(&r->last_event_ts);
    return t ? (double)(time(NULL) - t) : 0;
}

#define GAUGE_OF(field)                                                        \
    static double g_##field(void *arg)                                         \
    {                                                                          \
        return (double)atomic_load(&((struct relay *)arg)->field);             \
    }
GAUGE_OF(ckpt_ts)
GAUGE_OF(ckpt_offset)
GAUGE_OF(queue_depth)
GAUGE_OF(kafka_errors)
GAUGE_OF(in_flight)

/* Saves that failed: the file store's here, the Kafka store's in the
 * sink (its records fail after the fact). */
static double g_ckpt_failures(void *arg)
{
    struct relay *r = arg;
    pthread_mutex_lock(&r->sink_lock);
    int64_t n = atomic_load(&r->ckpt_failures) +
                (r->sink ? (int64_t)atomic_load(
                               &sink_stats(r->sink)->checkpoint_failures)
                         : 0);
    pthread_mutex_unlock(&r->sink_lock);
    return (double)n;
}

/* Without ha every relay leads; with it, only while its lease holds. */
static int leading(const struct relay *r)
{
    return !r->leader || leader_valid(r->leader);
}

static double g_leader(void *arg)
{
    struct relay *r = arg;
    int s = atomic_load(&r->state);
    return s != ST_STANDBY && s != ST_STARTING && leading(r);
}

static void register_metrics(struct relay *r, struct metrics *m)
{
    if (!m)
        return;
    metrics_gauge_cb(m, "outbox_replication_lag_seconds",
                     "Age of the last binlog event read (0 when caught up).",
                     g_lag, r);
    metrics_gauge_cb(m, "outbox_checkpoint_timestamp_seconds",
                     "When the last checkpoint was saved.", g_ckpt_ts, r);
    metrics_gauge_cb(m, "outbox_checkpoint_offset",
                     "Binlog offset of the last checkpoint.", g_ckpt_offset, r);
    metrics_gauge_cb(m, "outbox_producer_queue_depth",
                     "Messages in the producer's queue.", g_queue_depth, r);
    metrics_gauge_cb(m, "outbox_kafka_errors",
                     "Kafka delivery and client errors since start.",
                     g_kafka_errors, r);
    metrics_gauge_cb(m, "outbox_records_in_flight",
                     "Records produced, not yet acknowledged.", g_in_flight, r);
    metrics_gauge_cb(m, "outbox_relay_leader",
                     "1 while this relay leads (streams), 0 as a standby.",
                     g_leader, r);
    metrics_gauge_cb(m, "outbox_checkpoint_failures_total",
                     "Checkpoint saves that failed since start.",
                     g_ckpt_failures, r);
    r->degraded = metrics_series(
        metrics_family(m, METRIC_COUNTER, "outbox_exactly_once_degraded_total",
                       "Records exactly_once could not match and may repeat "
                       "(at-least-once for them).", NULL),
        NULL);
    r->reconnects = metrics_series(
        metrics_family(m, METRIC_COUNTER, "outbox_source_reconnects_total",
                       "Reconnections to the MySQL/MariaDB source.", NULL),
        NULL);
}

static void mirror_stats(struct relay *r)
{
    struct sink_stats *s = sink_stats(r->sink);
    atomic_store(&r->queue_depth, rd_kafka_outq_len(sink_handle(r->sink)));
    atomic_store(&r->kafka_errors, (int64_t)atomic_load(&s->errors));
    atomic_store(&r->in_flight, (int64_t)atomic_load(&s->in_flight));
}

/* ---- checkpoints ------------------------------------------------------ */

static void save_checkpoint(struct relay *r)
{
    const struct relay_position *pos = sink_committed(r->sink);
    char err[512];
    if (!pos->file[0] && pos->kind == POS_GTID_NONE)
        return; /* nothing streamed yet */
    if (!leading(r))
        return; /* a deposed leader saves nothing more */
    char *offsets = sink_offsets_text(r->sink);
    int rc = ckpt_save(r->cfg, r->sink, pos, offsets, r->gen, err, sizeof err);
    free(offsets);
    if (rc < 0) { /* the file store's; the Kafka store's fail later */
        atomic_fetch_add(&r->ckpt_failures, 1);
        atomic_fetch_add(&r->ckpt_failures_run, 1);
        log_warn("checkpoint", "%s", err);
        return;
    }
    if (r->cfg->checkpoint.store == RELAY_CKPT_FILE)
        atomic_store(&r->ckpt_failures_run, 0);
    atomic_store(&r->ckpt_ts, (int64_t)time(NULL));
    atomic_store(&r->ckpt_offset, (int64_t)pos->offset);
}

static void maybe_checkpoint(struct relay *r)
{
    int64_t t = clock_mono_ms();
    if (t - r->last_ckpt_ms < r->cfg->checkpoint.interval_ms)
        return;
    r->last_ckpt_ms = t;
    save_checkpoint(r);
    mirror_stats(r);
}

/* ---- the pipeline thread ---------------------------------------------- */

/* Sleeps for a backoff step, serving delivery reports; 1 if asked to
 * stop or the sink failed meanwhile. */
static int wait_backoff(struct relay *r)
{
    int64_t until = clock_mono_ms() + backoff_next(&r->backoff);
    while (clock_mono_ms() < until && !atomic_load(&r->stop) &&
           !sink_has_failed(r->sink)) {
        sink_poll(r->sink, 50);
        maybe_checkpoint(r);
    }
    return atomic_load(&r->stop) || sink_has_failed(r->sink);
}

/* Waits up to timeout_ms for Kafka to acknowledge everything, in steps
 * that look at the stop flag. 0 or -1. */
static int flush_stoppable(struct relay *r, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        if (sink_flush(r->sink, 100) == 0)
            return 0;
        if (atomic_load(&r->stop) || sink_has_failed(r->sink) || !leading(r))
            return -1;
    }
    return -1;
}

/* Rows of this relay that carry no outbox-txn (an older version wrote
 * them) cannot be matched: their events may arrive twice. */
static void report_unnamed(struct relay *r)
{
    size_t n = dedupe_unnamed(r->dedupe);
    if (n == 0)
        return;
    log_warn("dedupe", "%zu records of relay '%s' past the checkpoint carry "
             "no outbox-txn header (written by an older version): their "
             "events may be delivered again (at-least-once for them)", n,
             r->cfg->name);
    mseries_add(r->degraded, (int64_t)n);
}

static int fatal(struct relay *r, const char *msg)
{
    log_error("relay", "%s", msg);
    set_state(r, ST_FAILED, msg);
    return 1;
}

/* exactly_once: what this relay already landed past its checkpoint (or
 * past the start, when it had none). What is in flight lands first; then
 * a checkpoint with the partitions' offsets is saved at once, so that
 * one exists, with bounds, before anything more is produced. */
static int load_dedupe(struct relay *r, int had_checkpoint)
{
    char err[512];
    if (flush_stoppable(r, 30000) < 0) {
        snprintf(r->source.err, sizeof r->source.err,
                 "records still in flight; retrying");
        r->source.fatal = 0;
        return -1;
    }
    size_t ntables;
    const struct outbox_table *tables = pipeline_tables(r->pipeline, &ntables);
    struct dedupe_from from = {
        had_checkpoint ? sink_committed(r->sink) : NULL, sink_offsets(r->sink)};
    struct koffsets *found = koff_new();
    dedupe_free(r->dedupe);
    r->dedupe = found ? dedupe_load(r->cfg, tables, ntables, &from, found,
                                    &r->stop, err, sizeof err)
                      : NULL;
    if (r->dedupe && sink_seed_offsets(r->sink, found) < 0) {
        dedupe_free(r->dedupe);
        r->dedupe = NULL;
        snprintf(err, sizeof err, "out of memory");
    }
    koff_free(found);
    if (!r->dedupe) {
        snprintf(r->source.err, sizeof r->source.err, "%s", err);
        r->source.fatal = 0; /* Kafka unreachable: try again */
        return -1;
    }
    report_unnamed(r);
    save_checkpoint(r);
    if (flush_stoppable(r, 30000) < 0) {
        snprintf(r->source.err, sizeof r->source.err,
                 "the first checkpoint did not reach Kafka; retrying");
        r->source.fatal = 0;
        return -1;
    }
    return 0;
}

/* Where the binlog is read from after a (re)connect. */
static int prepare_resume(struct relay *r, int have_position)
{
    if (!have_position) {
        struct relay_position start;
        pos_init(&start);
        if (source_resolve_start(&r->source, r->cfg->source.start, &start) < 0)
            return -1;
        if (start.kind == POS_GTID_MYSQL &&
            pipeline_skip_gtids(r->pipeline, &start) < 0) {
            snprintf(r->source.err, sizeof r->source.err, "out of memory");
            pos_free(&start);
            return -1;
        }
        sink_reset_position(r->sink, &start);
        pos_free(&start);
    }
    if (r->cfg->delivery.mode != RELAY_EXACTLY_ONCE)
        return 0;
    return load_dedupe(r, have_position);
}

/* The server's binlog history was reset under a checkpoint without GTIDs
 * (resume.h): read the new history from its first event, and say that
 * this stretch is at-least-once. */
static void from_new_history(struct relay *r, const struct resume_binlogs *logs,
                             const char *why)
{
    log_warn("resume", "%s", why);
    mseries_add(r->degraded, 1);
    pos_free(&r->from);
    pos_set_file(&r->from, logs->v[0].name, 4); /* after the magic */
    snprintf(r->from.server, sizeof r->from.server, "%s",
             r->source.info.server);
    sink_set_server(r->sink, r->source.info.server);
}

/* Where the binlog is read from on the server just connected to, which
 * after a failover is another one (resume.h); a server that cannot
 * continue the checkpoint is refused, and the relay ends with status 1. */
static int plan_resume(struct relay *r)
{
    struct source *src = &r->source;
    const struct relay_position *at = sink_committed(r->sink);
    char why[sizeof src->err];
    struct resume_binlogs logs = {NULL, 0};
    if (resume_needs_binlogs(at) && source_binlogs(src, &logs) < 0)
        return -1;
    enum resume_how how = resume_plan(at, src->info.server, src->info.where,
                                      src->info.history, &logs, why,
                                      sizeof why);
    if (how == RESUME_FROM_START)
        from_new_history(r, &logs, why);
    free((void *)logs.v);
    if (how == RESUME_FROM_START)
        return 0;
    if (how == RESUME_REFUSE) {
        snprintf(src->err, sizeof src->err, "%s", why);
        src->fatal = 1;
        return -1;
    }
    if (pos_copy(&r->from, at) < 0) {
        snprintf(src->err, sizeof src->err, "out of memory");
        src->fatal = 0;
        return -1;
    }
    if (how == RESUME_BY_GTID) {
        log_warn("failover", "%s", why);
        /* MariaDB resumes by GTID anyway; MySQL is told a file */
        if (!src->info.is_mariadb &&
            (source_locate_gtid(src, &r->from) < 0 ||
             pipeline_skip_gtids(r->pipeline, &r->from) < 0))
            return -1;
    }
    sink_set_server(r->sink, src->info.server);
    return 0;
}

/* The source gave up: a stop, a setting only a person can change, or a
 * lost connection. */
static enum outcome source_outcome(struct relay *r)
{
    if (atomic_load(&r->stop))
        return OUTCOME_STOP;
    return r->source.fatal ? OUTCOME_FATAL : OUTCOME_RECONNECT;
}

/* Streams until the connection ends, a stop, or a failure. */
static enum outcome stream(struct relay *r)
{
    char err[1024];
    unsigned n = 0;
    set_state(r, ST_STREAMING, NULL);
    for (;;) {
        const uint8_t *ev;
        size_t len;
        if (source_read(&r->source, &ev, &len) < 0)
            return leading(r) ? source_outcome(r) : OUTCOME_DEMOTED;
        backoff_reset(&r->backoff);
        if (len > 4 && (ev[4] == BL_HEARTBEAT || ev[4] == BL_HEARTBEAT_V2))
            atomic_store(&r->last_event_ts, 0); /* caught up */
        else if (len > 4)
            atomic_store(&r->last_event_ts, (int64_t)(ev[0] | ev[1] << 8 |
                         ev[2] << 16 | (uint32_t)ev[3] << 24));
        if (!leading(r)) /* checked before each event it handles */
            return OUTCOME_DEMOTED;
        enum outcome o = pipeline_event(r->pipeline, ev, len, &r->stop, err,
                                        sizeof err);
        if (o != OUTCOME_OK) {
            snprintf(r->source.err, sizeof r->source.err, "%s", err);
            return o;
        }
        /* Heartbeats are small: an idle relay still serves delivery
         * reports, and notices a failed sink, once a heartbeat_interval. */
        if (++n % POLL_EVERY == 0 || len < 64) {
            sink_poll(r->sink, 0);
            if (sink_failed(r->sink, r->source.err, sizeof r->source.err))
                return OUTCOME_FATAL;
            maybe_checkpoint(r);
        }
    }
}

/* The checkpoint, waiting out an unreachable store. */
static int load_checkpoint(struct relay *r, struct relay_position *start,
                           struct koffsets *offsets, int *have)
{
    char err[1024];
    for (;;) {
        uint64_t gen = 0;
        *have = ckpt_load(r->cfg, start, offsets, &gen, &r->stop, err,
                          sizeof err);
        if (*have >= 0) {
            r->gen = r->leader ? gen + 1 : gen; /* a new leader's */
            return 0;
        }
        if (*have == -1)
            return fatal(r, err), -1;
        if (atomic_load(&r->stop))
            return -1;
        log_warn("checkpoint", "cannot read the checkpoint yet: %s", err);
        set_state(r, ST_CONNECTING, err);
        int64_t until = clock_mono_ms() + backoff_next(&r->backoff);
        while (clock_mono_ms() < until && !atomic_load(&r->stop))
            usleep(20000);
    }
}

static int setup(struct relay *r, struct relay_position *start, int *have)
{
    char err[1024];
    pos_init(start);
    struct koffsets *offsets = koff_new();
    if (!offsets)
        return fatal(r, "out of memory"), -1;
    if (load_checkpoint(r, start, offsets, have) < 0) {
        koff_free(offsets);
        return -1;
    }
    if (*have) {
        char text[POS_TEXT_MAX];
        pos_format(start, text, sizeof text);
        log_info("checkpoint", "resuming after %s", text);
    }
    struct sink *sink = sink_new(r->cfg, start, err, sizeof err);
    pthread_mutex_lock(&r->sink_lock);
    r->sink = sink;
    pthread_mutex_unlock(&r->sink_lock);
    int rc = !sink || sink_seed_offsets(r->sink, offsets) < 0 ||
             ckpt_prepare(r->cfg, r->sink, err, sizeof err) < 0 ||
             !(r->pipeline = pipeline_new(r->cfg, &sink_kafka_ops, r->sink,
                                          r->metrics, err, sizeof err));
    koff_free(offsets);
    if (rc)
        return fatal(r, err), -1;
    return 0;
}

/* Connects and starts the binlog where the committed position is. */
static enum outcome connect_and_resume(struct relay *r, int have_position)
{
    if (source_connect(&r->source) == 0 &&
        prepare_resume(r, have_position) == 0 && plan_resume(r) == 0 &&
        source_start_dump(&r->source, &r->from) == 0)
        return OUTCOME_OK;
    if (sink_failed(r->sink, r->source.err, sizeof r->source.err))
        return OUTCOME_FATAL;
    return source_outcome(r);
}

/* Connects, streams and reconnects until a stop or a failure. */
static enum outcome follow(struct relay *r, int have)
{
    enum outcome o = OUTCOME_OK;
    while (o != OUTCOME_STOP && o != OUTCOME_FATAL && o != OUTCOME_DEMOTED) {
        if (atomic_load(&r->stop))
            return OUTCOME_STOP;
        if (!leading(r))
            return OUTCOME_DEMOTED;
        set_state(r, ST_CONNECTING, "connecting to the source");
        o = connect_and_resume(r, have);
        if (o == OUTCOME_OK) {
            have = 1;
            pipeline_reset(r->pipeline,
                           !strcmp(r->source.info.binlog_checksum, "CRC32") ? 4 : 0,
                           r->from.file, source_column_names,
                           &r->source, r->dedupe);
            o = stream(r);
            if (o != OUTCOME_RECONNECT)
                continue;
            mseries_add(r->reconnects, 1);
        }
        if (o == OUTCOME_RECONNECT) {
            log_warn("binlog", "%s; reconnecting", r->source.err);
            set_state(r, ST_CONNECTING, r->source.err);
            if (wait_backoff(r))
                o = sink_failed(r->sink, r->source.err, sizeof r->source.err)
                        ? OUTCOME_FATAL : OUTCOME_STOP;
            else if (!leading(r))
                o = OUTCOME_DEMOTED;
        }
    }
    return o;
}

/* A clean stop: Kafka takes what it can in a short while, then the
 * checkpoint is saved (and, in Kafka, given the same while to land). The
 * whole stop stays within a second. */
static void stop_cleanly(struct relay *r)
{
    if (!r->sink)
        return; /* stopped before Kafka was reached: nothing to hand over */
    sink_flush(r->sink, STOP_FLUSH_MS);
    save_checkpoint(r);
    if (r->cfg->checkpoint.store == RELAY_CKPT_KAFKA)
        sink_flush(r->sink, STOP_FLUSH_MS);
}

/* Leads: from the checkpoint, until demoted, stopped or failed. */
static enum outcome lead(struct relay *r)
{
    struct relay_position start;
    int have;
    int ok = setup(r, &start, &have) == 0;
    pos_free(&start);
    if (!ok)
        return atomic_load(&r->stop) && atomic_load(&r->state) != ST_FAILED
                   ? OUTCOME_STOP : OUTCOME_FATAL;
    sink_set_stop(r->sink, &r->stop);
    backoff_reset(&r->backoff);
    enum outcome o = follow(r, have);
    source_close(&r->source);
    return o;
}

/* The lease ended (the leader's thread): a read that waits for the next
 * binlog event is cut short, so the relay steps down now even when no
 * event comes, as on a host cut off from the network. */
static void on_lease_lost(void *arg)
{
    struct relay *r = arg;
    source_interrupt(&r->source);
}

/* A deposed leader drops everything it held, saving nothing; what it
 * handed to librdkafka and was not sent yet is purged. */
static void step_down(struct relay *r)
{
    set_state(r, ST_STANDBY, "standby: " LEASE_LOST);
    log_warn("leader", "another relay leads now: standing by (nothing more "
             "is read or saved)");
    pipeline_free(r->pipeline);
    r->pipeline = NULL;
    dedupe_free(r->dedupe);
    r->dedupe = NULL;
    pthread_mutex_lock(&r->sink_lock);
    struct sink *s = r->sink;
    r->sink = NULL;
    pthread_mutex_unlock(&r->sink_lock);
    sink_destroy(s, 0);
}

/* Waits until this relay leads (at once without ha). 0, or -1 when asked
 * to stop first. */
static int stand_by(struct relay *r)
{
    if (!r->leader || leader_valid(r->leader))
        return 0;
    set_state(r, ST_STANDBY, "standby");
    while (!leader_valid(r->leader))
        if (atomic_load(&r->stop))
            return -1;
        else
            usleep(20000);
    log_info("leader", "this relay leads now; starting from the checkpoint");
    return 0;
}

/* The exit status: 0 only after a stop that was asked for. */
static int run(struct relay *r)
{
    char err[512];
    backoff_init(&r->backoff, r->cfg->source.reconnect.initial_ms,
                 r->cfg->source.reconnect.max_ms);
    if (r->cfg->ha.enabled &&
        !(r->leader = leader_new(r->cfg, on_lease_lost, r, err, sizeof err)))
        return fatal(r, err);
    for (;;) {
        if (stand_by(r) < 0)
            return 0;
        enum outcome o = lead(r);
        if (o == OUTCOME_DEMOTED) {
            step_down(r);
            continue;
        }
        if (o == OUTCOME_FATAL) {
            if (atomic_load(&r->state) != ST_FAILED)
                fatal(r, r->source.err);
            return 1;
        }
        stop_cleanly(r);
        return 0;
    }
}

static void *thread_main(void *arg)
{
    struct relay *r = arg;
    int rc = run(r);
    atomic_store(&r->exit_code, rc);
    if (!rc)
        set_state(r, ST_STOPPED, "stopped");
    if (write(r->wake[1], "x", 1) < 0)
        log_error("relay", "cannot wake the main loop: %s", strerror(errno));
    return NULL;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct relay *r = arg;
    char c;
    (void)what;
    if (read(fd, &c, 1) == 1 && r->on_end)
        r->on_end(r->arg, atomic_load(&r->exit_code));
}

/* ---- the loop side ---------------------------------------------------- */

struct relay *relay_new(const struct relay_cfg *cfg, struct event_base *base,
                        struct metrics *m, void (*on_end)(void *arg, int code),
                        void *arg)
{
    struct relay *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cfg = cfg;
    r->base = base;
    r->on_end = on_end;
    r->arg = arg;
    r->metrics = m;
    r->wake[0] = r->wake[1] = -1;
    pthread_mutex_init(&r->why_lock, NULL);
    pthread_mutex_init(&r->sink_lock, NULL);
    source_init(&r->source, &cfg->source, &r->stop);
    set_state(r, ST_STARTING, "starting");
    if (pipe2(r->wake, O_CLOEXEC) < 0 ||
        !(r->wake_ev = event_new(base, r->wake[0], EV_READ | EV_PERSIST,
                                 on_wake, r)) ||
        event_add(r->wake_ev, NULL) < 0) {
        relay_free(r);
        return NULL;
    }
    register_metrics(r, m);
    return r;
}

int relay_start(struct relay *r)
{
    if (pthread_create(&r->thread, NULL, thread_main, r) != 0)
        return -1;
    r->started = 1;
    return 0;
}

void relay_stop(struct relay *r)
{
    atomic_store(&r->stop, 1);
    source_interrupt(&r->source);
}

int relay_free(struct relay *r)
{
    if (!r)
        return 0;
    if (r->started) {
        relay_stop(r);
        pthread_join(r->thread, NULL);
    }
    int rc = atomic_load(&r->exit_code);
    pipeline_free(r->pipeline);
    dedupe_free(r->dedupe);
    sink_destroy(r->sink, 0); /* a clean stop has flushed already */
    source_fini(&r->source);
    pos_free(&r->from);
    if (r->wake_ev)
        event_free(r->wake_ev);
    for (int i = 0; i < 2; i++)
        if (r->wake[i] >= 0)
            close(r->wake[i]);
    leader_free(r->leader); /* leaves the group: a standby takes over */
    pthread_mutex_destroy(&r->why_lock);
    pthread_mutex_destroy(&r->sink_lock);
    free(r);
    return rc;
}

/* Records wait, and Kafka has acknowledged none of them for longer than
 * delivery.stall_timeout. */
static int stalled(struct relay *r, char *why, size_t len)
{
    struct sink_stats *st = sink_stats(r->sink);
    uint64_t pending = atomic_load(&st->in_flight);
    int64_t since = atomic_load(&st->pending_since_ms);
    int64_t ack = atomic_load(&st->last_ack_ms);
    int64_t quiet = clock_mono_ms() - (ack > since ? ack : since);
    if (pending == 0 || quiet < r->cfg->delivery.stall_timeout_ms)
        return 0;
    snprintf(why, len, "Kafka has acknowledged none of %" PRIu64 " pending "
             "records for %" PRId64 " s", pending, quiet / 1000);
    return 1;
}

#define CKPT_FAILURES_DEGRADED 3 /* saves failed in a row: /healthz 503 */

static int checkpoints_failing(struct relay *r, char *why, size_t len)
{
    int64_t run = atomic_load(&r->ckpt_failures_run) +
                  (int64_t)atomic_load(&sink_stats(r->sink)->checkpoint_failures_run);
    if (run < CKPT_FAILURES_DEGRADED)
        return 0;
    snprintf(why, len, "degraded: the last %" PRId64 " checkpoint saves "
             "failed", run);
    return 1;
}

/* What is wrong on the Kafka side while streaming; 0 when nothing. */
static int kafka_trouble(struct relay *r, char *why, size_t len)
{
    int bad = 0;
    pthread_mutex_lock(&r->sink_lock);
    if (r->sink && sink_has_failed(r->sink)) {
        snprintf(why, len, "the Kafka producer failed; the relay is stopping");
        bad = 1;
    } else if (r->sink) {
        bad = stalled(r, why, len) || checkpoints_failing(r, why, len);
    }
    pthread_mutex_unlock(&r->sink_lock);
    return bad;
}

int relay_health(struct relay *r, char *why, size_t len)
{
    int state = atomic_load(&r->state);
    if (state == ST_STANDBY) { /* healthy: ready to take over */
        pthread_mutex_lock(&r->why_lock);
        snprintf(why, len, "%s", r->why[0] ? r->why : "standby");
        pthread_mutex_unlock(&r->why_lock);
        return 0;
    }
    if ((state == ST_STREAMING || state == ST_CONNECTING) && !leading(r)) {
        snprintf(why, len, "standby: " LEASE_LOST);
        return 0; /* on its way to standing by (step_down) */
    }
    if (state == ST_STREAMING)
        return kafka_trouble(r, why, len) ? -1 : 0;
    pthread_mutex_lock(&r->why_lock);
    snprintf(why, len, "%s", r->why[0] ? r->why : "not streaming");
    pthread_mutex_unlock(&r->why_lock);
    return -1;
}
