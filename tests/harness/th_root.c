/* SPDX-License-Identifier: Apache-2.0 */
#include "tests/harness/th_root.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness/th.h"

#define DEFAULT_CACHE "/var/cache/outbox-relay-test/roots"
#define DEBOOTSTRAP "/usr/sbin/debootstrap"
#define BUILD_TIMEOUT_MS (20 * 60 * 1000)

static int mkdir_p(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
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

/* Decodes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
            *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* Removes a root, partial or whole. An interrupted debootstrap can leave
 * /proc or /sys mounted inside its target: those are detached first, and
 * the walk never crosses into another file system. */
static void rm_root(const char *path)
{
    size_t plen = strlen(path);
    for (int again = 1; again;) { /* innermost first: repeat until none */
        char line[4096], best[4096] = "";
        FILE *fp = fopen("/proc/self/mountinfo", "r");
        again = 0;
        while (fp && fgets(line, sizeof line, fp)) {
            char mnt[4096];
            if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
                continue;
            unescape(mnt);
            if (!strncmp(mnt, path, plen) && mnt[plen] == '/' &&
                strlen(mnt) > strlen(best))
                snprintf(best, sizeof best, "%s", mnt);
        }
        if (fp)
            fclose(fp);
        if (best[0] && umount2(best, MNT_DETACH) == 0)
            again = 1;
    }
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int read_file(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, len - 1, fp);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    fclose(fp);
    return 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fputs(text, fp);
    fflush(fp);
    int rc = fsync(fileno(fp));
    return fclose(fp) != 0 || rc != 0 ? -1 : 0;
}

/* The value of "key=..." on a line of text; "" when absent. */
static void stamp_field(const char *text, const char *key, char *out,
                        size_t len)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *l = text; *l;) {
        size_t n = strcspn(l, "\n");
        if (n > kl && !strncmp(l, key, kl) && l[kl] == '=') {
            snprintf(out, len, "%.*s", (int)(n - kl - 1), l + kl + 1);
            return;
        }
        l += n + (l[n] != '\0');
    }
}

/* The last "E: ..." line of debootstrap's log: its reason for failing. */
static void debootstrap_reason(const char *log, int status, char *why,
                               size_t len)
{
    char line[1024];
    FILE *fp = fopen(log, "r");
    snprintf(why, len, "debootstrap failed (status %d; see %s)", status, log);
    while (fp && fgets(line, sizeof line, fp))
        if (!strncmp(line, "E: ", 3)) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(why, len, "debootstrap: %s (see %s)", line + 3, log);
        }
    if (fp)
        fclose(fp);
}

/* `chroot ROOT SERVER --version`: the word after "Ver ". */
static int server_version(const char *cache, const char *name,
                          const char *root, const char *server, char *out,
                          size_t len)
{
    char lname[300], log[900], text[1024];
    snprintf(lname, sizeof lname, "%s.version", name);
    snprintf(log, sizeof log, "%s/%s.log", cache, lname);
    unlink(log);
    char *argv[] = {"/usr/sbin/chroot", (char *)root, (char *)server,
                    "--version", NULL};
    int rc = th_run(lname, cache, argv, 60000);
    int got = rc == 0 && read_file(log, text, sizeof text) == 0;
    unlink(log);
    const char *v = got ? strstr(text, " Ver ") : NULL;
    if (!v)
        return -1;
    v += 5;
    snprintf(out, len, "%.*s", (int)strcspn(v, " \n"), v);
    return 0;
}

static int version_ok(const struct th_root_spec *spec, const char *version,
                      const char *path, char *why, size_t whylen)
{
    if (!spec->version_prefix) /* no server in it: nothing to compare */
        return 0;
    size_t n = strlen(spec->version_prefix);
    if (!strncmp(version, spec->version_prefix, n))
        return 0;
    snprintf(why, whylen, "the %s root holds server %s, not %s*: Debian "
             "moved on (remove %s to rebuild, or add a server kind)",
             spec->suite, version, spec->version_prefix, path);
    return 1;
}

/* The root's program runs (a server: its version) or, for a root
 * without a server, is there at all. */
static int program_ready(const struct th_root_spec *spec, const char *cache,
                         const char *name, const char *root, char *version,
                         size_t vlen)
{
    if (spec->version_prefix)
        return server_version(cache, name, root, spec->server, version, vlen);
    char file[900];
    snprintf(file, sizeof file, "%s%s", root, spec->server);
    snprintf(version, vlen, "%s", "");
    return access(file, X_OK);
}

/* With the lock held: builds NAME.build, stamps it, renames it NAME. */
static int build(const struct th_root_spec *spec, const char *cache,
                 const char *name, const char *path, char *version,
                 size_t vlen, char *why, size_t whylen)
{
    char tmp[600], lname[300], log[900], file[700], include[300], stamp[1024];
    snprintf(tmp, sizeof tmp, "%s.build", path);
    snprintf(lname, sizeof lname, "%s.debootstrap", name);
    snprintf(log, sizeof log, "%s/%s.log", cache, lname);
    snprintf(include, sizeof include, "--include=%s", spec->packages);
    rm_root(tmp);
    unlink(log);
    fprintf(stderr, "th: building the %s root for %s in %s (once per "
            "machine; log in %s)\n", spec->suite, spec->packages, path, log);
    time_t t0 = time(NULL);
    char *argv[] = {DEBOOTSTRAP, "--variant=minbase", include,
                    (char *)spec->suite, tmp, NULL};
    int rc = th_run(lname, cache, argv, BUILD_TIMEOUT_MS);
    if (rc != 0) {
        debootstrap_reason(log, rc, why, whylen);
        rm_root(tmp);
        return 1;
    }
    /* mariadb-install-db wants a name for the host: the root has none. */
    snprintf(file, sizeof file, "%s/etc/hosts", tmp);
    if (write_file(file, "127.0.0.1\tlocalhost\n::1\tlocalhost\n") < 0 ||
        program_ready(spec, cache, name, tmp, version, vlen) < 0) {
        snprintf(why, whylen, "the new %s root has no working %s", spec->suite,
                 spec->server);
        rm_root(tmp);
        return 1;
    }
    snprintf(stamp, sizeof stamp, "suite=%s\npackages=%s\nversion=%s\n"
             "built=%lld\n", spec->suite, spec->packages, version,
             (long long)time(NULL));
    snprintf(file, sizeof file, "%s/" TH_ROOT_STAMP, tmp);
    rm_root(path); /* a NAME without a stamp: not ours to trust */
    if (write_file(file, stamp) < 0 || rename(tmp, path) < 0) {
        snprintf(why, whylen, "cannot finish %s: %s", path, strerror(errno));
        rm_root(tmp);
        return -1;
    }
    fprintf(stderr, "th: %s root ready in %lld s: %s %s\n", spec->suite,
            (long long)(time(NULL) - t0), spec->server, version);
    return 0;
}

/* 0 with the version when PATH is a complete root of these packages (a
 * named root whose list has changed since is built again). */
static int complete(const struct th_root_spec *spec, const char *path,
                    char *version, size_t vlen)
{
    char file[700], text[1024], packages[512];
    snprintf(file, sizeof file, "%s/" TH_ROOT_STAMP, path);
    if (read_file(file, text, sizeof text) < 0)
        return -1;
    stamp_field(text, "packages", packages, sizeof packages);
    if (strcmp(packages, spec->packages) != 0)
        return -1;
    stamp_field(text, "version", version, vlen);
    return 0;
}

int th_root_prepare(const struct th_root_spec *spec, char *path, size_t len,
                    char *version, size_t vlen, char *why, size_t whylen)
{
    const char *env = getenv("OUTBOX_TEST_ROOTS");
    const char *cache = env && *env ? env : DEFAULT_CACHE;
    char name[256], lock[700], failed[700], text[1024];
    if (spec->name)
        snprintf(name, sizeof name, "%s", spec->name);
    else
        snprintf(name, sizeof name, "%s-%s", spec->suite, spec->packages);
    for (char *c = name; *c; c++)
        if (*c == ',' || *c == '/')
            *c = '+';
    snprintf(path, len, "%s/%s", cache, name);
    if (complete(spec, path, version, vlen) == 0)
        return version_ok(spec, version, path, why, whylen);

    if (geteuid() != 0) {
        snprintf(why, whylen, "building the %s root needs root (debootstrap, "
                 "chroot)", spec->suite);
        return 1;
    }
    if (access(DEBOOTSTRAP, X_OK) < 0) {
        snprintf(why, whylen, "%s is missing (apt-get install debootstrap; "
                 "tests/run.sh does)", DEBOOTSTRAP);
        return 1;
    }
    if (mkdir_p(cache) < 0) {
        snprintf(why, whylen, "mkdir %s: %s", cache, strerror(errno));
        return -1;
    }
    snprintf(lock, sizeof lock, "%s.lock", path);
    snprintf(failed, sizeof failed, "%s.failed", path);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) { /* waits for another builder */
        snprintf(why, whylen, "lock %s: %s", lock, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc;
    struct stat st;
    if (complete(spec, path, version, vlen) == 0) { /* built while we waited */
        rc = version_ok(spec, version, path, why, whylen);
    } else if (stat(failed, &st) == 0 &&
               time(NULL) - st.st_mtime < TH_ROOT_RETRY_S &&
               read_file(failed, text, sizeof text) == 0) {
        snprintf(why, whylen, "%s (a build %lld s ago; remove %s to retry "
                 "now)", text, (long long)(time(NULL) - st.st_mtime), failed);
        rc = 1;
    } else {
        rc = build(spec, cache, name, path, version, vlen, why, whylen);
        if (rc == 0) {
            unlink(failed);
            rc = version_ok(spec, version, path, why, whylen);
        } else {
            write_file(failed, why);
        }
    }
    close(fd); /* releases the lock */
    return rc;
}
