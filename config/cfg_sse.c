/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema of outbox-sse's YAML file. Redis key templates use {queue}
 * (not ${...}, which is an environment reference elsewhere in the file).
 */
#include "config/cfg_sse.h"

#include <stddef.h>
#include <string.h>

#define F(st, m) offsetof(struct st, m)

static const char *const queue_from[] = {"key", "field", NULL};
static const char *const admitted_types[] = {"zset", "set", NULL};
static const char *const auth_modes[] = {"hmac", "none", NULL};

static int kafka_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct sse_kafka_cfg *k = obj;
    *key = "queue_from";
    if (k->queue_from == SSE_QUEUE_FROM_FIELD && !k->queue_field) {
        snprintf(err, errlen,
                 "'queue_field' is required when 'queue_from' is field");
        return -1;
    }
    return 0;
}

static int key_template_ok(const char *name, const char *t, char *err,
                           size_t errlen)
{
    const char *p = strstr(t, "{queue}");
    if (!p || strstr(p + 1, "{queue}")) {
        snprintf(err, errlen, "'%s' must contain {queue} once (got \"%s\")",
                 name, t);
        return -1;
    }
    return 0;
}

static int redis_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct sse_redis_cfg *r = obj;
    *key = "waiting_key";
    if (key_template_ok(*key, r->waiting_key, err, errlen) < 0)
        return -1;
    *key = "admitted_key";
    if (key_template_ok(*key, r->admitted_key, err, errlen) < 0)
        return -1;
    if (strcmp(r->waiting_key, r->admitted_key) == 0) {
        snprintf(err, errlen, "'waiting_key' and 'admitted_key' must differ");
        return -1;
    }
    return 0;
}

static int http_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct sse_http_cfg *h = obj;
    *key = "listen";
    return cfg_check_listen(h->listen, err, errlen);
}

static int auth_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct sse_auth_cfg *a = obj;
    *key = "mode";
    if (a->mode == SSE_AUTH_HMAC && !a->secret) {
        snprintf(err, errlen, "'secret_file' (or 'secret') is required when "
                              "'mode' is hmac");
        return -1;
    }
    /* Anyone holding the secret can mint tokens for any user and forge
     * admissions: short keys are refused rather than trusted (and the
     * sample's placeholder, by sse_cfg_check_secret). */
    *key = "secret";
    if (a->mode == SSE_AUTH_HMAC && strlen(a->secret) < SSE_SECRET_MIN) {
        snprintf(err, errlen, "the secret must be at least %d bytes",
                 SSE_SECRET_MIN);
        return -1;
    }
    *key = "mode";
    return 0;
}

static const struct cfg_field kafka_fields[] = {
    {"brokers", CFG_STR, F(sse_kafka_cfg, brokers), CFG_F_REQUIRED, NULL, 0,
     0, NULL, NULL, "bootstrap servers, host:port[,host:port]"},
    {"topics", CFG_STRLIST, F(sse_kafka_cfg, topics), 0, "outbox.event.queue",
     1, 0, NULL, NULL, "topics whose records say a queue changed"},
    {"queue_from", CFG_ENUM, F(sse_kafka_cfg, queue_from), 0, "key", 0, 0,
     queue_from, NULL, "queue name: the record key, or a JSON field"},
    {"queue_field", CFG_STR, F(sse_kafka_cfg, queue_field), 0, NULL, 0, 0,
     NULL, NULL, "top-level JSON field of the value naming the queue"},
    {"discovery_interval", CFG_DURATION, F(sse_kafka_cfg, discovery_ms), 0,
     "10s", 100, 3600000, NULL, NULL,
     "how often the topics are checked for new partitions (and topics "
     "that did not exist yet)"},
    {"properties", CFG_MAP, F(sse_kafka_cfg, properties), 0, NULL, 0, 0, NULL,
     NULL, "librdkafka consumer properties, passed as they are"},
    {.key = NULL},
};
static const struct cfg_schema kafka_schema = {
    "kafka", sizeof(struct sse_kafka_cfg), kafka_fields, kafka_validate,
};

static int redis_tls_validate(void *obj, const char **key, char *err,
                              size_t errlen)
{
    struct sse_redis_tls_cfg *t = obj;
    *key = t->cert ? "key" : "cert";
    if (!t->cert != !t->key) {
        snprintf(err, errlen, "'cert' and 'key' go together");
        return -1;
    }
    return 0;
}

static const struct cfg_field redis_tls_fields[] = {
    {"enabled", CFG_BOOL, F(sse_redis_tls_cfg, enabled), 0, "false", 0, 0,
     NULL, NULL, "TLS to Redis (the server certificate is always verified)"},
    {"ca", CFG_STR, F(sse_redis_tls_cfg, ca), 0, NULL, 0, 0, NULL, NULL,
     "CA bundle (PEM) to verify the server with; default: the system's"},
    {"cert", CFG_STR, F(sse_redis_tls_cfg, cert), 0, NULL, 0, 0, NULL, NULL,
     "client certificate (PEM), for Redis's tls-auth-clients"},
    {"key", CFG_STR, F(sse_redis_tls_cfg, key), 0, NULL, 0, 0, NULL, NULL,
     "its private key (PEM)"},
    {"server_name", CFG_STR, F(sse_redis_tls_cfg, server_name), 0, NULL, 0, 0,
     NULL, NULL, "name or IP the certificate must carry; default: host"},
    {.key = NULL},
};
static const struct cfg_schema redis_tls_schema = {
    "tls", sizeof(struct sse_redis_tls_cfg), redis_tls_fields,
    redis_tls_validate,
};

static const struct cfg_field redis_fields[] = {
    {"host", CFG_STR, F(sse_redis_cfg, host), 0, "127.0.0.1", 0, 0, NULL,
     NULL, "Redis server"},
    {"port", CFG_INT, F(sse_redis_cfg, port), 0, "6379", 1, 65535, NULL, NULL,
     "TCP port of Redis"},
    {"password", CFG_STR, F(sse_redis_cfg, password), CFG_F_SECRET, NULL, 0,
     0, NULL, NULL, "AUTH password; or password_file"},
    {"db", CFG_INT, F(sse_redis_cfg, db), 0, "0", 0, 15, NULL, NULL,
     "database number"},
    {"waiting_key", CFG_STR, F(sse_redis_cfg, waiting_key), CFG_F_TEMPLATE,
     "queue:{queue}:waiting", 0, 0, NULL, NULL,
     "ZSET of waiting users (score: join time)"},
    {"admitted_key", CFG_STR, F(sse_redis_cfg, admitted_key), CFG_F_TEMPLATE,
     "queue:{queue}:admitted", 0, 0, NULL, NULL,
     "ZSET or SET of admitted users"},
    {"admitted_type", CFG_ENUM, F(sse_redis_cfg, admitted_type), 0, "zset", 0,
     0, admitted_types, NULL, "Redis type of admitted_key"},
    {"connect_timeout", CFG_DURATION, F(sse_redis_cfg, connect_timeout_ms), 0,
     "2s", 10, 600000, NULL, NULL, "TCP connect"},
    {"reconnect", CFG_SECTION, F(sse_redis_cfg, reconnect), 0, NULL, 0, 0,
     NULL, &cfg_backoff_schema, "backoff between reconnect attempts"},
    {"tls", CFG_SECTION, F(sse_redis_cfg, tls), 0, NULL, 0, 0, NULL,
     &redis_tls_schema, "TLS to Redis"},
    {.key = NULL},
};
static const struct cfg_schema redis_schema = {
    "redis", sizeof(struct sse_redis_cfg), redis_fields, redis_validate,
};

static const struct cfg_field http_fields[] = {
    {"listen", CFG_STR, F(sse_http_cfg, listen), 0, "127.0.0.1:8080", 0, 0,
     NULL, NULL, "address of the SSE endpoint"},
    {"cors_origins", CFG_STRLIST, F(sse_http_cfg, cors_origins), 0, NULL, 0,
     0, NULL, NULL, "origins allowed to read the streams (or \"*\"); empty: "
     "none"},
    {"max_connections", CFG_INT, F(sse_http_cfg, max_connections), 0,
     "10000", 1, 10000000, NULL, NULL,
     "connections held, also those still sending their request; beyond: 503 "
     "with Retry-After"},
    {"max_output_buffer", CFG_SIZE, F(sse_http_cfg, max_output_buffer), 0,
     "64KiB", 1024, 67108864, NULL, NULL,
     "unsent bytes after which a slow reader is cut off"},
    {"header_timeout", CFG_DURATION, F(sse_http_cfg, header_timeout_ms), 0,
     "10s", 100, 600000, NULL, NULL, "time to send the request headers"},
    {"heartbeat_interval", CFG_DURATION, F(sse_http_cfg, heartbeat_ms), 0,
     "15s", 100, 3600000, NULL, NULL, "': ping' comment this often"},
    {"retry_hint", CFG_DURATION, F(sse_http_cfg, retry_ms), 0, "3s", 100,
     3600000, NULL, NULL, "'retry:' sent to clients"},
    {"drain_window", CFG_DURATION, F(sse_http_cfg, drain_ms), 0, "10s", 0,
     600000, NULL, NULL, "on SIGTERM, streams close spread over this"},
    {"workers", CFG_INT, F(sse_http_cfg, workers), 0, "0", 0, 256, NULL, NULL,
     "processes sharing the port (SO_REUSEPORT), each with its own loop, "
     "Kafka consumer and Redis client, under a supervisor that restarts "
     "them and serves /metrics and /healthz for all; 0: one per core, 1: a "
     "single process without a supervisor"},
    {.key = NULL},
};
static const struct cfg_schema http_schema = {
    "http", sizeof(struct sse_http_cfg), http_fields, http_validate,
};

static const struct cfg_field auth_fields[] = {
    {"mode", CFG_ENUM, F(sse_auth_cfg, mode), 0, "hmac", 0, 0, auth_modes,
     NULL, "hmac, or none (local demos only)"},
    {"secret", CFG_STR, F(sse_auth_cfg, secret), CFG_F_SECRET, NULL, 0, 0,
     NULL, NULL, "HMAC key; or secret_file"},
    {"admission_ttl", CFG_DURATION, F(sse_auth_cfg, admission_ttl_ms), 0,
     "10m", 1000, 86400000, NULL, NULL, "lifetime of admission tokens"},
    {.key = NULL},
};
static const struct cfg_schema auth_schema = {
    "auth", sizeof(struct sse_auth_cfg), auth_fields, auth_validate,
};

static const struct cfg_field queues_fields[] = {
    {"coalesce_interval", CFG_DURATION, F(sse_queues_cfg, coalesce_ms), 0,
     "100ms", 1, 60000, NULL, NULL, "a queue is recomputed at most once per this interval"},
    {"refresh_interval", CFG_DURATION, F(sse_queues_cfg, refresh_ms), 0,
     "5s", 100, 3600000, NULL, NULL, "full recompute even without events"},
    {"eta_window", CFG_DURATION, F(sse_queues_cfg, eta_window_ms), 0, "60s",
     1000, 3600000, NULL, NULL, "window over which the admission rate (for eta_s) is measured"},
    {.key = NULL},
};
static const struct cfg_schema queues_schema = {
    "queues", sizeof(struct sse_queues_cfg), queues_fields, NULL,
};

/* The relay's endpoint defaults to 9464; both may share a host. */
static const struct cfg_field metrics_fields[] = {
    {"listen", CFG_STR, F(cfg_metrics, listen), 0, "127.0.0.1:9465", 0, 0,
     NULL, NULL, "address of /metrics and /healthz"},
    {.key = NULL},
};
static const struct cfg_schema metrics_schema = {
    "metrics", sizeof(struct cfg_metrics), metrics_fields,
    cfg_metrics_validate,
};

static const struct cfg_field sse_fields[] = {
    {"name", CFG_STR, F(sse_cfg, name), 0, "outbox-sse", 0, 0, NULL, NULL,
     "instance name, in logs and client.id"},
    {"log_level", CFG_ENUM, F(sse_cfg, log_level), 0, "info", 0, 0,
     cfg_log_levels, NULL, "least severe level of the logfmt lines on stderr"},
    {"kafka", CFG_SECTION, F(sse_cfg, kafka), 0, NULL, 0, 0, NULL,
     &kafka_schema, "where change events come from"},
    {"redis", CFG_SECTION, F(sse_cfg, redis), 0, NULL, 0, 0, NULL,
     &redis_schema, "where the queues live"},
    {"http", CFG_SECTION, F(sse_cfg, http), 0, NULL, 0, 0, NULL, &http_schema,
     "the SSE endpoint"},
    {"auth", CFG_SECTION, F(sse_cfg, auth), 0, NULL, 0, 0, NULL, &auth_schema,
     "subscribe and admission tokens"},
    {"queues", CFG_SECTION, F(sse_cfg, queues), 0, NULL, 0, 0, NULL,
     &queues_schema, "recompute pacing"},
    {"metrics", CFG_SECTION, F(sse_cfg, metrics), 0, NULL, 0, 0, NULL,
     &metrics_schema, "/metrics and /healthz"},
    {.key = NULL},
};
const struct cfg_schema sse_cfg_schema = {
    "sse", sizeof(struct sse_cfg), sse_fields, NULL,
};

int sse_cfg_check_secret(const struct sse_cfg *c, char *err, size_t errlen)
{
    if (c->auth.mode != SSE_AUTH_HMAC || !c->auth.secret ||
        strcmp(c->auth.secret, SSE_SECRET_PLACEHOLDER) != 0)
        return 0;
    snprintf(err, errlen, "auth.secret is still the sample's placeholder: "
             "set OUTBOX_SSE_SECRET or secret_file to 32 random bytes "
             "(e.g. `openssl rand -base64 32`)");
    return -1;
}
