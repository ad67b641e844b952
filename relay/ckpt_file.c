#include "relay/ckpt_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ckpt_file_load(const char *path, struct relay_position *p, char *err,
                   size_t errlen)
{
    char text[POS_TEXT_MAX + 64];
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "checkpoint %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(text, 1, sizeof text - 1, fp);
    int rerr = ferror(fp);
    fclose(fp);
    text[n] = '\0';
    if (rerr || n == sizeof text - 1) {
        snprintf(err, errlen, "checkpoint %s: %s", path,
                 rerr ? "read error" : "too large");
        return -1;
    }
    char why[256];
    if (pos_parse(p, text, why, sizeof why) < 0) {
        snprintf(err, errlen,
                 "checkpoint %s is damaged (%s); restore it or remove it and "
                 "set source.start", path, why);
        return -1;
    }
    return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ckpt_file_save(const char *path, const struct relay_position *p,
                   char *err, size_t errlen)
{
    char text[POS_TEXT_MAX + 64], tmp[4096];
    int n = pos_format(p, text, sizeof text - 1);
    if (n < 0) {
        snprintf(err, errlen, "checkpoint: position too long to store");
        return -1;
    }
    text[n++] = '\n';
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail;
    if (write_all(fd, text, (size_t)n) < 0 || fsync(fd) < 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        goto fail;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0 || fsync_dir_of(path) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "checkpoint %s: cannot save: %s", path,
             strerror(errno));
    return -1;
}
