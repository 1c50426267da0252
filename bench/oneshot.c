/* A short process: one call of a slow function and its result printed, as
 * a command run a thousand times from a script would. slow() takes about
 * 40 ms here, what a real password hash (yescrypt, bcrypt at cost 10) or a
 * database query costs: the kind of call worth keeping across processes.
 *
 *   oneshot X   ->  slow(X)
 *   oneshot -n  ->  nothing called: the cost of the process alone */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) long slow(long x)
{
	unsigned long h = (unsigned long)x;
	for (long i = 0; i < 20000000; i++)
		h = (h ^ (h >> 29)) * 0x9E3779B97F4A7C15UL + (unsigned long)i;
	return (long)(h >> 1);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-n") == 0)
		return 0;
	printf("%ld\n", slow(argc > 1 ? atol(argv[1]) : 0));
	return 0;
}
