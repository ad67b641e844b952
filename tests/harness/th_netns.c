/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/harness/th_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h> /* setns */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIVE 4
#define CMD_MS 10000

static struct th_netns *live[MAX_LIVE]; /* removed at exit */

static void down_all(void)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i])
            th_netns_down(live[i]);
}

static void track(struct th_netns *n)
{
    static int registered;
    if (!registered && atexit(down_all) == 0)
        registered = 1;
    for (int i = 0; i < MAX_LIVE; i++)
        if (!live[i]) {
            live[i] = n;
            return;
        }
}

static void untrack(struct th_netns *n)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == n)
            live[i] = NULL;
}

/* Runs `ip ARGS...` (words separated by single spaces); its exit status,
 * or -1. */
static int ip(struct th_netns *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int ip(struct th_netns *n, const char *fmt, ...)
{
    char line[512], *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    argv[argc++] = "ip";
    for (char *save, *w = strtok_r(line, " ", &save); w && argc < 31;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    int rc = th_run("ip", n->dir, argv, CMD_MS);
    if (rc != 0)
        fprintf(stderr, "th_netns: ip %s failed (%d)\n", argv[1], rc);
    return rc;
}

static int link_exists(const char *ifname)
{
    char path[300];
    snprintf(path, sizeof path, "/sys/class/net/%s", ifname);
    return access(path, F_OK) == 0;
}

static int netns_exists(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    return access(path, F_OK) == 0;
}

/* Removes the veth and the namespace of these names, if they exist. */
static void remove_named(struct th_netns *n)
{
    if (link_exists(n->host_if))
        ip(n, "link del %s", n->host_if); /* takes its peer along */
    if (netns_exists(n->name))
        ip(n, "netns del %s", n->name);
}

static void name_it(struct th_netns *n, const char *prefix)
{
    unsigned pid = (unsigned)getpid();
    unsigned o3 = (pid >> 6) & 255, o4 = (pid & 63) * 4;
    snprintf(n->name, sizeof n->name, "%s-%u", prefix, pid);
    snprintf(n->host_if, sizeof n->host_if, "oxh%u", pid % 100000000u);
    snprintf(n->ns_if, sizeof n->ns_if, "oxn%u", pid % 100000000u);
    snprintf(n->host_ip, sizeof n->host_ip, "10.99.%u.%u", o3, o4 + 1);
    snprintf(n->ns_ip, sizeof n->ns_ip, "10.99.%u.%u", o3, o4 + 2);
}

static int make(struct th_netns *n)
{
    if (ip(n, "link add %s type veth peer name %s", n->host_if, n->ns_if) ||
        ip(n, "link set %s netns %s", n->ns_if, n->name) ||
        ip(n, "addr add %s/30 dev %s", n->host_ip, n->host_if) ||
        ip(n, "link set %s up", n->host_if) ||
        ip(n, "-n %s addr add %s/30 dev %s", n->name, n->ns_ip, n->ns_if) ||
        ip(n, "-n %s link set %s up", n->name, n->ns_if) ||
        ip(n, "-n %s link set lo up", n->name))
        return -1;
    char path[300];
    snprintf(path, sizeof path, "/run/netns/%s", n->name);
    n->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (n->fd < 0)
        fprintf(stderr, "th_netns: %s: %s\n", path, strerror(errno));
    return n->fd < 0 ? -1 : 0;
}

int th_netns_up(struct th_netns *n, const char *prefix)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    name_it(n, prefix);
    if (th_tempdir("netns", n->dir, sizeof n->dir) < 0)
        return -1;
    if (access("/usr/bin/socat", X_OK) != 0 && access("/bin/socat", X_OK) != 0) {
        fprintf(stderr, "th_netns: SKIPPED: no socat (apt-get install socat)\n");
        return TH_SKIP;
    }
    remove_named(n); /* an earlier run of this pid's, SIGKILLed */
    if (ip(n, "netns add %s", n->name) != 0) {
        fprintf(stderr, "th_netns: SKIPPED: cannot make a network namespace "
                "here (root and iproute2 needed)\n");
        return TH_SKIP;
    }
    track(n);
    if (make(n) < 0) {
        th_netns_down(n);
        return -1;
    }
    return 0;
}

int th_netns_argv(const struct th_netns *n, char *const argv[], char **out,
                  size_t cap)
{
    static const char *const head[] = {"ip", "netns", "exec"};
    size_t k = 0;
    for (; k < 3 && k < cap; k++)
        out[k] = (char *)head[k];
    if (k < cap)
        out[k++] = (char *)n->name;
    for (size_t i = 0; argv[i]; i++)
        if (k < cap)
            out[k++] = argv[i];
        else
            return -1;
    if (k >= cap)
        return -1;
    out[k] = NULL;
    return 0;
}

/* One connect to ip:port from the current namespace: 0 when it is taken. */
static int can_connect(const char *addr, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Runs fn in the namespace (this thread only), then back. */
static int in_ns(struct th_netns *n, int (*fn)(void *), void *arg)
{
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0 || n->fd < 0 || setns(n->fd, CLONE_NEWNET) < 0) {
        if (self >= 0)
            close(self);
        return -1;
    }
    int rc = fn(arg);
    if (setns(self, CLONE_NEWNET) < 0) {
        fprintf(stderr, "th_netns: cannot return to the host: %s\n",
                strerror(errno));
        abort(); /* every later step would run in the wrong place */
    }
    close(self);
    return rc;
}

static int ns_loopback_listens(void *arg)
{
    return can_connect("127.0.0.1", *(int *)arg);
}

/* One socat, `inside` the namespace or on the host, from `listen` to
 * `to` (socat addresses). */
static int spawn_relay(struct th_netns *n, int inside, const char *listen,
                       const char *to, const char *name)
{
    if (n->nfwd >= 2 * TH_NETNS_MAX_PORTS)
        return -1;
    char *argv[] = {"socat", (char *)listen, (char *)to, NULL}, *wrapped[16];
    if (inside && th_netns_argv(n, argv, wrapped, 16) < 0)
        return -1;
    return th_spawn(&n->fwd[n->nfwd++], name, n->dir, inside ? wrapped : argv);
}

/* Until the namespace's 127.0.0.1:port accepts and `host_ok` holds. */
static int wait_listening(struct th_netns *n, int port, int (*host_ok)(void *),
                          void *arg)
{
    for (int waited = 0; waited < 5000; waited += 20) {
        if (host_ok(arg) == 0 && in_ns(n, ns_loopback_listens, &port) == 0)
            return 0;
        usleep(20000);
    }
    fprintf(stderr, "th_netns: the relays for port %d do not listen\n", port);
    return -1;
}

struct endpoint {
    const char *addr;
    int port;
};

static int tcp_listens(void *arg)
{
    struct endpoint *ep = arg;
    return can_connect(ep->addr, ep->port);
}

int th_netns_forward(struct th_netns *n, int port)
{
    char host_listen[128], host_to[64], ns_listen[96], ns_to[64], name[32];
    snprintf(host_listen, sizeof host_listen,
             "TCP-LISTEN:%d,bind=%s,reuseaddr,fork,nodelay", port, n->host_ip);
    snprintf(host_to, sizeof host_to, "TCP:127.0.0.1:%d,nodelay", port);
    snprintf(ns_listen, sizeof ns_listen,
             "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,nodelay", port);
    snprintf(ns_to, sizeof ns_to, "TCP:%s:%d,nodelay", n->host_ip, port);
    snprintf(name, sizeof name, "socat-host-%d", port);
    if (spawn_relay(n, 0, host_listen, host_to, name) < 0)
        return -1;
    snprintf(name, sizeof name, "socat-ns-%d", port);
    if (spawn_relay(n, 1, ns_listen, ns_to, name) < 0)
        return -1;
    struct endpoint ep = {n->host_ip, port};
    return wait_listening(n, port, tcp_listens, &ep);
}

static int unix_listens(void *arg)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", (const char *)arg);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

int th_netns_forward_aside(struct th_netns *n, int port)
{
    char path[300], host_listen[400], host_to[64], ns_listen[96], ns_to[400],
        name[32];
    snprintf(path, sizeof path, "%s/port-%d.sock", n->dir, port);
    if (strlen(path) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
        fprintf(stderr, "th_netns: %s: too long for a Unix socket\n", path);
        return -1;
    }
    snprintf(host_listen, sizeof host_listen, "UNIX-LISTEN:%s,fork", path);
    snprintf(host_to, sizeof host_to, "TCP:127.0.0.1:%d,nodelay", port);
    snprintf(ns_listen, sizeof ns_listen,
             "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,nodelay", port);
    snprintf(ns_to, sizeof ns_to, "UNIX-CONNECT:%s", path);
    snprintf(name, sizeof name, "socat-unix-%d", port);
    if (spawn_relay(n, 0, host_listen, host_to, name) < 0)
        return -1;
    snprintf(name, sizeof name, "socat-ns-%d", port);
    if (spawn_relay(n, 1, ns_listen, ns_to, name) < 0)
        return -1;
    return wait_listening(n, port, unix_listens, path);
}

int th_netns_forward_list(struct th_netns *n, const char *bootstrap)
{
    char list[512];
    snprintf(list, sizeof list, "%s", bootstrap);
    for (char *save, *w = strtok_r(list, ",", &save); w;
         w = strtok_r(NULL, ",", &save)) {
        const char *colon = strrchr(w, ':');
        if (!colon || th_netns_forward(n, atoi(colon + 1)) < 0)
            return -1;
    }
    return 0;
}

int th_netns_link(struct th_netns *n, int up)
{
    return ip(n, "link set %s %s", n->host_if, up ? "up" : "down") ? -1 : 0;
}

struct get {
    int port;
    const char *path;
    char *body;
    size_t len;
};

static int do_get(void *arg)
{
    struct get *g = arg;
    return th_http_get(g->port, g->path, g->body, g->len);
}

int th_netns_http_get(struct th_netns *n, int port, const char *path,
                      char *body, size_t len)
{
    struct get g = {port, path, body, len};
    return in_ns(n, do_get, &g);
}

void th_netns_down(struct th_netns *n)
{
    if (!n->name[0])
        return;
    for (int i = 0; i < n->nfwd; i++)
        th_stop(&n->fwd[i], 2000, NULL);
    n->nfwd = 0;
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
    remove_named(n);
    untrack(n);
    n->name[0] = '\0';
}
