/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txnid: the names of source transactions and rows that every record
 * carries, so that a replay can tell exactly what it already delivered.
 *
 * A transaction is named by its GTID where the server gives one:
 *   MariaDB  "domain-server-seq"      ("0-1-100")
 *   MySQL    "uuid:gno", "uuid:tag:gno"
 * Those names are the same on every server of a replication topology,
 * so they survive a failover to a replica. A MySQL server without GTIDs
 * (gtid_mode=OFF) gives none; the transaction is then named by where it
 * starts and by when its binlog file was made:
 *   "FILE:OFFSET@CREATED"             ("binlog.000042:1234@1733000000")
 * CREATED, the file's FORMAT_DESCRIPTION timestamp, sets apart the files
 * of one name that RESET MASTER makes again, so that a name is never
 * taken for another transaction's.
 *
 * A row is named by its transaction, its index among the INSERTs of its
 * outbox table in that transaction, and the table:
 *   "TXN INDEX DB.TABLE"              ("0-1-100 3 shop.outbox")
 * That is the `outbox-txn` header of a record. The index counts per table
 * so that a relay whose table list changed still names each row as before.
 *
 * Pure functions; any thread.
 */
#ifndef OUTBOX_RELAY_TXNID_H
#define OUTBOX_RELAY_TXNID_H

#include <stddef.h>
#include <stdint.h>

#include "common/position.h"

#define TXNID_MAX 128 /* a transaction's name; a row's adds the table */
#define TXNID_ROW_MAX (TXNID_MAX + 24 + 132)

/* "FILE:OFFSET@CREATED". Returns the length, or -1 when it does not fit. */
int txnid_by_position(char *buf, size_t len, const char *file,
                      uint64_t offset, uint32_t created);

/* "TXN INDEX TABLE". Returns the length, or -1 when it does not fit. */
int txnid_row(char *buf, size_t len, const char *txn, size_t txn_len,
              uint32_t index, const char *table);

/* The transaction part of a row's name: its length, or -1 when `row` is
 * not a row's name. */
int txnid_row_txn(const char *row, size_t len);

/* Is transaction `txn` at or before `pos`, so that a checkpoint at pos
 * already covers it? 1 yes, 0 no, -1 when txn is not a transaction's
 * name. A name of another kind than pos's GTIDs is never covered. */
int txnid_covered(const char *txn, size_t len,
                  const struct relay_position *pos);

#endif
