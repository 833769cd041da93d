/*
 * Table-driven CRC-32 and CRC-32C, eight bytes per step ("slicing by 8":
 * eight 256-entry tables, table k giving the CRC of a byte followed by k
 * zero bytes), and CRC-32C with the SSE4.2 crc32 instruction where the CPU
 * has it (checked once at run time).  The VHDX region table alone is
 * 64 KiB checksummed on every open, and a replayed log is checksummed
 * entry by entry; one byte per step made the CRC most of the time of a
 * VHDX open.
 */
#include "formats/common/crc.h"

#include <pthread.h>
#include <string.h>

#include "formats/common/bytes.h"

static uint32_t crc32_tab[8][256], crc32c_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int have_sse42;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BSW_CRC_HW 1
/* CRC-32C with the crc32 instruction (same reflected polynomial). */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
							    size_t len)
{
	uint64_t c = ~crc;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, 8); /* x86-64 is little-endian: one load */
		c = __builtin_ia32_crc32di(c, v);
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

static void fill(uint32_t tab[8][256], uint32_t poly)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
		tab[0][i] = c;
	}
	for (int k = 1; k < 8; k++)
		for (uint32_t i = 0; i < 256; i++)
			tab[k][i] = (tab[k - 1][i] >> 8) ^ tab[0][tab[k - 1][i] & 0xff];
}

static void crc_init(void)
{
	fill(crc32_tab, 0xEDB88320u);
	fill(crc32c_tab, 0x82F63B78u);
#ifdef BSW_CRC_HW
	__builtin_cpu_init();
	have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_run(uint32_t tab[8][256], uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = crc ^ get_le32(p), hi = get_le32(p + 4);

		crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^ tab[5][(lo >> 16) & 0xff] ^
		      tab[4][lo >> 24] ^ tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
		      tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
	}
	while (len--)
		crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t bsw_crc32(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	return crc_run(crc32_tab, crc, buf, len);
}

uint32_t bsw_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
#ifdef BSW_CRC_HW
	if (have_sse42)
		return crc32c_hw(crc, buf, len);
#endif
	return crc_run(crc32c_tab, crc, buf, len);
}
