/*
 * The results file of a sweep (JSON Lines, one object per disk).
 *
 * The rules, after sqlite's (an I/O error never corrupts what was already
 * written): every line goes out in whole-line write(2) calls; a write that
 * fails or comes up short is undone by truncating the file back to the end
 * of the last whole line, so the file holds only whole lines and --resume
 * can complete it; every error is returned, never dropped.  The output is
 * refused when it is (or links to) one of the inputs, a block device, or an
 * existing file that is not a bootsweep JSONL: a mistyped -o never destroys
 * a disk image.
 */
#ifndef BSW_OUT_H
#define BSW_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bsw_out;

/*
 * Open path for results ("-" or NULL: standard output).  inputs (nr of
 * them) are the images of the sweep: an output that is one of them is
 * refused.  append keeps the complete lines already there (--resume; a
 * torn last line is cut off), else an earlier bootsweep JSONL is replaced.
 * On failure returns -errno and a reason in err.
 */
int bsw_out_open(struct bsw_out **out, const char *path, bool append, char *const *inputs,
		 size_t nr, char *err, size_t errlen);

/* Write line (len bytes, no newline) and a newline.  0 or -errno. */
int bsw_out_line(struct bsw_out *o, const char *line, size_t len);

/* Flush to stable storage where that means something, and close.  0 or -errno. */
int bsw_out_close(struct bsw_out *o);

/* The name used in messages ("standard output" or the path). */
const char *bsw_out_name(const struct bsw_out *o);

/*
 * Check that the file at fd is empty or a bootsweep JSONL: its first line
 * is an object whose first member is "image" and which has a "verdict".
 * 0, or -EINVAL with the reason in err.
 */
int bsw_out_check_jsonl(int fd, char *err, size_t errlen);

/*
 * The "image" value of a result line, JSON escapes undone (\udcXX back to
 * the byte it stood for, \u0000 to C0 80): the exact path that was swept.
 * malloc'd; NULL if the line is not a result line.
 */
char *bsw_out_line_image(const char *line, size_t len);

#endif /* BSW_OUT_H */
