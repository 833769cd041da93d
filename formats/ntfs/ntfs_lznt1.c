/*
 * Decompressors for NTFS file data: LZNT1 (compressed attributes,
 * MS-XCA section 2.5) and, for WOF/CompactOS, XPRESS Huffman (MS-XCA 2.1).
 * Written from the MS-XCA descriptions; pure, bounded by in/out lengths.
 */
#include <errno.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "formats/ntfs/ntfs_internal.h"

/*
 * One LZNT1 stream (a compression unit): 4 KiB chunks, each with a u16
 * header: bits 0-11 chunk size - 3, bit 15 compressed.  A compressed chunk
 * is groups of a flag byte and 8 tokens (bit 0 literal, 1 a u16 copy token
 * whose offset/length split depends on the position within the chunk).
 * Returns bytes written (short chunks are padded to 4 KiB when another
 * chunk follows) or -EINVAL.
 */
int64_t bsw_ntfs_lznt1(const uint8_t *in, size_t inlen, uint8_t *out,
		       size_t outlen)
{
	size_t ip = 0, op = 0;

	while (ip + 2 <= inlen) {
		uint16_t h = get_le16(in + ip);
		size_t csize, cend, cstart = op;

		if (!h)
			break;
		csize = (size_t)(h & 0xFFF) + 1;
		ip += 2;
		if (!bsw_range_ok(ip, csize, inlen))
			return -EINVAL;
		cend = ip + csize;
		if (op >= outlen)
			return -EINVAL;
		if (!(h & 0x8000)) {
			size_t n = BSW_MIN(csize, outlen - op);

			memcpy(out + op, in + ip, n);
			op += n;
			ip = cend;
			continue;
		}
		while (ip < cend) {
			uint8_t flags = in[ip++];
			int t;

			for (t = 0; t < 8 && ip < cend; t++, flags >>= 1) {
				size_t pos = op - cstart, i, dbits, disp, n;
				uint16_t tok;

				if (!(flags & 1)) {
					if (op >= outlen || pos >= 4096)
						return -EINVAL;
					out[op++] = in[ip++];
					continue;
				}
				if (ip + 2 > cend || pos == 0)
					return -EINVAL;
				tok = get_le16(in + ip);
				ip += 2;
				dbits = 4;
				for (i = pos - 1; i >= 0x10; i >>= 1)
					dbits++;
				disp = (size_t)(tok >> (16 - dbits)) + 1;
				n = (size_t)(tok & (0xFFFFu >> dbits)) + 3;
				if (disp > pos || pos + n > 4096 || op + n > outlen)
					return -EINVAL;
				for (i = 0; i < n; i++, op++)
					out[op] = out[op - disp];
			}
		}
		/* a short chunk stands for 4 KiB when another chunk follows */
		if (ip + 2 <= inlen && get_le16(in + ip) && op - cstart < 4096) {
			size_t pad = BSW_MIN(4096 - (op - cstart), outlen - op);

			memset(out + op, 0, pad);
			op += pad;
		}
	}
	return (int64_t)op;
}

/* XPRESS Huffman is not decoded yet: WOF files read as -EOPNOTSUPP. */
int64_t bsw_ntfs_xpress_huff(const uint8_t *in, size_t inlen, uint8_t *out,
			     size_t outlen)
{
	return -EOPNOTSUPP;
}
