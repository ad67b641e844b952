/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg: YAML configuration, driven by one table per struct.
 *
 * Each daemon describes its configuration as a tree of `struct cfg_schema`
 * tables: key, type, offsetof() into the typed struct, bounds, default and a
 * line of documentation. That one table drives the parser, the defaults,
 * `--check-config` printing and the error messages, so they cannot drift
 * apart (the habit of redis's config table and librdkafka's property table).
 *
 * The YAML is loaded with libyaml into a node tree and then walked against
 * the schema. Every error names the place as nginx does, with libyaml's
 * positions:
 *
 *     relay.yaml:12:5: unknown key 'brokrs' (did you mean 'brokers'?)
 *
 * Values:
 *   - `${NAME}` anywhere in a scalar is replaced by the environment variable
 *     NAME (a missing variable is an error; `${NAME:-text}` falls back to
 *     text when NAME is unset or empty), except in CFG_TEMPLATE fields,
 *     whose `${column}` placeholders belong to the application;
 *   - a CFG_SECRET field `password` may instead be given as `password_file`
 *     (the file's content, one trailing newline dropped); secrets are printed
 *     as "***" and never appear in an error message.
 *
 * Ownership: cfg_load() fills a caller-owned struct; strings and lists in it
 * are heap-allocated and released by cfg_free() with the same schema.
 * Not thread-safe while loading; the loaded struct is read-only afterwards.
 */
#ifndef OUTBOX_CFG_H
#define OUTBOX_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cfg_type {
    CFG_STR,      /* char *                                          */
    CFG_INT,      /* int64_t, within [min, max]                      */
    CFG_BOOL,     /* bool                                            */
    CFG_DURATION, /* int64_t milliseconds: 250ms, 5s, 2m, 1h         */
    CFG_SIZE,     /* int64_t bytes: 512, 64KiB, 30MB, 1GiB           */
    CFG_ENUM,     /* int, index into `choices`                       */
    CFG_SECTION,  /* nested struct described by `sub`                */
    CFG_LIST,     /* struct cfg_list of structs described by `sub`   */
    CFG_STRLIST,  /* struct cfg_strlist                              */
    CFG_MAP,      /* struct cfg_map: free-form string -> string      */
};

enum {
    CFG_F_REQUIRED = 1 << 0, /* no default; absence is an error          */
    CFG_F_SECRET = 1 << 1,   /* masked on print; also accepts KEY_file   */
    CFG_F_TEMPLATE = 1 << 2, /* no ${ENV} expansion                      */
    CFG_F_OBSOLETE = 1 << 3, /* a key of an older version, removed or
                              * renamed: still accepted, so older files
                              * load, but ignored with a warning; it has
                              * no storage (offset, def unused) and is in
                              * no printout, sample or reference        */
};

struct cfg_list {
    void *items; /* array of `count` structs of sub->size bytes */
    size_t count;
};

struct cfg_strlist {
    char **items;
    size_t count;
};

struct cfg_kv {
    char *key;
    char *value;
};

struct cfg_map {
    struct cfg_kv *items;
    size_t count;
};

struct cfg_schema;

/* A whole-struct check run after its fields are parsed (e.g. "path is
 * required when store is file"). On failure it writes a message without a
 * position, may set *key to the key it is about (the error then points at
 * that key's value, else at the struct's mapping), and returns -1. */
typedef int (*cfg_validate_fn)(void *obj, const char **key, char *err,
                               size_t errlen);

struct cfg_field {
    const char *key;
    enum cfg_type type;
    size_t offset;
    unsigned flags;
    const char *def; /* default, in the same text form the YAML takes */
    int64_t min, max; /* CFG_INT/DURATION/SIZE; min == max == 0: no bounds */
    const char *const *choices; /* CFG_ENUM, NULL-terminated */
    const struct cfg_schema *sub; /* CFG_SECTION and CFG_LIST */
    const char *doc;
};

struct cfg_schema {
    const char *name;
    size_t size;
    const struct cfg_field *fields; /* terminated by { .key = NULL } */
    cfg_validate_fn validate;
};

#define CFG_ERR_MAX 1024

/* Loads `path` into `out` (zeroed first) following `schema`. Returns 0, or
 * -1 with "FILE:LINE:COL: message" in err and `out` left freed. */
int cfg_load(const struct cfg_schema *schema, const char *path, void *out,
             char *err, size_t errlen);

/* Same from a string; `name` stands for the file name in messages. */
int cfg_load_string(const struct cfg_schema *schema, const char *name,
                    const char *text, size_t len, void *out, char *err,
                    size_t errlen);

/* For main(): loads `path`; on error prints the message on stderr and
 * returns 2 (bad configuration); with check_config prints the effective
 * configuration on stdout and returns 0; otherwise returns -1 (go on). */
int cfg_load_for_main(const struct cfg_schema *schema, const char *path,
                      int check_config, void *out);

/* --check-config's success: says so, prints the effective configuration
 * on stdout, frees obj's contents; returns 0. */
int cfg_report_ok(const struct cfg_schema *schema, const char *path, void *obj);

/* Releases what cfg_load allocated inside `obj` (not obj itself). */
void cfg_free(const struct cfg_schema *schema, void *obj);

/* Prints the effective configuration as YAML, secrets as "***". */
void cfg_print(const struct cfg_schema *schema, const void *obj, FILE *fp);

/* Parsing of the unit-bearing scalars, exposed for tests and for values
 * that do not come from a file. Return 0 or -1. */
int cfg_parse_duration(const char *s, int64_t *ms);
int cfg_parse_size(const char *s, int64_t *bytes);

/* A CFG_INT, CFG_DURATION or CFG_SIZE value as a person writes it
 * (30s, 64KiB), the form messages and the key reference use. */
void cfg_format_number(const struct cfg_field *f, int64_t v, char *buf,
                       size_t len);

/* Levenshtein distance, capped: used for "did you mean" suggestions. */
int cfg_edit_distance(const char *a, const char *b);

/* ---- pieces both daemons' schemas use --------------------------------- */

/* Exponential backoff with jitter between reconnect attempts. */
struct cfg_backoff {
    int64_t initial_ms;
    int64_t max_ms;
};
extern const struct cfg_schema cfg_backoff_schema;

/* The /metrics and /healthz endpoint. */
struct cfg_metrics {
    char *listen; /* "host:port", "[v6]:port"; port 0 picks a free one */
};
extern const struct cfg_schema cfg_metrics_schema; /* on 127.0.0.1:9464 */
int cfg_metrics_validate(void *obj, const char **key, char *err,
                         size_t errlen);

/* Choices for a `log_level` CFG_ENUM, in enum log_level order. */
extern const char *const cfg_log_levels[];

/* Checks "host:port" / "[v6addr]:port" syntax (used by validators). */
int cfg_check_listen(const char *addr, char *err, size_t errlen);

/* Typed access to a list item. */
#define CFG_LIST_AT(list, type, i) (&((type *)(list).items)[i])

#endif
