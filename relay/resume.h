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
 * A refusal ends the relay with status 1 (OUTCOME_FATAL) and the reason.
 * Pure function; any thread.
 */
#ifndef OUTBOX_RELAY_RESUME_H
#define OUTBOX_RELAY_RESUME_H

#include <stddef.h>

#include "relay/position.h"

enum resume_how {
    RESUME_AS_IS,   /* the position's own file and offset (or GTIDs) */
    RESUME_BY_GTID, /* another server: its GTID state alone */
    RESUME_REFUSE,  /* stop: `why` says what to do */
};

/* `at` is the committed position; `server` and `history` are what the
 * connected server says of itself (source.h: source_info), `where` its
 * host:port for messages. `why` gets the reason for RESUME_BY_GTID (a
 * line for the log) and RESUME_REFUSE. */
enum resume_how resume_plan(const struct relay_position *at,
                            const char *server, const char *where,
                            const char *history, char *why, size_t len);

#endif
