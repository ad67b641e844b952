/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/mariadb_zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

int mzip_is_compressed(int type)
{
    return type >= BL_MARIA_QUERY_COMPRESSED &&
           type <= BL_MARIA_DELETE_ROWS_COMPRESSED;
}

int mzip_plain_type(int type)
{
    if (type == BL_MARIA_QUERY_COMPRESSED)
        return BL_QUERY;
    if (type >= BL_MARIA_WRITE_ROWS_COMPRESSED_V1 &&
        type <= BL_MARIA_DELETE_ROWS_COMPRESSED_V1)
        return BL_WRITE_ROWS_V1 + (type - BL_MARIA_WRITE_ROWS_COMPRESSED_V1);
    if (type >= BL_MARIA_WRITE_ROWS_COMPRESSED &&
        type <= BL_MARIA_DELETE_ROWS_COMPRESSED)
        return BL_WRITE_ROWS + (type - BL_MARIA_WRITE_ROWS_COMPRESSED);
    return type;
}

static int grow(struct binlog_scratch *out, size_t need)
{
    if (need <= out->cap)
        return 0;
    if (need > out->max)
        return -1;
    char *b = realloc(out->buf, need);
    if (!b)
        return -1;
    out->buf = b;
    out->cap = need;
    return 0;
}

int mzip_inflate(const uint8_t *src, size_t len, struct binlog_scratch *out,
                 size_t *outlen, char *err, size_t errlen)
{
    if (len < 2 || !(src[0] & 0x80))
        return snprintf(err, errlen, "compressed event: no compressed record"), -1;
    if ((src[0] >> 4 & 7) != 0)
        return snprintf(err, errlen, "compressed event: algorithm %d is not "
                        "zlib", src[0] >> 4 & 7), -1;
    size_t lenlen = src[0] & 7, want = 0;
    if (lenlen < 1 || lenlen > 4 || len < 1 + lenlen)
        return snprintf(err, errlen, "compressed event: bad length field"), -1;
    for (size_t i = 1; i <= lenlen; i++)
        want = want << 8 | src[i];
    /* One byte more than claimed: data that inflates longer shows up. */
    if (grow(out, want + 1) < 0)
        return snprintf(err, errlen, "compressed event: %zu bytes uncompressed "
                        "is over the bound (%zu) or memory ran out", want,
                        out->max), -1;
    uLongf got = (uLongf)want + 1;
    int rc = uncompress((Bytef *)out->buf, &got, src + 1 + lenlen,
                        (uLong)(len - 1 - lenlen));
    if (rc != Z_OK || got != want)
        return snprintf(err, errlen, "compressed event: %s (%lu of %zu bytes)",
                        rc == Z_OK ? "wrong length" : zError(rc),
                        (unsigned long)got, want), -1;
    *outlen = want;
    return 0;
}

int mzip_open_rows(const struct binlog_header *h, struct binlog_rows *r,
                   struct binlog_scratch *buf, char *err, size_t errlen)
{
    size_t n;
    if (!mzip_is_compressed(h->type))
        return 0;
    if (mzip_inflate(r->p, (size_t)(r->end - r->p), buf, &n, err, errlen) < 0)
        return -1;
    r->p = (const uint8_t *)buf->buf;
    r->end = r->p + n;
    return 0;
}
