/* SPDX-License-Identifier: Apache-2.0 */
/*
 * binlog: decoding binlog events from their raw bytes.
 *
 * Pure functions over buffers: the same code reads events from the
 * replication stream, from binlog files and from inside MySQL's compressed
 * transactions, and unit tests and fuzzers reach it without a server.
 * Nothing here allocates per event or per row: parsed events point into
 * the caller's buffer, and a row is decoded into a caller-provided array of
 * cells that point into the event (strings) or into a caller's scratch
 * buffer (numbers, dates, MySQL JSON and MySQL 9 VECTORs rendered as
 * text).
 *
 * Scratch: a row's numbers and dates need a few bytes each, but a MySQL
 * JSON column is a document of up to max_allowed_packet (1 GiB) whose
 * text is larger still. So the scratch comes in two kinds: a fixed array
 * (binlog_next_row; a row that does not fit is an error naming the
 * column), or a struct binlog_scratch the decoder grows on demand up to a
 * bound the caller picks (binlog_next_row_grow): memory follows the
 * largest row actually seen, and a document past the bound is an error
 * with a clear message instead of an allocation without limit. The cells
 * of a row stay valid until the next call with the same scratch.
 *
 * Why not mariadb_rpl's own decoding: Connector/C 3.3.20 takes CHAR and
 * BINARY lengths from the wrong metadata byte and rejects MySQL event
 * types above 39.
 *
 * A table map is only decoded in full (column types, metadata, names) for
 * tables the caller wants; the rows of other tables are never looked at.
 */
#ifndef OUTBOX_RELAY_BINLOG_H
#define OUTBOX_RELAY_BINLOG_H

#include <stddef.h>
#include <stdint.h>

#include "relay/outbox.h"

enum binlog_type {
    BL_UNKNOWN = 0,
    BL_QUERY = 2,
    BL_STOP = 3,
    BL_ROTATE = 4,
    BL_FORMAT_DESCRIPTION = 15,
    BL_XID = 16,
    BL_TABLE_MAP = 19,
    BL_WRITE_ROWS_V1 = 23,
    BL_UPDATE_ROWS_V1 = 24,
    BL_DELETE_ROWS_V1 = 25,
    BL_HEARTBEAT = 27,
    BL_ROWS_QUERY = 29,
    BL_WRITE_ROWS = 30,
    BL_UPDATE_ROWS = 31,
    BL_DELETE_ROWS = 32,
    BL_MYSQL_GTID = 33,
    BL_MYSQL_ANONYMOUS_GTID = 34,
    BL_MYSQL_PREVIOUS_GTIDS = 35,
    BL_PARTIAL_UPDATE_ROWS = 39,
    BL_TRANSACTION_PAYLOAD = 40,
    BL_HEARTBEAT_V2 = 41,
    BL_MYSQL_GTID_TAGGED = 42,
    BL_MARIA_ANNOTATE_ROWS = 160,
    BL_MARIA_BINLOG_CHECKPOINT = 161,
    BL_MARIA_GTID = 162,
    BL_MARIA_GTID_LIST = 163,
    BL_MARIA_START_ENCRYPTION = 164,
    BL_MARIA_QUERY_COMPRESSED = 165, /* log_bin_compress: relay/mariadb_zip.h */
    BL_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
    BL_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
    BL_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
    BL_MARIA_WRITE_ROWS_COMPRESSED = 169,
    BL_MARIA_UPDATE_ROWS_COMPRESSED = 170,
    BL_MARIA_DELETE_ROWS_COMPRESSED = 171,
};

/* Column types (MySQL enum_field_types) as TABLE_MAP names them. */
enum binlog_coltype {
    BT_DECIMAL = 0, BT_TINY = 1, BT_SHORT = 2, BT_LONG = 3, BT_FLOAT = 4,
    BT_DOUBLE = 5, BT_NULL = 6, BT_TIMESTAMP = 7, BT_LONGLONG = 8, BT_INT24 = 9,
    BT_DATE = 10, BT_TIME = 11, BT_DATETIME = 12, BT_YEAR = 13, BT_NEWDATE = 14,
    BT_VARCHAR = 15, BT_BIT = 16, BT_TIMESTAMP2 = 17, BT_DATETIME2 = 18,
    BT_TIME2 = 19, BT_VECTOR = 242, BT_JSON = 245, BT_NEWDECIMAL = 246, BT_ENUM = 247,
    BT_SET = 248, BT_TINY_BLOB = 249, BT_MEDIUM_BLOB = 250, BT_LONG_BLOB = 251,
    BT_BLOB = 252, BT_VAR_STRING = 253, BT_STRING = 254, BT_GEOMETRY = 255,
};

#define BINLOG_HEADER_LEN 19
#define BINLOG_MAX_COLUMNS 4096

enum binlog_rc { BINLOG_OK = 0, BINLOG_ERR = -1 };

struct binlog_header {
    uint32_t timestamp;
    uint8_t type;
    uint32_t server_id;
    uint32_t size;
    uint32_t log_pos; /* where the next event starts; 0 if artificial */
    uint16_t flags;
};

/* What the decoder remembers from the FORMAT_DESCRIPTION event. */
struct binlog_format {
    int checksum_len; /* 4 with CRC32, else 0 */
    uint8_t post_header[256];
    char server_version[51];
};

void binlog_format_default(struct binlog_format *f);

int binlog_parse_header(const uint8_t *ev, size_t len, struct binlog_header *h,
                        char *err, size_t errlen);

/* Checks the CRC32 (when the format has one) and returns the body
 * (after the header, before the checksum). */
int binlog_body(const struct binlog_format *f, const uint8_t *ev, size_t len,
                int verify, const uint8_t **body, size_t *body_len, char *err,
                size_t errlen);

/* FORMAT_DESCRIPTION: fills f (the event's own checksum is handled). */
int binlog_parse_fde(const uint8_t *ev, size_t len, struct binlog_format *f,
                     char *err, size_t errlen);

struct binlog_rotate {
    uint64_t position;
    const char *file; /* not NUL-terminated */
    size_t file_len;
};
int binlog_parse_rotate(const uint8_t *body, size_t len,
                        struct binlog_rotate *out, char *err, size_t errlen);

struct binlog_gtid {
    int mysql;               /* 1: MySQL uuid:gno, 0: MariaDB d-s-n */
    uint32_t domain, server; /* MariaDB */
    uint64_t seq;            /* MariaDB seq or MySQL gno */
    uint8_t uuid[16];        /* MySQL */
    char tag[33];            /* MySQL 8.4 tagged GTIDs */
    int standalone;          /* MariaDB: no COMMIT/XID follows (DDL) */
    int64_t commit_us;       /* MySQL original commit time, 0 if absent */
};
/* MariaDB GTID (162) and MySQL GTID (33), ANONYMOUS_GTID (34), tagged (42). */
int binlog_parse_gtid(const struct binlog_header *h, const uint8_t *body,
                      size_t len, uint32_t server_id, struct binlog_gtid *out,
                      char *err, size_t errlen);

/* "uuid:gno", "uuid:tag:gno" or "domain-server-seq"; the length, or -1
 * when it does not fit. */
int binlog_gtid_text(const struct binlog_gtid *g, char *buf, size_t len);

struct binlog_query {
    const char *db, *sql;
    size_t db_len, sql_len;
};
int binlog_parse_query(const struct binlog_format *f, const uint8_t *body,
                       size_t len, struct binlog_query *out, char *err,
                       size_t errlen);

/* TABLE_MAP: the table id and names always; columns on demand. */
struct binlog_table_id {
    uint64_t table_id;
    char db[65], table[65];
};
int binlog_parse_table_id(const struct binlog_format *f, const uint8_t *body,
                          size_t len, struct binlog_table_id *out, char *err,
                          size_t errlen);

struct binlog_column {
    uint8_t type;
    uint16_t meta;
    uint8_t is_unsigned;
    uint8_t nullable;
    /* BINARY(n): the charset metadata (FULL) says collation 63. The row
     * image drops its trailing zero bytes, which the decoder puts back. */
    uint8_t binary;
    char *name; /* NULL without binlog_row_metadata=FULL */
    char **members; /* ENUM/SET member names (FULL metadata), else NULL */
    size_t nmembers;
};

/* The column's type as the server declared it: ENUM and SET travel as
 * STRING with the real type in the metadata. */
int binlog_column_real_type(const struct binlog_column *col);

/* A fully decoded table map (owned: binlog_table_free). */
struct binlog_table {
    struct binlog_table_id id;
    size_t ncols;
    struct binlog_column *cols;
    int has_names;
};
int binlog_parse_table(const struct binlog_format *f, const uint8_t *body,
                       size_t len, struct binlog_table *out, char *err,
                       size_t errlen);
void binlog_table_free(struct binlog_table *t);

/* ROWS events: the header, then rows one at a time. */
struct binlog_rows {
    uint64_t table_id;
    int kind; /* 'w', 'u' or 'd' */
    size_t ncols;
    const uint8_t *present;       /* columns-present bitmap */
    const uint8_t *present_after; /* update: after image's */
    const uint8_t *p, *end;       /* the remaining row data */
};
int binlog_parse_rows(const struct binlog_header *h,
                      const struct binlog_format *f, const uint8_t *body,
                      size_t len, struct binlog_rows *out, char *err,
                      size_t errlen);

/* Decodes the next row image into cells[ncols] (NULL cells and columns
 * missing from the image come back is_null). Numbers and dates are
 * rendered into scratch. Returns 1 with a row, 0 at the end, -1 on a
 * malformed row. For updates, each call returns one image (before, then
 * after). */
int binlog_next_row(struct binlog_rows *r, const struct binlog_table *t,
                    struct outbox_cell *cells, char *scratch,
                    size_t scratch_len, char *err, size_t errlen);

/* A scratch the decoder grows (by copy, moving the cells already decoded
 * along) up to max bytes. Start it zeroed or with a malloc'd buf; the
 * caller frees it with binlog_scratch_free (or may shrink it between rows
 * by freeing it). */
struct binlog_scratch {
    char *buf;
    size_t cap;
    size_t max;
};
int binlog_next_row_grow(struct binlog_rows *r, const struct binlog_table *t,
                         struct outbox_cell *cells, struct binlog_scratch *sc,
                         char *err, size_t errlen);
void binlog_scratch_free(struct binlog_scratch *sc);

/* MySQL's binary DECIMAL(prec, scale) at raw (avail bytes) as text ("-1.50"
 * keeps the scale's digits). Returns 0 and the bytes read in *used, or -1.
 */
#define BINLOG_DECIMAL_TEXT 80
int binlog_decimal_text(const uint8_t *raw, size_t avail, int prec, int scale,
                        char out[BINLOG_DECIMAL_TEXT], size_t *used);

/* TRANSACTION_PAYLOAD (MySQL 8.0.20+): the TLV header, then one zstd
 * frame. Decompresses into *out (malloc'd, the caller frees): a run of
 * events with 19-byte headers, log_pos 0 and no checksums. 0 or -1. */
int binlog_payload_expand(const uint8_t *body, size_t len, uint8_t **out,
                          size_t *outlen, char *err, size_t errlen);

/* Rewrites an event's log_pos field (inner events of a payload take the
 * position of the payload event). */
void binlog_set_log_pos(uint8_t *ev, uint32_t pos);

/* Human name of an event type, for messages. */
const char *binlog_type_name(int type);

#endif
