/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon: what both daemons' main() share.
 *
 *   - the command line: -c/--config FILE, --check-config, -l/--log-level,
 *     --version, --help (subcommands like `dump` or `token` are dispatched
 *     by the caller before this);
 *   - signals on the event loop: SIGTERM and SIGINT call the daemon's stop
 *     function (a second one exits at once), SIGHUP is logged and ignored,
 *     SIGPIPE is ignored (a closed socket is an error return, not a death);
 *   - systemd: READY=1, STOPPING=1, STATUS= and the watchdog ping, through
 *     libsystemd's sd_notify; all harmless without systemd.
 *
 * Exit codes, for every caller: 0 clean stop, 1 runtime failure, 2 bad
 * configuration or usage.
 */
#ifndef OUTBOX_DAEMON_H
#define OUTBOX_DAEMON_H

#include <event2/event.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct daemon_opts {
    const char *config;
    int check_config;
    int log_level; /* -1 when not given */
};

/* Parses argv. Returns -1 to go on, or an exit code (help and version
 * print and return EXIT_OK; errors print usage and return EXIT_USAGE).
 * `usage` is the text printed by --help. */
int daemon_parse_args(int argc, char **argv, const char *usage,
                      const char *default_config, struct daemon_opts *o);

struct daemon;

/* Installs the signal events and, under systemd, the watchdog timer. */
struct daemon *daemon_new(struct event_base *base, void (*stop)(void *arg),
                          void *arg);
void daemon_free(struct daemon *d);

void daemon_notify_ready(void);
void daemon_notify_stopping(void);

#endif
