/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_sse: the typed configuration of outbox-sse and its schema table.
 * config/sse.yaml is the commented sample; a test loads it.
 */
#ifndef OUTBOX_CFG_SSE_H
#define OUTBOX_CFG_SSE_H

#include <stdbool.h>

#include "config/cfg.h"

enum sse_queue_from { SSE_QUEUE_FROM_KEY, SSE_QUEUE_FROM_FIELD };
enum sse_admitted_type { SSE_ADMITTED_ZSET, SSE_ADMITTED_SET };
enum sse_auth_mode { SSE_AUTH_HMAC, SSE_AUTH_NONE };

struct sse_kafka_cfg {
    char *brokers;
    struct cfg_strlist topics;
    int queue_from;   /* enum sse_queue_from */
    char *queue_field; /* JSON field of the value, for queue_from: field */
    int64_t discovery_ms; /* how often topics are checked for partitions */
    struct cfg_map properties;
};

struct sse_redis_tls_cfg {
    bool enabled;
    char *ca;          /* CA bundle; NULL: the system's */
    char *cert, *key;  /* client certificate, both or neither */
    char *server_name; /* checked against the certificate; NULL: host */
};

struct sse_redis_cfg {
    char *host;
    int64_t port;
    char *password; /* secret; or password_file */
    int64_t db;
    char *waiting_key;  /* template with {queue} */
    char *admitted_key; /* template with {queue} */
    int admitted_type;  /* enum sse_admitted_type */
    int64_t connect_timeout_ms;
    struct cfg_backoff reconnect;
    struct sse_redis_tls_cfg tls;
};

struct sse_http_cfg {
    char *listen;
    struct cfg_strlist cors_origins;
    int64_t max_connections;
    int64_t max_output_buffer;
    int64_t header_timeout_ms;
    int64_t heartbeat_ms;
    int64_t retry_ms;
    int64_t drain_ms;
    int64_t workers; /* 0: one per online core */
};

/* The sample configuration's fallback secret, refused at load. */
#define SSE_SECRET_PLACEHOLDER "change-me-to-32-random-bytes!!"
#define SSE_SECRET_MIN 16

struct sse_auth_cfg {
    int mode; /* enum sse_auth_mode */
    char *secret; /* secret; or secret_file */
    int64_t admission_ttl_ms;
};

struct sse_queues_cfg {
    int64_t coalesce_ms;
    int64_t refresh_ms;
    int64_t eta_window_ms;
};

struct sse_cfg {
    char *name;
    int log_level;
    struct sse_kafka_cfg kafka;
    struct sse_redis_cfg redis;
    struct sse_http_cfg http;
    struct sse_auth_cfg auth;
    struct sse_queues_cfg queues;
    struct cfg_metrics metrics;
};

extern const struct cfg_schema sse_cfg_schema;

/* The sample's placeholder secret is public (it ships in every package):
 * -1 with a message when auth would trust it. Not part of loading, since
 * --check-config only warns about it: the systemd unit supplies
 * OUTBOX_SSE_SECRET from its EnvironmentFile, which the shell running the
 * check may not have; starting and minting tokens refuse it. */
int sse_cfg_check_secret(const struct sse_cfg *c, char *err, size_t errlen);

#endif
