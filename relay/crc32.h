/*
 * crc32: the CRC-32 of binlog checksums (IEEE 802.3, as zlib's crc32()).
 * Table-driven, one byte at a time; a few hundred MB/s, far more than a
 * binlog stream needs, and no dependency for it.
 */
#ifndef OUTBOX_RELAY_CRC32_H
#define OUTBOX_RELAY_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* crc32_update(0, buf, len) is the CRC of buf; chain for several pieces. */
uint32_t crc32_update(uint32_t crc, const uint8_t *buf, size_t len);

#endif
