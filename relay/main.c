/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-relay: the binlog of MySQL/MariaDB to Kafka, outbox rows only.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/admin_http.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/cfg_relay.h"
#include "relay/dump.h"
#include "relay/relay.h"

static const char USAGE[] =
    "usage: outbox-relay [-c FILE] [--check-config] [-l LEVEL]\n"
    "       outbox-relay dump --binlog-file FILE [--all-tables] [-c FILE]\n"
    "\n"
    "Reads the binlog of a MySQL or MariaDB server as a replica and sends\n"
    "the rows inserted into its outbox tables to Kafka.\n"
    "\n"
    "  -c, --config FILE    configuration (default /etc/outbox-relay/relay.yaml)\n"
    "      --check-config   validate FILE, print the effective configuration\n"
    "      --binlog-file F  (dump) the binlog file to decode, offline; prints\n"
    "                       one JSON line per outbox event (default mapping\n"
    "                       without -c: table `outbox` in any schema)\n"
    "      --all-tables     (dump) one JSON line per row of every table\n"
    "  -l, --log-level L    error, warn, info or debug (overrides the file)\n"
    "      --version        print the version\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 clean stop, 1 runtime failure, 2 bad configuration or usage.\n";

struct app {
    struct event_base *base;
    struct relay_cfg cfg;
    struct metrics *metrics;
    struct admin_http *admin;
    struct daemon *daemon;
    struct relay *relay;
    int exit_code;
};

/* SIGTERM/SIGINT: the pipeline stops, then on_end ends the loop. */
static void on_stop(void *arg)
{
    struct app *a = arg;
    relay_stop(a->relay);
}

static void on_end(void *arg, int code)
{
    struct app *a = arg;
    a->exit_code = code;
    event_base_loopexit(a->base, NULL);
}

static int on_health(void *arg, char *why, size_t len)
{
    struct app *a = arg;
    return relay_health(a->relay, why, len);
}

static int run(struct app *a)
{
    char err[512];
    if (!(a->base = event_base_new()) || !(a->metrics = metrics_new()) ||
        !(a->daemon = daemon_new(a->base, on_stop, a))) {
        log_error("main", "cannot set up the event loop");
        return EXIT_RUNTIME;
    }
    if (!(a->relay = relay_new(&a->cfg, a->base, a->metrics, on_end, a))) {
        log_error("main", "cannot set up the relay");
        return EXIT_RUNTIME;
    }
    a->admin = admin_http_new(a->base, a->cfg.metrics.listen, a->metrics,
                              on_health, a, err, sizeof err);
    if (!a->admin) {
        log_error("main", "%s", err);
        return EXIT_RUNTIME;
    }
    if (relay_start(a->relay) < 0) {
        log_error("main", "cannot start the pipeline thread");
        return EXIT_RUNTIME;
    }
    log_info("main", "outbox-relay %s started as '%s'; metrics on port %d",
             OUTBOX_VERSION, a->cfg.name, admin_http_port(a->admin));
    daemon_notify_ready();
    event_base_dispatch(a->base);
    log_info("main", "stopped (exit status %d)", a->exit_code);
    return a->exit_code;
}

int main(int argc, char **argv)
{
    struct daemon_opts o;
    struct app a = {0};
    if (argc > 1 && strcmp(argv[1], "dump") == 0)
        return dump_main(argc - 1, argv + 1);
    int rc = daemon_parse_args(argc, argv, USAGE,
                               "/etc/outbox-relay/relay.yaml", &o);
    if (rc >= 0)
        return rc;
    rc = cfg_load_for_main(&relay_cfg_schema, o.config, o.check_config, &a.cfg);
    if (rc >= 0)
        return rc;
    log_set_level(o.log_level >= 0 ? (enum log_level)o.log_level
                                   : (enum log_level)a.cfg.log_level);
    rc = run(&a);
    admin_http_free(a.admin);
    if (a.relay && relay_free(a.relay) != 0 && rc == EXIT_OK)
        rc = EXIT_RUNTIME;
    daemon_free(a.daemon);
    metrics_free(a.metrics);
    if (a.base)
        event_base_free(a.base);
    cfg_free(&relay_cfg_schema, &a.cfg);
    return rc;
}
