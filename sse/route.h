/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route: what a browser asks for, and whether it may.
 *
 * The checks of a request apart from any connection: the path names a
 * queue (and user), names are strictly percent-decoded and must be 1-200
 * printable bytes of UTF-8 (they go into JSON as they are), none of whose
 * '/'-separated segments is "." or ".." (nor may the path have such a
 * segment), a stream has its user parameter, and the token is the
 * subscriber's own. A Last-Event-ID is never a reason to refuse (see
 * route.c's parse_query). Pure, so that unit tests and the
 * fuzzer reach every branch without a socket.
 */
#ifndef OUTBOX_SSE_ROUTE_H
#define OUTBOX_SSE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "sse/token.h"

struct route {
    char queue[TOKEN_NAME_MAX + 2], user[TOKEN_NAME_MAX + 2];
    int stream; /* /events rather than /users/{user} */
};

/* A GET of `path` with `query` (both as sent: percent-encoded; query may
 * be NULL) and its Last-Event-ID header (or NULL; ignored, whatever it
 * holds, and so is a lastEventId parameter). `secret` is the HMAC
 * key, or NULL when auth is off; `now` is Unix time. Returns 0 with the
 * route filled in, or the HTTP status to answer (400, 401, 403, 404) with
 * a reason in *why. */
int route_request(const char *path, const char *query, const char *last_event_id,
                  const char *secret, int64_t now, struct route *r,
                  const char **why);

/* A decoded queue or user name the API accepts (see above). */
int route_name_ok(const char *s, size_t len);

/* Strict percent-decoding ('+' is a space when `form`): -1 on a bad
 * escape, an encoded NUL or when out (outlen bytes) is too small. */
int route_pct_decode(const char *in, size_t n, int form, char *out,
                     size_t outlen);

#endif
