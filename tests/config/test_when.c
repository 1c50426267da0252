/* `when` (spec 3.4): comparisons, precedence, literals and limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

static const struct lm_expr *when_of(struct parsed *p, const char *sig, const char *when)
{
	char text[1024];
	snprintf(text, sizeof(text), "[cache f]\nsignature = %s\nwhen = %s\n", sig, when);
	expect_clean(p, text);
	return p->cfg.methods[0].when;
}

/* when on line 3, starting at column 8. */
static void when_error(const char *sig, const char *when, int col, const char *msg)
{
	char text[1024];
	snprintf(text, sizeof(text), "[cache f]\nsignature = %s\nwhen = %s\n", sig, when);
	expect_error(text, 3, col, msg);
}

Test(when, single_comparison)
{
	struct parsed p;
	const struct lm_expr *e = when_of(&p, "int f(int x)", "ret >= -1");
	cr_assert_not_null(e);
	cr_expect_eq(e->op, LM_E_CMP);
	cr_expect_eq(e->operand, LM_OPND_RET);
	cr_expect_eq(e->cmp, LM_CMP_GE);
	cr_expect_eq(e->lit, LM_LIT_INT);
	cr_expect_eq(e->ival, -1);
	cr_expect_eq(e->pos.line, 3);
	cr_expect_eq(e->pos.col, 8);
	parsed_free(&p);
}

Test(when, every_operator_and_hex)
{
	const char *ops[] = {"==", "!=", "<", "<=", ">", ">="};
	enum lm_cmp want[] = {LM_CMP_EQ, LM_CMP_NE, LM_CMP_LT, LM_CMP_LE, LM_CMP_GT, LM_CMP_GE};
	for (int i = 0; i < 6; i++) {
		struct parsed p;
		char w[64];
		snprintf(w, sizeof(w), "ret %s 0x1F", ops[i]);
		const struct lm_expr *e = when_of(&p, "long f(void)", w);
		cr_expect_eq(e->cmp, want[i]);
		cr_expect_eq(e->ival, 31);
		parsed_free(&p);
	}
}

Test(when, and_binds_tighter_than_or)
{
	struct parsed p;
	const struct lm_expr *e =
	    when_of(&p, "int f(int x)", "ret == 0 || ret > 5 && errno != EINTR");
	cr_assert_eq(e->op, LM_E_OR);
	cr_expect_eq(e->lhs->op, LM_E_CMP);
	cr_assert_eq(e->rhs->op, LM_E_AND);
	cr_expect_eq(e->rhs->lhs->cmp, LM_CMP_GT);
	cr_expect_eq(e->rhs->rhs->operand, LM_OPND_ERRNO);
	cr_expect_eq(e->rhs->rhs->ival, EINTR);
	parsed_free(&p);
}

Test(when, parentheses_group)
{
	struct parsed p;
	const struct lm_expr *e =
	    when_of(&p, "int f(int x)", "(ret == 0 || ret == 1) && ((errno == 0))");
	cr_assert_eq(e->op, LM_E_AND);
	cr_expect_eq(e->lhs->op, LM_E_OR);
	cr_expect_eq(e->rhs->op, LM_E_CMP);
	cr_expect_eq(e->rhs->operand, LM_OPND_ERRNO);
	parsed_free(&p);
}

Test(when, errno_names_have_libc_values)
{
	struct {
		const char *name;
		int value;
	} names[] = {{"ENOENT", ENOENT},
	             {"EAGAIN", EAGAIN},
	             {"EINTR", EINTR},
	             {"ENOMEM", ENOMEM},
	             {"ETIMEDOUT", ETIMEDOUT},
	             {"EIO", EIO},
	             {"EACCES", EACCES},
	             {"EPERM", EPERM},
	             {"EEXIST", EEXIST},
	             {"ENOTDIR", ENOTDIR},
	             {"EINVAL", EINVAL},
	             {"ERANGE", ERANGE},
	             {"ECONNREFUSED", ECONNREFUSED},
	             {"ENOSPC", ENOSPC},
	             {"EBADF", EBADF},
	             {"EWOULDBLOCK", EWOULDBLOCK},
	             {"ENOTSUP", ENOTSUP},
	             {"ESTALE", ESTALE}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct parsed p;
		char w[64];
		snprintf(w, sizeof(w), "errno == %s", names[i].name);
		const struct lm_expr *e = when_of(&p, "int f(int x)", w);
		cr_expect_eq(e->ival, names[i].value, "%s", names[i].name);
		parsed_free(&p);
	}
	struct parsed p;
	const struct lm_expr *e = when_of(&p, "int f(int x)", "ret == -ENOENT");
	cr_expect_eq(e->ival, -ENOENT);
	parsed_free(&p);
}

Test(when, null_and_float_literals)
{
	struct parsed p;
	const struct lm_expr *e = when_of(&p, "str f(int x)", "ret != NULL");
	cr_expect_eq(e->lit, LM_LIT_NULL);
	cr_expect_eq(e->cmp, LM_CMP_NE);
	parsed_free(&p);
	e = when_of(&p, "ptr f(int x)", "ret == NULL");
	cr_expect_eq(e->lit, LM_LIT_NULL);
	parsed_free(&p);
	e = when_of(&p, "double f(int x)", "ret > 0.5");
	cr_expect_eq(e->lit, LM_LIT_FLOAT);
	cr_expect_float_eq(e->fval, 0.5, 1e-12);
	parsed_free(&p);
	/* An integer literal against a float return is read as a float. */
	e = when_of(&p, "double f(int x)", "ret >= 2");
	cr_expect_eq(e->lit, LM_LIT_FLOAT);
	cr_expect_float_eq(e->fval, 2.0, 1e-12);
	parsed_free(&p);
}

Test(when, literal_must_fit_the_operand)
{
	when_error("int f(int x)", "ret == NULL", 15, "NULL compared with a non-pointer return");
	when_error("str f(int x)", "ret == 0", 15,
	           "a pointer return compares only with == NULL or != NULL");
	when_error("str f(int x)", "ret < NULL", 14,
	           "a pointer return compares only with == NULL or != NULL");
	when_error("int f(int x)", "ret == 1.5", 15,
	           "float literal compared with an integer return");
	when_error("int f(int x)", "errno == NULL", 17,
	           "errno is compared with integers or errno names");
	when_error("void f(int x)", "ret == 0", 8, "'ret' of a function returning void");
	when_error("int f(int x)", "errno == ENOTHING", 17,
	           "unknown constant 'ENOTHING' (expected a number, NULL or an errno name)");
}

Test(when, syntax_errors)
{
	when_error("int f(int x)", "ret", 11,
	           "expected a comparison (== != < <= > >=) in 'when', got end of value");
	when_error("int f(int x)", "ret = 0", 12,
	           "expected a comparison (== != < <= > >=) in 'when', got '='");
	when_error("int f(int x)", "x == 0", 8, "expected ret, errno or '(' in 'when', got 'x'");
	when_error("int f(int x)", "(ret == 0", 17, "expected ')' in 'when', got end of value");
	when_error("int f(int x)", "ret == 0 ret == 1", 17,
	           "expected &&, || or the end in 'when', got 'ret'");
	when_error("int f(int x)", "ret == 0 &", 17,
	           "expected &&, || or the end in 'when', got '&'");
	when_error("int f(int x)", "ret == 0 ||", 19,
	           "expected ret, errno or '(' in 'when', got end of value");
}

Test(when, depth_is_capped)
{
	char w[256] = "";
	struct parsed p;
	for (int i = 0; i < 64; i++)
		strcat(w, "(");
	strcat(w, "ret == 0");
	for (int i = 0; i < 64; i++)
		strcat(w, ")");
	when_of(&p, "int f(int x)", w);
	parsed_free(&p);
	memmove(w + 1, w, strlen(w) + 1);
	w[0] = '(';
	strcat(w, ")");
	when_error("int f(int x)", w, 8 + 64, "'when' nested more than 64 parentheses deep");
}

Test(when, length_is_capped)
{
	size_t n = 300 * 13 + 64;
	char *w = malloc(n), *text = malloc(n + 64);
	w[0] = 0;
	for (int i = 0; i < 300; i++)
		strcat(w, i ? " || ret == 0" : "ret == 0");
	snprintf(text, n + 64, "[cache f]\nsignature = int f(void)\nwhen = %s\n", w);
	/* The 257th comparison is at 8 + 8 + 255 * 12 + 4. */
	expect_error(text, 3, 8 + 8 + 255 * 12 + 4, "'when' has more than 256 comparisons");
	free(w);
	free(text);
}
