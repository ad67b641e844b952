/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/resume.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Binlog order: by base name, then by the number after the last dot, so
 * that "bin.1000000" sorts after "bin.999999". */
static int binlog_cmp(const char *a, const char *b)
{
    const char *da = strrchr(a, '.'), *db = strrchr(b, '.');
    if (!da || !db || da - a != db - b || strncmp(a, b, (size_t)(da - a)))
        return strcmp(a, b);
    unsigned long long na = strtoull(da + 1, NULL, 10);
    unsigned long long nb = strtoull(db + 1, NULL, 10);
    return na < nb ? -1 : na > nb;
}

int resume_needs_binlogs(const struct relay_position *at)
{
    return at->kind == POS_GTID_NONE && at->file[0];
}

/* The checkpoint's file:offset is past the end of the server's binlogs:
 * they were made anew, and which of their events were delivered cannot
 * be told without GTIDs. */
static enum resume_how history_reset(const struct relay_position *at,
                                     const char *where,
                                     const struct resume_binlogs *logs,
                                     char *why, size_t len)
{
    const struct resume_binlog *last = &logs->v[logs->n - 1];
    snprintf(why, len,
             "the binlog history of %s was reset (RESET MASTER?): the "
             "checkpoint's %s offset %" PRIu64 " is past its end (binlogs "
             "%s to %s, %" PRIu64 " bytes in the last): streaming from the "
             "start of the new history, at-least-once for it",
             where, at->file, at->offset, logs->v[0].name, last->name,
             last->size);
    return RESUME_FROM_START;
}

/* The same server, no GTIDs: is the checkpoint's file:offset still in
 * this server's binlog history (resume.h)? */
static enum resume_how plan_by_file(const struct relay_position *at,
                                    const char *where,
                                    const struct resume_binlogs *logs,
                                    char *why, size_t len)
{
    if (!logs || !logs->n || !resume_needs_binlogs(at))
        return RESUME_AS_IS;
    const struct resume_binlog *first = &logs->v[0];
    const struct resume_binlog *last = &logs->v[logs->n - 1];
    if (binlog_cmp(at->file, first->name) < 0) {
        snprintf(why, len,
                 "the checkpoint's binlog %s (offset %" PRIu64 ") is purged "
                 "on %s, whose oldest binlog is %s: the events after the "
                 "checkpoint are lost. The binlog the relay needs is gone "
                 "(purged): " RESUME_BINLOG_GONE_ADVICE,
                 at->file, at->offset, where, first->name);
        return RESUME_REFUSE;
    }
    for (size_t i = 0; i < logs->n; i++)
        if (strcmp(logs->v[i].name, at->file) == 0) /* shorter: a new file */
            return at->offset <= logs->v[i].size
                       ? RESUME_AS_IS
                       : history_reset(at, where, logs, why, len);
    if (binlog_cmp(at->file, last->name) > 0)
        return history_reset(at, where, logs, why, len);
    snprintf(why, len,
             "the checkpoint's binlog %s is missing on %s, which has %s to "
             "%s: " RESUME_BINLOG_GONE_ADVICE,
             at->file, where, first->name, last->name);
    return RESUME_REFUSE;
}

enum resume_how resume_plan(const struct relay_position *at,
                            const char *server, const char *where,
                            const char *history,
                            const struct resume_binlogs *logs, char *why,
                            size_t len)
{
    char gtid[POS_TEXT_MAX];
    int same = !at->server[0] || strcmp(at->server, server) == 0;
    if (at->kind == POS_GTID_NONE) {
        if (same)
            return plan_by_file(at, where, logs, why, len);
        snprintf(why, len,
                 "the checkpoint has no GTID position, only file %s offset "
                 "%" PRIu64 " of server %s; %s is server %s, where that "
                 "offset means nothing, so the relay stops rather than "
                 "guess. Read from server %s again, give the servers GTIDs "
                 "(MySQL: gtid_mode=ON), or remove the checkpoint and set "
                 "source.start, accepting the gap",
                 at->file[0] ? at->file : "-", at->offset, at->server, where,
                 server, at->server);
        return RESUME_REFUSE;
    }
    if (pos_format_gtid(at, gtid, sizeof gtid) < 0)
        snprintf(gtid, sizeof gtid, "(too long to show)");
    int held = pos_history_covers(history, at);
    if (held < 0) {
        snprintf(why, len, "cannot read the GTID history of %s (\"%.200s\") "
                 "to compare it with the checkpoint's %.200s", where, history,
                 gtid);
        return RESUME_REFUSE;
    }
    if (!held) {
        snprintf(why, len,
                 "refusing %s (server %s): its GTID history (%.300s) does not "
                 "hold the checkpoint's GTID position (%.300s). It is not a "
                 "replica of the server the relay read from, or it lacks "
                 "transactions the relay has delivered already (lost in the "
                 "failover, errant on the old primary, or RESET MASTER); "
                 "going on would skip or repeat events. Point source.hosts "
                 "at the right servers, or remove the checkpoint and set "
                 "source.start, accepting the gap",
                 where, server, history[0] ? history : "empty", gtid);
        return RESUME_REFUSE;
    }
    if (same)
        return RESUME_AS_IS;
    snprintf(why, len, "the checkpoint is from server %s; %s is server %s, "
             "whose GTID history holds it: resuming after GTID %.300s",
             at->server, where, server, gtid);
    return RESUME_BY_GTID;
}
