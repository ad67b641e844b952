/* SPDX-License-Identifier: Apache-2.0 */
#include "common/daemon.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "common/log.h"

struct daemon {
    struct event *sigs[3];
    struct event *watchdog;
    void (*stop)(void *);
    void *arg;
    int stopping;
};

int daemon_parse_args(int argc, char **argv, const char *usage,
                      const char *default_config, struct daemon_opts *o)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"log-level", required_argument, NULL, 'l'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum log_level lvl;
    int c;
    *o = (struct daemon_opts){.config = default_config, .log_level = -1};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:l:h", lo, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'C': o->check_config = 1; break;
        case 'l':
            if (log_level_parse(optarg, &lvl) < 0) {
                fprintf(stderr, "%s: --log-level must be error, warn, info "
                                "or debug (got \"%s\")\n", argv[0], optarg);
                return EXIT_USAGE;
            }
            o->log_level = (int)lvl;
            break;
        case 'V':
            printf("%s %s\n", program_invocation_short_name, OUTBOX_VERSION);
            return EXIT_OK;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case ':':
            fprintf(stderr, "%s: option %s needs a value\n%s", argv[0],
                    argv[optind - 1], usage);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "%s: unknown option %s\n%s", argv[0],
                    argv[optind - 1], usage);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n%s", argv[0],
                argv[optind], usage);
        return EXIT_USAGE;
    }
    return -1;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    if (sig == SIGHUP) {
        log_info("main", "SIGHUP: reloading is not supported; restart to "
                         "apply a new configuration");
        return;
    }
    if (d->stopping) {
        log_warn("main", "second %s: exiting now", strsignal((int)sig));
        _exit(EXIT_RUNTIME);
    }
    d->stopping = 1;
    log_info("main", "%s: stopping", strsignal((int)sig));
    daemon_notify_stopping();
    d->stop(d->arg);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    sd_notify(0, "WATCHDOG=1");
}

struct daemon *daemon_new(struct event_base *base, void (*stop)(void *arg),
                          void *arg)
{
    static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
    struct daemon *d = calloc(1, sizeof *d);
    uint64_t usec = 0;
    if (!d)
        return NULL;
    d->stop = stop;
    d->arg = arg;
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < 3; i++) {
        d->sigs[i] = evsignal_new(base, sigs[i], on_signal, d);
        if (!d->sigs[i] || event_add(d->sigs[i], NULL) < 0) {
            daemon_free(d);
            return NULL;
        }
    }
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        struct timeval tv = {(time_t)(usec / 2 / 1000000),
                             (suseconds_t)(usec / 2 % 1000000)};
        d->watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, d);
        if (d->watchdog)
            event_add(d->watchdog, &tv);
    }
    return d;
}

void daemon_free(struct daemon *d)
{
    if (!d)
        return;
    for (int i = 0; i < 3; i++)
        if (d->sigs[i])
            event_free(d->sigs[i]);
    if (d->watchdog)
        event_free(d->watchdog);
    free(d);
}

void daemon_notify_ready(void) { sd_notify(0, "READY=1"); }

void daemon_notify_stopping(void) { sd_notify(0, "STOPPING=1"); }

