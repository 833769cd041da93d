/*
 * The checks of one disk run from one table (e2fsck's e2fsck_passes[]):
 * each stage has a name, its function, what it needs, and the member of
 * "timings_ms" its time goes to.  One driver runs them, applies the stop
 * rule (a FATAL finding, an I/O error, the per-disk time or byte limit)
 * between stages, and times them; then the disk is classified and its
 * line rendered (scanner/report.c) while it is still open.
 *
 * Adding a check: docs/adding-a-check.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/common/bytes.h"
#include "scanner/checks/identity.h"
#include "scanner/checks/triage.h"
#include "scanner/share.h"

/*
 * needs: BSW_NEED_DISK   the disk is open and not yet decided;
 *        BSW_NEED_VOLUME the Windows volume, or the evidence of a damaged
 *                        one (t->v or t->evidence);
 *        BSW_NEED_WINDOWS the Windows volume (t->v).
 */
static const struct bsw_stage stages[] = {
	{ .name = "disk", .run = bsw_stage_disk, .needs = BSW_NEED_DISK, .timing = -1 },
	{ .name = "volume",
	  .run = bsw_stage_volume,
	  .needs = BSW_NEED_DISK,
	  .timing = BSW_T_NTFS,
	  .share = 1u << BSW_SHARE_MFT },
	{ .name = "ntfs3g",
	  .run = bsw_stage_ntfs3g,
	  .needs = BSW_NEED_VOLUME,
	  .flags = BSW_STAGE_AFTER_STOP,
	  .timing = BSW_T_NTFS },
	{ .name = "hives",
	  .run = bsw_stage_hives,
	  .needs = BSW_NEED_WINDOWS,
	  .timing = BSW_T_HIVES,
	  .share = 1u << BSW_SHARE_HIVE },
	{ .name = "boot", .run = bsw_check_boot, .needs = BSW_NEED_WINDOWS, .timing = BSW_T_BOOT },
	{ .name = "servicing",
	  .run = bsw_check_servicing,
	  .needs = BSW_NEED_WINDOWS,
	  .timing = BSW_T_SERVICING },
	{ .name = "winsxs",
	  .run = bsw_check_sxs,
	  .needs = BSW_NEED_WINDOWS,
	  .timing = BSW_T_SXS,
	  .share = 1u << BSW_SHARE_DIGEST | 1u << BSW_SHARE_MANIFEST },
	{ .name = "inventory",
	  .run = bsw_inv_collect,
	  .needs = BSW_NEED_WINDOWS,
	  .flags = BSW_STAGE_AFTER_STOP,
	  .timing = -1 },
};

const char *const bsw_timing_names[BSW_T_COUNT] = {
	[BSW_T_OPEN] = "open", [BSW_T_NTFS] = "ntfs",		[BSW_T_HIVES] = "hives",
	[BSW_T_BOOT] = "boot", [BSW_T_SERVICING] = "servicing", [BSW_T_SXS] = "sxs",
};

const struct bsw_stage *bsw_stage_table(unsigned *nr)
{
	*nr = BSW_ARRAY_SIZE(stages);
	return stages;
}

static bool stage_ready(const struct bsw_tctx *t, const struct bsw_stage *s)
{
	if ((s->needs & BSW_NEED_DISK) && (!t->d || t->decided))
		return false;
	if ((s->needs & BSW_NEED_VOLUME) && !t->v && !t->evidence)
		return false;
	if ((s->needs & BSW_NEED_WINDOWS) && !t->v)
		return false;
	return true;
}

static void run_stages(struct bsw_tctx *t)
{
	unsigned i;

	for (i = 0; i < BSW_ARRAY_SIZE(stages); i++) {
		const struct bsw_stage *s = &stages[i];
		uint64_t t0;

		if (!stage_ready(t, s))
			continue;
		/* the stop rule: what follows a FATAL finding, an I/O error
		 * or a spent limit could only judge bytes never read */
		if (!(s->flags & BSW_STAGE_AFTER_STOP) &&
		    (bsw_fx_stopped(t->fx) || bsw_tctx_over(t)))
			continue;
		t0 = bsw_now_ms();
		t->stage = s;
		s->run(t);
		t->stage = NULL;
		if (s->timing >= 0)
			t->ms[s->timing] += bsw_now_ms() - t0;
	}
}

/*
 * The disk had an I/O error (docs/classifier.md, "I/O errors"): the
 * findings reported after it may have been derived from bytes that never
 * arrived, so they go; those before it stay; one DISK-IO names the layer,
 * the offset and the errno, and the result carries the error (the
 * operational-error bit of scan's exit status).
 */
static void io_verdict(struct bsw_fx *fx, const struct bsw_disk_ioerr *e,
		       struct bsw_triage_result *res)
{
	static const char pfx[] = "I/O error: ";
	char *why = res->errmsg + sizeof(pfx) - 1;

	bsw_fx_drop_after(fx, e->tick);
	memcpy(res->errmsg, pfx, sizeof(pfx) - 1);
	bsw_disk_ioerr_str(e, why, sizeof(res->errmsg) - (sizeof(pfx) - 1));
	BSW_REPORT(fx, PR_0_DISK_IO, .n = e->layer, .n2 = -e->err, .off = e->file_off, .str = why,
		   .str2 = e->path);
	res->error = e->err;
}

int bsw_triage_disk(const char *path, const struct bsw_triage_opts *o, struct bsw_fx *fx,
		    struct bsw_triage_result *res)
{
	struct bsw_disk_ioerr ioe = { 0 };
	struct bsw_disk_opts dopts = { .max_bytes = o->max_bytes,
				       .ioerr = &ioe,
				       .mem_cap = o->mem_cap };
	struct bsw_tctx t = { .o = o, .fx = fx };
	const char **codes = NULL;
	unsigned nr_codes = 0, i;
	char *buf = NULL;
	size_t blen = 0;
	FILE *mem;
	int r;

	memset(res, 0, sizeof(*res));
	t.store = &res->store;
	t.t0_ms = bsw_now_ms();
	r = bsw_disk_open(&t.d, path, &dopts, fx, res->errmsg, sizeof(res->errmsg));
	t.ms[BSW_T_OPEN] = bsw_now_ms() - t.t0_ms;
	if (r && ioe.err) {
		/* the container or partition table could not be read */
		t.d = NULL;
		io_verdict(fx, &ioe, res);
	} else if (r) {
		res->error = r;
		if (!res->errmsg[0])
			snprintf(res->errmsg, sizeof(res->errmsg), "%s", strerror(-r));
		BSW_REPORT(fx, PR_0_IMAGE_UNREADABLE, .str = res->errmsg);
		t.d = NULL;
	} else {
		/* worth a share key only if some layer is read by other disks */
		t.can_share = !o->no_share && bsw_share_enabled() &&
			      (bsw_disk_nr_layers(t.d) > 1 ||
			       bsw_share_is_parent(bsw_disk_layer_token(t.d, 0)));
		run_stages(&t);
		if (!t.limited)
			bsw_tctx_over(&t); /* a budget hit in the last stage */
		res->bytes_read = bsw_disk_bytes_read(t.d);
		if (bsw_disk_io_error(t.d, &ioe))
			io_verdict(fx, &ioe, res);
	}
	bsw_fx_finish(fx);
	res->verdict = bsw_classify(fx, &codes, &nr_codes);
	res->ms_total = bsw_now_ms() - t.t0_ms;

	mem = open_memstream(&buf, &blen);
	if (mem) {
		bsw_triage_render(mem, &t, path, res, codes, nr_codes);
		fclose(mem);
		res->json = buf;
		res->rule_bits = t.rule_bits;
	}
	bsw_inv_free(&t);
	free(codes);
	bsw_hive_free(t.system);
	bsw_hive_free(t.software);
	bsw_hive_free(t.components);
	for (i = 0; i < t.nr_refs; i++) /* after the clones that read them */
		bsw_share_unref(t.refs[i]);
	if (t.v)
		bsw_ntfs_close(t.v);
	if (t.d)
		bsw_disk_close(t.d);
	for (i = 0; i < t.nr_bootfiles; i++)
		free(t.bootfiles[i]);
	free(t.bootfiles);
	return res->json ? 0 : -ENOMEM;
}

void bsw_triage_result_free(struct bsw_triage_result *res)
{
	free(res->json);
	res->json = NULL;
}
