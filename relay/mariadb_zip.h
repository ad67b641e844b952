/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mariadb_zip: MariaDB's compressed binlog events (log_bin_compress).
 *
 * With log_bin_compress=ON, MariaDB writes QUERY_COMPRESSED and
 * *_ROWS_COMPRESSED events (types 165-171) for statements and row data
 * over log_bin_compress_min_len bytes. The event's fixed parts stay as
 * they are; the query text, or the rows after the column bitmaps, become
 * one compressed record:
 *
 *   byte 0      0x80 | (algorithm << 4) | N: algorithm 0 is zlib, N (1-4)
 *               is the size of the next field
 *   N bytes     the original length, big-endian
 *   the rest    zlib's compress() output
 *
 * Pure; the output buffer grows up to its max.
 */
#ifndef OUTBOX_RELAY_MARIADB_ZIP_H
#define OUTBOX_RELAY_MARIADB_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "relay/binlog.h"

/* Is this one of MariaDB's compressed event types? */
int mzip_is_compressed(int type);

/* The uncompressed event type a compressed one stands for (a ROWS type
 * keeps its V1 or V2 layout); other types come back unchanged. */
int mzip_plain_type(int type);

/* Inflates the record [src, src+len) into out (grown as needed, up to
 * out->max). 0 with *outlen set, or -1 with a message: a record that is
 * not one, an unknown algorithm, a length over the bound, or data that
 * does not inflate to exactly the length it claims. */
int mzip_inflate(const uint8_t *src, size_t len, struct binlog_scratch *out,
                 size_t *outlen, char *err, size_t errlen);

/* For a *_ROWS_COMPRESSED event (h's type), inflates r's row data into
 * buf and points r at it; other types are left as they are. 0, or -1
 * with a message. The one step every reader of rows events takes after
 * binlog_parse_rows, once it knows it wants the rows. */
int mzip_open_rows(const struct binlog_header *h, struct binlog_rows *r,
                   struct binlog_scratch *buf, char *err, size_t errlen);

#endif
