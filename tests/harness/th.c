/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/harness/th.h"
#include "tests/harness/th_root.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <mysql.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64
#define ROOT_PREFIX "outbox-test."

static struct th_proc *procs[MAX_PROCS];
static char root[256];
static pid_t owner;

/* This run's directories inside roots (ROOT/tmp/outbox-test.PID.XXXXXX,
 * as the host sees them), removed with `root`. */
#define MAX_CHROOTS 4
static char chroot_runs[MAX_CHROOTS][512];

/* ---- small helpers ---------------------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The lowest port the kernel hands out to outgoing connections. */
static int ephemeral_low(void)
{
    int lo = 32768, hi;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 32768;
        fclose(f);
    }
    return lo;
}

/* Can a server (SO_REUSEADDR, as MariaDB, Redis and evhttp set it) listen
 * on 127.0.0.1:port now?  port 0 asks the kernel for one; returns it. */
static int try_port(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0), got = -1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        listen(fd, 1) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        got = ntohs(a.sin_port);
    close(fd);
    return got;
}

/* Ports come from below the ephemeral range: a port the kernel picked
 * (bind to 0) is one it may give next to an outgoing connection (the
 * relay's, a Kafka client's) before our server binds it, which once failed
 * the demo test in CI.  Ports handed out are remembered, since a test
 * often asks for several before starting anything. */
int th_free_port(void)
{
    static int given[256], n_given;
    static unsigned seed;
    int lo = 20000, hi = ephemeral_low();
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL) * 2654435761u;
    for (int tries = 0; hi - lo > 1000 && tries < 200; tries++) {
        int port = lo + (int)(rand_r(&seed) % (unsigned)(hi - lo)), dup = 0;
        for (int i = 0; i < n_given; i++)
            dup |= given[i] == port;
        if (dup || try_port(port) != port)
            continue;
        if (n_given < (int)(sizeof given / sizeof *given))
            given[n_given++] = port;
        return port;
    }
    return try_port(0);
}

/* ---- cleanup ---------------------------------------------------------- */

static void kill_all(void)
{
    for (int i = 0; i < MAX_PROCS; i++) {
        if (procs[i] && procs[i]->pid > 0) {
            kill(-procs[i]->pid, SIGKILL);
            waitpid(procs[i]->pid, NULL, 0);
            procs[i]->pid = 0;
        }
        procs[i] = NULL;
    }
}

static void cleanup(void)
{
    if (getpid() != owner)
        return; /* a forked child exiting must not clean up for us */
    kill_all();
    if (root[0])
        rm_tree(root);
    root[0] = '\0';
    for (int i = 0; i < MAX_CHROOTS; i++) {
        if (chroot_runs[i][0])
            rm_tree(chroot_runs[i]);
        chroot_runs[i][0] = '\0';
    }
}

static void on_fatal_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Directories of earlier runs whose process is gone (SIGKILLed tests). */
static void sweep_stale(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, ROOT_PREFIX, strlen(ROOT_PREFIX)) != 0)
            continue;
        long pid = strtol(e->d_name + strlen(ROOT_PREFIX), NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
            char path[512];
            int n = snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
            /* A cut path names some other file: never remove that. */
            if (n > 0 && (size_t)n < sizeof path)
                rm_tree(path);
        }
    }
    if (d)
        closedir(d);
}

static int ensure_root(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGHUP};
    if (root[0])
        return 0;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    sweep_stale(tmp);
    int n = snprintf(root, sizeof root, "%s/" ROOT_PREFIX "%d.XXXXXX", tmp,
                     (int)getpid());
    if (n < 0 || (size_t)n >= sizeof root) {
        fprintf(stderr, "th: TMPDIR %s is too long\n", tmp);
        root[0] = '\0';
        return -1;
    }
    if (!mkdtemp(root)) {
        fprintf(stderr, "th: mkdtemp %s: %s\n", root, strerror(errno));
        root[0] = '\0';
        return -1;
    }
    owner = getpid();
    atexit(cleanup);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_fatal_signal);
    return 0;
}

static int tempdir_in(const char *base, const char *name, char *out,
                      size_t len)
{
    static int seq;
    if (ensure_root() < 0)
        return -1;
    int n = snprintf(out, len, "%s/%s.%d", base ? base : root, name, seq++);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "th: %s/%s...: path longer than %zu bytes\n",
                base ? base : root, name, len - 1);
        return -1;
    }
    if (mkdir(out, 0700) < 0) {
        fprintf(stderr, "th: mkdir %s: %s\n", out, strerror(errno));
        return -1;
    }
    return 0;
}

int th_tempdir(const char *name, char *out, size_t len)
{
    return tempdir_in(NULL, name, out, len);
}

/* This run's directory in the root `rootfs`, made on first use (after
 * sweeping what SIGKILLed runs left in the root's /tmp). */
static const char *chroot_run_dir(const char *rootfs)
{
    char tmp[400];
    size_t rl = strlen(rootfs);
    int free_slot = -1;
    if (ensure_root() < 0)
        return NULL;
    for (int i = 0; i < MAX_CHROOTS; i++) {
        if (chroot_runs[i][0] && !strncmp(chroot_runs[i], rootfs, rl) &&
            !strncmp(chroot_runs[i] + rl, "/tmp/", 5))
            return chroot_runs[i];
        if (!chroot_runs[i][0] && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return NULL;
    snprintf(tmp, sizeof tmp, "%s/tmp", rootfs);
    sweep_stale(tmp);
    char *d = chroot_runs[free_slot];
    snprintf(d, sizeof chroot_runs[0], "%s/" ROOT_PREFIX "%d.XXXXXX", tmp,
             (int)getpid());
    if (!mkdtemp(d)) {
        fprintf(stderr, "th: mkdtemp %s: %s\n", d, strerror(errno));
        d[0] = '\0';
        return NULL;
    }
    return d;
}

/* ---- processes -------------------------------------------------------- */

static void track(struct th_proc *p)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (!procs[i] || procs[i] == p) {
            procs[i] = p;
            return;
        }
}

static void untrack(struct th_proc *p)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i] == p)
            procs[i] = NULL;
}

/* In the child: own process group, die with the parent, output to log. */
static void child_setup(pid_t parent, const char *log, int in_fd, int out_fd)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127); /* the parent died before prctl took effect */
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int nul = open("/dev/null", O_RDONLY);
    dup2(in_fd >= 0 ? in_fd : nul, STDIN_FILENO);
    dup2(out_fd >= 0 ? out_fd : logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
}

static int spawn_io(struct th_proc *p, const char *name, const char *dir,
                    char *const argv[], int in_fd, int out_fd)
{
    if (ensure_root() < 0)
        return -1;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->log, sizeof p->log, "%s/%s.log", dir, name);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        child_setup(parent, p->log, in_fd, out_fd);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here: no race with kill(-pid) */
    p->pid = pid;
    track(p);
    return 0;
}

int th_spawn(struct th_proc *p, const char *name, const char *dir,
             char *const argv[])
{
    return spawn_io(p, name, dir, argv, -1, -1);
}

int th_alive(struct th_proc *p)
{
    if (p->pid <= 0)
        return 0;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
        p->pid = -(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)) - 1;
        untrack(p);
        return 0;
    }
    return 1;
}

long th_proc_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t fl = strlen(field);
    long kb = -1;
    if (pid <= 0) /* th_proc keeps an ended process's status there */
        return -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    while (fgets(line, sizeof line, fp))
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            kb = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(fp);
    return kb;
}

long th_proc_rss(pid_t pid)
{
    long kb = th_proc_status_kb(pid, "VmRSS");
    return kb < 0 ? -1 : kb * 1024;
}

int th_stop(struct th_proc *p, int timeout_ms, int *waited_ms)
{
    int waited = 0, st;
    if (p->pid <= 0)
        return p->pid < 0 ? -p->pid - 1 : -1;
    kill(p->pid, SIGTERM);
    while (waitpid(p->pid, &st, WNOHANG) == 0) {
        if (waited >= timeout_ms) {
            kill(-p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            break;
        }
        sleep_ms(10);
        waited += 10;
    }
    kill(-p->pid, SIGKILL); /* anything it left in its group */
    if (waited_ms)
        *waited_ms = waited;
    untrack(p);
    p->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int th_wait(struct th_proc *p, int timeout_ms)
{
    for (int waited = 0; th_alive(p); waited += 10) {
        if (waited >= timeout_ms)
            return -1;
        sleep_ms(10);
    }
    return p->pid < 0 ? -p->pid - 1 : -1;
}

void th_kill(struct th_proc *p)
{
    if (p->pid > 0) {
        kill(-p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    untrack(p);
    p->pid = 0;
}

int th_log_contains(const struct th_proc *p, const char *needle)
{
    FILE *fp = fopen(p->log, "r");
    char line[4096];
    int found = 0;
    while (fp && !found && fgets(line, sizeof line, fp))
        found = strstr(line, needle) != NULL;
    if (fp)
        fclose(fp);
    return found;
}

void th_dump_log(const struct th_proc *p, int lines)
{
    char cmd[700];
    fprintf(stderr, "---- last lines of %s ----\n", p->log);
    snprintf(cmd, sizeof cmd, "tail -n %d '%s' >&2", lines, p->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}

void th_dump_stacks(const struct th_proc *p)
{
    char cmd[200];
    fprintf(stderr, "---- threads of %s (pid %d) ----\n", p->name, (int)p->pid);
    snprintf(cmd, sizeof cmd, "gdb -p %d -batch -nx -ex 'thread apply all bt' "
             "2>/dev/null | grep -E '^(Thread|#)' >&2", (int)p->pid);
    if (system(cmd) != 0)
        fprintf(stderr, "(no gdb, or it could not attach)\n");
}

const char *th_build_path(const char *rel, char *buf, size_t len)
{
    const char *b = getenv("OUTBOX_BUILD_DIR");
    snprintf(buf, len, "%s/%s", b ? b : ".", rel);
    return buf;
}

/* ---- MariaDB and MySQL ------------------------------------------------ */

/* What a kind of server is and where it comes from. */
struct server_kind {
    const char *name;
    struct th_root_spec root; /* root.suite NULL: the host's own package */
    const char *install;      /* MariaDB's install-db; NULL for MySQL */
    int mysql;
};

static const struct server_kind kinds[] = {
    {"mariadb-10.11", {NULL, NULL, "mariadbd", "10.11.", NULL},
     "mariadb-install-db", 0},
    {"mariadb-11.8",
     {"trixie", "mariadb-server", "/usr/sbin/mariadbd", "11.8.", NULL},
     "/usr/bin/mariadb-install-db", 0},
    {"mysql-9.7",
     {"sid", "mysql-server-core,mysql-client", "/usr/sbin/mysqld", "9.7.", NULL},
     NULL, 1},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

/* Each kind's root, prepared at most once per process. */
static struct {
    int state; /* 0 not yet, 1 ready, TH_SKIP */
    char root[256], version[128], why[768];
} prepared[N_KINDS];
static char skip_why[800];
static int skipped;

static const struct server_kind *find_kind(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

/* One line per server for tests/run.sh's summary. */
static void record_server(const char *kind, const char *what)
{
    const char *path = getenv("OUTBOX_TEST_SERVERS_LOG");
    FILE *fp = path && *path ? fopen(path, "a") : NULL;
    if (fp) {
        fprintf(fp, "%s\t%s\n", kind, what);
        fclose(fp);
    }
}

const char *th_server_kind(void)
{
    const char *k = getenv("OUTBOX_TEST_SERVER");
    return k && *k ? k : kinds[0].name;
}

const char *th_server_kind_name(size_t i)
{
    return i < N_KINDS ? kinds[i].name : NULL;
}

const char *th_skip_reason(void)
{
    return skip_why;
}

int th_exit(int failed)
{
    return failed ? failed : skipped ? TH_SKIP : 0;
}

int th_server_prepare(const char *kind, char *why, size_t len)
{
    const struct server_kind *k = find_kind(kind);
    if (!k) {
        snprintf(why, len, "unknown server kind \"%s\" (known: mariadb-10.11, "
                 "mariadb-11.8, mysql-9.7)", kind);
        fprintf(stderr, "th: %s\n", why);
        return -1;
    }
    if (!k->root.suite)
        return 0;
    size_t i = (size_t)(k - kinds);
    if (!prepared[i].state) {
        int rc = th_root_prepare(&k->root, prepared[i].root,
                                 sizeof prepared[i].root, prepared[i].version,
                                 sizeof prepared[i].version, prepared[i].why,
                                 sizeof prepared[i].why);
        if (rc < 0) {
            snprintf(why, len, "%s", prepared[i].why);
            fprintf(stderr, "th: %s: %s\n", kind, why);
            return -1;
        }
        prepared[i].state = rc == 0 ? 1 : TH_SKIP;
        if (rc == 0)
            fprintf(stderr, "th: %s: root %s (server %s)\n", kind,
                    prepared[i].root, prepared[i].version);
    }
    if (prepared[i].state == TH_SKIP) {
        snprintf(why, len, "%s", prepared[i].why);
        return TH_SKIP;
    }
    return 0;
}

/* The server's own view of a directory of ours. */
static const char *inside(const struct th_mariadb *m, const char *path)
{
    return path + strlen(m->root);
}

static int run_to_end(const char *name, const char *dir, char *const argv[])
{
    struct th_proc p = {0};
    if (spawn_io(&p, name, dir, argv, -1, -1) < 0)
        return -1;
    int st;
    waitpid(p.pid, &st, 0);
    untrack(&p);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        th_dump_log(&p, 60);
        return -1;
    }
    return 0;
}

struct st_mysql *th_mariadb_connect(const struct th_mariadb *m)
{
    MYSQL *db = mysql_init(NULL);
    unsigned timeout = 5;
    mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (!mysql_real_connect(db, "127.0.0.1", "root", "", NULL,
                            (unsigned)m->port, NULL, CLIENT_MULTI_STATEMENTS)) {
        mysql_close(db);
        return NULL;
    }
    return db;
}

int th_mariadb_exec(const struct th_mariadb *m, const char *sql)
{
    MYSQL *db = th_mariadb_connect(m);
    if (!db) {
        fprintf(stderr, "th: cannot connect to %s on %d\n",
                m->kind ? m->kind : "MariaDB", m->port);
        return -1;
    }
    int rc = mysql_query(db, sql) ? -1 : 0;
    if (rc < 0)
        fprintf(stderr, "th: %s: %s\n", sql, mysql_error(db));
    int more = 0;
    do { /* drain every result of a multi-statement; a later one may fail */
        MYSQL_RES *r = mysql_store_result(db);
        if (r)
            mysql_free_result(r);
    } while (rc == 0 && (more = mysql_next_result(db)) == 0);
    if (rc == 0 && more > 0) {
        fprintf(stderr, "th: %s: %s\n", sql, mysql_error(db));
        rc = -1;
    }
    mysql_close(db);
    return rc;
}

const char *th_mariadb_binlog_status_sql(const struct th_mariadb *m)
{
    int major = 0, minor = 0;
    sscanf(m->version, "%d.%d", &major, &minor);
    return m->mysql && (major > 8 || (major == 8 && minor >= 2))
               ? "SHOW BINARY LOG STATUS"
               : "SHOW MASTER STATUS";
}

static void read_version(struct th_mariadb *m, MYSQL *db)
{
    MYSQL_RES *r = NULL;
    MYSQL_ROW row;
    if (mysql_query(db, "SELECT VERSION()") == 0 &&
        (r = mysql_store_result(db)) && (row = mysql_fetch_row(r)) && row[0])
        snprintf(m->version, sizeof m->version, "%s", row[0]);
    if (r)
        mysql_free_result(r);
}

static int mariadb_launch(struct th_mariadb *m)
{
    const struct server_kind *k = find_kind(m->kind);
    const char *in = inside(m, m->dir);
    const char *bin = m->mysql ? "mysqld" : "mariadbd";
    char a[6][400];
    char *argv[80];
    int n = 0;
    snprintf(a[0], sizeof a[0], "--datadir=%s/data", in);
    snprintf(a[1], sizeof a[1], "--socket=%s/%s.sock", in, bin);
    snprintf(a[2], sizeof a[2], "--port=%d", m->port);
    snprintf(a[3], sizeof a[3], "--log-bin=%s/bin", in);
    snprintf(a[4], sizeof a[4], "--pid-file=%s/%s.pid", in, bin);
    if (m->root[0]) {
        argv[n++] = "/usr/sbin/chroot";
        argv[n++] = m->root;
    }
    argv[n++] = (char *)k->root.server;
    argv[n++] = "--no-defaults";
    argv[n++] = "--user=root";
    for (int i = 0; i < 5; i++)
        argv[n++] = a[i];
    static char *fixed[] = {
        "--bind-address=127.0.0.1", "--skip-name-resolve",
        "--binlog-format=ROW", "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL", "--server-id=1",
        "--innodb-buffer-pool-size=64M", "--max-allowed-packet=64M",
        "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0", NULL};
    /* MySQL logs to stderr unless told otherwise; MariaDB needs asking. */
    static char *mariadb[] = {"--innodb-log-file-size=48M", "--skip-log-error",
                              NULL};
    /* secure_file_priv's default directory is not in the root: without
     * the empty value mysqld aborts. */
    static char *mysql[] = {"--gtid-mode=ON", "--enforce-gtid-consistency=ON",
                            "--mysqlx=OFF", "--secure-file-priv=",
                            "--performance-schema=OFF", NULL};
    for (int i = 0; fixed[i]; i++)
        argv[n++] = fixed[i];
    for (char **o = m->mysql ? mysql : mariadb; *o; o++)
        argv[n++] = *o;
    for (int i = 0; m->extra && m->extra[i] && n < 78; i++)
        argv[n++] = (char *)m->extra[i];
    argv[n] = NULL;
    if (spawn_io(&m->proc, bin, m->dir, argv, -1, -1) < 0)
        return -1;
    for (int waited = 0; waited < 60000; waited += 100) {
        MYSQL *db = th_mariadb_connect(m);
        if (db) {
            read_version(m, db);
            mysql_close(db);
            return 0;
        }
        if (!th_alive(&m->proc))
            break;
        sleep_ms(100);
    }
    fprintf(stderr, "th: %s did not start\n", m->kind);
    th_dump_log(&m->proc, 30);
    return -1;
}

/* A new data directory: MariaDB's install-db, or MySQL's --initialize
 * with root also allowed from 127.0.0.1 (it makes root@localhost only,
 * which a TCP client with skip-name-resolve is not). */
static int mariadb_install(struct th_mariadb *m, const struct server_kind *k)
{
    const char *in = inside(m, m->dir);
    char dd[400], init[400], file[400];
    char *argv[16];
    int n = 0;
    snprintf(dd, sizeof dd, "--datadir=%s/data", in);
    if (m->root[0]) {
        argv[n++] = "/usr/sbin/chroot";
        argv[n++] = m->root;
    }
    if (k->mysql) {
        snprintf(file, sizeof file, "%s/init.sql", m->dir);
        snprintf(init, sizeof init, "--init-file=%s/init.sql", in);
        FILE *fp = fopen(file, "w");
        if (!fp || fputs("CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '';\n"
                         "GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT "
                         "OPTION;\n", fp) < 0 || fclose(fp) != 0)
            return -1;
        argv[n++] = (char *)k->root.server;
        argv[n++] = "--no-defaults";
        argv[n++] = "--initialize-insecure";
        argv[n++] = "--user=root";
        argv[n++] = dd;
        argv[n++] = init;
    } else {
        argv[n++] = (char *)k->install;
        argv[n++] = "--no-defaults";
        argv[n++] = "--user=root";
        argv[n++] = dd;
        argv[n++] = "--auth-root-authentication-method=normal";
        argv[n++] = "--skip-test-db";
    }
    argv[n] = NULL;
    return run_to_end("install-db", m->dir, argv);
}

int th_mariadb_start_kind(struct th_mariadb *m, const char *kind,
                          const char *const *extra)
{
    char why[768];
    memset(m, 0, sizeof *m);
    m->extra = extra;
    int rc = th_server_prepare(kind, why, sizeof why);
    if (rc == TH_SKIP) {
        snprintf(skip_why, sizeof skip_why, "%s: %s", kind, why);
        fprintf(stderr, "th: SKIPPED: server %s cannot be had here: %s\n",
                kind, why);
        char what[800];
        snprintf(what, sizeof what, "SKIPPED: %s", why);
        record_server(kind, what);
        skipped = 1;
        return TH_SKIP;
    }
    if (rc < 0)
        return -1;
    const struct server_kind *k = find_kind(kind);
    const char *base = NULL;
    m->kind = k->name;
    m->mysql = k->mysql;
    if (k->root.suite) {
        snprintf(m->root, sizeof m->root, "%s",
                 prepared[k - kinds].root);
        if (!(base = chroot_run_dir(m->root)))
            return -1;
    }
    if (tempdir_in(base, k->mysql ? "mysql" : "mariadb", m->dir,
                   sizeof m->dir) < 0)
        return -1;
    snprintf(m->datadir, sizeof m->datadir, "%s/data", m->dir);
    snprintf(m->socket, sizeof m->socket, "%s/%s.sock", m->dir,
             k->mysql ? "mysqld" : "mariadbd");
    if (mariadb_install(m, k) < 0)
        return -1;
    if ((m->port = th_free_port()) < 0 || mariadb_launch(m) < 0)
        return -1;
    fprintf(stderr, "th: server %s: VERSION() %s, on 127.0.0.1:%d%s%s\n",
            m->kind, m->version, m->port, m->root[0] ? ", in " : "", m->root);
    record_server(m->kind, m->version);
    return 0;
}

int th_mariadb_start(struct th_mariadb *m, const char *const *extra)
{
    return th_mariadb_start_kind(m, th_server_kind(), extra);
}

int th_mariadb_stop(struct th_mariadb *m)
{
    int rc = th_stop(&m->proc, 30000, NULL) == 0 ? 0 : -1;
    rm_tree(m->dir);
    return rc;
}

int th_mariadb_restart(struct th_mariadb *m)
{
    th_stop(&m->proc, 30000, NULL);
    return mariadb_launch(m);
}

/* ---- Redis ------------------------------------------------------------ */

static int redis_launch(struct th_redis *r)
{
    char port[16], tls_port[16], cert[300], key[300], ca[300];
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(tls_port, sizeof tls_port, "%d", r->tls_port);
    snprintf(cert, sizeof cert, "%s/server.pem", r->certs);
    snprintf(key, sizeof key, "%s/server.key", r->certs);
    snprintf(ca, sizeof ca, "%s/ca.pem", r->certs);
    char *plain[] = {"redis-server", "--port", port, "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--dir", r->dir,
                     "--daemonize", "no"};
    char *tls[] = {"--tls-port", tls_port, "--tls-cert-file", cert,
                   "--tls-key-file", key, "--tls-ca-cert-file", ca};
    char *argv[sizeof plain / sizeof *plain + sizeof tls / sizeof *tls + 1];
    size_t n = sizeof plain / sizeof *plain;
    memcpy(argv, plain, sizeof plain);
    if (r->tls_port) {
        memcpy(argv + n, tls, sizeof tls);
        n += sizeof tls / sizeof *tls;
    }
    argv[n] = NULL;
    if (spawn_io(&r->proc, "redis", r->dir, argv, -1, -1) < 0)
        return -1;
    for (int waited = 0; waited < 10000; waited += 50) {
        redisContext *c = redisConnect("127.0.0.1", r->port);
        if (c && !c->err) {
            redisReply *rep = redisCommand(c, "PING");
            int ok = rep && rep->type == REDIS_REPLY_STATUS;
            freeReplyObject(rep);
            redisFree(c);
            if (ok)
                return 0;
        } else if (c) {
            redisFree(c);
        }
        if (!th_alive(&r->proc))
            break;
        sleep_ms(50);
    }
    fprintf(stderr, "th: Redis did not start\n");
    th_dump_log(&r->proc, 20);
    return -1;
}

int th_redis_start(struct th_redis *r)
{
    memset(r, 0, sizeof *r);
    if (th_tempdir("redis", r->dir, sizeof r->dir) < 0 ||
        (r->port = th_free_port()) < 0)
        return -1;
    return redis_launch(r);
}

int th_redis_start_tls(struct th_redis *r, const char *certs)
{
    memset(r, 0, sizeof *r);
    snprintf(r->certs, sizeof r->certs, "%s", certs);
    if (th_tempdir("redis", r->dir, sizeof r->dir) < 0 ||
        (r->port = th_free_port()) < 0 || (r->tls_port = th_free_port()) < 0)
        return -1;
    return redis_launch(r);
}

int th_make_certs(char *dir, size_t len)
{
    char cmd[4096];
    if (th_tempdir("certs", dir, len) < 0)
        return -1;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && exec >openssl.log 2>&1 && "
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca "
             "  -keyout ca.key -out ca.pem && "
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=evil-ca "
             "  -keyout evil.key -out evil.pem && "
             "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
             "for who in server client; do "
             "  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
             "    -keyout $who.key -out $who.csr && "
             "  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key "
             "    -CAcreateserial -days 2 -extfile san.ext -out $who.pem || exit 1; "
             "done && chmod 644 server.key client.key",
             dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "th: cannot make certificates (see %s/openssl.log)\n",
                dir);
        return -1;
    }
    return 0;
}

int th_redis_stop(struct th_redis *r)
{
    int rc = th_stop(&r->proc, 10000, NULL) == 0 ? 0 : -1;
    rm_tree(r->dir);
    return rc;
}

int th_redis_halt(struct th_redis *r)
{
    return th_stop(&r->proc, 10000, NULL) == 0 ? 0 : -1;
}

int th_redis_restart(struct th_redis *r)
{
    th_stop(&r->proc, 10000, NULL);
    return redis_launch(r);
}

/* ---- kafka-mock ------------------------------------------------------- */

int th_kafka_start(struct th_kafka *k, int brokers, const char *const *topics)
{
    char path[512], nb[16];
    int in[2], out[2];
    char *argv[40];
    int n = 0;
    memset(k, 0, sizeof *k);
    if (th_tempdir("kafka", k->dir, sizeof k->dir) < 0 || pipe(in) < 0 ||
        pipe(out) < 0)
        return -1;
    snprintf(nb, sizeof nb, "%d", brokers);
    argv[n++] = (char *)th_build_path("tests/kafka-mock", path, sizeof path);
    argv[n++] = "--brokers";
    argv[n++] = nb;
    for (int i = 0; topics && topics[i] && n < 36; i++) {
        argv[n++] = "--topic";
        argv[n++] = (char *)topics[i];
    }
    argv[n] = NULL;
    int rc = spawn_io(&k->proc, "kafka-mock", k->dir, argv, in[0], out[1]);
    close(in[0]);
    close(out[1]);
    k->ctl = fdopen(in[1], "w");
    k->out = fdopen(out[0], "r");
    if (rc < 0 || !k->ctl || !k->out ||
        !fgets(k->bootstrap, sizeof k->bootstrap, k->out)) {
        fprintf(stderr, "th: kafka-mock did not start\n");
        th_dump_log(&k->proc, 20);
        return -1;
    }
    k->bootstrap[strcspn(k->bootstrap, "\n")] = '\0';
    return 0;
}

int th_kafka_cmd(struct th_kafka *k, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vfprintf(k->ctl, fmt, ap);
    va_end(ap);
    fputc('\n', k->ctl);
    fflush(k->ctl);
    if (!fgets(line, sizeof line, k->out) || strncmp(line, "ok", 2) != 0) {
        fprintf(stderr, "th: kafka-mock: %s", line);
        return -1;
    }
    return 0;
}

int th_kafka_stop(struct th_kafka *k)
{
    if (k->ctl)
        fclose(k->ctl); /* EOF on its stdin: it exits */
    k->ctl = NULL;
    int rc = th_stop(&k->proc, 10000, NULL);
    if (k->out)
        fclose(k->out);
    k->out = NULL;
    rm_tree(k->dir);
    return rc == 0 ? 0 : -1;
}

int th_run(const char *name, const char *dir, char *const argv[],
           int timeout_ms)
{
    struct th_proc p = {0};
    int st;
    if (spawn_io(&p, name, dir, argv, -1, -1) < 0)
        return -1;
    for (int waited = 0; waitpid(p.pid, &st, WNOHANG) == 0; waited += 10) {
        if (waited >= timeout_ms) {
            fprintf(stderr, "th: %s did not finish in %d ms\n", name, timeout_ms);
            th_kill(&p);
            return -1;
        }
        sleep_ms(10);
    }
    untrack(&p);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        th_dump_log(&p, 15);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int th_http_get(int port, const char *path, char *body, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char req[512];
    static char buf[1 << 20];
    snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: t\r\n\r\n", path);
    if (write(fd, req, strlen(req)) < 0) {
        close(fd);
        return -1;
    }
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    const char *b = strstr(buf, "\r\n\r\n");
    if (body && len)
        snprintf(body, len, "%s", b ? b + 4 : "");
    return status;
}
