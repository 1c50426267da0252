/* Start-up order: a memoized function called from another library's
 * constructor before and after the shim's constructor ran, threads that
 * call it while the shim starts, and exit racing threads inside the
 * cache. The program's answers must never change; the run counts show
 * when the shim took over. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tests/integration/helpers.h"

static const char conf[] = "[cache hard_square]\n"
                           "signature = long hard_square(long x)\n"
                           "[cache hard_name]\n"
                           "signature = str hard_name(long id)\n"
                           "[invalidate hard_touch]\n"
                           "signature = int hard_touch(long id)\n"
                           "when = ret == 0\n"
                           "drop = hard_name(id)\n";

/* Sum of squares the fixtures compute: 3 x (0..9). */
static long expected_sum(void)
{
	long s = 0;
	for (int r = 0; r < 3; r++)
		for (long i = 0; i < 10; i++)
			s += i * i;
	return s;
}

/* Run fixture PROG with the shim, LIB_BEFORE / LIB_AFTER preloaded before
 * or after it (NULL: none), and EXTRA in the environment. */
static struct it_run run(const char *prog, const char *lib_before, const char *lib_after,
                         const char *extra, const char *arg)
{
	char *d = hd_tmpdir(0700), *f = hd_write(d, "app.conf", conf, 0600);
	char *shim = hd_shim(), *p = hd_path(prog);
	char *b = lib_before ? hd_path(lib_before) : NULL,
	     *a = lib_after ? hd_path(lib_after) : NULL;
	char *pre = NULL;
	cr_assert(asprintf(&pre, "LD_PRELOAD=%s %s %s", b ? b : "", shim, a ? a : "") >= 0);
	char *cfg = hd_env("LDMEMO_CONFIG", f);
	const char *argv[] = {p, arg, NULL};
	const char *env[] = {pre, cfg, extra, NULL};
	struct it_run r = it_run(NULL, argv, env);
	hd_rmdir(d);
	free(d);
	free(f);
	free(shim);
	free(p);
	free(b);
	free(a);
	free(pre);
	free(cfg);
	return r;
}

static long field_after(const char *text, const char *tag, const char *key)
{
	const char *p = strstr(text, tag);
	return p ? it_field(p, key) : -1;
}

Test(early, needed_library_constructor_runs_before_the_shim)
{
	/* The program's own libraries are initialized before a preloaded one:
	 * the constructor's calls run unhooked, main's are cached. */
	struct it_run r = run("early-needed", NULL, NULL, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(field_after(r.out, "ctor", "sum"), expected_sum(), "%s", r.out);
	cr_expect_eq(field_after(r.out, "main", "sum"), expected_sum(), "%s", r.out);
	cr_expect_eq(field_after(r.out, "ctor", "runs"), 30, "%s", r.out);
	cr_expect_eq(field_after(r.out, "main", "runs"), 40, "%s", r.out);
	cr_expect_str_empty(r.err);
	it_free(&r);
}

Test(early, library_preloaded_before_the_shim_is_initialized_after_it)
{
	/* Initializers run in reverse load order: a library listed before the
	 * shim in LD_PRELOAD starts after it, so its calls hit the cache. */
	struct it_run r = run("early", "libearly.so", NULL, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(field_after(r.out, "ctor", "sum"), expected_sum(), "%s", r.out);
	cr_expect_eq(field_after(r.out, "main", "sum"), expected_sum(), "%s", r.out);
	cr_expect_eq(field_after(r.out, "ctor", "runs"), 10, "%s", r.out);
	cr_expect_eq(field_after(r.out, "main", "runs"), 10, "%s", r.out);
	it_free(&r);
}

Test(early, library_preloaded_after_the_shim_runs_before_it)
{
	struct it_run r = run("early", NULL, "libearly.so", NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(field_after(r.out, "ctor", "sum"), expected_sum(), "%s", r.out);
	cr_expect_eq(field_after(r.out, "ctor", "runs"), 30, "%s", r.out);
	cr_expect_eq(field_after(r.out, "main", "runs"), 40, "%s", r.out);
	it_free(&r);
}

Test(early, threads_started_by_a_constructor_survive_the_patching)
{
	long want = 0;
	for (long i = 0; i < 20000; i++)
		want += (i % 16) * (i % 16);
	for (int i = 0; i < 20; i++) {
		struct it_run r = run("ctor-threads", NULL, NULL, "LDMEMO_STATS=stderr", NULL);
		cr_assert_eq(r.status, 0, "run %d: %s", i, r.err);
		cr_assert(strstr(r.out, "threads=4 bad=0\n") != NULL, "run %d: %s", i, r.out);
		cr_assert_eq(field_after(r.out, "main", "sum"), want, "run %d: %s", i, r.out);
		/* The shim did start: its statistics list the method as hooked. */
		cr_assert(strstr(r.err, "hard_square  detour") != NULL, "run %d: %s", i, r.err);
		it_free(&r);
	}
}

Test(early, exit_while_threads_hit_the_cache)
{
	for (int i = 0; i < 50; i++) {
		char delay[16];
		snprintf(delay, sizeof delay, "%d", 200 + (i % 10) * 300);
		struct it_run r = run("exit-race", NULL, NULL, "LDMEMO_STATS=stderr", delay);
		cr_assert_eq(r.status, 0, "run %d: status %d: %s", i, r.status, r.err);
		cr_assert_str_eq(r.out, "exiting\n", "run %d", i);
		/* No table when the exit came before the threads' first call (a
		 * process whose methods saw no call prints none). */
		cr_assert(r.err[0] == '\0' || strstr(r.err, "hard_name") != NULL, "run %d: %s", i,
		          r.err);
		it_free(&r);
	}
}
