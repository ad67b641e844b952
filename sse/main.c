/*
 * outbox-sse: live queue positions for browsers, over Server-Sent Events.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/admin_http.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/cfg_sse.h"

static const char USAGE[] =
    "usage: outbox-sse [-c FILE] [--check-config] [-l LEVEL]\n"
    "       outbox-sse token --queue Q --user U --ttl SECONDS [-c FILE]\n"
    "\n"
    "Pushes each waiting user's position in an online queue to the browser\n"
    "over Server-Sent Events, recomputed from Redis when Kafka says the\n"
    "queue changed.\n"
    "\n"
    "  -c, --config FILE    configuration (default /etc/outbox-relay/sse.yaml)\n"
    "      --check-config   validate FILE, print the effective configuration\n"
    "  -l, --log-level L    error, warn, info or debug (overrides the file)\n"
    "      --version        print the version\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 clean stop, 1 runtime failure, 2 bad configuration or usage.\n";

struct app {
    struct event_base *base;
    struct sse_cfg cfg;
    struct metrics *metrics;
    struct admin_http *admin;
    struct daemon *daemon;
};

static void on_stop(void *arg)
{
    struct app *a = arg;
    event_base_loopexit(a->base, NULL);
}

static int on_health(void *arg, char *why, size_t len)
{
    (void)arg;
    snprintf(why, len, "the SSE server is not running yet");
    return -1;
}

static int run(struct app *a)
{
    char err[512];
    if (!(a->base = event_base_new()) || !(a->metrics = metrics_new()) ||
        !(a->daemon = daemon_new(a->base, on_stop, a))) {
        log_error("main", "cannot set up the event loop");
        return EXIT_RUNTIME;
    }
    a->admin = admin_http_new(a->base, a->cfg.metrics.listen, a->metrics,
                              on_health, a, err, sizeof err);
    if (!a->admin) {
        log_error("main", "%s", err);
        return EXIT_RUNTIME;
    }
    if (a->cfg.auth.mode == SSE_AUTH_NONE)
        log_warn("main", "auth.mode is none: ANYONE CAN WATCH ANY USER'S "
                         "POSITION. For local demos only.");
    log_info("main", "outbox-sse %s started as '%s'; metrics on port %d",
             OUTBOX_VERSION, a->cfg.name, admin_http_port(a->admin));
    daemon_notify_ready();
    event_base_dispatch(a->base);
    log_info("main", "stopped");
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    struct daemon_opts o;
    struct app a = {0};
    int rc = daemon_parse_args(argc, argv, USAGE, "/etc/outbox-relay/sse.yaml",
                               &o);
    if (rc >= 0)
        return rc;
    rc = cfg_load_for_main(&sse_cfg_schema, o.config, o.check_config, &a.cfg);
    if (rc >= 0)
        return rc;
    log_set_level(o.log_level >= 0 ? (enum log_level)o.log_level
                                   : (enum log_level)a.cfg.log_level);
    rc = run(&a);
    admin_http_free(a.admin);
    daemon_free(a.daemon);
    metrics_free(a.metrics);
    if (a.base)
        event_base_free(a.base);
    cfg_free(&sse_cfg_schema, &a.cfg);
    return rc;
}
