/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token: who may watch which queue position, and proof of admission.
 *
 * A token names a queue, a user and an expiry, and carries an HMAC-SHA256
 * over them keyed with a secret shared with the application that mints
 * subscribe tokens and the site that checks admission tokens:
 *
 *   token   = b64(queue) "." b64(user) "." expiry "." b64(mac)
 *   mac     = HMAC-SHA256(secret, purpose LF queue LF user LF expiry)
 *   purpose = "subscribe" | "admission"
 *   expiry  = Unix time in seconds, decimal, no sign or leading zeros
 *   b64     = base64url without padding (RFC 4648 section 5)
 *
 * The purpose is in the MAC so that a subscribe token is never accepted as
 * proof of admission. Queue and user are inside the token (not only in the
 * MAC) so that a token minted for someone else can be told apart from a
 * forged one: 403 instead of 401. Names are 1 to 200 bytes without control
 * characters, so the LF-joined message is unambiguous.
 *
 * Pure functions; the comparison of MACs takes constant time.
 */
#ifndef OUTBOX_SSE_TOKEN_H
#define OUTBOX_SSE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

enum token_purpose { TOKEN_SUBSCRIBE, TOKEN_ADMISSION };

enum token_verdict {
    TOKEN_OK = 0,
    TOKEN_MALFORMED,    /* not a token at all */
    TOKEN_BAD_MAC,      /* forged, or minted with another secret */
    TOKEN_EXPIRED,
    TOKEN_OTHER_SUBJECT /* genuine, but for another queue or user */
};

#define TOKEN_NAME_MAX 200
#define TOKEN_MAX 640 /* longest token, with its NUL */

/* 1 when a queue or user name is acceptable (see above). */
int token_name_ok(const char *s, size_t len);

/* Writes the token into buf (TOKEN_MAX bytes suffice). Returns its length,
 * or -1 when a name is not acceptable or buf is too small. */
int token_mint(const void *secret, size_t secret_len, enum token_purpose p,
               const char *queue, const char *user, int64_t expiry,
               char *buf, size_t buflen);

/* Checks `token` for (queue, user) at time `now` (Unix seconds). */
enum token_verdict token_verify(const void *secret, size_t secret_len,
                                enum token_purpose p, const char *token,
                                const char *queue, const char *user,
                                int64_t now);

const char *token_verdict_str(enum token_verdict v);

#endif
