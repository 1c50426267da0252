/* Every input of the fuzz corpora (tests/fuzz/corpus/TARGET) and every
 * input that once crashed a target (tests/fuzz/regress/TARGET) replayed
 * through the fuzz targets: a crash, or an input for which a target's
 * invariant fails (it returns -1), is a regression. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/targets.h"

typedef int (*target_fn)(const uint8_t *data, size_t size);

static size_t replay_dir(const char *dir, target_fn fn)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rbe");
		cr_assert(f != NULL, "open %s", path);
		uint8_t *buf = malloc(1 << 20);
		size_t len = fread(buf, 1, 1 << 20, f);
		fclose(f);
		cr_expect_eq(fn(buf, len), 0, "%s: an invariant of the target failed", path);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

static void replay(const char *target, target_fn fn)
{
	char dir[256];
	snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", target);
	size_t n = replay_dir(dir, fn);
	snprintf(dir, sizeof dir, "tests/fuzz/regress/%s", target);
	n += replay_dir(dir, fn);
	cr_expect_gt(n, 0, "no inputs for %s", target);
}

Test(fuzz_replay, config)
{
	replay("config", lm_fuzz_config);
}

Test(fuzz_replay, rules)
{
	replay("rules", lm_fuzz_rules);
}

Test(fuzz_replay, plan)
{
	replay("plan", lm_fuzz_plan);
}

Test(fuzz_replay, elf)
{
	replay("elf", lm_fuzz_elf);
}
