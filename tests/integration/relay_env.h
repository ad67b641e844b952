/* SPDX-License-Identifier: Apache-2.0 */
/*
 * relay_env: MariaDB (or MySQL: th_server_kind()) + kafka-mock +
 * outbox-relay, wired for a test.
 *
 * Starts the servers, writes a relay configuration in a temporary
 * directory (file checkpoint, both outbox tables of outbox-load), runs the
 * relay, generates load with outbox-load and checks what Kafka holds with
 * kcat and outbox-verify: the same programs a person would use.
 */
#ifndef OUTBOX_TEST_RELAY_ENV_H
#define OUTBOX_TEST_RELAY_ENV_H

#include "tests/harness/th.h"

struct relay_env {
    struct th_mariadb db;
    struct th_kafka kafka;
    struct th_proc relay;
    char dir[256], config[320], checkpoint[320], expect[320], dump[320];
    int metrics_port;
    const char *delivery; /* "at_least_once" or "exactly_once" */
    const char *source_user;  /* NULL: root */
    const char *source_extra; /* more lines of the source section */
    const char *start;        /* source.start; NULL: latest */
    const char *delivery_extra; /* more lines of the delivery section */
    /* More librdkafka properties for the relay, as YAML lines indented
     * four spaces ("    linger.ms: \"0\"\n"); NULL for none. */
    const char *kafka_properties;
    /* The checkpoint section instead of the file store's, as YAML
     * ("checkpoint:\n  store: kafka\n"); NULL for the file store, which
     * relay_env_wait_caught_up reads. */
    const char *checkpoint_yaml;
    /* outbox-load's --tables, --dlq-every (0: its defaults) and
     * --shard-keys. */
    long load_tables, load_dlq_every;
    int load_shard_keys;
    /* A second --port for outbox-load (0: none): it writes to whichever
     * of the two is writable, and follows a failover. */
    int load_failover_port;
    /* outbox-load's --init-sql (run on each of its connections); NULL:
     * none. */
    const char *load_init_sql;
    /* relay_env_verify reads outbox.dlq too (dead letters expected). */
    int verify_dlq;
};

/* Servers up (the database of th_server_kind()), schema created, config
 * written. 0, -1, or TH_SKIP when that server cannot be had here. */
int relay_env_start(struct relay_env *e, const char *delivery,
                    const char *const *mariadb_extra);
void relay_env_stop(struct relay_env *e);

/* Rewrites the relay's configuration with these librdkafka properties
 * and checkpoint section (see the fields; NULL for the defaults); takes
 * effect at the relay's next start. */
int relay_env_configure(struct relay_env *e, const char *kafka_properties,
                        const char *checkpoint_yaml);

/* Starts outbox-relay without waiting for it. */
int relay_env_spawn_relay(struct relay_env *e);
/* Starts outbox-relay and waits until /healthz says it streams. */
int relay_env_run_relay(struct relay_env *e);
/* GET /healthz status, or -1. */
int relay_env_health(struct relay_env *e);

/* outbox-load with these arguments (appends to the expect file). */
int relay_env_load(struct relay_env *e, long events, long seed, long big,
                   long id_base);

/* The same, for events committed before the relay's start point: their
 * lines go to DIR/before.tsv, which relay_env_verify does not read. */
int relay_env_load_unexpected(struct relay_env *e, long events, long seed,
                              long id_base);

/* outbox-load in the background; relay_env_load_wait collects it. */
int relay_env_load_start(struct relay_env *e, struct th_proc *p, long events,
                         long seed, long big, long id_base);
int relay_env_load_wait(struct th_proc *p, int timeout_ms);

/* Resident memory of the relay in bytes (-1 when unknown). */
long relay_env_relay_rss(struct relay_env *e);

/* Where the binlog ends now (th_mariadb_binlog_status_sql). 0 or -1. */
int relay_env_binlog_end(struct relay_env *e, char *file, size_t len,
                         unsigned long long *pos);

/* PURGE BINARY LOGS TO `file`, repeated (up to 60 s) until the oldest
 * binlog left is `file`: MariaDB keeps a binlog its crash recovery may
 * still need, with a note, until InnoDB's checkpoint passes it. 0 or -1. */
int relay_env_purge_to(struct relay_env *e, const char *file);

/* Waits until the relay's checkpoint reaches the server's binlog end. */
int relay_env_wait_caught_up(struct relay_env *e, int timeout_ms);
/* The same for the file checkpoint at `path` (another relay's). */
int relay_env_wait_checkpoint(struct relay_env *e, const char *path,
                              int timeout_ms);

/* Column 0 of the first row `sql` returns, as root, into buf ("" for
 * NULL or no row; MySQL's line breaks in long GTID sets removed). 0 or
 * -1. */
int relay_env_query(struct relay_env *e, const char *sql, char *buf,
                    size_t len);
/* The GTID state of the relay's file checkpoint (its gtid= field) and
 * the server's (MySQL @@gtid_executed, MariaDB @@gtid_binlog_pos). */
int relay_env_checkpoint_gtid(struct relay_env *e, char *buf, size_t len);
int relay_env_server_gtid(struct relay_env *e, char *buf, size_t len);
/* 1 when the checkpoint's GTID state is the server's (compared by the
 * server's GTID_SUBSET both ways on MySQL), 0 when not (both printed on
 * stderr), -1 when either cannot be read. */
int relay_env_checkpoint_has_server_gtid(struct relay_env *e);

/* kcat dump of one topic in kcat's -f format (FMT), into out. */
int relay_env_kcat(struct relay_env *e, const char *topic, const char *fmt,
                   const char *out);

/* kcat dump of the event topics, checked by outbox-verify. Returns
 * outbox-verify's exit status; its summary line goes to stderr. */
int relay_env_verify(struct relay_env *e, int exactly_once);

#endif
