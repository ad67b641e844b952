/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-load: writes a reproducible outbox workload into MariaDB/MySQL and
 * records what Kafka must receive.
 *
 *   outbox-load --port P [--port P2...] [--host H] [--user U] [--password X]
 *               --events N [--seed S] [--big K] [--tables T]
 *               [--dlq-every K] [--init-sql SQL] --expect FILE
 *
 * --events 0 only creates the schema.
 * Transactions of 1 to --max-txn outbox rows (in --tables outbox tables:
 * shop.outbox, shop.outbox2, shop.outbox3; default 2), mixed
 * with writes to a table the relay must ignore; about one in ten is rolled
 * back; some delete their outbox rows again in the same transaction (the
 * delete-after-insert pattern); payloads carry Unicode text, optional
 * columns are sometimes NULL, and --big rows have 1 MB payloads.
 *
 * A lost connection (MariaDB restarted under it) does not end the run: it
 * reconnects, and whether the cut transaction committed is read from its
 * mark in shop.load_marks, written in the same transaction; only then are
 * its events expected (or not), and the load goes on.
 *
 * --port may be given several times (up to 8), for a failover: each
 * (re)connect takes the first of them that answers and is writable
 * (@@read_only off), so after the primary dies and a replica is promoted
 * the load goes on against the new primary, asking it for the cut
 * transaction's mark. (A transaction that committed on the old primary
 * but never reached the replica is then "did not commit": it is not in
 * the database any more.)
 *
 * --shard-keys gives each table keys of its own ("t2-k7"), as one relay
 * per shard has: two relays keep order per key only for keys that one of
 * them writes.
 * --init-sql runs SQL on each connection before any transaction (a GTID
 * tag, `SET gtid_next='AUTOMATIC:orders'`, or a session's
 * binlog_transaction_compression).
 * --dlq-every K makes every K-th event's aggregateid NULL: the relay must
 * send it to outbox.dlq, whose key (the row's position) is not known here.
 *
 * The expect file has one line per committed event, in commit order:
 *   id TAB topic TAB key-or-* TAB type-or-\N TAB length TAB fnv
 * where fnv is the FNV-1a 64 hash of the payload; the order of lines with
 * the same key is the order Kafka must keep. outbox-verify compares a kcat
 * dump against it. --id-base lets several runs share one database.
 */
#include <inttypes.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <getopt.h>
#include <time.h>
#include <errmsg.h>
#include <mysqld_error.h>

#define NKEYS 50

#define MAX_PORTS 8

struct opts {
    const char *host, *user, *password, *expect, *init_sql;
    unsigned port, ports[MAX_PORTS];
    int nports;
    long events, big, max_txn, id_base, tables, dlq_every;
    int shard_keys;
    unsigned long seed;
};

struct gen {
    const struct opts *o;
    MYSQL *db;
    FILE *expect;
    long id_base;
    uint64_t rng;
    long written, committed;
    char *sql;
    size_t cap;
};

static uint64_t next_rand(struct gen *g)
{
    g->rng ^= g->rng << 13; /* xorshift64: reproducible from the seed */
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void die_db(struct gen *g, const char *what)
{
    fprintf(stderr, "outbox-load: %s: %s\n", what, mysql_error(g->db));
    exit(1);
}

/* The server went away (restarted, killed us): not the statement's fault. */
static int connection_lost(MYSQL *db)
{
    unsigned e = mysql_errno(db);
    return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
           e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
           e == ER_SERVER_SHUTDOWN || e == ER_CONNECTION_KILLED;
}

/* 0, or -1 when the connection was lost; any other error ends the run. */
static int run(struct gen *g, const char *sql)
{
    if (mysql_query(g->db, sql) == 0)
        return 0;
    if (connection_lost(g->db))
        return -1;
    die_db(g, sql);
    return -1;
}

static void exec(struct gen *g, const char *sql)
{
    if (run(g, sql) < 0)
        die_db(g, sql);
}

/* With several ports: is this server the writable one? */
static int writable(MYSQL *db)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int yes = 0;
    if (mysql_query(db, "SELECT @@GLOBAL.read_only") == 0 &&
        (res = mysql_store_result(db)) && (row = mysql_fetch_row(res)) &&
        row[0])
        yes = strcmp(row[0], "0") == 0 || strcasecmp(row[0], "OFF") == 0;
    if (res)
        mysql_free_result(res);
    return yes;
}

/* One try of port i: 1 connected (and writable, with several), 0 not. */
static int connect_port(struct gen *g, int i)
{
    if (g->db)
        mysql_close(g->db);
    g->db = mysql_init(NULL);
    return mysql_real_connect(g->db, g->o->host, g->o->user, g->o->password,
                              NULL, g->o->ports[i], NULL, 0) &&
           mysql_query(g->db, "SET NAMES utf8mb4") == 0 &&
           (!g->o->init_sql || mysql_query(g->db, g->o->init_sql) == 0) &&
           (g->o->nports == 1 || writable(g->db));
}

/* Connects, retrying for two minutes while no server takes writes. */
static void connect_db(struct gen *g)
{
    for (int waited = 0;; waited += 100) {
        for (int i = 0; i < g->o->nports; i++) {
            if (connect_port(g, i)) {
                if (g->o->nports > 1)
                    fprintf(stderr, "outbox-load: writing to port %u\n",
                            g->o->ports[i]);
                return;
            }
            if (g->o->nports == 1 && !connection_lost(g->db))
                die_db(g, "connect");
        }
        if (waited >= 120000)
            die_db(g, "connect");
        struct timespec ts = {0, 100000000L};
        nanosleep(&ts, NULL);
    }
}

/* After a lost connection: did transaction `mark` commit? */
static int committed_after_loss(struct gen *g, long mark)
{
    char sql[128];
    connect_db(g);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM shop.load_marks WHERE txn = %ld",
             mark);
    MYSQL_RES *res = NULL;
    if (mysql_query(g->db, sql) || !(res = mysql_store_result(g->db)))
        die_db(g, sql);
    MYSQL_ROW row = mysql_fetch_row(res);
    int yes = row && row[0] && atol(row[0]) > 0;
    mysql_free_result(res);
    fprintf(stderr, "outbox-load: connection lost in transaction %ld, which %s\n",
            mark, yes ? "committed" : "did not commit");
    return yes;
}

/* One statement an element; the parentheses mark the statements that
 * span lines as one string each (clang's -Wstring-concatenation asks). */
static const char *const SCHEMA[] = {
    "CREATE DATABASE IF NOT EXISTS shop",
    ("CREATE TABLE IF NOT EXISTS shop.outbox (id CHAR(36) NOT NULL PRIMARY KEY,"
     " aggregatetype VARCHAR(255) NOT NULL, aggregateid VARCHAR(255),"
     " type VARCHAR(255), payload LONGTEXT, created_at DATETIME(6) NULL)"
     " DEFAULT CHARSET=utf8mb4"),
    ("CREATE TABLE IF NOT EXISTS shop.outbox2 (id CHAR(36) NOT NULL PRIMARY KEY,"
     " aggregatetype VARCHAR(255) NOT NULL, aggregateid VARCHAR(255),"
     " type VARCHAR(255), payload LONGTEXT, created_at DATETIME(6) NULL)"
     " DEFAULT CHARSET=utf8mb4"),
    ("CREATE TABLE IF NOT EXISTS shop.outbox3 (id CHAR(36) NOT NULL PRIMARY KEY,"
     " aggregatetype VARCHAR(255) NOT NULL, aggregateid VARCHAR(255),"
     " type VARCHAR(255), payload LONGTEXT, created_at DATETIME(6) NULL)"
     " DEFAULT CHARSET=utf8mb4"),
    ("CREATE TABLE IF NOT EXISTS shop.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
     " note VARCHAR(200)) DEFAULT CHARSET=utf8mb4"),
    "CREATE TABLE IF NOT EXISTS shop.load_marks (txn BIGINT PRIMARY KEY)",
};

static const char *const TYPES[] = {"queue", "order", "user"};

/* Two tables: one row in four in the second (as before there was a
 * choice); otherwise evenly. */
static int pick_table(struct gen *g)
{
    uint64_t r = next_rand(g);
    if (g->o->tables == 2)
        return r % 4 == 0;
    return (int)(r % (uint64_t)g->o->tables);
}

/* One event's payload: JSON with Unicode, sized `size` bytes or so. */
static size_t make_payload(struct gen *g, char *buf, size_t cap, long n,
                           size_t size)
{
    int k = snprintf(buf, cap, "{\"n\":%ld,\"text\":\"K\\u00f6ln \xe2\x9c\x93 "
                     "\xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x8e\x89\",\"pad\":\"", n);
    size_t len = (size_t)k;
    while (len < size && len + 3 < cap)
        buf[len++] = (char)('a' + next_rand(g) % 26);
    len += (size_t)snprintf(buf + len, cap - len, "\"}");
    return len;
}

static void grow_sql(struct gen *g, size_t need)
{
    if (need <= g->cap)
        return;
    g->cap = need * 2;
    if (!(g->sql = realloc(g->sql, g->cap))) {
        fprintf(stderr, "outbox-load: out of memory\n");
        exit(1);
    }
}

/* Inserts one event; its expect line in line (not yet written). 0, or -1
 * when the connection was lost. */
static int insert_event(struct gen *g, long n, int big, char *line,
                        size_t linecap)
{
    static char payload[1100 * 1000];
    int key = (int)(next_rand(g) % NKEYS);
    const char *agg = TYPES[next_rand(g) % 3];
    static const char *const tables[] = {"outbox", "outbox2", "outbox3"};
    int t = pick_table(g);
    const char *table = tables[t];
    int dlq = g->o->dlq_every > 0 && (g->id_base + n) % g->o->dlq_every == 0;
    char keysql[24], topic[32], keyexp[16];
    int null_type = next_rand(g) % 7 == 0;
    size_t plen = make_payload(g, payload, sizeof payload, n,
                               big ? 1000 * 1000 : 100 + next_rand(g) % 200);
    char id[40], type[32];
    snprintf(id, sizeof id, "00000000-0000-4000-8000-%012ld", g->id_base + n);
    snprintf(type, sizeof type, "event%d", (int)(n % 5));
    if (g->o->shard_keys)
        snprintf(keyexp, sizeof keyexp, "t%d-k%d", t, key);
    else
        snprintf(keyexp, sizeof keyexp, "k%d", key);
    snprintf(keysql, sizeof keysql, "'%s'", keyexp);
    snprintf(topic, sizeof topic, "outbox.event.%s", agg);
    if (dlq) { /* a NULL key: the relay's dead-letter topic must have it */
        strcpy(keysql, "NULL");
        strcpy(keyexp, "*");
        strcpy(topic, "outbox.dlq");
    }
    grow_sql(g, plen * 2 + 512);
    int k = snprintf(g->sql, g->cap,
                     "INSERT INTO shop.%s VALUES ('%s','%s',%s,%s%s%s,'",
                     table, id, agg, keysql, null_type ? "" : "'",
                     null_type ? "NULL" : type, null_type ? "" : "'");
    k += (int)mysql_real_escape_string(g->db, g->sql + k, payload, plen);
    snprintf(g->sql + k, g->cap - (size_t)k, "',%s)",
             n % 3 ? "NOW(6)" : "NULL");
    snprintf(line, linecap, "%s\t%s\t%s\t%s\t%zu\t%016" PRIx64 "\n", id,
             topic, keyexp, null_type ? "\\N" : type, plen,
             fnv1a(payload, plen));
    return run(g, g->sql);
}

/* Its statements; 0, or -1 when the connection was lost on the way. */
static int txn_body(struct gen *g, long size, long mark, int rollback,
                    int delete_after, int *big_left, char (*lines)[256])
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO shop.load_marks VALUES (%ld)", mark);
    if (run(g, "BEGIN") < 0 || run(g, sql) < 0 ||
        run(g, "INSERT INTO shop.orders (note) VALUES ('not an outbox row')") < 0)
        return -1;
    for (long i = 0; i < size; i++) {
        int big = *big_left > 0 && next_rand(g) % 100 == 0;
        if (insert_event(g, g->written + i, big, lines[i], sizeof lines[i]) < 0)
            return -1;
        *big_left -= big;
        if (i % 50 == 0 &&
            run(g, "UPDATE shop.orders SET note = 'touched' ORDER BY id DESC LIMIT 1") < 0)
            return -1;
    }
    if (delete_after && run(g, "DELETE FROM shop.outbox") < 0)
        return -1; /* the app may delete its outbox rows at once */
    return run(g, rollback ? "ROLLBACK" : "COMMIT");
}

static void one_txn(struct gen *g, long size, int *big_left)
{
    char (*lines)[256] = malloc((size_t)size * sizeof *lines);
    int rollback = next_rand(g) % 10 == 0;
    int delete_after = next_rand(g) % 5 == 0;
    long mark = g->id_base + g->written;
    int committed = !rollback;
    if (txn_body(g, size, mark, rollback, delete_after, big_left, lines) < 0)
        committed = !rollback && committed_after_loss(g, mark);
    if (committed) {
        for (long i = 0; i < size; i++)
            fputs(lines[i], g->expect);
        fflush(g->expect);
        g->committed += size;
    }
    g->written += size;
    free(lines);
}

static void usage(void)
{
    fprintf(stderr, "usage: outbox-load --port P [--port P2...] [--host H] [--user U] "
                    "[--password X] --events N [--seed S] [--big K] "
                    "[--max-txn M] [--id-base B] [--tables 1-3] "
                    "[--dlq-every K] [--shard-keys] [--init-sql SQL] "
                    "--expect FILE\n");
    exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"host", 1, 0, 'h'}, {"port", 1, 0, 'P'}, {"user", 1, 0, 'u'},
        {"password", 1, 0, 'p'}, {"events", 1, 0, 'n'}, {"seed", 1, 0, 's'},
        {"big", 1, 0, 'b'}, {"expect", 1, 0, 'e'}, {"max-txn", 1, 0, 'm'},
        {"id-base", 1, 0, 'i'}, {"tables", 1, 0, 't'},
        {"dlq-every", 1, 0, 'd'}, {"shard-keys", 0, 0, 'k'},
        {"init-sql", 1, 0, 'S'},
        {0, 0, 0, 0}};
    int c;
    *o = (struct opts){.host = "127.0.0.1", .user = "root", .password = "",
                       .max_txn = 500, .tables = 2, .seed = 1};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'h': o->host = optarg; break;
        case 'P':
            if (o->nports == MAX_PORTS)
                usage();
            o->port = o->ports[o->nports++] = (unsigned)atoi(optarg);
            break;
        case 'u': o->user = optarg; break;
        case 'p': o->password = optarg; break;
        case 'n': o->events = atol(optarg); break;
        case 's': o->seed = strtoul(optarg, NULL, 10); break;
        case 'b': o->big = atol(optarg); break;
        case 'e': o->expect = optarg; break;
        case 'm': o->max_txn = atol(optarg); break;
        case 'i': o->id_base = atol(optarg); break;
        case 't': o->tables = atol(optarg); break;
        case 'd': o->dlq_every = atol(optarg); break;
        case 'k': o->shard_keys = 1; break;
        case 'S': o->init_sql = optarg; break;
        default: usage();
        }
    }
    if (!o->port || o->events < 0 || !o->expect || o->max_txn < 1 ||
        o->max_txn > 500 || o->tables < 1 || o->tables > 3 || o->dlq_every < 0)
        usage();
}

int main(int argc, char **argv)
{
    struct opts o;
    struct gen g = {0};
    parse(argc, argv, &o);
    g.o = &o;
    g.id_base = o.id_base;
    g.rng = o.seed * 2654435761ULL + 88172645463325252ULL;
    connect_db(&g);
    for (size_t i = 0; i < sizeof SCHEMA / sizeof SCHEMA[0]; i++)
        exec(&g, SCHEMA[i]);
    if (!(g.expect = fopen(o.expect, "a"))) {
        perror(o.expect);
        return 1;
    }
    int big_left = (int)o.big;
    while (g.committed < o.events) {
        long size = 1 + (long)(next_rand(&g) % (uint64_t)o.max_txn);
        if (size > o.events - g.committed)
            size = o.events - g.committed;
        one_txn(&g, size, &big_left);
    }
    fclose(g.expect);
    printf("%ld events committed, %ld written\n", g.committed, g.written);
    mysql_close(g.db);
    free(g.sql);
    return 0;
}
