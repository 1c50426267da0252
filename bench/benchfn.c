/* The functions the benchmarks memoize, in their own shared library so
 * that every configuration (plain, the hand-written wrappers, ldmemo)
 * calls the same code through the same PLT. Each does a little real work,
 * so that the plain call is a fair reference and the compiler cannot fold
 * it into the caller. */
#include <string.h>

#define BENCH_API __attribute__((visibility("default"), noinline))

static unsigned long mix(unsigned long x)
{
	for (int i = 0; i < 8; i++) {
		x ^= x >> 31;
		x *= 0x9E3779B97F4A7C15UL;
	}
	return x;
}

BENCH_API long f(long x)
{
	return (long)(mix((unsigned long)x) >> 1);
}

BENCH_API double g(double x)
{
	double y = 1.0;
	for (int i = 0; i < 8; i++)
		y = y * x * 0.5 + 1.0 / (1.0 + y * y);
	return y;
}

BENCH_API long h(const char *s)
{
	unsigned long v = 14695981039346656037UL;
	for (; *s; s++)
		v = (v ^ (unsigned char)*s) * 1099511628211UL;
	return (long)(mix(v) >> 1);
}

BENCH_API int u(long id, char out[64])
{
	unsigned long v = mix((unsigned long)id);
	for (int i = 0; i < 8; i++) {
		memcpy(out + 8 * i, &v, 8);
		v = v * 6364136223846793005UL + 1442695040888963407UL;
	}
	return 0;
}
