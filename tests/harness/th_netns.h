/* SPDX-License-Identifier: Apache-2.0 */
/*
 * th_netns: a second "host" for a test, as a network namespace joined to
 * this one by a veth pair, whose link the test can cut and restore.
 *
 * The servers of a test (th.h) listen on 127.0.0.1 of the host, and
 * kafka-mock advertises its brokers there too, so a program in the
 * namespace must find them at the very same addresses. th_netns_forward
 * makes that so for one port with two socat relays: one in the namespace
 * on its own 127.0.0.1:PORT, one on the host on the veth's address, with
 * the link between them. A program in the namespace then runs with the
 * configuration it would have on the host, and everything it says to the
 * servers crosses the link: th_netns_link(n, 0) cuts it as a pulled cable
 * does (packets dropped, connections left open, nothing refused).
 * th_netns_forward_aside carries a port through a Unix socket instead, off
 * the link, for a server that stays reachable when the link is cut.
 *
 * Names: the namespace is PREFIX-PID, the veth ends oxh/oxn + PID, its
 * /30 in 10.99.0.0/16 is picked from the PID. A namespace or veth of the
 * same names left behind by an earlier run (a test SIGKILLed) is removed
 * first; th_netns_down removes what th_netns_up made, by those names
 * only, and runs at exit as well (atexit), so a failed test leaves nothing.
 *
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN), ip(8) and socat(1): without
 * them th_netns_up returns TH_SKIP with the reason. Single-threaded, like
 * th.h.
 */
#ifndef OUTBOX_TEST_NETNS_H
#define OUTBOX_TEST_NETNS_H

#include <stddef.h>

#include "tests/harness/th.h"

#define TH_NETNS_MAX_PORTS 8

struct th_netns {
    char name[32];                /* the namespace, for `ip netns exec` */
    char host_if[16], ns_if[16];  /* the veth ends */
    char host_ip[16], ns_ip[16];  /* their addresses */
    char dir[256];                /* logs of ip and socat */
    int fd;                       /* /run/netns/NAME, -1 when down */
    struct th_proc fwd[2 * TH_NETNS_MAX_PORTS];
    int nfwd;
};

/* The namespace PREFIX-PID and its veth pair, up, both ends addressed,
 * its loopback up. 0, -1, or TH_SKIP when this machine cannot. */
int th_netns_up(struct th_netns *n, const char *prefix);

/* In the namespace, 127.0.0.1:port reaches the host's 127.0.0.1:port over
 * the link. Returns once both relays accept. 0 or -1. */
int th_netns_forward(struct th_netns *n, int port);

/* The same, but through a Unix socket in the test's directory rather than
 * over the link: a server the namespace keeps reaching when the link is
 * cut (its database, while only Kafka is cut off). 0 or -1. */
int th_netns_forward_aside(struct th_netns *n, int port);

/* The same for every host:port of a bootstrap list ("127.0.0.1:1,..."). */
int th_netns_forward_list(struct th_netns *n, const char *bootstrap);

/* Cuts (up = 0) or restores (up = 1) the link. 0 or -1. */
int th_netns_link(struct th_netns *n, int up);

/* argv run in the namespace: {"ip", "netns", "exec", NAME, argv...},
 * into out (cap entries, NULL-terminated). 0, or -1 when it does not fit. */
int th_netns_argv(const struct th_netns *n, char *const argv[], char **out,
                  size_t cap);

/* th_http_get to 127.0.0.1:port of the namespace. */
int th_netns_http_get(struct th_netns *n, int port, const char *path,
                      char *body, size_t len);

/* Stops the relays, removes the veth and the namespace. Idempotent. */
void th_netns_down(struct th_netns *n);

#endif
