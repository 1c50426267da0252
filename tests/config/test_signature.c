/* Signatures (spec 3.3): kinds, aliases, sizes, return forms, and what is
 * refused. */
#include "helpers.h"

/* The signature of the one [cache f] in a config holding TYPES first. */
static const struct lm_sig *sig_of(struct parsed *p, const char *sig)
{
	char text[1024];
	snprintf(text, sizeof(text),
	         "[type flat]\nfields = i32 a, i64 b\n[type rec]\nfields = str name\n"
	         "[cache f]\nsignature = %s\n",
	         sig);
	expect_clean(p, text);
	cr_assert_eq(p->cfg.nmethods, 1);
	return &p->cfg.methods[0].sig;
}

/* Error for signature SIG (line 6 of the same config), at column COL. */
static void sig_error(const char *sig, int col, const char *msg)
{
	char text[1024];
	snprintf(text, sizeof(text),
	         "[type flat]\nfields = i32 a, i64 b\n[type rec]\nfields = str name\n"
	         "[cache f]\nsignature = %s\n",
	         sig);
	expect_error(text, 6, col, msg);
}

Test(signature, every_spec_kind)
{
	struct parsed p;
	const struct lm_sig *s = sig_of(&p, "int f(i8 a, i16 b, i32 c, i64 d, u8 e, u16 g, u32 h, "
	                                    "u64 i, bool j, f32 k, f64 l, str m, buf(8) n, ptr o, "
	                                    "ignore q, out(16) r)");
	enum lm_kind want[] = {LM_K_I8,  LM_K_I16, LM_K_I32,    LM_K_I64, LM_K_U8,  LM_K_U16,
	                       LM_K_U32, LM_K_U64, LM_K_BOOL,   LM_K_F32, LM_K_F64, LM_K_STR,
	                       LM_K_BUF, LM_K_PTR, LM_K_IGNORE, LM_K_OUT};
	cr_assert_eq(s->nparams, 16);
	for (size_t i = 0; i < 16; i++)
		cr_expect_eq(s->params[i].kind, want[i], "param %zu", i);
	cr_expect_str_eq(s->name, "f");
	cr_expect_str_eq(s->params[0].name, "a");
	cr_expect_eq(s->params[12].size.kind, LM_SZ_LIT);
	cr_expect_eq(s->params[12].size.lit, 8);
	cr_expect_eq(s->params[15].size.lit, 16);
	cr_expect_eq(s->ret.how, LM_RET_VALUE);
	cr_expect_eq(s->ret.kind, LM_K_I32);
	cr_expect_eq(s->params[1].pos.line, 6);
	cr_expect_eq(s->params[1].pos.col, 25);
	cr_expect(lm_param_in_key(&s->params[15]));
	cr_expect_not(lm_param_in_key(&s->params[14]));
	parsed_free(&p);
}

Test(signature, c_aliases)
{
	struct parsed p;
	const struct lm_sig *s =
	    sig_of(&p, "long f(char a, short b, int c, long d, long long e, unsigned char g, "
	               "unsigned short h, unsigned i, unsigned int j, unsigned long k, "
	               "unsigned long long l, signed char m, signed n, long int o, short int q, "
	               "size_t r, ssize_t s, off_t t, pid_t u, uid_t v, gid_t w, intptr_t x, "
	               "uintptr_t y, float z, double aa, const char *bb, uint32_t cc)");
	enum lm_kind want[] = {LM_K_I8,  LM_K_I16, LM_K_I32, LM_K_I64, LM_K_I64, LM_K_U8,  LM_K_U16,
	                       LM_K_U32, LM_K_U32, LM_K_U64, LM_K_U64, LM_K_I8,  LM_K_I32, LM_K_I64,
	                       LM_K_I16, LM_K_U64, LM_K_I64, LM_K_I64, LM_K_I32, LM_K_U32, LM_K_U32,
	                       LM_K_I64, LM_K_U64, LM_K_F32, LM_K_F64, LM_K_STR, LM_K_U32};
	cr_assert_eq(s->nparams, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < s->nparams; i++)
		cr_expect_eq(s->params[i].kind, want[i], "param %zu (%s)", i, s->params[i].name);
	cr_expect_eq(s->ret.kind, LM_K_I64);
	parsed_free(&p);
}

Test(signature, no_params_and_unnamed_params)
{
	struct parsed p;
	const struct lm_sig *s = sig_of(&p, "void f(void)");
	cr_expect_eq(s->nparams, 0);
	cr_expect_eq(s->ret.kind, LM_K_VOID);
	parsed_free(&p);
	s = sig_of(&p, "int f()");
	cr_expect_eq(s->nparams, 0);
	parsed_free(&p);
	s = sig_of(&p, "int f(int, str)");
	cr_assert_eq(s->nparams, 2);
	cr_expect_null(s->params[0].name);
	cr_expect_eq(s->params[1].kind, LM_K_STR);
	parsed_free(&p);
}

Test(signature, sizes_name_params_types_ret_and_str)
{
	struct parsed p;
	const struct lm_sig *s =
	    sig_of(&p, "ssize_t f(int fd, out(n) b, size_t n, buf(flat) k, out(ret) r, out(str) q, "
	               "out(flat) o, buf(0x10) h)");
	cr_expect_eq(s->params[1].size.kind, LM_SZ_PARAM);
	cr_expect_eq(s->params[1].size.param, 2);
	cr_expect_eq(s->params[3].size.kind, LM_SZ_TYPE);
	cr_expect_eq(s->params[3].size.type, lm_config_find_type(&p.cfg, "flat"));
	cr_expect_eq(s->params[4].size.kind, LM_SZ_RET);
	cr_expect_eq(s->params[5].size.kind, LM_SZ_STR);
	cr_expect_eq(s->params[6].size.kind, LM_SZ_TYPE);
	cr_expect_eq(s->params[7].size.lit, 16);
	parsed_free(&p);
}

Test(signature, return_forms)
{
	struct parsed p;
	const struct lm_sig *s = sig_of(&p, "str f(int x)");
	cr_expect_eq(s->ret.how, LM_RET_STR);
	parsed_free(&p);
	s = sig_of(&p, "static str f(int x)");
	cr_expect_eq(s->ret.how, LM_RET_STATIC_STR);
	parsed_free(&p);
	s = sig_of(&p, "buf(n) f(int n)");
	cr_expect_eq(s->ret.how, LM_RET_BUF);
	cr_expect_eq(s->ret.size.kind, LM_SZ_PARAM);
	cr_expect_eq(s->ret.size.param, 0);
	parsed_free(&p);
	s = sig_of(&p, "static buf(flat) f(int n)");
	cr_expect_eq(s->ret.how, LM_RET_STATIC_BUF);
	cr_expect_eq(s->ret.size.kind, LM_SZ_TYPE);
	parsed_free(&p);
	s = sig_of(&p, "ptr(b) f(out(64) b, size_t n)");
	cr_expect_eq(s->ret.how, LM_RET_PARAM);
	cr_expect_eq(s->ret.param, 0);
	parsed_free(&p);
	s = sig_of(&p, "static rec* f(uid_t u)");
	cr_expect_eq(s->ret.how, LM_RET_STATIC_TYPE);
	cr_expect_eq(s->ret.type, lm_config_find_type(&p.cfg, "rec"));
	parsed_free(&p);
	s = sig_of(&p, "static rec * f(uid_t u)");
	cr_expect_eq(s->ret.how, LM_RET_STATIC_TYPE);
	parsed_free(&p);
	s = sig_of(&p, "ptr f(int x)");
	cr_expect_eq(s->ret.how, LM_RET_VALUE);
	cr_expect_eq(s->ret.kind, LM_K_PTR);
	parsed_free(&p);
	s = sig_of(&p, "double f(float x)");
	cr_expect_eq(s->ret.kind, LM_K_F64);
	parsed_free(&p);
}

Test(signature, unsupported_constructs_say_so)
{
	sig_error("int f(str fmt, ...)", 28, "variadic functions ('...') are not supported");
	sig_error("int f(struct timeval tv)", 19,
	          "structs and unions passed by value are not supported");
	sig_error("int f(union u v)", 19, "structs and unions passed by value are not supported");
	sig_error("int f(flat v)", 19, "struct 'flat' passed by value is not supported");
	sig_error("flat f(int x)", 13, "struct 'flat' returned by value is not supported");
	sig_error("struct tm f(int x)", 13,
	          "structs and unions returned by value are not supported");
	sig_error("long double f(int x)", 13, "'long double' is not supported");
	sig_error("int f(long double x)", 19, "'long double' is not supported");
}

Test(signature, bad_kinds_and_sizes)
{
	sig_error("int f(integer x)", 19, "unknown parameter kind 'integer'");
	sig_error("whatever f(int x)", 13, "unknown return type 'whatever'");
	sig_error("int f(int *p)", 19, "pointer parameter: use str, ptr, buf(SIZE) or out(SIZE)");
	sig_error("int f(flat *p)", 19,
	          "'flat*' is not a parameter kind: use ptr, buf(flat) or out(flat)");
	sig_error("int f(buf x)", 19, "'buf' needs a size: buf(SIZE)");
	sig_error("int f(buf(0) x)", 23, "SIZE must be positive");
	sig_error("int f(buf(ret) x)", 23, "'ret' is a SIZE only in out()");
	sig_error("int f(buf(str) x)", 23, "'str' is a SIZE only in out()");
	sig_error("str f(out(ret) x)", 23, "out(ret) needs a function that returns an integer");
	sig_error("int f(out(n) x, str n)", 23, "SIZE parameter 'n' is not an integer");
	sig_error("int f(out(rec) x)", 23, "type 'rec' has pointer fields: it cannot be a SIZE");
	sig_error("int f(out(nosuch) x)", 23,
	          "unknown SIZE 'nosuch' (not a parameter or a [type])");
	sig_error("int f(int x, int x)", 30, "duplicate parameter 'x'");
	sig_error("int f(void, int x)", 19, "'void' must be the only parameter");
	sig_error("short long f(int x)", 13, "invalid integer type 'short long'");
}

Test(signature, bad_returns)
{
	sig_error("rec* f(int x)", 13, "a 'rec*' return needs 'static' (static rec*)");
	sig_error("static int f(int x)", 13,
	          "'static' must be followed by str, buf(SIZE) or TYPE*");
	sig_error("ptr(y) f(int x)", 17, "ptr(y): no parameter named 'y'");
	sig_error("ptr(x) f(int x)", 17, "ptr(x): 'x' is not a pointer parameter");
	sig_error("int *f(int x)", 13,
	          "pointer return: use ptr, str, buf(SIZE), ptr(NAME) or static TYPE*");
	sig_error("void *f(int x)", 13, "'void *' is not a kind: use ptr");
}

Test(signature, bad_structure)
{
	sig_error("int f(int x", 24, "missing ')' after the parameters");
	sig_error("int f(int x) extra", 26, "unexpected 'extra' after ')'");
	sig_error("int (int x)", 17, "expected the function name, got '('");
	sig_error("int f int x", 19, "expected '(' after the function name, got 'int'");
	sig_error("int f(int x y)", 25, "expected ',' or ')', got 'y'");
	sig_error("int f(int x; y)", 24, "expected ',' or ')', got ';'");
}

Test(signature, several_param_errors_in_one_signature)
{
	struct parsed p;
	parse_text(&p, "[cache f]\nsignature = int f(bogus a, int b, ..., long double c)\n");
	cr_assert_eq(p.d.n, 3);
	cr_expect_eq(p.d.v[0].pos.col, 19);
	cr_expect_eq(p.d.v[1].pos.col, 35);
	cr_expect_eq(p.d.v[2].pos.col, 40);
	cr_expect(p.cfg.methods[0].broken);
	parsed_free(&p);
}

Test(signature, broken_type_breaks_the_method)
{
	struct parsed p;
	parse_text(&p, "[type t]\nfields = i32 a, nosuch b\n"
	               "[cache getit]\nsignature = static t* getit(void)\n");
	cr_assert_eq(p.d.n, 2);
	cr_expect_str_eq(p.d.v[1].msg, "type 't' has errors");
	cr_expect_eq(p.d.v[1].pos.line, 4);
	cr_expect_eq(p.d.v[1].pos.col, 20);
	cr_expect(p.cfg.types[0].broken);
	cr_expect(p.cfg.methods[0].broken);
	parsed_free(&p);
}

/* `static passwd*` with no [type passwd]: the message names the missing
 * section, not the grammar of 'static' (issue 20). */
Test(signature, undefined_type_is_named)
{
	sig_error("static passwd* getpwuid(u32 uid)", 20,
	          "type 'passwd' is not defined: add a [type passwd] section (ldmemo symbols "
	          "--config writes one)");
	sig_error("passwd* getpwuid(u32 uid)", 13,
	          "type 'passwd' is not defined (a [type passwd] section), and a pointer return "
	          "needs 'static'");
}
