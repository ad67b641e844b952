/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbox-bench: see tests/bench/README.md for what it measures and how to
 * read it. Phases, in this order, on one MariaDB and one kafka-mock:
 *
 *   1. the relay runs once and stops, so that its checkpoint is at the end
 *      of the binlog; the backlog is loaded while it is down;
 *   2. baselines of the drain: mariadb-binlog reads that binlog raw, and a
 *      minimal librdkafka producer (the relay's settings) produces as many
 *      such records;
 *   3. the relay starts and drains the backlog; done when the partitions'
 *      end offsets have grown by the backlog size;
 *   4. latency: paced one-row commits, seen by a consumer; then the same
 *      with a producer writing directly to the mock (the baseline).
 *
 * The peer relay (tests/bench/peer: zongji + kafkajs under node) drains
 * each backlog between phases 2 and 3, and runs the latency workload
 * after the relay; "not run" with the reason when node or its packages
 * are missing. The relay's and the peer's RSS are sampled while they
 * run, the baseline producer's through phase 2; their CPU time is read
 * from /proc/PID/stat at the start and the end of each timed phase.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/bench/bench.h"
#include "tests/bench/bench_binlog.h"
#include "tests/integration/relay_env.h"

#define POLL_NS 20000000L   /* end-offset polls while draining */
#define DRAIN_TIMEOUT_S 900
#define MAX_ROUNDS 9
#define TARGET_DRAIN 300000.0
#define TARGET_P50_MS 1.0
#define TARGET_P99_MS 5.0
#define TARGET_RSS_MB 30.0
/* issue 15: the relay against the bare producer, same invocation */
#define TARGET_DRAIN_RATIO 0.95
#define TARGET_P50_RATIO 1.05
#define TARGET_P99_RATIO 1.3
#define TARGET_P999_RATIO 1.5
#define TARGET_LAT_CPU 10.0 /* CPU s per million events, latency run */
#define MAX_THREADS 32

static const char *const RELAY_TOPICS[] = {
    "outbox.event.queue:16", "outbox.event.order:16", "outbox.event.user:16",
    NULL};
static const char *const BASE_TOPIC[] = {
    "bench.baseline.queue:16", "bench.baseline.order:16",
    "bench.baseline.user:16", NULL};
/* As the relay's: three topics of 16 partitions, by the event's type. */
static const char *const LAT_TOPIC[] = {
    "bench.latency.queue:16", "bench.latency.order:16", "bench.latency.user:16",
    NULL};

struct drain {
    double load_s, binlog_s, base_s, start_s, relay_s, first_s;
    double relay_cpu_s;
    long long relay_instructions; /* --callgrind: 0 when not measured */
    long long base_instructions;  /* the bare producer's, likewise */
    long long relay_own;          /* the relay's pipeline thread's part */
    double peer_start_s, peer_s, peer_first_s, peer_cpu_s; /* peer_s 0: none */
    long long binlog_bytes;
    long base_rss_kb, relay_rss_kb, relay_hwm_kb, peer_hwm_kb;
    int64_t delivered, peer_delivered;
};

/* --split: one relay latency line cut at the relay's own steps, from the
 * times tests/bench/bench_tap.c notes inside it (LD_PRELOAD). */
struct split {
    int ran;
    struct bench_latency read;     /* commit returned -> relay read it */
    struct bench_latency produce;  /* relay read it -> rd_kafka_produceva */
    struct bench_latency ack;      /* produce -> delivery report served */
    struct bench_latency consumed; /* delivery report -> consumer saw it */
    struct bench_latency to_ack;   /* commit returned -> delivery report */
};

/* Context switches of each thread of a process, from
 * /proc/PID/task/TID/status: voluntary ones are the thread going to sleep
 * to wait (and so one wake-up each); the count does not depend on how
 * busy the machine is, only on how often the thread waits. */
struct threads {
    int n;
    struct {
        int tid;
        char comm[24];
        long long vol, invol;
    } t[MAX_THREADS];
};

/* One relay latency line: its figures, the bare producer's beside it (its
 * own baseline, run right after it with the same properties), its CPU,
 * wake-ups and (--callgrind) instructions. */
struct lat_line {
    struct bench_latency relay, base;
    double relay_rate, base_rate;
    struct split split;
    double cpu_s;
    struct threads t0, t1;
    long long instructions; /* --callgrind: 0 when not measured */
    long long base_instructions; /* the bare producer, alone, same pace */
    long long own;               /* the relay's pipeline thread's part */
    struct threads base_t; /* the bare producer's own threads, over its run */
    int ran;
};

struct latency {
    struct lat_line main, alt;
    struct bench_latency binlog, peer;
    double binlog_rate, peer_rate;
    double peer_cpu_s;
    long relay_rss_kb, relay_hwm_kb, peer_hwm_kb;
    int peer_ran;
};

struct run {
    struct bench_opts o;
    struct relay_env e;
    struct bench_rss rss;
    rd_kafka_t *admin; /* asks for end offsets */
    char props_yaml[2048], self[512], perf[512], logs[512], data[512];
    char perf_all[512];      /* --perf-all: perf record -a beside --perf's */
    char alt_yaml[2048];     /* props_yaml and the --alt-prop pairs */
    const char *alt_props[BENCH_MAX_PROPS];
    int nalt;                /* the second relay latency line's pairs */
    int no_alt;              /* --no-alt: no second line */
    int alt_default;         /* the latency-first profile: linger.ms=0 */
    struct bench_opts alt_o; /* o with the --alt-prop pairs, for its baseline */
    char callgrind[512];     /* --callgrind DIR: the relay under callgrind */
    int split;               /* --split */
    int file_store;
    int no_peer;              /* --no-peer */
    struct bench_peer peer;   /* peer.ok: it runs; else peer.why */
    struct th_proc peer_proc;
    struct drain d;                   /* the round under way */
    struct drain rounds[MAX_ROUNDS];  /* every round, for the summary */
    int nrounds;
    struct latency l;
    struct threads producer_t; /* produce_paced's producer's threads */
};

static double secs(int64_t ns) { return (double)ns / 1e9; }

/* ---- options ------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: outbox-bench [--events N] [--payload BYTES] [--txn-rows N]\n"
            "         [--keys N] [--rate N] [--seconds N] [--warmup-ms N]\n"
            "         [--fetch-wait-ms N] [--writers N] [--prop KEY=VALUE]... [--perf FILE]\n"
            "         [--perf-all FILE]  (perf record -a -g, every process, same phase)\n"
            "         [--logs DIR] [--checkpoint kafka|file] [--rounds N]\n"
            "         [--skip-drain] [--skip-latency] [--peer | --no-peer]\n"
            "         [--data DIR]   (plot data: drain.dat, cdf-*.dat)\n"
            "         [--split]      (the relay's latency cut at its own steps:\n"
            "                         read, produce, acknowledged; LD_PRELOAD tap)\n"
            "         [--alt-prop KEY=VALUE]...  (the second relay latency line, the\n"
            "                         relay restarted with these librdkafka\n"
            "                         properties added; default: the\n"
            "                         latency-first profile, linger.ms=0)\n"
            "         [--no-alt]     (no second relay latency line)\n"
            "         [--callgrind DIR]  (the relay under valgrind's callgrind:\n"
            "                         instructions per event of the drain and\n"
            "                         of each latency line; use a low --rate)\n"
            "       outbox-bench [--events N] [--rate N --paced] [--prop K=V]...\n"
            "         produce BOOTSTRAP TOPIC  (a bare producer: the baselines;\n"
            "                         TOPIC ending in '.': one topic per type)\n");
}

static int parse(struct run *r, int argc, char **argv)
{
    static const struct option opts[] = {
        {"events", 1, 0, 'n'}, {"payload", 1, 0, 'p'}, {"txn-rows", 1, 0, 't'},
        {"keys", 1, 0, 'k'}, {"rate", 1, 0, 'r'}, {"seconds", 1, 0, 's'},
        {"warmup-ms", 1, 0, 'w'}, {"fetch-wait-ms", 1, 0, 'f'}, {"writers", 1, 0, 'W'},
        {"prop", 1, 0, 'P'}, {"perf", 1, 0, 'g'}, {"logs", 1, 0, 'l'}, {"checkpoint", 1, 0, 'c'},
        {"rounds", 1, 0, 'R'}, {"peer", 0, 0, 'e'}, {"no-peer", 0, 0, 'E'},
        {"data", 1, 0, 'd'}, {"split", 0, 0, 'S'}, {"perf-all", 1, 0, 'G'}, {"alt-prop", 1, 0, 'A'},
        {"skip-drain", 0, 0, 'D'}, {"no-alt", 0, 0, 'X'}, {"callgrind", 1, 0, 'C'},
        {"paced", 0, 0, 'T'},
        {"skip-latency", 0, 0, 'L'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    struct bench_opts *o = &r->o;
    *o = (struct bench_opts){.events = 1000000, .payload = 200, .txn_rows = 100,
                             .keys = 10000, .rate = 5000, .seconds = 20,
                             .warmup_ms = 1000, .fetch_wait_ms = 1,
                             .writers = 4};
    r->nrounds = 3;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 'n': o->events = atol(optarg); break;
        case 'p': o->payload = atoi(optarg); break;
        case 't': o->txn_rows = atoi(optarg); break;
        case 'k': o->keys = atoi(optarg); break;
        case 'r': o->rate = atoi(optarg); break;
        case 's': o->seconds = atoi(optarg); break;
        case 'w': o->warmup_ms = atoi(optarg); break;
        case 'f': o->fetch_wait_ms = atoi(optarg); break;
        case 'W': o->writers = atoi(optarg); break;
        case 'P':
            if (o->nprops == BENCH_MAX_PROPS || !strchr(optarg, '='))
                return -1;
            o->props[o->nprops++] = optarg;
            break;
        case 'g': snprintf(r->perf, sizeof r->perf, "%s", optarg); break;
        case 'S': r->split = 1; break;
        case 'G': snprintf(r->perf_all, sizeof r->perf_all, "%s", optarg); break;
        case 'A':
            if (r->nalt == BENCH_MAX_PROPS || !strchr(optarg, '='))
                return -1;
            r->alt_props[r->nalt++] = optarg;
            break;
        case 'X': r->no_alt = 1; break;
        case 'T': o->paced = 1; break;
        case 'C': snprintf(r->callgrind, sizeof r->callgrind, "%s", optarg); break;
        case 'R': r->nrounds = atoi(optarg); break;
        case 'c': r->file_store = !strcmp(optarg, "file"); break;
        case 'l': snprintf(r->logs, sizeof r->logs, "%s", optarg); break;
        case 'e': r->no_peer = 0; break;
        case 'E': r->no_peer = 1; break;
        case 'd': snprintf(r->data, sizeof r->data, "%s", optarg); break;
        case 'D': o->skip_drain = 1; break;
        case 'L': o->skip_latency = 1; break;
        default: return -1;
        }
    }
    if (r->no_alt)
        r->nalt = 0;
    else if (r->nalt == 0) { /* README: the latency-first profile */
        r->alt_props[r->nalt++] = "linger.ms=0";
        r->alt_default = 1;
    }
    int positional = argc - optind;
    if (positional != 0 && (positional != 3 || strcmp(argv[optind], "produce")))
        return -1;
    return o->events > 0 && o->payload >= 40 &&
                   o->payload <= 4000 && o->txn_rows > 0 && o->keys > 0 &&
                   o->rate > 0 && o->seconds > 0 && o->writers > 0 &&
                   r->nrounds >= 1 && r->nrounds <= MAX_ROUNDS ? 0 : -1;
}

/* KEY=VALUE pairs as the relay's YAML properties, appended to out. */
static void yaml_props(char *out, size_t len, const char *const *props, int n)
{
    size_t at = strlen(out);
    for (int i = 0; i < n; i++) {
        const char *p = props[i], *eq = strchr(p, '=');
        at += (size_t)snprintf(out + at, len - at, "    %.*s: \"%s\"\n",
                               (int)(eq - p), p, eq + 1);
        if (at >= len)
            at = len - 1;
    }
}

static int same_key(const char *a, const char *b)
{
    size_t n = (size_t)(strchr(a, '=') - a);
    return n == (size_t)(strchr(b, '=') - b) && !strncmp(a, b, n);
}

/* The --prop pairs as the relay's YAML properties; --alt-prop's line has
 * them less the keys that --alt-prop sets, and then --alt-prop's (the
 * configuration refuses a key twice). */
static void props_yaml(struct run *r)
{
    const char *keep[BENCH_MAX_PROPS];
    int nkeep = 0;
    r->props_yaml[0] = r->alt_yaml[0] = '\0';
    yaml_props(r->props_yaml, sizeof r->props_yaml, r->o.props, r->o.nprops);
    for (int i = 0; i < r->o.nprops; i++) {
        int over = 0;
        for (int j = 0; j < r->nalt; j++)
            over |= same_key(r->o.props[i], r->alt_props[j]);
        if (!over)
            keep[nkeep++] = r->o.props[i];
    }
    yaml_props(r->alt_yaml, sizeof r->alt_yaml, keep, nkeep);
    yaml_props(r->alt_yaml, sizeof r->alt_yaml, r->alt_props, r->nalt);
    /* the second line's baseline producer gets the same properties */
    r->alt_o = r->o;
    r->alt_o.nprops = 0;
    for (int i = 0; i < nkeep; i++)
        r->alt_o.props[r->alt_o.nprops++] = keep[i];
    for (int i = 0; i < r->nalt && r->alt_o.nprops < BENCH_MAX_PROPS; i++)
        r->alt_o.props[r->alt_o.nprops++] = r->alt_props[i];
}

/* ---- setup ------------------------------------------------------------- */

/* The product's default checkpoint: the Kafka store, every 1 s. Its topic
 * exists (relay_env makes it, as an operator would: librdkafka 2.0's mock
 * does not implement CreateTopics, which the relay sends only for a
 * missing topic). --checkpoint file: the file store at the same interval,
 * whose fsync runs on the pipeline thread. */
static const char *checkpoint_yaml(struct run *r)
{
    static char yaml[512];
    if (!r->file_store)
        return "checkpoint:\n  store: kafka\n";
    snprintf(yaml, sizeof yaml, "checkpoint:\n  store: file\n  path: %s\n",
             r->e.checkpoint);
    return yaml;
}

static int setup(struct run *r)
{
    static const char *const mariadb[] = {"--innodb-buffer-pool-size=256M",
                                          NULL};
    props_yaml(r);
    if (r->no_peer)
        snprintf(r->peer.why, sizeof r->peer.why, "--no-peer");
    else if (bench_peer_find(&r->peer, OUTBOX_BENCH_SOURCE_DIR) < 0)
        fprintf(stderr, "bench: the peer relay will not run: %s\n",
                r->peer.why);
    if (r->data[0] && mkdir(r->data, 0755) < 0 && errno != EEXIST)
        return -1;
    if (r->callgrind[0] && mkdir(r->callgrind, 0755) < 0 && errno != EEXIST)
        return -1;
    if (relay_env_start(&r->e, "at_least_once", mariadb) != 0 ||
        relay_env_configure(&r->e, r->props_yaml, checkpoint_yaml(r)) < 0 ||
        th_kafka_cmd(&r->e.kafka, "topic bench.baseline.queue 16") ||
        th_kafka_cmd(&r->e.kafka, "topic bench.baseline.order 16") ||
        th_kafka_cmd(&r->e.kafka, "topic bench.baseline.user 16") ||
        th_kafka_cmd(&r->e.kafka, "topic bench.latency.queue 16") ||
        th_kafka_cmd(&r->e.kafka, "topic bench.latency.order 16") ||
        th_kafka_cmd(&r->e.kafka, "topic bench.latency.user 16") ||
        !(r->admin = bench_producer(r->e.kafka.bootstrap, &r->o)) ||
        bench_rss_start(&r->rss) < 0)
        return -1;
    /* One run that stops at once leaves the checkpoint at the binlog's
     * end: the backlog written next is what the relay finds at start. */
    if (relay_env_run_relay(&r->e) < 0 || th_stop(&r->e.relay, 10000, NULL))
        return -1;
    return 0;
}

/* Runs argv to its end, sampling its RSS; wall time in s, or -1. */
static double timed_run(struct run *r, const char *name, char *const argv[],
                        long *rss_kb)
{
    struct th_proc p = {0};
    int64_t t0 = bench_now_ns();
    if (th_spawn(&p, name, r->e.dir, argv) < 0)
        return -1;
    bench_rss_watch(&r->rss, p.pid);
    int rc = th_wait(&p, DRAIN_TIMEOUT_S * 1000);
    double s = secs(bench_now_ns() - t0);
    if (rss_kb)
        *rss_kb = atomic_load(&r->rss.hwm_kb);
    bench_rss_watch(&r->rss, 0);
    if (rc != 0) {
        fprintf(stderr, "bench: %s failed (%d)\n", name, rc);
        th_dump_log(&p, 10);
        if (rc < 0)
            th_kill(&p);
        return -1;
    }
    return s;
}

/* ---- the relay's process: callgrind, threads ----------------------------- */

/* Spawns the relay; with --callgrind under valgrind's callgrind, which
 * counts the instructions of all its threads (user space) together. */
static int spawn_relay(struct run *r)
{
    if (!r->callgrind[0])
        return relay_env_spawn_relay(&r->e);
    char bin[512], out[600];
    snprintf(out, sizeof out, "--callgrind-out-file=%s/relay.%%p",
             r->callgrind);
    char *argv[] = {"valgrind", "--tool=callgrind", "--quiet", out,
                    (char *)th_build_path("relay/outbox-relay", bin, sizeof bin),
                    "-c", r->e.config, NULL};
    return th_spawn(&r->e.relay, "relay", r->e.dir, argv);
}

/* Waits until /healthz says the relay streams; the time that took, or -1. */
static double await_streaming(struct run *r, int64_t t0)
{
    double limit = r->callgrind[0] ? 300 : 60; /* callgrind starts slowly */
    while (relay_env_health(&r->e) != 200) {
        if (!th_alive(&r->e.relay) || secs(bench_now_ns() - t0) > limit) {
            th_dump_log(&r->e.relay, 20);
            return -1;
        }
        /* not faster: perf of the relay would show its HTTP loop */
        bench_sleep_until(bench_now_ns() + 20000000L);
    }
    return secs(bench_now_ns() - t0);
}

/* Spawns the relay and waits until it streams. 0 or -1. */
static int run_relay(struct run *r)
{
    if (!r->callgrind[0])
        return relay_env_run_relay(&r->e);
    int64_t t0 = bench_now_ns();
    return spawn_relay(r) < 0 || await_streaming(r, t0) < 0 ? -1 : 0;
}

/* --callgrind: "-z" zeroes the relay's counters, "-d" dumps them. */
static int callgrind_ctl(struct run *r, const char *what)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "callgrind_control %s %d >/dev/null", what,
             (int)r->e.relay.pid);
    return system(cmd) == 0 ? 0 : -1;
}

/* The instructions in a callgrind dump: its "summary:" (or "totals:")
 * line; -1 when there is none. */
static long long callgrind_total(const char *path)
{
    char line[512];
    long long n = -1;
    FILE *fp = fopen(path, "r");
    while (fp && n < 0 && fgets(line, sizeof line, fp))
        if (sscanf(line, "summary: %lld", &n) != 1 &&
            sscanf(line, "totals: %lld", &n) != 1)
            n = -1;
    if (fp)
        fclose(fp);
    return n;
}

/* The pipeline thread's part of a dump: the inclusive instructions of
 * the four calls its streaming loop makes (they do not nest): decoding
 * and producing, serving delivery reports, reading the binlog (its
 * library's part; the waits are the kernel's) and the checkpoint. Its
 * own code runs the same way whatever the machine's timing, unlike
 * librdkafka's timer-driven broker loop. -1 without callgrind_annotate. */
static long long pipeline_part(const char *path)
{
    static const char *const fn[] = {
        "relay/pipeline.c:pipeline_event ", "relay/sink.c:sink_poll ",
        "relay/source.c:source_read ", "relay/relay.c:maybe_checkpoint "};
    char cmd[900], line[1024];
    long long sum = 0;
    int found = 0;
    snprintf(cmd, sizeof cmd, "callgrind_annotate --inclusive=yes "
             "--threshold=100 '%s' 2>/dev/null", path);
    FILE *fp = popen(cmd, "r");
    while (fp && fgets(line, sizeof line, fp)) {
        for (size_t i = 0; i < sizeof fn / sizeof fn[0]; i++) {
            if ((found & 1 << i) || !strstr(line, fn[i]) ||
                strstr(line, "=>"))
                continue; /* the first, the function's own line */
            long long v = 0;
            for (const char *c = line; *c && *c != '('; c++)
                if (*c >= '0' && *c <= '9')
                    v = v * 10 + (*c - '0');
            sum += v;
            found |= 1 << i;
        }
    }
    if (fp)
        pclose(fp);
    return found ? sum : -1;
}

/* Dumps the relay's counters (those since the last zeroing) and returns
 * their instructions: from the newest dump, relay.PID.N; *own, the
 * pipeline thread's part. -1 on failure. */
static long long callgrind_dump(struct run *r, long long *own)
{
    char prefix[32], path[800];
    int best = -1;
    if (callgrind_ctl(r, "-d") < 0)
        return -1;
    int len = snprintf(prefix, sizeof prefix, "relay.%d.", (int)r->e.relay.pid);
    DIR *d = opendir(r->callgrind);
    for (struct dirent *e; d && (e = readdir(d));)
        if (!strncmp(e->d_name, prefix, (size_t)len) &&
            atoi(e->d_name + len) > best)
            best = atoi(e->d_name + len);
    if (d)
        closedir(d);
    if (best < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s%d", r->callgrind, prefix, best);
    *own = pipeline_part(path);
    return callgrind_total(path);
}

/* The threads of pid and their context switches so far. */
static void threads_of(int pid, struct threads *out)
{
    char path[64];
    out->n = 0;
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    for (struct dirent *e; d && out->n < MAX_THREADS && (e = readdir(d));) {
        char file[400], line[256];
        if (e->d_name[0] == '.')
            continue;
        snprintf(file, sizeof file, "%s/%s/status", path, e->d_name);
        FILE *fp = fopen(file, "r");
        if (!fp)
            continue;
        memset(&out->t[out->n], 0, sizeof out->t[0]);
        out->t[out->n].tid = atoi(e->d_name);
        while (fgets(line, sizeof line, fp)) {
            sscanf(line, "Name:\t%23s", out->t[out->n].comm);
            sscanf(line, "voluntary_ctxt_switches: %lld", &out->t[out->n].vol);
            sscanf(line, "nonvoluntary_ctxt_switches: %lld",
                   &out->t[out->n].invol);
        }
        fclose(fp);
        out->n++;
    }
    if (d)
        closedir(d);
}

/* The librdkafka threads of this process that are not in `before` (those
 * of a client made since), with their context switches so far. */
static void own_threads(const struct threads *before, struct threads *out)
{
    struct threads now;
    threads_of(getpid(), &now);
    out->n = 0;
    for (int i = 0; i < now.n; i++) {
        int old = strncmp(now.t[i].comm, "rdk:", 4) != 0; /* librdkafka's */
        for (int j = 0; j < before->n; j++)
            old |= before->t[j].tid == now.t[i].tid;
        if (!old)
            out->t[out->n++] = now.t[i];
    }
}

/* ---- drain baselines ----------------------------------------------------- */

/* Bytes in the files of dir (the backlog may span binlog files). */
static long long dir_bytes(const char *dir)
{
    long long sum = 0;
    struct dirent *e;
    DIR *d = opendir(dir);
    while (d && (e = readdir(d))) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            sum += st.st_size;
    }
    if (d)
        closedir(d);
    return sum;
}

static int binlog_baseline(struct run *r, const char *file,
                           unsigned long long pos)
{
    char port[32], start[64], dir[128], prefix[160];
    snprintf(port, sizeof port, "--port=%d", r->e.db.port);
    snprintf(start, sizeof start, "--start-position=%llu", pos);
    /* raw events to memory: the transport, with no decoding to text */
    snprintf(dir, sizeof dir, "/dev/shm/outbox-bench.%d", (int)getpid());
    snprintf(prefix, sizeof prefix, "--result-file=%s/", dir);
    if (mkdir(dir, 0700) < 0)
        return -1;
    char *argv[] = {"mariadb-binlog", "--read-from-remote-server",
                    "--host=127.0.0.1", port, "--user=root", "--raw", start,
                    prefix, "--to-last-log", (char *)file, NULL};
    r->d.binlog_s = timed_run(r, "mariadb-binlog", argv, NULL);
    r->d.binlog_bytes = dir_bytes(dir);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", dir);
    return r->d.binlog_s < 0 ? -1 : 0;
}

/* `outbox-bench produce` of `events` records into topic with ko's
 * properties (paced at ko's rate when `paced`), into argv; with
 * --callgrind under callgrind, its counts into DIR/producer-TAG (the
 * producing loop's alone: DIR/producer-TAG.1). Strings live in buf. */
struct produce_argv {
    char n[32], payload[16], keys[16], rate[16], out[600], *argv[64];
};

static void produce_argv(struct run *r, struct produce_argv *a,
                         const struct bench_opts *ko, long events,
                         int paced, const char *topic, const char *tag)
{
    int k = 0;
    snprintf(a->n, sizeof a->n, "%ld", events);
    snprintf(a->payload, sizeof a->payload, "%d", ko->payload);
    snprintf(a->keys, sizeof a->keys, "%d", ko->keys);
    snprintf(a->rate, sizeof a->rate, "%d", ko->rate);
    snprintf(a->out, sizeof a->out, "--callgrind-out-file=%s/producer-%s",
             r->callgrind, tag);
    if (r->callgrind[0]) {
        a->argv[k++] = "valgrind";
        a->argv[k++] = "--tool=callgrind";
        a->argv[k++] = "--quiet";
        a->argv[k++] = a->out;
    }
    a->argv[k++] = r->self;
    a->argv[k++] = "--events";
    a->argv[k++] = a->n;
    a->argv[k++] = "--payload";
    a->argv[k++] = a->payload;
    a->argv[k++] = "--keys";
    a->argv[k++] = a->keys;
    a->argv[k++] = "--rate";
    a->argv[k++] = a->rate;
    if (paced)
        a->argv[k++] = "--paced";
    for (int i = 0; i < ko->nprops; i++) {
        a->argv[k++] = "--prop";
        a->argv[k++] = (char *)ko->props[i];
    }
    a->argv[k++] = "produce";
    a->argv[k++] = r->e.kafka.bootstrap;
    a->argv[k++] = (char *)topic;
    a->argv[k] = NULL;
}

/* The producing loop's instructions, from its dump (or, without one, the
 * whole process's); -1 when there is none. */
static long long producer_instructions(struct run *r, const char *tag)
{
    char path[700];
    snprintf(path, sizeof path, "%s/producer-%s.1", r->callgrind, tag);
    long long n = callgrind_total(path);
    if (n < 0) {
        snprintf(path, sizeof path, "%s/producer-%s", r->callgrind, tag);
        n = callgrind_total(path);
    }
    return n;
}

static int producer_baseline(struct run *r)
{
    struct produce_argv a;
    static int round_no;
    char tag[32];
    snprintf(tag, sizeof tag, "drain-%d", ++round_no);
    produce_argv(r, &a, &r->o, r->o.events, 0, "bench.baseline.", tag);
    char **argv = a.argv;
    int64_t before = bench_end_offsets(r->admin, BASE_TOPIC);
    r->d.base_s = timed_run(r, "producer", argv, &r->d.base_rss_kb);
    if (r->callgrind[0])
        r->d.base_instructions = producer_instructions(r, tag);
    int64_t got = bench_end_offsets(r->admin, BASE_TOPIC) - before;
    if (r->d.base_s >= 0 && got != r->o.events)
        fprintf(stderr, "bench: the baseline producer left %lld records, "
                "not %ld\n", (long long)got, r->o.events);
    return r->d.base_s < 0 || got != r->o.events ? -1 : 0;
}

/* ---- the relay's drain --------------------------------------------------- */

/* --perf-all: every process (frame-pointer stacks: enough to tell the
 * processes and libraries apart), into perf[1]. */
static void perf_all_start(struct run *r, struct th_proc *perf)
{
    if (!r->perf_all[0])
        return;
    char *argv[] = {"perf", "record", "-a", "-g", "-F", "499", "-o",
                    r->perf_all, NULL};
    if (th_spawn(&perf[1], "perf-all", r->e.dir, argv) < 0)
        fprintf(stderr, "bench: perf -a did not start\n");
}

/* --perf: the relay alone, into perf[0]. */
static void perf_start(struct run *r, struct th_proc *perf)
{
    char pid[16];
    if (!r->perf[0])
        return;
    snprintf(pid, sizeof pid, "%d", (int)r->e.relay.pid);
    /* dwarf: the build has no frame pointers, and libc/librdkafka neither */
    char *argv[] = {"perf", "record", "-F", "499", "--call-graph", "dwarf,16384",
                    "-o", r->perf, "-p", pid, NULL};
    if (th_spawn(perf, "perf", r->e.dir, argv) < 0)
        fprintf(stderr, "bench: perf did not start\n");
}

static void perf_stop(struct th_proc *perf)
{
    for (int i = 0; i < 2; i++)
        if (perf[i].pid > 0)
            th_stop(&perf[i], 30000, NULL);
}

/* Polls the end offsets until `want` more records are in the relay's
 * topics. 0, or -1 when the relay died or time ran out. */
static int await_records(struct run *r, struct th_proc *who, int64_t base,
                         int64_t want, int64_t t0, double *first_s,
                         int64_t *delivered)
{
    for (int64_t next = bench_now_ns();; next += POLL_NS) {
        bench_sleep_until(next);
        int64_t got = bench_end_offsets(r->admin, RELAY_TOPICS) - base;
        if (got > 0 && *first_s == 0)
            *first_s = secs(bench_now_ns() - t0);
        *delivered = got;
        if (got >= want)
            return 0;
        if (!th_alive(who) || secs(bench_now_ns() - t0) > DRAIN_TIMEOUT_S) {
            fprintf(stderr, "bench: %s delivered %lld of %lld\n", who->name,
                    (long long)got, (long long)want);
            th_dump_log(who, 20);
            return -1;
        }
    }
}

/* The drain is timed from the moment the relay streams: its start-up is
 * reported apart, because the mock makes the Kafka checkpoint store's
 * take 10 s (see checkpoint_yaml). */
static int relay_drain(struct run *r)
{
    struct th_proc perf[2] = {{0}};
    int64_t base = bench_end_offsets(r->admin, RELAY_TOPICS);
    int64_t spawn = bench_now_ns();
    if (base < 0 || spawn_relay(r) < 0)
        return -1;
    bench_rss_watch(&r->rss, r->e.relay.pid);
    if ((r->d.start_s = await_streaming(r, spawn)) < 0)
        return -1;
    /* once it streams: perf -p follows the threads that exist then
     * (librdkafka's broker threads too), and the start-up stays out */
    perf_start(r, perf);
    perf_all_start(r, perf);
    double cpu0 = bench_cpu_s(r->e.relay.pid);
    if (r->callgrind[0])
        callgrind_ctl(r, "-z"); /* the start-up stays out */
    int64_t t0 = bench_now_ns();
    int rc = await_records(r, &r->e.relay, base, r->o.events, t0,
                           &r->d.first_s, &r->d.delivered);
    r->d.relay_s = secs(bench_now_ns() - t0);
    r->d.relay_cpu_s = bench_cpu_s(r->e.relay.pid) - cpu0;
    if (r->callgrind[0])
        r->d.relay_instructions = callgrind_dump(r, &r->d.relay_own);
    perf_stop(perf);
    r->d.relay_rss_kb = atomic_load(&r->rss.max_rss_kb);
    r->d.relay_hwm_kb = atomic_load(&r->rss.hwm_kb);
    return rc;
}

/* The peer stops being measured (and shows "not run" with the reason)
 * when it fails: the relay's figures go on. */
static void peer_failed(struct run *r, const char *where)
{
    snprintf(r->peer.why, sizeof r->peer.why, "failed during %s (its log: "
             "--logs DIR keeps peer.log)", where);
    r->peer.ok = 0;
    if (r->peer_proc.pid > 0)
        th_stop(&r->peer_proc, 10000, NULL);
}

/* The peer drains the same backlog, from the same binlog position, into
 * the relay's topics; timed like the relay, from "streaming" until the
 * end offsets have grown by the backlog size. */
static int peer_drain(struct run *r, const char *file, unsigned long long pos)
{
    struct th_proc *p = &r->peer_proc;
    int64_t base = bench_end_offsets(r->admin, RELAY_TOPICS);
    int64_t spawn = bench_now_ns();
    if (base < 0 || bench_peer_spawn(&r->peer, p, r->e.dir, &r->e.db,
                                     r->e.kafka.bootstrap, file, pos) < 0)
        return -1;
    bench_rss_watch(&r->rss, p->pid);
    if ((r->d.peer_start_s = bench_peer_await(&r->peer, p, spawn)) < 0)
        return -1;
    double cpu0 = bench_cpu_s(p->pid);
    int64_t t0 = bench_now_ns();
    int rc = await_records(r, p, base, r->o.events, t0, &r->d.peer_first_s,
                           &r->d.peer_delivered);
    r->d.peer_s = secs(bench_now_ns() - t0);
    r->d.peer_cpu_s = bench_cpu_s(p->pid) - cpu0;
    r->d.peer_hwm_kb = atomic_load(&r->rss.hwm_kb);
    bench_rss_watch(&r->rss, 0);
    th_stop(p, 10000, NULL);
    return rc;
}

/* One round: a backlog of events first.. loaded while the relay is down,
 * the two baselines, the peer's drain, then the relay's drain. */
static int drain_round(struct run *r, long first)
{
    char file[256];
    unsigned long long pos;
    memset(&r->d, 0, sizeof r->d);
    fprintf(stderr, "bench: loading %ld events\n", r->o.events);
    /* each round's backlog from the start of a binlog file of its own */
    if (th_mariadb_exec(&r->e.db, "FLUSH BINARY LOGS") < 0 ||
        relay_env_binlog_end(&r->e, file, sizeof file, &pos) < 0)
        return -1;
    int64_t t0 = bench_now_ns();
    if (bench_db_load(&r->e.db, &r->o, first) < 0)
        return -1;
    r->d.load_s = secs(bench_now_ns() - t0);
    fprintf(stderr, "bench: baselines: mariadb-binlog, producer\n");
    if (binlog_baseline(r, file, pos) < 0 || producer_baseline(r) < 0)
        return -1;
    if (r->peer.ok) {
        fprintf(stderr, "bench: the peer (zongji + kafkajs) drains the "
                "backlog\n");
        if (peer_drain(r, file, pos) < 0) {
            r->d.peer_s = 0;
            peer_failed(r, "a drain");
        }
    }
    fprintf(stderr, "bench: relay drains the backlog\n");
    return relay_drain(r);
}

/* Rounds side by side: a baseline and the relay a few seconds apart meet
 * the same neighbours on the machine, so each round's ratio is steadier
 * than any absolute figure; the summary gives medians over the rounds. */
static int drain(struct run *r)
{
    for (int i = 0; i < r->nrounds; i++) {
        if (i > 0 && th_stop(&r->e.relay, 10000, NULL) != 0)
            return -1;
        if (drain_round(r, (long)i * r->o.events) < 0)
            return -1;
        r->rounds[i] = r->d;
    }
    return 0;
}

/* ---- latency ------------------------------------------------------------- */

struct paced_kafka {
    rd_kafka_t *rk;
    long first;
    const struct bench_opts *o;
};

static int produce_one(void *arg, long i)
{
    struct paced_kafka *p = arg;
    int rc = bench_produce(p->rk, "bench.latency.", p->first + i, p->o);
    rd_kafka_poll(p->rk, 0); /* delivery reports, as the relay serves them */
    return rc;
}

/* Who notes when each event arrives: a Kafka consumer, or the binlog
 * reader of bench_binlog.c. */
enum lat_mode { LAT_RELAY, LAT_BINLOG, LAT_KAFKA };

struct observer {
    enum lat_mode mode;
    struct bench_consumer c;
    struct bench_binlog b;
};

static int observe(struct run *r, struct observer *ob, long first, long n)
{
    char file[256];
    unsigned long long pos;
    if (ob->mode != LAT_BINLOG)
        return bench_consumer_start(&ob->c, r->e.kafka.bootstrap,
                                    ob->mode == LAT_RELAY ? RELAY_TOPICS
                                                          : LAT_TOPIC,
                                    &r->o, first, n);
    if (relay_env_binlog_end(&r->e, file, sizeof file, &pos) < 0)
        return -1;
    return bench_binlog_start(&ob->b, &r->e.db, file, pos, first, n);
}

static long observed(struct observer *ob)
{
    return ob->mode == LAT_BINLOG ? atomic_load(&ob->b.received)
                                  : atomic_load(&ob->c.received);
}

/* Stops observing; returns what it saw (freed by observer_free). */
static int64_t *observer_stop(struct observer *ob)
{
    if (ob->mode == LAT_BINLOG) {
        bench_binlog_stop(&ob->b);
        return ob->b.seen;
    }
    bench_consumer_stop(&ob->c);
    return ob->c.seen;
}

static void observer_free(struct observer *ob)
{
    if (ob->mode == LAT_BINLOG)
        bench_binlog_free(&ob->b);
    else
        bench_consumer_free(&ob->c);
}

/* Waits for the last events to arrive (5 s at most), then the verdict. */
static int settle(struct run *r, struct observer *ob, int64_t *commit, long n,
                  struct bench_latency *out, const char *cdf)
{
    for (int i = 0; i < 500 && observed(ob) < n; i++)
        bench_sleep_until(bench_now_ns() + 10000000L);
    int64_t *seen = observer_stop(ob);
    long warm = (long)r->o.rate * r->o.warmup_ms / 1000;
    for (long i = 0, k = 0; i < n && k < 5; i++)
        if (!seen[i] && ++k) /* which: a hint for --logs */
            fprintf(stderr, "bench: event %ld of %ld not seen (seq %ld)\n",
                    i, n, (long)(i + (ob->mode == LAT_BINLOG ? ob->b.first
                                                             : ob->c.first)));
    if (r->data[0] && cdf) {
        char path[600];
        snprintf(path, sizeof path, "%s/cdf-%s.dat", r->data, cdf);
        if (bench_latency_cdf(commit, seen, warm < n ? warm : 0, n, path) < 0)
            fprintf(stderr, "bench: cannot write %s\n", path);
    }
    return bench_latency_of(commit, seen, warm < n ? warm : 0, n, out);
}

/* The same commits as the relay's run, into MariaDB with nobody reading
 * them: while the baseline producer runs, MariaDB takes the CPU it takes
 * in the relay's run, so that the two compare on equally busy cores. */
struct twin {
    struct run *r;
    long first, n;
    int64_t *commit, elapsed;
};

static void *twin_thread(void *arg)
{
    struct twin *t = arg;
    bench_db_paced(&t->r->e.db, &t->r->o, t->first, t->n, t->commit,
                   &t->elapsed);
    return NULL;
}

static long produce_paced(struct run *r, const struct bench_opts *ko,
                          long first, long n, int64_t *commit, int64_t *elapsed)
{
    struct threads before;
    threads_of(getpid(), &before); /* the producer's threads come next */
    struct paced_kafka pk = {bench_producer(r->e.kafka.bootstrap, ko), first,
                             ko};
    if (!pk.rk)
        return -1;
    struct bench_pace pace = {bench_now_ns(), r->o.rate, 0, 1, n};
    long done = bench_paced(&pace, produce_one, &pk, commit);
    *elapsed = bench_now_ns() - pace.t0;
    own_threads(&before, &r->producer_t); /* before they end */
    rd_kafka_flush(pk.rk, 5000); /* destroy would drop what lingers */
    rd_kafka_destroy(pk.rk);
    return done;
}

/* The paced writes: commits into MariaDB, or records straight into the
 * mock beside the same commits (`twin`), by a producer with ko's
 * properties. Returns how many were written; *elapsed. */
static long write_paced(struct run *r, enum lat_mode m,
                        const struct bench_opts *ko, long first, long n,
                        int64_t *commit, int64_t *elapsed)
{
    if (m != LAT_KAFKA)
        return bench_db_paced(&r->e.db, &r->o, first, n, commit, elapsed);
    struct twin t = {r, first + 2 * n, n, calloc((size_t)n, sizeof(int64_t)), 0};
    pthread_t th;
    if (!t.commit || pthread_create(&th, NULL, twin_thread, &t) != 0)
        return free(t.commit), -1;
    long done = produce_paced(r, ko, first, n, commit, elapsed);
    pthread_join(th, NULL);
    free(t.commit);
    return done;
}

/* ---- --split: the tap inside the relay (tests/bench/bench_tap.c) -------- */

static long lat_n(const struct run *r) { return (long)r->o.rate * r->o.seconds; }

static void tap_path(const struct run *r, long first, char *buf, size_t len)
{
    snprintf(buf, len, "%s/tap-%ld.bin", r->e.dir, first);
}

/* Starts the relay for a latency line, with the tap preloaded for events
 * first.. when --split: the file it writes into is made here. */
static int relay_start_tapped(struct run *r, long first)
{
    if (!r->split)
        return run_relay(r);
    char path[600], lib[512], sfirst[32], sn[32];
    tap_path(r, first, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)(3 * lat_n(r) * sizeof(int64_t))) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    snprintf(sfirst, sizeof sfirst, "%ld", first);
    snprintf(sn, sizeof sn, "%ld", lat_n(r));
    setenv("LD_PRELOAD", th_build_path("tests/outbox-bench-tap.so", lib,
                                       sizeof lib), 1);
    setenv("OUTBOX_BENCH_TAP", path, 1);
    setenv("OUTBOX_BENCH_TAP_FIRST", sfirst, 1);
    setenv("OUTBOX_BENCH_TAP_N", sn, 1);
    int rc = run_relay(r); /* only the relay inherits these */
    unsetenv("LD_PRELOAD");
    unsetenv("OUTBOX_BENCH_TAP");
    unsetenv("OUTBOX_BENCH_TAP_FIRST");
    unsetenv("OUTBOX_BENCH_TAP_N");
    return rc;
}

/* Cuts the line at the tap's times. 0, or -1 without a tap file. */
static int split_of(const struct run *r, long first, const int64_t *commit,
                    const int64_t *seen, struct split *sp)
{
    char path[600];
    long n = lat_n(r), warm = (long)r->o.rate * r->o.warmup_ms / 1000;
    size_t bytes = 3 * (size_t)n * sizeof(int64_t);
    tap_path(r, first, path, sizeof path);
    int fd = open(path, O_RDONLY);
    int64_t *t = fd < 0 ? MAP_FAILED
                        : mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (fd >= 0)
        close(fd);
    if (t == MAP_FAILED)
        return -1;
    const int64_t *rd = t, *pr = t + n, *ack = t + 2 * n;
    if (warm >= n)
        warm = 0;
    bench_latency_of(commit, rd, warm, n, &sp->read);
    bench_latency_of(rd, pr, warm, n, &sp->produce);
    bench_latency_of(pr, ack, warm, n, &sp->ack);
    bench_latency_of(ack, seen, warm, n, &sp->consumed);
    bench_latency_of(commit, ack, warm, n, &sp->to_ack);
    sp->ran = 1;
    munmap(t, bytes);
    return 0;
}

/* One latency run of events first.. in the given mode (LAT_KAFKA: a
 * producer with ko's properties); its CDF goes to --data's cdf-NAME.dat;
 * with sp, the line cut at the tap's times. */
static int latency_run(struct run *r, enum lat_mode m,
                       const struct bench_opts *ko, long first,
                       struct bench_latency *out, double *rate,
                       const char *cdf, struct split *sp)
{
    long n = lat_n(r);
    int64_t *commit = calloc((size_t)n, sizeof *commit), elapsed = 0;
    struct observer ob = {.mode = m};
    if (!commit || observe(r, &ob, first, n) < 0)
        return free(commit), -1;
    bench_sleep_until(bench_now_ns() + 1000000000L); /* reading started */
    long done = write_paced(r, m, ko, first, n, commit, &elapsed);
    *rate = elapsed > 0 ? (double)done / secs(elapsed) : 0;
    int rc = done == n ? settle(r, &ob, commit, n, out, cdf) : -1;
    if (done != n)
        observer_stop(&ob);
    if (rc == 0 && sp && m == LAT_RELAY &&
        split_of(r, first, commit, ob.c.seen, sp) < 0)
        fprintf(stderr, "bench: --split: no tap file\n");
    observer_free(&ob);
    free(commit);
    return rc;
}

/* The relay's run of line L, the relay streaming: its CPU, its threads'
 * context switches and (--callgrind) its instructions around it. */
static int measure_relay(struct run *r, long first, struct lat_line *L,
                         const char *cdf)
{
    int pid = r->e.relay.pid;
    double cpu0 = bench_cpu_s(pid);
    threads_of(pid, &L->t0);
    if (r->callgrind[0])
        callgrind_ctl(r, "-z");
    int rc = latency_run(r, LAT_RELAY, &r->o, first, &L->relay,
                         &L->relay_rate, cdf, r->split ? &L->split : NULL);
    threads_of(pid, &L->t1);
    L->cpu_s = bench_cpu_s(pid) - cpu0;
    if (r->callgrind[0])
        L->instructions = callgrind_dump(r, &L->own);
    return rc;
}

/* The first line: the relay with --prop's properties. */
static int relay_latency(struct run *r, long first)
{
    struct th_proc perf[2] = {{0}};
    /* --split: the relay of the drain has no tap; this one has */
    if (r->split && r->e.relay.pid > 0 && th_stop(&r->e.relay, 10000, NULL))
        return -1;
    if (r->e.relay.pid <= 0) { /* --skip-drain: --perf profiles this phase */
        if (relay_start_tapped(r, first) < 0)
            return -1;
        if (r->o.skip_drain) {
            perf_start(r, perf);
            perf_all_start(r, perf);
        }
    }
    bench_rss_watch(&r->rss, r->e.relay.pid);
    fprintf(stderr, "bench: latency through the relay, %d/s for %d s\n",
            r->o.rate, r->o.seconds);
    int rc = measure_relay(r, first, &r->l.main, "relay");
    r->l.relay_rss_kb = atomic_load(&r->rss.max_rss_kb);
    r->l.relay_hwm_kb = atomic_load(&r->rss.hwm_kb);
    bench_rss_watch(&r->rss, 0);
    perf_stop(perf);
    th_stop(&r->e.relay, 10000, NULL);
    return rc;
}

/* The second line (--alt-prop; by default the latency-first profile):
 * the relay restarted with those properties set, the same paced commits
 * (other ids); then the configuration is put back. */
static int alt_latency(struct run *r, long first)
{
    /* The first line's baseline committed lat_n events that nobody read:
     * this relay drains them first, before its run is measured. */
    int64_t base = bench_end_offsets(r->admin, RELAY_TOPICS);
    double first_s = 0;
    int64_t got = 0;
    if (base < 0 ||
        relay_env_configure(&r->e, r->alt_yaml, checkpoint_yaml(r)) < 0 ||
        relay_start_tapped(r, first) < 0 ||
        await_records(r, &r->e.relay, base, lat_n(r), bench_now_ns(),
                      &first_s, &got) < 0)
        return -1;
    fprintf(stderr, "bench: latency through the relay with %s, %d/s for "
            "%d s\n", r->alt_default ? "linger.ms=0 (latency-first)"
                                     : "--alt-prop", r->o.rate, r->o.seconds);
    int rc = measure_relay(r, first, &r->l.alt, "relay-alt");
    th_stop(&r->e.relay, 10000, NULL);
    if (relay_env_configure(&r->e, r->props_yaml, checkpoint_yaml(r)) < 0)
        return -1;
    return rc;
}

/* Line L's baseline, right after its relay run: a producer with the same
 * properties writes the same events straight to the mock, beside the
 * same commits into MariaDB. */
static int line_baseline(struct run *r, const struct bench_opts *ko,
                         long first, struct lat_line *L, const char *cdf)
{
    fprintf(stderr, "bench: latency baseline: a producer straight to the "
            "mock, beside the same commits\n");
    if (latency_run(r, LAT_KAFKA, ko, first, &L->base, &L->base_rate, cdf,
                    NULL) < 0)
        return -1;
    L->ran = 1;
    L->base_t = r->producer_t;
    if (r->callgrind[0]) { /* its instructions: the same pace, alone */
        struct produce_argv a;
        produce_argv(r, &a, ko, lat_n(r), 1, "bench.latency.", cdf);
        if (timed_run(r, "producer", a.argv, NULL) >= 0)
            L->base_instructions = producer_instructions(r, cdf);
    }
    return 0;
}

/* The same paced commits through the peer, started at the binlog's end
 * once the relay has stopped. */
static int peer_latency(struct run *r, long first)
{
    struct th_proc *p = &r->peer_proc;
    int64_t spawn = bench_now_ns();
    if (bench_peer_spawn(&r->peer, p, r->e.dir, &r->e.db,
                         r->e.kafka.bootstrap, NULL, 0) < 0 ||
        bench_peer_await(&r->peer, p, spawn) < 0)
        return -1;
    bench_rss_watch(&r->rss, p->pid);
    fprintf(stderr, "bench: latency through the peer, %d/s for %d s\n",
            r->o.rate, r->o.seconds);
    double cpu0 = bench_cpu_s(p->pid);
    int rc = latency_run(r, LAT_RELAY, &r->o, first, &r->l.peer,
                         &r->l.peer_rate, "peer", NULL);
    r->l.peer_cpu_s = bench_cpu_s(p->pid) - cpu0;
    r->l.peer_hwm_kb = atomic_load(&r->rss.hwm_kb);
    bench_rss_watch(&r->rss, 0);
    th_stop(p, 10000, NULL);
    r->l.peer_ran = rc == 0;
    return rc;
}

/* Each relay line is followed at once by its own baseline, so that the
 * two meet the same neighbours on the machine (the load moves within an
 * invocation: a line measured later is often worse, whatever it is). */
static int latency(struct run *r)
{
    /* ids apart from the backlogs'; relay, binlog, twins (first + 2n,
     * + 6n), peer, alt */
    long first = r->o.events * r->nrounds + 1000000;
    long n = lat_n(r);
    if (relay_latency(r, first) < 0 ||
        line_baseline(r, &r->o, first, &r->l.main, "kafka") < 0)
        return -1;
    if (r->nalt && (alt_latency(r, first + 4 * n) < 0 ||
                    line_baseline(r, &r->alt_o, first + 4 * n, &r->l.alt,
                                  "kafka-alt") < 0))
        return -1;
    if (r->peer.ok && peer_latency(r, first + 3 * n) < 0)
        peer_failed(r, "the latency run");
    fprintf(stderr, "bench: latency baseline: binlog reader\n");
    return latency_run(r, LAT_BINLOG, &r->o, first + n, &r->l.binlog,
                       &r->l.binlog_rate, "binlog", NULL);
}

/* ---- the summary --------------------------------------------------------- */

static const char *verdict(int ok) { return ok ? "PASS" : "FAIL"; }

static double ratio(double a, double b) { return b > 0 ? a / b : 0; }

static double relay_rate(const struct run *r, const struct drain *d)
{
    return (double)r->o.events / d->relay_s;
}

static double peer_rate(const struct run *r, const struct drain *d)
{
    return d->peer_s > 0 ? (double)r->o.events / d->peer_s : 0;
}

/* CPU seconds per million events */
static double cpu_per_m(double cpu_s, double events)
{
    return cpu_s >= 0 && events > 0 ? cpu_s * 1e6 / events : 0;
}

static double mb(long kb) { return (double)kb * 1024 / 1e6; }

static void print_round(const struct run *r, int i)
{
    const struct drain *d = &r->rounds[i];
    double n = (double)r->o.events, relay = relay_rate(r, d);
    printf("  round %d: relay %9.0f/s (%.2f s)  binlog %9.0f/s  kafka %9.0f/s"
           "  relay/binlog %.2f  relay/kafka %.2f  (load %.0f/s, start-up "
           "%.2f s, first record +%.2f s)\n", i + 1, relay, d->relay_s,
           n / d->binlog_s, n / d->base_s, ratio(relay, n / d->binlog_s),
           ratio(relay, n / d->base_s), n / d->load_s, d->start_s, d->first_s);
    printf("           relay CPU %.2f s (%.2f s per million events), peak RSS "
           "%.1f MB", d->relay_cpu_s, cpu_per_m(d->relay_cpu_s, n),
           mb(d->relay_hwm_kb));
    if (d->relay_instructions > 0)
        printf(", %.0f instructions per event (callgrind)",
               (double)d->relay_instructions / n);
    if (d->relay_instructions > 0 && d->base_instructions > 0)
        printf("; bare producer %.0f, relay/producer %.2f",
               (double)d->base_instructions / n,
               ratio((double)d->relay_instructions,
                     (double)d->base_instructions));
    if (d->relay_own > 0)
        printf("; the relay's pipeline thread %.0f",
               (double)d->relay_own / n);
    printf("\n");
    if (d->peer_s > 0)
        printf("           peer  %9.0f/s (%.2f s)  relay/peer %.2f  peer CPU "
               "%.2f s (%.2f s per million events), peak RSS %.1f MB "
               "(start-up %.2f s, first record +%.2f s)\n", peer_rate(r, d),
               d->peer_s, ratio(relay, peer_rate(r, d)), d->peer_cpu_s,
               cpu_per_m(d->peer_cpu_s, n), mb(d->peer_hwm_kb),
               d->peer_start_s, d->peer_first_s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of f(round) over the rounds. */
static double median(const struct run *r,
                     double (*f)(const struct run *, const struct drain *))
{
    double v[MAX_ROUNDS];
    for (int i = 0; i < r->nrounds; i++)
        v[i] = f(r, &r->rounds[i]);
    qsort(v, (size_t)r->nrounds, sizeof v[0], cmp_double);
    int m = r->nrounds / 2;
    return r->nrounds % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

static double to_binlog(const struct run *r, const struct drain *d)
{
    return ratio(relay_rate(r, d), (double)r->o.events / d->binlog_s);
}

static double to_kafka(const struct run *r, const struct drain *d)
{
    return ratio(relay_rate(r, d), (double)r->o.events / d->base_s);
}

static double to_peer(const struct run *r, const struct drain *d)
{
    return ratio(relay_rate(r, d), peer_rate(r, d));
}

static double binlog_rate(const struct run *r, const struct drain *d)
{
    return (double)r->o.events / d->binlog_s;
}

static double kafka_rate(const struct run *r, const struct drain *d)
{
    return (double)r->o.events / d->base_s;
}

static double relay_cpu(const struct run *r, const struct drain *d)
{
    return cpu_per_m(d->relay_cpu_s, (double)r->o.events);
}

static double peer_cpu(const struct run *r, const struct drain *d)
{
    return d->peer_s > 0 ? cpu_per_m(d->peer_cpu_s, (double)r->o.events) : 0;
}

/* The peer's figures count only when it drained in every round. */
static int peer_drained(const struct run *r)
{
    for (int i = 0; i < r->nrounds; i++)
        if (r->rounds[i].peer_s <= 0)
            return 0;
    return r->nrounds > 0 && !r->o.skip_drain;
}

static long max_kb(const struct run *r, long (*f)(const struct drain *))
{
    long m = 0;
    for (int i = 0; i < r->nrounds && !r->o.skip_drain; i++)
        m = f(&r->rounds[i]) > m ? f(&r->rounds[i]) : m;
    return m;
}

static long relay_hwm(const struct drain *d) { return d->relay_hwm_kb; }
static long peer_hwm(const struct drain *d) { return d->peer_hwm_kb; }
static long base_hwm(const struct drain *d) { return d->base_rss_kb; }
static long relay_rss(const struct drain *d) { return d->relay_rss_kb; }

static void print_drain(const struct run *r)
{
    printf("backlog drain: %d rounds of %ld events, %d-byte payloads, %d rows "
           "per transaction; relay and peer timed from streaming to the last "
           "record in Kafka (end offsets)\n", r->nrounds, r->o.events,
           r->o.payload, r->o.txn_rows);
    printf("  baselines: binlog = mariadb-binlog --raw reading the backlog; "
           "kafka = a librdkafka producer with the relay's settings; peer = "
           "zongji + kafkajs under node (tests/bench/peer)\n");
    for (int i = 0; i < r->nrounds; i++)
        print_round(r, i);
    double relay = median(r, relay_rate);
    printf("  medians over the rounds: relay %.0f events/s  relay/binlog %.2f"
           "  relay/kafka %.2f", relay, median(r, to_binlog),
           median(r, to_kafka));
    if (peer_drained(r))
        printf("  peer %.0f events/s  relay/peer %.2f\n", median(r, peer_rate),
               median(r, to_peer));
    else
        printf("  peer not run: %s\n", r->peer.why);
    printf("  target >= %.0f events/s (median relay rate): %s\n", TARGET_DRAIN,
           verdict(relay >= TARGET_DRAIN));
    double k = median(r, to_kafka);
    printf("  drain ratio relay/kafka (bare producer, same records and "
           "settings) %.2f: target >= %.2f: %s\n", k, TARGET_DRAIN_RATIO,
           verdict(k >= TARGET_DRAIN_RATIO));
}

static void print_pct(const char *name, const struct bench_latency *l,
                      double rate)
{
    printf("  %-15s p50 %6.3f ms  p99 %6.3f ms  p99.9 %6.3f ms  max %7.3f ms"
           "  (%ld events at %.0f/s, %ld lost, %ld early)\n", name, l->p50_ms,
           l->p99_ms, l->p999_ms, l->max_ms, l->count, rate, l->lost, l->early);
}

/* --split's lines: where one relay line's time goes. */
static void print_split(const struct split *sp)
{
    static const char *const name[] = {
        "commit->read", "read->produce", "produce->ack", "ack->consumed",
        "commit->ack"};
    if (!sp->ran)
        return;
    const struct bench_latency *seg[] = {&sp->read, &sp->produce, &sp->ack,
                                         &sp->consumed, &sp->to_ack};
    printf("    split (tap in the relay: read = its binlog read returned the "
           "event, produce = rd_kafka_produceva, ack = its delivery report):\n");
    for (int i = 0; i < 5; i++)
        printf("    %-15s p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  max "
               "%7.3f ms  (%ld, %ld missing, %ld negative)\n", name[i],
               seg[i]->p50_ms, seg[i]->p99_ms, seg[i]->p999_ms,
               seg[i]->max_ms, seg[i]->count, seg[i]->lost, seg[i]->early);
}

static double lat_events(const struct run *r)
{
    return (double)r->o.rate * r->o.seconds;
}

/* Wake-ups per event by thread: voluntary context switches over the
 * run, divided by its events. The process's first thread is its event
 * loop; librdkafka names its own (rdk:main, rdk:broker1, ...). */
static void print_wakeups(const struct run *r, const struct lat_line *L)
{
    double n = lat_events(r), all = 0, invol = 0;
    printf("    wake-ups per event (voluntary context switches / events, by "
           "thread):");
    for (int i = 0; i < L->t1.n; i++) {
        long long v0 = 0, i0 = 0;
        for (int j = 0; j < L->t0.n; j++)
            if (L->t0.t[j].tid == L->t1.t[i].tid) {
                v0 = L->t0.t[j].vol;
                i0 = L->t0.t[j].invol;
            }
        double w = (double)(L->t1.t[i].vol - v0) / n;
        all += w;
        invol += (double)(L->t1.t[i].invol - i0) / n;
        if (w >= 0.005)
            printf(" %s%s %.2f", L->t1.t[i].comm,
                   L->t1.t[i].tid == r->e.relay.pid ? "(loop)" : "", w);
    }
    printf("; all threads %.2f (involuntary %.2f)\n", all, invol);
    all = 0;
    printf("    the bare producer's own threads, same:");
    for (int i = 0; i < L->base_t.n; i++) {
        double w = (double)L->base_t.t[i].vol / n;
        all += w;
        if (w >= 0.005)
            printf(" %s %.2f", L->base_t.t[i].comm, w);
    }
    printf("; all %.2f (its producing thread is the bench's pacer, not "
           "counted)\n", all);
}

/* One relay line with its baseline, the ratios and the targets. */
static void print_line(const struct run *r, const char *name,
                       const struct lat_line *L)
{
    const struct bench_latency *a = &L->relay, *b = &L->base;
    print_pct(name, a, L->relay_rate);
    print_split(&L->split);
    print_pct("baseline kafka", b, L->base_rate);
    double p50 = ratio(a->p50_ms, b->p50_ms), p99 = ratio(a->p99_ms, b->p99_ms),
           p999 = ratio(a->p999_ms, b->p999_ms);
    printf("    relay/baseline kafka: p50 %.2f (target <= %.2f: %s)  p99 %.2f "
           "(<= %.2f: %s)  p99.9 %.2f (<= %.2f: %s)\n", p50, TARGET_P50_RATIO,
           verdict(p50 <= TARGET_P50_RATIO), p99, TARGET_P99_RATIO,
           verdict(p99 <= TARGET_P99_RATIO), p999, TARGET_P999_RATIO,
           verdict(p999 <= TARGET_P999_RATIO));
    double cpu = cpu_per_m(L->cpu_s, lat_events(r));
    printf("    relay CPU through the run: %.2f s, %.1f s per million events "
           "(target <= %.0f: %s)\n", L->cpu_s, cpu, TARGET_LAT_CPU,
           verdict(cpu <= TARGET_LAT_CPU));
    print_wakeups(r, L);
    if (L->instructions > 0)
        printf("    instructions per event (callgrind, all threads, user "
               "space): relay %.0f (its pipeline thread %.0f), bare producer "
               "%.0f (alone, paced the same), relay/producer %.2f\n",
               (double)L->instructions / lat_events(r),
               (double)L->own / lat_events(r),
               (double)L->base_instructions / lat_events(r),
               ratio((double)L->instructions, (double)L->base_instructions));
}

static void print_latency(const struct run *r)
{
    const struct latency *l = &r->l;
    printf("latency: commit returned -> consumer saw it (an upper bound of "
           "commit -> acknowledged), %d/s for %d s, first %d ms not counted, "
           "fetch.wait.max.ms=%d\n", r->o.rate, r->o.seconds, r->o.warmup_ms,
           r->o.fetch_wait_ms);
    printf("  each relay line is followed by its own baseline kafka: a "
           "producer with the same librdkafka properties straight into the "
           "mock, beside the same MariaDB commits (nobody reads them)\n");
    print_line(r, "relay", &l->main);
    if (l->alt.ran) {
        printf("  %s: the relay restarted with",
               r->alt_default ? "latency-first profile (README)" : "relay-alt");
        for (int i = 0; i < r->nalt; i++)
            printf(" %s", r->alt_props[i]);
        printf(" set; its baseline with the same\n");
        print_line(r, r->alt_default ? "latency-first" : "relay-alt", &l->alt);
    }
    if (l->peer_ran)
        print_pct("peer", &l->peer, l->peer_rate);
    else
        printf("  %-15s not run: %s\n", "peer", r->peer.why);
    print_pct("baseline binlog", &l->binlog, l->binlog_rate);
    printf("  baseline binlog: commit -> event read by the relay's source code "
           "alone (MariaDB's own part: near 0, a ratio to it means nothing)\n");
    if (l->peer_ran)
        printf("  relay/peer: p50 %.2f  p99 %.2f  p99.9 %.2f; CPU peer %.2f s "
               "(%.1f s per million events), relay/peer %.2f\n",
               ratio(l->main.relay.p50_ms, l->peer.p50_ms),
               ratio(l->main.relay.p99_ms, l->peer.p99_ms),
               ratio(l->main.relay.p999_ms, l->peer.p999_ms), l->peer_cpu_s,
               cpu_per_m(l->peer_cpu_s, lat_events(r)),
               ratio(l->main.cpu_s, l->peer_cpu_s));
    printf("  target p50 <= %.0f ms: %s   target p99 <= %.0f ms: %s\n",
           TARGET_P50_MS, verdict(l->main.relay.p50_ms <= TARGET_P50_MS),
           TARGET_P99_MS, verdict(l->main.relay.p99_ms <= TARGET_P99_MS));
}

static void print_rss(const struct run *r)
{
    long drain_hwm = max_kb(r, relay_hwm), drain_rss = max_kb(r, relay_rss);
    long bhwm = max_kb(r, base_hwm);
    long peak = r->l.relay_hwm_kb > drain_hwm ? r->l.relay_hwm_kb : drain_hwm;
    printf("relay RSS (MB = 10^6 bytes): drain max sample %.1f MB, latency max "
           "sample %.1f MB, peak (VmHWM) %.1f MB\n", mb(drain_rss),
           mb(r->l.relay_rss_kb), mb(peak));
    if (bhwm)
        printf("  baseline producer peak (VmHWM) %.1f MB   relay/baseline = "
               "%.2f\n", mb(bhwm), ratio((double)peak, (double)bhwm));
    long ppeak = peer_drained(r) ? max_kb(r, peer_hwm) : 0;
    if (r->l.peer_ran && r->l.peer_hwm_kb > ppeak)
        ppeak = r->l.peer_hwm_kb;
    if (ppeak)
        printf("  peer peak (VmHWM) %.1f MB (drain %.1f MB, latency %.1f MB)"
               "   relay/peer = %.2f\n", mb(ppeak), mb(max_kb(r, peer_hwm)),
               mb(r->l.peer_hwm_kb), ratio((double)peak, (double)ppeak));
    else
        printf("  peer not run: %s\n", r->peer.why);
    printf("  target <= %.0f MB: %s\n", TARGET_RSS_MB,
           verdict(peak > 0 && mb(peak) <= TARGET_RSS_MB));
}

/* One markdown table of the figures that docs/BENCHMARKS.md quotes. */
static void print_table(const struct run *r)
{
    int drained = !r->o.skip_drain, peer = peer_drained(r);
    int lat = !r->o.skip_latency, lpeer = lat && r->l.peer_ran;
    char v[64];
#define CELL(ok, ...) (ok ? (snprintf(v, sizeof v, __VA_ARGS__), v) : "not run")
    printf("\n| figure | outbox-relay | peer (zongji+kafkajs) | binlog ceiling "
           "| kafka ceiling | relay / binlog | relay / kafka | relay / peer |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    if (drained) {
        printf("| drain, events/s (median) | %.0f |", median(r, relay_rate));
        printf(" %s |", CELL(peer, "%.0f", median(r, peer_rate)));
        printf(" %.0f | %.0f | %.2f | %.2f |", median(r, binlog_rate),
               median(r, kafka_rate), median(r, to_binlog), median(r, to_kafka));
        printf(" %s |\n", CELL(peer, "%.2f", median(r, to_peer)));
        printf("| drain, CPU s per million events (median) | %.2f |",
               median(r, relay_cpu));
        printf(" %s | | | | |", CELL(peer, "%.2f", median(r, peer_cpu)));
        printf(" %s |\n", CELL(peer, "%.2f", ratio(median(r, relay_cpu),
                                                   median(r, peer_cpu))));
        long rh = max_kb(r, relay_hwm), ph = max_kb(r, peer_hwm);
        printf("| drain, peak RSS MB (VmHWM) | %.1f |", mb(rh));
        printf(" %s | | %.1f | | %.2f |", CELL(peer, "%.1f", mb(ph)),
               mb(max_kb(r, base_hwm)),
               ratio((double)rh, (double)max_kb(r, base_hwm)));
        printf(" %s |\n", CELL(peer, "%.2f", ratio((double)rh, (double)ph)));
    }
    if (lat) {
        const struct latency *l = &r->l;
        const char *name[] = {"p50", "p99", "p99.9"};
        const struct lat_line *L = &l->main, *A = &l->alt;
        double rv[] = {L->relay.p50_ms, L->relay.p99_ms, L->relay.p999_ms};
        double pv[] = {l->peer.p50_ms, l->peer.p99_ms, l->peer.p999_ms};
        double kv[] = {L->base.p50_ms, L->base.p99_ms, L->base.p999_ms};
        double av[] = {A->relay.p50_ms, A->relay.p99_ms, A->relay.p999_ms};
        double bv[] = {A->base.p50_ms, A->base.p99_ms, A->base.p999_ms};
        for (int i = 0; i < 3; i++) {
            printf("| latency %s ms at %d/s | %.2f |", name[i], r->o.rate, rv[i]);
            printf(" %s | | %.2f | | %.2f |", CELL(lpeer, "%.2f", pv[i]), kv[i],
                   ratio(rv[i], kv[i]));
            printf(" %s |\n", CELL(lpeer, "%.2f", ratio(rv[i], pv[i])));
        }
        for (int i = 0; i < 3 && A->ran; i++)
            printf("| %s %s ms | %.2f | | | %.2f | | %.2f | |\n",
                   r->alt_default ? "latency-first" : "relay-alt", name[i],
                   av[i], bv[i], ratio(av[i], bv[i]));
        printf("| latency run, CPU s per million events | %.1f |",
               cpu_per_m(L->cpu_s, lat_events(r)));
        printf(" %s | | | | |", CELL(lpeer, "%.1f",
                                     cpu_per_m(l->peer_cpu_s, lat_events(r))));
        printf(" %s |\n", CELL(lpeer, "%.2f", ratio(L->cpu_s,
                                                   l->peer_cpu_s)));
        if (A->ran)
            printf("| %s run, CPU s per million events | %.1f | | | | | | |\n",
                   r->alt_default ? "latency-first" : "relay-alt",
                   cpu_per_m(A->cpu_s, lat_events(r)));
        printf("| latency run, peak RSS MB (VmHWM) | %.1f |",
               mb(l->relay_hwm_kb));
        printf(" %s | | | | |", CELL(lpeer, "%.1f", mb(l->peer_hwm_kb)));
        printf(" %s |\n", CELL(lpeer, "%.2f", ratio((double)l->relay_hwm_kb,
                                                   (double)l->peer_hwm_kb)));
    }
#undef CELL
    if (!r->peer.ok && r->peer.why[0])
        printf("(peer not run: %s)\n", r->peer.why);
}

/* --data DIR: drain.dat (median events/s per system) for the plots; the
 * latency CDFs were written by settle(). */
static void write_data(const struct run *r)
{
    char path[600];
    if (!r->data[0] || r->o.skip_drain)
        return;
    snprintf(path, sizeof path, "%s/drain.dat", r->data);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        fprintf(stderr, "bench: cannot write %s\n", path);
        return;
    }
    fprintf(fp, "# system events_per_s (median of %d rounds of %ld)\n",
            r->nrounds, r->o.events);
    fprintf(fp, "\"outbox-relay\" %.0f\n", median(r, relay_rate));
    if (peer_drained(r))
        fprintf(fp, "\"peer (zongji+kafkajs)\" %.0f\n", median(r, peer_rate));
    fprintf(fp, "\"binlog ceiling\" %.0f\n",
            median(r, binlog_rate));
    fprintf(fp, "\"kafka ceiling\" %.0f\n",
            median(r, kafka_rate));
    fclose(fp);
}

static void summary(const struct run *r, int argc, char **argv)
{
    printf("\n==== outbox-relay benchmark ====\ncommand:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\nrelay: at_least_once, kafka.buffer_memory 16MiB, checkpoint "
           "store %s every 1 s; kafka properties:%s",
           r->file_store ? "file" : "kafka", r->o.nprops ? "" : " (defaults)");
    for (int i = 0; i < r->o.nprops; i++)
        printf(" %s", r->o.props[i]);
    printf("\nmachine: %ld cores; loadavg at the end: ", sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout);
    if (system("cut -d' ' -f1-3 /proc/loadavg") != 0)
        printf("?\n");
    if (!r->o.skip_drain)
        print_drain(r);
    if (!r->o.skip_latency)
        print_latency(r);
    print_rss(r);
    print_table(r);
    printf("==== end ====\n");
    write_data(r);
}

/* The servers' directories go when the bench ends; their logs may stay. */
static void keep_logs(const struct run *r)
{
    char cmd[1400];
    if (!r->logs[0])
        return;
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s'/*.log '%s'/", r->logs,
             r->e.dir, r->logs);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot copy the logs to %s\n", r->logs);
}

/* ---- main ---------------------------------------------------------------- */

static void default_build_dir(void)
{
    if (!getenv("OUTBOX_BUILD_DIR"))
        setenv("OUTBOX_BUILD_DIR", OUTBOX_BENCH_BUILD_DIR, 0);
}

int main(int argc, char **argv)
{
    struct run *r = calloc(1, sizeof *r);
    if (!r || parse(r, argc, argv) < 0) {
        usage();
        return 2;
    }
    if (optind < argc) /* outbox-bench [options] produce BOOTSTRAP TOPIC */
        return bench_produce_run(argv[optind + 1], argv[optind + 2], &r->o);
    default_build_dir();
    signal(SIGPIPE, SIG_IGN);
    ssize_t k = readlink("/proc/self/exe", r->self, sizeof r->self - 1);
    r->self[k > 0 ? k : 0] = '\0';
    int rc = setup(r);
    if (rc == 0 && !r->o.skip_drain)
        rc = drain(r);
    if (rc == 0 && !r->o.skip_latency)
        rc = latency(r);
    bench_rss_stop(&r->rss);
    if (rc == 0)
        summary(r, argc, argv);
    if (r->admin)
        rd_kafka_destroy(r->admin);
    relay_env_stop(&r->e);
    keep_logs(r);
    return rc == 0 ? 0 : 1;
}
