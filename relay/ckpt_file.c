/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/ckpt_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_MAX (4 << 20) /* far more than any checkpoint takes */

int ckpt_file_load(const char *path, char **text, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "checkpoint %s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, FILE_MAX + 1, fp) : 0;
    int rerr = !buf || ferror(fp);
    fclose(fp);
    if (rerr || n > FILE_MAX) {
        snprintf(err, errlen, "checkpoint %s: %s", path,
                 rerr ? "read error" : "too large");
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *text = buf;
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

int ckpt_file_save(const char *path, const char *text, char *err,
                   size_t errlen)
{
    char tmp[4096];
    size_t n = strlen(text);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail;
    if (write_all(fd, text, n) < 0 || write_all(fd, "\n", 1) < 0 ||
        fsync(fd) < 0) {
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
