#include "relay/crc32.h"

#include <pthread.h>

/* t[0] is the classic byte table; t[k][n] is the CRC of byte n followed
 * by k zero bytes, so eight table lookups advance the CRC by eight bytes
 * ("slicing-by-8", Intel 2006). */
static uint32_t t[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void make_tables(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        t[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            t[k][n] = t[0][t[k - 1][n] & 0xff] ^ (t[k - 1][n] >> 8);
}

static uint32_t bytewise(uint32_t crc, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        crc = t[0][(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

/* Little-endian loads: the CRC is reflected, so the lowest byte of the
 * word meets the CRC's lowest byte. */
static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

uint32_t crc32_update(uint32_t crc, const uint8_t *buf, size_t len)
{
    pthread_once(&once, make_tables);
    crc = ~crc;
    for (; len >= 8; buf += 8, len -= 8) {
        uint32_t lo = load_le32(buf) ^ crc, hi = load_le32(buf + 4);
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
              t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
              t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
    return ~bytewise(crc, buf, len);
}
