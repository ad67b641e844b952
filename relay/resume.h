/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resume: how the relay takes up its position on the server it has just
 * connected to, which after a failover is another one.
 *
 * A position's file and offset mean something on one server only, the
 * one the position names (position.h); its GTID state means the same on
 * every server of a replication topology. So:
 *
 *   - the same server, or a position of a version before 0.3, which names
 *     none: as before (MariaDB by GTID, MySQL by file and offset);
 *   - another server: by GTID alone (on MySQL from the newest binlog whose
 *     Previous_gtids the state holds, passing over the transactions it
 *     holds). A position without GTIDs cannot be resumed there: the relay
 *     would have to guess, so it is refused;
 *   - on any server, its GTID history must hold the position's GTIDs. A
 *     server that lacks some is not a replica of the one the relay read
 *     (a foreign server), or lacks transactions the relay has delivered
 *     already (lost in an unsafe failover, errant ones of the old
 *     primary, a RESET MASTER). Going on there would skip or repeat
 *     events with nobody told: refused, for a person to decide.
 *
 *   - the same server, a position without GTIDs: its file must still be
 *     in the server's binlog list (SHOW BINARY LOGS). A file that sorts
 *     before the oldest one is purged: the events after the checkpoint
 *     are lost, refused. A file that sorts after the newest one, or one
 *     shorter than the checkpoint's offset, belongs to a history that was
 *     thrown away (RESET MASTER, RESET BINARY LOGS AND GTIDS): the relay
 *     cannot tell which of the new history's events it delivered, so it
 *     says so and reads the new history from its start, at-least-once
 *     for that stretch (RESUME_FROM_START). A reset whose new file has
 *     grown past the offset again cannot be seen here.
 *
 * A refusal ends the relay with status 1 (OUTCOME_FATAL) and the reason.
 * Pure function; any thread.
 */
#ifndef OUTBOX_RELAY_RESUME_H
#define OUTBOX_RELAY_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "common/position.h"

enum resume_how {
    RESUME_AS_IS,   /* the position's own file and offset (or GTIDs) */
    RESUME_BY_GTID, /* another server: its GTID state alone */
    RESUME_REFUSE,  /* stop: `why` says what to do */
    RESUME_FROM_START, /* history reset: the first binlog, at-least-once */
};

/* What to do about a binlog that is gone; source.c says it too. */
#define RESUME_BINLOG_GONE_ADVICE                                              \
    "set source.start and remove the checkpoint to start over, accepting "   \
    "the gap, or restore the binlog files"

/* One row of SHOW BINARY LOGS. */
struct resume_binlog {
    char name[256];
    uint64_t size;
};

/* The server's binlogs, oldest first; n == 0: not asked. */
struct resume_binlogs {
    const struct resume_binlog *v;
    size_t n;
};

/* `at` is the committed position; `server` and `history` are what the
 * connected server says of itself (source.h: source_info), `where` its
 * host:port for messages; `logs` its binlog list, which only a position
 * without GTIDs needs (resume_needs_binlogs), else NULL. `why` gets the
 * reason for RESUME_BY_GTID and RESUME_FROM_START (a line for the log)
 * and RESUME_REFUSE. */
enum resume_how resume_plan(const struct relay_position *at,
                            const char *server, const char *where,
                            const char *history,
                            const struct resume_binlogs *logs, char *why,
                            size_t len);

/* Whether resume_plan wants the server's binlog list for `at`. */
int resume_needs_binlogs(const struct relay_position *at);

#endif
