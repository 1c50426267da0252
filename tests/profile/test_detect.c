/* The shim in profile mode on the fixture program: impurity (same key,
 * another result) and static buffers (the same pointer for other keys)
 * are seen, and the counts add up. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/profile_rank.h"
#include "helpers.h"

static struct lm_prof_set set;

static void profile_fixture(void)
{
	const char *dir = pf_tmpdir();
	cr_assert_not_null(dir);
	char env_dir[128], env_shim[1100], env_protos[1100];
	snprintf(env_dir, sizeof env_dir, "LDMEMO_PROFILE=%s", dir);
	snprintf(env_shim, sizeof env_shim, "LD_PRELOAD=%s", pf_build("libldmemo.so"));
	snprintf(env_protos, sizeof env_protos, "LDMEMO_PROFILE_PROTOS=%s/config/known/libc.conf",
	         getenv("PWD"));
	const char *argv[] = {pf_fixture("prog-prof"), NULL};
	const char *env[] = {env_dir, env_shim, env_protos, NULL};
	cr_assert_eq(pf_run(argv, env, NULL, NULL), 0);
	cr_assert_eq(lm_prof_read_dir(dir, &set), 1, "one process, one record file");
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

static const struct lm_prof_fn *fn(const char *name)
{
	for (size_t i = 0; i < set.n; i++)
		if (!strcmp(set.v[i].name, name))
			return &set.v[i];
	cr_assert_fail("%s was not profiled", name);
	return NULL;
}

TestSuite(detect, .init = profile_fixture, .fini = NULL, .timeout = 120);

Test(detect, counts)
{
	cr_assert_eq(fn("impure_tick")->calls, 400);
	cr_assert_eq(fn("static_name")->calls, 400);
	cr_assert_eq(fn("crypt_r")->calls, 40);
	cr_assert_gt(fn("crypt_r")->ns, 0);
	/* a known prototype keys by its parameters (unknown ones by every
	 * argument register, which counts garbage in the unused ones) */
	double d = lm_sketch_estimate(&fn("crypt_r")->sk);
	cr_assert(d > 3.5 && d < 4.5, "4 distinct keys, estimated %.1f", d);
	lm_prof_free(&set);
}

Test(detect, impure)
{
	cr_assert_gt(fn("impure_tick")->impure, 0);
	cr_assert_eq(fn("static_name")->impure, 0);
	cr_assert_eq(fn("crypt_r")->impure, 0, "the hash is the same for the same key");
	cr_assert_gt(fn("crypt_r")->checked, 0, "and that was checked");
	lm_prof_free(&set);
}

Test(detect, static_buffer)
{
	cr_assert_gt(fn("static_name")->static_rep, 300, "the same address for other keys");
	cr_assert_eq(fn("heap_name")->static_rep, 0, "a fresh block every call");
	lm_prof_free(&set);
}

Test(detect, caller_memory)
{
	cr_assert_eq(fn("crypt_r")->caller_ptr, 40, "crypt_r returns its data argument");
	cr_assert_eq(fn("static_name")->caller_ptr, 0);
	lm_prof_free(&set);
}
