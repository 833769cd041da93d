/*
 * libFuzzer target: the VHDX log (MS-VHDX 2.3).  The input is XORed onto
 * the log region of a valid template (tests/unit/vhdx_build.h) holding an
 * active two-entry sequence; every entry that still looks like one gets its
 * CRC-32C recomputed so mutants reach the sequence search and the replay.
 */
#include "vhdx_tmpl.h"
#include "cont_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_src src;
	struct bsw_src_mem m;
	size_t hi = size < MiB ? size : MiB; /* log bytes changed: [0, hi) */

	if (!tmpl_work(TMPL_LOG))
		return 0;
	for (size_t i = 0; i < hi; i++)
		img[LOG + i] ^= data[i];
	for (uint32_t o = 0; o < MiB; o += 4096) {
		uint8_t *h = img + LOG + o;
		uint32_t len = get_le32(h + 8);

		if (!memcmp(h, "loge", 4) && len >= 4096 && len % 4096 == 0 && len <= MiB - o) {
			crc_at(h, len, 4);
			if (o + 8 > hi)
				hi = o + 8;
		}
	}
	bsw_src_mem_init(&src, &m, img, FSIZE);
	cont_walk(&bsw_vhdx_ops, &src);
	tmpl_restore(TMPL_LOG, LOG, hi);
	return 0;
}
