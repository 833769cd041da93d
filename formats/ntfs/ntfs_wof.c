/*
 * Compression, WOF half: WOF (CompactOS) files of a volume, and their
 * chunks decompressed through wimlib's decompressors (ntfs_wof.h).
 *
 * WOF's WofCompressedData stream is a chunk offset table followed by
 * chunks, each compressed on its own: LZX with 32 KiB chunks (a 32 KiB
 * window, the WIM variant of LZX: E8 translation over a fixed 12,000,000
 * byte "file size"), or XPRESS Huffman with 4, 8 or 16 KiB chunks.  These
 * are exactly the chunk formats of WIM resources, which wimlib's
 * decompressors read with max_block_size equal to the chunk size; wimlib
 * decodes every chunk in isolation and checks it yields the size asked for.
 * This file is the only one that includes <wimlib.h>.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wimlib.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"
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
	case BSW_WOF_XPRESS4K: return 4096;
	case BSW_WOF_LZX: return 32768;
	case BSW_WOF_XPRESS8K: return 8192;
	case BSW_WOF_XPRESS16K: return 16384;
	default: return 0;
	}
}

int bsw_ntfs_wof_decompress(unsigned alg, const void *in, size_t in_len, void *out, size_t out_len)
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
							 WIMLIB_COMPRESSION_TYPE_LZX :
							 WIMLIB_COMPRESSION_TYPE_XPRESS;
		int rc = wimlib_create_decompressor(t, chunk, &dec[alg]);

		if (rc)
			return rc == WIMLIB_ERR_NOMEM ? -ENOMEM : -EINVAL;
	}
	return wimlib_decompress(in, in_len, out, out_len, dec[alg]) ? -EIO : 0;
}

/* ---- WOF files of a volume (bsw_ntfs_read) ---- */

void bsw_ntfs_wof_free(struct bsw_ntfs *v)
{
	bsw_ntfs_stream_free(&v->wof.s);
	free(v->wof.cbuf);
	free(v->wof.zbuf);
	memset(&v->wof, 0, sizeof(v->wof));
}

/*
 * WOF (CompactOS) file: the reparse point names the algorithm (value +8
 * WOF_EXTERNAL_INFO {version, provider 2 = file}, +16 FILE_PROVIDER_
 * EXTERNAL_INFO_V1 {version, algorithm 0 XPRESS4K, 1 LZX, 2 XPRESS8K,
 * 3 XPRESS16K}); the data is the named stream "WofCompressedData": a table
 * of (chunks - 1) end offsets (u32, u64 when the file is 4 GiB or more)
 * relative to the end of the table, then the chunks; a chunk whose stored
 * size equals its plain size is stored raw (libfsntfs WOF notes).
 */
static int wof_open(struct bsw_ntfs *v, uint64_t rec)
{
	struct ntfs_stream rp;
	uint32_t prov, alg;
	int ret;

	if (v->wof.valid && v->wof.rec == rec)
		return 0;
	bsw_ntfs_wof_free(v);
	ret = bsw_ntfs_load_stream(v, rec, NTFS_AT_REPARSE, NULL, &rp);
	if (ret)
		return ret;
	if (!rp.resident || rp.res_len < 24) {
		bsw_ntfs_stream_free(&rp);
		return -EINVAL;
	}
	prov = get_le32(rp.res + 12);
	alg = get_le32(rp.res + 20);
	bsw_ntfs_stream_free(&rp);
	if (prov != 2 || alg > 3)
		return -EOPNOTSUPP;
	v->wof.alg = alg;
	v->wof.chunk = bsw_ntfs_wof_chunk_size(alg); /* LZX 32 KiB, XPRESS 4/8/16 KiB */
	v->wof.size = v->recs[rec].size;
	v->wof.nchunks = (v->wof.size + v->wof.chunk - 1) / v->wof.chunk;
	ret = bsw_ntfs_load_stream(v, rec, NTFS_AT_DATA, "WofCompressedData", &v->wof.s);
	if (ret)
		return ret == -ENOENT ? -EINVAL : ret;
	v->wof.cbuf = malloc(v->wof.chunk);
	v->wof.zbuf = malloc(v->wof.chunk);
	if (!v->wof.cbuf || !v->wof.zbuf) {
		bsw_ntfs_wof_free(v);
		return -ENOMEM;
	}
	v->wof.rec = rec;
	v->wof.valid = true;
	return 0;
}

static int wof_chunk(struct bsw_ntfs *v, uint64_t c)
{
	unsigned esz = v->wof.size >= (1ull << 32) ? 8 : 4;
	uint64_t tbl = (v->wof.nchunks - 1) * esz, start = 0, end;
	uint32_t plain = (uint32_t)BSW_MIN((uint64_t)v->wof.chunk, v->wof.size - c * v->wof.chunk);
	uint8_t e[8];
	int64_t n;

	if (v->wof.cvalid && v->wof.cidx == c)
		return 0;
	if (c && bsw_ntfs_stream_pread(v, &v->wof.s, e, esz, (c - 1) * esz) == esz)
		start = esz == 8 ? get_le64(e) : get_le32(e);
	if (c + 1 < v->wof.nchunks) {
		if (bsw_ntfs_stream_pread(v, &v->wof.s, e, esz, c * esz) != esz)
			return -EIO;
		end = esz == 8 ? get_le64(e) : get_le32(e);
	} else {
		end = v->wof.s.size - tbl;
	}
	if (end < start || end - start > v->wof.chunk || tbl + end > v->wof.s.size)
		return -EIO;
	n = bsw_ntfs_stream_pread(v, &v->wof.s, v->wof.zbuf, (size_t)(end - start), tbl + start);
	if (n != (int64_t)(end - start))
		return -EIO;
	if (end - start == plain)
		memcpy(v->wof.cbuf, v->wof.zbuf, plain);
	else if (bsw_ntfs_wof_decompress(v->wof.alg, v->wof.zbuf, (size_t)(end - start),
					 v->wof.cbuf, plain))
		return -EIO;
	v->wof.cidx = c;
	v->wof.cvalid = true;
	return 0;
}

int64_t bsw_ntfs_wof_read(struct bsw_ntfs *v, uint64_t rec, uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	int ret = wof_open(v, rec);

	if (ret)
		return ret;
	if (off >= v->wof.size)
		return 0;
	len = (size_t)BSW_MIN((uint64_t)len, v->wof.size - off);
	while (done < len) {
		uint64_t p = off + done, c = p / v->wof.chunk, in = p % v->wof.chunk;
		size_t n = (size_t)BSW_MIN((uint64_t)(v->wof.chunk - in), (uint64_t)(len - done));

		ret = wof_chunk(v, c);
		if (ret)
			return ret;
		memcpy(buf + done, v->wof.cbuf + in, n);
		done += n;
	}
	return (int64_t)len;
}
