/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis_tls: TLS to Redis for a hiredis that has none.
 *
 * Debian 12 ships hiredis 0.14, which speaks only plain TCP and Unix
 * sockets. So hiredis connects to a Unix socket of ours, in a directory
 * only this process's user can enter, and every connection accepted there
 * is carried to Redis over TLS by libevent's OpenSSL bufferevents: the
 * server certificate is verified against redis.tls.ca (else the system's
 * CAs) and the name redis.tls.server_name (else redis.host); a client
 * certificate is presented when redis.tls.cert is set (Redis's default
 * tls-auth-clients asks for one).
 *
 * A refused handshake or certificate closes the Unix side: hiredis sees a
 * lost connection and its caller's reconnect-with-backoff applies; the
 * reason is logged here, with OpenSSL's words.
 *
 * Loop thread only.
 */
#ifndef OUTBOX_SSE_REDIS_TLS_H
#define OUTBOX_SSE_REDIS_TLS_H

#include <event2/event.h>
#include <stddef.h>

#include "config/cfg_sse.h"

struct rtls;

/* Loads the certificates and listens on the Unix socket. NULL with a
 * message (an unreadable file, a key that does not match). */
struct rtls *rtls_new(struct event_base *base, const struct sse_redis_cfg *cfg,
                      char *err, size_t errlen);

/* The Unix socket for hiredis to connect to. */
const char *rtls_path(const struct rtls *t);

/* Closes every carried connection, the socket and its directory. */
void rtls_free(struct rtls *t);

#endif
