/*
 * WOF (CompactOS) chunk decompression through wimlib's decompressors (the
 * library that defines these formats for WIM files; the WOF "system
 * compression" chunks are the same LZX and XPRESS Huffman streams).
 */
#ifndef BSW_NTFS_WOF_H
#define BSW_NTFS_WOF_H

#include <stddef.h>

/* WOF algorithms, as in FILE_PROVIDER_EXTERNAL_INFO_V1.Algorithm. */
#define BSW_WOF_XPRESS4K 0
#define BSW_WOF_LZX 1
#define BSW_WOF_XPRESS8K 2
#define BSW_WOF_XPRESS16K 3

/* Chunk size of algorithm alg (4096, 32768, 8192, 16384); 0 if unknown. */
size_t bsw_ntfs_wof_chunk_size(unsigned alg);

/*
 * Decompress one chunk of in_len bytes into exactly out_len bytes (the
 * chunk's plain size: the chunk size, or less for a file's last chunk).
 * A chunk stored raw (in_len == out_len in WOF) is the caller's to copy.
 * Returns 0, -EINVAL (bad algorithm or sizes), -ENOMEM, or -EIO (the data
 * does not decode to out_len bytes).  Decompressors are kept per thread.
 */
int bsw_ntfs_wof_decompress(unsigned alg, const void *in, size_t in_len, void *out, size_t out_len);

#endif /* BSW_NTFS_WOF_H */
