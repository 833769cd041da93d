/*
 * Compression, LZNT1 half: the decompressors for NTFS file data - LZNT1
 * (compressed attributes, MS-XCA section 2.5) and XPRESS Huffman (MS-XCA
 * 2.1, WOF/CompactOS chunks) - written from the MS-XCA descriptions, pure
 * and bounded by in/out lengths; then the reading of one compression unit
 * of a volume's compressed stream (bsw_ntfs_load_cu, for ntfs_read.c).
 * WOF files are read in ntfs_wof.c.
 */
#include <errno.h>
#include <stdlib.h>
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
int64_t bsw_ntfs_lznt1(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
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

/*
 * XPRESS Huffman (MS-XCA 2.2, "LZ77+Huffman"), as WOF uses it for 4/8/16 KiB
 * chunks.  Each 64 KiB of output starts with a 256-byte table of 512 4-bit
 * code lengths (symbol 2i in the low nibble); codes are canonical (by length,
 * then symbol).  The bit stream is read 16 bits at a time, MSB first; long
 * match lengths take extra bytes from the current input position.  Symbols
 * 0-255 are literals; 256+ encode (offset bits << 4 | length - 3, 15 =
 * extended).  Stops when outlen bytes are written.  Returns outlen or
 * -EINVAL.
 */
#define XH_BITS 15

static int xh_table(const uint8_t *t, uint16_t *dec, uint8_t *lens)
{
	uint32_t pos = 0;
	unsigned l, sym;

	for (sym = 0; sym < 512; sym++)
		lens[sym] = (t[sym / 2] >> (4 * (sym & 1))) & 0xF;
	for (l = 1; l <= XH_BITS; l++) {
		for (sym = 0; sym < 512; sym++) {
			uint32_t n = 1u << (XH_BITS - l), k;

			if (lens[sym] != l)
				continue;
			if (pos + n > (1u << XH_BITS))
				return -EINVAL; /* over-subscribed */
			for (k = 0; k < n; k++)
				dec[pos + k] = (uint16_t)sym;
			pos += n;
		}
	}
	if (!pos)
		return -EINVAL;
	for (; pos < (1u << XH_BITS); pos++)
		dec[pos] = 0xFFFF; /* incomplete code: never valid */
	return 0;
}

int64_t bsw_ntfs_xpress_huff(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
	static __thread uint16_t dec[1u << XH_BITS];
	uint8_t lens[512];
	size_t ip = 0, op = 0;

#define RD16(p) ((p) + 2 <= inlen ? get_le16(in + (p)) : 0)
	while (op < outlen) {
		size_t block_end = BSW_MIN(op + 65536, outlen);
		uint32_t bits;
		int extra;

		if (ip + 256 > inlen || xh_table(in + ip, dec, lens))
			return -EINVAL;
		ip += 256;
		bits = ((uint32_t)RD16(ip) << 16) | RD16(ip + 2);
		ip += 4;
		extra = 16;
		while (op < block_end) {
			unsigned sym, l, len, ob;
			size_t off, i;

			if (ip > inlen + 4)
				return -EINVAL; /* ran far past the input */
			sym = dec[bits >> (32 - XH_BITS)];
			if (sym == 0xFFFF)
				return -EINVAL;
			l = lens[sym];
			bits <<= l;
			extra -= (int)l;
			if (extra < 0) {
				bits |= (uint32_t)RD16(ip) << -extra;
				extra += 16;
				ip += 2;
			}
			if (sym < 256) {
				out[op++] = (uint8_t)sym;
				continue;
			}
			sym -= 256;
			len = sym & 15;
			ob = sym >> 4;
			if (len == 15) {
				if (ip >= inlen)
					return -EINVAL;
				len = in[ip++];
				if (len == 255) {
					if (ip + 2 > inlen)
						return -EINVAL;
					len = get_le16(in + ip);
					ip += 2;
					if (len < 15)
						return -EINVAL;
					len -= 15;
				}
				len += 15;
			}
			len += 3;
			off = ob ? (bits >> (32 - ob)) : 0;
			off += (size_t)1 << ob;
			bits = ob ? bits << ob : bits;
			extra -= (int)ob;
			if (extra < 0) {
				bits |= (uint32_t)RD16(ip) << -extra;
				extra += 16;
				ip += 2;
			}
			if (off > op || len > outlen - op)
				return -EINVAL;
			for (i = 0; i < len; i++, op++)
				out[op] = out[op - off];
		}
	}
#undef RD16
	return (int64_t)op;
}

/* ---- compression units of a volume's LZNT1 stream ---- */

/*
 * Compression unit u of an LZNT1-compressed stream into fs->cu_buf (the
 * last one stays cached): a unit with every cluster allocated is stored
 * plain, one with none is a hole (zeros), otherwise its allocated clusters
 * hold LZNT1 chunks and the rest of the unit is sparse (1.6, libfsntfs
 * "compression").  0, -ENOMEM, or -EIO (read error, data not LZNT1).
 */
int bsw_ntfs_load_cu(struct bsw_ntfs *v, struct ntfs_stream *fs, uint64_t u)
{
	uint64_t cpu = 1ull << fs->cu_shift, vcn0 = u * cpu, alloc = 0, k;
	size_t cus = (size_t)(cpu * v->bs.cluster);
	uint8_t *tmp;
	int64_t n;
	int ret;

	if (fs->cu_valid && fs->cu_index == u)
		return 0;
	if (!fs->cu_buf && !(fs->cu_buf = malloc(cus)))
		return -ENOMEM;
	/* count allocated clusters of the unit */
	for (k = 0; k < cpu; k++) {
		long i = bsw_ntfs_run_find(&fs->runs, vcn0 + k);

		if (i >= 0 && fs->runs.r[i].lcn != NTFS_LCN_HOLE)
			alloc++;
	}
	if (alloc == cpu || alloc == 0) {
		ret = bsw_ntfs_runs_read(v, &fs->runs, fs->cu_buf, cus, vcn0 * v->bs.cluster);
		if (ret)
			return ret;
	} else {
		size_t clen = (size_t)(alloc * v->bs.cluster);

		tmp = malloc(clen);
		if (!tmp)
			return -ENOMEM;
		ret = bsw_ntfs_runs_read(v, &fs->runs, tmp, clen, vcn0 * v->bs.cluster);
		if (ret) {
			free(tmp);
			return ret;
		}
		n = bsw_ntfs_lznt1(tmp, clen, fs->cu_buf, cus);
		free(tmp);
		if (n < 0)
			return -EIO;
		memset(fs->cu_buf + n, 0, cus - (size_t)n);
	}
	fs->cu_index = u;
	fs->cu_valid = true;
	return 0;
}
