/* lm_thunk's quick path for static results (lm_dispatch_quick,
 * shim/call/quick.c): a call whose key is the one a record of the
 * thread's holds returns the static buffer, its built bytes written
 * again; a key that is one argument word (plan.h's lm_qword: an integer,
 * a buf of 8 bytes) is compared as that word, whatever the register holds
 * above an integer's width and wherever the buf lies. Any other key goes
 * on. */
#include <criterion/criterion.h>
#include <string.h>

#include "config/config.h"
#include "shim/call/counters.h"
#include "shim/call/dispatch.h"
#include "shim/call/fast.h"
#include "shim/call/reuse.h"
#include "shim/call/runtime.h"
#include "shim/base/clock.h"
#include "tests/common/clock_words.h"

static const char conf[] = "[type rec]\nfields = u32 id, str name\n"
                           "[cache look]\nsignature = static rec* look(u32 id)\n"
                           "[cache at]\nsignature = static rec* at(buf(8) t)\n"
                           "[cache named]\nsignature = static rec* named(str name)\n";
enum { LOOK, AT, NAMED, N };

struct rec {
	uint32_t id;
	const char *name;
};

static struct lm_config cfg;
static struct lm_store *store;
static struct lm_rt_method methods[N];
static struct lm_hook_head heads[N];

static void setup(void)
{
	struct lm_diags d = {0};
	cr_assert_eq(lm_config_parse(conf, sizeof conf - 1, "reuse.conf", &cfg, &d), 0);
	lm_diags_free(&d);
	struct lm_store_cfg sc = {.max_entries = 1000, .max_memory = 1 << 20, .nmethods = N};
	store = lm_store_new(&sc);
	cr_assert(store != NULL);
	lm_counters_init(N);
	cr_assert_eq(lm_counters_attach(), 0);
	lm_fast_init(); /* errno's place and the vDSO clock */
	for (uint32_t i = 0; i < N; i++) {
		char why[200] = "";
		methods[i].id = i;
		methods[i].plan = lm_plan_compile(&cfg, &cfg.methods[i], i, why, sizeof why);
		cr_assert_not_null(methods[i].plan, "%s", why);
		cr_assert(lm_plan_static_result(methods[i].plan));
		methods[i].reuse = true;
		methods[i].qword = lm_plan_quick_word(methods[i].plan);
		heads[i].ctx = &methods[i];
	}
}

static void teardown(void)
{
	lm_store_free(store);
}

TestSuite(quick_static, .init = setup, .fini = teardown);

/* Keep a record of the call in F answered REC, valid until EXPIRES_MS, as
 * a hit of the dispatcher would: the replay builds the thread's static
 * buffer, which it returns. */
static void *keep_until(uint32_t id, struct lm_frame f, const struct rec *r, int64_t expires_ms)
{
	const struct lm_plan *p = methods[id].plan;
	struct lm_buf k = {0}, v = {0};
	uint64_t epoch = lm_store_copy_epoch_now(store, id);
	f.ret_rax = (uint64_t)(uintptr_t)r;
	cr_assert_eq(lm_plan_key(p, &f, &k), 0);
	cr_assert_eq(lm_plan_capture(p, &f, 0, &v), 0);
	int err;
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &f, &err), 0);
	lm_reuse_put(lm_store_copy_epoch(store, id), p, id, k.p, (uint32_t)k.len, &f, err,
	             expires_ms, epoch);
	lm_buf_free(&k);
	lm_buf_free(&v);
	return (void *)(uintptr_t)f.ret_rax;
}

static void *keep(uint32_t id, struct lm_frame f, const struct rec *r)
{
	return keep_until(id, f, r, INT64_MAX);
}

static struct lm_frame frame1(uint64_t arg)
{
	struct lm_frame f = {0};
	f.gpr[0] = arg;
	return f;
}

/* The buffer the quick path answered the call in F with; NULL when it
 * sent the call on. */
static void *quick(uint32_t id, struct lm_frame f)
{
	return lm_dispatch_quick((struct lm_hook *)&heads[id], &f) == LM_ENTER_RETURN
	           ? (void *)(uintptr_t)f.ret_rax
	           : NULL;
}

Test(quick_static, word_keys_are_the_ones_a_register_or_a_buf_of_8_holds)
{
	cr_expect_eq(methods[LOOK].qword.kind, LM_QW_RAW);
	cr_expect_eq(methods[LOOK].qword.width, 4);
	cr_expect_eq(methods[AT].qword.kind, LM_QW_BUF);
	cr_expect_eq(methods[AT].qword.width, 8);
	cr_expect_eq(methods[NAMED].qword.kind, LM_QW_NONE, "a str is no word");
}

/* u32: the register's bits above 32 are not the key's. */
Test(quick_static, an_integer_key_is_its_width_whatever_is_above)
{
	static const struct rec five = {5, "five"};
	void *buf = keep(LOOK, frame1(5), &five);
	cr_assert_not_null(buf);
	cr_expect_eq(quick(LOOK, frame1(5)), buf);
	cr_expect_eq(quick(LOOK, frame1(0xdeadbeef00000005ull)), buf, "garbage above 32 bits");
	cr_expect_null(quick(LOOK, frame1(6)));
	cr_expect_null(quick(LOOK, frame1(0x105)), "a differing byte");
	cr_expect_null(quick(LOOK, frame1(0x80000005)), "a differing top bit");
	const struct rec *r = buf;
	cr_expect_eq(r->id, 5);
	cr_expect_str_eq(r->name, "five");
}

/* buf(8): the 8 bytes the pointer reaches, wherever they lie; every one
 * of them counts. A NULL pointer is no word: with no NULL record it goes
 * on. */
Test(quick_static, a_buf_key_is_its_bytes_wherever_they_are)
{
	static const struct rec t = {1, "t"};
	uint64_t key = 0x0102030405060708ull;
	void *buf = keep(AT, frame1((uint64_t)(uintptr_t)&key), &t);
	cr_assert_not_null(buf);
	unsigned char at[16];
	for (int off = 0; off < 8; off++) {
		memcpy(at + off, &key, 8);
		cr_expect_eq(quick(AT, frame1((uint64_t)(uintptr_t)(at + off))), buf, "at %d", off);
		for (int b = 0; b < 8; b++) {
			at[off + b] ^= 0x40;
			cr_expect_null(quick(AT, frame1((uint64_t)(uintptr_t)(at + off))),
			               "byte %d differs", b);
			at[off + b] ^= 0x40;
		}
	}
	cr_expect_null(quick(AT, frame1(0)));
}

/* A NULL result's record and a buffer's record side by side: each key
 * finds its own, in either order of keeping. */
Test(quick_static, a_null_record_and_a_buffer_record_each_answer_their_key)
{
	static const struct rec seven = {7, "seven"};
	keep(LOOK, frame1(9), NULL);
	void *buf = keep(LOOK, frame1(7), &seven);
	struct lm_frame f = frame1(9);
	f.ret_rax = 1234;
	cr_expect_eq(lm_dispatch_quick((struct lm_hook *)&heads[LOOK], &f), LM_ENTER_RETURN);
	cr_expect_eq(f.ret_rax, 0, "the NULL answer");
	cr_expect_eq(quick(LOOK, frame1(7)), buf);
	keep(LOOK, frame1(7), NULL);
	f = frame1(7);
	f.ret_rax = 1234;
	cr_expect_eq(lm_dispatch_quick((struct lm_hook *)&heads[LOOK], &f), LM_ENTER_RETURN);
	cr_expect_eq(f.ret_rax, 0, "the key's newer record, NULL");
}

/* Keys that are no word are compared as key bytes. */
Test(quick_static, a_str_key_is_compared_by_its_bytes)
{
	static const struct rec bob = {3, "bob"};
	void *buf = keep(NAMED, frame1((uint64_t)(uintptr_t) "bob"), &bob);
	char s[] = "bob";
	cr_expect_eq(quick(NAMED, frame1((uint64_t)(uintptr_t)s)), buf);
	cr_expect_null(quick(NAMED, frame1((uint64_t)(uintptr_t) "bo")));
	cr_expect_null(quick(NAMED, frame1((uint64_t)(uintptr_t) "bobs")));
}

/* A caller's write into the buffer: the next hit writes the built bytes
 * again, as libc's next call rewrites its own buffer. */
Test(quick_static, a_written_buffer_is_written_again)
{
	static const struct rec five = {5, "five"};
	struct rec *r = keep(LOOK, frame1(5), &five);
	cr_assert_eq(quick(LOOK, frame1(5)), r);
	r->id = 6;
	r->name = "six";
	cr_expect_eq(quick(LOOK, frame1(5)), r);
	cr_expect_eq(r->id, 5);
	cr_expect_str_eq(r->name, "five");
}

/* The dispatcher's reuse (lm_reuse_get) reads the kernel's clock words,
 * which read while the kernel wrote them can be a second off: a record
 * that expired 100 ms ago answers nothing when they say it has 800 ms
 * left, and one with 100 ms left answers when they say it expired 800 ms
 * ago. */
Test(quick_static, a_torn_reading_of_the_clock_words_decides_nothing_within_its_second)
{
	static const struct rec five = {5, "five"};
	static int64_t torn[2];
	int64_t t = lm_clock_ms();
	for (int way = -1; way <= 1; way += 2) {
		keep_until(LOOK, frame1(5), &five, t + way * 100);
		lm_test_words_at(t + way * 900, torn);
		const volatile int64_t *found = lm_clock_use_words(torn);
		struct lm_frame f = frame1(5);
		int err;
		bool hit = lm_reuse_get(methods[LOOK].plan, LOOK, &f, &err);
		lm_clock_use_words(found);
		cr_expect_eq(hit, way > 0, "words %+d ms, record %+d ms", way * 900, way * 100);
	}
}
