/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: every bad file gets one exact "FILE:LINE:COL: message",
 * and the good ones load with the documented defaults.
 */
#include "common/textfile.h"
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/cfg_doc.h"
#include "config/cfg_relay.h"
#include "config/cfg_sse.h"

#define BASE                                                                   \
    "source:\n  user: u\n  server_id: 1\n"                                     \
    "outbox:\n  - table: shop.outbox\n"                                        \
    "kafka:\n  brokers: b:9092\n"

#define SSE_BASE "kafka:\n  brokers: b:9092\nauth:\n  secret: 0123456789abcdef\n"

struct bad_case {
    const struct cfg_schema *schema;
    const char *yaml;
    const char *want;
};

/* Each entry: a file and the single message it must produce. */
static const struct bad_case bad_cases[] = {
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n"
     "kafka:\n  brokrs: b:9092\n",
     "t.yaml:7:3: unknown key 'brokrs' (did you mean 'brokers'?)"},
    {&relay_cfg_schema, BASE "zzz: 1\n",
     "t.yaml:8:1: unknown key 'zzz' in 'relay'"},
    {&relay_cfg_schema, BASE "chekpoint:\n  interval: 1s\n",
     "t.yaml:8:1: unknown key 'chekpoint' (did you mean 'checkpoint'?)"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  port: abc\n  server_id: 1\n"
     "outbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:3:9: 'port' must be an integer (got \"abc\")"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  port: 70000\n  server_id: 1\n"
     "outbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:3:9: 'port' must be between 1 and 65535 (got 70000)"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 0\n"
     "outbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:3:14: 'server_id' must be between 1 and 4294967295 (got 0)"},
    {&relay_cfg_schema,
     "source:\n  server_id: 1\noutbox:\n  - table: shop.outbox\n"
     "kafka:\n  brokers: b\n",
     "t.yaml:2:3: missing required key 'user' in 'source'"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n",
     "t.yaml:1:1: missing required key 'brokers' in 'kafka'"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\n  user: v\n"
     "outbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:4:3: duplicate key 'user' (first defined at line 2)"},
    {&relay_cfg_schema, "source:\n  user: u\n server_id: 1\n",
     "t.yaml:3:2: malformed YAML: did not find expected key while parsing a "
     "block mapping"},
    {&relay_cfg_schema, "source:\n\tuser: u\n",
     "t.yaml:2:1: malformed YAML: found character that cannot start any token "
     "while scanning for the next token"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  host: {a: 1}\n  server_id: 1\n"
     "outbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:3:9: 'host' must be a scalar, not a mapping"},
    {&relay_cfg_schema, "source: 5\n",
     "t.yaml:1:9: 'source' must be a mapping, not a scalar"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n"
     "kafka: [a]\n",
     "t.yaml:6:8: 'kafka' must be a mapping, not a list"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox: shop.outbox\n"
     "kafka:\n  brokers: b\n",
     "t.yaml:4:9: 'outbox' must be a list, not a scalar"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox: []\nkafka:\n  brokers: b\n",
     "t.yaml:4:9: 'outbox' needs at least 1 item"},
    {&relay_cfg_schema, BASE "delivery:\n  mode: al\n",
     "t.yaml:9:9: 'mode' must be one of at_least_once, exactly_once "
     "(got \"al\")"},
    {&relay_cfg_schema, BASE "checkpoint:\n  interval: 5\n",
     "t.yaml:9:13: 'interval' must be a duration like 250ms, 5s, 2m or 1h "
     "(got \"5\")"},
    {&relay_cfg_schema, BASE "checkpoint:\n  interval: 2h\n",
     "t.yaml:9:13: 'interval' must be between 10ms and 1h (got 2h)"},
    {&relay_cfg_schema, BASE "checkpoint:\n  interval: -1s\n",
     "t.yaml:9:13: 'interval' must be a duration like 250ms, 5s, 2m or 1h "
     "(got \"-1s\")"},
    {&relay_cfg_schema, BASE "  buffer_memory: lots\n",
     "t.yaml:8:18: 'buffer_memory' must be a size like 512, 64KiB, 30MiB or "
     "1GB (got \"lots\")"},
    {&relay_cfg_schema, BASE "  buffer_memory: 1KiB\n",
     "t.yaml:8:18: 'buffer_memory' must be between 1MiB and 16GiB (got 1KiB)"},
    {&relay_cfg_schema, BASE "  client_id: ${OUTBOX_TEST_UNSET_VARIABLE}\n",
     "t.yaml:8:14: 'client_id': environment variable "
     "'OUTBOX_TEST_UNSET_VARIABLE' is not set"},
    {&relay_cfg_schema, BASE "  client_id: \"${OUTBOX\"\n",
     "t.yaml:8:14: 'client_id': unterminated '${' in value"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  password_file: /nonexistent/outbox.pw\n"
     "  server_id: 1\noutbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:3:18: 'password_file': cannot read /nonexistent/outbox.pw: No "
     "such file or directory"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  password: x\n  password_file: /dev/null\n"
     "  server_id: 1\noutbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:4:3: 'password' and 'password_file' cannot both be set"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  password_file: /dev/null\n  server_id: 1\n"
     "outbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:3:18: 'password_file': /dev/null is empty or holds a NUL byte"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  pasword_file: /x\n  server_id: 1\n",
     "t.yaml:3:3: unknown key 'pasword_file' (did you mean "
     "'password_file'?)"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: outbox\n"
     "kafka:\n  brokers: b\n",
     "t.yaml:5:12: 'table' must be written database.table (got \"outbox\")"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n"
     "    topic: \"events/${aggregatetype}\"\nkafka:\n  brokers: b\n",
     "t.yaml:6:12: 'topic': '/' cannot appear in a Kafka topic name (got "
     "\"events/${aggregatetype}\")"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n"
     "    topic: \"a.${}\"\nkafka:\n  brokers: b\n",
     "t.yaml:6:12: 'topic': bad placeholder in \"a.${}\""},
    {&relay_cfg_schema, BASE "checkpoint:\n  store: file\n",
     "t.yaml:9:10: 'path' is required when 'store' is file"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n"
     "  - table: shop.outbox\nkafka:\n  brokers: b\n",
     "t.yaml:5:3: outbox table 'shop.outbox' is listed twice"},
    {&relay_cfg_schema, BASE "dead_letter:\n  topic: outbox-relay.checkpoints\n",
     "t.yaml:9:3: the dead-letter and checkpoint topics must differ"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  start: yesterday\n  server_id: 1\n",
     "t.yaml:3:10: 'start' must be latest, earliest, a GTID set or FILE:POS "
     "(got \"yesterday\")"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\n  reconnect:\n    initial: 10s\n"
     "    max: 1s\n",
     "t.yaml:6:10: 'max' must not be below 'initial'"},
    {&relay_cfg_schema, BASE "metrics:\n  listen: localhost\n",
     "t.yaml:9:11: 'listen' must be host:port or [ipv6]:port (got "
     "\"localhost\")"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n"
     "    headers: [a]\nkafka:\n  brokers: b\n",
     "t.yaml:6:14: 'headers' must be a mapping, not a list"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  server_id: 1\noutbox:\n  - table: shop.outbox\n"
     "    headers:\n      id: id\n      id: x\nkafka:\n  brokers: b\n",
     "t.yaml:8:7: duplicate key 'id' (first defined at line 7)"},
    {&relay_cfg_schema, BASE "? [a]\n: b\n", "t.yaml:8:3: keys must be scalars"},
    {&relay_cfg_schema, "- a\n",
     "t.yaml:1:1: 'relay' must be a mapping, not a list"},
    {&relay_cfg_schema, "",
     "t.yaml:1:1: missing required key 'user' in 'source'"},
    {&relay_cfg_schema,
     "source:\n  user: u\n  ssl_mode: strict\n  server_id: 1\n",
     "t.yaml:3:13: 'ssl_mode' must be one of disabled, preferred, required, "
     "verify_ca, verify_identity (got \"strict\")"},
    {&sse_cfg_schema, "kafka:\n  brokers: b\n",
     "t.yaml:1:1: 'secret_file' (or 'secret') is required when 'mode' is hmac"},
    {&sse_cfg_schema, "kafka:\n  brokers: b\nauth:\n  secret: short\n",
     "t.yaml:4:11: the secret must be at least 16 bytes"},
    {&sse_cfg_schema, SSE_BASE "redis:\n  waiting_key: \"waiting\"\n",
     "t.yaml:6:16: 'waiting_key' must contain {queue} once (got \"waiting\")"},
    {&sse_cfg_schema, SSE_BASE "redis:\n  admitted_key: \"queue:{queue}:waiting\"\n",
     "t.yaml:6:17: 'waiting_key' and 'admitted_key' must differ"},
    {&sse_cfg_schema, SSE_BASE "redis:\n  db: 16\n",
     "t.yaml:6:7: 'db' must be between 0 and 15 (got 16)"},
    {&sse_cfg_schema, "kafka:\n  brokers: b\n  queue_from: field\n",
     "t.yaml:3:15: 'queue_field' is required when 'queue_from' is field"},
    {&sse_cfg_schema, "kafka:\n  brokers: b\n  topics: []\n",
     "t.yaml:3:11: 'topics' needs at least 1 item"},
    {&sse_cfg_schema, "kafka:\n  brokers: b\n  topics: [[a]]\n",
     "t.yaml:3:12: items of 'topics' must be scalars"},
    {&sse_cfg_schema, SSE_BASE "http:\n  max_output_buffer: 1\n",
     "t.yaml:6:22: 'max_output_buffer' must be between 1KiB and 64MiB (got 1)"},
    {&sse_cfg_schema, SSE_BASE "http:\n  cors_origin: []\n",
     "t.yaml:6:3: unknown key 'cors_origin' (did you mean 'cors_origins'?)"},
    {&sse_cfg_schema, "kafka:\n  brokers: b\nauth:\n  mode: nothing\n",
     "t.yaml:4:9: 'mode' must be one of hmac, none (got \"nothing\")"},
};

static void test_bad_configs(void **state)
{
    (void)state;
    size_t n = sizeof bad_cases / sizeof bad_cases[0];
    assert_true(n >= 25);
    for (size_t i = 0; i < n; i++) {
        const struct bad_case *bc = &bad_cases[i];
        union { struct relay_cfg r; struct sse_cfg s; } out;
        char err[CFG_ERR_MAX] = "";
        int rc = cfg_load_string(bc->schema, "t.yaml", bc->yaml,
                                 strlen(bc->yaml), &out, err, sizeof err);
        if (rc == 0 || strcmp(err, bc->want) != 0)
            fail_msg("case %zu:\n%s\n  want: %s\n  got (rc=%d): %s", i,
                     bc->yaml, bc->want, rc, err);
    }
}

static int load_relay(const char *yaml, struct relay_cfg *out, char *err)
{
    return cfg_load_string(&relay_cfg_schema, "t.yaml", yaml, strlen(yaml),
                           out, err, CFG_ERR_MAX);
}

static void test_relay_defaults(void **state)
{
    (void)state;
    struct relay_cfg c;
    char err[CFG_ERR_MAX];
    assert_int_equal(load_relay(BASE, &c, err), 0);
    assert_string_equal(c.name, "outbox-relay");
    assert_string_equal(c.source.host, "127.0.0.1");
    assert_int_equal(c.source.port, 3306);
    assert_null(c.source.password);
    assert_int_equal(c.delivery.mode, RELAY_AT_LEAST_ONCE);
    assert_int_equal(c.checkpoint.interval_ms, 1000);
    assert_int_equal(c.kafka.buffer_memory, 16 * 1024 * 1024);
    assert_int_equal(c.source.reconnect.initial_ms, 500);
    assert_int_equal(c.outbox.count, 1);
    struct relay_table_cfg *t = CFG_LIST_AT(c.outbox, struct relay_table_cfg, 0);
    assert_string_equal(t->topic, "outbox.event.${aggregatetype}");
    assert_string_equal(t->key_column, "aggregateid");
    assert_string_equal(t->value_column, "payload");
    assert_int_equal(t->headers.count, 2);
    assert_string_equal(t->headers.items[0].key, "id");
    assert_string_equal(t->headers.items[1].value, "type");
    cfg_free(&relay_cfg_schema, &c);
}

/* source.hosts and source.primary: what is refused, and what each entry
 * comes to. */
static void test_source_hosts(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"  hosts: [db1:3306, \"db2:x\"]\n",
         "t.yaml:8:10: 'hosts': entries are host, host:port or "
         "[v6addr]:port with a port of 1 to 65535 (got \"db2:x\")"},
        {"  hosts: [\"::1\"]\n",
         "t.yaml:8:10: 'hosts': entries are host, host:port or "
         "[v6addr]:port with a port of 1 to 65535 (got \"::1\")"},
        {"  hosts: [db1:3306, db1]\n",
         "t.yaml:8:10: 'hosts' lists db1 twice"},
        {"  hosts: [db1:3306, db2:3306]\n  primary: db3:3306\n",
         "t.yaml:9:12: 'primary' must be one of the entries of 'hosts', "
         "written the same way (got \"db3:3306\")"},
        {"  primary: db3:3306\n",
         "t.yaml:8:12: 'primary' must be one of the entries of 'hosts', "
         "written the same way (got \"db3:3306\")"},
    };
    char yaml[512], err[CFG_ERR_MAX];
    struct relay_cfg c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(yaml, sizeof yaml,
                 "outbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n"
                 "source:\n  user: u\n  server_id: 1\n%s", bad[i][0]);
        int rc = load_relay(yaml, &c, err);
        if (rc == 0 || strcmp(err, bad[i][1]) != 0)
            fail_msg("%s\n  want: %s\n  got (rc=%d): %s", bad[i][0],
                     bad[i][1], rc, err);
    }
    if (load_relay("outbox:\n  - table: shop.outbox\nkafka:\n  brokers: b\n"
                   "source:\n  user: u\n  server_id: 1\n  port: 3307\n"
                   "  hosts: [db1.example, \"db2:3310\", \"[::1]:3311\"]\n"
                   "  primary: db2:3310\n", &c, err) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.source.hosts.count, 3);
    assert_string_equal(c.source.primary, "db2:3310");
    static const struct { const char *host; int64_t port; } want[] = {
        {"db1.example", 3307}, {"db2", 3310}, {"::1", 3311}};
    for (size_t i = 0; i < 3; i++) {
        char host[256];
        int64_t port = 0;
        assert_int_equal(relay_cfg_split_host(c.source.hosts.items[i],
                                              c.source.port, host, sizeof host,
                                              &port, err, sizeof err), 0);
        assert_string_equal(host, want[i].host);
        assert_int_equal(port, want[i].port);
    }
    cfg_free(&relay_cfg_schema, &c);
    /* without hosts: host and port, as before */
    assert_int_equal(load_relay(BASE, &c, err), 0);
    assert_int_equal(c.source.hosts.count, 0);
    assert_null(c.source.primary);
    cfg_free(&relay_cfg_schema, &c);
}

static void test_units(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(cfg_parse_duration("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(cfg_parse_duration("2m", &v), 0);
    assert_int_equal(v, 120000);
    assert_int_equal(cfg_parse_duration("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cfg_parse_duration("3", &v), -1);
    assert_int_equal(cfg_parse_duration("3 s", &v), -1);
    assert_int_equal(cfg_parse_duration("99999999999999999999s", &v), -1);
    assert_int_equal(cfg_parse_size("30MiB", &v), 0);
    assert_int_equal(v, 30 * 1024 * 1024);
    assert_int_equal(cfg_parse_size("2KB", &v), 0);
    assert_int_equal(v, 2000);
    assert_int_equal(cfg_parse_size("512", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(cfg_parse_size("1TB", &v), -1);
    assert_int_equal(cfg_parse_size("9223372036854775807GiB", &v), -1);
    assert_int_equal(cfg_edit_distance("brokrs", "brokers"), 1);
    assert_int_equal(cfg_edit_distance("", "abc"), 3);
    assert_int_equal(cfg_edit_distance("kitten", "sitting"), 3);
}

static void test_env_and_secret_file(void **state)
{
    (void)state;
    char path[] = "/tmp/outbox-cfg-test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret\n", 7), 7);
    close(fd);
    setenv("OUTBOX_TEST_BROKERS", "k1:9092,k2:9092", 1);
    unsetenv("OUTBOX_TEST_UNSET_VARIABLE");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "source:\n  user: u\n  server_id: 1\n  password_file: %s\n"
             "outbox:\n  - table: shop.outbox\n"
             "kafka:\n  brokers: ${OUTBOX_TEST_BROKERS}\n"
             "  client_id: ${OUTBOX_TEST_UNSET_VARIABLE:-fallback}\n"
             "  properties:\n    sasl.password: hunter2\n    acks: all\n",
             path);
    struct relay_cfg c;
    char err[CFG_ERR_MAX];
    assert_int_equal(load_relay(yaml, &c, err), 0);
    unlink(path);
    assert_string_equal(c.source.password, "s3cret");
    assert_string_equal(c.kafka.brokers, "k1:9092,k2:9092");
    assert_string_equal(c.kafka.client_id, "fallback");

    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    cfg_print(&relay_cfg_schema, &c, fp);
    fclose(fp);
    assert_null(strstr(text, "s3cret"));
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "password: \"***\""));
    assert_non_null(strstr(text, "\"sasl.password\": \"***\""));
    assert_non_null(strstr(text, "\"acks\": \"all\""));
    free(text);
    cfg_free(&relay_cfg_schema, &c);
}

/* A secret that does not parse must not be echoed in the message. */
static void test_secret_not_echoed(void **state)
{
    (void)state;
    struct sse_cfg c;
    char err[CFG_ERR_MAX];
    const char *yaml = "kafka:\n  brokers: b\nauth:\n  secret: [hunter2]\n";
    assert_int_equal(cfg_load_string(&sse_cfg_schema, "t.yaml", yaml,
                                     strlen(yaml), &c, err, sizeof err), -1);
    assert_null(strstr(err, "hunter2"));
    assert_string_equal(err, "t.yaml:4:11: 'secret' must be a scalar, not a list");
}

/* The printed configuration is itself a loadable file (secrets aside). */
static void test_print_round_trip(void **state)
{
    (void)state;
    struct relay_cfg a, b;
    char err[CFG_ERR_MAX], *text = NULL;
    size_t len = 0;
    assert_int_equal(load_relay(BASE "kafka2: x\n", &a, err), -1);
    assert_int_equal(load_relay(BASE, &a, err), 0);
    FILE *fp = open_memstream(&text, &len);
    cfg_print(&relay_cfg_schema, &a, fp);
    fclose(fp);
    assert_int_equal(load_relay(text, &b, err), 0);
    assert_string_equal(a.source.user, b.source.user);
    assert_int_equal(a.source.server_id, b.source.server_id);
    assert_int_equal(a.checkpoint.interval_ms, b.checkpoint.interval_ms);
    assert_string_equal(a.outbox.count ? CFG_LIST_AT(a.outbox, struct relay_table_cfg, 0)->topic : "",
                        CFG_LIST_AT(b.outbox, struct relay_table_cfg, 0)->topic);
    free(text);
    cfg_free(&relay_cfg_schema, &a);
    cfg_free(&relay_cfg_schema, &b);
}

static void test_start_values(void **state)
{
    (void)state;
    char err[256];
    static const char *const good[] = {
        "latest", "earliest", "0-1-100", "0-1-100,1-2-5", "mysql-bin.000003:4",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5",
        ("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,"
         "4e11fa47-71ca-11e1-9e33-c80aa9429562:1"), /* one two-uuid set */
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag_a:1-3",
    };
    static const char *const bad[] = {
        "", "latest1", "0-1", "0-1-", "0-1-2,", "file:", ":4", "a:b:4",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562", "3e11fa47:1-5",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (relay_cfg_check_start(good[i], err, sizeof err) != 0)
            fail_msg("rejected good start \"%s\": %s", good[i], err);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (relay_cfg_check_start(bad[i], err, sizeof err) == 0)
            fail_msg("accepted bad start \"%s\"", bad[i]);
}

static void test_samples_load(void **state)
{
    (void)state;
    const char *src = getenv("OUTBOX_SOURCE_DIR");
    char path[4096], err[CFG_ERR_MAX];
    struct relay_cfg r;
    struct sse_cfg s;
    assert_non_null(src);
    snprintf(path, sizeof path, "%s/config/relay.yaml", src);
    if (cfg_load(&relay_cfg_schema, path, &r, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(r.outbox.count >= 1);
    cfg_free(&relay_cfg_schema, &r);
    snprintf(path, sizeof path, "%s/config/sse.yaml", src);
    /* Without a secret of its own the sample loads, but its placeholder
     * secret is refused by the check the daemon makes before trusting it. */
    unsetenv("OUTBOX_SSE_SECRET");
    if (cfg_load(&sse_cfg_schema, path, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(sse_cfg_check_secret(&s, err, sizeof err), -1);
    assert_string_equal(err, "auth.secret is still the sample's placeholder: "
                        "set OUTBOX_SSE_SECRET or secret_file to 32 random "
                        "bytes (e.g. `openssl rand -base64 32`)");
    cfg_free(&sse_cfg_schema, &s);
    setenv("OUTBOX_SSE_SECRET", "unit-test-secret-0123456789", 1);
    if (cfg_load(&sse_cfg_schema, path, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(s.redis.waiting_key, "queue:{queue}:waiting");
    cfg_free(&sse_cfg_schema, &s);
    assert_int_equal(cfg_load(&sse_cfg_schema, "/nonexistent.yaml", &s, err,
                              sizeof err), -1);
    assert_string_equal(err, "/nonexistent.yaml: cannot open: No such file or directory");
}

/* ---- the samples show the defaults in force ---------------------------- */

/* Writes "PATH.KEY" into out, CFG_ERR_MAX bytes. */
static void key_path(char *out, const char *path, const char *key)
{
    snprintf(out, CFG_ERR_MAX, "%s%s%s", path, *path ? "." : "", key);
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Walks `schema` over two loads, `shown` (the sample) and `dflt` (a file
 * with the required keys only), and reports on stderr each key with a
 * default whose value differs: the sample says one thing and the daemon
 * does another. Keys without a default (required ones, secrets, optional
 * paths) are the sample's to fill. Returns the number of differences. */
static int diff_defaults(const char *file, const struct cfg_schema *schema,
                         const char *path, const void *shown, const void *dflt)
{
    int n = 0;
    for (const struct cfg_field *f = schema->fields; f->key; f++) {
        const char *a = (const char *)shown + f->offset;
        const char *b = (const char *)dflt + f->offset;
        char at[CFG_ERR_MAX];
        key_path(at, path, f->key);
        if (f->type == CFG_SECTION) {
            n += diff_defaults(file, f->sub, at, a, b);
            continue;
        }
        if (f->type == CFG_LIST) {
            const struct cfg_list *la = (const void *)a, *lb = (const void *)b;
            for (size_t i = 0; i < la->count && i < lb->count; i++)
                n += diff_defaults(file, f->sub, at,
                                   (const char *)la->items + i * f->sub->size,
                                   (const char *)lb->items + i * f->sub->size);
            continue;
        }
        if (!f->def)
            continue;
        bool same = true;
        switch (f->type) {
        case CFG_STR:
            same = same_str(*(char *const *)(const void *)a,
                            *(char *const *)(const void *)b);
            break;
        case CFG_INT:
        case CFG_DURATION:
        case CFG_SIZE:
            same = *(const int64_t *)(const void *)a ==
                   *(const int64_t *)(const void *)b;
            break;
        case CFG_BOOL:
            same = *(const bool *)(const void *)a == *(const bool *)(const void *)b;
            break;
        case CFG_ENUM:
            same = *(const int *)(const void *)a == *(const int *)(const void *)b;
            break;
        case CFG_STRLIST: {
            const struct cfg_strlist *x = (const void *)a, *y = (const void *)b;
            same = x->count == y->count;
            for (size_t i = 0; same && i < x->count; i++)
                same = same_str(x->items[i], y->items[i]);
            break;
        }
        case CFG_MAP: {
            const struct cfg_map *x = (const void *)a, *y = (const void *)b;
            same = x->count == y->count;
            for (size_t i = 0; same && i < x->count; i++)
                same = same_str(x->items[i].key, y->items[i].key) &&
                       same_str(x->items[i].value, y->items[i].value);
            break;
        }
        case CFG_SECTION:
        case CFG_LIST:
            break;
        }
        if (!same) {
            fprintf(stderr, "%s: '%s' differs from its default %s\n", file,
                    at, f->def);
            n++;
        }
    }
    return n;
}

/* ---- the keys a sample shows, set or commented out -------------------- */

#define SAMPLE_KEYS_MAX 256
#define SAMPLE_DEPTH_MAX 8

/* Every key line of a sample, as a dotted path with its line number. A
 * key line is "KEY:" after indentation, "- " (a list item) or "# " (a key
 * shown commented out, indented where it would stand); the indentation
 * nests it. Comment prose must not begin with "word:", or it is taken for
 * a key and must exist. */
struct sample_keys {
    char *path[SAMPLE_KEYS_MAX];
    int line[SAMPLE_KEYS_MAX];
    size_t n;
};

/* Length of the "KEY" of "KEY:" at p (followed by a blank or the end of
 * the line), 0 when p holds no key. */
static size_t key_len(const char *p)
{
    size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
    if (n == 0 || p[n] != ':' || isdigit((unsigned char)p[0]))
        return 0; /* keys begin with a letter: "# 1: ..." is prose */
    return p[n + 1] == ' ' || p[n + 1] == '\n' || p[n + 1] == '\0' ? n : 0;
}

static void sample_keys_scan(const char *text, struct sample_keys *out)
{
    struct { size_t indent; char key[64]; } st[SAMPLE_DEPTH_MAX];
    size_t depth = 0;
    int lineno = 0;
    out->n = 0;
    for (const char *line = text; *line && out->n < SAMPLE_KEYS_MAX;) {
        const char *eol = strchr(line, '\n');
        size_t indent = strspn(line, " ");
        const char *p = line + indent;
        lineno++;
        if (p[0] == '#' && p[1] == ' ')
            p += 2; /* "# key:" stands where "key:" would */
        if (p[0] == '-' && p[1] == ' ') {
            p += 2; /* an item's keys nest two deeper than its "- " */
            indent += 2;
        }
        size_t kl = key_len(p);
        line = eol ? eol + 1 : line + strlen(line);
        if (kl == 0 || kl >= sizeof st[0].key)
            continue;
        while (depth > 0 && st[depth - 1].indent >= indent)
            depth--;
        char at[CFG_ERR_MAX] = "", tmp[CFG_ERR_MAX];
        for (size_t i = 0; i < depth; i++) {
            key_path(tmp, at, st[i].key);
            memcpy(at, tmp, sizeof at);
        }
        char key[64];
        memcpy(key, p, kl);
        key[kl] = '\0';
        key_path(tmp, at, key);
        out->path[out->n] = strdup(tmp);
        out->line[out->n++] = lineno;
        if (depth < SAMPLE_DEPTH_MAX) {
            st[depth].indent = indent;
            memcpy(st[depth++].key, key, kl + 1);
        }
    }
}

static void sample_keys_free(struct sample_keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->path[i]);
    k->n = 0;
}

static bool sample_shows(const struct sample_keys *k, const char *path,
                         bool secret)
{
    char alt[CFG_ERR_MAX + 8];
    snprintf(alt, sizeof alt, "%s_file", path);
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->path[i], path) == 0 ||
            (secret && strcmp(k->path[i], alt) == 0))
            return true;
    return false;
}

/* Reports on stderr each key of the schema that the sample does not show
 * in its place, set or commented out (CFG_F_OBSOLETE keys aside: those it
 * must not show). Returns their number. */
static int keys_amiss(const char *file, const struct sample_keys *keys,
                      const struct cfg_schema *schema, const char *path)
{
    int n = 0;
    for (const struct cfg_field *f = schema->fields; f->key; f++) {
        char at[CFG_ERR_MAX];
        key_path(at, path, f->key);
        bool shown = sample_shows(keys, at, (f->flags & CFG_F_SECRET) != 0);
        if (f->flags & CFG_F_OBSOLETE ? shown : !shown) {
            fprintf(stderr, "%s: %s '%s'\n", file,
                    shown ? "shows the obsolete key" : "does not show", at);
            n++;
        }
        if (f->type == CFG_SECTION || f->type == CFG_LIST)
            n += keys_amiss(file, keys, f->sub, at);
    }
    return n;
}

/* The other way round: each key the sample shows, commented-out ones
 * included, must be one the schema has, in that place. Returns the
 * number of those that are not. */
static int keys_unknown(const char *file, const struct sample_keys *keys,
                        const struct cfg_schema *schema)
{
    int n = 0;
    for (size_t i = 0; i < keys->n; i++) {
        bool free_form;
        const struct cfg_field *f =
            cfg_doc_find(schema, keys->path[i], &free_form);
        if (f && (free_form || !(f->flags & CFG_F_OBSOLETE)))
            continue;
        fprintf(stderr, "%s:%d: '%s' is no key of the schema\n", file,
                keys->line[i], keys->path[i]);
        n++;
    }
    return n;
}

/* Each sample says it shows every key with its default: it must, keys and
 * values both. The sample is loaded as the daemon would load it, and so is
 * a file with only the required keys; every key with a default must come
 * out the same from both. */
static void check_sample(const char *name, const struct cfg_schema *schema,
                         const char *minimal)
{
    const char *src = getenv("OUTBOX_SOURCE_DIR");
    char path[4096], err[CFG_ERR_MAX];
    assert_non_null(src);
    snprintf(path, sizeof path, "%s/config/%s", src, name);
    void *shown = calloc(1, schema->size), *dflt = calloc(1, schema->size);
    char *text = textfile_read(path);
    assert_non_null(shown);
    assert_non_null(dflt);
    if (!text)
        fail_msg("cannot read %s", path);
    if (cfg_load(schema, path, shown, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (cfg_load_string(schema, "minimal.yaml", minimal, strlen(minimal),
                        dflt, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct sample_keys keys;
    sample_keys_scan(text, &keys);
    int wrong = diff_defaults(name, schema, "", shown, dflt);
    int amiss = keys_amiss(name, &keys, schema, "");
    int unknown = keys_unknown(name, &keys, schema);
    sample_keys_free(&keys);
    if (wrong || amiss || unknown)
        fail_msg("config/%s: %d value(s) differ from the defaults in force, "
                 "%d key(s) not shown or obsolete, %d shown that the schema "
                 "lacks (listed above)", name, wrong, amiss, unknown);
    cfg_free(schema, shown);
    cfg_free(schema, dflt);
    free(shown);
    free(dflt);
    free(text);
}

/* An obsolete key still loads (files from older samples set it), whatever
 * its value, since nothing is behind it, and is not printed as if it were
 * in effect. */
static void test_obsolete_keys(void **state)
{
    (void)state;
    struct relay_cfg c;
    char err[CFG_ERR_MAX], *text = NULL;
    size_t len = 0;
    if (load_relay(BASE "delivery:\n  transaction_max_events: 5\n"
                        "  transaction_max_interval: not-a-duration\n",
                   &c, err) != 0)
        fail_msg("%s", err);
    FILE *fp = open_memstream(&text, &len);
    cfg_print(&relay_cfg_schema, &c, fp);
    fclose(fp);
    assert_non_null(strstr(text, "delivery:\n  mode: at_least_once\n"));
    assert_null(strstr(text, "transaction_max"));
    free(text);
    cfg_free(&relay_cfg_schema, &c);
}

static void test_samples_show_defaults(void **state)
{
    (void)state;
    unsetenv("OUTBOX_SOURCE_PASSWORD");
    unsetenv("OUTBOX_SSE_SECRET");
    check_sample("relay.yaml", &relay_cfg_schema, BASE);
    check_sample("sse.yaml", &sse_cfg_schema, SSE_BASE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_relay_defaults),
        cmocka_unit_test(test_source_hosts),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_env_and_secret_file),
        cmocka_unit_test(test_secret_not_echoed),
        cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_start_values),
        cmocka_unit_test(test_samples_load),
        cmocka_unit_test(test_obsolete_keys),
        cmocka_unit_test(test_samples_show_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
