/* Drop plans: a write function's call names keys of a cached method,
 * byte-identical to the keys lm_plan_key builds for those calls. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

struct keys {
	struct lm_buf k[8];
	int n;
};

static void collect(const void *key, uint32_t klen, void *arg)
{
	struct keys *ks = arg;

	cr_assert_lt(ks->n, 8);
	ks->k[ks->n] = (struct lm_buf){0};
	cr_assert_eq(lm_buf_append(&ks->k[ks->n++], key, klen), 0);
}

static bool has_key(const struct keys *ks, const struct lm_buf *k)
{
	for (int i = 0; i < ks->n; i++)
		if (ks->k[i].len == k->len && memcmp(ks->k[i].p, k->p, k->len) == 0)
			return true;
	return false;
}

static void keys_free(struct keys *ks)
{
	for (int i = 0; i < ks->n; i++)
		lm_buf_free(&ks->k[i]);
}

static struct lm_drop_plan *compile(const struct lm_plan *w, const struct lm_plan *t,
                                    enum lm_drop_kind kind, struct lm_dropval *vals, size_t n)
{
	struct lm_drop d = {.kind = kind, .vals = vals, .nvals = n};
	char why[200] = "";
	struct lm_drop_plan *dp = lm_drop_plan_compile(w, t, &d, why, sizeof(why));

	cr_assert_not_null(dp, "drop compile: %s", why);
	return dp;
}

static struct lm_dropval dv_param(int i)
{
	return (struct lm_dropval){.kind = LM_DV_PARAM, .param = i};
}

Test(drop, exact_keys_cover_out_nullness)
{
	/* update_user(i64 id, str name) drops get_user(id) where
	 * get_user(i32 id, out(64) user) */
	struct lm_plan *w = PLAN("update_user", rv(LM_K_I32), lp(LM_K_I64), lp(LM_K_STR));
	struct lm_plan *t =
	    PLAN("get_user", rv(LM_K_I32), lp(LM_K_I32), lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0));
	struct lm_dropval v[] = {dv_param(0)};
	struct lm_drop_plan *dp = compile(w, t, LM_DROP_KEY, v, 1);
	struct lm_frame wf = {0}, tf = {0};
	struct lm_buf pat = {0}, k;
	struct keys ks = {0};
	char user[64];

	wf.gpr[0] = 42;
	wf.gpr[1] = ptrw("bob");
	cr_assert_eq(lm_drop_plan_keys(dp, &wf, collect, &ks, &pat), 1);
	cr_assert_eq(ks.n, 2);
	cr_assert_eq(pat.len, 0, "the scratch buffer keeps its length");
	tf.gpr[0] = 0xdead00000000002aull;
	k = key_of(t, &tf);
	cr_assert(has_key(&ks, &k), "the key of get_user(42, NULL)");
	lm_buf_free(&k);
	tf.gpr[1] = ptrw(user);
	k = key_of(t, &tf);
	cr_assert(has_key(&ks, &k), "the key of get_user(42, user)");
	lm_buf_free(&k);
	tf.gpr[0] = 43;
	k = key_of(t, &tf);
	cr_assert_not(has_key(&ks, &k));
	lm_buf_free(&k);
	keys_free(&ks);
	lm_buf_free(&pat);
	lm_drop_plan_free(dp);
	lm_plan_free(w);
	lm_plan_free(t);
}

Test(drop, strings_literals_and_floats)
{
	/* set(str name, f32 x) drops look("fixed", name, x, 7) where
	 * look(str a, str b, f64 c, u8 d, ignore) */
	struct lm_plan *w = PLAN("set", rv(LM_K_VOID), lp(LM_K_STR), lp(LM_K_F32));
	struct lm_plan *t = PLAN("look", rv(LM_K_I32), lp(LM_K_STR), lp(LM_K_STR), lp(LM_K_F64),
	                         lp(LM_K_U8), lp(LM_K_IGNORE));
	struct lm_dropval v[] = {{.kind = LM_DV_STR, .sval = "fixed"},
	                         dv_param(0),
	                         dv_param(1),
	                         {.kind = LM_DV_INT, .ival = 0x107}};
	struct lm_drop_plan *dp = compile(w, t, LM_DROP_KEY, v, 4);
	struct lm_frame wf = {0}, tf = {0};
	struct lm_buf pat = {0}, k;
	struct keys ks = {0};

	wf.gpr[0] = ptrw("who");
	set_f32(&wf, 0, 2.5f);
	cr_assert_eq(lm_drop_plan_keys(dp, &wf, collect, &ks, &pat), 1);
	cr_assert_eq(ks.n, 1);
	tf.gpr[0] = ptrw("fixed");
	tf.gpr[1] = ptrw("who");
	set_f64(&tf, 0, 2.5);
	tf.gpr[2] = 7;
	tf.gpr[3] = 0x5555;
	k = key_of(t, &tf);
	cr_assert(has_key(&ks, &k), "a u8 key keeps the literal's low byte, like C");
	lm_buf_free(&k);
	keys_free(&ks);
	wf.gpr[0] = 0;
	cr_assert_eq(lm_drop_plan_keys(dp, &wf, collect, &ks, &pat), 1);
	tf.gpr[1] = 0;
	k = key_of(t, &tf);
	cr_assert(has_key(&ks, &k), "a NULL str drops the NULL key");
	lm_buf_free(&k);
	keys_free(&ks);
	lm_buf_free(&pat);
	lm_drop_plan_free(dp);
	lm_plan_free(w);
	lm_plan_free(t);
}

Test(drop, bool_and_buf_values)
{
	struct lm_plan *w =
	    PLAN("w", rv(LM_K_VOID), lp(LM_K_I32), lp_size(LM_K_BUF, LM_SZ_LIT, 4, 0));
	struct lm_plan *t =
	    PLAN("t", rv(LM_K_I32), lp(LM_K_BOOL), lp_size(LM_K_BUF, LM_SZ_LIT, 4, 0));
	struct lm_dropval v[] = {dv_param(0), dv_param(1)};
	struct lm_drop_plan *dp = compile(w, t, LM_DROP_KEY, v, 2);
	struct lm_frame wf = {0}, tf = {0};
	unsigned char b1[4] = {1, 2, 3, 4}, b2[4] = {1, 2, 3, 4};
	struct lm_buf pat = {0}, k;
	struct keys ks = {0};

	wf.gpr[0] = 2; /* true */
	wf.gpr[1] = ptrw(b1);
	cr_assert_eq(lm_drop_plan_keys(dp, &wf, collect, &ks, &pat), 1);
	tf.gpr[0] = 1;
	tf.gpr[1] = ptrw(b2);
	k = key_of(t, &tf);
	cr_assert(has_key(&ks, &k));
	lm_buf_free(&k);
	keys_free(&ks);
	lm_buf_free(&pat);
	lm_drop_plan_free(dp);
	lm_plan_free(w);
	lm_plan_free(t);
}

Test(drop, any_value_builds_a_pattern)
{
	/* put(i64 id) drops get(*, id) where get(str ns, i32 id, out(8) o) */
	struct lm_plan *w = PLAN("put", rv(LM_K_VOID), lp(LM_K_I64));
	struct lm_plan *t = PLAN("get", rv(LM_K_I32), lp(LM_K_STR), lp(LM_K_I32),
	                         lp_size(LM_K_OUT, LM_SZ_LIT, 8, 0));
	struct lm_dropval v[] = {{.kind = LM_DV_ANY}, dv_param(0)};
	struct lm_drop_plan *dp = compile(w, t, LM_DROP_KEY, v, 2);
	struct lm_frame wf = {0}, tf = {0};
	struct lm_buf pat = {0}, k;
	struct keys ks = {0};
	char o[8];

	cr_assert_eq(lm_buf_append(&pat, "xx", 2), 0);
	wf.gpr[0] = 5;
	cr_assert_eq(lm_drop_plan_keys(dp, &wf, collect, &ks, &pat), 0);
	cr_assert_eq(ks.n, 0);
	cr_assert_gt(pat.len, 2);
	for (int ns = 0; ns < 3; ns++) {
		tf.gpr[0] = ns == 0 ? 0 : ptrw(ns == 1 ? "a" : "longer name");
		for (int out = 0; out < 2; out++) {
			tf.gpr[2] = out ? ptrw(o) : 0;
			tf.gpr[1] = 0xffffffff00000005ull;
			k = key_of(t, &tf);
			cr_assert(
			    lm_drop_plan_matches(dp, pat.p + 2, pat.len - 2, k.p, (uint32_t)k.len));
			lm_buf_free(&k);
			tf.gpr[1] = 6;
			k = key_of(t, &tf);
			cr_assert_not(
			    lm_drop_plan_matches(dp, pat.p + 2, pat.len - 2, k.p, (uint32_t)k.len));
			/* A truncated key never matches. */
			cr_assert_not(lm_drop_plan_matches(dp, pat.p + 2, pat.len - 2, k.p,
			                                   (uint32_t)k.len - 1));
			lm_buf_free(&k);
		}
	}
	lm_buf_free(&pat);
	lm_drop_plan_free(dp);
	lm_plan_free(w);
	lm_plan_free(t);
}

Test(drop, i64_writer_matches_i32_key_at_its_width)
{
	struct lm_plan *w = PLAN("put", rv(LM_K_VOID), lp(LM_K_I64));
	struct lm_plan *t = PLAN("get", rv(LM_K_I32), lp(LM_K_I32), lp(LM_K_I32));
	struct lm_dropval v[] = {dv_param(0), {.kind = LM_DV_ANY}};
	struct lm_drop_plan *dp = compile(w, t, LM_DROP_KEY, v, 2);
	struct lm_frame wf = {0}, tf = {0};
	struct lm_buf pat = {0}, k;

	wf.gpr[0] = (uint64_t)-3;
	cr_assert_eq(lm_drop_plan_keys(dp, &wf, NULL, NULL, &pat), 0);
	tf.gpr[0] = 0x00000000fffffffdull; /* -3 as an i32 */
	tf.gpr[1] = 99;
	k = key_of(t, &tf);
	cr_assert(lm_drop_plan_matches(dp, pat.p, pat.len, k.p, (uint32_t)k.len));
	lm_buf_free(&k);
	lm_buf_free(&pat);
	lm_drop_plan_free(dp);
	lm_plan_free(w);
	lm_plan_free(t);
}

Test(drop, whole_method_matches_every_key)
{
	struct lm_plan *t = PLAN("get", rv(LM_K_I32), lp(LM_K_I32));
	struct lm_drop_plan *dp = compile(NULL, t, LM_DROP_METHOD, NULL, 0);
	struct lm_frame wf = {0}, tf = {0};
	struct lm_buf pat = {0}, k;

	cr_assert_eq(lm_drop_plan_keys(dp, &wf, NULL, NULL, &pat), 0);
	tf.gpr[0] = 1234;
	k = key_of(t, &tf);
	cr_assert(lm_drop_plan_matches(dp, pat.p, pat.len, k.p, (uint32_t)k.len));
	lm_buf_free(&k);
	lm_buf_free(&pat);
	lm_drop_plan_free(dp);
	dp = compile(NULL, NULL, LM_DROP_ALL, NULL, 0);
	cr_assert(lm_drop_plan_matches(dp, NULL, 0, "x", 1));
	lm_drop_plan_free(dp);
	lm_plan_free(t);
}

Test(drop, unencodable_value_falls_back_to_a_pattern)
{
	/* w(buf(n) b, i32 n): a negative n cannot be read: drop by pattern. */
	struct lm_plan *w =
	    PLAN("w", rv(LM_K_VOID), lp_size(LM_K_BUF, LM_SZ_PARAM, 0, 1), lp(LM_K_I32));
	struct lm_plan *t =
	    PLAN("t", rv(LM_K_I32), lp_size(LM_K_BUF, LM_SZ_LIT, 2, 0), lp(LM_K_I32));
	struct lm_dropval v[] = {dv_param(0), dv_param(1)};
	struct lm_drop_plan *dp = compile(w, t, LM_DROP_KEY, v, 2);
	struct lm_frame wf = {0}, tf = {0};
	struct lm_buf pat = {0}, k;
	struct keys ks = {0};

	wf.gpr[0] = ptrw("ab");
	wf.gpr[1] = (uint64_t)-1;
	cr_assert_eq(lm_drop_plan_keys(dp, &wf, collect, &ks, &pat), 0);
	cr_assert_eq(ks.n, 0);
	tf.gpr[0] = ptrw("zz");
	tf.gpr[1] = (uint64_t)-1;
	k = key_of(t, &tf);
	cr_assert(lm_drop_plan_matches(dp, pat.p, pat.len, k.p, (uint32_t)k.len));
	lm_buf_free(&k);
	lm_buf_free(&pat);
	lm_drop_plan_free(dp);
	lm_plan_free(w);
	lm_plan_free(t);
}

Test(drop, compile_rejects_mismatches)
{
	struct lm_plan *w = PLAN("w", rv(LM_K_VOID), lp(LM_K_STR), lp(LM_K_F64), lp(LM_K_I32));
	struct lm_plan *t =
	    PLAN("t", rv(LM_K_I32), lp(LM_K_I32), lp_size(LM_K_OUT, LM_SZ_LIT, 4, 0));
	struct lm_dropval bad[][2] = {
	    {dv_param(0)},                        /* str for an i32 */
	    {dv_param(1)},                        /* f64 for an i32 */
	    {{.kind = LM_DV_STR, .sval = "x"}},   /* "x" for an i32 */
	    {{.kind = LM_DV_FLOAT, .fval = 1.5}}, /* 1.5 for an i32 */
	    {dv_param(7)},                        /* no such param */
	};
	char why[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lm_drop d = {.kind = LM_DROP_KEY, .vals = bad[i], .nvals = 1};

		why[0] = 0;
		cr_assert_null(lm_drop_plan_compile(w, t, &d, why, sizeof(why)), "case %zu", i);
		cr_assert_neq(why[0], 0);
	}
	{
		struct lm_dropval two[] = {dv_param(2), dv_param(2)};
		struct lm_drop d = {.kind = LM_DROP_KEY, .vals = two, .nvals = 2};

		cr_assert_null(lm_drop_plan_compile(w, t, &d, why, sizeof(why)),
		               "out params take no drop value");
		cr_assert(strstr(why, "2 values for 1 key parameters"), "%s", why);
	}
	lm_plan_free(w);
	lm_plan_free(t);
}

Test(drop, many_out_params_fall_back_to_a_pattern)
{
	struct lm_param ps[10];
	struct lm_plan *w = PLAN("w", rv(LM_K_VOID), lp(LM_K_I32));
	struct lm_plan *t;
	struct lm_dropval v[] = {dv_param(0)};
	struct lm_drop_plan *dp;
	struct lm_frame wf = {0}, tf = {0};
	struct lm_buf pat = {0}, k;
	struct keys ks = {0};
	char o[4];

	ps[0] = lp(LM_K_I32);
	for (int i = 1; i < 10; i++)
		ps[i] = lp_size(LM_K_OUT, LM_SZ_LIT, 4, 0);
	t = plan_of("t", rv(LM_K_I32), ps, 10, NULL);
	dp = compile(w, t, LM_DROP_KEY, v, 1);
	wf.gpr[0] = 17;
	cr_assert_eq(lm_drop_plan_keys(dp, &wf, collect, &ks, &pat), 0, "2^9 keys: a pattern");
	cr_assert_eq(ks.n, 0);
	tf.gpr[0] = 17;
	tf.gpr[3] = ptrw(o);
	tf.stack_args = (uint64_t[]){ptrw(o), 0, ptrw(o), 0};
	k = key_of(t, &tf);
	cr_assert(lm_drop_plan_matches(dp, pat.p, pat.len, k.p, (uint32_t)k.len));
	lm_buf_free(&k);
	tf.gpr[0] = 18;
	k = key_of(t, &tf);
	cr_assert_not(lm_drop_plan_matches(dp, pat.p, pat.len, k.p, (uint32_t)k.len));
	lm_buf_free(&k);
	lm_buf_free(&pat);
	lm_drop_plan_free(dp);
	lm_plan_free(w);
	lm_plan_free(t);
}
