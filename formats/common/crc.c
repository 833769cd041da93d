/*
 * Table-driven CRC-32 and CRC-32C (slicing by one byte).  They run over
 * headers and tables of a few KiB at most, so no SIMD path is needed here.
 */
#include "formats/common/crc.h"

#include <pthread.h>

static uint32_t crc32_tab[256], crc32c_tab[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t a = i, c = i;

		for (int k = 0; k < 8; k++) {
			a = (a & 1) ? (a >> 1) ^ 0xEDB88320u : a >> 1;
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		}
		crc32_tab[i] = a;
		crc32c_tab[i] = c;
	}
}

static uint32_t crc_run(const uint32_t *tab, uint32_t crc, const void *buf,
			size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--)
		crc = tab[(crc ^ *p++) & 0xff] ^ (crc >> 8);
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
	return crc_run(crc32c_tab, crc, buf, len);
}
