/* SPDX-License-Identifier: Apache-2.0 */
/*
 * leader: one leader among the relays of a name, elected by Kafka.
 *
 * Every relay with ha.enabled joins one Kafka consumer group (ha.group)
 * subscribed to a coordination topic (ha.topic), as Kafka Connect's
 * workers do; the member the group gives partition 0 is the leader. No
 * ZooKeeper, no etcd, no lease file: the group coordinator decides, and a
 * member that stops heart-beating for ha.session_timeout is replaced.
 * The cooperative-sticky assignor keeps partition 0 where it is when a
 * standby joins. The lease may still lapse meanwhile: a coordinator
 * refuses commits while the group rebalances (REBALANCE_IN_PROGRESS,
 * which proves no membership and renews nothing), and librdkafka's mock
 * rebalances for longer than the lease lasts, so there the leader stands
 * by and leads again from its checkpoint a few seconds later.
 *
 * Being given partition 0 is not enough to act on: a leader paused (a
 * SIGSTOP, a long GC-like stall, a cut link) has been replaced by the
 * time it runs again, and learns so only from its next exchange with the
 * coordinator. So leadership is a lease: the leader commits an offset to
 * the group every session_timeout / 6, which the coordinator accepts only
 * from a current member, and it counts as leader only until two thirds of
 * a session timeout after it sent the last commit that was accepted. The
 * coordinator replaces a member no sooner than a session timeout after its
 * last heartbeat, so by then the old leader's lease has run out on its
 * own clock (a monotonic one, which runs on through a SIGSTOP), and it
 * checks the lease before every binlog event it handles and every
 * checkpoint it saves.
 *
 * What a deposed leader had already handed to librdkafka may still reach
 * Kafka: the bound on records that can arrive twice (README, "High
 * availability").
 *
 * A thread of its own serves the group (rebalances, the commits). The
 * commits are asynchronous, so that a coordinator that no longer answers
 * (a cut link) never holds that thread up: it sees the lease run out on
 * time and says so through on_lost, which lets the relay interrupt a read
 * that would otherwise wait for a binlog event that may never come.
 * leader_valid may be called from any thread.
 */
#ifndef OUTBOX_RELAY_LEADER_H
#define OUTBOX_RELAY_LEADER_H

#include <stddef.h>

#include "config/cfg_relay.h"

struct leader;

/* Called on the leader's thread each time a lease this relay held ends
 * (ran out, or the group took partition 0 back). It must not block. */
typedef void leader_lost_cb(void *arg);

/* Joins the group and starts the thread; on_lost (may be NULL) with arg
 * as above. NULL with a message. */
struct leader *leader_new(const struct relay_cfg *cfg, leader_lost_cb *on_lost,
                          void *arg, char *err, size_t errlen);

/* Leaves the group (a standby takes over at once) and frees. */
void leader_free(struct leader *l);

/* 1 while this relay leads and its lease holds. */
int leader_valid(const struct leader *l);

#endif
