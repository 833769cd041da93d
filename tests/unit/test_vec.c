/*
 * formats/common/vec.h: the one growable array.  Growth keeps the
 * elements, the cap refuses past it with -E2BIG and leaves the array as it
 * was, and a reserve within the room allocated does not move the array.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/common/vec.h"
#include "t_helpers.h"

struct elem {
	uint32_t a;
	uint64_t b;
};

int main(void)
{
	struct elem *v = NULL, *was;
	size_t nr = 0, alloc = 0, i;
	char *s = NULL;
	size_t slen = 0;
	int r;

	for (i = 0; i < 1000; i++) {
		r = bsw_vec_reserve(&v, &alloc, nr + 1, sizeof(*v), 1000);
		T_CHECK(r == 0, "reserve %zu: %d", i, r);
		if (r)
			break;
		T_CHECK(alloc >= nr + 1 && alloc <= 1000, "alloc %zu at %zu", alloc, nr);
		v[nr++] = (struct elem){ (uint32_t)i, i * 3 };
	}
	T_CHECK(alloc == 1000, "clamped to the cap: alloc %zu", alloc);
	for (i = 0; i < nr; i++)
		T_CHECK(v[i].a == i && v[i].b == i * 3, "element %zu lost", i);

	/* past the cap: refused, nothing changed */
	was = v;
	r = bsw_vec_reserve(&v, &alloc, nr + 1, sizeof(*v), 1000);
	T_CHECK(r == -E2BIG && v == was && alloc == 1000, "past the cap: %d", r);

	/* within the room: no realloc */
	r = bsw_vec_reserve(&v, &alloc, 10, sizeof(*v), 1000);
	T_CHECK(r == 0 && v == was, "within the room moved the array");

	/* no cap: only size_t limits; an absurd need is -ENOMEM, not a wrap */
	r = bsw_vec_reserve(&s, &slen, SIZE_MAX / 2 + 2, 4, 0);
	T_CHECK(r == -ENOMEM && !s && !slen, "SIZE_MAX need: %d", r);
	r = bsw_vec_reserve(&s, &slen, 5, 1, 0);
	T_CHECK(r == 0 && s && slen >= 5, "bytes: %d", r);

	free(v);
	free(s);
	return T_DONE();
}
