/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline alone, with a fake sink (struct sink_ops) that writes down
 * every call, and a column look-up of the test's own: no Kafka, no
 * server. It is fed real binlog files written by MySQL 8.0.22 to 8.4
 * (../shared/fixtures/mysql8) and events built by hand (binlog_build.h),
 * and the test checks what the sink receives: the records, the dead
 * letters, and the positions it is told to commit, transaction by
 * transaction.
 *
 * The fake acknowledges every record at once, so its committed position
 * is the last transaction end (or rotation) it was given; what the real
 * sink does with acknowledgements is test_sink's and test_pipeline's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg.h"
#include "config/cfg_relay.h"
#include "relay/bwalk.h"
#include "relay/pipeline.h"
#include "relay/sink.h"
#include "tests/unit/binlog_build.h"

#define MAX_RECS 64
#define MAX_ENDS 64

/* ---- the fake sink ---------------------------------------------------- */

/* One record or dead letter, copied out of the pipeline's buffers. */
struct got {
    int dead; /* 0: a record; 1: a dead letter */
    int txn;  /* the transaction (begin count) it came in */
    char topic[256], key[256], value[1024], headers[512];
    int key_null, value_null;
    char position[300], row[300];
    char error_type[64], error_message[256];
};

struct end {
    int txn;
    uint64_t offset;
    int has_gtid;
    struct sink_gtid gtid;
};

struct fake {
    int open, begun; /* a transaction is open; how many were begun */
    struct got recs[MAX_RECS];
    int nrecs;
    struct end ends[MAX_ENDS];
    int nends, abandoned, rotations, misuse;
    char misuse_why[256];
    char file[256]; /* committed position: file and offset */
    uint64_t offset;
    int fail_at; /* produce number (from 1) that fails the sink; 0: none */
    int stop_at_begin; /* txn_begin number that finds the stop set */
    /* The relay's stop flag: the relay passes it to pipeline_event and
     * gives it to the sink (sink_set_stop); this one stands for both. */
    atomic_int stop;
    int failed;
    char err[256];
};

static void misuse(struct fake *f, const char *what)
{
    if (!f->misuse++)
        snprintf(f->misuse_why, sizeof f->misuse_why, "%s", what);
}

static int fk_txn_begin(void *s, const atomic_int *stop)
{
    struct fake *f = s;
    (void)stop;
    if (f->failed)
        return -1;
    if (f->open)
        misuse(f, "txn_begin with a transaction open");
    if (f->stop_at_begin && f->begun + 1 == f->stop_at_begin) {
        atomic_store(&f->stop, 1); /* a stop came while waiting for room */
        return -1;
    }
    f->open = 1;
    f->begun++;
    return 0;
}

static void copy_bytes(char *dst, size_t cap, const void *src, size_t len,
                       int *is_null)
{
    if (is_null)
        *is_null = src == NULL;
    snprintf(dst, cap, "%.*s", (int)len, src ? (const char *)src : "");
}

static struct got *take(struct fake *f, const struct sink_record *r, int dead)
{
    if (!f->open)
        misuse(f, dead ? "dead letter outside a transaction"
                       : "record outside a transaction");
    if (f->nrecs == MAX_RECS) {
        misuse(f, "too many records");
        return NULL;
    }
    struct got *g = &f->recs[f->nrecs++];
    memset(g, 0, sizeof *g);
    g->dead = dead;
    g->txn = f->begun;
    snprintf(g->topic, sizeof g->topic, "%s", r->topic ? r->topic : "");
    copy_bytes(g->key, sizeof g->key, r->key, r->key_len, &g->key_null);
    copy_bytes(g->value, sizeof g->value, r->value, r->value_len,
               &g->value_null);
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders && n < sizeof g->headers; i++)
        n += (size_t)snprintf(g->headers + n, sizeof g->headers - n, "%s%s=%.*s",
                              i ? ";" : "", r->headers[i].name,
                              (int)r->headers[i].len,
                              r->headers[i].value ? (const char *)r->headers[i].value
                                                  : "(null)");
    snprintf(g->position, sizeof g->position, "%s", r->position ? r->position : "");
    copy_bytes(g->row, sizeof g->row, r->row, r->row_len, NULL);
    return g;
}

static int fk_produce(void *s, const struct sink_record *r,
                      const atomic_int *stop)
{
    struct fake *f = s;
    (void)stop;
    if (f->failed)
        return -1;
    struct got *g = take(f, r, 0);
    if (g && f->fail_at && f->nrecs == f->fail_at) {
        f->failed = 1;
        snprintf(f->err, sizeof f->err, "fake: %.200s refused for good", g->topic);
        return -1;
    }
    return 0;
}

static int fk_txn_end(void *s, uint64_t next_offset,
                      const struct sink_gtid *gtid)
{
    struct fake *f = s;
    if (!f->open)
        misuse(f, "txn_end without a transaction");
    f->open = 0;
    if (f->nends == MAX_ENDS) {
        misuse(f, "too many transactions");
        return -1;
    }
    struct end *e = &f->ends[f->nends++];
    *e = (struct end){.txn = f->begun, .offset = next_offset,
                      .has_gtid = gtid != NULL};
    if (gtid)
        e->gtid = *gtid;
    f->offset = next_offset; /* acknowledged at once: committed */
    return f->failed ? -1 : 0;
}

static void fk_txn_abandon(void *s)
{
    struct fake *f = s;
    if (f->open)
        f->abandoned++;
    f->open = 0;
}

static int fk_rotate(void *s, const char *file, uint64_t offset)
{
    struct fake *f = s;
    if (f->open)
        misuse(f, "rotate inside a transaction");
    snprintf(f->file, sizeof f->file, "%s", file);
    f->offset = offset;
    f->rotations++;
    return 0;
}

static void fk_idle_offset(void *s, uint64_t offset)
{
    struct fake *f = s;
    if (!f->open && offset > f->offset)
        f->offset = offset;
}

static int fk_dead_letter(void *s, const struct sink_record *r,
                          const char *error_type, const char *error_message,
                          const atomic_int *stop)
{
    struct fake *f = s;
    (void)stop;
    if (f->failed)
        return -1;
    struct got *g = take(f, r, 1);
    if (g) {
        snprintf(g->error_type, sizeof g->error_type, "%s", error_type);
        snprintf(g->error_message, sizeof g->error_message, "%s", error_message);
    }
    return 0;
}

static void fk_note_landed(void *s, const char *topic, int32_t partition,
                           int64_t offset)
{
    (void)topic, (void)partition, (void)offset;
    misuse(s, "note_landed without a dedupe");
}

static int fk_failed(const void *s, char *err, size_t errlen)
{
    const struct fake *f = s;
    if (f->failed && err)
        snprintf(err, errlen, "%s", f->err);
    return f->failed;
}

static const atomic_int *fk_stop_flag(const void *s)
{
    return &((const struct fake *)s)->stop;
}

static const struct sink_ops FAKE_OPS = {
    .txn_begin = fk_txn_begin,
    .produce = fk_produce,
    .txn_end = fk_txn_end,
    .txn_abandon = fk_txn_abandon,
    .rotate = fk_rotate,
    .idle_offset = fk_idle_offset,
    .dead_letter = fk_dead_letter,
    .note_landed = fk_note_landed,
    .failed = fk_failed,
    .stop_flag = fk_stop_flag,
};

/* ---- the column look-up ----------------------------------------------- */

struct columns {
    const char *const *names; /* NULL-terminated */
    int calls;
    char last[140]; /* "db.table" of the last call */
};

static int lookup(void *ctx, const char *db, const char *table,
                  char ***names, char *err, size_t errlen)
{
    struct columns *c = ctx;
    size_t n = 0, bytes = 0;
    c->calls++;
    snprintf(c->last, sizeof c->last, "%s.%s", db, table);
    if (!c->names) {
        snprintf(err, errlen, "fake: no such table %s.%s", db, table);
        return -1;
    }
    while (c->names[n])
        bytes += strlen(c->names[n++]) + 1;
    /* one allocation, as the contract says: the pipeline frees *names */
    char **out = malloc((n + 1) * sizeof *out + bytes);
    assert_non_null(out);
    char *p = (char *)(out + n + 1);
    for (size_t i = 0; i < n; i++) {
        out[i] = strcpy(p, c->names[i]);
        p += strlen(p) + 1;
    }
    out[n] = NULL;
    *names = out;
    return (int)n;
}

/* ---- set-up ----------------------------------------------------------- */

struct run {
    struct relay_cfg cfg;
    struct fake sink;
    struct columns cols;
    struct pipeline *p;
    const char *file;
};

/* `outbox` is the YAML of the outbox list. */
static void start(struct run *r, const char *outbox, const char *file,
                  int checksum_len)
{
    char yaml[2048], err[512];
    memset(r, 0, sizeof *r);
    snprintf(yaml, sizeof yaml, "name: unit\nsource:\n  host: 127.0.0.1\n"
             "  user: u\n  server_id: 9\noutbox:\n%s"
             "kafka:\n  brokers: \"127.0.0.1:9\"\n", outbox);
    if (cfg_load_string(&relay_cfg_schema, "unit.yaml", yaml, strlen(yaml),
                        &r->cfg, err, sizeof err) != 0)
        fail_msg("%s", err);
    r->p = pipeline_new(&r->cfg, &FAKE_OPS, &r->sink, NULL, err, sizeof err);
    if (!r->p)
        fail_msg("%s", err);
    r->file = file;
    snprintf(r->sink.file, sizeof r->sink.file, "%s", file);
    r->sink.offset = 4;
    pipeline_reset(r->p, checksum_len, file, lookup, &r->cols, NULL);
}

static void finish(struct run *r)
{
    pipeline_free(r->p);
    cfg_free(&relay_cfg_schema, &r->cfg);
}

static void expect_no_misuse(const struct run *r)
{
    if (r->sink.misuse)
        fail_msg("the pipeline misused the sink %d times, first: %s",
                 r->sink.misuse, r->sink.misuse_why);
}

/* ---- real files ------------------------------------------------------- */

static uint8_t *fixture(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/mysql8/%s",
             getenv("OUTBOX_SHARED_DIR"), name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    static uint8_t buf[1 << 16];
    *len = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    assert_true(*len > 4 && *len < sizeof buf);
    assert_memory_equal(buf, "\xfe" "bin", 4);
    return buf;
}

/* Feeds every event of the file, as the server would stream it. */
static void feed_file(struct run *r, const char *name)
{
    size_t len;
    uint8_t *b = fixture(name, &len);
    char err[512];
    struct bwalk w;
    const uint8_t *ev;
    size_t evlen;
    int more;
    bwalk_init(&w, b, len, 4);
    while ((more = bwalk_next(&w, &ev, &evlen, err, sizeof err)) == 1)
        if (pipeline_event(r->p, ev, evlen, &r->sink.stop, err, sizeof err) !=
            OUTCOME_OK)
            fail_msg("%s at %zu: %s", name, w.at, err);
    if (more < 0)
        fail_msg("%s at %zu: %s", name, w.at, err);
}

static void expect_ends(const struct run *r, const uint64_t *offsets, int n)
{
    for (int i = 0; i < n && i < r->sink.nends; i++)
        if (r->sink.ends[i].offset != offsets[i])
            fail_msg("transaction %d told to commit at %" PRIu64 ", not at "
                     "%" PRIu64 " (the end of its last event)", i + 1,
                     r->sink.ends[i].offset, offsets[i]);
    assert_int_equal(r->sink.nends, n);
}

/* The transaction end a record was committed with. */
static uint64_t end_of(const struct run *r, const struct got *g)
{
    for (int i = 0; i < r->sink.nends; i++)
        if (r->sink.ends[i].txn == g->txn)
            return r->sink.ends[i].offset;
    fail_msg("the transaction of %s never ended", g->position);
    return 0;
}

/* Each record's row name is its own: the dedupe of exactly_once finds a
 * replayed row by it. */
static void expect_rows_distinct(const struct run *r)
{
    for (int i = 0; i < r->sink.nrecs; i++) {
        assert_true(r->sink.recs[i].row[0] != '\0');
        for (int k = 0; k < i; k++)
            if (!strcmp(r->sink.recs[i].row, r->sink.recs[k].row))
                fail_msg("records %d and %d share the row name %s", k, i,
                         r->sink.recs[i].row);
    }
}

#define F03 "03_rmc_mysql-8.0.22_json.binlog.000001"

/* MySQL 8.0.22, MINIMAL row metadata (names from the look-up), anonymous
 * GTIDs, mysql.t(id, json_col, name, age): six INSERTs in four
 * transactions, then an UPDATE and a partial JSON update. With
 * max_payload 43, Pete's document (44 bytes; Joe's and Sue's are 43)
 * makes his two rows dead letters, without their value. The offsets are
 * where the file's events end (as mysqlbinlog's "end_log_pos" shows). */
static void test_mysql_json_file(void **state)
{
    (void)state;
    static const char *const names[] = {"id", "json_col", "name", "age", NULL};
    /* ALTER USER, CREATE TABLE, four INSERT transactions, UPDATE, partial
     * update: each ends at its XID or is its own statement. */
    static const uint64_t ends[] = {491, 845, 1195, 1545, 1897, 2389, 3527, 4011};
    static const struct {
        int dead;
        const char *key, *id, *position;
        uint64_t end;
    } want[] = {
        {0, "Joe", "1", F03 ":1164:0", 1195},
        {0, "Sue", "2", F03 ":1514:0", 1545},
        {1, "Pete", "3", F03 ":1866:0", 1897},
        {0, "Joe", "4", F03 ":2358:0", 2389},
        {0, "Sue", "5", F03 ":2358:1", 2389},
        {1, "Pete", "6", F03 ":2358:2", 2389},
    };
    struct run r;
    start(&r, "  - table: mysql.t\n    topic: \"outbox.event.${name}\"\n"
              "    key_column: name\n    value_column: json_col\n"
              "    headers:\n      id: id\n    max_payload: 43\n", F03, 4);
    r.cols.names = names;
    feed_file(&r, F03);
    expect_no_misuse(&r);
    assert_true(r.cols.calls >= 1);
    assert_string_equal(r.cols.last, "mysql.t");
    assert_int_equal(r.sink.nrecs, 6);
    for (int i = 0; i < 6; i++) {
        const struct got *g = &r.sink.recs[i];
        char hdr[32];
        snprintf(hdr, sizeof hdr, "id=%s", want[i].id);
        if (g->dead != want[i].dead)
            fail_msg("row %s: %s, expected %s", want[i].id,
                     g->dead ? "a dead letter" : "a record",
                     want[i].dead ? "a dead letter" : "a record");
        assert_string_equal(g->key, want[i].key);
        assert_string_equal(g->headers, hdr);
        assert_string_equal(g->position, want[i].position);
        if (end_of(&r, g) != want[i].end)
            fail_msg("row %s committed with the transaction ending at %" PRIu64
                     ", not %" PRIu64, want[i].id, end_of(&r, g), want[i].end);
        if (g->dead) {
            assert_string_equal(g->error_type, "payload-too-large");
            assert_non_null(strstr(g->error_message, "max_payload 43"));
            assert_true(g->value_null); /* too large for the DLQ too */
        } else {
            char topic[64];
            snprintf(topic, sizeof topic, "outbox.event.%s", want[i].key);
            assert_string_equal(g->topic, topic);
            assert_int_equal(strlen(g->value), 43);
            assert_non_null(strstr(g->value, want[i].key));
        }
    }
    expect_ends(&r, ends, 8);
    for (int i = 0; i < r.sink.nends; i++)
        assert_false(r.sink.ends[i].has_gtid); /* anonymous */
    expect_rows_distinct(&r);
    assert_string_equal(r.sink.file, F03);
    assert_int_equal(r.sink.offset, 4011);
    finish(&r);
}

#define F08 "08_percona-operator_ps-8.4.10_gtid_binlog.000003"

/* Percona Server 8.4: GTID ca3ce93b-9bea-11f1-b808-e608fdb6e3c5:3 writes
 * rows 1, 2, 3 of t.a in one event; ROTATE to the next file ends it. */
static void test_mysql_gtid_file(void **state)
{
    (void)state;
    static const char *const names[] = {"a", NULL};
    static const uint8_t uuid[16] = {0xca, 0x3c, 0xe9, 0x3b, 0x9b, 0xea, 0x11,
                                     0xf1, 0xb8, 0x08, 0xe6, 0x08, 0xfd, 0xb6,
                                     0xe3, 0xc5};
    static const uint64_t ends[] = {473};
    struct run r;
    start(&r, "  - table: t.a\n    topic: outbox.event.a\n    key_column: a\n"
              "    value_column: a\n    headers:\n      n: a\n", F08, 4);
    r.cols.names = names;
    feed_file(&r, F08);
    expect_no_misuse(&r);
    assert_int_equal(r.sink.nrecs, 3);
    for (int i = 0; i < 3; i++) {
        char v[4];
        snprintf(v, sizeof v, "%d", i + 1);
        assert_false(r.sink.recs[i].dead);
        assert_string_equal(r.sink.recs[i].topic, "outbox.event.a");
        assert_string_equal(r.sink.recs[i].key, v);
        assert_string_equal(r.sink.recs[i].value, v);
        assert_int_equal(end_of(&r, &r.sink.recs[i]), 473);
    }
    expect_ends(&r, ends, 1);
    const struct end *e = &r.sink.ends[0];
    assert_true(e->has_gtid);
    assert_int_equal(e->gtid.kind, POS_GTID_MYSQL);
    assert_memory_equal(e->gtid.uuid, uuid, 16);
    assert_int_equal(e->gtid.seq, 3);
    expect_rows_distinct(&r);
    /* the name a record carries is the GTID's, which survives a failover */
    assert_non_null(strstr(r.sink.recs[0].row, "ca3ce93b-9bea-11f1-b808-e608fdb6e3c5:3"));
    assert_int_equal(r.sink.rotations, 1);
    assert_string_equal(r.sink.file, "binlog.000004");
    assert_int_equal(r.sink.offset, 4);
    finish(&r);
}

#define F02 "02_rmc_mysql-8.0.32_transaction_compression.000001"

/* MySQL 8.0.32's compressed transaction: the row is inside a
 * TRANSACTION_PAYLOAD, and the transaction commits where the payload
 * event ends (431), not at its inner XID's log_pos (0 in the file). */
static void test_compressed_transaction_file(void **state)
{
    (void)state;
    static const char *const names[] = {"c", NULL};
    static const uint64_t ends[] = {431};
    struct run r;
    start(&r, "  - table: test.tb1\n    topic: outbox.event.tb1\n"
              "    key_column: c\n    value_column: c\n    headers:\n"
              "      n: c\n", F02, 4);
    r.cols.names = names;
    feed_file(&r, F02);
    expect_no_misuse(&r);
    assert_int_equal(r.sink.nrecs, 1);
    assert_string_equal(r.sink.recs[0].value, "1");
    assert_string_equal(r.sink.recs[0].position, F02 ":431:0");
    expect_ends(&r, ends, 1);
    assert_int_equal(r.sink.rotations, 1);
    finish(&r);
}

/* ---- events built by hand (MariaDB's dialect) -------------------------- */

static const char *const COLS[] = {"id", "aggregatetype", "aggregateid",
                                   "type", "payload", NULL};

static enum outcome feed_ev(struct run *r, uint32_t *pos, uint8_t type,
                            const struct bb *body, char *err, size_t errlen)
{
    uint8_t buf[1024];
    struct bb ev = {buf, 0, sizeof buf};
    *pos += BINLOG_HEADER_LEN + (uint32_t)body->n;
    bb_event(&ev, type, *pos, body);
    return pipeline_event(r->p, ev.b, ev.n, &r->sink.stop, err, errlen);
}

static void feed(struct run *r, uint32_t *pos, uint8_t type,
                 const struct bb *body)
{
    char err[512];
    if (feed_ev(r, pos, type, body, err, sizeof err) != OUTCOME_OK)
        fail_msg("%s event: %s", binlog_type_name(type), err);
}

/* MariaDB's GTID 0-1-seq; standalone: a statement (DDL) follows, not
 * BEGIN. */
static void gtid_event(struct run *r, uint32_t *pos, uint64_t seq,
                       int standalone)
{
    uint8_t buf[16];
    struct bb b = {buf, 0, sizeof buf};
    bb_le(&b, seq, 8);
    bb_le(&b, 0, 4);
    bb_le(&b, standalone ? 1 : 0, 1);
    feed(r, pos, BL_MARIA_GTID, &b);
}

static void gtid(struct run *r, uint32_t *pos, uint64_t seq)
{
    gtid_event(r, pos, seq, 0);
}

static void xid(struct run *r, uint32_t *pos)
{
    uint8_t buf[8];
    struct bb b = {buf, 0, sizeof buf};
    bb_le(&b, 7, 8);
    feed(r, pos, BL_XID, &b);
}

/* shop.o1 as table 70, five VARCHAR(255) columns, named or not. */
static void table_map(struct run *r, uint32_t *pos, int named)
{
    uint8_t buf[256];
    struct bb b = {buf, 0, sizeof buf};
    const uint8_t types[5] = {BT_VARCHAR, BT_VARCHAR, BT_VARCHAR, BT_VARCHAR,
                              BT_VARCHAR};
    const uint8_t meta[10] = {255, 0, 255, 0, 255, 0, 255, 0, 255, 0};
    bb_table_map(&b, 70, "shop", "o1", types, 5, meta, sizeof meta);
    if (named)
        bb_opt_names(&b, COLS, 5);
    feed(r, pos, BL_TABLE_MAP, &b);
}

static void varchar(struct bb *b, const char *s)
{
    bb_le(b, strlen(s), 1);
    bb_bytes(b, s, strlen(s));
}

/* One row of shop.o1; a NULL aggregateid when key is NULL. */
static void write_row(struct run *r, uint32_t *pos, const char *id,
                      const char *key)
{
    uint8_t buf[256];
    struct bb b = {buf, 0, sizeof buf};
    bb_rows_head(&b, 70, 5, 1);
    bb_le(&b, key ? 0 : 1 << 2, 1); /* the NULL bitmap: column 3 */
    varchar(&b, id);
    varchar(&b, "order");
    if (key)
        varchar(&b, key);
    varchar(&b, "created");
    varchar(&b, "{}");
    feed(r, pos, BL_WRITE_ROWS, &b);
}

static void query(struct run *r, uint32_t *pos, const char *sql)
{
    uint8_t buf[256];
    struct bb b = {buf, 0, sizeof buf};
    bb_le(&b, 1, 4); /* thread id */
    bb_le(&b, 0, 4); /* exec time */
    bb_le(&b, 4, 1); /* db length */
    bb_le(&b, 0, 2); /* error code */
    bb_le(&b, 0, 2); /* no status variables */
    bb_bytes(&b, "shop", 5);
    bb_bytes(&b, sql, strlen(sql));
    feed(r, pos, BL_QUERY, &b);
}

static void heartbeat(struct run *r, uint32_t at)
{
    uint8_t buf[64], evb[128];
    struct bb b = {buf, 0, sizeof buf}, ev = {evb, 0, sizeof evb};
    char err[256];
    bb_bytes(&b, r->file, strlen(r->file));
    bb_event(&ev, BL_HEARTBEAT, at, &b);
    if (pipeline_event(r->p, ev.b, ev.n, &r->sink.stop, err, sizeof err) !=
        OUTCOME_OK)
        fail_msg("heartbeat: %s", err);
}

static void start_shop(struct run *r)
{
    start(r, "  - table: shop.o1\n", "bin.000001", 0);
    r->cols.names = COLS;
}

/* A NULL key: the row is a dead letter keyed by its position (so that a
 * replay lands in the same partition), the rows around it are records,
 * and the transaction still commits, after all three, with its GTID. */
static void test_null_key_is_a_dead_letter(void **state)
{
    (void)state;
    struct run r;
    uint32_t pos = 4;
    start_shop(&r);
    gtid(&r, &pos, 41);
    table_map(&r, &pos, 1);
    write_row(&r, &pos, "e1", "k1");
    write_row(&r, &pos, "e2", NULL);
    uint32_t null_row = pos; /* a position names the end of its event */
    write_row(&r, &pos, "e3", "k3");
    xid(&r, &pos);
    expect_no_misuse(&r);
    assert_int_equal(r.sink.nrecs, 3);
    char want_key[64];
    snprintf(want_key, sizeof want_key, "bin.000001:%u:1", null_row);
    const struct got *d = &r.sink.recs[1];
    assert_false(r.sink.recs[0].dead);
    assert_true(d->dead);
    assert_false(r.sink.recs[2].dead);
    assert_string_equal(d->key, want_key);
    assert_string_equal(d->position, want_key);
    assert_string_equal(d->error_type, "null-key");
    assert_string_equal(d->value, "{}"); /* what could be read goes along */
    assert_string_equal(d->headers, "id=e2;type=created");
    assert_string_equal(r.sink.recs[2].key, "k3");
    assert_string_equal(r.sink.recs[2].topic, "outbox.event.order");
    assert_int_equal(r.sink.nends, 1);
    assert_int_equal(r.sink.ends[0].offset, pos);
    assert_true(r.sink.ends[0].has_gtid);
    assert_int_equal(r.sink.ends[0].gtid.kind, POS_GTID_MARIADB);
    assert_int_equal(r.sink.ends[0].gtid.seq, 41);
    for (int i = 0; i < 3; i++)
        assert_int_equal(r.sink.recs[i].txn, r.sink.ends[0].txn);
    assert_int_equal(r.sink.offset, pos);
    finish(&r);
}

/* Without names in the table map the look-up gives them, once per table;
 * DDL on the table makes the pipeline ask again; a look-up whose count
 * does not match the binlog's stops the relay with the remedy. */
static void test_column_lookup(void **state)
{
    (void)state;
    struct run r;
    uint32_t pos = 4;
    char err[512];
    start_shop(&r);
    gtid(&r, &pos, 1);
    table_map(&r, &pos, 0);
    write_row(&r, &pos, "e1", "k1");
    xid(&r, &pos);
    gtid(&r, &pos, 2);
    table_map(&r, &pos, 0);
    write_row(&r, &pos, "e2", "k2");
    xid(&r, &pos);
    assert_int_equal(r.cols.calls, 1);
    assert_string_equal(r.cols.last, "shop.o1");
    assert_int_equal(r.sink.nrecs, 2);
    assert_string_equal(r.sink.recs[1].headers, "id=e2;type=created");

    gtid_event(&r, &pos, 3, 1);
    query(&r, &pos, "ALTER TABLE o1 ADD COLUMN extra INT");
    assert_int_equal(r.sink.nends, 3); /* DDL: a transaction of its own */
    assert_int_equal(r.sink.ends[2].offset, pos);
    static const char *const four[] = {"id", "aggregatetype", "aggregateid",
                                       "type", NULL};
    r.cols.names = four;
    gtid(&r, &pos, 4);
    uint8_t buf[256];
    struct bb b = {buf, 0, sizeof buf};
    const uint8_t types[5] = {BT_VARCHAR, BT_VARCHAR, BT_VARCHAR, BT_VARCHAR,
                              BT_VARCHAR};
    const uint8_t meta[10] = {255, 0, 255, 0, 255, 0, 255, 0, 255, 0};
    bb_table_map(&b, 70, "shop", "o1", types, 5, meta, sizeof meta);
    assert_int_equal(feed_ev(&r, &pos, BL_TABLE_MAP, &b, err, sizeof err),
                     OUTCOME_FATAL);
    assert_int_equal(r.cols.calls, 2); /* asked again after the DDL */
    assert_non_null(strstr(err, "binlog_row_metadata=FULL"));
    assert_int_equal(r.sink.nends, 3); /* nothing past the failure */

    r.cols.names = NULL; /* the look-up itself fails: its message */
    assert_int_equal(feed_ev(&r, &pos, BL_TABLE_MAP, &b, err, sizeof err),
                     OUTCOME_FATAL);
    assert_string_equal(err, "fake: no such table shop.o1");
    expect_no_misuse(&r);
    finish(&r);
}

/* The sink fails on a record: the pipeline stops with the sink's reason,
 * and the transaction is never ended (so never committed). */
static void test_sink_failure_is_fatal(void **state)
{
    (void)state;
    struct run r;
    uint32_t pos = 4;
    char err[512];
    start_shop(&r);
    r.sink.fail_at = 2;
    gtid(&r, &pos, 1);
    table_map(&r, &pos, 1);
    write_row(&r, &pos, "e1", "k1");
    uint8_t buf[256];
    struct bb b = {buf, 0, sizeof buf};
    bb_rows_head(&b, 70, 5, 1);
    bb_le(&b, 0, 1);
    varchar(&b, "e2");
    varchar(&b, "order");
    varchar(&b, "k2");
    varchar(&b, "created");
    varchar(&b, "{}");
    assert_int_equal(feed_ev(&r, &pos, BL_WRITE_ROWS, &b, err, sizeof err),
                     OUTCOME_FATAL);
    assert_string_equal(err, "fake: outbox.event.order refused for good");
    assert_int_equal(r.sink.nends, 0);
    assert_int_equal(r.sink.offset, 4);
    expect_no_misuse(&r);
    finish(&r);
}

/* A stop that ends the wait for room at a transaction's start is a stop,
 * not a failure. */
static void test_stop_while_waiting(void **state)
{
    (void)state;
    struct run r;
    uint32_t pos = 4;
    char err[512];
    start_shop(&r);
    r.sink.stop_at_begin = 2;
    gtid(&r, &pos, 1);
    xid(&r, &pos);
    uint8_t buf[16];
    struct bb b = {buf, 0, sizeof buf};
    bb_le(&b, 2, 8);
    bb_le(&b, 0, 4);
    bb_le(&b, 0, 1);
    assert_int_equal(feed_ev(&r, &pos, BL_MARIA_GTID, &b, err, sizeof err),
                     OUTCOME_STOP);
    assert_int_equal(r.sink.nends, 1);
    finish(&r);
}

/* A connection lost in the middle of a transaction: the reset abandons
 * it (it will be read again), so it ends nowhere; the next one commits
 * normally. Heartbeats move an idle position only. */
static void test_reset_abandons_open_transaction(void **state)
{
    (void)state;
    struct run r;
    uint32_t pos = 4;
    start_shop(&r);
    gtid(&r, &pos, 1);
    table_map(&r, &pos, 1);
    write_row(&r, &pos, "e1", "k1");
    heartbeat(&r, 9000); /* inside a transaction: no idle offset */
    assert_int_equal(r.sink.offset, 4);
    pipeline_reset(r.p, 0, "bin.000001", lookup, &r.cols, NULL);
    assert_int_equal(r.sink.abandoned, 1);
    assert_int_equal(r.sink.nends, 0);
    pos = 4;
    gtid(&r, &pos, 1);
    table_map(&r, &pos, 1);
    write_row(&r, &pos, "e1", "k1");
    xid(&r, &pos);
    assert_int_equal(r.sink.nends, 1);
    assert_int_equal(r.sink.ends[0].offset, pos);
    heartbeat(&r, 9000);
    assert_int_equal(r.sink.offset, 9000);
    expect_no_misuse(&r);
    finish(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mysql_json_file),
        cmocka_unit_test(test_mysql_gtid_file),
        cmocka_unit_test(test_compressed_transaction_file),
        cmocka_unit_test(test_null_key_is_a_dead_letter),
        cmocka_unit_test(test_column_lookup),
        cmocka_unit_test(test_sink_failure_is_fatal),
        cmocka_unit_test(test_stop_while_waiting),
        cmocka_unit_test(test_reset_abandons_open_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
