/* lm_thunk's quick path for front-cache hits (lm_dispatch_quick_front,
 * shim/call/quick.c): answers `long h(str s)` and `int u(i64 id, out(64)
 * out)` from the thread's copies with the truth, and only while the copy
 * holds (drops, expiry); everything else goes on to the dispatcher. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "config/config.h"
#include "shim/base/clock.h"
#include "shim/base/guard.h"
#include "shim/call/counters.h"
#include "shim/call/dispatch.h"
#include "shim/call/fast.h"
#include "shim/call/front.h"
#include "shim/call/runtime.h"

static const char conf[] = "[cache h]\nsignature = long h(str s)\n"
                           "[cache u]\nsignature = int u(i64 id, out(64) out)\n"
                           "when = ret == 0\n";
enum { H, U };

static struct lm_config cfg;
static struct lm_store *store;
static struct lm_rt_method methods[2];
static struct lm_hook_head heads[2];

static void setup(void)
{
	struct lm_diags d = {0};
	cr_assert_eq(lm_config_parse(conf, sizeof conf - 1, "quick.conf", &cfg, &d), 0);
	lm_diags_free(&d);
	struct lm_store_cfg sc = {.max_entries = 1000, .max_memory = 1 << 20, .nmethods = 2};
	store = lm_store_new(&sc);
	cr_assert(store != NULL);
	lm_counters_init(2);
	cr_assert_eq(lm_counters_attach(), 0);
	lm_fast_init(); /* errno's place and the vDSO clock */
	for (uint32_t i = 0; i < 2; i++) {
		char why[200] = "";
		methods[i].id = i;
		methods[i].plan = lm_plan_compile(&cfg, &cfg.methods[i], i, why, sizeof why);
		cr_assert_not_null(methods[i].plan, "%s", why);
		cr_assert(lm_plan_quick_front(methods[i].plan));
		heads[i].ctx = &methods[i];
	}
}

static void teardown(void)
{
	lm_store_free(store);
}

TestSuite(quick_front, .init = setup, .fini = teardown);

/* The functions the copies stand for. */
static long truth_h(const char *s)
{
	unsigned long v = 17; /* wraps: a signed overflow is UB (UBSan's report set errno) */
	for (; *s; s++)
		v = v * 31 + (unsigned char)*s;
	return (long)v;
}

static int truth_u(long id, char *out)
{
	for (int i = 0; i < 64; i++)
		out[i] = (char)(id * 13 + i);
	return id % 5 == 0 ? -1 : 0;
}

/* The copy a miss keeps of the call in F (results filled) with errno ERR. */
static void keep(uint32_t id, const struct lm_frame *f, int err, int64_t expires)
{
	struct lm_buf k = {0}, v = {0};
	uint64_t epoch = lm_store_copy_epoch_now(store, id);
	cr_assert_eq(lm_plan_key(methods[id].plan, f, &k), 0);
	cr_assert_eq(lm_plan_capture(methods[id].plan, f, err, &v), 0);
	lm_front_put(lm_store_copy_epoch(store, id), id, k.p, (uint32_t)k.len, v.p, v.len, expires,
	             epoch);
	lm_buf_free(&k);
	lm_buf_free(&v);
}

static struct lm_frame h_frame(const char *s)
{
	struct lm_frame f = {0};
	f.gpr[0] = (uint64_t)(uintptr_t)s;
	return f;
}

static void keep_h(const char *s, int err, int64_t expires)
{
	struct lm_frame f = h_frame(s);
	f.ret_rax = (uint64_t)truth_h(s);
	keep(H, &f, err, expires);
}

static int quick(uint32_t id, struct lm_frame *f)
{
	return lm_dispatch_quick_front((struct lm_hook *)&heads[id], f);
}

/* Strings of 16 to 64 bytes, as the bench's, at every alignment. */
static void string_of(char *buf, unsigned k)
{
	snprintf(buf, 96, "user-%08u-%s", k, "padding-padding-padding-padding-padding-padding");
	buf[16 + k % 49] = '\0';
}

Test(quick_front, str_hits_answer_the_truth_and_are_counted)
{
	char store_s[128], call_s[136];
	for (unsigned k = 0; k < 200; k++) {
		string_of(store_s, k);
		keep_h(store_s, 0, INT64_MAX);
		/* the caller's copy of the string, elsewhere, at another alignment */
		char *s = call_s + k % 8;
		strcpy(s, store_s);
		struct lm_frame f = h_frame(s);
		uint64_t before = lm_quick_front_hits;
		errno = 77;
		cr_assert_eq(quick(H, &f), LM_ENTER_RETURN, "key %u answered quickly", k);
		cr_assert_eq((long)f.ret_rax, truth_h(s), "key %u", k);
		cr_assert_eq(errno, 0, "the stored errno");
		cr_assert_eq(lm_quick_front_hits, before + 1);
	}
	cr_expect_eq(lm_counters_sum(H, LM_C_hits), 200);
	char other[128];
	string_of(other, 9999);
	struct lm_frame f = h_frame(other);
	cr_expect_eq(quick(H, &f), LM_ENTER_CALL, "a key with no copy goes on");
	f = h_frame(NULL);
	cr_expect_eq(quick(H, &f), LM_ENTER_CALL, "nor NULL");
}

Test(quick_front, a_stored_errno_is_replayed)
{
	keep_h("a string of some length", ENOENT, INT64_MAX);
	struct lm_frame f = h_frame("a string of some length");
	errno = 0;
	cr_assert_eq(quick(H, &f), LM_ENTER_RETURN);
	cr_expect_eq(errno, ENOENT);
}

Test(quick_front, a_drop_ends_the_quick_hits)
{
	const char *a = "0123456789abcdefghij", *b = "another key, longer than the first";
	keep_h(a, 0, INT64_MAX);
	keep_h(b, 0, INT64_MAX);
	struct lm_frame f = h_frame(a);
	cr_assert_eq(quick(H, &f), LM_ENTER_RETURN);
	lm_store_drop_key(store, H, 1, "x", 1);
	f = h_frame(a);
	cr_expect_eq(quick(H, &f), LM_ENTER_CALL, "a drop of any key moves the copy epoch");
	f = h_frame(b);
	cr_expect_eq(quick(H, &f), LM_ENTER_CALL);
	keep_h(a, 0, INT64_MAX);
	f = h_frame(a);
	cr_expect_eq(quick(H, &f), LM_ENTER_RETURN, "a copy taken after the drop answers");
	lm_store_drop_method(store, H);
	f = h_frame(a);
	cr_expect_eq(quick(H, &f), LM_ENTER_CALL);
}

Test(quick_front, an_expired_copy_is_not_used)
{
	const char *a = "expiring key of 24 bytes", *b = "a key that lives a minute";
	keep_h(a, 0, lm_clock_ms() - 1);
	keep_h(b, 0, lm_clock_ms() + 60000);
	struct lm_frame f = h_frame(a);
	cr_expect_eq(quick(H, &f), LM_ENTER_CALL);
	f = h_frame(b);
	cr_expect_eq(quick(H, &f), LM_ENTER_RETURN);
	cr_expect_eq((long)f.ret_rax, truth_h(b));
}

/* The out buffer is written whole on every hit, over whatever the
 * caller put there; a negative (ret -1) replays as well. */
Test(quick_front, out_hits_write_the_truth_over_the_callers_bytes)
{
	for (long id = 1; id <= 40; id++) {
		char out[64], want[64];
		struct lm_frame f = {0};
		f.gpr[0] = (uint64_t)(id * 1000003);
		f.gpr[1] = (uint64_t)(uintptr_t)want;
		f.ret_rax = (uint64_t)(unsigned)truth_u(id * 1000003, want);
		keep(U, &f, 0, INT64_MAX);
		for (int round = 0; round < 2; round++) {
			memset(out, round ? 0 : 0x7f, sizeof out);
			out[round * 17] = 'X'; /* the caller wrote into it */
			struct lm_frame q = {0};
			q.gpr[0] = (uint64_t)(id * 1000003);
			q.gpr[1] = (uint64_t)(uintptr_t)out;
			q.ret_rax = 0xdeadbeef;
			uint64_t before = lm_quick_front_hits;
			cr_assert_eq(quick(U, &q), LM_ENTER_RETURN, "id %ld", id);
			cr_assert_eq((int)q.ret_rax, truth_u(id * 1000003, want));
			cr_assert(memcmp(out, want, 64) == 0, "id %ld, round %d", id, round);
			cr_assert_eq(lm_quick_front_hits, before + 1);
		}
	}
	/* the same id without a buffer is another key: not stored */
	struct lm_frame q = {0};
	q.gpr[0] = 1000003;
	cr_expect_eq(quick(U, &q), LM_ENTER_CALL);
}

Test(quick_front, out_copies_end_with_a_drop_and_expiry)
{
	char want[64], out[64];
	struct lm_frame f = {0};
	f.gpr[0] = 12;
	f.gpr[1] = (uint64_t)(uintptr_t)want;
	f.ret_rax = (uint64_t)truth_u(12, want);
	keep(U, &f, 0, lm_clock_ms() + 60000);
	struct lm_frame q = f;
	q.gpr[1] = (uint64_t)(uintptr_t)out;
	cr_assert_eq(quick(U, &q), LM_ENTER_RETURN);
	lm_store_drop_method(store, U);
	memset(out, 0, sizeof out);
	q.gpr[1] = (uint64_t)(uintptr_t)out;
	cr_expect_eq(quick(U, &q), LM_ENTER_CALL);
	for (int i = 0; i < 64; i++)
		cr_assert_eq(out[i], 0, "a refused hit writes nothing");
	keep(U, &f, 0, lm_clock_ms() - 1);
	cr_expect_eq(quick(U, &q), LM_ENTER_CALL);
}

/* Inside the shim (a signal handler that interrupted it, or a hooked
 * call made by the shim itself) the dispatcher decides: bypassed. */
Test(quick_front, a_call_inside_the_shim_goes_on_to_the_dispatcher)
{
	keep_h("inside the shim, a key", 0, INT64_MAX);
	struct lm_frame f = h_frame("inside the shim, a key");
	lm_guard_enter();
	uint64_t before = lm_quick_front_hits;
	cr_expect_eq(quick(H, &f), LM_ENTER_CALL);
	lm_guard_leave();
	cr_expect_eq(lm_quick_front_hits, before);
	cr_expect_eq(quick(H, &f), LM_ENTER_RETURN);
}
