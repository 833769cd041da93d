/*
 * A small JSON reader for bootsweep's own result files (JSON Lines), used
 * by report, diff and merge.  The input is hostile like any other: depth,
 * members and string sizes are capped, every value is checked, and a line
 * that is not valid JSON is an error, never a guess.  Strings are decoded
 * to the bytes bsw_json_str() wrote (\udcXX back to the byte, \u0000 to
 * C0 80), so paths compare byte for byte.
 */
#ifndef BSW_JSON_H
#define BSW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BSW_JSON_MAX_DEPTH 32

enum bsw_jtype {
	BSW_J_NULL,
	BSW_J_BOOL,
	BSW_J_NUM,
	BSW_J_STR,
	BSW_J_ARR,
	BSW_J_OBJ
};

struct bsw_jval {
	enum bsw_jtype type;
	bool b;
	double num;
	char *str;		/* BSW_J_STR: NUL-terminated */
	size_t len;		/* string bytes, or number of items */
	struct bsw_jval *items; /* BSW_J_ARR, BSW_J_OBJ (values) */
	char **keys;		/* BSW_J_OBJ */
};

/*
 * Parse one JSON text of len bytes into *out (free with bsw_json_free).
 * 0, or -EINVAL with the byte offset of the problem in *where, or -ENOMEM.
 */
int bsw_json_parse(const char *text, size_t len, struct bsw_jval *out, size_t *where);
void bsw_json_free(struct bsw_jval *v);

/*
 * The JSON string at s (its opening quote), end its limit: a malloc'd copy
 * of the bytes it stands for in *out (NUL-terminated; *len bytes), *next
 * past the closing quote.  0, -EINVAL (not a valid string) or -ENOMEM.
 */
int bsw_json_string(const char *s, const char *end, char **out, size_t *len, const char **next);

/* Member key of object o, or NULL (also when o is not an object). */
const struct bsw_jval *bsw_jget(const struct bsw_jval *o, const char *key);
/* The string member key of o, or def. */
const char *bsw_jstr(const struct bsw_jval *o, const char *key, const char *def);
/* The number member key of o, or def. */
double bsw_jnum(const struct bsw_jval *o, const char *key, double def);

#endif /* BSW_JSON_H */
