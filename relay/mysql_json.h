/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mysql_json: MySQL's binary JSON (column type 245 in row events) as JSON
 * text.
 *
 * The binary format is MySQL's own (sql-common/json_binary.h, "doc ::= type
 * value"): objects and arrays carry a header of offsets into their own
 * bytes, so a value can be reached without parsing its siblings. Every
 * offset, size and count in a document is untrusted here: each is checked
 * against the bytes its container really has before it is followed, and
 * nesting is bounded (MYSQL_JSON_MAX_DEPTH, MySQL's own limit), so a
 * hostile or truncated document is an error message, never a read out of
 * bounds or a deep recursion.
 *
 * Output is compact JSON: no space after ':' or ','. MySQL itself prints
 * `{"a": 1, "b": [1, 2]}`; the text here is the same document without
 * those spaces (`{"a":1,"b":[1,2]}`), which is what consumers of a Kafka
 * value expect and what Debezium sends. Keys keep the stored order (MySQL
 * stores them sorted by length, then bytes). Scalars print as MySQL prints
 * them: doubles with the shortest round-trip digits and a ".0" when
 * integral, DECIMAL as a JSON number with its scale ("9.00"), DATE,
 * DATETIME, TIMESTAMP and TIME as quoted strings with six fractional
 * digits for the latter three, VAR_STRING opaque values as strings, and
 * every other opaque value as "base64:typeNN:<base64>" (without the line
 * breaks MySQL's encoder puts every 76 characters). An empty document (0
 * bytes) is JSON null, as MySQL reads it.
 *
 * Output goes to a struct mysql_json_out, which is either bounded (the
 * caller's array: it fills what fits and counts the rest, like snprintf,
 * so the caller can grow and call again) or growable (realloc'd here, the
 * caller frees buf). Either way `limit` bounds the text: a small document
 * whose offsets all point at one large sub-value could otherwise expand
 * without end.
 *
 * Pure functions; no state; any thread.
 */
#ifndef OUTBOX_RELAY_MYSQL_JSON_H
#define OUTBOX_RELAY_MYSQL_JSON_H

#include <stddef.h>
#include <stdint.h>

#define MYSQL_JSON_MAX_DEPTH 100 /* JSON_DOCUMENT_MAX_DEPTH in MySQL */

struct mysql_json_out {
    char *buf;     /* bounded: the caller's; growable: realloc'd, caller frees */
    size_t cap;    /* bytes of buf */
    size_t len;    /* bytes the text needs (may pass cap when bounded) */
    size_t limit;  /* the text may not pass this many bytes; 0: no bound */
    int growable;  /* 1: buf grows as needed (up to limit) */
    int failed;    /* set when limit was passed or memory ran out */
};

/* Renders doc[0..len) into out (appending at out->len). Returns 0, or -1
 * with a message in err for a malformed document or one whose text passes
 * out->limit. When bounded, the text is complete only if out->len <=
 * out->cap; it is never NUL-terminated. */
int mysql_json_to_text(const uint8_t *doc, size_t len,
                       struct mysql_json_out *out, char *err, size_t errlen);

/* Appends bytes as they are. */
void mysql_json_put(struct mysql_json_out *o, const void *s, size_t n);

/* Appends s as a quoted, escaped JSON string (the bytes are passed through
 * as they are; the caller knows whether they are UTF-8). */
void mysql_json_put_string(struct mysql_json_out *o, const void *s, size_t n);

/* Appends the standard base64 of s (with '=' padding, no line breaks). */
void mysql_json_put_base64(struct mysql_json_out *o, const void *s, size_t n);

#endif
