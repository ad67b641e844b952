/* SPDX-License-Identifier: Apache-2.0 */
/*
 * position: where in the source's binlog the relay stands.
 *
 * A position names the end of the last complete source transaction: the
 * binlog file and the offset of the next event, and the GTID state of the
 * server up to there, in whichever of the two GTID dialects the server
 * speaks:
 *
 *   MariaDB: one "domain-server-seq" per replication domain, the last
 *            transaction seen in each ("0-1-100,1-2-7");
 *   MySQL:   the set of executed GTIDs, per source uuid (and tag, 8.4)
 *            a list of intervals ("3e11...:1-100:105,4f22...:1-3").
 *
 * File and offset are what COM_BINLOG_DUMP takes and are always kept; the
 * GTID state survives a failover to another server and is what MariaDB
 * resumes from (@slave_connect_state). File and offset mean something on
 * one server only, so a position also names that server (`server`: MySQL's
 * @@server_uuid, MariaDB's @@server_id); after a failover to another one
 * only the GTID state can say where to go on. The text form of a whole
 * position is what the checkpoint stores keep:
 *
 *   v1 file=mysql-bin.000003 pos=1234 gtid=0-1-100 server=1
 *
 * (" server=" is left out when unknown: positions of versions before 0.3.)
 *
 * It lives in common/ rather than relay/ because config/ parses
 * source.start with it, and config/ depends on common/ only.
 *
 * Not thread-safe; a position belongs to one thread at a time.
 */
#ifndef OUTBOX_COMMON_POSITION_H
#define OUTBOX_COMMON_POSITION_H

#include <stddef.h>
#include <stdint.h>

enum pos_gtid_kind { POS_GTID_NONE, POS_GTID_MARIADB, POS_GTID_MYSQL };

struct pos_md_domain {
    uint32_t domain;
    uint32_t server;
    uint64_t seq;
};

struct pos_interval {
    uint64_t first, last; /* inclusive */
};

/* One uuid (plus optional tag) of a MySQL GTID set. */
struct pos_my_sid {
    uint8_t uuid[16];
    char tag[33]; /* "" when untagged */
    struct pos_interval *iv;
    size_t niv, cap;
};

#define POS_SERVER_MAX 64

struct relay_position {
    char file[256];  /* "" when unknown */
    uint64_t offset; /* of the next event in `file` */
    char server[POS_SERVER_MAX]; /* whose binlog `file` is; "" unknown */
    enum pos_gtid_kind kind;
    struct pos_md_domain *md;
    size_t nmd, mdcap;
    struct pos_my_sid *my;
    size_t nmy, mycap;
};

#define POS_TEXT_MAX 8192

void pos_init(struct relay_position *p);
void pos_free(struct relay_position *p);
/* Deep copy; dst is freed first. Returns 0 or -1 (out of memory). */
int pos_copy(struct relay_position *dst, const struct relay_position *src);

void pos_set_file(struct relay_position *p, const char *file, uint64_t offset);

/* Records a committed transaction's GTID. Return 0 or -1 (out of memory,
 * or a GTID of the other dialect). */
int pos_add_mariadb(struct relay_position *p, uint32_t domain,
                    uint32_t server, uint64_t seq);
int pos_add_mysql(struct relay_position *p, const uint8_t uuid[16],
                  const char *tag, uint64_t gno);

/* True when the MySQL set already holds uuid[:tag]:gno (a transaction
 * the relay must skip when the server replays it). */
int pos_mysql_contains(const struct relay_position *p, const uint8_t uuid[16],
                       const char *tag, uint64_t gno);

/* True when every GTID of MySQL set `a` is in `b` (an empty `a` is). */
int pos_mysql_subset(const struct relay_position *a,
                     const struct relay_position *b);

/* Does a server's GTID history hold every transaction of p's GTID state?
 * `history` is the server's own text: MySQL's @@gtid_executed (a GTID
 * set; line breaks allowed), MariaDB's @@gtid_binlog_state (the last
 * seq_no of every domain and server_id in its binlog). A MariaDB entry
 * D-S-N of p is held when the history has D-S-M with M >= N: the check
 * the server itself makes for a replica that asks to start after D-S-N.
 * 1 yes, 0 no, -1 when `history` cannot be read as p's dialect. An
 * empty p is held by any history. */
int pos_history_covers(const char *history, const struct relay_position *p);

/* GTID state as text ("" when none). Returns the length, or -1 when it does
 * not fit in len. */
int pos_format_gtid(const struct relay_position *p, char *buf, size_t len);

/* Parses a MariaDB GTID list or a MySQL GTID set into p's GTID state. */
int pos_parse_gtid(struct relay_position *p, const char *s, char *err,
                   size_t errlen);

/* Whole position, "v1 file=F pos=N gtid=G[ server=S]"; and back. */
int pos_format(const struct relay_position *p, char *buf, size_t len);
int pos_parse(struct relay_position *p, const char *s, char *err,
              size_t errlen);

#endif
