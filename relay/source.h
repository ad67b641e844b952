/* SPDX-License-Identifier: Apache-2.0 */
/*
 * source: the replication connection to MySQL or MariaDB.
 *
 * Connects with libmariadb (its non-blocking connect, so that a stop is
 * not held up by a server that never answers), checks that the server's settings make change
 * data capture possible, asks for the binlog from a position
 * (mariadb_rpl_open sends COM_BINLOG_DUMP), and then hands out raw events.
 *
 * Events are read with mysql_net_read_packet() rather than
 * mariadb_rpl_fetch(): the packet is used where it lies in the
 * connection's buffer, with no per-event allocation, and event types the
 * library does not know (MySQL's TRANSACTION_PAYLOAD = 40, GTID_TAGGED =
 * 42, which mariadb_rpl_fetch rejects with CR_UNKNOWN_BINLOG_EVENT) reach
 * our own decoder like any other. Decoding is not done here (binlog.h).
 *
 * Candidates: source.hosts, or host and port as the one candidate. With
 * several and no source.primary, a connect takes the first, starting at
 * the one read last, that answers and is writable (read_only=0, and
 * super_read_only=0 on MySQL): after a failover, the promoted replica. The
 * others are closed again. Which server it is (source_info.server) and its
 * GTID history (source_info.history) are read on every connect, for the
 * relay to decide whether its checkpoint can be resumed there.
 *
 * Errors are either transient (the connection dropped: reconnect with
 * backoff) or fatal (a setting, a privilege, a purged binlog: only a person
 * can fix those); `fatal` says which, and the message says what to do.
 *
 * One thread uses a source; source_interrupt() alone may be called from
 * another thread, to wake a blocked read at shutdown.
 */
#ifndef OUTBOX_RELAY_SOURCE_H
#define OUTBOX_RELAY_SOURCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cfg_relay.h"
#include "common/position.h"

struct resume_binlogs; /* resume.h */

struct source_info {
    char version[128];
    int is_mariadb;
    uint32_t server_id;
    char binlog_checksum[16]; /* NONE or CRC32 */
    int row_metadata_full;
    char where[300];                /* "host:port" connected to */
    char server[POS_SERVER_MAX];    /* MySQL server_uuid, MariaDB server_id */
    /* MySQL @@gtid_executed, MariaDB @@gtid_binlog_state, at connect */
    char history[POS_TEXT_MAX];
};

struct source_host {
    char host[256];
    int64_t port;
};

struct source {
    const struct relay_source_cfg *cfg;
    const atomic_int *stop; /* ends a connect early; NULL: never */
    struct st_mysql *mysql;
    struct st_mariadb_rpl *rpl;
    struct st_mysql *meta; /* for information_schema, opened on demand */
    struct source_info info;
    struct source_host hosts[RELAY_MAX_HOSTS];
    size_t nhosts, cur; /* cur: the one connected to, or tried last */
    /* The socket, for source_interrupt: published under fd_lock as soon as
     * it exists and withdrawn before it is closed, so that a shutdown()
     * from another thread never reaches a recycled descriptor. */
    pthread_mutex_t fd_lock;
    int fd; /* -1 when none */
    int fatal;     /* set with err on failure */
    char err[1024];
};

/* `stop`, when it becomes nonzero, ends a connect in progress. */
void source_init(struct source *s, const struct relay_source_cfg *cfg,
                 const atomic_int *stop);
/* Frees what source_init set up (after source_close). */
void source_fini(struct source *s);

/* Connects to a candidate (the writable one, when there are several) and
 * checks log_bin, binlog_format=ROW, binlog_row_image=FULL; reads the
 * server's identity and GTID history. Returns 0, or -1 with s->err (and
 * s->fatal for a setting to change; none writable is transient). */
int source_connect(struct source *s);

/* Turns a `start:` value (latest, earliest, FILE:POS, GTID set) into a
 * position. Needs a connection. Returns 0 or -1. */
int source_resolve_start(struct source *s, const char *start,
                         struct relay_position *out);

/* Where a MySQL server must be read from for `want`'s GTID set: the
 * newest binlog whose Previous_gtids the set holds, at its first event
 * (want->file and offset are set); the caller passes over the set's
 * transactions found after it (pipeline_skip_gtids). Returns 0 or -1. */
int source_locate_gtid(struct source *s, struct relay_position *want);

/* The server's binlogs, oldest first (SHOW BINARY LOGS: names and sizes),
 * for resume_plan. out->v is one allocation: free((void *)out->v).
 * Returns 0 or -1. */
int source_binlogs(struct source *s, struct resume_binlogs *out);

/* Starts streaming after `from`: by GTID on MariaDB when `from` has GTID
 * state, else by file and offset. Returns 0 or -1. */
int source_start_dump(struct source *s, const struct relay_position *from);

/* Waits for the next event. Returns 1 with *ev and *len pointing at the
 * whole event (header included; valid until the next call), or -1 with
 * s->err. The source's heartbeats count as events. */
int source_read(struct source *s, const uint8_t **ev, size_t *len);

/* Runs one query expected to return at most one row and copies column
 * `col` of it into buf ("" for NULL or no row). Returns 0 or -1. */
int source_query_value(struct source *s, const char *sql, unsigned col,
                       char *buf, size_t len);

/* Column names of db.table in table order, from information_schema, for
 * servers without binlog_row_metadata=FULL. Uses a second connection (the
 * first one is streaming). *names is one allocation: free(*names).
 * Returns the column count, or -1 with s->err. */
int source_columns(struct source *s, const char *db, const char *table,
                   char ***names);
/* The same, shaped as the pipeline's column lookup (pipeline_columns_fn):
 * `src` is the struct source, the message goes to err. */
int source_column_names(void *src, const char *db, const char *table,
                        char ***names, char *err, size_t errlen);

/* Thread-safe: makes a blocked source_read return with an error. */
void source_interrupt(struct source *s);

void source_close(struct source *s);

#endif
