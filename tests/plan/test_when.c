/* lm_plan_when: `when` expressions on the return value and errno. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "helpers.h"

static struct lm_expr cmp(enum lm_operand o, enum lm_cmp c, enum lm_lit_kind k, int64_t i, double d)
{
	return (struct lm_expr){
	    .op = LM_E_CMP, .operand = o, .cmp = c, .lit = k, .ival = i, .fval = d};
}

static bool when_on(struct lm_ret ret, struct lm_expr *e, uint64_t rax, int err)
{
	struct lm_plan *p = plan_of("w", ret, (struct lm_param[]){lp(LM_K_I32)}, 1, e);
	struct lm_frame f = {0};
	bool r;

	f.ret_rax = rax;
	r = lm_plan_when(p, &f, err);
	lm_plan_free(p);
	return r;
}

Test(when, absent_means_always)
{
	cr_assert(when_on(rv(LM_K_I32), NULL, 0, 0));
}

Test(when, signed_i32_reads_its_width)
{
	struct lm_expr lt0 = cmp(LM_OPND_RET, LM_CMP_LT, LM_LIT_INT, 0, 0);
	struct lm_expr eqm1 = cmp(LM_OPND_RET, LM_CMP_EQ, LM_LIT_INT, -1, 0);

	cr_assert(when_on(rv(LM_K_I32), &lt0, 0x00000000ffffffffull, 0), "-1 < 0");
	cr_assert(when_on(rv(LM_K_I32), &eqm1, 0x12345678ffffffffull, 0), "garbage above");
	cr_assert_not(when_on(rv(LM_K_I32), &lt0, 0xffffffff00000001ull, 0));
}

Test(when, unsigned_compares_exactly)
{
	struct lm_expr lt0 = cmp(LM_OPND_RET, LM_CMP_LT, LM_LIT_INT, 0, 0);
	struct lm_expr gtm1 = cmp(LM_OPND_RET, LM_CMP_GT, LM_LIT_INT, -1, 0);
	struct lm_expr eqm1 = cmp(LM_OPND_RET, LM_CMP_EQ, LM_LIT_INT, -1, 0);

	cr_assert_not(when_on(rv(LM_K_U32), &lt0, 0xffffffff, 0), "u32 max is not < 0");
	cr_assert(when_on(rv(LM_K_U64), &gtm1, ~0ull, 0), "u64 max > -1");
	cr_assert_not(when_on(rv(LM_K_U64), &eqm1, ~0ull, 0));
}

Test(when, truth_table_of_operators)
{
	enum lm_cmp ops[] = {LM_CMP_EQ, LM_CMP_NE, LM_CMP_LT, LM_CMP_LE, LM_CMP_GT, LM_CMP_GE};
	/* value vs literal 5: for 4, 5, 6 */
	bool want[6][3] = {{0, 1, 0}, {1, 0, 1}, {1, 0, 0}, {1, 1, 0}, {0, 0, 1}, {0, 1, 1}};

	for (int o = 0; o < 6; o++)
		for (int v = 4; v <= 6; v++) {
			struct lm_expr e = cmp(LM_OPND_RET, ops[o], LM_LIT_INT, 5, 0);
			struct lm_expr en = cmp(LM_OPND_ERRNO, ops[o], LM_LIT_INT, 5, 0);

			cr_assert_eq(when_on(rv(LM_K_I64), &e, (uint64_t)v, 0), want[o][v - 4],
			             "op %d value %d", o, v);
			cr_assert_eq(when_on(rv(LM_K_I64), &en, 0, v), want[o][v - 4],
			             "errno op %d value %d", o, v);
		}
}

Test(when, and_or_trees)
{
	struct lm_expr r0 = cmp(LM_OPND_RET, LM_CMP_EQ, LM_LIT_INT, 0, 0);
	struct lm_expr enoent = cmp(LM_OPND_ERRNO, LM_CMP_EQ, LM_LIT_INT, ENOENT, 0);
	struct lm_expr and = {.op = LM_E_AND, .lhs = &r0, .rhs = &enoent};
	struct lm_expr or = {.op = LM_E_OR, .lhs = &r0, .rhs = &enoent};
	bool want_and[2][2] = {{0, 0}, {0, 1}}, want_or[2][2] = {{0, 1}, {1, 1}};

	for (int a = 0; a < 2; a++)
		for (int b = 0; b < 2; b++) {
			uint64_t rax = a ? 0 : 1;
			int err = b ? ENOENT : EIO;

			cr_assert_eq(when_on(rv(LM_K_I32), &and, rax, err), want_and[a][b]);
			cr_assert_eq(when_on(rv(LM_K_I32), & or, rax, err), want_or[a][b]);
		}
}

Test(when, pointers_against_null)
{
	struct lm_expr nn = cmp(LM_OPND_RET, LM_CMP_NE, LM_LIT_NULL, 0, 0);
	struct lm_ret st = rhow(LM_RET_STATIC_TYPE, 0, 0, T_PASSWD);

	cr_assert(when_on(st, &nn, 0x1000, 0));
	cr_assert_not(when_on(st, &nn, 0, 0));
	cr_assert(when_on(rhow(LM_RET_STR, 0, 0, 0), &nn, 0x1000, 0));
	cr_assert(when_on(rv(LM_K_PTR), &nn, 0x7fff00000000ull, 0));
}

Test(when, floats_compare_as_double)
{
	struct lm_expr ge = cmp(LM_OPND_RET, LM_CMP_GE, LM_LIT_FLOAT, 0, 0.5);
	struct lm_expr gti = cmp(LM_OPND_RET, LM_CMP_GT, LM_LIT_INT, 1, 0);
	struct lm_plan *p = plan_of("w", rv(LM_K_F32), (struct lm_param[]){lp(LM_K_I32)}, 1, &ge);
	struct lm_plan *q = plan_of("w", rv(LM_K_F64), (struct lm_param[]){lp(LM_K_I32)}, 1, &gti);
	struct lm_frame f = {0};

	f.ret_xmm0[0] = 0xffffffff00000000ull; /* an f32 is only the low 4 bytes */
	memcpy(&f.ret_xmm0[0], &(float){0.75f}, 4);
	cr_assert(lm_plan_when(p, &f, 0));
	memcpy(&f.ret_xmm0[0], &(float){0.25f}, 4);
	cr_assert_not(lm_plan_when(p, &f, 0));
	memcpy(&f.ret_xmm0[0], &(double){1.5}, 8);
	cr_assert(lm_plan_when(q, &f, 0));
	memcpy(&f.ret_xmm0[0], &(double){1.0}, 8);
	cr_assert_not(lm_plan_when(q, &f, 0));
	lm_plan_free(p);
	lm_plan_free(q);
}

Test(when, is_copied_at_compile)
{
	struct lm_expr e = cmp(LM_OPND_RET, LM_CMP_EQ, LM_LIT_INT, 1, 0);
	struct lm_plan *p = plan_of("w", rv(LM_K_I32), (struct lm_param[]){lp(LM_K_I32)}, 1, &e);
	struct lm_frame f = {0};

	e.ival = 2; /* the config may be freed after compiling */
	f.ret_rax = 1;
	cr_assert(lm_plan_when(p, &f, 0));
	lm_plan_free(p);
}

/* A NaN is unordered: every comparison with it fails but !=, so a NaN
 * result never passes `when = ret >= 0.5` (or any other bound). */
Test(when, nan_fails_every_comparison_but_not_equal)
{
	const enum lm_cmp ops[] = {LM_CMP_EQ, LM_CMP_NE, LM_CMP_LT,
	                           LM_CMP_LE, LM_CMP_GT, LM_CMP_GE};
	const double nans[] = {__builtin_nan(""), -__builtin_nan(""), __builtin_nan("0x42")};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		struct lm_expr e = cmp(LM_OPND_RET, ops[i], LM_LIT_FLOAT, 0, 0.5);
		struct lm_plan *p =
		    plan_of("w", rv(LM_K_F64), (struct lm_param[]){lp(LM_K_I32)}, 1, &e);
		struct lm_plan *q =
		    plan_of("w", rv(LM_K_F32), (struct lm_param[]){lp(LM_K_I32)}, 1, &e);
		for (size_t j = 0; j < sizeof nans / sizeof nans[0]; j++) {
			struct lm_frame f = {0};
			memcpy(&f.ret_xmm0[0], &nans[j], 8);
			cr_expect_eq(lm_plan_when(p, &f, 0), ops[i] == LM_CMP_NE, "op %d, nan %zu",
			             ops[i], j);
			float nf = (float)nans[j];
			memcpy(&f.ret_xmm0[0], &nf, 4);
			cr_expect_eq(lm_plan_when(q, &f, 0), ops[i] == LM_CMP_NE, "f32, op %d",
			             ops[i]);
		}
		lm_plan_free(p);
		lm_plan_free(q);
	}
}
