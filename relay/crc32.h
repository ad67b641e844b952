/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32: the CRC-32 of binlog checksums (IEEE 802.3, as zlib's crc32()).
 * Slicing-by-8 tables: every binlog event is checked, and one byte at a
 * time (~400 MB/s) took a fifth of the relay's CPU while it drained a
 * backlog (tests/bench); eight at a time is several times faster, with
 * no dependency for it. On x86-64 CPUs with PCLMULQDQ (and SSE4.1),
 * buffers of 64 bytes and more are folded 64 bytes at a time with
 * carry-less multiplication instead, chosen at run time; the tail, and
 * every buffer elsewhere, goes through the tables.
 */
#ifndef OUTBOX_RELAY_CRC32_H
#define OUTBOX_RELAY_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* crc32_update(0, buf, len) is the CRC of buf; chain for several pieces. */
uint32_t crc32_update(uint32_t crc, const uint8_t *buf, size_t len);

#endif
