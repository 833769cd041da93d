/*
 * NTFS index pass: the $I30 index of each directory on the way to a
 * critical file (the root, then the directories bsw_ntfs_crit_dirs lists)
 * against the namespace the names pass built from $FILE_NAME.  Other
 * directories are trusted to that namespace.
 *
 * Tests: the index root and every in-use INDX block of the directory
 * parse (fixups, entry bounds; NTFS-META index bad); for each critical
 * child of the directory (critical files and directories), an index entry
 * naming it must exist when the namespace has the child (NTFS-META index
 * missing) and must point at an in-use record of the same sequence
 * (NTFS-META index stale).
 *
 * Collects: nothing (each directory's entries are freed after it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/common/bytes.h"
#include "formats/common/utf8.h"
#include "formats/common/vec.h"
#include "formats/ntfs/ntfs_internal.h"

struct ie {
	uint64_t mref;
	uint16_t name[255]; /* UTF-16LE units */
	uint8_t len, ns;
};

struct ie_set {
	struct ie *e;
	size_t nr, alloc;
};

static int ie_collect(void *arg, uint64_t mref, const uint8_t *key, uint32_t klen, uint16_t flags,
		      uint64_t sub)
{
	struct ie_set *s = arg;
	struct ie *e;

	if (klen < 0x42 || 0x42u + 2u * key[0x40] > klen)
		return 0;
	if (bsw_vec_reserve(&s->e, &s->alloc, s->nr + 1, sizeof(*s->e), BSW_NTFS_MAX_INDEX))
		return s->nr < BSW_NTFS_MAX_INDEX ? -ENOMEM : -E2BIG;
	e = &s->e[s->nr++];
	e->mref = mref;
	e->len = key[0x40];
	e->ns = key[0x41] & 3;
	memcpy(e->name, key + 0x42, 2u * e->len); /* UTF-16LE as on disk */
	return 0;
}

/* Read every in-use entry of dir's $I30 into s; NULL or why it failed. */
static const char *read_i30(struct bsw_ntfs *v, uint64_t dir, struct ie_set *s)
{
	struct ntfs_stream root, alloc, bmp;
	const char *why = NULL;
	uint32_t bs = 0;
	uint8_t *blk = NULL, *bits = NULL;
	uint64_t nblk, i;
	int ret;

	if (bsw_ntfs_load_stream(v, dir, NTFS_AT_INDEX_ROOT, "$I30", &root))
		return "no $INDEX_ROOT";
	if (!root.resident) {
		bsw_ntfs_stream_free(&root);
		return "$INDEX_ROOT not resident";
	}
	ret = bsw_ntfs_parse_index_root(root.res, root.res_len, &bs, ie_collect, s, &why);
	bsw_ntfs_stream_free(&root);
	if (ret)
		return why ? why : "index root unreadable";
	if (bsw_ntfs_load_stream(v, dir, NTFS_AT_INDEX_ALLOC, "$I30", &alloc))
		return NULL; /* small directory: the root holds it all */
	if (bs < 512 || bs > (1u << 16) || (bs & (bs - 1))) {
		why = "index block size invalid";
		goto out_alloc;
	}
	if (bsw_ntfs_load_stream(v, dir, NTFS_AT_BITMAP, "$I30", &bmp)) {
		why = "$INDEX_ALLOCATION without $BITMAP";
		goto out_alloc;
	}
	nblk = alloc.size / bs;
	if (nblk > BSW_NTFS_MAX_INDEX)
		nblk = BSW_NTFS_MAX_INDEX;
	bits = calloc(nblk / 8 + 1, 1);
	blk = malloc(bs);
	if (!bits || !blk) {
		why = "out of memory";
		goto out;
	}
	bsw_ntfs_stream_pread(v, &bmp, bits, (size_t)BSW_MIN(nblk / 8 + 1, bmp.size), 0);
	for (i = 0; i < nblk; i++) {
		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		if (bsw_ntfs_stream_pread(v, &alloc, blk, bs, i * bs) != (int64_t)bs) {
			why = "index block unreadable";
			break;
		}
		if (bsw_ntfs_parse_indx(blk, bs, ie_collect, s, &why)) {
			if (!why)
				why = "index block invalid";
			break;
		}
	}
out:
	free(bits);
	free(blk);
	bsw_ntfs_stream_free(&bmp);
out_alloc:
	bsw_ntfs_stream_free(&alloc);
	return why;
}

static bool ie_name_eq(const struct ie *e, const char *name)
{
	char tmp[1024];

	bsw_utf16le_to_utf8(e->name, e->len, tmp, sizeof(tmp), 0);
	return !strcasecmp(tmp, name);
}

/* One directory being checked, and its index entries. */
struct i30_dir {
	struct bsw_ntfs *v;
	const char *dpath;
	size_t dl;
	struct ie_set s;
};

/* If p (a critical file or directory) is a child of the directory, its entry must be right. */
static int check_child(void *arg, const char *p)
{
	struct i30_dir *d = arg;
	struct bsw_ntfs *v = d->v;
	const char *name;
	uint64_t child;
	size_t k;
	bool found = false;
	char cpath[512];

	if (p[0] != '\\' || !p[1])
		return 0; /* relative, or the root itself */
	/* is p a direct child of dpath? */
	if (!strcmp(d->dpath, "\\")) {
		if (strchr(p + 1, '\\'))
			return 0;
		name = p + 1;
	} else {
		if (strncasecmp(p, d->dpath, d->dl) || p[d->dl] != '\\' ||
		    strchr(p + d->dl + 1, '\\'))
			return 0;
		name = p + d->dl + 1;
	}
	snprintf(cpath, sizeof(cpath), "%s", p);
	for (k = 0; k < d->s.nr; k++) {
		const struct ie *e = &d->s.e[k];
		uint64_t er = NTFS_MREF_REC(e->mref);
		uint16_t es = NTFS_MREF_SEQ(e->mref);

		if (e->ns == 2 || !ie_name_eq(e, name))
			continue;
		found = true;
		if (er >= v->nr_recs || !(v->recs[er].rflags & BSW_NTFS_R_INUSE) ||
		    (es && es != v->recs[er].seq))
			BSW_REPORT(v->fx, PR_NTFS_2_I30_STALE, .rec = er, .str = d->dpath,
				   .str2 = name, .n = es,
				   .n2 = er < v->nr_recs ? v->recs[er].seq : 0);
		break;
	}
	if (!found && !bsw_ntfs_lookup(v, cpath, &child))
		BSW_REPORT(v->fx, PR_NTFS_2_I30_MISSING, .rec = child, .str = d->dpath,
			   .str2 = name);
	return 0;
}

static int check_dir(void *arg, const char *dpath)
{
	struct bsw_ntfs *v = arg;
	struct i30_dir d = { .v = v, .dpath = dpath, .dl = strlen(dpath) };
	const char *why;
	uint64_t dir;
	unsigned i;

	if (bsw_ntfs_lookup(v, dpath, &dir))
		return 0;
	why = read_i30(v, dir, &d.s);
	if (why) {
		BSW_REPORT(v->fx, PR_NTFS_2_I30_BAD, .rec = dir, .str = dpath, .str2 = why);
		free(d.s.e);
		return 0;
	}
	/* the children that matter: the critical files, then the directories */
	for (i = 0; i < v->o.nr_critical; i++)
		if (v->o.critical[i])
			check_child(&d, v->o.critical[i]);
	bsw_ntfs_crit_dirs(v, check_child, &d);
	free(d.s.e);
	return 0;
}

int bsw_ntfs_pass_i30(struct bsw_ntfs *v)
{
	bsw_ntfs_crit_dirs(v, check_dir, v);
	return 0;
}
