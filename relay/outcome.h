/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outcome: how a step of the relay ended, and so what comes next.
 *
 * One type between source, pipeline, sink and relay, so that no layer
 * reads another's "failed" flag its own way: a zero that one layer meant
 * as "reconnect" and the next read as "stop" once turned a sink failure
 * into a clean exit (status 0), which systemd's Restart=on-failure then
 * left down.
 */
#ifndef OUTBOX_RELAY_OUTCOME_H
#define OUTBOX_RELAY_OUTCOME_H

enum outcome {
    OUTCOME_OK,        /* go on */
    OUTCOME_STOP,      /* a stop was asked for: end cleanly (exit 0) */
    OUTCOME_RECONNECT, /* the source connection is lost: connect again */
    OUTCOME_FATAL,     /* only a person can fix this: end (exit 1) */
    OUTCOME_DEMOTED,   /* another relay leads now (leader.h): stand by */
};

#endif
