/*
 * The shared state of one disk's checks (struct bsw_tctx, triage.h): the
 * per-disk limits (time, bytes), the boot files the boot stage names, and
 * the file helpers every stage uses (exists / is a PE, read whole under
 * the memory budget).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "formats/pe/pe.h"
#include "scanner/checks/triage.h"
#include "scanner/share.h"

uint64_t bsw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool bsw_tctx_over(struct bsw_tctx *t)
{
	if (t->limited)
		return true;
	/* an I/O error stops the disk like a FATAL finding: what follows
	 * could only judge bytes that were not read (DISK-IO at the end) */
	if (t->d && bsw_disk_io_error(t->d, NULL))
		return true;
	/* SIGINT does not stop a disk in flight: its line is finished */
	if (t->o->timeout_s && bsw_now_ms() - t->t0_ms > (uint64_t)t->o->timeout_s * 1000) {
		BSW_REPORT(t->fx, PR_0_LIMIT_TIME, .n = t->o->timeout_s);
		t->limited = true;
	} else if (t->o->max_bytes && t->d && bsw_disk_bytes_read(t->d) >= t->o->max_bytes) {
		BSW_REPORT(t->fx, PR_0_LIMIT_BYTES, .n = (int64_t)t->o->max_bytes);
		t->limited = true;
	}
	return t->limited;
}

/* A read that failed on the byte budget is a limit, not corruption. */
void bsw_tctx_note_budget(struct bsw_tctx *t, int r)
{
	if (r == -EFBIG && t->o->max_bytes && !t->limited &&
	    bsw_disk_bytes_read(t->d) + (1u << 20) >= t->o->max_bytes) {
		BSW_REPORT(t->fx, PR_0_LIMIT_BYTES, .n = (int64_t)t->o->max_bytes);
		t->limited = true;
	}
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

void bsw_tctx_add_bootfile(struct bsw_tctx *t, const char *path)
{
	char **nb;
	char *c;

	if (t->nr_bootfiles >= BSW_MAX_BOOTFILES || bsw_tctx_is_bootfile(t, path))
		return;
	nb = realloc(t->bootfiles, (t->nr_bootfiles + 1) * sizeof(*nb));
	if (!nb)
		return;
	t->bootfiles = nb;
	c = strdup(path);
	if (!c)
		return;
	lower(c);
	t->bootfiles[t->nr_bootfiles++] = c;
}

bool bsw_tctx_is_bootfile(const struct bsw_tctx *t, const char *path)
{
	unsigned i;

	for (i = 0; i < t->nr_bootfiles; i++)
		if (!strcasecmp(t->bootfiles[i], path))
			return true;
	return false;
}

const char *bsw_check_file(struct bsw_tctx *t, const char *path, bool pe, uint64_t *recp)
{
	struct bsw_ntfs_stat st;
	uint8_t hdr[1024];
	struct bsw_pe ph;
	uint64_t rec;
	int64_t n;

	if (bsw_ntfs_lookup(t->v, path, &rec))
		return "missing";
	if (recp)
		*recp = rec;
	if (bsw_ntfs_stat(t->v, rec, &st))
		return "missing (record not in use)";
	if (st.rflags & BSW_NTFS_R_TORN)
		return "in a torn MFT record (update sequence mismatch)";
	if (st.rflags & BSW_NTFS_R_BAD)
		return "in a corrupt MFT record";
	if (st.rflags & BSW_NTFS_R_DIR)
		return "a directory";
	/* WOF-compressed (CompactOS) files are read through the decoder of
	 * their WofCompressedData stream like any other file */
	if (!st.size)
		return "empty (0 bytes)";
	if (!pe)
		return NULL;
	n = bsw_ntfs_read(t->v, rec, NULL, hdr, sizeof(hdr), 0);
	if (n == -EOPNOTSUPP) {
		/* cannot tell whether it is a PE: say so, do not guess */
		BSW_REPORT(
			t->fx, PR_SXS_2_UNDECODED, .str = path, .rec = rec,
			.str2 = "EFS encryption, a WOF provider or algorithm other than the file provider's XPRESS 4K/8K/16K and LZX, or an unsupported compression unit");
		return NULL;
	}
	if (n < 0) {
		bsw_tctx_note_budget(t, (int)n);
		return "unreadable";
	}
	/*
	 * The file fails on a missing MZ or PE signature.  Only its first
	 * KiB was read, so a signature past it (BSW_PE_TRUNCATED) cannot be
	 * judged and passes; the headers after the signature are not judged.
	 */
	switch (bsw_pe_parse(hdr, (size_t)n, &ph)) {
	case BSW_PE_NO_MZ:
	case BSW_PE_NO_PE_SIG: return bsw_pe_status_str(ph.status);
	default: return NULL;
	}
}

/* Read a whole file of the Windows volume under the memory budget. */
int bsw_tctx_read(struct bsw_tctx *t, struct bsw_ntfs *v, const char *path, uint8_t **data,
		  size_t *len, size_t max)
{
	struct bsw_ntfs_stat st;
	uint64_t rec;
	int r;

	*data = NULL;
	*len = 0;
	if (bsw_ntfs_lookup(v, path, &rec))
		return -ENOENT;
	if (bsw_ntfs_stat(v, rec, &st))
		return -ENOENT;
	if (st.size > max)
		return -EFBIG;
	bsw_mem_acquire(st.size);
	r = bsw_ntfs_read_all(v, rec, NULL, data, len, max);
	if (r) {
		bsw_mem_release(st.size);
		bsw_tctx_note_budget(t, r);
		return r;
	}
	if (*len != st.size) {
		bsw_mem_release(st.size);
		bsw_mem_acquire(*len);
	}
	return 0;
}

void bsw_tctx_free(uint8_t *data, size_t len)
{
	if (!data)
		return;
	free(data);
	bsw_mem_release(len);
}

uint64_t bsw_tctx_share_key(struct bsw_tctx *t, uint64_t rec, unsigned kind, uint32_t extra,
			    struct bsw_share_key *key)
{
	uint64_t tok = 0;

	memset(key, 0, sizeof(*key));
	if (!t->can_share || !t->stage || !(t->stage->share & (1u << kind)) || !t->v)
		return 0;
	if (bsw_ntfs_file_key(t->v, rec, NULL, key->file, &tok, bsw_tctx_rec_share(t)) || !tok ||
	    !bsw_share_is_parent(tok))
		return 0;
	key->extra = extra;
	return tok;
}
