/*
 * WOF (CompactOS, `compact /exe:`) files written the way Windows' file
 * provider leaves them on NTFS:
 *
 * - $REPARSE_POINT, tag IO_REPARSE_TAG_WOF (0x80000017), 16 data bytes:
 *   WOF_EXTERNAL_INFO {Version 1, Provider 2 (file)} then
 *   FILE_PROVIDER_EXTERNAL_INFO_V1 {Version 1, Algorithm 0 XPRESS4K, 1 LZX,
 *   2 XPRESS8K, 3 XPRESS16K};
 * - the unnamed $DATA: sparse (no clusters), data size = the file's size;
 * - $DATA "WofCompressedData": a table of (chunks - 1) little-endian end
 *   offsets of chunks 0..n-2, 4 bytes each (8 when the file is 4 GiB or
 *   more), counted from the end of the table, then the chunks.  Every chunk
 *   but the last holds chunk-size plain bytes (LZX 32 KiB, XPRESS 4/8/16
 *   KiB) and is compressed on its own; one that does not shrink is stored
 *   as is (stored size == plain size means raw).
 *
 * Facts from wimlib's include/wimlib/wof.h and ntfs-3g-system-compression's
 * system_compression.c (Eric Biggers); the chunks are WIM-format LZX and
 * XPRESS Huffman, made here with wimlib's compressors, which share no code
 * with the decoders bootsweep uses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h> /* before ntfs-3g/reparse.h: its ntfstime.h */
#include <time.h>

#include <wimlib.h>
#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/reparse.h>
#include <ntfs-3g/volume.h>

#include "mkfleet.h"

#define WOF_TAG 0x80000017u

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t chunk_size(unsigned alg)
{
	static const size_t sz[4] = { 4096, 32768, 8192, 16384 };

	return alg < 4 ? sz[alg] : 0;
}

/*
 * The WofCompressedData stream of d (malloc'd, *out_len bytes).  Counts the
 * chunks that were stored compressed in *nzip.
 */
static uint8_t *wof_stream(const uint8_t *d, size_t len, unsigned alg, size_t *out_len,
			   size_t *nzip)
{
	size_t cs = chunk_size(alg), n = (len + cs - 1) / cs;
	size_t esz = (uint64_t)len >= (1ull << 32) ? 8 : 4;
	size_t tbl = (n - 1) * esz, pos = 0;
	struct wimlib_compressor *c = NULL;
	uint8_t *s = malloc(tbl + len), *z = malloc(cs);

	*nzip = 0;
	if (!s || !z ||
	    wimlib_create_compressor(alg == 1 ? WIMLIB_COMPRESSION_TYPE_LZX :
						WIMLIB_COMPRESSION_TYPE_XPRESS,
				     cs, 0, &c)) {
		free(s);
		free(z);
		return NULL;
	}
	memset(s, 0, tbl);
	for (size_t i = 0; i < n; i++) {
		size_t plain = i + 1 < n ? cs : len - i * cs;
		/* at most plain - 1 bytes: 0 when it does not shrink */
		size_t zl = plain > 1 ? wimlib_compress(d + i * cs, plain, z, plain - 1, c) : 0;

		if (zl) {
			memcpy(s + tbl + pos, z, zl);
			pos += zl;
			(*nzip)++;
		} else {
			memcpy(s + tbl + pos, d + i * cs, plain);
			pos += plain;
		}
		if (i + 1 < n) { /* end of chunk i = start of chunk i + 1 */
			if (esz == 8) {
				put32(s + i * 8, (uint32_t)pos);
				put32(s + i * 8 + 4, (uint32_t)((uint64_t)pos >> 32));
			} else {
				put32(s + i * 4, (uint32_t)pos);
			}
		}
	}
	wimlib_free_compressor(c);
	free(z);
	*out_len = tbl + pos;
	return s;
}

static const ntfschar wof_name[] = {
	const_cpu_to_le16('W'), const_cpu_to_le16('o'), const_cpu_to_le16('f'),
	const_cpu_to_le16('C'), const_cpu_to_le16('o'), const_cpu_to_le16('m'),
	const_cpu_to_le16('p'), const_cpu_to_le16('r'), const_cpu_to_le16('e'),
	const_cpu_to_le16('s'), const_cpu_to_le16('s'), const_cpu_to_le16('e'),
	const_cpu_to_le16('d'), const_cpu_to_le16('D'), const_cpu_to_le16('a'),
	const_cpu_to_le16('t'), const_cpu_to_le16('a'),
};

int vol_write_wof(struct vol *v, const char *path, const void *d, size_t len, unsigned alg)
{
	char path1[1024];
	uint8_t rp[24];
	size_t slen = 0, nzip = 0;
	uint8_t *s;
	ntfs_inode *ni;
	ntfs_attr *na;
	int rc = -1;

	if (!len || !chunk_size(alg))
		return vol_write(v, path, d, len); /* Windows leaves empty files alone */
	s = wof_stream(d, len, alg, &slen, &nzip);
	if (!s)
		return -1;
	/* the unnamed $DATA: a hole of the file's size */
	if (vol_write_sparse(v, path, len, NULL, 0))
		goto out;
	snprintf(path1, sizeof(path1), "/%s", path);
	ni = ntfs_pathname_to_inode(vol_nv(v), NULL, path1);
	if (!ni)
		goto out;
	if (ntfs_attr_add(ni, AT_DATA, (ntfschar *)wof_name, 17, NULL, 0))
		goto close;
	na = ntfs_attr_open(ni, AT_DATA, (ntfschar *)wof_name, 17);
	if (!na)
		goto close;
	if (ntfs_attr_pwrite(na, 0, (s64)slen, s) != (s64)slen) {
		ntfs_attr_close(na);
		goto close;
	}
	ntfs_attr_close(na);
	/* REPARSE_DATA_BUFFER: tag, data length 16, reserved; then the data */
	put32(rp, WOF_TAG);
	put32(rp + 4, 16);
	put32(rp + 8, 1);    /* WOF_EXTERNAL_INFO.Version */
	put32(rp + 12, 2);   /* .Provider: WOF_PROVIDER_FILE */
	put32(rp + 16, 1);   /* FILE_PROVIDER_EXTERNAL_INFO_V1.Version */
	put32(rp + 20, alg); /* .Algorithm */
	if (ntfs_set_ntfs_reparse_data(ni, (const char *)rp, sizeof(rp), 0))
		goto close;
	rc = 0;
close:
	if (ntfs_inode_close(ni))
		rc = -1;
out:
	if (rc)
		fprintf(stderr, "mkfleet: WOF %s: %s\n", path, strerror(errno));
	else if (getenv("MKFLEET_WOF_VERBOSE"))
		fprintf(stderr,
			"mkfleet: WOF %s alg %u: %zu -> %zu bytes, %zu of %zu chunks compressed\n",
			path, alg, len, slen, nzip, (len + chunk_size(alg) - 1) / chunk_size(alg));
	free(s);
	return rc;
}
