/*
 * WOF chunk decompression (formats/ntfs/ntfs_wof.c): chunks compressed by
 * wimlib's own compressors (independent of the decompressor binding) in
 * LZX (32 KiB) and XPRESS Huffman (4, 8, 16 KiB), full and short last
 * chunks, decode to the original bytes; sizes outside the chunk, empty
 * input, unknown algorithms, truncated and corrupted chunks are refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wimlib.h>

#include "formats/ntfs/ntfs_wof.h"
#include "tests/unit/t_helpers.h"

/* Text-like bytes that compress, with a PE-like E8 call pattern for LZX. */
static void fill(uint8_t *p, size_t n, unsigned seed)
{
	static const char words[] = "Windows\\WinSxS\\amd64_microsoft-windows-servicingstack ";

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)words[(i * 7 + seed + i / 97) % (sizeof(words) - 1)];
	for (size_t i = 100; i + 5 < n; i += 331) {
		p[i] = 0xe8; /* x86 call rel32: LZX's E8 translation */
		p[i + 1] = (uint8_t)(i * 13);
		p[i + 2] = (uint8_t)(seed);
	}
}

int main(void)
{
	static const unsigned algs[] = { BSW_WOF_XPRESS4K, BSW_WOF_LZX, BSW_WOF_XPRESS8K,
					 BSW_WOF_XPRESS16K };
	static uint8_t plain[32768], comp[40000], out[32768];

	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		unsigned alg = algs[a];
		size_t chunk = bsw_ntfs_wof_chunk_size(alg);
		struct wimlib_compressor *c = NULL;
		enum wimlib_compression_type t = alg == BSW_WOF_LZX ?
							 WIMLIB_COMPRESSION_TYPE_LZX :
							 WIMLIB_COMPRESSION_TYPE_XPRESS;

		T_CHECK(chunk == (alg == 1 ? 32768u :
				  alg == 0 ? 4096u :
				  alg == 2 ? 8192u :
					     16384u),
			"chunk size of %u", alg);
		if (wimlib_create_compressor(t, chunk, 0, &c)) {
			T_CHECK(0, "wimlib compressor %u", alg);
			continue;
		}
		/* a full chunk and a short last chunk */
		for (int k = 0; k < 2; k++) {
			size_t n = k ? chunk / 3 + 17 : chunk;
			size_t z;
			int rc;

			fill(plain, n, (unsigned)(alg * 10 + k));
			z = wimlib_compress(plain, n, comp, n - 1, c);
			T_CHECK(z > 0 && z < n, "alg %u: compressible", alg);
			if (!z)
				continue;
			memset(out, 0xaa, sizeof(out));
			rc = bsw_ntfs_wof_decompress(alg, comp, z, out, n);
			T_CHECK(rc == 0 && !memcmp(out, plain, n),
				"alg %u, %zu bytes: round trip (%d)", alg, n, rc);
			/* truncated: the stream ends early */
			rc = bsw_ntfs_wof_decompress(alg, comp, z / 2, out, n);
			T_CHECK(rc == -EIO || (rc == 0 && memcmp(out, plain, n)),
				"alg %u: truncated chunk refused or visibly wrong (%d)", alg, rc);
			/* asking for more than the chunk, or a raw-sized input */
			T_CHECK(bsw_ntfs_wof_decompress(alg, comp, z, out, chunk + 1) == -EINVAL,
				"alg %u: more than a chunk", alg);
			T_CHECK(bsw_ntfs_wof_decompress(alg, comp, 0, out, n) == -EINVAL,
				"alg %u: empty input", alg);
		}
		/* garbage never decodes silently into the wrong size */
		{
			int bad = 0;

			for (unsigned s = 0; s < 200; s++) {
				for (size_t i = 0; i < 600; i++)
					comp[i] = (uint8_t)(i * 31 + s * 17 + (i >> 3));
				if (bsw_ntfs_wof_decompress(alg, comp, 600, out, chunk) == -EIO)
					bad++;
			}
			T_CHECK(bad > 0, "alg %u: garbage refused at least sometimes (%d/200)", alg,
				bad);
		}
		wimlib_free_compressor(c);
	}
	T_CHECK(bsw_ntfs_wof_chunk_size(4) == 0, "unknown algorithm");
	T_CHECK(bsw_ntfs_wof_decompress(4, comp, 10, out, 100) == -EINVAL,
		"unknown algorithm refused");
	return T_DONE();
}
