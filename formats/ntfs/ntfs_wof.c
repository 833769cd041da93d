/*
 * WOF chunk decompression bound to wimlib (ntfs_wof.h).
 *
 * WOF's WofCompressedData stream is a chunk offset table followed by
 * chunks, each compressed on its own: LZX with 32 KiB chunks (a 32 KiB
 * window, the WIM variant of LZX: E8 translation over a fixed 12,000,000
 * byte "file size"), or XPRESS Huffman with 4, 8 or 16 KiB chunks.  These
 * are exactly the chunk formats of WIM resources, which wimlib's
 * decompressors read with max_block_size equal to the chunk size; wimlib
 * decodes every chunk in isolation and checks it yields the size asked for.
 */
#include <errno.h>
#include <wimlib.h>

#include "formats/ntfs/ntfs_wof.h"

/*
 * One decompressor per algorithm and thread: a volume belongs to one
 * thread, and creating an LZX decompressor for each chunk would cost more
 * than the chunk.  They live until the thread ends (a few KiB each).
 */
static __thread struct wimlib_decompressor *dec[4];

size_t bsw_ntfs_wof_chunk_size(unsigned alg)
{
	switch (alg) {
	case BSW_WOF_XPRESS4K:	return 4096;
	case BSW_WOF_LZX:	return 32768;
	case BSW_WOF_XPRESS8K:	return 8192;
	case BSW_WOF_XPRESS16K:	return 16384;
	default:		return 0;
	}
}

int bsw_ntfs_wof_decompress(unsigned alg, const void *in, size_t in_len,
			    void *out, size_t out_len)
{
	size_t chunk = bsw_ntfs_wof_chunk_size(alg);

	/*
	 * A chunk stored at its plain size is raw (the caller copies it); a
	 * compressed one is never larger in WOF, but the decoders do not need
	 * that, and a 3-symbol XPRESS chunk is longer than its 8 bytes.
	 */
	if (!chunk || !out_len || out_len > chunk || !in_len)
		return -EINVAL;
	if (!dec[alg]) {
		enum wimlib_compression_type t = alg == BSW_WOF_LZX ?
			WIMLIB_COMPRESSION_TYPE_LZX : WIMLIB_COMPRESSION_TYPE_XPRESS;
		int rc = wimlib_create_decompressor(t, chunk, &dec[alg]);

		if (rc)
			return rc == WIMLIB_ERR_NOMEM ? -ENOMEM : -EINVAL;
	}
	return wimlib_decompress(in, in_len, out, out_len, dec[alg]) ? -EIO : 0;
}
