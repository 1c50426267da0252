/* Building signatures, types and frames by hand for the plan tests (the
 * config parser is not needed to test plans). */
#ifndef TESTS_PLAN_HELPERS_H
#define TESTS_PLAN_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "shim/plan/plan.h"

/* Type indices in test_config(). */
enum {
	T_INNER,  /* struct inner */
	T_OUTER,  /* struct outer: str, strv, nested inner, inner*, bytes(3), f64 */
	T_PASSWD, /* struct passwd */
	T_TM,     /* struct tm */
	T_NODE,   /* struct node: a list */
	T_POINT,  /* struct point: no pointers */
	T_COUNT
};

struct inner {
	int32_t a;
	char *label;
};

struct outer {
	char *name;
	char **members;
	struct inner in;
	struct inner *next;
	uint8_t tag[3];
	double d;
};

struct node {
	int32_t v;
	struct node *next;
};

struct point {
	int32_t x, y;
};

const struct lm_config *test_config(void);

struct lm_param lp(enum lm_kind k);
struct lm_param lp_size(enum lm_kind k, enum lm_size_kind sk, size_t lit, int ref);
struct lm_ret rv(enum lm_kind k);
struct lm_ret rhow(enum lm_ret_kind how, enum lm_size_kind sk, size_t lit, int ref);

/* Compile NAME(PARAMS) returning RET with `when` W against test_config();
 * the test fails when the plan cannot be compiled. */
struct lm_plan *plan_of(const char *name, struct lm_ret ret, const struct lm_param *ps, size_t n,
                        struct lm_expr *w);
#define PLAN(name, ret, ...)                                 \
	plan_of(name, ret, (struct lm_param[]){__VA_ARGS__}, \
	        sizeof((struct lm_param[]){__VA_ARGS__}) / sizeof(struct lm_param), NULL)

/* The key of the call in F, as a fresh buffer (the test fails when it
 * cannot be built). */
struct lm_buf key_of(const struct lm_plan *p, const struct lm_frame *f);
int keys_equal(const struct lm_plan *p, const struct lm_frame *a, const struct lm_frame *b);

static inline uint64_t ptrw(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline void set_f64(struct lm_frame *f, int i, double d)
{
	__builtin_memcpy(&f->xmm[i][0], &d, 8);
}

static inline void set_f32(struct lm_frame *f, int i, float x)
{
	__builtin_memcpy(&f->xmm[i][0], &x, 4);
}

#endif
