/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema of outbox-relay's YAML file. Defaults follow Debezium's Outbox
 * Event Router, so that consumers written for Debezium see the same topics,
 * keys, values and headers.
 */
#include "config/cfg_relay.h"

#include "common/position.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F(st, m) offsetof(struct st, m)

static const char *const flavors[] = {"auto", "mariadb", "mysql", NULL};
static const char *const ssl_modes[] = {"disabled", "preferred", "required",
                                        "verify_ca", "verify_identity", NULL};
static const char *const deliveries[] = {"at_least_once", "exactly_once",
                                         NULL};
static const char *const stores[] = {"kafka", "file", NULL};
static const char *const actions[] = {"dlq", "stop", NULL};

/* ---- start positions -------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

int relay_cfg_check_start(const char *s, char *err, size_t errlen)
{
    const char *colon = strrchr(s, ':');
    struct relay_position p;
    pos_init(&p);
    int is_gtid = pos_parse_gtid(&p, s, err, errlen) == 0;
    pos_free(&p);
    if (strcmp(s, "latest") == 0 || strcmp(s, "earliest") == 0 || is_gtid)
        return 0;
    if (colon && colon != s && !memchr(s, ':', (size_t)(colon - s)) &&
        all_digits(colon + 1, strlen(colon + 1)))
        return 0;
    snprintf(err, errlen,
             "'start' must be latest, earliest, a GTID set or FILE:POS "
             "(got \"%s\")", s);
    return -1;
}

/* ---- source hosts ----------------------------------------------------- */

int relay_cfg_split_host(const char *entry, int64_t dflt_port, char *host,
                         size_t hostlen, int64_t *port, char *err,
                         size_t errlen)
{
    const char *h = entry, *end, *colon;
    if (entry[0] == '[') { /* [v6addr] or [v6addr]:port */
        h = entry + 1;
        if (!(end = strchr(h, ']')) || (end[1] && end[1] != ':'))
            goto bad;
        colon = end[1] ? end + 1 : NULL;
    } else {
        colon = strrchr(entry, ':');
        if (colon && memchr(entry, ':', (size_t)(colon - entry)))
            goto bad; /* a bare IPv6 address: brackets needed */
        end = colon ? colon : entry + strlen(entry);
    }
    if (end == h || (size_t)(end - h) >= hostlen)
        goto bad;
    memcpy(host, h, (size_t)(end - h));
    host[end - h] = '\0';
    *port = dflt_port;
    if (colon) {
        long long v = 0;
        if (!all_digits(colon + 1, strlen(colon + 1)) ||
            (v = strtoll(colon + 1, NULL, 10)) < 1 || v > 65535)
            goto bad;
        *port = v;
    }
    return 0;
bad:
    snprintf(err, errlen, "'hosts': entries are host, host:port or "
             "[v6addr]:port with a port of 1 to 65535 (got \"%s\")", entry);
    return -1;
}

/* Each entry readable; the primary one of them; no entry twice. */
static int check_hosts(const struct relay_source_cfg *s, const char **key,
                       char *err, size_t errlen)
{
    char host[256], other[256];
    int64_t port, oport;
    *key = "hosts";
    if (s->hosts.count > RELAY_MAX_HOSTS) {
        snprintf(err, errlen, "'hosts' holds at most %d servers",
                 RELAY_MAX_HOSTS);
        return -1;
    }
    int primary_found = 0;
    for (size_t i = 0; i < s->hosts.count; i++) {
        if (relay_cfg_split_host(s->hosts.items[i], s->port, host, sizeof host,
                                 &port, err, errlen) < 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            relay_cfg_split_host(s->hosts.items[j], s->port, other,
                                 sizeof other, &oport, err, errlen);
            if (oport == port && strcmp(other, host) == 0) {
                snprintf(err, errlen, "'hosts' lists %s twice",
                         s->hosts.items[i]);
                return -1;
            }
        }
        primary_found |= s->primary && !strcmp(s->primary, s->hosts.items[i]);
    }
    *key = "primary";
    if (s->primary && !primary_found) {
        snprintf(err, errlen, "'primary' must be one of the entries of "
                 "'hosts', written the same way (got \"%s\")", s->primary);
        return -1;
    }
    return 0;
}

/* ---- validators ------------------------------------------------------- */

static int source_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct relay_source_cfg *s = obj;
    if (check_hosts(s, key, err, errlen) < 0)
        return -1;
    *key = "start";
    return relay_cfg_check_start(s->start, err, errlen);
}

/* Kafka topic names: [A-Za-z0-9._-], at most 249 characters. */
static bool topic_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == '-';
}

static int check_topic_template(const char *t, char *err, size_t errlen)
{
    for (const char *p = t; *p; p++) {
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p, '}');
            if (!end || end == p + 2) {
                snprintf(err, errlen, "'topic': bad placeholder in \"%s\"", t);
                return -1;
            }
            p = end;
        } else if (!topic_char(*p)) {
            snprintf(err, errlen,
                     "'topic': '%c' cannot appear in a Kafka topic name "
                     "(got \"%s\")", *p, t);
            return -1;
        }
    }
    if (strlen(t) > 249 || t[0] == '\0') {
        snprintf(err, errlen, "'topic' must be 1 to 249 characters long");
        return -1;
    }
    return 0;
}

static int table_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct relay_table_cfg *t = obj;
    *key = "table";
    const char *dot = strchr(t->table, '.');
    if (!dot || dot == t->table || dot[1] == '\0' || strchr(dot + 1, '.')) {
        snprintf(err, errlen,
                 "'table' must be written database.table (got \"%s\")",
                 t->table);
        return -1;
    }
    *key = "topic";
    return check_topic_template(t->topic, err, errlen);
}

static int checkpoint_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct relay_checkpoint_cfg *c = obj;
    *key = "store";
    if (c->store == RELAY_CKPT_FILE && !c->path) {
        snprintf(err, errlen, "'path' is required when 'store' is file");
        return -1;
    }
    *key = "topic";
    return check_topic_template(c->topic, err, errlen);
}

static int dlq_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct relay_dlq_cfg *d = obj;
    *key = "topic";
    return check_topic_template(d->topic, err, errlen);
}

static int relay_validate(void *obj, const char **key, char *err,
                           size_t errlen)
{
    struct relay_cfg *c = obj;
    *key = "outbox";
    for (size_t i = 0; i < c->outbox.count; i++) {
        struct relay_table_cfg *a = CFG_LIST_AT(c->outbox, struct relay_table_cfg, i);
        for (size_t j = 0; j < i; j++) {
            struct relay_table_cfg *b =
                CFG_LIST_AT(c->outbox, struct relay_table_cfg, j);
            if (strcmp(a->table, b->table) == 0) {
                snprintf(err, errlen, "outbox table '%s' is listed twice",
                         a->table);
                return -1;
            }
        }
    }
    *key = "dead_letter";
    if (strcmp(c->dead_letter.topic, c->checkpoint.topic) == 0) {
        snprintf(err, errlen,
                 "the dead-letter and checkpoint topics must differ");
        return -1;
    }
    return 0;
}

/* ---- tables ----------------------------------------------------------- */

static const struct cfg_field source_fields[] = {
    {"host", CFG_STR, F(relay_source_cfg, host), 0, "127.0.0.1", 0, 0, NULL,
     NULL, "MySQL/MariaDB server to replicate from"},
    {"port", CFG_INT, F(relay_source_cfg, port), 0, "3306", 1, 65535, NULL,
     NULL, "TCP port of the source"},
    {"hosts", CFG_STRLIST, F(relay_source_cfg, hosts), 0, NULL, 0, 0, NULL,
     NULL, "candidate servers, host:port, instead of host and port; the "
     "writable one is read (failover)"},
    {"primary", CFG_STR, F(relay_source_cfg, primary), 0, NULL, 0, 0, NULL,
     NULL, "the entry of hosts to read, without asking which is writable"},
    {"user", CFG_STR, F(relay_source_cfg, user), CFG_F_REQUIRED, NULL, 0, 0,
     NULL, NULL, "replication user (see schema/grants.sql)"},
    {"password", CFG_STR, F(relay_source_cfg, password), CFG_F_SECRET, NULL,
     0, 0, NULL, NULL, "password of the replication user; or password_file"},
    {"server_id", CFG_INT, F(relay_source_cfg, server_id), CFG_F_REQUIRED,
     NULL, 1, 4294967295LL, NULL, NULL,
     "replica server id, unique among all replicas of the source"},
    {"flavor", CFG_ENUM, F(relay_source_cfg, flavor), 0, "auto", 0, 0,
     flavors, NULL, "server kind; auto asks the server"},
    {"start", CFG_STR, F(relay_source_cfg, start), 0, "latest", 0, 0, NULL,
     NULL, "where to begin when there is no checkpoint: latest, earliest, "
     "a GTID set or FILE:POS"},
    {"ssl_mode", CFG_ENUM, F(relay_source_cfg, ssl_mode), 0, "preferred", 0,
     0, ssl_modes, NULL, "TLS to the source"},
    {"ssl_ca", CFG_STR, F(relay_source_cfg, ssl_ca), 0, NULL, 0, 0, NULL,
     NULL, "CA bundle for verify_ca / verify_identity"},
    {"server_public_key", CFG_STR, F(relay_source_cfg, server_public_key), 0,
     NULL, 0, 0, NULL, NULL,
     "the source's RSA public key (PEM) for caching_sha2_password without "
     "TLS; unset: fetched from the source"},
    {"connect_timeout", CFG_DURATION, F(relay_source_cfg, connect_timeout_ms),
     0, "10s", 100, 600000, NULL, NULL, "TCP connect and handshake"},
    {"read_timeout", CFG_DURATION, F(relay_source_cfg, read_timeout_ms), 0,
     "30s", 1000, 3600000, NULL, NULL,
     "silence after which the connection is taken for dead"},
    {"heartbeat_interval", CFG_DURATION, F(relay_source_cfg, heartbeat_ms), 0,
     "1s", 100, 600000, NULL, NULL,
     "source sends a heartbeat this often when idle (the checkpoint of an "
     "idle relay trails by at most this)"},
    {"reconnect", CFG_SECTION, F(relay_source_cfg, reconnect), 0, NULL, 0, 0,
     NULL, &cfg_backoff_schema, "backoff between reconnect attempts"},
    {.key = NULL},
};
static const struct cfg_schema source_schema = {
    "source", sizeof(struct relay_source_cfg), source_fields, source_validate,
};

static const struct cfg_field table_fields[] = {
    {"table", CFG_STR, F(relay_table_cfg, table), CFG_F_REQUIRED, NULL, 0, 0,
     NULL, NULL, "database.table of the outbox"},
    {"topic", CFG_STR, F(relay_table_cfg, topic), CFG_F_TEMPLATE,
     "outbox.event.${aggregatetype}", 0, 0, NULL, NULL,
     "topic template; ${column} is that column's value"},
    {"key_column", CFG_STR, F(relay_table_cfg, key_column), 0, "aggregateid",
     0, 0, NULL, NULL, "column whose value is the record key"},
    {"value_column", CFG_STR, F(relay_table_cfg, value_column), 0, "payload",
     0, 0, NULL, NULL, "column whose value is the record value"},
    {"headers", CFG_MAP, F(relay_table_cfg, headers), 0, "id=id,type=type",
     0, 0, NULL, NULL, "Kafka header name: outbox column"},
    {"max_payload", CFG_SIZE, F(relay_table_cfg, max_payload), 0, "4MiB", 1,
     1073741824, NULL, NULL, "larger values go to the dead-letter topic"},
    {.key = NULL},
};
static const struct cfg_schema table_schema = {
    "outbox", sizeof(struct relay_table_cfg), table_fields, table_validate,
};

static const struct cfg_field kafka_fields[] = {
    {"brokers", CFG_STR, F(relay_kafka_cfg, brokers), CFG_F_REQUIRED, NULL, 0,
     0, NULL, NULL, "bootstrap servers, host:port[,host:port]"},
    {"client_id", CFG_STR, F(relay_kafka_cfg, client_id), 0, "outbox-relay",
     0, 0, NULL, NULL, "client.id seen by the brokers"},
    {"buffer_memory", CFG_SIZE, F(relay_kafka_cfg, buffer_memory), 0,
     "16MiB", 1048576, 17179869184LL, NULL, NULL,
     "records awaiting acknowledgement; reading stops when full"},
    {"properties", CFG_MAP, F(relay_kafka_cfg, properties), 0, NULL, 0, 0,
     NULL, NULL, "librdkafka producer properties, passed as they are (TLS, "
     "SASL); values of secret-looking names are masked"},
    {.key = NULL},
};
static const struct cfg_schema kafka_schema = {
    "kafka", sizeof(struct relay_kafka_cfg), kafka_fields, NULL,
};

static const struct cfg_field delivery_fields[] = {
    {"mode", CFG_ENUM, F(relay_delivery_cfg, mode), 0, "at_least_once", 0, 0,
     deliveries, NULL, "at_least_once; or exactly_once: also skip, after a restart, what "
     "already reached Kafka"},
    {"stall_timeout", CFG_DURATION, F(relay_delivery_cfg, stall_timeout_ms), 0,
     "30s", 1000, 3600000, NULL, NULL,
     "records pending this long with none acknowledged: /healthz 503"},
    /* Removed in 0.2.0: left from a Kafka-transactions design that
     * exactly_once does not use, they were read by nothing. The 0.1.0
     * sample (a conffile users edit) set them, so a file holding them
     * still loads, with a warning; there is nothing behind them. */
    {"transaction_max_events", CFG_INT, 0, CFG_F_OBSOLETE, NULL, 0, 0, NULL,
     NULL, "removed in 0.2.0; ignored"},
    {"transaction_max_interval", CFG_DURATION, 0, CFG_F_OBSOLETE, NULL, 0, 0,
     NULL, NULL, "removed in 0.2.0; ignored"},
    {.key = NULL},
};
static const struct cfg_schema delivery_schema = {
    "delivery", sizeof(struct relay_delivery_cfg), delivery_fields, NULL,
};

static const struct cfg_field checkpoint_fields[] = {
    {"store", CFG_ENUM, F(relay_checkpoint_cfg, store), 0, "kafka", 0, 0,
     stores, NULL, "kafka (compacted topic) or file"},
    {"topic", CFG_STR, F(relay_checkpoint_cfg, topic), CFG_F_TEMPLATE,
     "outbox-relay.checkpoints", 0, 0, NULL, NULL,
     "compacted topic, keyed by relay name"},
    {"path", CFG_STR, F(relay_checkpoint_cfg, path), 0, NULL, 0, 0, NULL,
     NULL, "checkpoint file, required when store is file (under systemd: "
     "in /var/lib/outbox-relay/, the only writable place)"},
    {"interval", CFG_DURATION, F(relay_checkpoint_cfg, interval_ms), 0, "1s",
     10, 3600000, NULL, NULL, "how often the position is saved"},
    {.key = NULL},
};
static const struct cfg_schema checkpoint_schema = {
    "checkpoint", sizeof(struct relay_checkpoint_cfg), checkpoint_fields,
    checkpoint_validate,
};

static const struct cfg_field dlq_fields[] = {
    {"action", CFG_ENUM, F(relay_dlq_cfg, action), 0, "dlq", 0, 0, actions,
     NULL, "a row that cannot be a record: dlq or stop"},
    {"topic", CFG_STR, F(relay_dlq_cfg, topic), CFG_F_TEMPLATE, "outbox.dlq",
     0, 0, NULL, NULL, "dead-letter topic"},
    {.key = NULL},
};
static const struct cfg_schema dlq_schema = {
    "dead_letter", sizeof(struct relay_dlq_cfg), dlq_fields, dlq_validate,
};

static const struct cfg_field ha_fields[] = {
    {"enabled", CFG_BOOL, F(relay_ha_cfg, enabled), 0, "false", 0, 0, NULL,
     NULL, "elect one leader among the relays of this name"},
    {"group", CFG_STR, F(relay_ha_cfg, group), 0, "", 0, 0, NULL, NULL,
     "Kafka consumer group of the election (empty: outbox-relay.NAME)"},
    {"topic", CFG_STR, F(relay_ha_cfg, topic), CFG_F_TEMPLATE,
     "outbox-relay.leader", 0, 0, NULL, NULL,
     "coordination topic; the member given its partition 0 leads"},
    {"session_timeout", CFG_DURATION, F(relay_ha_cfg, session_timeout_ms), 0,
     "10s", 1000, 300000, NULL, NULL,
     "a leader silent this long is replaced"},
    {.key = NULL},
};
static const struct cfg_schema ha_schema = {
    "ha", sizeof(struct relay_ha_cfg), ha_fields, NULL,
};

static const struct cfg_field relay_fields[] = {
    {"name", CFG_STR, F(relay_cfg, name), 0, "outbox-relay", 0, 0, NULL, NULL,
     "relay name: key of its checkpoint record, its outbox-relay header "
     "(exactly_once) and, by default, its HA group outbox-relay.NAME"},
    {"log_level", CFG_ENUM, F(relay_cfg, log_level), 0, "info", 0, 0,
     cfg_log_levels, NULL, "least severe level of the logfmt lines on stderr"},
    {"source", CFG_SECTION, F(relay_cfg, source), 0, NULL, 0, 0, NULL,
     &source_schema, "the MySQL/MariaDB server"},
    {"outbox", CFG_LIST, F(relay_cfg, outbox), CFG_F_REQUIRED, NULL, 1, 0, NULL,
     &table_schema, "outbox tables and their mapping"},
    {"kafka", CFG_SECTION, F(relay_cfg, kafka), 0, NULL, 0, 0, NULL,
     &kafka_schema, "the Kafka cluster"},
    {"delivery", CFG_SECTION, F(relay_cfg, delivery), 0, NULL, 0, 0, NULL,
     &delivery_schema, "delivery guarantee"},
    {"checkpoint", CFG_SECTION, F(relay_cfg, checkpoint), 0, NULL, 0, 0, NULL,
     &checkpoint_schema, "where the binlog position is kept"},
    {"dead_letter", CFG_SECTION, F(relay_cfg, dead_letter), 0, NULL, 0, 0,
     NULL, &dlq_schema, "rows that cannot become records"},
    {"ha", CFG_SECTION, F(relay_cfg, ha), 0, NULL, 0, 0, NULL, &ha_schema,
     "standby relays: leader election through Kafka"},
    {"metrics", CFG_SECTION, F(relay_cfg, metrics), 0, NULL, 0, 0, NULL,
     &cfg_metrics_schema, "/metrics and /healthz"},
    {.key = NULL},
};
const struct cfg_schema relay_cfg_schema = {
    "relay", sizeof(struct relay_cfg), relay_fields, relay_validate,
};
