/* Config parsing time against the number of sections (issue 16, 3): a
 * quarter [type] sections, half [cache] methods returning one of them, a
 * quarter [invalidate] methods dropping one of those. Usage:
 * config_parse N...; prints "sections=N seconds=S errors=E" per N. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config/config.h"
#include "tests/common/many_sections.h"

static char *gen(size_t n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	lm_write_many_sections(f, n);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	for (int a = 1; a < argc; a++) {
		size_t n = strtoul(argv[a], NULL, 10), len = 0;
		char *text = gen(n, &len);
		struct lm_config cfg;
		struct lm_diags d = {0};
		struct timespec t0, t1;

		if (!text)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int errors = lm_config_parse(text, len, "bench.conf", &cfg, &d);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("sections=%zu seconds=%.3f errors=%d\n", n,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		       errors);
		lm_config_free(&cfg);
		lm_diags_free(&d);
		free(text);
	}
	return 0;
}
