/*
 * CRC-32 (IEEE 802.3, as GPT uses) and CRC-32C (Castagnoli, as VHDX uses).
 * Both are the reflected forms with initial value and final XOR 0xFFFFFFFF.
 */
#ifndef BSW_CRC_H
#define BSW_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 of buf; pass 0 as crc to start, or a previous result to continue. */
uint32_t bsw_crc32(uint32_t crc, const void *buf, size_t len);

/* CRC-32C of buf; same chaining convention as bsw_crc32(). */
uint32_t bsw_crc32c(uint32_t crc, const void *buf, size_t len);

#endif /* BSW_CRC_H */
