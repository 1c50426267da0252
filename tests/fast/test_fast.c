/* The fast thunks: every key shape and result kind answers a hit without
 * running the function, with errno and every register but the result's
 * as the caller left them; a dropped, expired or re-entered copy falls
 * through to lm_thunk. The hooks use a minimal dispatcher (enter: call;
 * leave: keep a copy) so only the thunk and the table are under test. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "shim/call/counters.h"
#include "shim/call/fast.h"
#include "shim/hook/hook.h"
#include "shim/call/runtime.h"
#include "shim/store/store.h"
#include "tests/common/call_at.h"
#include "tests/common/clock_words.h"
#include "tests/common/vma.h"
#include "tests/fast/helpers.h"
#include "shim/base/clock.h"
#include "shim/base/tpool.h"

extern int (*lm_fast_clock)(clockid_t, struct timespec *);
extern const volatile int64_t *lm_fast_coarse;

static const char conf[] = "[cache fx_rdi]\nsignature = long fx_rdi(long x)\n"
                           "[cache fx_xmm0]\nsignature = double fx_xmm0(double x)\n"
                           "[cache fx_void]\nsignature = void fx_void(long x)\n"
                           "[cache fx_rsi]\nsignature = long fx_rsi(ignore p, long x)\n"
                           "[cache fx_rdi_rsi]\nsignature = int fx_rdi_rsi(int a, int b)\n"
                           "[cache fx_xmm0_xmm1]\nsignature = double fx_xmm0_xmm1(double a, "
                           "double b)\n"
                           "[cache fx_xmm0_rdi]\nsignature = double fx_xmm0_rdi(double a, int n)\n"
                           "[cache fx_rdi_xmm0]\nsignature = long fx_rdi_xmm0(long a, double b)\n"
                           "[cache fx_rsi_rdx]\nsignature = long fx_rsi_rdx(ignore p, long a, "
                           "long b)\n"
                           "[cache fx_rdi_rdx]\nsignature = long fx_rdi_rdx(long a, ignore p, "
                           "long b)\n"
                           "[cache fx_none]\nsignature = long fx_none()\n"
                           "[cache fx_float]\nsignature = float fx_float(float x)\n"
                           "[cache fx_u32]\nsignature = long fx_u32(u32 x)\n"
                           "[cache fx_out]\nsignature = int fx_out(long x, out(64) buf)\n"
                           "[cache fx_out_void]\nsignature = void fx_out_void(long x, out(16) "
                           "buf)\n"
                           "[cache fx_str]\nsignature = long fx_str(str s)\n";

static struct lm_config cfg;
static uint64_t epoch;                 /* the copy epoch every hook checks */
static int64_t expires = LM_DUR_NEVER; /* of the copies the leave keeps */
static bool stored;                    /* the leave's results are store hits */
static bool bypassed;                  /* the leave counts a bypassed call */
static struct lm_hook *hooks[16];

struct call {
	uint64_t epoch;
};

/* As the dispatcher: inside the shim (a signal handler, the shim's own
 * calls) the function runs uncached and nothing is kept. */
static int t_enter(struct lm_hook *h, struct lm_frame *f)
{
	(void)h;
	if (lm_guard_held() || lm_fast_busy())
		return LM_ENTER_PASS;
	((struct call *)f->call)->epoch = epoch;
	return LM_ENTER_CALL;
}

/* As the dispatcher: a miss counted, its result kept. */
static void t_leave(struct lm_hook *h, struct lm_frame *f)
{
	int err = errno;
	for (uint32_t id = 0; id < sizeof hooks / sizeof hooks[0]; id++)
		if (hooks[id] == h)
			lm_count(id, bypassed ? LM_C_bypassed : LM_C_misses, 1);
	lm_fast_put((const struct lm_hook_head *)h, f, err, expires,
	            ((struct call *)f->call)->epoch, stored);
	errno = err;
}

static struct lm_hook *hook(const char *name, void *fn)
{
	int id = lm_config_find_method(&cfg, name);
	cr_assert_geq(id, 0, "%s", name);
	char why[200] = "";
	struct lm_plan *p = lm_plan_compile(&cfg, &cfg.methods[id], (uint32_t)id, why, sizeof why);
	cr_assert_not_null(p, "%s: %s", name, why);
	struct lm_hook_req req = fx_hook_req(name, fn);
	req.enter = t_enter;
	req.leave = t_leave;
	req.entry = lm_fast_prepare(p, (uint32_t)id, &epoch, true, &req.fast);
	cr_assert_not_null(req.entry, "%s has a fast thunk", name);
	struct lm_hook *h = lm_hook_prepare(&req, why, sizeof why);
	cr_assert_not_null(h, "%s: %s", name, why);
	hooks[id] = h;
	return h;
}

#define HOOK(fn) hook(#fn, (void *)fn)

static void setup(void)
{
	struct lm_diags d = {0};
	cr_assert_eq(lm_config_parse(conf, sizeof conf - 1, "fast.conf", &cfg, &d), 0);
	lm_diags_free(&d);
	lm_counters_init((uint32_t)cfg.nmethods);
	lm_fast_init();
	HOOK(fx_rdi);
	HOOK(fx_xmm0);
	HOOK(fx_void);
	HOOK(fx_rsi);
	HOOK(fx_rdi_rsi);
	HOOK(fx_xmm0_xmm1);
	HOOK(fx_xmm0_rdi);
	HOOK(fx_rdi_xmm0);
	HOOK(fx_rsi_rdx);
	HOOK(fx_rdi_rdx);
	HOOK(fx_none);
	HOOK(fx_float);
	HOOK(fx_u32);
	HOOK(fx_out);
	HOOK(fx_out_void);
	HOOK(fx_str);
	/* Installed after all are prepared, as the shim does: their stubs
	 * share pages. */
	for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
		char why[200] = "";
		if (hooks[i])
			cr_assert_eq(lm_hook_install(hooks[i], why, sizeof why), 0, "%s", why);
	}
}

TestSuite(fast, .init = setup);

/* The size of this thread's table: a new one's until the first fill. */
static unsigned set_bits(void)
{
	return lm_fast_table ? lm_fast_table->set_bits : LM_FAST_SET_BITS;
}

/* EXPR runs the function once (a miss) and then not (a hit), with the
 * same result both times. */
#define MISS_THEN_HIT(expr)                                                                      \
	do {                                                                                     \
		long runs = fx_runs;                                                             \
		__typeof__(expr) first = (expr);                                                 \
		cr_expect_eq(fx_runs, runs + 1, "%s: the first call runs", #expr);               \
		__typeof__(expr) second = (expr);                                                \
		cr_expect_eq(fx_runs, runs + 1, "%s: the second is a hit", #expr);               \
		cr_expect(memcmp(&first, &second, sizeof first) == 0, "%s: same result", #expr); \
	} while (0)

Test(fast, every_shape_and_result_kind_hits)
{
	MISS_THEN_HIT(fx_rdi(41));
	MISS_THEN_HIT(fx_xmm0(2.5));
	MISS_THEN_HIT(fx_rsi(NULL, 50));
	MISS_THEN_HIT(fx_rdi_rsi(3, 4));
	MISS_THEN_HIT(fx_xmm0_xmm1(1.5, -2.0));
	MISS_THEN_HIT(fx_xmm0_rdi(0.75, 8));
	MISS_THEN_HIT(fx_rdi_xmm0(5, 0.5));
	MISS_THEN_HIT(fx_rsi_rdx(NULL, 6, 7));
	MISS_THEN_HIT(fx_rdi_rdx(9, NULL, 2));
	MISS_THEN_HIT(fx_none());
	MISS_THEN_HIT(fx_float(1.25f));
	long runs = fx_runs;
	fx_void(3);
	fx_void(3);
	cr_expect_eq(fx_runs, runs + 1, "void: the second call is a hit");
	cr_expect_eq(fx_rdi_xmm0(5, 0.5), 10);
	cr_expect_eq(fx_xmm0_xmm1(1.5, -2.0), -2.75);
}

Test(fast, every_key_word_counts_and_ignored_ones_do_not)
{
	MISS_THEN_HIT(fx_rdi_rsi(3, 4));
	MISS_THEN_HIT(fx_rdi_rsi(3, 5));
	MISS_THEN_HIT(fx_rdi_rsi(4, 4));
	MISS_THEN_HIT(fx_xmm0_rdi(0.75, 9));
	MISS_THEN_HIT(fx_rdi_xmm0(5, 0.25));
	long runs = fx_runs;
	cr_expect_eq(fx_rsi(&runs, 50), fx_rsi(NULL, 50));
	cr_expect_eq(fx_runs, runs + 1, "an ignored argument is not in the key");
	runs = fx_runs;
	cr_expect_eq(fx_rdi_rdx(9, &runs, 2), fx_rdi_rdx(9, NULL, 2));
	cr_expect_eq(fx_runs, runs + 1);
	MISS_THEN_HIT(fx_xmm0(-0.0));
	MISS_THEN_HIT(fx_xmm0(0.0)); /* floats by bit pattern */
}

/* For one method of each result kind: a miss (the original runs and
 * leaves its registers as it does without the shim), then a hit, which
 * must keep every register but the result's. */
static void registers_around(int64_t exp, const char *what)
{
	expires = exp;
	struct fx_regs in = fx_canaries(), out;

	in.gpr[R_RDI] = 1234;
	fx_call((void *)fx_rdi, &in, &out);
	long runs = fx_runs;
	fx_call((void *)fx_rdi, &in, &out);
	cr_expect_eq(out.gpr[R_RAX], 1234 * 3 + 1, "%s: result", what);
	fx_expect_kept(&in, &out, R_RAX, -1, what);
	cr_expect_eq(fx_runs, runs, "%s: a hit", what);

	double x = 4.0, y;
	memcpy(&in.xmm[0][0], &x, 8);
	fx_call((void *)fx_xmm0, &in, &out);
	runs = fx_runs;
	fx_call((void *)fx_xmm0, &in, &out);
	memcpy(&y, &out.xmm[0][0], 8);
	cr_expect_eq(y, 1.0, "%s: result", what);
	fx_expect_kept(&in, &out, -1, 0, what);
	cr_expect_eq(fx_runs, runs, "%s: a hit", what);

	in.gpr[R_RDI] = 77;
	fx_call((void *)fx_void, &in, &out);
	runs = fx_runs;
	fx_call((void *)fx_void, &in, &out);
	fx_expect_kept(&in, &out, -1, -1, what);
	cr_expect_eq(fx_runs, runs, "%s: a hit", what);
}

Test(fast, registers_survive_a_hit)
{
	registers_around(LM_DUR_NEVER, "no expiry");
}

Test(fast, registers_survive_a_hit_that_reads_the_clock)
{
	if (!lm_fast_clock)
		cr_skip_test("no vDSO clock here (valgrind?)");
	registers_around(lm_clock_ms() + 60000, "with expiry, clock words");
	const volatile int64_t *words = lm_fast_coarse;
	lm_fast_coarse = NULL;
	registers_around(lm_clock_ms() + 60000, "with expiry, clock call");
	lm_fast_coarse = words;
}

/* Within the second a torn reading of the clock words could hide, the
 * thunk reads the vDSO's clock even with the words found. */
Test(fast, registers_survive_a_hit_within_a_second_of_its_expiry)
{
	if (!lm_fast_clock || !lm_fast_coarse)
		cr_skip_test("no vDSO clock or clock words here (valgrind?)");
	registers_around(lm_clock_ms() + 500, "expiry within a second, clock words");
}

static int clock_calls;
static int (*real_clock)(clockid_t, struct timespec *);

static int clock_counted(clockid_t id, struct timespec *ts)
{
	clock_calls++;
	return real_clock(id, ts);
}

/* Issue 18: the default ttl doubled a hit's cost by a call to the vDSO.
 * With the kernel's clock words found, a hit of an expiring copy makes no
 * call. */
Test(fast, an_expiring_copy_hits_without_calling_the_clock)
{
	if (!lm_fast_coarse)
		cr_skip_test("no clock words here (valgrind, a time namespace?)");
	expires = lm_clock_ms() + 60000;
	fx_rdi(41);
	real_clock = lm_fast_clock;
	lm_fast_clock = clock_counted;
	clock_calls = 0;
	long runs = fx_runs;
	cr_expect_eq(fx_rdi(41), 41 * 3 + 1);
	lm_fast_clock = real_clock;
	cr_expect_eq(fx_runs, runs, "a hit");
	cr_expect_eq(clock_calls, 0, "the hit called the clock");
}

static void sleep_until_ns(int64_t t)
{
	for (int64_t now; (now = lm_now_ns()) < t;) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = t - now};
		nanosleep(&ts, NULL);
	}
}

/* Guarantee 3 allows 10 ms of slack: a copy of 20 ms called 35 ms after
 * its fill is a miss, through the clock words and through the call. */
Test(fast, a_copy_of_20_ms_is_a_miss_at_35_ms)
{
	if (!lm_fast_clock)
		cr_skip_test("no vDSO clock here (valgrind?)");
	const volatile int64_t *words = lm_fast_coarse;
	for (int way = 0; way < 2; way++) {
		lm_fast_coarse = way ? NULL : words;
		long key = 5100 + way;
		int64_t t0 = lm_now_ns();
		expires = lm_clock_ms() + 20;
		fx_rdi(key);
		sleep_until_ns(t0 + 35 * 1000000);
		long runs = fx_runs;
		fx_rdi(key);
		cr_expect_eq(fx_runs, runs + 1, "way %d: the copy outlived its ttl by 15 ms", way);
	}
	lm_fast_coarse = words;
}

/* The kernel's words read while it wrote them can be a second behind: a
 * copy that expired 15 ms ago is a miss even when the words say it has
 * half a second left (the thunk leaves an expiry within that second of
 * them to the vDSO's clock). */
Test(fast, a_torn_reading_of_the_clock_words_serves_no_expired_copy)
{
	if (!lm_fast_clock || !lm_fast_coarse)
		cr_skip_test("no vDSO clock or clock words here (valgrind?)");
	const volatile int64_t *words = lm_fast_coarse;
	int64_t t0 = lm_now_ns();
	expires = lm_clock_ms() + 20;
	fx_rdi(5200);
	sleep_until_ns(t0 + 35 * 1000000);
	static int64_t torn[2];
	lm_test_words_at(expires - 500, torn);
	lm_fast_coarse = torn;
	long runs = fx_runs;
	fx_rdi(5200);
	lm_fast_coarse = words;
	cr_expect_eq(fx_runs, runs + 1, "the copy outlived its ttl by a torn second");
}

Test(fast, a_narrow_int_ignores_the_upper_register_bits)
{
	MISS_THEN_HIT(fx_rdi_rsi(5, 7));
	struct fx_regs in = fx_canaries(), out;
	in.gpr[R_RDI] = 0xdeadbeef00000005ull;
	in.gpr[R_RSI] = 0x1234567800000007ull;
	long runs = fx_runs;
	fx_call((void *)fx_rdi_rsi, &in, &out);
	cr_expect_eq(fx_runs, runs, "garbage above 32 bits still hits");
	cr_expect_eq((int)out.gpr[R_RAX], 5007);
}

Test(fast, errno_is_the_one_the_function_left)
{
	fx_rdi(45);
	errno = 0;
	long runs = fx_runs;
	fx_rdi(45);
	cr_expect_eq(fx_runs, runs);
	cr_expect_eq(errno, 45, "a hit sets errno as the function did");
}

Test(fast, hits_are_counted_for_their_method)
{
	uint32_t id = (uint32_t)lm_config_find_method(&cfg, "fx_xmm0");
	fx_xmm0(9.0);
	uint64_t before = lm_counters_sum(id, LM_C_hits);
	fx_xmm0(9.0);
	fx_xmm0(9.0);
	cr_expect_eq(lm_counters_sum(id, LM_C_hits), before + 2);
}

Test(fast, a_moved_epoch_refuses_the_copy)
{
	MISS_THEN_HIT(fx_rdi(8));
	epoch++;
	MISS_THEN_HIT(fx_rdi(8));
}

Test(fast, an_expired_copy_runs_the_function)
{
	expires = lm_clock_ms() - 1;
	fx_rdi(12);
	long runs = fx_runs;
	fx_rdi(12);
	cr_expect_eq(fx_runs, runs + 1);
}

Test(fast, inside_the_shim_the_function_runs)
{
	fx_rdi(13);
	long runs = fx_runs;
	lm_guard_enter();
	fx_rdi(13);
	lm_guard_leave();
	cr_expect_eq(fx_runs, runs + 1, "guarantee 6: no answer from the cache");
}

/* Regression: stubs started on any 16-byte boundary, so the jump of one in
 * two crossed a 32-byte boundary, which Intel cores with the JCC erratum
 * fix run from the legacy decoders (f's hit took 6.8 ns instead of 4.7). */
Test(fast, stubs_start_on_32_byte_boundaries)
{
	for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
		if (hooks[i])
			cr_expect_eq(lm_hook_get_info(hooks[i])->stub % 32, 0, "hook %zu", i);
}

/* Three keys of fx_rdi whose first sets are the same, the third's second
 * set too: filling the third evicts from the set the first is read from. */
static void crowding_keys(long keys[3])
{
	const struct lm_fast_desc *d = &((const struct lm_hook_head *)hooks[0])->fast;
	uint32_t want = UINT32_MAX, set[2];
	int n = 0;
	for (long k = 1; n < 3; k++) {
		lm_fast_sets(d, set_bits(), (uint64_t)k, 0, set);
		if (want == UINT32_MAX)
			want = set[0];
		if (set[0] == want && (n < 2 || set[1] == want))
			keys[n++] = k;
	}
}

static long nested_key;

/* The vDSO clock as a signal handler could make it look: a hooked call in
 * the middle of a hit's lookup. */
static int clock_with_a_nested_call(clockid_t id, struct timespec *ts)
{
	fx_rdi(nested_key);
	return real_clock(id, ts);
}

/* Regression: a signal handler that interrupted a hit (its clock call, for
 * one) and filled the table could overwrite the slot the hit was reading:
 * the caller got the result of another key. The table is busy during the
 * lookup now, so the handler's call runs uncached. */
Test(fast, a_call_that_interrupts_a_hit_cannot_change_its_answer)
{
	if (!lm_fast_clock)
		cr_skip_test("no vDSO clock here (valgrind?)");
	long keys[3];
	crowding_keys(keys);
	expires = lm_clock_ms() + 60000;
	fx_rdi(keys[1]); /* the set: keys[1], keys[0] */
	fx_rdi(keys[0]);
	const volatile int64_t *words = lm_fast_coarse;
	lm_fast_coarse = NULL; /* the call, where a handler could interrupt */
	real_clock = lm_fast_clock;
	lm_fast_clock = clock_with_a_nested_call;
	nested_key = keys[2];
	long got = fx_rdi(keys[0]);
	lm_fast_clock = real_clock;
	lm_fast_coarse = words;
	cr_expect_eq(got, keys[0] * 3 + 1, "fx_rdi(%ld) returned %ld", keys[0], got);
	long runs = fx_runs;
	fx_rdi(keys[2]);
	cr_expect_eq(fx_runs, runs + 1, "the interrupting call ran uncached and kept nothing");
}

static int clock_aligned, clock_unwound;
static const char *clock_caller;

/* The vDSO clock as the thunk calls it: with the stack aligned as the ABI
 * asks (rbp is the entry rsp - 8, and so 0 mod 16), and an unwinder can
 * walk from it through the thunk to CLOCK_CALLER. */
static int clock_that_checks(clockid_t id, struct timespec *ts)
{
	clock_aligned = ((uintptr_t)__builtin_frame_address(0) & 15) == 0;
	void *frames[32];
	int n = backtrace(frames, 32);
	Dl_info di;
	for (int i = 0; i < n; i++)
		if (dladdr(frames[i], &di) && di.dli_sname && !strcmp(di.dli_sname, clock_caller))
			clock_unwound = 1;
	return real_clock(id, ts);
}

/* Regression (issue 16): the hit's clock call was padded by the entry's
 * alignment as the ABI has it, so a caller at 8 mod 16 made it call the
 * vDSO at 8 mod 16 too. Both ways to the clock (padded for an aligned
 * caller, realigned for another), for a thunk with an even and one with
 * an odd number of saved registers. */
Test(fast, the_clock_is_called_aligned_from_a_caller_at_8_mod_16)
{
	if (!lm_fast_clock)
		cr_skip_test("no vDSO clock here (valgrind?)");
	expires = lm_clock_ms() + 60000;
	const volatile int64_t *words = lm_fast_coarse;
	lm_fast_coarse = NULL; /* the path that calls */
	for (int way = 0; way < 4; way++) {
		bool misaligned = way & 1;
		void *fn = way & 2 ? (void *)fx_void : (void *)fx_rdi;
		struct fx_regs in = fx_canaries(), out;
		in.gpr[R_RDI] = 31;
		fx_call(fn, &in, &out);
		real_clock = lm_fast_clock;
		lm_fast_clock = clock_that_checks;
		clock_aligned = clock_unwound = 0;
		clock_caller = misaligned ? "tc_call" : "fx_call";
		long runs = fx_runs;
		if (misaligned)
			out.gpr[R_RAX] = (uint64_t)tc_misaligned(fn, 31);
		else
			fx_call(fn, &in, &out);
		lm_fast_clock = real_clock;
		cr_expect_eq(fx_runs, runs, "way %d: a hit", way);
		if (fn == (void *)fx_rdi)
			cr_expect_eq(out.gpr[R_RAX], 31 * 3 + 1, "way %d", way);
		cr_expect(clock_aligned, "way %d: the clock ran at 8 mod 16", way);
		cr_expect(clock_unwound, "way %d: no unwinding through the thunk to %s", way,
		          clock_caller);
	}
	lm_fast_coarse = words;
}

/* Without a vDSO clock the thunk could not check an expiry: such methods
 * use the dispatcher's front cache instead. */
Test(fast, no_fast_thunk_for_expiring_copies_without_a_clock)
{
	int id = lm_config_find_method(&cfg, "fx_rdi");
	char why[200] = "";
	struct lm_plan *p = lm_plan_compile(&cfg, &cfg.methods[id], (uint32_t)id, why, sizeof why);
	cr_assert_not_null(p, "%s", why);
	struct lm_fast_desc d;
	int (*saved)(clockid_t, struct timespec *) = lm_fast_clock;
	lm_fast_clock = NULL;
	cr_expect_null(lm_fast_prepare(p, (uint32_t)id, &epoch, true, &d));
	cr_expect_not_null(lm_fast_prepare(p, (uint32_t)id, &epoch, false, &d));
	lm_fast_clock = saved;
	lm_plan_free(p);
}

/* Keys whose first set is the same spill into their second sets: three of
 * them (one more than a set holds) all stay. */
Test(fast, a_crowded_set_spills_into_second_choices)
{
	const struct lm_fast_desc *d = &((const struct lm_hook_head *)hooks[0])->fast;
	long keys[3];
	int n = 0;
	uint32_t want = UINT32_MAX, set[2];
	for (long k = 1; n < 3; k++) {
		lm_fast_sets(d, set_bits(), (uint64_t)k, 0, set);
		if (want == UINT32_MAX)
			want = set[0];
		if (set[0] == want)
			keys[n++] = k;
	}
	for (int i = 0; i < 3; i++)
		fx_rdi(keys[i]);
	long runs = fx_runs;
	for (int i = 0; i < 3; i++)
		fx_rdi(keys[i]);
	cr_expect_eq(fx_runs, runs, "all three hit");
}

/* Regression: the table had 128 sets, and a loop over 1,000 keys missed
 * on most of them every round. All hit on the second round now. */
Test(fast, a_working_set_of_a_thousand_keys_stays_in_the_table)
{
	enum { KEYS = 1000 };
	for (long k = 1; k <= KEYS; k++)
		fx_rdi(k);
	long runs = fx_runs;
	uint64_t hits = lm_counters_sum(0, LM_C_hits);
	for (long k = 1; k <= KEYS; k++)
		fx_rdi(k);
	cr_expect_eq(fx_runs, runs, "%ld of %d keys ran again", fx_runs - runs, KEYS);
	cr_expect_eq(lm_counters_sum(0, LM_C_hits) - hits, KEYS);
}

static pthread_key_t late_key;
static int late_owned = -1;

static void late_destructor(void *arg)
{
	(void)arg;
	lm_count(0, LM_C_hits, 1);
	late_owned = lm_tls_counters ? lm_tls_counters->owned : -1;
}

static void *late_thread(void *arg)
{
	(void)arg;
	lm_count(0, LM_C_hits, 1); /* attaches: the counters' key exists now */
	pthread_key_create(&late_key, late_destructor);
	pthread_setspecific(late_key, &late_key);
	return NULL;
}

/* Regression: a count from a destructor that runs after the counters' own
 * (a later key's) went to the block the thread had handed back, which a
 * new thread may own by then: two threads adding to one block. */
Test(fast, a_count_from_a_later_destructor_lands_in_a_block_the_thread_owns)
{
	uint64_t before = lm_counters_sum(0, LM_C_hits);
	pthread_t t;
	pthread_create(&t, NULL, late_thread, NULL);
	pthread_join(t, NULL);
	cr_expect_eq(late_owned, 1);
	cr_expect_eq(lm_counters_sum(0, LM_C_hits), before + 2);
}

/* ---- Keys that share a set ------------------------------------------------
 * The thunk compares the whole key of a slot (both words, and the method):
 * two keys of one first set, differing in one word only, must each get
 * their own result. A thunk that skipped a word's compare answered the
 * second key with the first one's result. */

static double d_of(uint64_t b)
{
	double d;
	memcpy(&d, &b, 8);
	return d;
}

static float f_of(uint64_t b)
{
	float x;
	uint32_t w = (uint32_t)b;
	memcpy(&x, &w, 4);
	return x;
}

static uint64_t bits_d(double d)
{
	uint64_t b;
	memcpy(&b, &d, 8);
	return b;
}

static uint64_t bits_f(float x)
{
	uint32_t w;
	memcpy(&w, &x, 4);
	return w;
}

/* Each calls the fixture with the key words K0, K1 (as the registers hold
 * them) and returns the result's bits; want_* computes them. */
static uint64_t c_rdi(uint64_t a, uint64_t b)
{
	(void)b;
	return (uint64_t)fx_rdi((long)a);
}
static uint64_t w_rdi(uint64_t a, uint64_t b)
{
	(void)b;
	return (uint64_t)((long)a * 3 + 1);
}
static uint64_t c_rsi(uint64_t a, uint64_t b)
{
	(void)b;
	return (uint64_t)fx_rsi(NULL, (long)a);
}
static uint64_t w_rsi(uint64_t a, uint64_t b)
{
	(void)b;
	return (uint64_t)((long)a - 11);
}
static uint64_t c_xmm0(uint64_t a, uint64_t b)
{
	(void)b;
	return bits_d(fx_xmm0(d_of(a)));
}
static uint64_t w_xmm0(uint64_t a, uint64_t b)
{
	(void)b;
	return bits_d(d_of(a) * 0.5 - 1.0);
}
static uint64_t c_float(uint64_t a, uint64_t b)
{
	(void)b;
	return bits_f(fx_float(f_of(a)));
}
static uint64_t w_float(uint64_t a, uint64_t b)
{
	(void)b;
	return bits_f(f_of(a) * 2.0f);
}
static uint64_t c_void(uint64_t a, uint64_t b)
{
	(void)b;
	errno = 0;
	fx_void((long)a);
	return (uint64_t)errno;
}
static uint64_t w_void(uint64_t a, uint64_t b)
{
	(void)b;
	return a & 31;
}
static uint64_t c_rdi_rsi(uint64_t a, uint64_t b)
{
	return (uint32_t)fx_rdi_rsi((int)a, (int)b);
}
static uint64_t w_rdi_rsi(uint64_t a, uint64_t b)
{
	return (uint32_t)((int)a * 1000 + (int)b);
}
static uint64_t c_xmm0_xmm1(uint64_t a, uint64_t b)
{
	return bits_d(fx_xmm0_xmm1(d_of(a), d_of(b)));
}
static uint64_t w_xmm0_xmm1(uint64_t a, uint64_t b)
{
	return bits_d(d_of(a) * d_of(b) + 0.25);
}
static uint64_t c_xmm0_rdi(uint64_t a, uint64_t b)
{
	return bits_d(fx_xmm0_rdi(d_of(a), (int)b));
}
static uint64_t w_xmm0_rdi(uint64_t a, uint64_t b)
{
	return bits_d(d_of(a) * (int)b);
}
static uint64_t c_rdi_xmm0(uint64_t a, uint64_t b)
{
	return (uint64_t)fx_rdi_xmm0((long)a, d_of(b));
}
static uint64_t w_rdi_xmm0(uint64_t a, uint64_t b)
{
	return (uint64_t)((long)a + (long)(d_of(b) * 10));
}
static uint64_t c_rsi_rdx(uint64_t a, uint64_t b)
{
	return (uint64_t)fx_rsi_rdx(NULL, (long)a, (long)b);
}
static uint64_t w_rsi_rdx(uint64_t a, uint64_t b)
{
	return (uint64_t)((long)a * 100 + (long)b);
}
static uint64_t c_rdi_rdx(uint64_t a, uint64_t b)
{
	return (uint64_t)fx_rdi_rdx((long)a, NULL, (long)b);
}
static uint64_t w_rdi_rdx(uint64_t a, uint64_t b)
{
	return (uint64_t)((long)a * 10 - (long)b);
}

struct shape_case {
	const char *name;
	int nkeys;
	uint64_t base[2]; /* a key; the other varies from it by STEP */
	uint64_t step[2];
	uint64_t (*call)(uint64_t, uint64_t);
	uint64_t (*want)(uint64_t, uint64_t);
};

static const struct shape_case shape_cases[] = {
    {"fx_rdi", 1, {5, 0}, {1, 0}, c_rdi, w_rdi},
    {"fx_rsi", 1, {5, 0}, {1, 0}, c_rsi, w_rsi},
    {"fx_xmm0", 1, {0x3ff8000000000000ull /* 1.5 */, 0}, {1ull << 32, 0}, c_xmm0, w_xmm0},
    {"fx_float", 1, {0x3fc00000, 0}, {1 << 8, 0}, c_float, w_float},
    {"fx_void", 1, {5, 0}, {1, 0}, c_void, w_void},
    {"fx_rdi_rsi", 2, {3, 4}, {1, 1}, c_rdi_rsi, w_rdi_rsi},
    {"fx_xmm0_xmm1",
     2,
     {0x3ff8000000000000ull /* 1.5 */, 0xc000000000000000ull /* -2.0 */},
     {1ull << 32, 1ull << 32},
     c_xmm0_xmm1,
     w_xmm0_xmm1},
    {"fx_xmm0_rdi",
     2,
     {0x3fe8000000000000ull /* 0.75 */, 8},
     {1ull << 32, 1},
     c_xmm0_rdi,
     w_xmm0_rdi},
    {"fx_rdi_xmm0",
     2,
     {5, 0x3fe0000000000000ull /* 0.5 */},
     {1, 1ull << 44},
     c_rdi_xmm0,
     w_rdi_xmm0},
    {"fx_rsi_rdx", 2, {6, 7}, {1, 1}, c_rsi_rdx, w_rsi_rdx},
    {"fx_rdi_rdx", 2, {9, 2}, {1, 1}, c_rdi_rdx, w_rdi_rdx},
};

static const struct lm_fast_desc *desc_of(const char *name)
{
	int id = lm_config_find_method(&cfg, name);
	cr_assert(id >= 0 && hooks[id], "%s", name);
	return &((const struct lm_hook_head *)hooks[id])->fast;
}

static uint32_t first_set(const struct lm_fast_desc *d, const uint64_t k[2])
{
	uint32_t set[2];
	lm_fast_sets(d, set_bits(), k[0], k[1], set);
	return set[0];
}

/* A key that differs from C's base in word W only, has another result and
 * the same first set. */
static void neighbour(const struct shape_case *c, int w, uint64_t out[2])
{
	const struct lm_fast_desc *d = desc_of(c->name);
	uint32_t want = first_set(d, c->base);
	out[0] = c->base[0];
	out[1] = c->base[1];
	for (int i = 0; i < 1 << 20; i++) {
		out[w] += c->step[w];
		if (first_set(d, out) == want &&
		    c->want(out[0], out[1]) != c->want(c->base[0], c->base[1]))
			return;
	}
	cr_assert_fail("%s: no neighbour in the first set", c->name);
}

/* A then B (both misses, one set), then B and A again: hits, each with
 * its own result. */
static void same_set_pair(const struct shape_case *c, const uint64_t a[2], const uint64_t b[2],
                          const char *which)
{
	uint64_t ra = c->call(a[0], a[1]);
	uint64_t rb = c->call(b[0], b[1]);
	long runs = fx_runs;
	uint64_t rb2 = c->call(b[0], b[1]);
	uint64_t ra2 = c->call(a[0], a[1]);
	cr_expect_eq(fx_runs, runs, "%s (%s): the second calls hit", c->name, which);
	cr_expect_eq(ra, c->want(a[0], a[1]), "%s (%s): first key's miss", c->name, which);
	cr_expect_eq(rb, c->want(b[0], b[1]), "%s (%s): second key's miss", c->name, which);
	cr_expect_eq(rb2, c->want(b[0], b[1]), "%s (%s): %#lx, %#lx answered %#lx", c->name, which,
	             (unsigned long)b[0], (unsigned long)b[1], (unsigned long)rb2);
	cr_expect_eq(ra2, c->want(a[0], a[1]), "%s (%s): %#lx, %#lx answered %#lx", c->name, which,
	             (unsigned long)a[0], (unsigned long)a[1], (unsigned long)ra2);
}

Test(fast, keys_of_one_set_differing_in_one_word_keep_their_results)
{
	for (size_t i = 0; i < sizeof shape_cases / sizeof shape_cases[0]; i++) {
		const struct shape_case *c = &shape_cases[i];
		for (int w = 0; w < c->nkeys; w++) {
			uint64_t b[2];
			neighbour(c, w, b);
			same_set_pair(c, c->base, b,
			              w ? "second word differs" : "first word differs");
		}
	}
}

/* Two methods, one key, one set: the slot's method tells them apart. */
Test(fast, methods_sharing_a_set_and_a_key_keep_their_results)
{
	const struct lm_fast_desc *dr = desc_of("fx_rdi"), *ds = desc_of("fx_rsi");
	uint64_t k[2] = {1, 0};
	while (first_set(dr, k) != first_set(ds, k))
		k[0]++;
	long a = fx_rdi((long)k[0]), b = fx_rsi(NULL, (long)k[0]);
	long runs = fx_runs;
	cr_expect_eq(fx_rsi(NULL, (long)k[0]), b);
	cr_expect_eq(fx_rdi((long)k[0]), a);
	cr_expect_eq(fx_runs, runs, "both hit");
	cr_expect_eq(b, (long)k[0] - 11);
	cr_expect_eq(a, (long)k[0] * 3 + 1);
}

/* A one-word u32 key: the thunk masks the register like fast_put does. */
Test(fast, a_u32_key_ignores_the_upper_register_bits)
{
	MISS_THEN_HIT(fx_u32(9));
	struct fx_regs in = fx_canaries(), out;
	in.gpr[R_RDI] = 0xfeedface00000009ull;
	long runs = fx_runs;
	fx_call((void *)fx_u32, &in, &out);
	cr_expect_eq(fx_runs, runs, "garbage above 32 bits still hits");
	cr_expect_eq(out.gpr[R_RAX], 16);
	/* and a key that differs below 32 bits is another key */
	in.gpr[R_RDI] = 0xfeedface0000000aull;
	fx_call((void *)fx_u32, &in, &out);
	cr_expect_eq(fx_runs, runs + 1);
	cr_expect_eq(out.gpr[R_RAX], 17);
	/* a copy filled from a register with garbage above is found by a
	 * clean one: the fill masks too */
	runs = fx_runs;
	in.gpr[R_RDI] = 0x123456780000000bull;
	fx_call((void *)fx_u32, &in, &out);
	cr_expect_eq(fx_runs, runs + 1);
	cr_expect_eq(fx_u32(11), 18);
	cr_expect_eq(fx_runs, runs + 1, "the clean call hits the copy");
}

/* The expiry is checked against the clock: a copy whose expiry has
 * passed runs the function, one in the future hits. */
Test(fast, an_expiry_in_the_future_hits_and_one_in_the_past_does_not)
{
	if (!lm_fast_clock)
		cr_skip_test("no vDSO clock here (valgrind?)");
	expires = lm_clock_ms() + 60000;
	MISS_THEN_HIT(fx_rdi(31));
	expires = lm_clock_ms() - 5;
	fx_rdi(32);
	long runs = fx_runs;
	fx_rdi(32);
	cr_expect_eq(fx_runs, runs + 1, "an expired copy is no hit");
}

/* ---- A table that grows ---------------------------------------------------
 * A thread whose working set cycles through more keys than its table holds
 * gets a table 4x larger (up to LM_FAST_MAX_SET_BITS), its valid copies
 * moved over; every answer stays the function's. */

/* One round over keys 1..N of fx_rdi, each result checked: the number of
 * calls that ran the function. */
static long round_of(long n)
{
	long runs = fx_runs;
	for (long k = 1; k <= n; k++) {
		long r = fx_rdi(k);
		if (r != k * 3 + 1)
			cr_assert_fail("key %ld answered %ld", k, r);
	}
	return fx_runs - runs;
}

Test(fast, a_working_set_larger_than_the_table_grows_it_and_then_hits)
{
	enum { KEYS = 3000 }; /* more than 1,024 sets hold, fewer than 4,096 */
	round_of(KEYS);
	cr_expect_eq(set_bits(), LM_FAST_SET_BITS, "new keys never grow it");
	stored = true; /* the keys come back: the store has them */
	for (int r = 0; r < 3; r++)
		round_of(KEYS);
	cr_expect_eq(set_bits(), LM_FAST_SET_BITS + LM_FAST_GROW_BITS, "grown once");
	cr_expect_eq(round_of(KEYS), 0, "every key hits in the grown table");
}

/* A stream of keys never seen before pushes copies out of the table too;
 * growing it for them would only make each probe of theirs a cache miss
 * (a miss that stores cost 550 ns at a million new keys, two of them in
 * the probes of a table grown to its maximum). */
Test(fast, a_stream_of_new_keys_does_not_grow_the_table)
{
	for (long k = 1; k <= 20000; k++)
		if (fx_rdi(k) != k * 3 + 1)
			cr_assert_fail("key %ld", k);
	cr_expect_eq(set_bits(), LM_FAST_SET_BITS);
}

Test(fast, a_working_set_that_fits_does_not_grow_the_table)
{
	for (int r = 0; r < 5; r++) {
		stored = r > 0; /* the keys come back: the store has them */
		round_of(1000);
	}
	cr_expect_eq(set_bits(), LM_FAST_SET_BITS);
}

/* Regression: doubles that differ only in their high half (0.25 + k)
 * crowded a few second sets of the first table, and a loop over 1,000 of
 * them pushed copies out every round until the table grew 4x. */
Test(fast, a_thousand_small_doubles_stay_in_the_first_table)
{
	for (int r = 0; r < 200; r++) {
		stored = r > 0; /* the keys come back: the store has them */
		for (int k = 0; k < 1000; k++)
			if (fx_xmm0(0.25 + k) != (0.25 + k) * 0.5 - 1.0)
				cr_assert_fail("key %d answered wrong", k);
	}
	long runs = fx_runs;
	for (int k = 0; k < 1000; k++)
		fx_xmm0(0.25 + k);
	cr_expect_eq(fx_runs, runs, "every key hits");
	cr_expect_eq(set_bits(), LM_FAST_SET_BITS, "the table did not grow");
}

Test(fast, a_table_grows_no_further_than_the_maximum)
{
	fx_rdi(1);
	while (lm_fast_grow())
		;
	cr_expect_eq(set_bits(), LM_FAST_MAX_SET_BITS);
	cr_expect_eq(lm_fast_table->mask[0], (1u << LM_FAST_MAX_SET_BITS) - 1);
	cr_expect_eq(lm_fast_table->mask[1], ((1u << LM_FAST_MAX_SET_BITS) - 1) << 7);
	/* a working set beyond it: misses, and right answers */
	for (int r = 0; r < 2; r++)
		round_of(40000);
	cr_expect_eq(set_bits(), LM_FAST_MAX_SET_BITS);
}

/* ---- A table the working set outgrows -------------------------------------
 * At the maximum size, a table that answers fewer than a quarter of its
 * thread's calls over a window (as many results as it has slots) is set
 * aside: the thunk no longer probes it, and results are not kept. Some
 * windows later it is tried again. */

static uint32_t busy_word(void)
{
	return __atomic_load_n(&lm_fast_table->busy, __ATOMIC_RELAXED);
}

Test(fast, an_outgrown_table_is_set_aside_and_later_tried_again)
{
	fx_rdi(1);
	while (lm_fast_grow())
		;
	const long slots = 2L << LM_FAST_MAX_SET_BITS;
	/* a window of keys seen once: no call is the table's */
	long k = 1000000;
	for (long i = 0; i < slots; i++, k++)
		if (fx_rdi(k) != k * 3 + 1)
			cr_assert_fail("key %ld", k);
	cr_assert_eq(busy_word(), LM_FAST_SKIPPING, "set aside after one window");
	cr_expect(!lm_fast_busy(), "aside is not inside a lookup");
	/* aside: right answers, and nothing kept (the second call runs too) */
	long runs = fx_runs;
	cr_expect_eq(fx_rdi(5), 16);
	cr_expect_eq(fx_rdi(5), 16);
	cr_expect_eq(fx_runs, runs + 2, "no copy kept while aside");
	/* tried again within 16 windows */
	long i = 0;
	for (; busy_word() == LM_FAST_SKIPPING && i < 16 * slots; i++, k++)
		if (fx_rdi(k) != k * 3 + 1)
			cr_assert_fail("key %ld", k);
	cr_assert_eq(busy_word(), 0, "tried again after %ld calls", i);
	cr_expect_geq(i, slots, "aside for more than a window");
	/* a working set that fits is kept and hit, and keeps the table */
	round_of(1000);
	cr_expect_eq(round_of(1000), 0, "every key hits");
	for (long j = 0; j < slots / 1000 + 1; j++)
		round_of(1000);
	cr_expect_eq(busy_word(), 0, "a table that answers its calls stays");
}

/* A forked child's counters start from zero, below the count its
 * table's window began at: the window counts from zero too, and a child
 * whose calls all miss still sets the table aside. */
Test(fast, a_window_spanning_a_fork_counts_the_childs_calls)
{
	fx_rdi(1);
	while (lm_fast_grow())
		;
	const long slots = 2L << LM_FAST_MAX_SET_BITS;
	/* a window before the fork, each key missed once and hit once: its
	 * end leaves the next window's start at twice the slots in calls */
	for (long k = 1; k <= slots; k++) {
		fx_rdi(k + 1000000);
		fx_rdi(k + 1000000);
	}
	cr_assert_eq(busy_word(), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		lm_counters_reset(); /* as the shim's atfork handler does */
		for (long k = 1; k <= slots; k++)
			fx_rdi(k + 5000000);
		_exit(busy_word() == LM_FAST_SKIPPING ? 0 : 1);
	}
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's table is set aside");
}

Test(fast, a_table_that_answers_a_quarter_of_its_calls_stays)
{
	fx_rdi(1);
	while (lm_fast_grow())
		;
	const long slots = 2L << LM_FAST_MAX_SET_BITS;
	/* each new key once, then hit twice: 1/3 of the calls miss */
	for (long k = 1; k <= slots + 1; k++)
		for (int r = 0; r < 3; r++)
			if (fx_rdi(k) != k * 3 + 1)
				cr_assert_fail("key %ld", k);
	cr_expect_eq(busy_word(), 0);
}

/* A call the dispatcher counts as bypassed may still keep a copy (a fill
 * while the shared tier is down): it is one of the thread's calls. */
Test(fast, a_table_judges_bypassed_calls_as_calls)
{
	fx_rdi(1);
	while (lm_fast_grow())
		;
	const long slots = 2L << LM_FAST_MAX_SET_BITS;
	bypassed = true;
	/* each new key once (bypassed, kept), then hit: half the calls miss */
	for (long k = 1; k <= slots + 1; k++)
		for (int r = 0; r < 2; r++)
			if (fx_rdi(k) != k * 3 + 1)
				cr_assert_fail("key %ld", k);
	bypassed = false;
	cr_expect_eq(busy_word(), 0, "a table answering half the calls stays");
}

/* SIXTEEN new keys of fx_rdi from FIRST, called as store hits, then
 * again: how many of the second calls ran the function. */
static long store_hits_not_kept(long first)
{
	stored = true;
	long runs = fx_runs;
	for (long k = first; k < first + 16; k++)
		fx_rdi(k);
	stored = false;
	cr_expect_eq(fx_runs - runs, 16);
	runs = fx_runs;
	for (long k = first; k < first + 16; k++)
		cr_expect_eq(fx_rdi(k), k * 3 + 1);
	return fx_runs - runs;
}

Test(fast, a_full_sized_table_keeps_the_store_hits_that_find_room)
{
	fx_rdi(1);
	while (lm_fast_grow())
		;
	cr_expect_eq(store_hits_not_kept(100), 0, "all sixteen kept");
}

/* In a table filled to the brim, a store hit's copy would mostly push out
 * another: one in eight of those is kept; the few that still find room
 * are kept too. (Each key is called twice while it fills: the table
 * answers half the calls and is not set aside.) */
Test(fast, a_full_table_keeps_one_store_hit_in_eight)
{
	fx_rdi(1);
	while (lm_fast_grow())
		;
	const long slots = 2L << LM_FAST_MAX_SET_BITS;
	for (long k = 1; k <= slots + slots / 8; k++) {
		fx_rdi(k);
		fx_rdi(k);
	}
	cr_assert_eq(busy_word(), 0);
	long n = store_hits_not_kept(10 * slots);
	cr_expect(n >= 8 && n <= 14, "two or more of the sixteen kept, most not: %ld ran", n);
}

Test(fast, a_smaller_table_keeps_every_store_hit)
{
	stored = true;
	long runs = fx_runs;
	for (long k = 100; k < 116; k++)
		fx_rdi(k);
	stored = false;
	cr_expect_eq(set_bits(), LM_FAST_SET_BITS);
	cr_expect_eq(fx_runs - runs, 16);
	runs = fx_runs;
	for (long k = 100; k < 116; k++)
		cr_expect_eq(fx_rdi(k), k * 3 + 1);
	cr_expect_eq(fx_runs - runs, 0, "all sixteen kept");
}

/* Growth moves the copies still valid, each with its epoch: a drop after
 * it refuses them, and one before it leaves them behind. */
Test(fast, a_grown_table_honours_drops)
{
	MISS_THEN_HIT(fx_rdi(7));
	fx_rdi(8);
	epoch++;
	cr_assert(lm_fast_grow());
	long runs = fx_runs;
	cr_expect_eq(fx_rdi(8), 25);
	cr_expect_eq(fx_runs, runs + 1, "dropped before the growth: not moved");
	MISS_THEN_HIT(fx_rdi(9));
	cr_assert(lm_fast_grow());
	runs = fx_runs;
	cr_expect_eq(fx_rdi(9), 28);
	cr_expect_eq(fx_runs, runs, "moved");
	epoch++;
	MISS_THEN_HIT(fx_rdi(9));
}

Test(fast, a_grown_table_honours_expiry)
{
	if (!lm_fast_clock)
		cr_skip_test("no vDSO clock here (valgrind?)");
	expires = lm_clock_ms() + 60000;
	MISS_THEN_HIT(fx_rdi(31));
	cr_assert(lm_fast_grow());
	long runs = fx_runs;
	fx_rdi(31);
	cr_expect_eq(fx_runs, runs, "an expiry in the future moves and hits");
	expires = lm_clock_ms() - 5;
	fx_rdi(32);
	runs = fx_runs;
	fx_rdi(32);
	cr_expect_eq(fx_runs, runs + 1, "an expired copy is no hit");
}

/* KEY's copy (filled by CALL), alone in the table at slot J of its set I
 * as C computes it: the thunk must find it there. */
static void found_where_c_puts_it(const struct shape_case *c, const uint64_t key[2], int i, int j)
{
	const struct lm_fast_desc *d = desc_of(c->name);
	uint64_t want = c->call(key[0], key[1]);
	uint32_t set[2];
	lm_fast_sets(d, set_bits(), key[0], key[1], set);
	struct lm_fast_slot *t = lm_fast_table->slot, copy = {0};
	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 2; b++) {
			struct lm_fast_slot *s = &t[set[a] + b];
			if (s->head == (const struct lm_hook_head *)
			                   hooks[lm_config_find_method(&cfg, c->name)] &&
			    s->k[0] == (key[0] & d->mask[0]) && s->k[1] == (key[1] & d->mask[1]))
				copy = *s;
			*s = (struct lm_fast_slot){0};
		}
	cr_assert_not_null(copy.head, "%s: the fill used C's sets (2^%u sets)", c->name,
	                   set_bits());
	t[set[i] + j] = copy;
	long runs = fx_runs;
	uint64_t got = c->call(key[0], key[1]);
	cr_expect_eq(fx_runs, runs, "%s, %#lx %#lx: a hit in set %d slot %d (2^%u sets)", c->name,
	             (unsigned long)key[0], (unsigned long)key[1], i, j, set_bits());
	cr_expect_eq(got, want, "%s: the copy's result", c->name);
}

/* The thunk's set numbers are C's (lm_fast_sets), first and second, at
 * every table size. */
Test(fast, the_c_hash_is_the_thunks_at_every_size)
{
	fx_rdi(1);
	for (;;) {
		for (size_t n = 0; n < sizeof shape_cases / sizeof shape_cases[0]; n++) {
			const struct shape_case *c = &shape_cases[n];
			uint64_t key[2] = {c->base[0], c->base[1]};
			for (int r = 0; r < 64; r++) {
				found_where_c_puts_it(c, key, r & 1, (r >> 1) & 1);
				key[0] += c->step[0];
				key[1] += c->step[1] * (r & 1);
			}
		}
		if (!lm_fast_grow())
			break;
	}
	cr_expect_eq(set_bits(), LM_FAST_MAX_SET_BITS);
}

/* None of the LEN bytes at P (page-aligned) is mapped any more. */
static void expect_unmapped(const void *p, size_t len, const char *what)
{
	errno = 0;
	cr_expect_eq(msync((void *)(uintptr_t)p, len, MS_ASYNC), -1, "%s is unmapped", what);
	cr_expect_eq(errno, ENOMEM, "%s", what);
}

/* Run FN on a thread of its own: what it returned. */
static void *on_a_thread(void *(*fn)(void *))
{
	pthread_t t;
	void *r = NULL;
	cr_assert_eq(pthread_create(&t, NULL, fn, NULL), 0);
	pthread_join(t, &r);
	return r;
}

static struct lm_fast_table *exited[2];

static void *growing_thread(void *arg)
{
	(void)arg;
	fx_rdi(1);
	exited[0] = lm_fast_table;
	lm_fast_grow();
	exited[1] = lm_fast_table;
	lm_fast_grow();
	return lm_fast_table;
}

/* The pool hands out the last block given back of a size first: a thread
 * that grew its table gave the smaller sizes back; one of 2 MiB, mapped on
 * its own, is unmapped at its exit. */
Test(fast, thread_exit_returns_the_grown_table)
{
	void *last = on_a_thread(growing_thread);
	cr_assert_neq(last, exited[1], "the thread's table grew");
	size_t bytes = lm_fast_table_bytes(LM_FAST_SET_BITS + LM_FAST_GROW_BITS);
	void *p = lm_tpool_take(bytes);
	cr_expect_eq(p, exited[1], "the table it replaced is back in the pool");
	lm_tpool_give(p, bytes);
	expect_unmapped((unsigned char *)last + LM_FT_SLOTS - 4096,
	                4096 + lm_fast_table_bytes(LM_FAST_SET_BITS + 2 * LM_FAST_GROW_BITS) -
	                    LM_FT_SLOTS,
	                "the grown table");
}

/* The largest table's slots lie on one 2 MiB page, for the kernel to back
 * with a huge one. */
Test(fast, the_largest_table_is_aligned_for_a_huge_page)
{
	fx_rdi(1);
	while (lm_fast_grow())
		;
	cr_expect_eq((uintptr_t)lm_fast_table->slot % (2u << 20), 0);
}

/* So do the bytes kept beside its slots (an out buffer's): advised to be
 * huge pages, and unmapped with the thread. */
static bool out_blob_huge;

static void *out_thread(void *arg)
{
	(void)arg;
	unsigned char buf[64];
	fx_out(1, buf);
	while (lm_fast_grow())
		;
	fx_out(2, buf);
	unsigned char *blob = (unsigned char *)lm_fast_table->slot + lm_fast_table->blob;
	out_blob_huge = vma_huge_advised(blob);
	return blob;
}

Test(fast, the_largest_tables_kept_bytes_are_huge_and_go_with_the_thread)
{
	void *blob = on_a_thread(out_thread);
	cr_expect_eq((uintptr_t)blob % (2u << 20), 0, "at %p", blob);
	cr_expect(out_blob_huge, "advised MADV_HUGEPAGE");
	expect_unmapped(blob, 4096, "the kept bytes, at the thread's exit,");
}

/* A huge table grown out of keeps its mapping, its pages given back (they
 * read as zeros), until the thread's exit: a thunk a signal interrupted
 * between loading it and marking it busy may still read its header. */
static bool retired_mapped, retired_zero;
static void *retired_page;

static void *retiring_thread(void *arg)
{
	(void)arg;
	fx_rdi(1);
	while (lm_fast_table->set_bits < LM_FAST_MAX_SET_BITS - LM_FAST_GROW_BITS)
		lm_fast_grow();
	struct lm_fast_table *old = lm_fast_table;
	cr_assert(lm_fast_grow());
	retired_page = (unsigned char *)old + LM_FT_SLOTS - 4096;
	retired_mapped = msync(retired_page, 4096, MS_ASYNC) == 0;
	retired_zero = old->mask[0] == 0 && old->mask[1] == 0 && old->slot[0].head == NULL &&
	               __atomic_load_n(&old->busy, __ATOMIC_RELAXED) == 0;
	return NULL;
}

Test(fast, a_huge_table_grown_out_of_reads_zero_until_the_thread_exits)
{
	on_a_thread(retiring_thread);
	cr_expect(retired_mapped, "still mapped after the growth");
	cr_expect(retired_zero, "its header and slots read zero");
	expect_unmapped(retired_page, 4096, "the retired table, at the thread's exit,");
}

/* ---- the out shape (`int get(long id, out(64) buf)`) ---------------- */

/* What fx_out leaves in a buffer for X. */
static void out_of(long x, unsigned char want[64])
{
	for (int i = 0; i < 64; i++)
		want[i] = (unsigned char)(x * 7 + i * 13);
}

Test(fast, an_out_hit_copies_the_bytes_and_skips_the_function)
{
	unsigned char a[64], b[64], want[64];
	out_of(1234, want);
	long runs = fx_runs;
	cr_expect_eq(fx_out(1234, a), 234 - 500);
	cr_expect_eq(fx_runs, runs + 1, "the first call runs");
	memset(b, 0xee, sizeof b);
	errno = 0;
	cr_expect_eq(fx_out(1234, b), 234 - 500);
	cr_expect_eq(fx_runs, runs + 1, "the second is a hit");
	cr_expect_eq(errno, 1234 & 15, "errno as the function left it");
	cr_expect(memcmp(b, want, sizeof want) == 0, "the bytes of the copy");

	/* 16 bytes: the caller's bytes past them stay */
	unsigned char c[32];
	fx_out_void(9, c);
	runs = fx_runs;
	memset(c, 0xee, sizeof c);
	fx_out_void(9, c);
	cr_expect_eq(fx_runs, runs, "a hit");
	for (int i = 0; i < 32; i++)
		cr_expect_eq(c[i], i < 16 ? 9 + i : 0xee, "byte %d", i);
}

/* A NULL out is another key (its tag) and not the thunk's: the function
 * runs every time, and the copy of the non-NULL call stays. */
Test(fast, a_null_out_runs_the_function)
{
	unsigned char a[64], want[64];
	out_of(55, want);
	fx_out(55, a);
	long runs = fx_runs;
	cr_expect_eq(fx_out(55, NULL), 55 - 500);
	cr_expect_eq(fx_out(55, NULL), 55 - 500);
	cr_expect_eq(fx_runs, runs + 2, "both ran");
	memset(a, 0, sizeof a);
	cr_expect_eq(fx_out(55, a), 55 - 500);
	cr_expect_eq(fx_runs, runs + 2, "a hit");
	cr_expect(memcmp(a, want, sizeof want) == 0);
	/* a NULL out's call keeps no copy for the next non-NULL one */
	fx_out(56, NULL);
	runs = fx_runs;
	fx_out(56, a);
	cr_expect_eq(fx_runs, runs + 1, "no copy from the NULL call");
}

Test(fast, registers_survive_an_out_hit)
{
	unsigned char buf[64];
	struct fx_regs in = fx_canaries(), out;
	in.gpr[R_RDI] = 4321;
	in.gpr[R_RSI] = (uint64_t)(uintptr_t)buf;
	fx_call((void *)fx_out, &in, &out);
	long runs = fx_runs;
	memset(buf, 0, sizeof buf);
	fx_call((void *)fx_out, &in, &out);
	cr_expect_eq(fx_runs, runs, "a hit");
	cr_expect_eq((int)out.gpr[R_RAX], 321 - 500);
	fx_expect_kept(&in, &out, R_RAX, -1, "int, out");
	unsigned char want[64];
	out_of(4321, want);
	cr_expect(memcmp(buf, want, sizeof want) == 0);

	fx_call((void *)fx_out_void, &in, &out);
	runs = fx_runs;
	fx_call((void *)fx_out_void, &in, &out);
	cr_expect_eq(fx_runs, runs, "a hit");
	fx_expect_kept(&in, &out, -1, -1, "void, out");
}

Test(fast, a_moved_epoch_or_an_expiry_refuses_an_out_copy)
{
	unsigned char a[64];
	fx_out(8, a);
	epoch++;
	long runs = fx_runs;
	fx_out(8, a);
	cr_expect_eq(fx_runs, runs + 1, "dropped");
	expires = lm_clock_ms() - 1;
	fx_out(9, a);
	fx_out(9, a);
	cr_expect_eq(fx_runs, runs + 3, "expired");
}

/* Copies move between slots (a second choice, the older of a full set)
 * and into a grown table: each with its own bytes. */
Test(fast, out_copies_keep_their_bytes_through_moves_and_growth)
{
	enum { KEYS = 3000 }; /* grows the first table once, as round_of's */
	unsigned char buf[64], want[64];
	for (int r = 0; r < 4; r++)
		for (long k = 0; k < KEYS; k++) {
			stored = r > 0; /* the keys come back: the store has them */
			long x = k * 977 + 3;
			memset(buf, 0, sizeof buf);
			int ret = fx_out(x, buf);
			out_of(x, want);
			if (ret != (int)(x % 1000) - 500 || memcmp(buf, want, sizeof want) != 0)
				cr_assert_fail("round %d, key %ld: wrong answer", r, x);
		}
	cr_expect_eq(set_bits(), LM_FAST_SET_BITS + LM_FAST_GROW_BITS, "grown once");
	long runs = fx_runs;
	for (long k = 0; k < KEYS; k++)
		fx_out(k * 977 + 3, buf);
	cr_expect_eq(fx_runs, runs, "every key hits in the grown table");
}

/* ---- the string shape (`long h(str s)`) ------------------------------- */

/* Strings the tests hit with start here: at a page's start, no 8-byte
 * read of them crosses a page (one that would goes to lm_thunk, and the
 * function runs again). */
static char page_buf[256] __attribute__((aligned(4096)));

/* S copied to page_buf. */
static const char *at_page_start(const char *s)
{
	return strcpy(page_buf, s);
}

/* fx_str's answer, computed here. */
static long str_of(const char *s)
{
	unsigned long h = 7;
	for (size_t n = 0; s[n]; n++)
		h = h * 31 + (unsigned char)s[n];
	return (long)h;
}

/* Every length up to the longest kept and one more, at every alignment:
 * the second call hits with the first one's answer (65 bytes: never), and
 * the same bytes elsewhere hit too. */
Test(fast, string_keys_hit_at_every_length_and_alignment)
{
	/* at a page's start: no 8-byte read of these strings crosses a page
	 * (one that would goes to lm_thunk, and the function runs) */
	static char buf[2][128] __attribute__((aligned(4096)));
	for (unsigned len = 0; len <= LM_FAST_STR_MAX + 1; len++)
		for (unsigned a = 0; a < 8; a++) {
			char *s = buf[0] + a, *t = buf[1] + 7 - a;
			for (unsigned i = 0; i < len; i++)
				s[i] = t[i] = (char)('a' + (len * 3 + i * 7 + a) % 26);
			s[len] = t[len] = '\0';
			s[len + 1] = 'x'; /* past the NUL, not in the key */
			t[len + 1] = 'y';
			long runs = fx_runs;
			cr_assert_eq(fx_str(s), str_of(s), "length %u, alignment %u", len, a);
			errno = 0;
			cr_assert_eq(fx_str(s), str_of(s));
			cr_assert_eq(fx_str(t), str_of(s));
			/* (the empty string is one key at every alignment) */
			long want = len > LM_FAST_STR_MAX ? runs + 3 : len || !a ? runs + 1 : runs;
			cr_assert_eq(fx_runs, want, "length %u, alignment %u: runs", len, a);
			cr_assert_eq(errno, (int)(len & 31), "errno");
		}
}

/* The key words (hash, length) only choose the slot: a copy whose bytes
 * differ from the call's in any word, the last partial one included, is
 * not used. The slot's bytes are changed here, as a string with the same
 * words would have them. */
Test(fast, a_string_with_the_same_key_words_but_other_bytes_misses)
{
	const char *s = at_page_start("a string of some twenty-nine");
	fx_str(s);
	long runs = fx_runs;
	fx_str(s);
	cr_assert_eq(fx_runs, runs, "a hit");
	struct lm_fast_table *t = lm_fast_table;
	size_t len = strlen(s);
	for (size_t at = 0; at < len; at += 5) {
		unsigned char *b = NULL;
		for (size_t i = 0; i < (size_t)2 << t->set_bits; i++)
			if (t->slot[i].head && t->slot[i].k[1] == len)
				b = (unsigned char *)&t->slot[i] + t->blob;
		cr_assert_not_null(b);
		b[at] ^= 1;
		runs = fx_runs;
		cr_expect_eq(fx_str(s), str_of(s));
		cr_expect_eq(fx_runs, runs + 1, "byte %zu changed: a miss", at);
		fx_str(s); /* the copy made again */
		t = lm_fast_table;
	}
}

Test(fast, a_null_string_runs_the_function)
{
	long runs = fx_runs;
	cr_expect_eq(fx_str(NULL), -1);
	cr_expect_eq(fx_str(NULL), -1);
	cr_expect_eq(fx_runs, runs + 2);
	const char *empty = at_page_start("");
	fx_str(empty);
	runs = fx_runs;
	cr_expect_eq(fx_str(empty), 7);
	cr_expect_eq(fx_runs, runs, "the empty string is a key of its own");
	cr_expect_eq(fx_str(NULL), -1);
}

/* A string that ends at a page's end, the next page unreadable: the thunk
 * reads no further (its last 8-byte read would cross: it leaves the call
 * to lm_thunk), and the answers are right. */
Test(fast, a_string_at_a_page_end_reads_no_further)
{
	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(m != MAP_FAILED);
	cr_assert_eq(mprotect(m + page, page, PROT_NONE), 0);
	for (unsigned len = 0; len < 40; len++) {
		char *s = m + page - 1 - len;
		memset(s, 'p', len);
		s[len] = '\0';
		cr_assert_eq(fx_str(s), str_of(s));
		cr_assert_eq(fx_str(s), str_of(s));
	}
	munmap(m, 2 * page);
}

Test(fast, registers_survive_a_string_hit)
{
	const char *s = at_page_start("registers");
	struct fx_regs in = fx_canaries(), out;
	in.gpr[R_RDI] = (uint64_t)(uintptr_t)s;
	fx_call((void *)fx_str, &in, &out);
	long runs = fx_runs;
	fx_call((void *)fx_str, &in, &out);
	cr_expect_eq(fx_runs, runs, "a hit");
	cr_expect_eq((long)out.gpr[R_RAX], str_of(s));
	fx_expect_kept(&in, &out, R_RAX, -1, "str");
}

Test(fast, the_c_string_key_is_the_thunks)
{
	/* a hit needs the slot where the C side put it: every length */
	char *s = page_buf;
	for (unsigned len = 0; len <= LM_FAST_STR_MAX; len++) {
		for (unsigned i = 0; i < len; i++)
			s[i] = (char)(' ' + (i * 11 + len) % 90);
		s[len] = '\0';
		fx_str(s);
		long runs = fx_runs;
		fx_str(s);
		cr_expect_eq(fx_runs, runs, "length %u: a hit", len);
	}
}

/* While the dispatcher still checks a method's pointer arguments (its
 * gate is not 0), the string and out thunks read no argument and answer
 * nothing: every call runs. Then they hit. */
Test(fast, string_and_out_thunks_wait_for_the_pointer_checks)
{
	static uint32_t pending = 3;
	const char *names[] = {"fx_str", "fx_out"};
	for (int i = 0; i < 2; i++)
		((struct lm_hook_head *)hooks[lm_config_find_method(&cfg, names[i])])->fast.gate =
		    &pending;
	unsigned char buf[64];
	long runs = fx_runs;
	const char *gated = at_page_start("gated");
	for (int i = 0; i < 3; i++) {
		fx_str(gated);
		fx_out(17, buf);
	}
	cr_expect_eq(fx_runs, runs + 6, "every call ran");
	pending = 0;
	runs = fx_runs;
	cr_expect_eq(fx_str(gated), str_of(gated));
	cr_expect_eq(fx_out(17, buf), 17 - 500);
	cr_expect_eq(fx_runs, runs, "both hit once the checks are done");
}
