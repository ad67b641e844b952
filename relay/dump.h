/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dump: `outbox-relay dump`, a binlog file decoded offline.
 *
 * For support, debugging and tests: the same decoder the relay runs
 * (relay/binlog.c, relay/mysql_json.c: checksums verified, compressed
 * transactions expanded) and the same outbox mapping (relay/outbox.c),
 * over a file instead of a replication stream, with one JSON object per
 * line on the output:
 *
 *   default       one per outbox event, as the relay would produce it:
 *                 {"file","pos","gtid","timestamp","topic","key","headers",
 *                  "value"} (key, header values and value as JSON strings
 *                 of their bytes, null when NULL); a row the relay would
 *                 send to the dead-letter topic adds "error_type" and
 *                 "error_message".
 *   --all-tables  one per row of every row event:
 *                 {"file","pos","gtid","table","op","before","after"}.
 *
 * "pos" is the byte offset where the event starts in the file (mysqlbinlog's
 * "# at N"), for rows inside a TRANSACTION_PAYLOAD the payload event's;
 * "gtid" is the transaction's ("uuid:gno", "uuid:tag:gno", "d-s-n"), null
 * when anonymous.
 *
 * Row images (--all-tables) map column names (from binlog_row_metadata=
 * FULL, else "@1", "@2", ...) to values: SQL NULL as null; integer,
 * DECIMAL, FLOAT/DOUBLE, YEAR and BIT columns as JSON numbers; MySQL JSON
 * columns embedded as JSON; ENUM and SET as their member names when the
 * table map carries them (SET members joined by ","), else as the number
 * stored; dates and times as strings; MySQL 9 VECTOR as the string
 * VECTOR_TO_STRING() gives ("[1.00000e+00,2.00000e+00]", where SELECT
 * gives the raw float32 bytes); every other column (CHAR, VARCHAR,
 * TEXT, BLOB, BINARY, GEOMETRY) as a JSON string when its bytes are valid
 * UTF-8 (control characters \u-escaped), and otherwise as
 * "base64:typeNN:<base64>", the form MySQL itself uses for binary data in
 * JSON (NN is the column type: 15 VARCHAR, 252 BLOB/TEXT, 254 CHAR...).
 *
 * Without a configuration the outbox mapping is the built-in default of
 * the relay's configuration: a table named `outbox` in any schema, topic
 * outbox.event.${aggregatetype}, key aggregateid, value payload, headers
 * id and type. The mapping needs column names, so without FULL row
 * metadata an outbox table is reported on stderr and skipped.
 *
 * Errors (missing file, not a binlog, a checksum that does not match, a
 * truncated event) go to the error stream with the byte offset; the dump
 * stops there and the status is 1.
 */
#ifndef OUTBOX_RELAY_DUMP_H
#define OUTBOX_RELAY_DUMP_H

#include <stdio.h>

#include "config/cfg_relay.h"

struct dump_opts {
    const char *file;
    int all_tables;
    const struct relay_cfg *cfg; /* NULL: the built-in outbox mapping */
};

/* Decodes o->file, writing JSON lines to out and messages to errs.
 * Returns 0 or 1 (EXIT_RUNTIME). */
int dump_run(const struct dump_opts *o, FILE *out, FILE *errs);

/* The subcommand: argv[0] is "dump". Returns the exit status (0, 1, or 2
 * for a usage or configuration error). */
int dump_main(int argc, char **argv);

#endif
