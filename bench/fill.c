/* Memory driver: calls f (libbenchfn.so) with N distinct keys, so that a
 * memoizing shim holds N entries, and reports the process's resident set
 * before and after, read from /proc/self/status, and the time per call.
 *
 *   fill N
 *
 * Output: `rss_before_kb=A rss_after_kb=B ns_per_call=T`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchfn.h"

static long rss_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!fp)
		return -1;
	while (fgets(line, sizeof line, fp))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(fp);
	return kb;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	long n = argc == 2 ? atol(argv[1]) : 0;
	if (n <= 0) {
		fprintf(stderr, "usage: fill N\n");
		return 2;
	}
	long before = rss_kb();
	double t0 = now_s();
	long acc = 0;
	for (long i = 0; i < n; i++)
		acc += f(i * 7 + 1);
	double t1 = now_s();
	long after = rss_kb();
	printf("rss_before_kb=%ld rss_after_kb=%ld ns_per_call=%.1f\n", before, after,
	       (t1 - t0) * 1e9 / (double)n);
	return acc == 42;
}
