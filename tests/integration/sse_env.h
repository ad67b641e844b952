/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sse_env: Redis + kafka-mock + outbox-sse, and many SSE clients, for a
 * test.
 *
 * The clients are the test's own: raw HTTP/1.1 over libevent bufferevents
 * (chunked transfer decoded, SSE lines parsed), so that a thousand of them
 * fit one thread, each remembering what it was told. The test drives the
 * world synchronously (Redis commands, change events through a librdkafka
 * producer) and pumps the clients' loop in between.
 */
#ifndef OUTBOX_TEST_SSE_ENV_H
#define OUTBOX_TEST_SSE_ENV_H

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "tests/harness/th.h"

struct bufferevent;
struct evbuffer;

struct sse_env {
    struct th_redis redis;
    struct th_kafka kafka;
    struct th_proc sse;
    char dir[256], config[320];
    int http_port, metrics_port;
    rd_kafka_t *producer;
    redisContext *rc;
    struct event_base *base; /* the clients' loop */
};

/* Servers up, config written (extra YAML appended: later keys of a section
 * are not allowed twice, so `extra` holds whole sections the default
 * leaves out: queues, auth), outbox-sse started and serving. */
int sse_env_start(struct sse_env *e, const char *http_extra,
                  const char *sections);
/* sse_env_start with more choices; NULL or 0 fields keep the defaults. */
struct sse_env_opts {
    const char *http_extra, *sections; /* as for sse_env_start */
    const char *more_topics; /* ", t2, t3" after outbox.event.queue */
    const char *kafka_extra; /* more keys of the kafka section */
    /* Redis over TLS (certificates from th_make_certs): the daemon trusts
     * tls_ca (a file name in certs) and shows client.pem. With the wrong
     * CA it never becomes healthy: the start then fails after its wait,
     * leaving everything running for the test to look at. */
    const char *certs, *tls_ca;
    /* http.workers; 0 here means 1 (one process, as most tests want: the
     * worker tests ask for more) */
    int workers;
};
int sse_env_start_opts(struct sse_env *e, const struct sse_env_opts *o);
/* Stops everything; returns outbox-sse's exit status (0: clean, which
 * in the sanitizer build also means no leak). */
int sse_env_stop(struct sse_env *e);
/* Starts outbox-sse again (after a stop) and waits for it. */
int sse_env_run_sse(struct sse_env *e);

/* n change events for the queue, delivered to the mock. 0 or -1. */
int sse_env_publish(struct sse_env *e, const char *queue, int n);
/* A Redis command; the reply is freed here, its integer returned (-1 on
 * error, -2 for nil). */
long long sse_env_redis(struct sse_env *e, const char *fmt, ...);
/* Users u0..u(n-1) into the ZSET `key` in one ZADD, scored 1000 + i (so
 * at ranks 1..n when nothing else is there). The number added, or -1. */
long long sse_env_fill(struct sse_env *e, const char *key, int n);
/* The value of a metric line "name value" (labels included in name). */
long long sse_env_metric(struct sse_env *e, const char *name);
/* A subscribe token from the daemon's own `token` subcommand. */
int sse_env_token(struct sse_env *e, const char *queue, const char *user,
                  int ttl, char *out, size_t len);

/* Runs the clients' loop for ms milliseconds. */
void sse_env_pump(struct sse_env *e, int ms);

struct sse_client {
    struct sse_env *e;
    struct bufferevent *bev;
    char queue[64], user[64];
    int status;        /* HTTP status, 0 until the headers are in */
    int closed;        /* the server ended the stream or the connection */
    int ranks, confirms, gones, retries, pings;
    int foreign; /* events naming another queue or user (never, we hope) */
    long long last_rank, last_waiting;
    uint64_t last_id;  /* of this connection; 0 before its first */
    int ids_backwards; /* an id not above the one before, on one connection */
    int64_t last_event_ms; /* monotonic time of the last event or ping */
    char last_data[512];
    /* parser state */
    int in_body, chunked;
    long chunk_left; /* -1: expecting a size line */
    char event[32];
    struct evbuffer *body; /* decoded, not yet a whole line */
    char request[1024];
    int rcvbuf;
    int reconnect;  /* set: behave like EventSource after a stream ends */
    int reconnects; /* how often it did */
};

/* Connects and sends the request for the events of (queue, user). The
 * token is added when non-NULL. rcvbuf > 0 shrinks the socket's receive
 * buffer first. */
int sse_client_open(struct sse_env *e, struct sse_client *c, const char *queue,
                    const char *user, const char *token, int rcvbuf);
void sse_client_close(struct sse_client *c);

/* A raw request (anything) and the status line's code, or -1. */
int sse_env_raw(struct sse_env *e, const char *request, char *resp, size_t len);

int64_t sse_env_now_ms(void);

#endif
