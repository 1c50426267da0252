/* lm_thunk_static (arch/x86_64/thunk_static.S) and its C half,
 * lm_quick_entry (shim/call/quick.c): a static result's hit on a key in
 * the first argument register is answered before any register is saved,
 * and must give every register but rax back as the caller left it, set
 * errno to the record's, count the hit and write the buffer's bytes again
 * as the replay built them. Whatever it is not sure of goes on to
 * lm_thunk, whose enter here just calls the function. */
#include <criterion/criterion.h>
#include <errno.h>

#include "config/config.h"
#include "shim/base/guard.h"
#include "shim/call/counters.h"
#include "shim/call/fast.h"
#include "shim/call/reuse.h"
#include "shim/call/runtime.h"
#include "shim/hook/hook.h"
#include "tests/common/call_at.h"
#include "tests/fast/helpers.h"

extern const volatile int64_t *lm_fast_coarse;

static const char conf[] = "[type fx_rec]\nfields = i64 id, str name\n"
                           "[cache fx_static]\nsignature = static fx_rec* fx_static(i64 id)\n";

static struct lm_config cfg;
static struct lm_rt_method m;
static uint64_t copy_epoch; /* the method's copy epoch, as the store keeps it */
static struct lm_hook *hook;
static int passes; /* calls lm_thunk_static sent on to lm_thunk */

static int s_enter(struct lm_hook *h, struct lm_frame *f)
{
	(void)h;
	(void)f;
	passes++;
	return LM_ENTER_PASS;
}

static void s_leave(struct lm_hook *h, struct lm_frame *f)
{
	(void)h;
	(void)f;
}

static void setup(void)
{
	struct lm_diags d = {0};
	cr_assert_eq(lm_config_parse(conf, sizeof conf - 1, "static.conf", &cfg, &d), 0);
	lm_diags_free(&d);
	lm_counters_init(1);
	cr_assert_eq(lm_counters_attach(), 0);
	lm_fast_init();
	char why[200] = "";
	m.plan = lm_plan_compile(&cfg, &cfg.methods[0], 0, why, sizeof why);
	cr_assert_not_null(m.plan, "%s", why);
	m.reuse = true;
	m.qword = lm_plan_quick_word(m.plan);
	cr_assert_eq(m.qword.kind, LM_QW_RAW);
	cr_assert_eq(m.qword.off, 0);
	struct lm_hook_req req = fx_hook_req("fx_static", (void *)fx_static);
	req.enter = s_enter;
	req.leave = s_leave;
	req.ctx = &m;
	req.entry = lm_thunk_static;
	hook = lm_hook_prepare(&req, why, sizeof why);
	cr_assert_not_null(hook, "%s", why);
	cr_assert_eq(lm_hook_install(hook, why, sizeof why), 0, "%s", why);
}

TestSuite(static_thunk, .init = setup);

/* Keep a record of fx_static(ID) answered REC (NULL: a NULL answer) with
 * errno ERR, valid until EXPIRES_MS, as a hit of the dispatcher would:
 * the replay builds the thread's static buffer, which it returns. */
static struct fx_rec *keep(long id, const struct fx_rec *rec, int err, int64_t expires_ms)
{
	struct lm_frame f = {0};
	struct lm_buf k = {0}, v = {0};
	f.gpr[0] = (uint64_t)id;
	f.ret_rax = (uint64_t)(uintptr_t)rec;
	cr_assert_eq(lm_plan_key(m.plan, &f, &k), 0);
	cr_assert_eq(lm_plan_capture(m.plan, &f, err, &v), 0);
	int e;
	cr_assert_eq(lm_plan_replay(m.plan, v.p, v.len, &f, &e), 0);
	lm_reuse_put(&copy_epoch, m.plan, 0, k.p, (uint32_t)k.len, &f, err, expires_ms, copy_epoch);
	lm_buf_free(&k);
	lm_buf_free(&v);
	return (struct fx_rec *)(uintptr_t)f.ret_rax;
}

static const struct fx_rec five = {5, "five"};

Test(static_thunk, a_hit_keeps_every_register_but_rax)
{
	struct fx_rec *buf = keep(5, &five, 0, INT64_MAX);
	struct fx_regs in = fx_canaries(), out;
	in.gpr[R_RDI] = 5;
	long runs = fx_runs;
	fx_call((void *)fx_static, &in, &out);
	cr_expect_eq(fx_runs, runs, "a hit");
	cr_expect_eq(passes, 0);
	cr_expect_eq(out.gpr[R_RAX], (uint64_t)(uintptr_t)buf);
	fx_expect_kept(&in, &out, R_RAX, -1, "hit");
	cr_expect_eq(buf->id, 5);
	cr_expect_str_eq(buf->name, "five");
}

/* Another key goes on to lm_thunk and the function, with rax and rsi
 * (the thunk's own) as the caller left them. */
Test(static_thunk, another_key_runs_the_function)
{
	keep(5, &five, 0, INT64_MAX);
	long runs = fx_runs;
	struct fx_rec *r = fx_static(6);
	cr_expect_eq(fx_runs, runs + 1);
	cr_expect_eq(passes, 1);
	cr_expect_eq(r->id, 6);
	cr_expect_str_eq(r->name, "ran");
}

Test(static_thunk, a_null_record_answers_null)
{
	keep(4, NULL, 0, INT64_MAX);
	long runs = fx_runs;
	cr_expect_null(fx_static(4));
	cr_expect_eq(fx_runs, runs);
}

Test(static_thunk, errno_is_the_records_and_the_hit_is_counted)
{
	keep(5, &five, ENOENT, INT64_MAX);
	uint64_t hits = lm_counters_sum(0, LM_C_hits);
	errno = 0;
	fx_static(5);
	cr_expect_eq(errno, ENOENT);
	cr_expect_eq(lm_counters_sum(0, LM_C_hits), hits + 1);
}

/* What the caller wrote into the buffer is undone, as libc's next call
 * rewrites its own. */
Test(static_thunk, a_written_buffer_is_written_again)
{
	struct fx_rec *buf = keep(5, &five, 0, INT64_MAX);
	buf->id = 99;
	buf->name = "scribbled";
	cr_expect_eq(fx_static(5), buf);
	cr_expect_eq(buf->id, 5);
	cr_expect_str_eq(buf->name, "five");
	cr_expect_eq(passes, 0);
}

/* A caller that breaks the ABI's stack alignment (frame.h). */
Test(static_thunk, a_hit_and_a_pass_from_a_misaligned_stack)
{
	struct fx_rec *buf = keep(5, &five, 0, INT64_MAX);
	cr_expect_eq(tc_misaligned((void *)fx_static, 5), (long)(uintptr_t)buf);
	long runs = fx_runs;
	struct fx_rec *r = (struct fx_rec *)(uintptr_t)tc_misaligned((void *)fx_static, 7);
	cr_expect_eq(fx_runs, runs + 1);
	cr_expect_eq(r->id, 7);
}

/* The dispatcher's business (here: inside the shim) is not this path's. */
Test(static_thunk, inside_the_shim_the_call_goes_on)
{
	keep(5, &five, 0, INT64_MAX);
	long runs = fx_runs;
	lm_guard_enter();
	struct fx_rec *r = fx_static(5);
	lm_guard_leave();
	cr_expect_eq(fx_runs, runs + 1);
	cr_expect_str_eq(r->name, "ran");
}

/* A moved copy epoch (a drop) ends the record. */
Test(static_thunk, a_dropped_record_goes_on)
{
	keep(5, &five, 0, INT64_MAX);
	__atomic_add_fetch(&copy_epoch, 1, __ATOMIC_RELEASE);
	long runs = fx_runs;
	fx_static(5);
	cr_expect_eq(fx_runs, runs + 1);
}

/* An expiry is checked against the kernel's coarse clock words, never a
 * call: more than a second before it, a hit; within the second a torn
 * read of the words could hide, and at it, the call goes on (lm_thunk's
 * quick path reads the vDSO's clock); without the words, the call goes
 * on. */
Test(static_thunk, an_expiry_is_read_from_the_clock_words)
{
	static int64_t words[2] = {100, 250 * 1000000}; /* 100.25 s */
	/* set after each keep: its check of the words against the real
	 * clock would drop these */
	keep(5, &five, 0, 101251);
	lm_fast_coarse = words;
	long runs = fx_runs;
	fx_static(5);
	cr_expect_eq(fx_runs, runs, "1.001 s before the expiry: a hit");
	words[1] = 252 * 1000000;
	fx_static(5);
	cr_expect_eq(fx_runs, runs + 1, "0.999 s before the expiry: the function");
	keep(5, &five, 0, 100252);
	lm_fast_coarse = words;
	fx_static(5);
	cr_expect_eq(fx_runs, runs + 2, "at the expiry: the function");
	keep(5, &five, 0, 102252);
	lm_fast_coarse = NULL;
	fx_static(5);
	cr_expect_eq(fx_runs, runs + 3, "no clock words: the function");
}

/* Hit after hit: each one leaves the thread as it found it (the guard
 * left, the buffer the same). */
Test(static_thunk, hits_in_a_row)
{
	struct fx_rec *buf = keep(5, &five, 0, INT64_MAX);
	uint64_t hits = lm_counters_sum(0, LM_C_hits);
	long runs = fx_runs;
	for (int i = 0; i < 3; i++)
		cr_expect_eq(fx_static(5), buf, "hit %d", i);
	cr_expect_eq(fx_runs, runs);
	cr_expect_eq(passes, 0);
	cr_expect_eq(lm_counters_sum(0, LM_C_hits), hits + 3);
	cr_expect_not(lm_guard_held());
}

/* A call passed on to lm_thunk gets every register back but the results'
 * (lm_thunk keeps the others around the function): the entry's own
 * scratch registers, rax and rsi, included. */
Test(static_thunk, a_pass_keeps_every_register_but_the_results)
{
	keep(5, &five, 0, INT64_MAX);
	struct fx_regs in = fx_canaries(), out;
	in.gpr[R_RDI] = 6;
	long runs = fx_runs;
	fx_call((void *)fx_static, &in, &out);
	cr_expect_eq(fx_runs, runs + 1, "the function ran");
	cr_expect_eq(((struct fx_rec *)(uintptr_t)out.gpr[R_RAX])->id, 6);
	for (int i = 0; i < R_NGPR; i++)
		if (i != R_RAX && i != R_RDX)
			cr_expect_eq(out.gpr[i], in.gpr[i], "gpr %d changed", i);
	for (int i = 2; i < 16; i++)
		cr_expect(out.xmm[i][0] == in.xmm[i][0] && out.xmm[i][1] == in.xmm[i][1],
		          "xmm%d changed", i);
}

/* Keeping a record that expires checks the clock words against the clock
 * (as a fill of the fast table does): words that no longer track it are
 * dropped, so that no record is read against a time that stopped. */
Test(static_thunk, a_record_that_expires_checks_the_clock_words)
{
	static int64_t stopped[2] = {100, 0};
	lm_fast_coarse = stopped;
	keep(5, &five, 0, INT64_MAX);
	cr_expect_eq(lm_fast_coarse, stopped, "a record that never expires reads no clock");
	keep(5, &five, 0, 100500);
	cr_expect_null(lm_fast_coarse);
}
