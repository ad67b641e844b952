/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/source.h"

#include <errno.h>
#include <inttypes.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <mariadb_rpl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "relay/resume.h"

#define BINLOG_FIRST_EVENT 4 /* after the "\xfebin" magic */

__attribute__((format(printf, 3, 4))) static int
fail(struct source *s, int fatal, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->fatal = fatal;
    return -1;
}

/* Server errors a reconnect cannot cure. */
static int is_fatal_errno(unsigned e)
{
    switch (e) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
    case ER_MASTER_FATAL_ERROR_READING_BINLOG:
    case ER_UNKNOWN_SYSTEM_VARIABLE:
        return 1;
    default:
        return 0;
    }
}

static int fail_mysql(struct source *s, const char *doing)
{
    unsigned e = mysql_errno(s->mysql);
    const char *msg = mysql_error(s->mysql);
    if (e == ER_MASTER_FATAL_ERROR_READING_BINLOG)
        return fail(s, 1,
                    "%s: %s (error %u). The binlog the relay needs is gone "
                    "(purged, or another server): "
                    RESUME_BINLOG_GONE_ADVICE,
                    doing, msg, e);
    /* 1045 is the login (user, password, or a password encrypted with
     * another server's RSA key); 1227 a privilege. */
    if (e == ER_ACCESS_DENIED_ERROR)
        return fail(s, 1, "%s: %s (error %u). Check source.user and "
                    "source.password%s", doing, msg, e,
                    s->cfg->server_public_key
                        ? ", and that source.server_public_key is this "
                          "server's RSA public key (its public_key.pem)"
                        : "");
    /* libmariadb's caching_sha2_password without TLS, when the server
     * sends no RSA key: retrying cannot help, and its own words do not
     * say what to change. */
    if (e == CR_AUTH_PLUGIN_ERR && strstr(msg, "RSA"))
        return fail(s, 1, "%s: %s (error %u). The account's "
                    "caching_sha2_password login needs TLS or the server's "
                    "RSA public key, and neither was there: turn TLS on "
                    "(source.ssl_mode preferred or stricter, and TLS on the "
                    "server), or give the server RSA keys "
                    "(caching_sha2_password_private_key_path and "
                    "public_key_path) and source.server_public_key the "
                    "public one", doing, msg, e);
    if (e == ER_SPECIFIC_ACCESS_DENIED_ERROR)
        return fail(s, 1,
                    "%s: %s (error %u). Grant the relay's user REPLICATION "
                    "SLAVE and REPLICATION CLIENT (see schema/grants.sql)",
                    doing, msg, e);
    return fail(s, is_fatal_errno(e), "%s: %s (error %u)", doing, msg, e);
}

#define CONNECT_STEP_MS 100 /* how often a connect looks at `stop` */

/* The candidates: the primary alone when one is named, else every entry
 * of hosts, else host and port. (The configuration checked the entries.) */
static void init_hosts(struct source *s)
{
    const struct relay_source_cfg *c = s->cfg;
    char err[256];
    s->nhosts = s->cur = 0;
    for (size_t i = 0; !c->primary && i < c->hosts.count &&
                       s->nhosts < RELAY_MAX_HOSTS; i++) {
        struct source_host *h = &s->hosts[s->nhosts];
        if (relay_cfg_split_host(c->hosts.items[i], c->port, h->host,
                                 sizeof h->host, &h->port, err, sizeof err) == 0)
            s->nhosts++;
    }
    if (s->nhosts)
        return;
    struct source_host *h = &s->hosts[s->nhosts++];
    if (!c->primary || relay_cfg_split_host(c->primary, c->port, h->host,
                                            sizeof h->host, &h->port, err,
                                            sizeof err) < 0) {
        snprintf(h->host, sizeof h->host, "%s", c->host ? c->host : "127.0.0.1");
        h->port = c->port;
    }
}

void source_init(struct source *s, const struct relay_source_cfg *cfg,
                 const atomic_int *stop)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->stop = stop;
    s->fd = -1;
    pthread_mutex_init(&s->fd_lock, NULL);
    init_hosts(s);
}

void source_fini(struct source *s) { pthread_mutex_destroy(&s->fd_lock); }

static void publish_fd(struct source *s, int fd)
{
    pthread_mutex_lock(&s->fd_lock);
    s->fd = fd;
    pthread_mutex_unlock(&s->fd_lock);
}

/* libmariadb 3.3's mysql_close leaves the copy of the server_public_key
 * option behind (LeakSanitizer: once per connection, so a relay that
 * reconnects leaks without bound); setting it to nothing frees it. */
static void close_conn(MYSQL *m)
{
    mysql_optionsv(m, MYSQL_SERVER_PUBLIC_KEY, NULL);
    mysql_close(m);
}

void source_close(struct source *s)
{
    publish_fd(s, -1); /* before the descriptor is closed and reused */
    if (s->rpl)
        mariadb_rpl_close(s->rpl);
    if (s->mysql)
        close_conn(s->mysql);
    if (s->meta)
        close_conn(s->meta);
    s->rpl = NULL;
    s->mysql = NULL;
    s->meta = NULL;
}

void source_interrupt(struct source *s)
{
    pthread_mutex_lock(&s->fd_lock);
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->fd_lock);
}

int source_query_value(struct source *s, const char *sql, unsigned col,
                       char *buf, size_t len)
{
    buf[0] = '\0';
    if (mysql_query(s->mysql, sql) != 0)
        return fail_mysql(s, sql);
    MYSQL_RES *res = mysql_store_result(s->mysql);
    if (!res)
        return mysql_field_count(s->mysql) ? fail_mysql(s, sql) : 0;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && col < mysql_num_fields(res) && row[col])
        snprintf(buf, len, "%s", row[col]);
    mysql_free_result(res);
    return 0;
}

/* MySQL's caching_sha2_password, on a first login without TLS, wants the
 * password encrypted with the server's RSA key: from
 * source.server_public_key, else libmariadb asks the server for it. A
 * file libmariadb cannot read it replaces by the fetched key without a
 * word, so it is checked here (fatal: only a person can fix it). */
static int set_public_key(struct source *s)
{
    const char *path = s->cfg->server_public_key;
    FILE *fp = path ? fopen(path, "r") : NULL;
    if (!path)
        return 0;
    if (!fp)
        return fail(s, 1, "source.server_public_key %s: %s", path,
                    strerror(errno));
    fclose(fp);
    mysql_optionsv(s->mysql, MYSQL_SERVER_PUBLIC_KEY, path);
    return 0;
}

static int set_tls(struct source *s)
{
    const struct relay_source_cfg *c = s->cfg;
    my_bool on = 1, off = 0;
    if (set_public_key(s) < 0)
        return -1;
    if (c->ssl_mode == RELAY_SSL_DISABLED)
        return 0;
    mysql_optionsv(s->mysql, MYSQL_OPT_SSL_ENFORCE,
                   c->ssl_mode == RELAY_SSL_PREFERRED ? &off : &on);
    mysql_optionsv(s->mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
                   c->ssl_mode >= RELAY_SSL_VERIFY_CA ? &on : &off);
    if (c->ssl_ca)
        mysql_optionsv(s->mysql, MYSQL_OPT_SSL_CA, c->ssl_ca);
    return 0;
}

/* Reads "@@var" as text; "" when the server does not know the variable. */
static int server_var(struct source *s, const char *var, char *buf,
                      size_t len)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT @@GLOBAL.%s", var);
    if (source_query_value(s, sql, 0, buf, len) == 0)
        return 0;
    if (mysql_errno(s->mysql) == ER_UNKNOWN_SYSTEM_VARIABLE) {
        buf[0] = '\0';
        s->fatal = 0;
        return 0;
    }
    return -1;
}

/* Refuses servers whose binlog cannot carry full row images. */
static int check_settings(struct source *s)
{
    char v[128];
    if (server_var(s, "log_bin", v, sizeof v) < 0)
        return -1;
    if (strcmp(v, "1") != 0 && strcasecmp(v, "ON") != 0)
        return fail(s, 1, "the source has no binary log (log_bin is off): "
                          "enable log_bin (see schema/server.cnf)");
    if (server_var(s, "binlog_format", v, sizeof v) < 0)
        return -1;
    if (strcasecmp(v, "ROW") != 0)
        return fail(s, 1, "binlog_format is %s: the relay needs "
                          "binlog_format=ROW (SET GLOBAL binlog_format=ROW "
                          "and in the server's configuration)", v);
    if (server_var(s, "binlog_row_image", v, sizeof v) < 0)
        return -1;
    if (v[0] && strcasecmp(v, "FULL") != 0)
        return fail(s, 1, "binlog_row_image is %s: the relay needs "
                          "binlog_row_image=FULL", v);
    if (server_var(s, "binlog_row_metadata", v, sizeof v) < 0)
        return -1;
    s->info.row_metadata_full = strcasecmp(v, "FULL") == 0;
    if (server_var(s, "binlog_checksum", s->info.binlog_checksum,
                   sizeof s->info.binlog_checksum) < 0)
        return -1;
    if (server_var(s, "server_id", v, sizeof v) < 0)
        return -1;
    s->info.server_id = (uint32_t)strtoul(v, NULL, 10);
    if (s->info.server_id == s->cfg->server_id)
        return fail(s, 1, "source.server_id %" PRId64 " is the source's own "
                          "server_id: choose one no server uses",
                    s->cfg->server_id);
    return 0;
}

static MYSQL *open_conn(struct source *s)
{
    const struct relay_source_cfg *c = s->cfg;
    unsigned ct = (unsigned)((c->connect_timeout_ms + 999) / 1000);
    MYSQL *m = mysql_init(NULL);
    if (!m)
        return NULL;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    return m;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One wait of the non-blocking connect, in steps that look at `stop`.
 * Returns what happened, as libmariadb's MYSQL_WAIT_* flags, or -1 when
 * asked to stop. */
static int connect_wait(struct source *s, int status)
{
    int64_t deadline = status & MYSQL_WAIT_TIMEOUT
                           ? mono_ms() + mysql_get_timeout_value_ms(s->mysql)
                           : INT64_MAX;
    struct pollfd pfd = {.fd = (int)mysql_get_socket(s->mysql)};
    pfd.events = (short)((status & MYSQL_WAIT_READ ? POLLIN : 0) |
                         (status & MYSQL_WAIT_WRITE ? POLLOUT : 0) |
                         (status & MYSQL_WAIT_EXCEPT ? POLLPRI : 0));
    for (;;) {
        if (s->stop && atomic_load(s->stop))
            return -1;
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return MYSQL_WAIT_TIMEOUT;
        int n = poll(&pfd, 1, left < CONNECT_STEP_MS ? (int)left : CONNECT_STEP_MS);
        if (n > 0)
            return (pfd.revents & (POLLIN | POLLHUP | POLLERR) ? MYSQL_WAIT_READ : 0) |
                   (pfd.revents & (POLLOUT | POLLERR) ? MYSQL_WAIT_WRITE : 0) |
                   (pfd.revents & POLLPRI ? MYSQL_WAIT_EXCEPT : 0);
    }
}

/* mysql_real_connect, but a stop ends it within CONNECT_STEP_MS. The
 * socket is published for source_interrupt as soon as it exists. */
static int connect_stoppable(struct source *s, const char *password)
{
    const struct relay_source_cfg *c = s->cfg;
    const struct source_host *h = &s->hosts[s->cur];
    MYSQL *ret = NULL;
    /* Reads and queries afterwards block as usual: libmariadb puts the
     * socket back in blocking mode for the blocking calls. */
    mysql_optionsv(s->mysql, MYSQL_OPT_NONBLOCK, 0);
    int status = mysql_real_connect_start(&ret, s->mysql, h->host, c->user,
                                          password, NULL, (unsigned)h->port,
                                          NULL, 0);
    while (status) {
        publish_fd(s, (int)mysql_get_socket(s->mysql));
        int got = connect_wait(s, status);
        if (got < 0)
            return fail(s, 0, "stopped while connecting");
        status = mysql_real_connect_cont(&ret, s->mysql, got);
    }
    if (!ret) {
        char doing[300];
        snprintf(doing, sizeof doing, "connecting to %s:%" PRId64, h->host,
                 h->port);
        return fail_mysql(s, doing);
    }
    publish_fd(s, (int)mysql_get_socket(s->mysql));
    return 0;
}

/* "0", "OFF" (MariaDB 11's read_only is an enum) or unknown: writable. */
static int is_off(const char *v)
{
    return !v[0] || strcmp(v, "0") == 0 || strcasecmp(v, "OFF") == 0;
}

/* 1 when the server takes writes, 0 (with s->err) when it is read-only,
 * -1 on error. */
static int writable(struct source *s)
{
    char ro[32], sro[32];
    if (server_var(s, "read_only", ro, sizeof ro) < 0 ||
        server_var(s, "super_read_only", sro, sizeof sro) < 0)
        return -1;
    if (is_off(ro) && is_off(sro))
        return 1;
    fail(s, 0, "read-only (read_only=%s%s%s)", ro, sro[0] ? ", super_read_only=" : "",
         sro);
    return 0;
}

/* Who the server is, and what its binlog holds: the relay compares them
 * with its checkpoint (resume.h). */
static int read_identity(struct source *s)
{
    struct source_info *in = &s->info;
    if (in->is_mariadb)
        snprintf(in->server, sizeof in->server, "%" PRIu32, in->server_id);
    else if (server_var(s, "server_uuid", in->server, sizeof in->server) < 0)
        return -1;
    if (server_var(s, in->is_mariadb ? "gtid_binlog_state" : "gtid_executed",
                   in->history, sizeof in->history) < 0)
        return -1;
    if (strlen(in->history) + 1 >= sizeof in->history)
        return fail(s, 1, "the source's GTID history is longer than %zu "
                          "bytes: this version cannot compare it with the "
                          "checkpoint", sizeof in->history - 1);
    return 0;
}

/* Connects to candidate s->cur. 0 when it is the one to read, 1 when it
 * is read-only and others could be (s->err says so), -1 on error. */
static int connect_one(struct source *s)
{
    const struct relay_source_cfg *c = s->cfg;
    /* A silent link is dead after read_timeout, but never before the
     * source had two chances to send a heartbeat. */
    int64_t rt_ms = c->read_timeout_ms > 2 * c->heartbeat_ms
                        ? c->read_timeout_ms : 2 * c->heartbeat_ms;
    unsigned rt = (unsigned)((rt_ms + 999) / 1000);

    source_close(s);
    s->fatal = 0;
    if (!(s->mysql = open_conn(s)))
        return fail(s, 0, "out of memory");
    mysql_optionsv(s->mysql, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_optionsv(s->mysql, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    if (set_tls(s) < 0 ||
        connect_stoppable(s, c->password ? c->password : "") < 0)
        return -1;
    snprintf(s->info.where, sizeof s->info.where, "%s:%" PRId64,
             s->hosts[s->cur].host, s->hosts[s->cur].port);
    snprintf(s->info.version, sizeof s->info.version, "%s",
             mysql_get_server_info(s->mysql));
    s->info.is_mariadb = strstr(s->info.version, "MariaDB") != NULL;
    if (c->flavor == RELAY_FLAVOR_MARIADB && !s->info.is_mariadb)
        return fail(s, 1, "source.flavor is mariadb but the server is %s",
                    s->info.version);
    if (c->flavor == RELAY_FLAVOR_MYSQL && s->info.is_mariadb)
        return fail(s, 1, "source.flavor is mysql but the server is %s",
                    s->info.version);
    if (s->nhosts > 1) {
        int w = writable(s);
        if (w <= 0)
            return w < 0 ? -1 : 1;
    }
    if (check_settings(s) < 0 || read_identity(s) < 0)
        return -1;
    return 0;
}

static void note_tried(char *tried, size_t len, const struct source *s)
{
    size_t n = strlen(tried);
    snprintf(tried + n, len - n, "%s%s:%" PRId64 ": %.300s", n ? "; " : "",
             s->hosts[s->cur].host, s->hosts[s->cur].port, s->err);
}

int source_connect(struct source *s)
{
    char tried[900];
    size_t first = s->cur;
    tried[0] = '\0';
    for (size_t i = 0; i < s->nhosts; i++) {
        s->cur = (first + i) % s->nhosts; /* the last one read first */
        int rc = connect_one(s);
        if (rc == 0) {
            if (s->nhosts > 1)
                log_info("binlog", "reading %s, the writable one of "
                         "source.hosts", s->info.where);
            return 0;
        }
        if (s->fatal || s->nhosts == 1 || (s->stop && atomic_load(s->stop)))
            return -1; /* the message is the one server's */
        note_tried(tried, sizeof tried, s);
        source_close(s);
    }
    s->cur = first;
    return fail(s, 0, "no writable server among source.hosts (%s)", tried);
}

/* Where the binlog ends. MySQL 8.2 renamed SHOW MASTER STATUS to SHOW
 * BINARY LOG STATUS and 8.4 removed the old name (error 1064); MariaDB
 * knows SHOW MASTER STATUS in every version (SHOW BINLOG STATUS only from
 * 10.5.2). SHOW BINARY LOGS, the other statement used here, works on all. */
static const char *binlog_status_sql(struct source *s)
{
    unsigned long v = mysql_get_server_version(s->mysql); /* 80200: 8.2.0 */
    return !s->info.is_mariadb && v >= 80200 ? "SHOW BINARY LOG STATUS"
                                             : "SHOW MASTER STATUS";
}

/* Runs a query and copies the first row's first ncol columns ("" for
 * NULL or no row). Returns 0 or -1. */
static int query_row(struct source *s, const char *sql, unsigned ncol,
                     char (*cols)[POS_TEXT_MAX])
{
    for (unsigned i = 0; i < ncol; i++)
        cols[i][0] = '\0';
    if (mysql_query(s->mysql, sql) != 0)
        return fail_mysql(s, sql);
    MYSQL_RES *res = mysql_store_result(s->mysql);
    if (!res)
        return mysql_field_count(s->mysql) ? fail_mysql(s, sql) : 0;
    MYSQL_ROW row = mysql_fetch_row(res);
    for (unsigned i = 0; row && i < ncol && i < mysql_num_fields(res); i++)
        if (row[i])
            snprintf(cols[i], POS_TEXT_MAX, "%s", row[i]);
    mysql_free_result(res);
    return 0;
}

static int previous_gtids(struct source *s, const char *file,
                          struct relay_position *prev);

/* MariaDB's GTID state at file:offset, which resuming on another server
 * needs ("" when the server cannot say, e.g. not at an event boundary). */
static int mariadb_gtid_at(struct source *s, struct relay_position *out)
{
    char sql[600], efile[520], gtid[1][POS_TEXT_MAX], err[256];
    mysql_real_escape_string(s->mysql, efile, out->file, strlen(out->file));
    snprintf(sql, sizeof sql, "SELECT BINLOG_GTID_POS('%s', %" PRIu64 ")",
             efile, out->offset);
    if (query_row(s, sql, 1, gtid) < 0)
        return -1;
    if (gtid[0][0] && pos_parse_gtid(out, gtid[0], err, sizeof err) < 0)
        return fail(s, 1, "%s: %s", sql, err);
    return 0;
}

/* The GTID state at the start position, so that the position can be
 * resumed on another server of the topology: MySQL's Executed_Gtid_Set
 * of the status row, or the oldest binlog's Previous_gtids; MariaDB's
 * BINLOG_GTID_POS. */
static int start_gtids(struct source *s, int latest, const char *executed,
                       struct relay_position *out)
{
    char err[256];
    if (s->info.is_mariadb)
        return mariadb_gtid_at(s, out);
    if (!latest) {
        struct relay_position prev;
        char file[256];
        pos_init(&prev);
        snprintf(file, sizeof file, "%s", out->file);
        int rc = previous_gtids(s, file, &prev);
        if (rc > 0)
            rc = pos_copy(out, &prev) < 0 ? fail(s, 0, "out of memory") : 0;
        pos_set_file(out, file, BINLOG_FIRST_EVENT);
        pos_free(&prev);
        return rc < 0 ? -1 : 0;
    }
    char flat[POS_TEXT_MAX];
    size_t k = 0;
    for (const char *c = executed; *c && k + 1 < sizeof flat; c++)
        if (*c != ' ' && *c != '\n')
            flat[k++] = *c;
    flat[k] = '\0';
    if (k && pos_parse_gtid(out, flat, err, sizeof err) < 0)
        return fail(s, 1, "Executed_Gtid_Set \"%s\": %s", flat, err);
    return 0;
}

/* latest: the end of the current binlog; earliest: the oldest one kept. */
static int resolve_named(struct source *s, int latest,
                         struct relay_position *out)
{
    char (*row)[POS_TEXT_MAX] = malloc(5 * sizeof *row);
    const char *sql = latest ? binlog_status_sql(s) : "SHOW BINARY LOGS";
    int rc = !row ? fail(s, 0, "out of memory") : query_row(s, sql, 5, row);
    if (rc == 0 && !row[0][0])
        rc = fail(s, 1, "%s returned nothing: is log_bin on?", sql);
    if (rc == 0) {
        pos_set_file(out, row[0],
                     latest ? strtoull(row[1], NULL, 10) : BINLOG_FIRST_EVENT);
        /* Executed_Gtid_Set is the fifth column of MySQL's status row */
        rc = start_gtids(s, latest, row[4], out);
    }
    free(row);
    return rc;
}

/* The Previous_gtids of a binlog file: the set of every transaction before
 * it. 1 with the set, 0 when the file has none, -1 on error. */
static int previous_gtids(struct source *s, const char *file,
                          struct relay_position *prev)
{
    char sql[400], text[POS_TEXT_MAX], err[256];
    snprintf(sql, sizeof sql, "SHOW BINLOG EVENTS IN '%s' LIMIT 4", file);
    if (mysql_query(s->mysql, sql) != 0)
        return fail_mysql(s, sql);
    MYSQL_RES *res = mysql_store_result(s->mysql);
    MYSQL_ROW row;
    size_t n = 0;
    while (res && (row = mysql_fetch_row(res)) && !n)
        if (row[2] && !strcmp(row[2], "Previous_gtids") && row[5])
            for (const char *c = row[5]; *c && n + 1 < sizeof text; c++)
                if (*c != ' ' && *c != '\n') /* MySQL breaks long sets */
                    text[n++] = *c;
    if (res)
        mysql_free_result(res);
    text[n] = '\0';
    pos_init(prev);
    if (n && pos_parse_gtid(prev, text, err, sizeof err) < 0)
        return fail(s, 1, "%s: Previous_gtids \"%s\": %s", file, text, err);
    return n > 0;
}

/* Connector/C can only ask a MySQL server for a file and offset: start at
 * the newest binlog whose predecessors are all in the set, and let the
 * pipeline skip the transactions of the set it finds after that. */
static int mysql_gtid_start(struct source *s, struct relay_position *want)
{
    if (mysql_query(s->mysql, "SHOW BINARY LOGS") != 0)
        return fail_mysql(s, "SHOW BINARY LOGS");
    MYSQL_RES *res = mysql_store_result(s->mysql);
    unsigned long nfiles = res ? (unsigned long)mysql_num_rows(res) : 0;
    char (*files)[256] = nfiles ? calloc(nfiles, sizeof *files) : NULL;
    MYSQL_ROW row;
    for (unsigned long i = 0; files && (row = mysql_fetch_row(res)); i++)
        snprintf(files[i], sizeof files[i], "%s", row[0] ? row[0] : "");
    if (res)
        mysql_free_result(res);
    int rc = files ? 0 : fail(s, 1, "SHOW BINARY LOGS returned nothing");
    unsigned long i = nfiles;
    while (rc == 0 && i-- > 0) {
        struct relay_position prev;
        rc = previous_gtids(s, files[i], &prev);
        int ok = rc >= 0 && pos_mysql_subset(&prev, want);
        pos_free(&prev);
        if (rc < 0)
            break;
        rc = 0;
        if (ok) {
            snprintf(want->file, sizeof want->file, "%s", files[i]);
            want->offset = BINLOG_FIRST_EVENT;
            free(files);
            return 0;
        }
    }
    if (rc == 0)
        rc = fail(s, 1, "transactions before the oldest binlog (%s) of %s "
                  "are missing from the GTID set to start after, and their "
                  "binlogs are purged: the relay cannot read them there. "
                  "For source.start give a set that holds them, or FILE:POS",
                  files[0], s->info.where);
    free(files);
    return rc;
}

int source_binlogs(struct source *s, struct resume_binlogs *out)
{
    out->v = NULL;
    out->n = 0;
    if (mysql_query(s->mysql, "SHOW BINARY LOGS") != 0)
        return fail_mysql(s, "SHOW BINARY LOGS");
    MYSQL_RES *res = mysql_store_result(s->mysql);
    size_t n = res ? (size_t)mysql_num_rows(res) : 0;
    struct resume_binlog *v = n ? calloc(n, sizeof *v) : NULL;
    MYSQL_ROW row;
    for (size_t i = 0; v && i < n && (row = mysql_fetch_row(res)); i++) {
        snprintf(v[i].name, sizeof v[i].name, "%s", row[0] ? row[0] : "");
        v[i].size = row[1] ? strtoull(row[1], NULL, 10) : 0;
    }
    if (res)
        mysql_free_result(res);
    if (n && !v)
        return fail(s, 0, "out of memory");
    out->v = v;
    out->n = n;
    return 0;
}

/* Adds a GTID set's text (MySQL may break long sets over lines) to
 * out's GTID state. */
static int add_gtid_text(struct source *s, const char *what, const char *text,
                         struct relay_position *out)
{
    char flat[POS_TEXT_MAX], err[256];
    size_t n = 0;
    for (const char *c = text; *c && n + 1 < sizeof flat; c++)
        if (*c != ' ' && *c != '\n')
            flat[n++] = *c;
    flat[n] = '\0';
    if (n && pos_parse_gtid(out, flat, err, sizeof err) < 0)
        return fail(s, 1, "%s: %s", what, err);
    return 0;
}

/* The Previous_gtids of a binlog file (the set of every transaction
 * before it) and, up to offset `upto`, the GTIDs the file itself holds,
 * into prev's GTID state. 1 when the file has a Previous_gtids, 0 when
 * not, -1 on error. */
static int mysql_gtids_in(struct source *s, const char *file, uint64_t upto,
                          struct relay_position *prev)
{
    char sql[400];
    int found = 0, rc = 0;
    snprintf(sql, sizeof sql, "SHOW BINLOG EVENTS IN '%s'%s", file,
             upto <= BINLOG_FIRST_EVENT ? " LIMIT 4" : "");
    if (mysql_query(s->mysql, sql) != 0)
        return fail_mysql(s, sql);
    MYSQL_RES *res = mysql_use_result(s->mysql); /* a file's worth of rows */
    MYSQL_ROW row;
    while (rc == 0 && res && (row = mysql_fetch_row(res))) {
        const char *q;
        if (!row[1] || !row[2] || !row[5])
            continue;
        if (!strcmp(row[2], "Previous_gtids")) { /* the file's header */
            rc = add_gtid_text(s, file, row[5], prev);
            found = 1;
        } else if (strtoull(row[1], NULL, 10) < upto &&
                   !strncmp(row[2], "Gtid", 4) && (q = strchr(row[5], '\''))) {
            char one[128]; /* SET @@SESSION.GTID_NEXT= 'uuid[:tag]:n' */
            snprintf(one, sizeof one, "%.*s", (int)strcspn(q + 1, "'"), q + 1);
            rc = add_gtid_text(s, file, one, prev);
        }
    }
    if (res)
        mysql_free_result(res);
    return rc < 0 ? -1 : found;
}

int source_locate_gtid(struct source *s, struct relay_position *want)
{
    return mysql_gtid_start(s, want);
}

/* The start as named; its GTID state where the server can say. */
static int resolve_any(struct source *s, const char *start,
                       struct relay_position *out)
{
    char err[256];
    if (strcmp(start, "latest") == 0 || strcmp(start, "earliest") == 0)
        return resolve_named(s, strcmp(start, "latest") == 0, out);
    if (pos_parse_gtid(out, start, err, sizeof err) == 0)
        return out->kind == POS_GTID_MYSQL ? mysql_gtid_start(s, out) : 0;
    pos_free(out);
    const char *colon = strrchr(start, ':');
    char file[256];
    snprintf(file, sizeof file, "%.*s", (int)(colon - start), start);
    pos_set_file(out, file, strtoull(colon + 1, NULL, 10));
    /* MySQL: the file's Previous_gtids and its GTIDs before the offset. */
    if (!s->info.is_mariadb)
        return mysql_gtids_in(s, out->file, out->offset, out) < 0 ? -1 : 0;
    return mariadb_gtid_at(s, out);
}

int source_resolve_start(struct source *s, const char *start,
                         struct relay_position *out)
{
    pos_free(out);
    if (resolve_any(s, start, out) < 0)
        return -1;
    snprintf(out->server, sizeof out->server, "%s", s->info.server);
    return 0;
}

static int session_setup(struct source *s, const struct relay_position *from)
{
    char sql[POS_TEXT_MAX + 64], gtid[POS_TEXT_MAX];
    long long hb_ns = (long long)s->cfg->heartbeat_ms * 1000000LL;
    /* Without these the server sends checksums the client cannot expect
     * (error 1236), and MariaDB turns GTID events into fake BEGINs. */
    snprintf(sql, sizeof sql,
             "SET @master_binlog_checksum = @@global.binlog_checksum, "
             "@source_binlog_checksum = @@global.binlog_checksum, "
             "@master_heartbeat_period = %lld", hb_ns);
    if (mysql_query(s->mysql, sql) != 0)
        return fail_mysql(s, "preparing the replication session");
    if (!s->info.is_mariadb)
        return 0;
    if (mysql_query(s->mysql, "SET @mariadb_slave_capability = 4") != 0)
        return fail_mysql(s, "preparing the replication session");
    if (from->kind != POS_GTID_MARIADB)
        return 0;
    if (pos_format_gtid(from, gtid, sizeof gtid) < 0)
        return fail(s, 1, "GTID state too long");
    snprintf(sql, sizeof sql, "SET @slave_connect_state = '%s'", gtid);
    if (mysql_query(s->mysql, sql) != 0)
        return fail_mysql(s, "setting the GTID to resume from");
    return 0;
}

int source_start_dump(struct source *s, const struct relay_position *from)
{
    int by_gtid = s->info.is_mariadb && from->kind == POS_GTID_MARIADB;
    const char *file = by_gtid ? "" : from->file;
    unsigned long start = by_gtid ? BINLOG_FIRST_EVENT
                                  : (unsigned long)from->offset;
    unsigned int server_id = (unsigned int)s->cfg->server_id;
    unsigned int flags = 0; /* blocking: wait at the end for new events */

    if (!by_gtid && !file[0])
        return fail(s, 1, "no binlog position to start from");
    if (session_setup(s, from) < 0)
        return -1;
    if (!(s->rpl = mariadb_rpl_init(s->mysql)))
        return fail_mysql(s, "mariadb_rpl_init");
    mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_SERVER_ID, server_id);
    mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FILENAME, file, strlen(file));
    mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_START, start);
    mariadb_rpl_optionsv(s->rpl, MARIADB_RPL_FLAGS, flags);
    if (mariadb_rpl_open(s->rpl) != 0)
        return fail_mysql(s, "requesting the binlog");
    char at[POS_TEXT_MAX];
    if (by_gtid)
        pos_format_gtid(from, at, sizeof at);
    else
        snprintf(at, sizeof at, "%s:%" PRIu64, file, from->offset);
    log_info("binlog", "streaming from %s%s (server %s)", by_gtid ? "GTID " : "",
             at, s->info.version);
    return 0;
}

int source_read(struct source *s, const uint8_t **ev, size_t *len)
{
    unsigned long n = mysql_net_read_packet(s->mysql);
    if (n == packet_error || n == 0)
        return fail_mysql(s, "reading the binlog");
    const uint8_t *pkt = s->mysql->net.read_pos;
    if (pkt[0] == 0xfe && n < 9) /* EOF: the server ended the dump */
        return fail(s, 0, "the source ended the binlog stream");
    if (pkt[0] != 0x00)
        return fail(s, 0, "unexpected packet 0x%02x in the binlog stream",
                    pkt[0]);
    *ev = pkt + 1;
    *len = n - 1;
    return 1;
}

static int meta_connect(struct source *s)
{
    const struct relay_source_cfg *c = s->cfg;
    if (s->meta)
        return 0;
    MYSQL *saved = s->mysql;
    if (!(s->meta = open_conn(s)))
        return fail(s, 0, "out of memory");
    s->mysql = s->meta; /* so that set_tls and fail_mysql act on it */
    set_tls(s);
    const struct source_host *h = &s->hosts[s->cur];
    int ok = mysql_real_connect(s->meta, h->host, c->user,
                                c->password ? c->password : "", NULL,
                                (unsigned)h->port, NULL, 0) != NULL;
    int rc = ok ? 0 : fail_mysql(s, "connecting for table metadata");
    s->mysql = saved;
    if (!ok) {
        close_conn(s->meta);
        s->meta = NULL;
    }
    return rc;
}

int source_columns(struct source *s, const char *db, const char *table,
                   char ***names)
{
    char sql[512], edb[130], etab[130];
    if (strlen(db) > 64 || strlen(table) > 64)
        return fail(s, 1, "table name too long: %s.%s", db, table);
    if (meta_connect(s) < 0)
        return -1;
    mysql_real_escape_string(s->meta, edb, db, strlen(db));
    mysql_real_escape_string(s->meta, etab, table, strlen(table));
    snprintf(sql, sizeof sql,
             "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE "
             "TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s' "
             "ORDER BY ORDINAL_POSITION", edb, etab);
    MYSQL_RES *res = NULL;
    if (mysql_query(s->meta, sql) != 0 || !(res = mysql_store_result(s->meta))) {
        MYSQL *saved = s->mysql;
        s->mysql = s->meta;
        fail_mysql(s, "reading column names");
        s->mysql = saved;
        close_conn(s->meta); /* reconnect on the next call */
        s->meta = NULL;
        return -1;
    }
    size_t n = mysql_num_rows(res), bytes = (n + 1) * sizeof(char *);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        bytes += strlen(row[0]) + 1;
    mysql_data_seek(res, 0);
    char **out = malloc(bytes), *p = (char *)(out + n + 1);
    for (size_t i = 0; out && (row = mysql_fetch_row(res)); i++) {
        out[i] = strcpy(p, row[0]);
        p += strlen(row[0]) + 1;
    }
    mysql_free_result(res);
    if (!out)
        return fail(s, 0, "out of memory");
    out[n] = NULL;
    *names = out;
    return (int)n;
}

int source_column_names(void *src, const char *db, const char *table,
                        char ***names, char *err, size_t errlen)
{
    struct source *s = src;
    int n = source_columns(s, db, table, names);
    if (n < 0)
        snprintf(err, errlen, "%s", s->err);
    return n;
}
