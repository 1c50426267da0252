#include <criterion/criterion.h>
#include <pwd.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

#define F(n, k, off)                                              \
	{                                                         \
		.name = (char *)(n), .kind = (k), .offset = (off) \
	}
#define FT(n, k, t, off)                                                       \
	{                                                                      \
		.name = (char *)(n), .kind = (k), .type = (t), .offset = (off) \
	}

static struct lm_field inner_f[] = {
    F("a", LM_K_I32, offsetof(struct inner, a)),
    F("label", LM_K_STR, offsetof(struct inner, label)),
};
static struct lm_field outer_f[] = {
    F("name", LM_K_STR, offsetof(struct outer, name)),
    F("members", LM_K_STRV, offsetof(struct outer, members)),
    FT("in", LM_K_STRUCT, T_INNER, offsetof(struct outer, in)),
    FT("next", LM_K_STRUCT_PTR, T_INNER, offsetof(struct outer, next)),
    {.name = (char *)"tag", .kind = LM_K_BYTES, .nbytes = 3, .offset = offsetof(struct outer, tag)},
    F("d", LM_K_F64, offsetof(struct outer, d)),
};
static struct lm_field passwd_f[] = {
    F("pw_name", LM_K_STR, offsetof(struct passwd, pw_name)),
    F("pw_passwd", LM_K_STR, offsetof(struct passwd, pw_passwd)),
    F("pw_uid", LM_K_U32, offsetof(struct passwd, pw_uid)),
    F("pw_gid", LM_K_U32, offsetof(struct passwd, pw_gid)),
    F("pw_gecos", LM_K_STR, offsetof(struct passwd, pw_gecos)),
    F("pw_dir", LM_K_STR, offsetof(struct passwd, pw_dir)),
    F("pw_shell", LM_K_STR, offsetof(struct passwd, pw_shell)),
};
static struct lm_field tm_f[] = {
    F("tm_sec", LM_K_I32, offsetof(struct tm, tm_sec)),
    F("tm_min", LM_K_I32, offsetof(struct tm, tm_min)),
    F("tm_hour", LM_K_I32, offsetof(struct tm, tm_hour)),
    F("tm_mday", LM_K_I32, offsetof(struct tm, tm_mday)),
    F("tm_mon", LM_K_I32, offsetof(struct tm, tm_mon)),
    F("tm_year", LM_K_I32, offsetof(struct tm, tm_year)),
    F("tm_wday", LM_K_I32, offsetof(struct tm, tm_wday)),
    F("tm_yday", LM_K_I32, offsetof(struct tm, tm_yday)),
    F("tm_isdst", LM_K_I32, offsetof(struct tm, tm_isdst)),
    F("tm_gmtoff", LM_K_I64, offsetof(struct tm, tm_gmtoff)),
    F("tm_zone", LM_K_PTR, offsetof(struct tm, tm_zone)),
};
static struct lm_field node_f[] = {
    F("v", LM_K_I32, offsetof(struct node, v)),
    FT("next", LM_K_STRUCT_PTR, T_NODE, offsetof(struct node, next)),
};
static struct lm_field point_f[] = {
    F("x", LM_K_I32, offsetof(struct point, x)),
    F("y", LM_K_I32, offsetof(struct point, y)),
};

#define TY(n, f, s, a, hp)                                                                 \
	{                                                                                  \
		.name = (char *)(n), .fields = (f), .nfields = sizeof(f) / sizeof((f)[0]), \
		.size = (s), .align = (a), .has_pointers = (hp)                            \
	}

static struct lm_type types[T_COUNT] = {
    [T_INNER] = TY("inner", inner_f, sizeof(struct inner), 8, true),
    [T_OUTER] = TY("outer", outer_f, sizeof(struct outer), 8, true),
    [T_PASSWD] = TY("passwd", passwd_f, sizeof(struct passwd), 8, true),
    [T_TM] = TY("tm", tm_f, sizeof(struct tm), 8, true),
    [T_NODE] = TY("node", node_f, sizeof(struct node), 8, true),
    [T_POINT] = TY("point", point_f, sizeof(struct point), 4, false),
};

static struct lm_config cfg = {.types = types, .ntypes = T_COUNT};

const struct lm_config *test_config(void)
{
	return &cfg;
}

struct lm_param lp(enum lm_kind k)
{
	return (struct lm_param){.kind = k};
}

struct lm_param lp_size(enum lm_kind k, enum lm_size_kind sk, size_t lit, int ref)
{
	return (struct lm_param){.kind = k,
	                         .size = {.kind = sk, .lit = lit, .param = ref, .type = ref}};
}

struct lm_ret rv(enum lm_kind k)
{
	return (struct lm_ret){.how = LM_RET_VALUE, .kind = k};
}

struct lm_ret rhow(enum lm_ret_kind how, enum lm_size_kind sk, size_t lit, int ref)
{
	return (struct lm_ret){.how = how,
	                       .kind = LM_K_PTR,
	                       .size = {.kind = sk, .lit = lit, .param = ref, .type = ref},
	                       .param = ref,
	                       .type = ref};
}

struct lm_plan *plan_of(const char *name, struct lm_ret ret, const struct lm_param *ps, size_t n,
                        struct lm_expr *w)
{
	struct lm_method m = {0};
	struct lm_plan *p;
	static uint32_t next_id;
	char why[200] = "";

	m.name = (char *)name;
	m.sig.name = (char *)name;
	m.sig.ret = ret;
	m.sig.params = (struct lm_param *)ps;
	m.sig.nparams = n;
	m.when = w;
	p = lm_plan_compile(&cfg, &m, next_id++, why, sizeof(why));
	cr_assert_not_null(p, "compile %s: %s", name, why);
	return p;
}

struct lm_buf key_of(const struct lm_plan *p, const struct lm_frame *f)
{
	struct lm_buf b = {0};

	cr_assert_eq(lm_plan_key(p, f, &b), 0, "key");
	return b;
}

int keys_equal(const struct lm_plan *p, const struct lm_frame *a, const struct lm_frame *b)
{
	struct lm_buf ka = key_of(p, a), kb = key_of(p, b);
	int eq = ka.len == kb.len && memcmp(ka.p, kb.p, ka.len) == 0;

	lm_buf_free(&ka);
	lm_buf_free(&kb);
	return eq;
}
