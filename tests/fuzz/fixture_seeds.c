/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fixture_seeds: fuzz_binlog inputs made from real binlog files.
 *
 *   fixture_seeds OUT_DIR BINLOG_FILE...
 *
 * Every ROWS event of the files, with the TABLE_MAP before it, becomes
 * one input in fuzz_binlog's layout (see tests/fuzz/fuzz_binlog.c): the
 * settings bytes, the table map's body, the rows' body. The MySQL
 * fixtures stay in ../shared (they are not ours to copy into the tree):
 * the fuzz test makes its seeds from them at run time.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay/binlog.h"

static const uint8_t ROWS[] = {BL_WRITE_ROWS_V1, BL_UPDATE_ROWS_V1,
                               BL_DELETE_ROWS_V1, BL_WRITE_ROWS,
                               BL_UPDATE_ROWS, BL_DELETE_ROWS};

static int rows_index(uint8_t type)
{
    for (int i = 0; i < (int)sizeof ROWS; i++)
        if (ROWS[i] == type)
            return i;
    return -1;
}

static int write_seed(const char *dir, const char *name, int n,
                      const struct binlog_format *f, int idx,
                      const uint8_t *tmap, size_t tlen, const uint8_t *rows,
                      size_t rlen)
{
    char path[4096];
    uint8_t head[5] = {(uint8_t)idx, f->post_header[BL_TABLE_MAP] == 6,
                       f->post_header[BL_QUERY], (uint8_t)tlen,
                       (uint8_t)(tlen >> 8)};
    if (tlen > 0xffff)
        return 0; /* the layout's L is 16 bits */
    snprintf(path, sizeof path, "%s/fixture-%s-%d", dir, name, n);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    fwrite(head, 1, sizeof head, fp);
    fwrite(tmap, 1, tlen, fp);
    fwrite(rows, 1, rlen, fp);
    return fclose(fp);
}

/* The events of one file; the number of inputs written, or -1. */
static int seeds_of(const char *dir, const char *file, const uint8_t *p,
                    size_t size)
{
    struct binlog_format f;
    struct binlog_header h;
    const uint8_t *body, *tmap = NULL;
    size_t blen, tlen = 0;
    char err[256];
    const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    int n = 0;
    binlog_format_default(&f);
    for (size_t off = 4; off + BINLOG_HEADER_LEN <= size; off += h.size) {
        if (binlog_parse_header(p + off, size - off, &h, err, sizeof err) < 0)
            break; /* the end of what was written */
        const uint8_t *ev = p + off;
        if (h.type == BL_FORMAT_DESCRIPTION &&
            binlog_parse_fde(ev, h.size, &f, err, sizeof err) < 0)
            return fprintf(stderr, "%s: %s\n", file, err), -1;
        if (binlog_body(&f, ev, h.size, 0, &body, &blen, err, sizeof err) < 0)
            continue;
        if (h.type == BL_TABLE_MAP) {
            tmap = body;
            tlen = blen;
        } else if (rows_index(h.type) >= 0 && tmap) {
            if (write_seed(dir, name, n, &f, rows_index(h.type), tmap, tlen,
                           body, blen) < 0)
                return perror(dir), -1;
            n++;
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fixture_seeds OUT_DIR BINLOG_FILE...\n");
        return 2;
    }
    int total = 0;
    for (int i = 2; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 4) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            return 1;
        }
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED)
            return perror(argv[i]), 1;
        int n = seeds_of(argv[1], argv[i], map, (size_t)st.st_size);
        munmap(map, (size_t)st.st_size);
        if (n < 0)
            return 1;
        total += n;
    }
    printf("fixture_seeds: %d inputs from %d files in %s\n", total, argc - 2,
           argv[1]);
    return total > 0 ? 0 : 1;
}
