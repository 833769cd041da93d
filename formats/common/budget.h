/*
 * A memory budget for what a parser keeps from one disk (container tables,
 * cached bitmaps, log copies): every allocation sized from on-disk data is
 * charged against it before it is made, so one hostile header cannot make
 * a sweep of many disks allocate gigabytes.
 *
 * Not thread-safe: a budget belongs to the thread that owns the disk.
 */
#ifndef BSW_BUDGET_H
#define BSW_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

/* Per-disk cap used when the caller gives 0 (1 GiB). */
#define BSW_MEM_CAP_DEFAULT (1ull << 30)

struct bsw_budget {
	uint64_t cap; /* bytes; never 0 once initialised */
	uint64_t used;
};

/* cap 0 means BSW_MEM_CAP_DEFAULT. */
static inline void bsw_budget_init(struct bsw_budget *b, uint64_t cap)
{
	b->cap = cap ? cap : BSW_MEM_CAP_DEFAULT;
	b->used = 0;
}

/* Would n more bytes fit?  Does not charge them. */
static inline bool bsw_budget_fits(const struct bsw_budget *b, uint64_t n)
{
	return b->used <= b->cap && n <= b->cap - b->used;
}

/* Charge n bytes; false (nothing charged) if they do not fit. */
static inline bool bsw_budget_take(struct bsw_budget *b, uint64_t n)
{
	if (!bsw_budget_fits(b, n))
		return false;
	b->used += n;
	return true;
}

/* Return n bytes charged earlier. */
static inline void bsw_budget_give(struct bsw_budget *b, uint64_t n)
{
	b->used = n > b->used ? 0 : b->used - n;
}

#endif /* BSW_BUDGET_H */
