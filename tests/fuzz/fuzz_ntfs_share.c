/*
 * libFuzzer target: the MFT share keys and kept units (ntfs_share.c,
 * ntfs_records.c; struct bsw_ntfs_share).  The volume is opened twice
 * through one small in-memory cache: the first open parses every unit and
 * keeps its form, the second takes the units from the cache; both must
 * give the same records and findings (the contract of docs/sharing.md).
 * Then the file keys of the first records (their stream descriptions
 * kept in the same cache), every kept unit exported and imported back as
 * scan --cache does, and the input itself imported as a hostile kept form.
 *
 * Input: the volume, then two bytes (at the end, so that a volume is a
 * seed as it is): the first picks the unit size (1 to 8 x 4 KiB), the
 * second which 512-byte sectors are the child's own (not shareable)
 * bytes: with bit 7 set, the sectors s with s % 8 == (its bits 0-2).
 */
#include <stdlib.h>
#include <string.h>

#include "formats/ntfs/ntfs.h"
#include "scanner/checks/bootfiles.h"

#define TOK_BASE 1 /* shareable */
#define TOK_OWN 2  /* not */
#define SLOTS 256

struct slot {
	uint64_t tok;
	uint8_t key[16];
	void *val;
	size_t len;
};

static struct slot cache[SLOTS];
static unsigned nr_slots;

static bool f_shareable(void *ctx, uint64_t tok)
{
	return tok == TOK_BASE;
}

static void *f_get(void *ctx, uint64_t tok, const uint8_t key[16], const void **val, size_t *len)
{
	for (unsigned i = 0; i < nr_slots; i++)
		if (cache[i].tok == tok && !memcmp(cache[i].key, key, 16)) {
			*val = cache[i].val;
			*len = cache[i].len;
			return &cache[i];
		}
	return NULL;
}

static void f_put(void *ctx, void *ref)
{
}

static void f_keep(void *ctx, uint64_t tok, const uint8_t key[16], void *val, size_t len)
{
	const void *old;
	size_t olen;

	if (nr_slots == SLOTS || f_get(ctx, tok, key, &old, &olen)) {
		free(val);
		return;
	}
	cache[nr_slots].tok = tok;
	memcpy(cache[nr_slots].key, key, 16);
	cache[nr_slots].val = val;
	cache[nr_slots].len = len;
	nr_slots++;
}

struct layered {
	struct bsw_src inner; /* the bytes */
	struct bsw_src_mem mem;
	uint8_t own; /* bit 7: some sectors are own; bits 0-2: which */
};

static bool own_sector(const struct layered *l, uint64_t s)
{
	return (l->own & 0x80) && (s & 7) == (l->own & 7);
}

static int64_t f_origin(void *ctx, uint64_t off, uint64_t len, uint64_t *tok, uint64_t *poff)
{
	const struct layered *l = ctx;
	uint64_t end, s;
	bool own;

	*tok = 0;
	*poff = 0;
	if (!len || off >= l->mem.len)
		return 0;
	end = off + len < l->mem.len ? off + len : l->mem.len;
	own = own_sector(l, off / 512);
	for (s = off / 512 + 1; s * 512 < end; s++)
		if (own_sector(l, s) != own)
			break;
	if (s * 512 < end)
		end = s * 512;
	*tok = own ? TOK_OWN : TOK_BASE;
	*poff = off;
	return (int64_t)(end - off);
}

static int64_t f_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct layered *l = ctx;

	return l->inner.pread(l->inner.ctx, buf, len, off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsw_ntfs_share sh = {
		.shareable = f_shareable, .get = f_get, .put = f_put, .keep = f_keep
	};
	struct bsw_ntfs_opts o = { .run_checks = true,
				   .max_records = 1u << 14,
				   .critical = bsw_boot_files,
				   .nr_critical = bsw_nr_boot_files,
				   .share = &sh };
	struct bsw_ntfs *v[2] = { NULL, NULL };
	struct bsw_fx *fx[2] = { NULL, NULL };
	struct layered l;
	struct bsw_src src;
	int rc[2] = { -1, -1 };
	uint8_t key[16];
	uint64_t tok;

	if (size < 2)
		return 0;
	sh.unit_bytes = 4096u * (1 + (data[size - 2] & 7));
	l.own = data[size - 1];
	bsw_src_mem_init(&l.inner, &l.mem, data, size - 2);
	src = (struct bsw_src){
		.pread = f_pread, .origin = f_origin, .ctx = &l, .size = size - 2, .name = "mem"
	};
	for (int i = 0; i < 2; i++) {
		if (bsw_fx_create(&fx[i]))
			goto out;
		rc[i] = bsw_ntfs_open(&v[i], &src, fx[i], &o);
	}
	/* kept units merged must read as the units parsed */
	if (rc[0] != rc[1] || bsw_fx_count(fx[0]) != bsw_fx_count(fx[1]))
		abort();
	if (!rc[0]) {
		if (bsw_ntfs_nr_records(v[0]) != bsw_ntfs_nr_records(v[1]))
			abort();
		for (uint64_t r = 0; r < 16 && r < bsw_ntfs_nr_records(v[1]); r++)
			bsw_ntfs_file_key(v[1], r, NULL, key, &tok, &sh);
		bsw_ntfs_file_key(v[1], 5, "$I30", key, &tok, &sh);
	}
	/* the kept forms as scan --cache writes and reads them back */
	for (unsigned i = 0; i < nr_slots; i++) {
		uint8_t *b;
		size_t blen, klen;
		void *k;

		if (!bsw_ntfs_stream_kept_check(cache[i].val, cache[i].len))
			continue; /* a stream description: portable as it is */
		if (bsw_ntfs_kept_export(cache[i].val, cache[i].len, &b, &blen))
			continue; /* -ENOMEM */
		if (bsw_ntfs_kept_import(b, blen, &k, &klen))
			abort(); /* what export wrote, import must read */
		free(k);
		free(b);
	}
	/* and the input itself as a hostile cache file */
	{
		void *k;
		size_t klen;

		if (!bsw_ntfs_kept_import(data, size, &k, &klen))
			free(k);
		bsw_ntfs_stream_kept_check(data, size);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (!rc[i] && v[i])
			bsw_ntfs_close(v[i]);
		bsw_fx_destroy(fx[i]);
	}
	for (unsigned i = 0; i < nr_slots; i++)
		free(cache[i].val);
	nr_slots = 0;
	return 0;
}
