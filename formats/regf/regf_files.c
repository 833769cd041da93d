/*
 * A hive and its transaction logs read as files through the caller's
 * callback (an NTFS volume, a FAT system partition, a directory): the one
 * place that knows the logs' names, reads them under a size cap and hands
 * everything to bsw_hive_load_take().  No I/O of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/regf/regf.h"

/* Windows Vista and later: SYSTEM.LOG1 and SYSTEM.LOG2 beside SYSTEM. */
static const char *const log_sfx[] = { ".LOG1", ".LOG2" };
#define NR_DEFAULT_LOGS (sizeof(log_sfx) / sizeof(log_sfx[0]))

/* What findings call a log: its name without the directory part. */
static const char *shown(const char *name)
{
	const char *s = strrchr(name, '/'), *b = strrchr(name, '\\');

	if (b && (!s || b > s))
		s = b;
	return s ? s + 1 : name;
}

static void put(const struct bsw_hive_files *f, uint8_t *d, size_t len)
{
	free(d);
	if (f->release)
		f->release(f->ctx, len);
}

/* f->read, with its contract enforced: nothing larger than the cap. */
static int get(const struct bsw_hive_files *f, const char *name, uint8_t **d, size_t *len)
{
	int rc;

	*d = NULL;
	*len = 0;
	rc = f->read(f->ctx, name, f->max, d, len);
	if (rc) {
		*d = NULL;
		return rc;
	}
	if (*len > f->max) {
		put(f, *d, *len);
		*d = NULL;
		return -EFBIG;
	}
	return 0;
}

int bsw_hive_load_files(struct bsw_hive **out, const struct bsw_hive_files *f, struct bsw_fx *fx,
			int *failed)
{
	char *defname[NR_DEFAULT_LOGS] = { NULL };
	uint8_t *ld[BSW_HIVE_MAX_LOGS], *prim = NULL;
	size_t ll[BSW_HIVE_MAX_LOGS], plen = 0;
	struct bsw_buf logs[BSW_HIVE_MAX_LOGS];
	unsigned n, nr = 0, i;
	int rc, fail = -1;
	char *prev;

	*out = NULL;
	rc = get(f, f->name, &prim, &plen);
	if (rc) {
		fail = 0;
		goto out;
	}
	n = f->logs ? f->nr_logs : NR_DEFAULT_LOGS;
	if (n > BSW_HIVE_MAX_LOGS)
		n = BSW_HIVE_MAX_LOGS;
	for (i = 0; i < n; i++) {
		const char *ln;
		int r;

		if (f->logs) {
			ln = f->logs[i];
			if (!ln)
				continue; /* a hole in the caller's list */
		} else {
			size_t sz = strlen(f->name) + strlen(log_sfx[i]) + 1;

			defname[i] = malloc(sz);
			if (!defname[i]) {
				rc = -ENOMEM;
				goto out;
			}
			snprintf(defname[i], sz, "%s%s", f->name, log_sfx[i]);
			ln = defname[i];
		}
		r = get(f, ln, &ld[nr], &ll[nr]);
		if (r && f->logs_required) {
			rc = r;
			fail = 1 + (int)i;
			goto out;
		}
		if (r)
			continue; /* absent or unreadable: replay without it */
		logs[nr] = (struct bsw_buf){ ld[nr], ll[nr], shown(ln) };
		nr++;
	}
	prev = f->scope ? bsw_fx_push_scope(fx, f->scope) : NULL;
	rc = bsw_hive_load_take(out, prim, plen, logs, nr, fx);
	if (f->scope)
		bsw_fx_restore_scope(fx, prev);
	if (f->release)
		f->release(f->ctx, plen); /* the hive's now, or freed */
	prim = NULL;
out:
	if (prim)
		put(f, prim, plen);
	for (i = 0; i < nr; i++)
		put(f, ld[i], ll[i]);
	for (i = 0; i < NR_DEFAULT_LOGS; i++)
		free(defname[i]);
	if (failed)
		*failed = fail;
	return rc;
}
