/* Shared helpers for the unit tests: exit codes and assertions. */
#ifndef BSW_T_HELPERS_H
#define BSW_T_HELPERS_H

#include <stdio.h>
#include <stdlib.h>

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

static int t_failures;

#define T_CHECK(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			t_failures++;                                                              \
		}                                                                                  \
	} while (0)

#define T_DONE()                                                                                   \
	(t_failures ? (fprintf(stderr, "%d checks failed\n", t_failures), T_EXIT_FAIL) :           \
		      T_EXIT_PASS)

#endif /* BSW_T_HELPERS_H */
