#include "relay/resume.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum resume_how resume_plan(const struct relay_position *at,
                            const char *server, const char *where,
                            const char *history, char *why, size_t len)
{
    char gtid[POS_TEXT_MAX];
    int same = !at->server[0] || strcmp(at->server, server) == 0;
    if (at->kind == POS_GTID_NONE) {
        if (same)
            return RESUME_AS_IS;
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
