/* Out-of-memory paths of start-up in a real process: the fixture
 * allocator (fixtures/failalloc.c), preloaded ahead of the shim, fails
 * one chosen allocation; the program must still give its right answers,
 * uncached, and valgrind must find no block definitely lost. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "shim/store/store_internal.h"
#include "tests/integration/helpers.h"

/* What `early` prints when every call runs uncached: 3 x (0..9)^2. */
#define UNCACHED "main sum=855 runs=30\n"

static bool have_valgrind(void)
{
	return system("command -v valgrind >/dev/null 2>&1") == 0;
}

/* Run `early` under valgrind's leak check with failalloc and the shim
 * preloaded, CONF as its config and FAIL ("FAILALLOC_...=...") set. */
static struct it_run run(const char *conf, const char *fail)
{
	char *d = hd_tmpdir(0700), *f = hd_write(d, "app.conf", conf, 0600);
	char *shim = hd_shim(), *fa = hd_path("libfailalloc.so"), *p = hd_path("early");
	char *pre = NULL;
	cr_assert(asprintf(&pre, "LD_PRELOAD=%s %s", fa, shim) >= 0);
	char *cfg = hd_env("LDMEMO_CONFIG", f);
	const char *argv[] = {"/usr/bin/env", "valgrind", "--leak-check=full",
	                      "--errors-for-leak-kinds=definite", "--error-exitcode=99",
	                      /* or valgrind replaces failalloc's functions too */
	                      "--soname-synonyms=somalloc=nouserintercepts", p, NULL};
	const char *env[] = {pre, cfg, fail, NULL};
	struct it_run r = it_run(NULL, argv, env);
	hd_rmdir(d);
	free(d);
	free(f);
	free(shim);
	free(fa);
	free(p);
	free(pre);
	free(cfg);
	return r;
}

static void expect_no_leak(const struct it_run *r)
{
	cr_expect_eq(r->status, 0, "%s", r->err);
	cr_expect(strstr(r->err, "definitely lost: 0 bytes") ||
	              strstr(r->err, "no leaks are possible"),
	          "%s", r->err);
}

/* Regression: start-up kept the runtime record and the parsed config
 * when the store could not be allocated. Its shard array is the one
 * anonymous mapping of this size: 64 shards (what the default bounds
 * give) of one struct lm_shard. */
Test(oom, a_store_that_cannot_be_allocated_leaks_nothing, .timeout = 60)
{
#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("valgrind cannot run a shim built with ASan");
#endif
	if (!have_valgrind())
		cr_skip_test("valgrind is missing");
	char fail[64];
	snprintf(fail, sizeof fail, "FAILALLOC_MMAP=%zu", sizeof(struct lm_shard) * 64);
	struct it_run r = run("[global]\nprograms = early\n[cache hard_square]\nsignature = long "
	                      "hard_square(long x)\n",
	                      fail);
	cr_expect(strstr(r.err, "cannot allocate the cache: inactive"), "%s", r.err);
	cr_expect_str_eq(r.out, UNCACHED);
	expect_no_leak(&r);
	it_free(&r);
}

/* A GOT hook whose name cannot be copied: the method stays unhooked,
 * and what the hook had taken is given back. */
Test(oom, a_got_hook_whose_name_cannot_be_copied_leaks_nothing, .timeout = 60)
{
#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("valgrind cannot run a shim built with ASan");
#endif
	if (!have_valgrind())
		cr_skip_test("valgrind is missing");
	struct it_run r = run("[global]\nprograms = early\nhook = got\n"
	                      "[cache hard_square]\nsignature = long hard_square(long x)\n",
	                      "FAILALLOC_STRDUP=hard_square");
	cr_expect(strstr(r.err, "hard_square: not hooked: out of memory"), "%s", r.err);
	cr_expect_str_eq(r.out, UNCACHED);
	expect_no_leak(&r);
	it_free(&r);
}
