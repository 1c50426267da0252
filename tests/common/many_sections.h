/* A config of N sections for the parse-scaling test and bench (issue 16, 3):
 * a quarter [type t_J], half [cache f_I] returning `static t_J*`, a quarter
 * [invalidate g_I] dropping f_(Q+J). Shared so that the test and the bench
 * measure the same text. */
#ifndef LM_TESTS_MANY_SECTIONS_H
#define LM_TESTS_MANY_SECTIONS_H

#include <stdio.h>

static inline void lm_write_many_sections(FILE *f, size_t n)
{
	size_t q = n / 4 ? n / 4 : 1;

	for (size_t i = 0; i < n; i++) {
		size_t j = i % q;
		if (i < q)
			fprintf(f, "[type t_%zu]\nfields = i32 a, i64 b\n\n", j);
		else if (i < 3 * q)
			fprintf(f, "[cache f_%zu]\nsignature = static t_%zu *f_%zu(i32 x)\n\n", i,
			        j, i);
		else
			fprintf(f,
			        "[invalidate g_%zu]\nsignature = void g_%zu(i32 x)\ndrop = "
			        "f_%zu(x)\n\n",
			        i, i, q + j);
	}
}

#endif
