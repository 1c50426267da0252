/* A short process: one call of a slow function (about a millisecond of
 * arithmetic) and its result printed, as a command run a thousand times
 * from a script would.
 *
 *   oneshot X  ->  the result */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) long slow(long x)
{
	unsigned long h = (unsigned long)x;
	for (long i = 0; i < 5000000; i++)
		h = (h ^ (h >> 29)) * 0x9E3779B97F4A7C15UL + (unsigned long)i;
	return (long)(h >> 1);
}

int main(int argc, char **argv)
{
	printf("%ld\n", slow(argc > 1 ? atol(argv[1]) : 0));
	return 0;
}
