/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg_relay: the typed configuration of outbox-relay and its schema table.
 *
 * Every key, its default, its bounds and its one-line documentation live in
 * the tables of cfg_relay.c; config/relay.yaml is the commented sample and
 * must stay loadable (a test loads it). Durations are milliseconds, sizes
 * bytes.
 */
#ifndef OUTBOX_CFG_RELAY_H
#define OUTBOX_CFG_RELAY_H

#include <stdbool.h>

#include "config/cfg.h"

enum relay_flavor { RELAY_FLAVOR_AUTO, RELAY_FLAVOR_MARIADB, RELAY_FLAVOR_MYSQL };
enum relay_ssl_mode {
    RELAY_SSL_DISABLED,
    RELAY_SSL_PREFERRED,
    RELAY_SSL_REQUIRED,
    RELAY_SSL_VERIFY_CA,
    RELAY_SSL_VERIFY_IDENTITY,
};
enum relay_delivery { RELAY_AT_LEAST_ONCE, RELAY_EXACTLY_ONCE };
enum relay_ckpt_store { RELAY_CKPT_KAFKA, RELAY_CKPT_FILE };
enum relay_invalid_action { RELAY_INVALID_DLQ, RELAY_INVALID_STOP };

#define RELAY_MAX_HOSTS 16

struct relay_source_cfg {
    char *host;
    int64_t port;
    /* Candidates, "host:port" (port optional: `port`); empty: host and
     * port are the one candidate. */
    struct cfg_strlist hosts;
    char *primary; /* one of hosts, taken without asking; NULL: ask */
    char *user;
    char *password; /* secret; or password_file */
    int64_t server_id;
    int flavor;         /* enum relay_flavor */
    char *start;        /* latest | earliest | GTID set | FILE:POS */
    int ssl_mode;       /* enum relay_ssl_mode */
    char *ssl_ca;
    char *server_public_key; /* PEM file; NULL: fetched from the server */
    int64_t connect_timeout_ms;
    int64_t read_timeout_ms;
    int64_t heartbeat_ms;
    struct cfg_backoff reconnect;
};

struct relay_table_cfg {
    char *table;          /* "db.table" */
    char *topic;          /* template: ${column} placeholders */
    char *key_column;
    char *value_column;
    struct cfg_map headers; /* header name -> column */
    int64_t max_payload;
};

struct relay_kafka_cfg {
    char *brokers;
    char *client_id;
    int64_t buffer_memory;
    struct cfg_map properties; /* passed to librdkafka as they are */
};

struct relay_delivery_cfg {
    int mode; /* enum relay_delivery */
    int64_t stall_timeout_ms;
};

struct relay_checkpoint_cfg {
    int store; /* enum relay_ckpt_store */
    char *topic;
    char *path;
    int64_t interval_ms;
};

struct relay_dlq_cfg {
    int action; /* enum relay_invalid_action */
    char *topic;
};

/* Standby relays: one leader per name, elected by a Kafka consumer group. */
struct relay_ha_cfg {
    bool enabled;
    char *group; /* "" -> outbox-relay.NAME */
    char *topic; /* the coordination topic */
    int64_t session_timeout_ms;
};

struct relay_cfg {
    char *name;
    int log_level; /* enum log_level */
    struct relay_source_cfg source;
    struct cfg_list outbox; /* of struct relay_table_cfg */
    struct relay_kafka_cfg kafka;
    struct relay_delivery_cfg delivery;
    struct relay_checkpoint_cfg checkpoint;
    struct relay_dlq_cfg dead_letter;
    struct relay_ha_cfg ha;
    struct cfg_metrics metrics;
};

extern const struct cfg_schema relay_cfg_schema;

/* Checks a `start` value: latest, earliest, a MariaDB GTID list
 * (D-S-N[,D-S-N...]), a MySQL GTID set (UUID:N[-M][:...][,UUID...]) or
 * FILE:POS. Returns 0 or -1 with a message. */
int relay_cfg_check_start(const char *s, char *err, size_t errlen);

/* Splits a source.hosts entry, "host", "host:port" or "[v6addr]:port",
 * into host (brackets removed) and port (dflt_port when none is given).
 * Returns 0 or -1 with a message. */
int relay_cfg_split_host(const char *entry, int64_t dflt_port, char *host,
                         size_t hostlen, int64_t *port, char *err,
                         size_t errlen);

#endif
