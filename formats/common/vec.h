/*
 * The one growable array of the program: bsw_vec_reserve() makes room for
 * need elements, doubling, and refuses past a cap, so that a count read
 * from a hostile image can never ask for unbounded memory.
 *
 *	struct foo *v = NULL; size_t nr = 0, alloc = 0;
 *	if (bsw_vec_reserve(&v, &alloc, nr + 1, sizeof(*v), MAX_FOO))
 *		return -ENOMEM;
 *	v[nr++] = x;
 */
#ifndef BSW_VEC_H
#define BSW_VEC_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Grow *pv (an array of esz-byte elements with *alloc of them) to hold at
 * least need; max caps the element count (0: only the size_t limit).
 * 0, -E2BIG past the cap, or -ENOMEM; *pv is unchanged on failure.
 */
static inline int bsw_vec_reserve(void *pv, size_t *alloc, size_t need, size_t esz, size_t max)
{
	void **v = pv, *n;
	size_t nc;

	if (need <= *alloc)
		return 0;
	if (max && need > max)
		return -E2BIG;
	nc = *alloc ? *alloc : 8;
	while (nc < need)
		nc = nc > SIZE_MAX / 2 ? need : nc * 2;
	if (max && nc > max)
		nc = max;
	if (nc > SIZE_MAX / esz)
		return -ENOMEM;
	n = realloc(*v, nc * esz);
	if (!n)
		return -ENOMEM;
	*v = n;
	*alloc = nc;
	return 0;
}

#endif /* BSW_VEC_H */
