/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: logfmt lines on stderr, one per call.
 *
 *   ts=2026-11-22T15:45:00.123Z level=info sub=binlog msg="connected to 127.0.0.1:3306"
 *
 * journald keeps stderr, so there is no file or syslog target. The level is
 * checked before the arguments are evaluated (the macros), so a debug line in
 * a hot path costs one compare when debug is off. Safe from any thread: each
 * line is formatted into a local buffer and written with one write(2).
 */
#ifndef OUTBOX_LOG_H
#define OUTBOX_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
    LOG_LVL_ERROR = 0,
    LOG_LVL_WARN = 1,
    LOG_LVL_INFO = 2,
    LOG_LVL_DEBUG = 3,
};

extern int log__level;

#define LOG_AT(lvl, sub, ...)                                                  \
    do {                                                                       \
        if ((lvl) <= log__level)                                               \
            log__write((lvl), (sub), __VA_ARGS__);                             \
    } while (0)

#define log_error(sub, ...) LOG_AT(LOG_LVL_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...) LOG_AT(LOG_LVL_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...) LOG_AT(LOG_LVL_INFO, sub, __VA_ARGS__)
#define log_debug(sub, ...) LOG_AT(LOG_LVL_DEBUG, sub, __VA_ARGS__)

void log_set_level(enum log_level level);
/* Returns 0 and sets *out for "error", "warn", "info", "debug"; -1 otherwise. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

/* The message is printf-formatted, then escaped into msg="...". */
void log__write(int level, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log__vwrite(int level, const char *sub, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Appends s to out as a logfmt/JSON-safe quoted string body (no quotes):
 * backslash, quote and control bytes escaped. Returns bytes written, never
 * more than cap-1; out is always NUL-terminated. */
size_t log_escape(char *out, size_t cap, const char *s);

#endif
