/* Running out of memory as the parser grows its arrays (sections, keys,
 * diagnostics, drop values): each realloc of a parse fails in turn; the
 * parse says so (-1), frees what it holds, and nothing crashes. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

/* The test's realloc, ahead of libc's (or a sanitizer's): the FAIL_AT-th
 * call from now returns NULL; 0: none fails. */
static long fail_at;
void *realloc(void *p, size_t n)
{
	/* found at the first call: a sanitizer's start-up calls realloc
	 * before the constructors run */
	static void *(*next)(void *, size_t);
	if (!next)
		next = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	if (fail_at && --fail_at == 0) {
		errno = ENOMEM;
		return NULL;
	}
	return next(p, n);
}

/* Enough of each to grow every array past its first size: 24 sections
 * of 3 keys, 24 errors, a drop of 6 values. */
static char *big_config(void)
{
	static char text[16384];
	size_t n = 0;
	for (int i = 0; i < 24; i++)
		n += (size_t)snprintf(
		    text + n, sizeof text - n,
		    "[cache m%d]\nsignature = long m%d(long a, long b, long c, long d, "
		    "long e, long f)\nttl = 5s\nnosuchkey%d = 1\n",
		    i, i, i);
	snprintf(text + n, sizeof text - n,
	         "[invalidate w]\nsignature = int w(long x)\ndrop = m0(x, 1, 2, 3, 4, 5)\n");
	return text;
}

Test(oom, every_failing_realloc_of_a_parse_is_reported)
{
	const char *text = big_config();
	struct parsed whole;
	parse_text(&whole, text);
	cr_assert_eq(whole.rc, 24, "the errors of the text: %d", whole.rc);
	parsed_free(&whole);

	long k;
	for (k = 1;; k++) {
		struct parsed p;
		fail_at = k;
		parse_text(&p, text);
		bool reached = fail_at == 0;
		fail_at = 0;
		if (!reached) {
			cr_expect_eq(p.rc, 24, "no realloc failed: the parse is whole");
			parsed_free(&p);
			break;
		}
		cr_expect_eq(p.rc, -1, "realloc %ld failed, but the parse returned %d", k, p.rc);
		parsed_free(&p);
	}
	cr_expect_gt(k, 8, "the parse grew its arrays %ld times", k - 1);
}
