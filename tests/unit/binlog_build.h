/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Binlog bytes built by hand, for the unit tests of the decoder: table map
 * bodies with their optional metadata and row images, written after
 * MySQL's libs/mysql/binlog/event (rows_event.h, binary_log_funcs.cpp),
 * apart from relay/binlog.c's reader so that the two check each other.
 *
 * A struct bb is the caller's buffer and how much of it is written; a
 * write past its end fails the test instead of the heap. Include it after
 * cmocka.h.
 */
#ifndef OUTBOX_TESTS_BINLOG_BUILD_H
#define OUTBOX_TESTS_BINLOG_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct bb {
    uint8_t *b;
    size_t n, cap;
};

static inline void bb_bytes(struct bb *o, const void *p, size_t n)
{
    if (n > o->cap - o->n) {
        fail_msg("binlog_build: %zu more bytes do not fit %zu", n, o->cap);
        return; /* cmocka's fail_msg is not marked noreturn */
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static inline void bb_le(struct bb *o, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t byte = (uint8_t)(v >> (8 * i));
        bb_bytes(o, &byte, 1);
    }
}

static inline void bb_be(struct bb *o, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        uint8_t byte = (uint8_t)(v >> (8 * i));
        bb_bytes(o, &byte, 1);
    }
}

/* MySQL's length-encoded integer. */
static inline void bb_packed(struct bb *o, uint64_t v)
{
    if (v < 251) {
        bb_le(o, v, 1);
    } else if (v < 1u << 16) {
        bb_le(o, 252, 1);
        bb_le(o, v, 2);
    } else if (v < 1u << 24) {
        bb_le(o, 253, 1);
        bb_le(o, v, 3);
    } else {
        bb_le(o, 254, 1);
        bb_le(o, v, 8);
    }
}

/* A TABLE_MAP body (6-byte table id, FORMAT_DESCRIPTION's default): the
 * column types, their metadata block as given, every column nullable.
 * Optional metadata (bb_opt) may follow. */
static inline void bb_table_map(struct bb *o, uint64_t table_id,
                                const char *db, const char *table,
                                const uint8_t *types, size_t ncols,
                                const uint8_t *meta, size_t meta_len)
{
    bb_le(o, table_id, 6);
    bb_le(o, 0, 2); /* flags */
    bb_le(o, strlen(db), 1);
    bb_bytes(o, db, strlen(db) + 1);
    bb_le(o, strlen(table), 1);
    bb_bytes(o, table, strlen(table) + 1);
    bb_packed(o, ncols);
    bb_bytes(o, types, ncols);
    bb_packed(o, meta_len);
    bb_bytes(o, meta, meta_len);
    for (size_t i = 0; i < (ncols + 7) / 8; i++)
        bb_le(o, 0xff, 1);
}

/* One optional metadata field: its kind, its packed length, its value. */
static inline void bb_opt(struct bb *o, uint8_t kind, const void *v,
                          size_t len)
{
    bb_le(o, kind, 1);
    bb_packed(o, len);
    bb_bytes(o, v, len);
}

/* COLUMN_NAME (optional metadata 4): every column's name, in order. */
static inline void bb_opt_names(struct bb *o, const char *const *names,
                                size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += 1 + strlen(names[i]); /* names under 251 bytes */
    bb_le(o, 4, 1);
    bb_packed(o, len);
    for (size_t i = 0; i < n; i++) {
        bb_packed(o, strlen(names[i]));
        bb_bytes(o, names[i], strlen(names[i]));
    }
}

/* A v2 ROWS body up to its first row image: every column present. */
static inline void bb_rows_head(struct bb *o, uint64_t table_id, size_t ncols,
                                uint16_t flags)
{
    bb_le(o, table_id, 6);
    bb_le(o, flags, 2); /* 1: STMT_END_F */
    bb_le(o, 2, 2);     /* extra data: only its own length */
    bb_packed(o, ncols);
    for (size_t i = 0; i < (ncols + 7) / 8; i++)
        bb_le(o, 0xff, 1);
}

/* A whole event: the 19-byte header, then the body; no checksum. */
static inline void bb_event(struct bb *o, uint8_t type, uint32_t log_pos,
                            const struct bb *body)
{
    bb_le(o, 1700000000, 4);
    bb_le(o, type, 1);
    bb_le(o, 1, 4); /* server id */
    bb_le(o, 19 + body->n, 4);
    bb_le(o, log_pos, 4);
    bb_le(o, 0, 2);
    bb_bytes(o, body->b, body->n);
}

/* DATETIME2(fsp): 5 bytes packed big-endian with the sign bit set, then
 * (fsp+1)/2 bytes of the fraction as stored (`frac` in those units). */
static inline void bb_datetime2(struct bb *o, int y, int mo, int d, int h,
                                int mi, int s, uint32_t frac, int fsp)
{
    uint64_t ymd = ((uint64_t)(y * 13 + mo) << 5) | (uint64_t)d;
    uint64_t v = (ymd << 17 | (uint64_t)(h << 12 | mi << 6 | s)) + 0x8000000000ULL;
    bb_be(o, v, 5);
    bb_be(o, frac, (fsp + 1) / 2);
}

/* A JSON column's value (`lenbytes` of length, MySQL writes 4) holding
 * one binary JSON string of n bytes `fill`: type 0x0c, the length in 7-bit
 * groups, the bytes. Its JSON text is n + 2 bytes. */
static inline void bb_json_string(struct bb *o, int lenbytes, char fill,
                                  size_t n)
{
    uint8_t varlen[5];
    size_t k = 0;
    for (size_t v = n; k == 0 || v; v >>= 7)
        varlen[k++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
    bb_le(o, 1 + k + n, lenbytes);
    bb_le(o, 0x0c, 1);
    bb_bytes(o, varlen, k);
    if (n > o->cap - o->n) {
        fail_msg("binlog_build: a JSON string of %zu does not fit", n);
        return;
    }
    memset(o->b + o->n, fill, n);
    o->n += n;
}

/* TIME2(fsp) as MySQL writes it (my_time_packed_to_binary in
 * mysys/my_time.cc): the packed time, (h << 12 | m << 6 | s) << 24 plus
 * the microseconds, negated when negative; its integer part (rounded
 * down) in 3 bytes with an offset, then the remainder's 1 or 2 bytes,
 * or the whole value in 6. `usec` holds only fsp digits. */
static inline void bb_time2(struct bb *o, int neg, unsigned h, unsigned m,
                            unsigned s, uint32_t usec, int fsp)
{
    int64_t nr = ((int64_t)(h << 12 | m << 6 | s) << 24) + usec;
    nr = neg ? -nr : nr;
    int64_t ip = nr >= 0 ? nr / (1 << 24) : -((-nr + 0xffffff) / (1 << 24));
    int64_t fp = nr % (1 << 24); /* C's remainder: the sign of nr */
    if (fsp >= 5) {
        bb_be(o, (uint64_t)(nr + 0x800000000000LL), 6);
        return;
    }
    bb_be(o, (uint64_t)(0x800000 + ip), 3);
    if (fsp >= 3)
        bb_be(o, (uint16_t)(fp / 100), 2);
    else if (fsp >= 1)
        bb_be(o, (uint8_t)(fp / 10000), 1);
}

#endif
