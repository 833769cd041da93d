/*
 * A small VHD built in memory (shared by the unit test and the VHD fuzz
 * target): make_dyn() writes a dynamic (3) or differencing (4) disk of four
 * 4 KiB blocks, blocks 0 and 2 allocated, into img (FSIZE bytes).
 */
#ifndef BSW_VHD_BUILD_H
#define BSW_VHD_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/common/crc.h"

#define BLK 4096u
#define NBLK 4u
#define VSIZE (BLK * NBLK)
#define BAT_OFF 1536u
#define LOC_OFF 2048u
#define DATA0 3072u /* first block (bitmap + data) */
#define SPAN (512u + BLK)
#define FSIZE (DATA0 + 2 * SPAN + 512)

static uint8_t img[FSIZE];

static inline uint32_t csum(const uint8_t *p, size_t len, size_t at)
{
	uint32_t s = 0;

	for (size_t i = 0; i < len; i++)
		if (i < at || i >= at + 4)
			s += p[i];
	return ~s;
}

static inline void seal(uint8_t *foot, uint8_t *dh)
{
	if (dh)
		put_be32(dh + 36, csum(dh, 1024, 36));
	put_be32(foot + 64, csum(foot, 512, 64));
}

/* A dynamic (type 3) or differencing (type 4) disk: blocks 0 and 2 allocated. */
static inline void make_dyn(int type)
{
	uint8_t *f = img + FSIZE - 512, *dh = img + 512;

	memset(img, 0, sizeof(img));
	/* footer, spec "Hard Disk Footer Format" */
	memcpy(f, "conectix", 8);
	put_be32(f + 8, 2);
	put_be32(f + 12, 0x10000);
	put_be64(f + 16, 512);
	put_be64(f + 40, VSIZE);
	put_be64(f + 48, VSIZE);
	put_be32(f + 60, type);
	memset(f + 68, 0xc1, 16);
	/* dynamic header, spec "Dynamic Disk Header Format" */
	memcpy(dh, "cxsparse", 8);
	put_be64(dh + 8, ~0ull);
	put_be64(dh + 16, BAT_OFF);
	put_be32(dh + 24, 0x10000);
	put_be32(dh + 28, NBLK);
	put_be32(dh + 32, BLK);
	if (type == 4) {
		static const char rel[] = ".\\par.vhd";
		uint8_t *e = dh + 576;

		memset(dh + 40, 0xa7, 16); /* parent unique id */
		put_be32(e, 0x57327275);   /* W2ru */
		put_be32(e + 4, 512);
		put_be32(e + 8, 2 * (sizeof(rel) - 1));
		put_be64(e + 16, LOC_OFF);
		for (size_t i = 0; i < sizeof(rel) - 1; i++)
			put_le16(img + LOC_OFF + 2 * i, rel[i]);
		/* parent Unicode name, UTF-16 big-endian */
		dh[64 + 1] = 'p';
		dh[66 + 1] = 'a';
		dh[68 + 1] = 'r';
	}
	for (unsigned i = 0; i < NBLK; i++)
		put_be32(img + BAT_OFF + 4 * i, 0xffffffffu);
	put_be32(img + BAT_OFF + 0, DATA0 / 512);
	put_be32(img + BAT_OFF + 8, (DATA0 + SPAN) / 512);
	/* block 0: sectors 0-1 present, 2-7 from the parent; block 2: all */
	img[DATA0] = 0xc0;
	img[DATA0 + SPAN] = 0x80;
	memset(img + DATA0 + 512, 0x11, BLK);
	memset(img + DATA0 + SPAN + 512, 0x22, BLK);
	memcpy(img, f, 512);
	seal(img, dh);
	memcpy(f, img, 512);
}

#endif
