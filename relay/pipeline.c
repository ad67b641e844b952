/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "common/metrics.h"
#include "relay/bwalk.h"
#include "relay/dlq.h"
#include "relay/mariadb_zip.h"
#include "relay/tmap.h"
#include "relay/txnid.h"

#define TMAP_SLOTS 16 /* to start with; grows with the maps a transaction uses */
#define SCRATCH_LEN 65536
/* A row's text (numbers, dates, MySQL JSON) may grow the scratch to this;
 * MySQL's own bound on a row is max_allowed_packet, at most 1 GiB. A
 * larger one stops the relay with a message naming the column. A scratch
 * grown past SCRATCH_LEN is freed after its rows event, so one large row
 * does not keep its memory. */
#define SCRATCH_MAX (1024UL * 1024 * 1024)
#define TOPIC_SERIES 32

/* Column names from the look-up (pipeline_columns_fn), when the binlog
 * has none. */
struct names {
    char **names;
    int n;
};

struct topic_series {
    char topic[OUTBOX_TOPIC_MAX + 1];
    struct mseries *events, *bytes;
};

struct pipeline {
    const struct relay_cfg *cfg;
    const struct sink_ops *ops;
    void *sink; /* ops' object */
    pipeline_columns_fn *columns; /* for table maps without names */
    void *columns_ctx;
    struct dedupe *dedupe;
    struct binlog_format fmt;
    char file[256];
    uint32_t file_created; /* its FORMAT_DESCRIPTION's time, for txnid */
    struct outbox_table *tables;
    struct names *schema_names; /* per table */
    size_t ntables;
    struct tmap maps; /* of outbox tables (tmap.h) */
    /* the open transaction */
    int in_txn, txn_begun, txn_outbox, txn_skip;
    struct sink_gtid gtid;
    struct relay_position skip; /* MySQL GTIDs delivered before the start */
    int64_t txn_ts_ms;
    uint32_t row_seq;
    char txn_name[TXNID_MAX + 1]; /* txnid.h */
    size_t txn_name_len;
    uint32_t *table_rows; /* per outbox table: INSERTs so far in the txn */
    struct outbox_cell *cells;
    size_t cells_cap;
    struct binlog_scratch scratch;
    struct binlog_scratch inflated; /* log_bin_compress's records, opened */
    /* metrics */
    struct mfamily *events_f, *bytes_f;
    struct mseries *dlq, *skipped, *unmatched;
    struct topic_series topics[TOPIC_SERIES];
};

/* A step that cannot go on, for a reason only a person can fix. */
__attribute__((format(printf, 3, 4))) static enum outcome
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return OUTCOME_FATAL;
}

/* err, with where in the binlog it happened. */
static enum outcome fail_at(const struct pipeline *p, char *err, size_t errlen,
                            uint32_t log_pos)
{
    char why[1024];
    snprintf(why, sizeof why, "%s", err);
    return fail(err, errlen, "%s at %s:%u", why, p->file, log_pos);
}

/* The sink refused a step: it failed (fatal, with its reason), or a stop
 * ended a wait for room. */
static enum outcome halted(struct pipeline *p, const atomic_int *stop,
                           char *err, size_t errlen)
{
    char why[512];
    if (!stop)
        stop = p->ops->stop_flag(p->sink);
    if (p->ops->failed(p->sink, why, sizeof why))
        return fail(err, errlen, "%s", why);
    if (stop && atomic_load(stop)) {
        snprintf(err, errlen, "stopped");
        return OUTCOME_STOP;
    }
    return fail(err, errlen, "the Kafka side refused a step without a reason");
}

/* ---- setup ------------------------------------------------------------ */

struct pipeline *pipeline_new(const struct relay_cfg *cfg,
                              const struct sink_ops *ops, void *sink,
                              struct metrics *m, char *err, size_t errlen)
{
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cfg = cfg;
    p->ops = ops;
    p->sink = sink;
    p->ntables = cfg->outbox.count;
    p->tables = calloc(p->ntables, sizeof *p->tables);
    p->schema_names = calloc(p->ntables, sizeof *p->schema_names);
    p->table_rows = calloc(p->ntables + 1, sizeof *p->table_rows);
    p->scratch = (struct binlog_scratch){malloc(SCRATCH_LEN), SCRATCH_LEN,
                                         SCRATCH_MAX};
    p->inflated = (struct binlog_scratch){NULL, 0, SCRATCH_MAX};
    if (!p->tables || !p->schema_names || !p->table_rows || !p->scratch.buf ||
        tmap_init(&p->maps, TMAP_SLOTS) < 0)
        goto fail;
    for (size_t i = 0; i < p->ntables; i++)
        if (outbox_table_compile(&p->tables[i],
                                 CFG_LIST_AT(cfg->outbox, struct relay_table_cfg, i),
                                 err, errlen) < 0)
            goto fail;
    binlog_format_default(&p->fmt);
    if (m) {
        p->events_f = metrics_family(m, METRIC_COUNTER, "outbox_events_total",
                                     "Outbox events produced, by topic.", "topic");
        p->bytes_f = metrics_family(m, METRIC_COUNTER, "outbox_bytes_total",
                                    "Value bytes produced, by topic.", "topic");
        p->dlq = metrics_series(metrics_family(m, METRIC_COUNTER,
            "outbox_dead_letters_total", "Rows sent to the dead-letter topic.",
            NULL), NULL);
        p->skipped = metrics_series(metrics_family(m, METRIC_COUNTER,
            "outbox_replayed_skipped_total",
            "Replayed events already in Kafka (exactly_once).", NULL), NULL);
        p->unmatched = metrics_series(metrics_family(m, METRIC_COUNTER,
            "outbox_replayed_unmatched_total",
            "Rows this relay landed after its checkpoint whose transactions "
            "the source did not replay (exactly_once).", NULL), NULL);
    }
    return p;
fail:
    pipeline_free(p);
    return NULL;
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    tmap_free(&p->maps);
    for (size_t i = 0; p->tables && i < p->ntables; i++)
        outbox_table_free(&p->tables[i]);
    for (size_t i = 0; p->schema_names && i < p->ntables; i++)
        free(p->schema_names[i].names);
    free(p->schema_names);
    free(p->table_rows);
    free(p->tables);
    free(p->cells);
    pos_free(&p->skip);
    binlog_scratch_free(&p->scratch);
    binlog_scratch_free(&p->inflated);
    free(p);
}

static void set_file(struct pipeline *p, const char *file, size_t len)
{
    snprintf(p->file, sizeof p->file, "%.*s", (int)len, file);
    p->file_created = 0; /* until its FORMAT_DESCRIPTION */
}

void pipeline_reset(struct pipeline *p, int checksum_len, const char *file,
                    pipeline_columns_fn *columns, void *columns_ctx,
                    struct dedupe *dedupe)
{
    binlog_format_default(&p->fmt);
    p->fmt.checksum_len = checksum_len;
    set_file(p, file ? file : "", file ? strlen(file) : 0);
    p->columns = columns;
    p->columns_ctx = columns_ctx;
    p->dedupe = dedupe;
    if (p->in_txn) /* cut by the lost connection: the new one repeats it */
        p->ops->txn_abandon(p->sink);
    p->in_txn = p->txn_begun = p->txn_outbox = 0;
    tmap_clear(&p->maps);
}

int pipeline_skip_gtids(struct pipeline *p, const struct relay_position *set)
{
    pos_free(&p->skip);
    return pos_copy(&p->skip, set);
}



const struct outbox_table *pipeline_tables(const struct pipeline *p, size_t *n)
{
    *n = p->ntables;
    return p->tables;
}

/* ---- transactions ----------------------------------------------------- */

static int txn_begin(struct pipeline *p, const struct binlog_header *h,
                     const atomic_int *stop)
{
    if (p->ops->txn_begin(p->sink, stop) < 0)
        return -1;
    p->in_txn = 1;
    p->txn_begun = 0;
    p->txn_outbox = 0;
    p->txn_skip = 0;
    p->row_seq = 0;
    memset(p->table_rows, 0, p->ntables * sizeof *p->table_rows);
    p->txn_ts_ms = (int64_t)h->timestamp * 1000;
    memset(&p->gtid, 0, sizeof p->gtid);
    /* Named by where it starts until a GTID names it (txnid.h). */
    int n = txnid_by_position(p->txn_name, sizeof p->txn_name, p->file,
                              h->log_pos, p->file_created);
    p->txn_name_len = n > 0 ? (size_t)n : 0;
    return 0;
}

static int txn_end(struct pipeline *p, const struct binlog_header *h)
{
    p->in_txn = 0;
    return p->ops->txn_end(p->sink, h->log_pos, p->gtid.kind ? &p->gtid : NULL);
}

static int on_gtid(struct pipeline *p, const struct binlog_header *h,
                   const uint8_t *body, size_t len, const atomic_int *stop,
                   char *err, size_t errlen)
{
    struct binlog_gtid g;
    if (binlog_parse_gtid(h, body, len, h->server_id, &g, err, errlen) < 0)
        return -1;
    if (p->in_txn && txn_end(p, h) < 0) /* an unterminated one: close it */
        return -1;
    if (txn_begin(p, h, stop) < 0)
        return -1;
    if (h->type != BL_MYSQL_ANONYMOUS_GTID) {
        int n = binlog_gtid_text(&g, p->txn_name, sizeof p->txn_name);
        p->txn_name_len = n > 0 ? (size_t)n : 0;
    }
    if (h->type == BL_MARIA_GTID) {
        p->gtid = (struct sink_gtid){.kind = POS_GTID_MARIADB,
                                     .domain = g.domain, .server = g.server,
                                     .seq = g.seq};
        p->txn_begun = !g.standalone; /* a standalone one is one statement */
    } else if (h->type == BL_MYSQL_GTID || h->type == BL_MYSQL_GTID_TAGGED) {
        p->gtid = (struct sink_gtid){.kind = POS_GTID_MYSQL, .seq = g.seq};
        memcpy(p->gtid.uuid, g.uuid, 16);
        memcpy(p->gtid.tag, g.tag, sizeof p->gtid.tag);
        p->txn_skip = pos_mysql_contains(&p->skip, g.uuid, g.tag, g.seq);
    }
    if (g.commit_us)
        p->txn_ts_ms = g.commit_us / 1000;
    return 0;
}

static int starts_with(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && strncasecmp(s, word, n) == 0 &&
           (len == n || s[n] == ' ' || s[n] == '\t' || s[n] == '\n');
}

/* DDL on an outbox table: its column names must be read again. */
static void note_ddl(struct pipeline *p, const struct binlog_query *q)
{
    for (size_t i = 0; i < p->ntables; i++) {
        const char *name = p->tables[i].name;
        if (!memmem(q->sql, q->sql_len, name, strlen(name)))
            continue;
        free(p->schema_names[i].names);
        p->schema_names[i] = (struct names){NULL, 0};
        tmap_forget_table(&p->maps, (int)i);
    }
}

static int on_query(struct pipeline *p, const struct binlog_header *h,
                    const uint8_t *body, size_t len, const atomic_int *stop,
                    char *err, size_t errlen)
{
    struct binlog_query q;
    size_t n;
    if (binlog_parse_query(&p->fmt, body, len, &q, err, errlen) < 0)
        return -1;
    if (h->type == BL_MARIA_QUERY_COMPRESSED) {
        if (mzip_inflate((const uint8_t *)q.sql, q.sql_len, &p->inflated, &n,
                         err, errlen) < 0)
            return -1;
        q.sql = p->inflated.buf;
        q.sql_len = n;
    }
    if (starts_with(q.sql, q.sql_len, "BEGIN")) {
        if (!p->in_txn && txn_begin(p, h, stop) < 0)
            return -1;
        p->txn_begun = 1;
        return 0;
    }
    if (starts_with(q.sql, q.sql_len, "COMMIT") ||
        starts_with(q.sql, q.sql_len, "ROLLBACK"))
        return p->in_txn ? txn_end(p, h) : 0;
    note_ddl(p, &q);
    if (p->in_txn && p->txn_begun)
        return 0; /* a statement inside BEGIN ... COMMIT */
    if (!p->in_txn && txn_begin(p, h, stop) < 0)
        return -1;
    return txn_end(p, h); /* a statement that is its own transaction */
}

/* ---- table maps ------------------------------------------------------- */

static int find_outbox(const struct pipeline *p, const struct binlog_table_id *id)
{
    for (size_t i = 0; i < p->ntables; i++)
        if (!strcmp(p->tables[i].db, id->db) &&
            !strcmp(p->tables[i].name, id->table))
            return (int)i;
    return -1;
}

/* Names of the columns: from the binlog, else the column look-up. */
static int column_names(struct pipeline *p, int t, struct binlog_table *map,
                        const char **names, char *err, size_t errlen)
{
    if (map->has_names) {
        for (size_t i = 0; i < map->ncols; i++)
            names[i] = map->cols[i].name;
        return 0;
    }
    struct names *n = &p->schema_names[t];
    if (n->names && (size_t)n->n != map->ncols) {
        free(n->names); /* the table changed since we read it */
        n->names = NULL;
    }
    if (!n->names) {
        if (!p->columns) {
            snprintf(err, errlen, "no column names for the table");
            return -1;
        }
        n->n = p->columns(p->columns_ctx, p->tables[t].db, p->tables[t].name,
                          &n->names, err, errlen);
        if (n->n < 0) {
            n->names = NULL;
            return -1;
        }
    }
    if ((size_t)n->n != map->ncols) {
        snprintf(err, errlen, "%s has %d columns in information_schema but "
                 "%zu in the binlog; set binlog_row_metadata=FULL",
                 p->cfg->outbox.count ? p->tables[t].cfg->table : "", n->n,
                 map->ncols);
        return -1;
    }
    for (size_t i = 0; i < map->ncols; i++)
        names[i] = n->names[i];
    return 0;
}

static enum outcome on_table_map(struct pipeline *p, const uint8_t *body, size_t len,
                        char *err, size_t errlen)
{
    struct binlog_table_id id;
    if (binlog_parse_table_id(&p->fmt, body, len, &id, err, errlen) < 0)
        return OUTCOME_FATAL; /* err says why */
    int t = find_outbox(p, &id);
    if (t >= 0 && !p->txn_outbox)
        tmap_txn(&p->maps); /* its first outbox map: older maps are not in use */
    if (t >= 0 && tmap_reuse(&p->maps, id.table_id, body, len)) {
        p->txn_outbox = 1; /* the same map as before: decoded already */
        return 0;
    }
    struct tmap_entry *old = tmap_find(&p->maps, id.table_id);
    if (old)
        tmap_forget(old); /* table ids are reused after a flush */
    if (t < 0)
        return 0; /* not an outbox table: its rows will be skipped */
    p->txn_outbox = 1;
    struct tmap_entry *s = tmap_claim(&p->maps);
    if (!s)
        return fail(err, errlen, "out of memory for a table map");
    if (binlog_parse_table(&p->fmt, body, len, &s->map, err, errlen) < 0)
        return OUTCOME_FATAL; /* err says why */
    const char **names = calloc(s->map.ncols, sizeof *names);
    if (!names || column_names(p, t, &s->map, names, err, errlen) < 0 ||
        outbox_layout_resolve(&p->tables[t], names, s->map.ncols, &s->layout,
                              err, errlen) < 0) {
        free(names);
        tmap_forget(s);
        return OUTCOME_FATAL; /* err says why */
    }
    free(names);
    tmap_bind(s, id.table_id, t);
    if (tmap_remember(s, body, len) < 0)
        return fail(err, errlen, "out of memory for a table map");
    if (s->map.ncols > p->cells_cap) {
        free(p->cells);
        p->cells_cap = s->map.ncols;
        if (!(p->cells = calloc(p->cells_cap, sizeof *p->cells)))
            return fail(err, errlen, "out of memory");
    }
    return 0;
}

/* ---- rows ------------------------------------------------------------- */

static struct topic_series *series_for(struct pipeline *p, const char *topic)
{
    int free_slot = -1;
    for (int i = 0; i < TOPIC_SERIES; i++) {
        if (!p->topics[i].topic[0]) {
            free_slot = free_slot < 0 ? i : free_slot;
            continue;
        }
        if (!strcmp(p->topics[i].topic, topic))
            return &p->topics[i];
    }
    if (free_slot < 0 || !p->events_f)
        return NULL; /* more topics than slots: not counted per topic */
    struct topic_series *ts = &p->topics[free_slot];
    snprintf(ts->topic, sizeof ts->topic, "%s", topic);
    ts->events = metrics_series(p->events_f, topic);
    ts->bytes = metrics_series(p->bytes_f, topic);
    return ts;
}

/* A replayed row that already landed (exactly_once): skipped, and where
 * it lies counts for the checkpoint's Kafka offsets. */
static int already_landed(struct pipeline *p, const char *row, size_t len)
{
    struct dedupe_hit hit;
    if (!dedupe_pending(p->dedupe) || !dedupe_take(p->dedupe, row, len, &hit))
        return 0;
    p->ops->note_landed(p->sink, hit.topic, hit.partition, hit.offset);
    mseries_add(p->skipped, 1);
    return 1;
}

static int emit_row(struct pipeline *p, struct tmap_entry *s,
                    const struct binlog_header *h, const atomic_int *stop)
{
    char topic[OUTBOX_TOPIC_MAX + 1], why[512], pos[300], row[TXNID_ROW_MAX];
    struct sink_header hdrs[OUTBOX_MAX_HEADERS];
    struct sink_record rec = {0};
    const char *type = NULL;
    enum outbox_verdict v = outbox_map_row(&p->tables[s->outbox], &s->layout,
                                           p->cells, topic, hdrs, &rec, &type,
                                           why, sizeof why);
    opos_format(pos, sizeof pos, p->file, h->log_pos, p->row_seq++);
    int rlen = txnid_row(row, sizeof row, p->txn_name, p->txn_name_len,
                         p->table_rows[s->outbox]++,
                         p->tables[s->outbox].cfg->table);
    rec.position = pos;
    rec.row = rlen > 0 ? row : NULL;
    rec.row_len = rlen > 0 ? (size_t)rlen : 0;
    rec.timestamp_ms = p->txn_ts_ms;
    if (rec.row && already_landed(p, rec.row, rec.row_len))
        return 0;
    if (v != OUTBOX_OK) {
        dlq_row_key(&rec); /* a stable key, so a replay finds its partition */
        mseries_add(p->dlq, 1);
        return p->ops->dead_letter(p->sink, &rec, type, why, stop);
    }
    struct topic_series *ts = series_for(p, topic);
    if (ts) {
        mseries_add(ts->events, 1);
        mseries_add(ts->bytes, (int64_t)rec.value_len);
    }
    return p->ops->produce(p->sink, &rec, stop);
}

static enum outcome on_rows(struct pipeline *p, const struct binlog_header *h,
                   const uint8_t *body, size_t len, const atomic_int *stop,
                   char *err, size_t errlen)
{
    struct binlog_rows r;
    struct binlog_header plain = *h; /* log_bin_compress: the layout's type */
    plain.type = (uint8_t)mzip_plain_type(h->type);
    if (binlog_parse_rows(&plain, &p->fmt, body, len, &r, err, errlen) < 0)
        return OUTCOME_FATAL; /* err says why */
    struct tmap_entry *s = tmap_find(&p->maps, r.table_id);
    if (!s || r.kind != 'w' || p->txn_skip)
        return 0; /* another table, an UPDATE/DELETE, or delivered before */
    if (mzip_open_rows(h, &r, &p->inflated, err, errlen) < 0)
        return fail_at(p, err, errlen, h->log_pos);
    if (!p->in_txn && txn_begin(p, h, stop) < 0)
        return halted(p, stop, err, errlen);
    int got;
    while ((got = binlog_next_row_grow(&r, &s->map, p->cells, &p->scratch,
                                       err, errlen)) == 1)
        if (emit_row(p, s, h, stop) < 0)
            return halted(p, stop, err, errlen);
    if (p->scratch.cap > SCRATCH_LEN)
        binlog_scratch_free(&p->scratch); /* regrows on the next row */
    if (p->inflated.cap > SCRATCH_LEN)
        binlog_scratch_free(&p->inflated);
    return got < 0 ? OUTCOME_FATAL : OUTCOME_OK; /* err says why */
}

/* ---- compressed transactions (MySQL 8.0.20+) --------------------------- */

static enum outcome on_payload(struct pipeline *p, const struct binlog_header *outer,
                      const uint8_t *body, size_t len, const atomic_int *stop,
                      char *err, size_t errlen);

/* ---- dispatch --------------------------------------------------------- */

/* The source is idle: it has sent every transaction it has, so rows of
 * ours still unmatched belong to transactions it does not have (a
 * failover to a server that lacks them). They are left in Kafka as they
 * are; the check ends. */
static void replay_done(struct pipeline *p)
{
    size_t left = dedupe_pending(p->dedupe);
    if (left > 0) {
        log_warn("dedupe", "%zu rows this relay landed after its checkpoint "
                 "belong to transactions this server does not have (a "
                 "failover to a server without them?); they stay in Kafka",
                 left);
        mseries_add(p->unmatched, (int64_t)left);
    }
    p->dedupe = NULL;
}

static enum outcome dispatch(struct pipeline *p, const struct binlog_header *h,
                    const uint8_t *body, size_t len, const atomic_int *stop,
                    char *err, size_t errlen)
{
    int rc = 0;
    switch (h->type) {
    case BL_MARIA_GTID: case BL_MYSQL_GTID: case BL_MYSQL_ANONYMOUS_GTID:
    case BL_MYSQL_GTID_TAGGED:
        rc = on_gtid(p, h, body, len, stop, err, errlen);
        break;
    case BL_QUERY: case BL_MARIA_QUERY_COMPRESSED:
        rc = on_query(p, h, body, len, stop, err, errlen);
        break;
    case BL_XID:
        rc = p->in_txn ? txn_end(p, h) : 0;
        break;
    case BL_TABLE_MAP:
        return on_table_map(p, body, len, err, errlen);
    case BL_WRITE_ROWS_V1: case BL_UPDATE_ROWS_V1: case BL_DELETE_ROWS_V1:
    case BL_WRITE_ROWS: case BL_UPDATE_ROWS: case BL_DELETE_ROWS:
    case BL_MARIA_WRITE_ROWS_COMPRESSED_V1: case BL_MARIA_UPDATE_ROWS_COMPRESSED_V1:
    case BL_MARIA_DELETE_ROWS_COMPRESSED_V1: case BL_MARIA_WRITE_ROWS_COMPRESSED:
    case BL_MARIA_UPDATE_ROWS_COMPRESSED: case BL_MARIA_DELETE_ROWS_COMPRESSED:
        return on_rows(p, h, body, len, stop, err, errlen);
    case BL_TRANSACTION_PAYLOAD:
        return on_payload(p, h, body, len, stop, err, errlen);
    case BL_HEARTBEAT:
        /* Its body names the file; its log_pos is where the source is. */
        if (!p->in_txn && h->log_pos && len == strlen(p->file) &&
            memcmp(body, p->file, len) == 0)
            p->ops->idle_offset(p->sink, h->log_pos);
        if (!p->in_txn)
            replay_done(p);
        return 0;
    case BL_ROTATE: case BL_FORMAT_DESCRIPTION:
    case BL_HEARTBEAT_V2: case BL_STOP: case BL_ROWS_QUERY:
    case BL_MYSQL_PREVIOUS_GTIDS: case BL_PARTIAL_UPDATE_ROWS:
    case BL_MARIA_ANNOTATE_ROWS: case BL_MARIA_BINLOG_CHECKPOINT:
    case BL_MARIA_GTID_LIST: case BL_MARIA_START_ENCRYPTION:
        return 0; /* handled by the caller, or nothing to do */
    default:
        if (p->txn_outbox)
            return fail(err, errlen,
                        "binlog event type %u (%s) in a transaction of an "
                        "outbox table at %s:%u cannot be decoded; nothing "
                        "was skipped: the relay stops here", h->type,
                        binlog_type_name(h->type), p->file, h->log_pos);
        log_debug("binlog", "skipping event type %u at %s:%u", h->type,
                  p->file, h->log_pos);
        return 0;
    }
    if (rc < 0) {
        char why[512];
        int failed = p->ops->failed(p->sink, why, sizeof why);
        if (failed)
            return fail(err, errlen, "%s", why);
        if (stop && atomic_load(stop))
            return halted(p, stop, err, errlen);
        return OUTCOME_FATAL; /* err says why */
    }
    return 0;
}

/* ROTATE and FORMAT_DESCRIPTION change how later events are read. */
static enum outcome on_stream_event(struct pipeline *p, const struct binlog_header *h,
                           const uint8_t *ev, size_t len, const uint8_t *body,
                           size_t blen, char *err, size_t errlen)
{
    if (h->type == BL_FORMAT_DESCRIPTION) {
        if (binlog_parse_fde(ev, len, &p->fmt, err, errlen) < 0)
            return OUTCOME_FATAL; /* err says why */
        p->file_created = h->timestamp; /* names transactions (txnid.h) */
        return 0;
    }
    struct binlog_rotate r;
    if (binlog_parse_rotate(body, blen, &r, err, errlen) < 0)
        return OUTCOME_FATAL; /* err says why */
    set_file(p, r.file, r.file_len);
    if (p->ops->rotate(p->sink, p->file, r.position) < 0)
        return halted(p, NULL, err, errlen);
    log_debug("binlog", "now in %s at %" PRIu64, p->file, r.position);
    return 0;
}

static enum outcome event(struct pipeline *p, const uint8_t *ev, size_t len,
                 int inner, const atomic_int *stop, char *err,
                 size_t errlen)
{
    struct binlog_header h;
    const uint8_t *body;
    size_t blen;
    if (binlog_parse_header(ev, len, &h, err, errlen) < 0)
        return OUTCOME_FATAL; /* err says why */
    if (h.type == BL_FORMAT_DESCRIPTION && !inner)
        return on_stream_event(p, &h, ev, len, NULL, 0, err, errlen);
    struct binlog_format plain = p->fmt;
    plain.checksum_len = 0; /* events inside a payload carry no CRC */
    if (binlog_body(inner ? &plain : &p->fmt, ev, h.size, 1, &body, &blen,
                    err, errlen) < 0)
        return OUTCOME_FATAL; /* err says why */
    if (h.type == BL_ROTATE)
        return on_stream_event(p, &h, ev, len, body, blen, err, errlen);
    return dispatch(p, &h, body, blen, stop, err, errlen);
}

enum outcome pipeline_event(struct pipeline *p, const uint8_t *ev, size_t len,
                            const atomic_int *stop, char *err, size_t errlen)
{
    return event(p, ev, len, 0, stop, err, errlen);
}

/* MySQL 8 compressed transactions: the inner events, without checksums,
 * end where the payload event ends. */
static enum outcome on_payload(struct pipeline *p, const struct binlog_header *outer,
                      const uint8_t *body, size_t len, const atomic_int *stop,
                      char *err, size_t errlen)
{
    uint8_t *buf;
    size_t got;
    if (binlog_payload_expand(body, len, &buf, &got, err, errlen) < 0)
        return fail_at(p, err, errlen, outer->log_pos);
    enum outcome rc = OUTCOME_OK;
    struct bwalk w;
    const uint8_t *ev;
    size_t evlen;
    int more = 0;
    bwalk_init(&w, buf, got, 0);
    while (rc == OUTCOME_OK &&
           (more = bwalk_next(&w, &ev, &evlen, err, errlen)) == 1) {
        /* inner events say 0: they end where the payload event ends */
        binlog_set_log_pos(buf + w.at, outer->log_pos);
        rc = event(p, ev, evlen, 1, stop, err, errlen);
    }
    if (rc == OUTCOME_OK && more < 0)
        rc = OUTCOME_FATAL; /* err says why */
    free(buf);
    return rc;
}
