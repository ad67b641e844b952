/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/bench/bench.h"

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOADERS 2 /* connections: MariaDB parses one while the other commits */
#define ROW_SLACK 256

static const char INSERT[] =
    "INSERT INTO shop.outbox (id, aggregatetype, aggregateid, type, payload,"
    " created_at) VALUES ";

/* Appends event seq as one VALUES tuple. */
static size_t append_row(char *sql, size_t at, size_t cap, long seq,
                         const struct bench_opts *o)
{
    char id[40], key[32], payload[8192];
    bench_event_id(id, sizeof id, seq);
    bench_key(key, sizeof key, seq, o->keys);
    bench_payload(payload, sizeof payload, seq, o->payload);
    int k = snprintf(sql + at, cap - at, "('%s','%s','%s','event','%s',NOW(6))",
                     id, bench_type(seq), key, payload);
    return at + (size_t)k;
}

static int insert_rows(MYSQL *c, char *sql, size_t cap, long first, long n,
                       const struct bench_opts *o)
{
    size_t at = sizeof INSERT - 1;
    memcpy(sql, INSERT, at);
    for (long i = 0; i < n; i++) {
        if (i)
            sql[at++] = ',';
        at = append_row(sql, at, cap, first + i, o);
    }
    if (mysql_real_query(c, sql, at)) {
        fprintf(stderr, "bench: insert: %s\n", mysql_error(c));
        return -1;
    }
    return 0;
}

struct load_job {
    const struct th_mariadb *db;
    const struct bench_opts *o;
    long first, n;
    int rc;
};

static void *load_thread(void *arg)
{
    struct load_job *j = arg;
    size_t cap = (size_t)j->o->txn_rows * ((size_t)j->o->payload + ROW_SLACK);
    char *sql = malloc(cap);
    MYSQL *c = th_mariadb_connect(j->db);
    j->rc = sql && c ? 0 : -1;
    for (long done = 0; j->rc == 0 && done < j->n; done += j->o->txn_rows) {
        long n = j->n - done < j->o->txn_rows ? j->n - done : j->o->txn_rows;
        j->rc = insert_rows(c, sql, cap, j->first + done, n, j->o);
    }
    if (c)
        mysql_close(c);
    free(sql);
    return NULL;
}

int bench_db_load(const struct th_mariadb *db, const struct bench_opts *o,
                  long first)
{
    struct load_job jobs[LOADERS];
    pthread_t th[LOADERS];
    long per = o->events / LOADERS;
    int rc = 0;
    for (int i = 0; i < LOADERS; i++) {
        jobs[i] = (struct load_job){db, o, first + i * per,
                                    i == LOADERS - 1 ? o->events - i * per : per,
                                    -1};
        if (pthread_create(&th[i], NULL, load_thread, &jobs[i]) != 0)
            return -1;
    }
    for (int i = 0; i < LOADERS; i++) {
        pthread_join(th[i], NULL);
        rc |= jobs[i].rc;
    }
    return rc;
}

struct paced_db {
    const struct th_mariadb *db;
    const struct bench_opts *o;
    struct bench_pace pace;
    long first, done;
    int64_t *commit;
    MYSQL *c;
    char *sql;
    size_t cap;
};

/* autocommit: the INSERT is a one-row transaction, and its return is the
 * COMMIT's */
static int commit_one(void *arg, long i)
{
    struct paced_db *p = arg;
    return insert_rows(p->c, p->sql, p->cap, p->first + i, 1, p->o);
}

static void *paced_thread(void *arg)
{
    struct paced_db *p = arg;
    p->cap = (size_t)p->o->payload + ROW_SLACK + sizeof INSERT;
    p->c = th_mariadb_connect(p->db);
    p->sql = malloc(p->cap);
    if (p->c && p->sql)
        p->done = bench_paced(&p->pace, commit_one, p, p->commit);
    if (p->c)
        mysql_close(p->c);
    free(p->sql);
    return NULL;
}

long bench_db_paced(const struct th_mariadb *db, const struct bench_opts *o,
                    long first, long n, int64_t *commit, int64_t *elapsed_ns)
{
    struct paced_db *w = calloc((size_t)o->writers, sizeof *w);
    pthread_t *th = calloc((size_t)o->writers, sizeof *th);
    int64_t t0 = bench_now_ns() + 100000000L; /* every writer connected */
    long done = 0;
    int started = 0;
    for (; w && th && started < o->writers; started++) {
        w[started] = (struct paced_db){db, o, {t0, o->rate, started,
                                               o->writers, n}, first, 0,
                                       commit, NULL, NULL, 0};
        if (pthread_create(&th[started], NULL, paced_thread, &w[started]))
            break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        done += w[i].done;
    }
    *elapsed_ns = bench_now_ns() - t0;
    free(w);
    free(th);
    return done;
}
