/* The distinct-key sketch: its estimate within 10% of the truth on known
 * key sets, from a handful of keys to a million, and the union of two. */
#include <criterion/criterion.h>
#include <xxhash.h>

#include "shim/profile/sketch.h"

static double estimate_of(uint64_t first, uint64_t n, uint64_t repeat)
{
	struct lm_sketch s = {0};
	for (uint64_t r = 0; r < repeat; r++)
		for (uint64_t k = first; k < first + n; k++)
			lm_sketch_add(&s, XXH3_64bits(&k, sizeof k));
	return lm_sketch_estimate(&s);
}

Test(sketch, empty_is_zero)
{
	struct lm_sketch s = {0};
	cr_assert_lt(lm_sketch_estimate(&s), 0.5);
}

Test(sketch, within_ten_percent)
{
	static const uint64_t sizes[] = {1, 10, 80, 1000, 5000, 20000, 100000, 1000000};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		uint64_t n = sizes[i];
		double e = estimate_of(1000, n, n <= 1000 ? 5 : 1);
		cr_expect(e >= 0.9 * (double)n && e <= 1.1 * (double)n,
		          "%llu distinct keys estimated as %.1f", (unsigned long long)n, e);
	}
}

Test(sketch, repeats_do_not_count)
{
	double once = estimate_of(0, 3000, 1), many = estimate_of(0, 3000, 20);
	cr_assert_float_eq(once, many, 1e-9);
}

Test(sketch, merge_is_the_union)
{
	struct lm_sketch a = {0}, b = {0};
	for (uint64_t k = 0; k < 30000; k++)
		lm_sketch_add(&a, XXH3_64bits(&k, sizeof k));
	for (uint64_t k = 20000; k < 50000; k++)
		lm_sketch_add(&b, XXH3_64bits(&k, sizeof k));
	lm_sketch_merge(&a, &b);
	double e = lm_sketch_estimate(&a);
	cr_assert(e >= 45000 && e <= 55000, "union of 50000 keys estimated as %.1f", e);
}
