/*
 * bootsweep's NTFS reader: the handle, the pass table and the driver that
 * runs it (e2fsck's e2fsck_passes[] and e2fsck_run), and the accessors.
 *
 * The passes, one file each (their heads list what each tests and
 * collects); they run in this order:
 *
 *	boot		ntfs_boot.c	boot sector and its backup (pass 0)
 *	records		ntfs_records.c	the $MFT scan: fixups, attributes,
 *					runlists, names, cluster bitmap (pass 1)
 *	names		ntfs_names.c	the namespace and $UpCase
 *	damage		ntfs_damage.c	torn/corrupt records with their paths
 *	attrlist	ntfs_attrlist.c	$ATTRIBUTE_LIST of records 0-31
 *	paths		ntfs_paths.c	parent-reference loops
 *	mftmirr		ntfs_mftmirr.c	$MFTMirr against $MFT
 *	volume		ntfs_volume.c	$Volume flags
 *	logfile		ntfs_logfile.c	$LogFile restart pages
 *	hiberfil	ntfs_hiberfil.c	\hiberfil.sys
 *	bitmap		ntfs_bitmap.c	$Bitmap against the computed bitmap
 *	sysfiles	ntfs_sysfiles.c	system-file plausibility
 *	i30		ntfs_i30.c	$I30 of the directories of critical files
 *
 * The first three make the volume readable and always run; the others are
 * checks and run with opts.run_checks.  File data is read by ntfs_read.c
 * with the compression files ntfs_lznt1.c and ntfs_wof.c; ntfs_share.c
 * keys a file's data, and a unit of MFT records, for sharing across
 * layers; ntfs_parse.c holds the
 * pure parsers.  To add a pass: one file, one row below
 * (docs/ntfs.md, "How to add a pass").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/ntfs/ntfs_internal.h"

const struct bsw_ntfs_pass bsw_ntfs_passes[] = {
	{ "boot", bsw_ntfs_pass_boot, 0 },
	{ "records", bsw_ntfs_pass_records, 0 },
	{ "names", bsw_ntfs_pass_names, 0 },
	{ "damage", bsw_ntfs_pass_damage, NTFS_PASS_CHECK },
	{ "attrlist", bsw_ntfs_pass_attrlist, NTFS_PASS_CHECK },
	{ "paths", bsw_ntfs_pass_paths, NTFS_PASS_CHECK },
	{ "mftmirr", bsw_ntfs_pass_mftmirr, NTFS_PASS_CHECK },
	{ "volume", bsw_ntfs_pass_volume, NTFS_PASS_CHECK },
	{ "logfile", bsw_ntfs_pass_logfile, NTFS_PASS_CHECK },
	{ "hiberfil", bsw_ntfs_pass_hiberfil, NTFS_PASS_CHECK },
	{ "bitmap", bsw_ntfs_pass_bitmap, NTFS_PASS_CHECK },
	{ "sysfiles", bsw_ntfs_pass_sysfiles, NTFS_PASS_CHECK },
	{ "i30", bsw_ntfs_pass_i30, NTFS_PASS_CHECK },
	{ NULL, NULL, 0 }
};

/*
 * Run the passes.  The stop rule, once, between passes: after a FATAL
 * finding of this volume no further pass runs; the volume is returned when
 * only checks were left, else it cannot be used (-EIO).  Findings the
 * collector held before this open do not stop it.
 */
static int run_passes(struct bsw_ntfs *v)
{
	const struct bsw_ntfs_pass *p;
	bool was_stopped = bsw_fx_stopped(v->fx);
	int ret;

	for (p = bsw_ntfs_passes; p->name; p++) {
		if ((p->flags & NTFS_PASS_CHECK) && !v->o.run_checks)
			continue;
		if (!was_stopped && bsw_fx_stopped(v->fx)) {
			for (; p->name; p++)
				if (!(p->flags & NTFS_PASS_CHECK))
					return -EIO;
			return 0;
		}
		ret = p->run(v);
		if (ret)
			return ret;
	}
	return 0;
}

int bsw_ntfs_open(struct bsw_ntfs **out, const struct bsw_src *vol, struct bsw_fx *fx,
		  const struct bsw_ntfs_opts *o)
{
	struct bsw_ntfs *v;
	int ret;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->src = vol;
	v->fx = fx;
	if (o)
		v->o = *o;
	ret = run_passes(v);
	/* the caller's list and share are borrowed for the open only */
	v->o.critical = NULL;
	v->o.nr_critical = 0;
	v->o.share = NULL;
	if (ret) {
		bsw_ntfs_close(v);
		return ret;
	}
	*out = v;
	return 0;
}

void bsw_ntfs_close(struct bsw_ntfs *v)
{
	if (!v)
		return;
	bsw_ntfs_stream_free(&v->cache);
	bsw_ntfs_wof_free(v);
	bsw_ntfs_runs_free(&v->mft_runs);
	free(v->recs);
	free(v->mirr_raw);
	free(v->names);
	free(v->pool);
	free(v->upool);
	free(v->kids);
	free(v->dir_first);
	for (unsigned i = 0; i < v->nr_dindex; i++)
		free(v->dindex[i].slot);
	free(v->upcase);
	free(v->issues);
	free(v->cbmap);
	free(v->crit);
	free(v);
}

uint32_t bsw_ntfs_cluster_size(const struct bsw_ntfs *v)
{
	return v->bs.cluster;
}

uint32_t bsw_ntfs_record_size(const struct bsw_ntfs *v)
{
	return v->bs.rec_size;
}

uint64_t bsw_ntfs_nr_records(const struct bsw_ntfs *v)
{
	return v->nr_recs;
}

uint64_t bsw_ntfs_serial(const struct bsw_ntfs *v)
{
	return v->bs.serial;
}

uint64_t bsw_ntfs_bytes_read(const struct bsw_ntfs *v)
{
	return v->bytes_read;
}

int bsw_ntfs_stat(struct bsw_ntfs *v, uint64_t rec, struct bsw_ntfs_stat *st)
{
	const struct ntfs_rsum *s;

	if (rec >= v->nr_recs)
		return -ENOENT;
	s = &v->recs[rec];
	if (!(s->rflags & BSW_NTFS_R_INUSE))
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	st->rec = rec;
	st->seq = s->seq;
	st->link_count = s->links;
	st->nr_names = s->nr_vis;
	st->rflags = s->rflags & 0x1FF;
	st->size = s->size;
	st->alloc_size = s->alloc;
	st->reparse_tag = s->reparse_tag;
	return 0;
}
