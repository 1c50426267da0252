/* ldmemo's C API (spec section 8) from a program that must also run
 * without ldmemo: the functions come from the preloaded libldmemo.so, so
 * the program looks them up with dlsym(RTLD_DEFAULT, ...) instead of
 * linking them, and skips them when they are absent.
 *
 *   cc $(pkg-config --cflags ldmemo) -o example example.c -ldl
 *   ./example                               # plain: every call runs
 *   ldmemo -c example.conf ./example        # memoized, then invalidated
 */
#include <dlfcn.h>
#include <stdio.h>

#include <ldmemo.h>

static int runs;

/* The function example.conf memoizes; noipa keeps the compiler from
 * folding its calls away. */
__attribute__((noipa)) long slow_square(long x)
{
	runs++;
	return x * x;
}

int main(void)
{
	/* The types come from ldmemo.h, the addresses from the shim. */
	__typeof__(&ldmemo_invalidate_method) invalidate_method =
	    (__typeof__(&ldmemo_invalidate_method))dlsym(RTLD_DEFAULT, "ldmemo_invalidate_method");
	__typeof__(&ldmemo_invalidate_all) invalidate_all =
	    (__typeof__(&ldmemo_invalidate_all))dlsym(RTLD_DEFAULT, "ldmemo_invalidate_all");
	__typeof__(&ldmemo_stats_dump) stats_dump =
	    (__typeof__(&ldmemo_stats_dump))dlsym(RTLD_DEFAULT, "ldmemo_stats_dump");

	printf("ldmemo: %s\n", invalidate_method ? "loaded" : "not loaded");
	slow_square(7);
	slow_square(7);
	printf("two calls: runs=%d\n", runs);

	/* Say the data behind slow_square changed: drop what was cached. */
	if (invalidate_method)
		printf("invalidated=%d\n", invalidate_method("slow_square"));
	slow_square(7);
	printf("after invalidation: runs=%d\n", runs);

	if (invalidate_all)
		printf("invalidated_all=%d\n", invalidate_all());
	if (stats_dump && stats_dump(2, "text") != 0)
		fprintf(stderr, "example: no statistics (ldmemo inactive?)\n");
	return 0;
}
