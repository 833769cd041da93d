/*
 * Partition tables built in memory (shared by the unit test and the GPT
 * fuzz target): a protective MBR with primary and backup GPT (make_gpt),
 * MBR entries (mbr_entry), in disk (DISK bytes, caller-allocated).
 */
#ifndef BSW_GPT_BUILD_H
#define BSW_GPT_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/crc.h"

#define DISK (4u << 20)

static uint8_t *disk;

static const uint8_t ESP[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
				 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t BDP[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
				 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };

static inline void put_le64x(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline void mbr_entry(uint8_t *s, int i, uint8_t boot, uint8_t type, uint32_t lba,
			     uint32_t cnt)
{
	uint8_t *e = s + 446 + 16 * i;

	e[0] = boot;
	e[4] = type;
	put_le32(e + 8, lba);
	put_le32(e + 12, cnt);
	s[510] = 0x55;
	s[511] = 0xaa;
}

/* One GPT header + array for sector size ss, at my_lba with array at arr_lba. */
static inline void gpt_write(uint32_t ss, uint64_t my_lba, uint64_t alt_lba, uint64_t arr_lba)
{
	uint64_t last = DISK / ss - 1;
	uint8_t *h = disk + my_lba * ss, *a = disk + arr_lba * ss;
	uint32_t nent = 128;

	memset(h, 0, ss);
	memset(a, 0, nent * 128);
	/* UEFI 2.10 table 5.21 (header) and 5.22 (entries) */
	memcpy(a, ESP, 16);
	a[16] = 1;
	put_le64x(a + 32, 2048 * 512 / ss);
	put_le64x(a + 40, 4096 * 512 / ss - 1);
	put_le16(a + 56, 'E');
	put_le16(a + 58, 'F');
	put_le16(a + 60, 'I');
	memcpy(a + 128, BDP, 16);
	a[128 + 16] = 2;
	put_le64x(a + 128 + 32, 4096 * 512 / ss);
	put_le64x(a + 128 + 40, 6144 * 512 / ss - 1);
	memcpy(h, "EFI PART", 8);
	put_le32(h + 8, 0x10000);
	put_le32(h + 12, 92);
	put_le64x(h + 24, my_lba);
	put_le64x(h + 32, alt_lba);
	put_le64x(h + 40, 34);
	put_le64x(h + 48, last - 33);
	h[56] = 0x42;
	put_le64x(h + 72, arr_lba);
	put_le32(h + 80, nent);
	put_le32(h + 84, 128);
	put_le32(h + 88, bsw_crc32(0, a, nent * 128));
	put_le32(h + 16, bsw_crc32(0, h, 92));
}

static inline void make_gpt(uint32_t ss)
{
	uint64_t last = DISK / ss - 1;

	memset(disk, 0, DISK);
	mbr_entry(disk, 0, 0, 0xee, 1, (uint32_t)last);
	gpt_write(ss, 1, last, 2);
	gpt_write(ss, last, 1, last - 32 * 512 / ss);
}

#endif
