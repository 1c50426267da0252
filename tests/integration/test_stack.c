/* Hooked functions entered from any stack (issue 16, guarantee 10): every
 * thunk called with the stack at 0 and at 8 mod 16, signal handlers that
 * call hooked functions while the thread is anywhere in a hit or a miss
 * (also on a 32 KiB sigaltstack, also inside a new thread's first-time
 * setup), and the stack a miss needs. The fixture checks every result
 * against the truth (fixtures/sigstack.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* Every fast thunk's key shape, and every result kind for one and for two
 * key words; then the generic thunk's: a string key, an out buffer, a
 * struct deep copy, stack arguments. */
static const char methods[] =
    "[type rec]\n"
    "fields = str name, i32 id, f64 score\n"
    "[cache f_mix]\nsignature = long f_mix(long x)\n"
    "[cache f_void]\nsignature = void f_void(long x)\n"
    "[cache f_half]\nsignature = double f_half(double x)\n"
    "[cache f_rsi]\nsignature = long f_rsi(ignore p, long x)\n"
    "[cache f_none]\nsignature = long f_none()\n"
    "[cache f_add]\nsignature = long f_add(long a, long b)\n"
    "[cache f_rdi_rdx]\nsignature = long f_rdi_rdx(long a, ignore p, long b)\n"
    "[cache f_rsi_rdx]\nsignature = double f_rsi_rdx(ignore p, long a, long b)\n"
    "[cache f_mul]\nsignature = double f_mul(double a, double b)\n"
    "[cache f_void2]\nsignature = void f_void2(long a, double b)\n"
    "[cache f_scale]\nsignature = float f_scale(float a, int n)\n"
    "[cache g_str]\nsignature = long g_str(str s)\n"
    "[cache g_out]\nsignature = int g_out(int n, out(16) buf)\n"
    "[cache g_rec]\nsignature = static rec* g_rec(int id)\n"
    "[cache g_many]\nsignature = long g_many(long a, long b, long c, long d, long e, long f, "
    "long g, long h)\n";

/* The config for TTL ("never" or a duration), with a bound low enough
 * that the store evicts during the signal runs. */
static char *conf(const char *ttl)
{
	char *c = malloc(sizeof methods + 128);
	snprintf(c, sizeof methods + 128, "[global]\nttl = %s\nmax_entries = 20000\n%s", ttl,
	         methods);
	return c;
}

static struct it_run run(const char *ttl, const char *const *argv)
{
	char *c = conf(ttl);
	const char *env[] = {"LDMEMO_LOG=warn", NULL};
	struct it_run r = it_run(c, argv, env);
	free(c);
	return r;
}

static void align(const char *ttl)
{
	const char *argv[] = {it_path("sigstack"), "align", NULL};
	struct it_run r = run(ttl, argv);
	cr_expect_eq(r.status, 0, "ttl %s: status %d\n%s%s", ttl, r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok align") != NULL, "%s%s", r.out, r.err);
	it_free(&r);
}

Test(stack, every_thunk_hits_and_misses_with_the_stack_at_0_or_8_mod_16)
{
	align("never");
	align("1h");
}

static void signals(const char *ttl, const char *alt)
{
	const char *argv[] = {it_path("sigstack"), "signal", "700", alt, NULL};
	struct it_run r = run(ttl, argv);
	cr_assert_eq(r.status, 0, "ttl %s alt %s: status %d\n%s%s", ttl, alt, r.status, r.out,
	             r.err);
	cr_expect(strstr(r.out, "ok signal") != NULL, "%s%s", r.out, r.err);
	/* The timer really fired, and also while the thread was in the shim. */
	cr_expect_gt(it_field(r.out, "handled"), 200, "%s", r.out);
	cr_expect_gt(it_field(r.out, "in_shim"), 0, "%s", r.out);
	it_free(&r);
}

Test(stack, a_50us_timer_handler_calls_hooked_functions_during_hits_and_misses)
{
	signals("never", "0");
	signals("1h", "0");
}

Test(stack, the_same_on_a_32k_sigaltstack)
{
	signals("never", "1");
	signals("1h", "1");
}

/* The handler runs inside the calloc and aligned_alloc of a new thread's
 * first calls (the shim's per-thread counters and fast table), and makes
 * the first calls of half the threads itself, on a 32 KiB sigaltstack.
 * Regression: the handler's bypassed call attached the thread's counters
 * block again, under a lock the thread held: a deadlock. */
Test(stack, a_handler_inside_a_new_threads_first_setup)
{
#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("the fixture cannot interpose ASan's calloc");
#endif
	const char *argv[] = {it_path("sigstack"), "first", "48", NULL};
	struct it_run r = run("never", argv);
	cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok first") != NULL, "%s%s", r.out, r.err);
	cr_expect_gt(it_field(r.out, "raised"), 48, "%s", r.out);
	it_free(&r);
}

/* The stack a handler uses to call each hooked function (a miss, the
 * process's first call), the kernel's signal frame included: it must fit
 * a 32 KiB alternate stack with room to spare. */
Test(stack, a_miss_fits_a_32k_alternate_stack)
{
#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("ASan's redzones make every frame larger: the depths are its own");
#endif
	const char *argv[] = {it_path("sigstack"), "depth", NULL};
	struct it_run r = run("never", argv);
	cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
	long worst = it_field(r.out, "worst");
	cr_expect_gt(worst, 0, "%s", r.out);
	cr_expect_lt(worst, 24 * 1024, "%s", r.out);
	it_free(&r);
}

static const char mix_conf[] = "[global]\nttl = never\nmax_entries = 1000\n"
                               "[cache mix]\nsignature = long mix(long x)\n";

/* A handler that misses while the program is inside malloc, holding the
 * arena's lock: a miss allocates, so calls from the program's handlers
 * run uncached (shim/sigaction.c). Before: hung 3 runs of 3. */
Test(stack, a_handler_that_interrupts_malloc_and_misses_does_not_hang)
{
	const char *argv[] = {it_path("sigmalloc"), "1500", NULL};
	const char *env[] = {"LDMEMO_LOG=warn", NULL};
	struct it_run r = it_run(mix_conf, argv, env);
	cr_expect_eq(r.status, 0, "status %d (3: hung)\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok handled=") != NULL, "%s%s", r.out, r.err);
	cr_expect_gt(it_field(r.out, "handled"), 100, "%s", r.out);
	it_free(&r);
}

/* The program sees its own handlers through sigaction and signal, and a
 * thread that left a handler by longjmp is cached again. */
Test(stack, the_program_sees_its_own_handlers_and_longjmp_leaves_the_handler)
{
	const char *argv[] = {it_path("sigmalloc"), "view", NULL};
	const char *env[] = {"LDMEMO_LOG=warn", NULL};
	struct it_run r = it_run(mix_conf, argv, env);
	cr_expect_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok view") != NULL, "%s%s", r.out, r.err);
	it_free(&r);
}
