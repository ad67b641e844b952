/* SPDX-License-Identifier: Apache-2.0 */
#include "sse/redis_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

/* One hiredis connection: its Unix side and its TLS side to Redis. */
struct link {
    struct rtls *t;
    struct bufferevent *plain, *tls;
    struct link *prev, *next;
};

struct rtls {
    struct event_base *base;
    const struct sse_redis_cfg *cfg;
    SSL_CTX *ctx;
    struct evconnlistener *listener;
    struct link *links;
    char dir[256];
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Appends OpenSSL error e to buf ("; " between two); returns the length. */
static size_t put_error(char *buf, size_t len, size_t used, unsigned long e)
{
    if (used + 3 >= len || ERR_GET_LIB(e) == 0)
        return used; /* full, or an entry with nothing to say */
    if (used)
        buf[used++] = ';', buf[used++] = ' ';
    ERR_error_string_n(e, buf + used, len - used);
    return used + strlen(buf + used);
}

/* ---- carrying bytes ----------------------------------------------------- */

static void link_close(struct link *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        l->t->links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    bufferevent_free(l->plain);
    bufferevent_free(l->tls);
    free(l);
}

static void on_read(struct bufferevent *from, void *arg)
{
    struct link *l = arg;
    struct bufferevent *to = from == l->plain ? l->tls : l->plain;
    bufferevent_write_buffer(to, bufferevent_get_input(from));
}

/* Why the TLS side failed, from OpenSSL or the socket. */
static void tls_failure(struct link *l, short what, char *buf, size_t len)
{
    unsigned long e;
    size_t used = 0;
    buf[0] = '\0';
    while ((e = bufferevent_get_openssl_error(l->tls)) != 0)
        used = put_error(buf, len, used, e);
    SSL *ssl = bufferevent_openssl_get_ssl(l->tls);
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(buf + used, len - used, "%scertificate: %s",
                 used ? "; " : "", X509_verify_cert_error_string(v));
    else if (!buf[0])
        snprintf(buf, len, "%s", what & BEV_EVENT_TIMEOUT ? "timed out"
                 : what & BEV_EVENT_EOF ? "closed by the server"
                 : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct link *l = arg;
    char why[512];
    if (what & BEV_EVENT_CONNECTED) {
        bufferevent_set_timeouts(l->tls, NULL, NULL); /* handshake done */
        return;
    }
    if (bev == l->tls) {
        tls_failure(l, what, why, sizeof why);
        log_warn("redis", "TLS to %s:%lld: %s", l->t->cfg->host,
                 (long long)l->t->cfg->port, why);
    }
    link_close(l); /* hiredis sees the Unix side close */
}

/* ---- one connection ----------------------------------------------------- */

/* The name the certificate must carry: a host name, or an IP address. */
static int expect_name(SSL *ssl, const char *name)
{
    unsigned char ip[16];
    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
                   ? 0 : -1;
    return SSL_set_tlsext_host_name(ssl, name) == 1 &&
                   SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

static int connect_tls(struct link *l)
{
    const struct sse_redis_cfg *c = l->t->cfg;
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%lld", (long long)c->port);
    /* A blocking look-up, as hiredis's own connect does. */
    int rc = evutil_getaddrinfo(c->host, port, &hints, &ai);
    if (rc != 0) {
        log_warn("redis", "TLS to %s: %s", c->host, evutil_gai_strerror(rc));
        return -1;
    }
    struct timeval tv = {c->connect_timeout_ms / 1000,
                         (c->connect_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(l->tls, &tv, &tv);
    rc = bufferevent_socket_connect(l->tls, ai->ai_addr, (int)ai->ai_addrlen);
    evutil_freeaddrinfo(ai);
    return rc;
}

static void on_accept(struct evconnlistener *ln, evutil_socket_t fd,
                      struct sockaddr *sa, int salen, void *arg)
{
    struct rtls *t = arg;
    const struct sse_redis_tls_cfg *tc = &t->cfg->tls;
    (void)ln, (void)sa, (void)salen;
    struct link *l = calloc(1, sizeof *l);
    SSL *ssl = SSL_new(t->ctx);
    if (!l || !ssl ||
        expect_name(ssl, tc->server_name ? tc->server_name : t->cfg->host) < 0) {
        log_warn("redis", "TLS: cannot set up a connection");
        SSL_free(ssl), free(l), close(fd);
        return;
    }
    l->t = t;
    l->plain = bufferevent_socket_new(t->base, fd, BEV_OPT_CLOSE_ON_FREE);
    l->tls = bufferevent_openssl_socket_new(t->base, -1, ssl,
                                            BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!l->plain || !l->tls) {
        log_warn("redis", "TLS: out of memory");
        if (l->plain)
            bufferevent_free(l->plain);
        else
            close(fd);
        if (l->tls)
            bufferevent_free(l->tls);
        else
            SSL_free(ssl);
        free(l);
        return;
    }
    /* Redis may close without a close_notify; that is no attack here. */
    bufferevent_openssl_set_allow_dirty_shutdown(l->tls, 1);
    if ((l->next = t->links))
        t->links->prev = l;
    t->links = l;
    bufferevent_setcb(l->plain, on_read, NULL, on_event, l);
    bufferevent_setcb(l->tls, on_read, NULL, on_event, l);
    bufferevent_enable(l->plain, EV_READ | EV_WRITE);
    bufferevent_enable(l->tls, EV_READ | EV_WRITE);
    if (connect_tls(l) < 0)
        link_close(l);
}

/* ---- setup -------------------------------------------------------------- */

static SSL_CTX *make_ctx(const struct sse_redis_tls_cfg *tc, char *err,
                         size_t errlen)
{
    char why[400];
    unsigned long e;
    const char *step = "setting up TLS";
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    step = tc->ca ? tc->ca : "the system's CA certificates";
    if ((tc->ca ? SSL_CTX_load_verify_locations(ctx, tc->ca, NULL)
                : SSL_CTX_set_default_verify_paths(ctx)) != 1)
        goto fail;
    if (tc->cert) {
        step = tc->cert;
        if (SSL_CTX_use_certificate_chain_file(ctx, tc->cert) != 1)
            goto fail;
        step = tc->key;
        if (SSL_CTX_use_PrivateKey_file(ctx, tc->key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            goto fail;
    }
    return ctx;
fail:
    why[0] = '\0';
    for (size_t used = 0; (e = ERR_get_error()) != 0;)
        used = put_error(why, sizeof why, used, e);
    snprintf(err, errlen, "redis.tls: %s: %s", step, why[0] ? why : "failed");
    SSL_CTX_free(ctx);
    return NULL;
}

/* A private directory for the socket: only our user may connect. */
static int make_socket_dir(struct rtls *t, char *err, size_t errlen)
{
    const char *base = getenv("RUNTIME_DIRECTORY"); /* systemd's, if set */
    if (!base || !*base || strchr(base, ':'))
        base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(t->dir, sizeof t->dir, "%s/outbox-sse-redis.XXXXXX", base);
    if (!mkdtemp(t->dir)) {
        snprintf(err, errlen, "redis.tls: cannot make a directory in %s: %s",
                 base, strerror(errno));
        t->dir[0] = '\0';
        return -1;
    }
    int n = snprintf(t->path, sizeof t->path, "%s/tls.sock", t->dir);
    if (n < 0 || (size_t)n >= sizeof t->path) {
        snprintf(err, errlen, "redis.tls: socket path too long under %s", base);
        return -1;
    }
    return 0;
}

struct rtls *rtls_new(struct event_base *base, const struct sse_redis_cfg *cfg,
                      char *err, size_t errlen)
{
    struct rtls *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->base = base;
    t->cfg = cfg;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (!(t->ctx = make_ctx(&cfg->tls, err, errlen)) ||
        make_socket_dir(t, err, errlen) < 0)
        goto fail;
    memcpy(sun.sun_path, t->path, strlen(t->path) + 1);
    t->listener = evconnlistener_new_bind(
        base, on_accept, t, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
        (struct sockaddr *)&sun, (int)sizeof sun);
    if (!t->listener) {
        snprintf(err, errlen, "redis.tls: cannot listen on %s: %s", t->path,
                 strerror(errno));
        goto fail;
    }
    return t;
fail:
    rtls_free(t);
    return NULL;
}

const char *rtls_path(const struct rtls *t) { return t->path; }

void rtls_free(struct rtls *t)
{
    if (!t)
        return;
    while (t->links)
        link_close(t->links);
    if (t->listener)
        evconnlistener_free(t->listener);
    if (t->dir[0]) {
        unlink(t->path);
        rmdir(t->dir);
    }
    SSL_CTX_free(t->ctx);
    free(t);
}
