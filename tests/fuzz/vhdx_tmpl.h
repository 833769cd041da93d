/*
 * Shared by the template-based VHDX fuzz targets: the 7 MiB templates of
 * tests/unit/vhdx_build.h are built once per process (make() clears 7 MiB
 * and checksums ~150 KiB, which cost more than the parser itself), and each
 * input is applied to that template's working copy, whose touched ranges
 * are put back from the template afterwards (tmpl_restore).  This keeps every run
 * independent of the previous one while copying only what an input changed.
 */
#ifndef BSW_VHDX_TMPL_H
#define BSW_VHDX_TMPL_H

#include <stdlib.h>

#include "../unit/vhdx_build.h"

enum {
	TMPL_DYN,
	TMPL_DIFF,
	TMPL_LOG,
	TMPL_NR
};

static uint8_t *tmpl[TMPL_NR];

/* The template of kind k (built on first use), or NULL on ENOMEM. */
static const uint8_t *tmpl_get(int k)
{
	if (!tmpl[k]) {
		uint8_t *p = malloc(FSIZE);

		if (!p)
			return NULL;
		img = p;
		make(k == TMPL_DIFF, k == TMPL_LOG);
		if (k == TMPL_LOG)
			log_with_bat_update();
		tmpl[k] = p;
	}
	return tmpl[k];
}

/*
 * The working image for template k: img points at it, identical to the
 * template (the caller must restore what it changed with tmpl_restore).
 */
static uint8_t *tmpl_work(int k)
{
	static uint8_t *work[TMPL_NR]; /* one working copy per template */
	const uint8_t *t = tmpl_get(k);

	if (!t)
		return NULL;
	if (!work[k]) {
		if (!(work[k] = malloc(FSIZE)))
			return NULL;
		memcpy(work[k], t, FSIZE);
	}
	img = work[k];
	return img;
}

/* Put [off, off+len) of the working image back from template k. */
static void tmpl_restore(int k, size_t off, size_t len)
{
	memcpy(img + off, tmpl[k] + off, len);
}

#endif
