/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/route.h"

#include <string.h>

#include "common/utf8.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int route_pct_decode(const char *in, size_t n, int form, char *out,
                      size_t outlen)
{
    size_t k = 0;
    if (outlen == 0)
        return -1;
    for (size_t i = 0; i < n; i++, k++) {
        if (k + 1 >= outlen)
            return -1;
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        out[k] = c;
    }
    out[k] = '\0';
    return (int)k;
}

/* 1 when one of the '/'-separated segments of s[0..n) is "." or "..":
 * a path step to whatever resolves it (a proxy, a file name built from a
 * queue, a person reading a log), never a name. */
static int has_dot_segment(const char *s, size_t n)
{
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        size_t len = j - i;
        if ((len == 1 || len == 2) && !memcmp(s + i, "..", len))
            return 1;
        i = j + 1;
    }
    return 0;
}

int route_name_ok(const char *s, size_t len)
{
    return token_name_ok(s, len) && utf8_valid(s, len) &&
           !has_dot_segment(s, len);
}

/* The raw value of parameter `name` in a query string, or NULL. */
static const char *param(const char *query, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            *len = plen - nl - 1;
            return p + nl + 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* -1: malformed; 0: absent; 1: decoded into out. */
static int param_decoded(const char *query, const char *name, char *out,
                         size_t outlen)
{
    size_t len;
    const char *v = param(query, name, &len);
    if (!v)
        return 0;
    return route_pct_decode(v, len, 1, out, outlen) < 0 ? -1 : 1;
}

/* 0 with the route; else the status to answer, with *why. */
static int parse_path(const char *path, struct route *r, const char **why)
{
    static const char prefix[] = "/v1/queues/";
    *why = "no such resource";
    if (!path)
        return 404;
    *why = "dot segment in path";
    if (has_dot_segment(path, strlen(path)))
        return 400;
    *why = "no such resource";
    if (strncmp(path, prefix, sizeof prefix - 1))
        return 404;
    const char *q = path + sizeof prefix - 1;
    const char *slash = strchr(q, '/');
    if (!slash)
        return 404;
    const char *rest = slash + 1;
    const char *user = NULL;
    if (!strcmp(rest, "events"))
        r->stream = 1;
    else if (!strncmp(rest, "users/", 6) && rest[6] && !strchr(rest + 6, '/'))
        user = rest + 6;
    else
        return 404;
    *why = "malformed queue or user name";
    int ql = route_pct_decode(q, (size_t)(slash - q), 0, r->queue, sizeof r->queue);
    if (ql < 0 || !route_name_ok(r->queue, (size_t)ql))
        return 400;
    if (user) {
        int ul = route_pct_decode(user, strlen(user), 0, r->user, sizeof r->user);
        if (ul < 0 || !route_name_ok(r->user, (size_t)ul))
            return 400;
    }
    return 0;
}

/* The user parameter of a stream. 0, or the status.
 *
 * Last-Event-ID (the header, or a lastEventId parameter) is never a reason
 * to refuse: every stream starts with the current state, which is all a
 * position needs, and EventSource takes any error answer to a reconnect
 * as fatal and gives up for good. So an id that is too long, no number or
 * badly encoded is simply not looked at. */
static int parse_query(const char *query, struct route *r, const char **why)
{
    *why = "malformed user parameter";
    if (r->stream) {
        int rc = param_decoded(query, "user", r->user, sizeof r->user);
        if (rc == 0)
            *why = "missing user parameter";
        if (rc <= 0 || !route_name_ok(r->user, strlen(r->user)))
            return 400;
    }
    return 0;
}

static int authorize(const char *query, const char *secret, int64_t now,
                     const struct route *r, const char **why)
{
    char tok[TOKEN_MAX];
    if (!secret)
        return 0; /* auth.mode: none */
    int rc = param_decoded(query, "token", tok, sizeof tok);
    if (rc <= 0) {
        *why = rc == 0 ? "missing token" : "malformed token";
        return 401;
    }
    enum token_verdict v = token_verify(secret, strlen(secret), TOKEN_SUBSCRIBE,
                                        tok, r->queue, r->user, now);
    *why = token_verdict_str(v);
    return v == TOKEN_OK ? 0 : v == TOKEN_OTHER_SUBJECT ? 403 : 401;
}

int route_request(const char *path, const char *query, const char *last_event_id,
                  const char *secret, int64_t now, struct route *r,
                  const char **why)
{
    (void)last_event_id; /* see parse_query */
    memset(r, 0, sizeof *r);
    int code = parse_path(path, r, why);
    if (!code)
        code = parse_query(query, r, why);
    if (!code)
        code = authorize(query, secret, now, r, why);
    return code;
}
