/* `when` (spec 3.4): whether a result is worth storing. The return value
 * is read at its own kind: integers at their width and signedness (compared
 * exactly, a u64 against a negative literal too), floats as double,
 * pointer results as unsigned addresses (NULL is 0). */
#include "plan_internal.h"

/* ORDER is <0, 0 or >0 as the two sides compare. */
static bool holds(int order, enum lm_cmp op)
{
	switch (op) {
	case LM_CMP_EQ:
		return order == 0;
	case LM_CMP_NE:
		return order != 0;
	case LM_CMP_LT:
		return order < 0;
	case LM_CMP_LE:
		return order <= 0;
	case LM_CMP_GT:
		return order > 0;
	case LM_CMP_GE:
		return order >= 0;
	}
	return false;
}

static bool cmp_int(__int128 a, __int128 b, enum lm_cmp op)
{
	return holds((a > b) - (a < b), op);
}

/* A NaN is unordered: only != holds. */
static bool cmp_float(double a, double b, enum lm_cmp op)
{
	if (a != a || b != b)
		return op == LM_CMP_NE;
	return holds((a > b) - (a < b), op);
}

static double ret_double(const struct lm_plan *p, const struct lm_frame *f)
{
	float x;
	double d;

	if (p->ret.kind == LM_K_F32) {
		memcpy(&x, &f->ret_xmm0[0], sizeof(x));
		return x;
	}
	memcpy(&d, &f->ret_xmm0[0], sizeof(d));
	return d;
}

static bool cmp_eval(const struct lm_plan *p, const struct lm_expr *e, const struct lm_frame *f,
                     int err)
{
	__int128 lit = e->lit == LM_LIT_NULL ? 0 : e->ival;
	__int128 v;

	if (e->operand == LM_OPND_ERRNO) {
		if (e->lit == LM_LIT_FLOAT)
			return cmp_float(err, e->fval, e->cmp);
		return cmp_int(err, lit, e->cmp);
	}
	if (p->ret.how == LM_RET_VALUE && p->ret_float) {
		double l = e->lit == LM_LIT_FLOAT ? e->fval : (double)lit;

		return cmp_float(ret_double(p, f), l, e->cmp);
	}
	if (p->ret.how == LM_RET_VALUE && lm_kind_is_int(p->ret.kind)) {
		uint64_t w = lm_int_extend(f->ret_rax, p->ret_width, p->ret_signed);

		v = p->ret_signed ? (__int128)(int64_t)w : (__int128)w;
	} else if (p->ret.how == LM_RET_VALUE && p->ret.kind == LM_K_VOID) {
		v = 0;
	} else {
		v = (__int128)f->ret_rax;
	}
	if (e->lit == LM_LIT_FLOAT)
		return cmp_float((double)v, e->fval, e->cmp);
	return cmp_int(v, lit, e->cmp);
}

static bool eval(const struct lm_plan *p, const struct lm_expr *e, const struct lm_frame *f,
                 int err)
{
	switch (e->op) {
	case LM_E_AND:
		return eval(p, e->lhs, f, err) && eval(p, e->rhs, f, err);
	case LM_E_OR:
		return eval(p, e->lhs, f, err) || eval(p, e->rhs, f, err);
	case LM_E_CMP:
		return cmp_eval(p, e, f, err);
	}
	return false;
}

bool lm_plan_when(const struct lm_plan *p, const struct lm_frame *f, int err)
{
	return !p->when || eval(p, p->when, f, err);
}
