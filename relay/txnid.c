/* SPDX-License-Identifier: Apache-2.0 */
#include "relay/txnid.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/numfmt.h"
#include "relay/dedupe.h"

/* By hand (common/numfmt.h): once per transaction. */
int txnid_by_position(char *buf, size_t len, const char *file,
                      uint64_t offset, uint32_t created)
{
    char num[2 * NUMFMT_U64_MAX + 2], *e = num;
    *e++ = ':';
    e = numfmt_u64(e, offset);
    *e++ = '@';
    e = numfmt_u64(e, created);
    size_t flen = strlen(file), n = flen + (size_t)(e - num);
    if (n >= len || n > INT32_MAX)
        return -1;
    memcpy(buf, file, flen);
    memcpy(buf + flen, num, (size_t)(e - num));
    buf[n] = '\0';
    return (int)n;
}

/* By hand (common/numfmt.h): it runs for every record, and its snprintf
 * was a tenth of the relay's instructions per event in the drain
 * (callgrind, docs/BENCHMARKS.md). */
int txnid_row(char *buf, size_t len, const char *txn, size_t txn_len,
              uint32_t index, const char *table)
{
    char num[NUMFMT_U64_MAX + 2], *e = num;
    *e++ = ' ';
    e = numfmt_u64(e, index);
    *e++ = ' ';
    size_t nlen = (size_t)(e - num), tlen = strlen(table);
    size_t n = txn_len + nlen + tlen;
    if (n >= len || n > INT32_MAX)
        return -1;
    memcpy(buf, txn, txn_len);
    memcpy(buf + txn_len, num, nlen);
    memcpy(buf + txn_len + nlen, table, tlen + 1);
    return (int)n;
}

int txnid_row_txn(const char *row, size_t len)
{
    const char *sp = memchr(row, ' ', len);
    if (!sp || sp == row)
        return -1;
    const char *idx = sp + 1, *end = row + len;
    const char *sp2 = memchr(idx, ' ', (size_t)(end - idx));
    if (!sp2 || sp2 == idx || sp2 + 1 == end)
        return -1;
    for (const char *c = idx; c < sp2; c++)
        if (*c < '0' || *c > '9')
            return -1;
    return (int)(sp - row);
}

/* "FILE:OFFSET@CREATED" against the checkpoint's file and offset. */
static int covered_by_position(const char *name,
                               const struct relay_position *pos)
{
    const char *at = strrchr(name, '@');
    const char *colon = at ? memrchr(name, ':', (size_t)(at - name)) : NULL;
    char file[256], *end;
    uint64_t fno, pno;
    if (!colon || (size_t)(colon - name) >= sizeof file)
        return -1;
    memcpy(file, name, (size_t)(colon - name));
    file[colon - name] = '\0';
    uint64_t offset = strtoull(colon + 1, &end, 10);
    if (end != at || opos_file_number(file, &fno) < 0)
        return -1;
    if (!pos->file[0] || opos_file_number(pos->file, &pno) < 0)
        return 0;
    return fno < pno || (fno == pno && offset < pos->offset);
}

static int covered_mariadb(const struct relay_position *one,
                           const struct relay_position *pos)
{
    const struct pos_md_domain *d = &one->md[0];
    for (size_t i = 0; i < pos->nmd; i++)
        if (pos->md[i].domain == d->domain)
            return d->seq <= pos->md[i].seq;
    return 0;
}

int txnid_covered(const char *txn, size_t len,
                  const struct relay_position *pos)
{
    char name[TXNID_MAX + 1], why[128];
    if (len == 0 || len > TXNID_MAX)
        return -1;
    memcpy(name, txn, len);
    name[len] = '\0';
    if (strchr(name, '@'))
        return covered_by_position(name, pos);
    struct relay_position one;
    pos_init(&one);
    int rc = -1;
    if (pos_parse_gtid(&one, name, why, sizeof why) == 0 &&
        (one.nmd == 1 || one.nmy == 1)) {
        if (one.kind != pos->kind)
            rc = 0;
        else if (one.kind == POS_GTID_MARIADB)
            rc = covered_mariadb(&one, pos);
        else
            rc = pos_mysql_subset(&one, pos);
    }
    pos_free(&one);
    return rc;
}
