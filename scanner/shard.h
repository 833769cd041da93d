/*
 * Sweeping a store in parts (docs/cli.md "Parts", docs/scaling.md): the
 * image list of `bootsweep scan` is split into N deterministic parts that
 * keep a family (a base and every differencing child of it) together and
 * are balanced by the bytes each family is estimated to cost.  The index
 * comes from --shard I/N, a Slurm job array or a Kubernetes Indexed Job.
 * Each part writes a sidecar OUT.part.json that `bootsweep merge` checks.
 */
#ifndef BSW_SHARD_H
#define BSW_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bsw_triage_opts;

#define BSW_SHARD_MAX_PARTS 100000u /* N at most */
/*
 * The estimate (docs/scaling.md): a disk costs BSW_SHARD_DISK_COST, the
 * bytes its CPU time is worth (1.17 s a disk at 0.22 GB/s a thread,
 * measured), plus each distinct layer file's size (a VHD/VHDX file holds
 * its allocated blocks) up to BSW_SHARD_LAYER_CAP (a sweep reads a
 * volume's metadata, never all of it: 605 MB of a realistic 4 GiB disk).
 */
#define BSW_SHARD_DISK_COST (256ull << 20)
#define BSW_SHARD_LAYER_CAP (1ull << 30)
#define BSW_SHARD_SCHEMA "bootsweep-part/1"
#define BSW_SHARD_SUFFIX ".part.json"

/* getopt_long values of scan's --shard, --shards and --plan */
#define BSW_SHARD_OPT_SHARD 0x5301
#define BSW_SHARD_OPT_SHARDS 0x5302
#define BSW_SHARD_OPT_PLAN 0x5303

struct bsw_shard_opts {
	long index;  /* --shard I/N: I (0-based), valid when count > 0 */
	long count;  /* --shard I/N: N, 0 unset */
	long shards; /* --shards N, 0 unset */
	bool plan;   /* --plan: print the part(s), do not sweep */
	bool seen;   /* one of the options was given */
};

/*
 * Take one of scan's options (opt is BSW_SHARD_OPT_*, arg its argument).
 * Returns 0, or -EINVAL after saying why on stderr.  so starts zeroed.
 */
int bsw_shard_opt(struct bsw_shard_opts *so, int opt, const char *arg);

/*
 * Called by scan once its image list v[0..*nr) is built.  When a part is
 * in effect (--shard, SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX), says on
 * stderr which rule gave it, plans (or reads the plan BSW_PLAN names),
 * keeps in v only this part's images (the
 * others are free()d, *nr shrinks; v itself is not reallocated) and writes
 * the sidecar outp + BSW_SHARD_SUFFIX.  With --plan prints the part (or
 * every part) on stdout instead.
 * Returns true when scan must stop now and return *status (plan printed,
 * usage or operational error); false to sweep what is left in v.
 */
bool bsw_shard_apply(const struct bsw_shard_opts *so, char **v, size_t *nr, const char *outp,
		     const struct bsw_triage_opts *topts, int *status);

/*
 * "sha256:<hex>" of this program's own executable (the version recorded in
 * a sidecar), in buf; 0 or -errno.
 */
int bsw_shard_build_id(char *buf, size_t len);

#endif /* BSW_SHARD_H */
