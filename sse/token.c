/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/token.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAC_LEN 32

static const char *const PURPOSE[] = {"subscribe", "admission"};

int token_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > TOKEN_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* ---- base64url through OpenSSL's base64 -------------------------------- */

static size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    for (int i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[len] = '\0';
    return (size_t)len;
}

/* The value of a character of the standard alphabet. */
static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : 63;
}

/* Strict: only the URL-safe alphabet, no padding, unused bits zero. -1
 * when malformed. */
static int b64url_decode(const char *in, size_t n, unsigned char *out,
                         size_t outlen)
{
    char buf[TOKEN_MAX + 4];
    if (n % 4 == 1 || n + 3 > sizeof buf || n / 4 * 3 + 3 > outlen)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9')))
            return -1;
        buf[i] = c;
    }
    /* A final partial group has bits that encode nothing (4 after two
     * characters, 2 after three); they must be zero, or one MAC or name
     * would have four or sixteen spellings (RFC 4648 section 3.5). */
    if (n % 4 != 0 && (b64val(buf[n - 1]) & (n % 4 == 2 ? 0x0f : 0x03)))
        return -1;
    size_t pad = (4 - n % 4) % 4;
    memset(buf + n, '=', pad);
    int len = EVP_DecodeBlock(out, (unsigned char *)buf, (int)(n + pad));
    return len < 0 ? -1 : len - (int)pad;
}

/* ---- the MAC ----------------------------------------------------------- */

static int mac(const void *secret, size_t secret_len, enum token_purpose p,
               const char *queue, const char *user, int64_t expiry,
               unsigned char out[MAC_LEN])
{
    char msg[2 * TOKEN_NAME_MAX + 64];
    int n = snprintf(msg, sizeof msg, "%s\n%s\n%s\n%" PRId64, PURPOSE[p],
                     queue, user, expiry);
    unsigned int len = 0;
    if (n < 0 || (size_t)n >= sizeof msg ||
        !HMAC(EVP_sha256(), secret, (int)secret_len, (unsigned char *)msg,
              (size_t)n, out, &len) || len != MAC_LEN)
        return -1;
    return 0;
}

int token_mint(const void *secret, size_t secret_len, enum token_purpose p,
               const char *queue, const char *user, int64_t expiry,
               char *buf, size_t buflen)
{
    unsigned char m[MAC_LEN];
    char q[TOKEN_MAX], u[TOKEN_MAX], s[64];
    if (!token_name_ok(queue, strlen(queue)) ||
        !token_name_ok(user, strlen(user)) || expiry < 0 ||
        mac(secret, secret_len, p, queue, user, expiry, m) < 0)
        return -1;
    b64url_encode((const unsigned char *)queue, strlen(queue), q);
    b64url_encode((const unsigned char *)user, strlen(user), u);
    b64url_encode(m, sizeof m, s);
    int n = snprintf(buf, buflen, "%s.%s.%" PRId64 ".%s", q, u, expiry, s);
    return (n < 0 || (size_t)n >= buflen) ? -1 : n;
}

struct parts {
    char queue[TOKEN_NAME_MAX + 4], user[TOKEN_NAME_MAX + 4];
    int64_t expiry;
    unsigned char mac[MAC_LEN + 4];
};

static int decode_name(const char *s, size_t n, char *out)
{
    int len = b64url_decode(s, n, (unsigned char *)out, TOKEN_NAME_MAX + 4);
    if (len < 0 || !token_name_ok(out, (size_t)len))
        return -1;
    out[len] = '\0';
    return 0;
}

static int parse_expiry(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int split(const char *token, struct parts *pt)
{
    const char *f[4];
    size_t len[4];
    const char *p = token;
    for (int i = 0; i < 4; i++) {
        const char *dot = strchr(p, '.');
        if ((dot != NULL) != (i < 3))
            return -1;
        f[i] = p;
        len[i] = dot ? (size_t)(dot - p) : strlen(p);
        p += len[i] + 1;
    }
    if (decode_name(f[0], len[0], pt->queue) < 0 ||
        decode_name(f[1], len[1], pt->user) < 0 ||
        parse_expiry(f[2], len[2], &pt->expiry) < 0 ||
        b64url_decode(f[3], len[3], pt->mac, sizeof pt->mac) != MAC_LEN)
        return -1;
    return 0;
}

enum token_verdict token_verify(const void *secret, size_t secret_len,
                                enum token_purpose p, const char *token,
                                const char *queue, const char *user,
                                int64_t now)
{
    struct parts pt;
    unsigned char want[MAC_LEN];
    if (!token || strlen(token) >= TOKEN_MAX || split(token, &pt) < 0)
        return TOKEN_MALFORMED;
    if (mac(secret, secret_len, p, pt.queue, pt.user, pt.expiry, want) < 0 ||
        CRYPTO_memcmp(want, pt.mac, MAC_LEN) != 0)
        return TOKEN_BAD_MAC;
    if (pt.expiry <= now)
        return TOKEN_EXPIRED;
    if (strcmp(pt.queue, queue) != 0 || strcmp(pt.user, user) != 0)
        return TOKEN_OTHER_SUBJECT;
    return TOKEN_OK;
}

const char *token_verdict_str(enum token_verdict v)
{
    switch (v) {
    case TOKEN_OK: return "ok";
    case TOKEN_MALFORMED: return "malformed token";
    case TOKEN_BAD_MAC: return "invalid token signature";
    case TOKEN_EXPIRED: return "token expired";
    case TOKEN_OTHER_SUBJECT: return "token is for another queue or user";
    }
    return "?";
}
