/* lm_plan_key: which argument bytes enter the key, and where they are
 * read from (System V registers and stack). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "helpers.h"

Test(key, i32_ignores_garbage_upper_bits)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_I32));
	struct lm_frame a = {0}, b = {0}, c = {0};

	a.gpr[0] = 42;
	b.gpr[0] = 0xdeadbeef00000000ull | 42;
	c.gpr[0] = 43;
	cr_assert(keys_equal(p, &a, &b));
	cr_assert_not(keys_equal(p, &a, &c));
	lm_plan_free(p);
}

Test(key, small_integers_use_their_own_width)
{
	enum lm_kind kinds[] = {LM_K_I8, LM_K_U8, LM_K_BOOL, LM_K_I16, LM_K_U16, LM_K_U32};
	unsigned widths[] = {1, 1, 1, 2, 2, 4};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct lm_plan *p = PLAN("f", rv(LM_K_VOID), lp(kinds[i]));
		struct lm_frame a = {0}, b = {0}, c = {0};
		struct lm_buf k;

		a.gpr[0] = 1;
		b.gpr[0] = 1 | (~0ull << (8 * widths[i]));
		c.gpr[0] = 1ull << (8 * widths[i] - 1);
		cr_assert(keys_equal(p, &a, &b), "kind %d", kinds[i]);
		cr_assert_not(keys_equal(p, &a, &c), "kind %d", kinds[i]);
		k = key_of(p, &a);
		cr_assert_eq(k.len, widths[i]);
		lm_buf_free(&k);
		lm_plan_free(p);
	}
}

Test(key, i64_uses_all_bits)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I64), lp(LM_K_I64));
	struct lm_frame a = {0}, b = {0};

	a.gpr[0] = 1;
	b.gpr[0] = 1 | (1ull << 40);
	cr_assert_not(keys_equal(p, &a, &b));
	lm_plan_free(p);
}

Test(key, f64_by_bit_pattern)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_F64), lp(LM_K_F64));
	struct lm_frame a = {0}, b = {0}, c = {0}, d = {0};
	uint64_t nan1 = 0x7ff8000000000001ull, nan2 = 0x7ff8000000000002ull;

	set_f64(&a, 0, 0.0);
	set_f64(&b, 0, -0.0);
	cr_assert_not(keys_equal(p, &a, &b), "0.0 and -0.0 differ");
	memcpy(&c.xmm[0][0], &nan1, 8);
	memcpy(&d.xmm[0][0], &nan2, 8);
	cr_assert_not(keys_equal(p, &c, &d), "NaN payloads differ");
	memcpy(&d.xmm[0][0], &nan1, 8);
	d.xmm[0][1] = 0x1234; /* the upper half of xmm0 is not the argument */
	cr_assert(keys_equal(p, &c, &d));
	lm_plan_free(p);
}

Test(key, f32_reads_the_low_4_bytes)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_F32), lp(LM_K_F32));
	struct lm_frame a = {0}, b = {0}, c = {0};

	set_f32(&a, 0, 1.5f);
	b.xmm[0][0] = 0xabcdef0100000000ull;
	set_f32(&b, 0, 1.5f);
	set_f32(&c, 0, 2.5f);
	cr_assert(keys_equal(p, &a, &b));
	cr_assert_not(keys_equal(p, &a, &c));
	lm_plan_free(p);
}

Test(key, str_by_content_null_distinct)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_STR));
	char s1[] = "bob", s2[] = "bob", s3[] = "bo";
	struct lm_frame a = {0}, b = {0}, n = {0}, e = {0}, c = {0};

	a.gpr[0] = ptrw(s1);
	b.gpr[0] = ptrw(s2);
	c.gpr[0] = ptrw(s3);
	e.gpr[0] = ptrw("");
	cr_assert(keys_equal(p, &a, &b), "equal content, other address");
	cr_assert_not(keys_equal(p, &a, &c));
	cr_assert_not(keys_equal(p, &n, &e), "NULL differs from \"\"");
	cr_assert_not(keys_equal(p, &n, &a));
	lm_plan_free(p);
}

Test(key, str_pairs_are_unambiguous)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_STR), lp(LM_K_STR));
	struct lm_frame a = {0}, b = {0}, c = {0}, d = {0};

	a.gpr[0] = ptrw("a");
	a.gpr[1] = ptrw("bc");
	b.gpr[0] = ptrw("ab");
	b.gpr[1] = ptrw("c");
	cr_assert_not(keys_equal(p, &a, &b));
	c.gpr[0] = ptrw("");
	c.gpr[1] = 0;
	d.gpr[0] = 0;
	d.gpr[1] = ptrw("");
	cr_assert_not(keys_equal(p, &c, &d));
	lm_plan_free(p);
}

Test(key, buf_literal_size_reads_exactly_size_bytes)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp_size(LM_K_BUF, LM_SZ_LIT, 4, 0));
	unsigned char x[8] = {1, 2, 3, 4, 5}, y[8] = {1, 2, 3, 4, 9}, z[8] = {1, 2, 3, 5};
	struct lm_frame a = {0}, b = {0}, c = {0}, n = {0};

	a.gpr[0] = ptrw(x);
	b.gpr[0] = ptrw(y);
	c.gpr[0] = ptrw(z);
	cr_assert(keys_equal(p, &a, &b), "bytes past SIZE do not count");
	cr_assert_not(keys_equal(p, &a, &c));
	cr_assert_not(keys_equal(p, &a, &n));
	lm_plan_free(p);
}

Test(key, buf_param_size)
{
	struct lm_plan *p =
	    PLAN("f", rv(LM_K_I32), lp_size(LM_K_BUF, LM_SZ_PARAM, 0, 1), lp(LM_K_I32));
	unsigned char x[8] = {1, 2, 3, 4, 5}, y[8] = {1, 2, 3, 4, 6};
	struct lm_frame a = {0}, b = {0};
	struct lm_buf k = {0};

	a.gpr[0] = ptrw(x);
	b.gpr[0] = ptrw(y);
	a.gpr[1] = b.gpr[1] = 0xffffffff00000004ull; /* 4, with garbage above */
	cr_assert(keys_equal(p, &a, &b));
	a.gpr[1] = b.gpr[1] = 5;
	cr_assert_not(keys_equal(p, &a, &b));
	a.gpr[1] = 0xffffffff; /* -1 as an i32 */
	k.len = 3;
	cr_assert_eq(lm_buf_reserve(&k, 0), 0);
	cr_assert_eq(lm_plan_key(p, &a, &k), -1, "a negative size fails the key");
	cr_assert_eq(k.len, 3, "a failed key leaves the buffer's length");
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(key, buf_size_above_cap_fails)
{
	struct lm_plan *p =
	    PLAN("f", rv(LM_K_I32), lp_size(LM_K_BUF, LM_SZ_PARAM, 0, 1), lp(LM_K_U64));
	struct lm_frame a = {0};
	struct lm_buf k = {0};

	a.gpr[0] = ptrw("x");
	a.gpr[1] = 1ull << 40;
	cr_assert_eq(lm_plan_key(p, &a, &k), -1);
	cr_assert_eq(k.len, 0);
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(key, buf_type_size)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp_size(LM_K_BUF, LM_SZ_TYPE, 0, T_POINT));
	struct point x[2] = {{1, 2}, {3, 4}}, y[2] = {{1, 2}, {5, 6}}, z[1] = {{1, 3}};
	struct lm_frame a = {0}, b = {0}, c = {0};

	a.gpr[0] = ptrw(x);
	b.gpr[0] = ptrw(y);
	c.gpr[0] = ptrw(z);
	cr_assert(keys_equal(p, &a, &b));
	cr_assert_not(keys_equal(p, &a, &c));
	lm_plan_free(p);
}

Test(key, out_by_nullness_only)
{
	struct lm_plan *p =
	    PLAN("f", rv(LM_K_I32), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0));
	char b1[64], b2[64];
	struct lm_frame a = {0}, b = {0}, n = {0};

	a.gpr[0] = b.gpr[0] = n.gpr[0] = 7;
	a.gpr[1] = ptrw(b1);
	b.gpr[1] = ptrw(b2);
	cr_assert(keys_equal(p, &a, &b));
	cr_assert_not(keys_equal(p, &a, &n));
	lm_plan_free(p);
}

Test(key, ignore_is_not_in_the_key)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_IGNORE), lp(LM_K_I32));
	struct lm_frame a = {0}, b = {0}, c = {0};
	struct lm_buf k;

	a.gpr[0] = 1;
	b.gpr[0] = 2;
	a.gpr[1] = b.gpr[1] = 9;
	c.gpr[1] = 10;
	cr_assert(keys_equal(p, &a, &b));
	cr_assert_not(keys_equal(p, &a, &c));
	k = key_of(p, &a);
	cr_assert_eq(k.len, 4);
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(key, ptr_by_address)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_PTR));
	char s1[] = "x", s2[] = "x";
	struct lm_frame a = {0}, b = {0}, c = {0};

	a.gpr[0] = c.gpr[0] = ptrw(s1);
	b.gpr[0] = ptrw(s2);
	cr_assert_not(keys_equal(p, &a, &b));
	cr_assert(keys_equal(p, &a, &c));
	lm_plan_free(p);
}

Test(key, eight_int_params_read_the_stack)
{
	struct lm_param ps[8];
	struct lm_frame a = {0}, b = {0};
	uint64_t sa[2] = {7, 8}, sb[2] = {7, 9};
	struct lm_buf k;
	struct lm_plan *p;

	for (int i = 0; i < 8; i++)
		ps[i] = lp(LM_K_I64);
	p = plan_of("f8", rv(LM_K_I64), ps, 8, NULL);
	cr_assert_eq(lm_plan_stack_bytes(p), 16);
	for (int i = 0; i < 6; i++)
		a.gpr[i] = b.gpr[i] = (uint64_t)i + 1;
	a.stack_args = sa;
	b.stack_args = sb;
	cr_assert_not(keys_equal(p, &a, &b), "the 8th param comes from stack slot 1");
	sb[1] = 8;
	cr_assert(keys_equal(p, &a, &b));
	k = key_of(p, &a);
	cr_assert_eq(k.len, 64);
	for (int i = 0; i < 8; i++) {
		uint64_t v;

		memcpy(&v, k.p + 8 * i, 8);
		cr_assert_eq(v, (uint64_t)i + 1, "param %d in order", i);
	}
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(key, stack_bytes_round_up_to_16)
{
	struct lm_param ps[9];
	struct lm_plan *p;

	for (int i = 0; i < 9; i++)
		ps[i] = lp(LM_K_I32);
	p = plan_of("f9", rv(LM_K_VOID), ps, 9, NULL);
	cr_assert_eq(lm_plan_stack_bytes(p), 32, "3 slots of 8 bytes round up to 32");
	lm_plan_free(p);
}

Test(key, mixed_float_and_int_registers)
{
	/* f(double a, long b, float c, long d): a xmm0, b rdi, c xmm1, d rsi */
	struct lm_plan *p =
	    PLAN("mix", rv(LM_K_F64), lp(LM_K_F64), lp(LM_K_I64), lp(LM_K_F32), lp(LM_K_I64));
	struct lm_frame a = {0};
	struct lm_buf k;
	double d;
	float x;
	uint64_t v;

	set_f64(&a, 0, 2.5);
	a.gpr[0] = 11;
	set_f32(&a, 1, 3.25f);
	a.gpr[1] = 22;
	k = key_of(p, &a);
	cr_assert_eq(k.len, 8 + 8 + 4 + 8);
	memcpy(&d, k.p, 8);
	memcpy(&v, k.p + 8, 8);
	cr_assert(d == 2.5 && v == 11);
	memcpy(&x, k.p + 16, 4);
	memcpy(&v, k.p + 20, 8);
	cr_assert(x == 3.25f && v == 22);
	cr_assert_eq(lm_plan_stack_bytes(p), 0);
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(key, nine_doubles_and_seven_ints_overflow_in_param_order)
{
	/* f(d0..d8, i0..i6): d8 is stack slot 0, i6 stack slot 1. */
	struct lm_param ps[16];
	struct lm_frame a = {0};
	uint64_t stack[2];
	double d8 = 9.5, got;
	uint64_t v;
	struct lm_buf k;
	struct lm_plan *p;

	for (int i = 0; i < 9; i++)
		ps[i] = lp(LM_K_F64);
	for (int i = 9; i < 16; i++)
		ps[i] = lp(LM_K_I64);
	p = plan_of("wide", rv(LM_K_VOID), ps, 16, NULL);
	cr_assert_eq(lm_plan_stack_bytes(p), 16);
	for (int i = 0; i < 8; i++)
		set_f64(&a, i, i + 0.5);
	for (int i = 0; i < 6; i++)
		a.gpr[i] = 100 + (uint64_t)i;
	memcpy(&stack[0], &d8, 8);
	stack[1] = 106;
	a.stack_args = stack;
	k = key_of(p, &a);
	cr_assert_eq(k.len, 16 * 8);
	memcpy(&got, k.p + 8 * 8, 8);
	cr_assert(got == 9.5);
	memcpy(&v, k.p + 15 * 8, 8);
	cr_assert_eq(v, 106);
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(key, keeps_errno)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_STR));
	struct lm_frame a = {0};
	struct lm_buf k;

	a.gpr[0] = ptrw("some string");
	errno = 4242;
	k = key_of(p, &a);
	cr_assert_eq(errno, 4242);
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(key, appends_after_existing_bytes)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_I32));
	struct lm_frame a = {0};
	struct lm_buf k = {0};

	a.gpr[0] = 5;
	cr_assert_eq(lm_buf_append(&k, "hdr", 3), 0);
	cr_assert_eq(lm_plan_key(p, &a, &k), 0);
	cr_assert_eq(k.len, 7);
	cr_assert_eq(memcmp(k.p, "hdr\5\0\0\0", 7), 0);
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(describe, renders_arguments)
{
	struct lm_plan *p =
	    PLAN("get_user", rv(LM_K_I32), lp(LM_K_I64), lp(LM_K_STR), lp(LM_K_STR), lp(LM_K_PTR),
	         lp(LM_K_IGNORE), lp_size(LM_K_OUT, LM_SZ_LIT, 8, 0), lp(LM_K_F64));
	struct lm_frame a = {0};
	struct lm_buf k;
	char out[200];
	size_t n;

	a.gpr[0] = (uint64_t)-42;
	a.gpr[1] = ptrw("bob\"x");
	a.gpr[2] = 0;
	a.gpr[3] = 0x7ff0001234ull;
	a.gpr[5] = 0;
	set_f64(&a, 0, 1.5);
	k = key_of(p, &a);
	n = lm_plan_key_describe(p, k.p, k.len, out, sizeof(out));
	cr_assert_str_eq(out, "get_user(-42, \"bob\\\"x\", NULL, 0x7ff0001234, _, NULL, 1.5)");
	cr_assert_eq(n, strlen(out));
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(describe, truncates_safely)
{
	struct lm_plan *p = PLAN("get_user", rv(LM_K_I32), lp(LM_K_STR));
	struct lm_frame a = {0};
	struct lm_buf k;
	char out[12];
	char big[200];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	a.gpr[0] = ptrw(big);
	k = key_of(p, &a);
	memset(out, 'Z', sizeof(out));
	cr_assert_eq(lm_plan_key_describe(p, k.p, k.len, out, sizeof(out)), 11);
	cr_assert_str_eq(out, "get_user(\"a");
	cr_assert_eq(lm_plan_key_describe(p, k.p, k.len, out, 0), 0);
	/* A truncated key is reported, not read past. */
	cr_assert_gt(lm_plan_key_describe(p, k.p, 3, big, sizeof(big)), 0);
	cr_assert(strstr(big, "<malformed>"));
	lm_buf_free(&k);
	lm_plan_free(p);
}

Test(describe, long_strings_are_cut)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_STR));
	struct lm_frame a = {0};
	struct lm_buf k;
	char out[200], big[100];

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	a.gpr[0] = ptrw(big);
	k = key_of(p, &a);
	lm_plan_key_describe(p, k.p, k.len, out, sizeof(out));
	cr_assert(strstr(out, "\"...)"), "%s", out);
	cr_assert_lt(strlen(out), 60);
	lm_buf_free(&k);
	lm_plan_free(p);
}

/* Long strings and buffers that differ only far in: past byte 64, 256 and
 * 4096 (a key that kept only a prefix answered one with the other's
 * result). */
Test(key, long_str_and_buf_differ_past_64_256_and_4096)
{
	static const size_t at[] = {64, 65, 256, 257, 4096, 4097, 9000};
	struct lm_plan *ps = PLAN("f", rv(LM_K_I32), lp(LM_K_STR));
	struct lm_plan *pb =
	    PLAN("f", rv(LM_K_I32), lp_size(LM_K_BUF, LM_SZ_PARAM, 0, 1), lp(LM_K_U32));
	static char x[10000], y[10000];
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		memset(x, 'p', at[i] + 8);
		memset(y, 'p', at[i] + 8);
		x[at[i] + 8] = y[at[i] + 8] = 0;
		y[at[i]] = 'q';
		struct lm_frame a = {0}, b = {0};
		a.gpr[0] = ptrw(x);
		b.gpr[0] = ptrw(y);
		cr_expect_not(keys_equal(ps, &a, &b), "str differing at byte %zu", at[i]);
		y[at[i]] = 'p';
		cr_expect(keys_equal(ps, &a, &b), "equal str of %zu bytes", at[i] + 8);
		y[at[i]] = 'q';
		a.gpr[1] = b.gpr[1] = at[i] + 8;
		cr_expect_not(keys_equal(pb, &a, &b), "buf differing at byte %zu", at[i]);
		y[at[i]] = 'p';
		y[at[i] + 7] = 'q';
		cr_expect_not(keys_equal(pb, &a, &b), "buf differing in its last byte (%zu)",
		              at[i] + 7);
	}
	lm_plan_free(ps);
	lm_plan_free(pb);
}

/* lm_plan_key_equals compares a call with an encoded key without building
 * the call's key: it must agree with comparing built keys, for str keys
 * that are prefixes of each other, NULL, "", and integers with garbage
 * upper bits. */
Test(key, equals_agrees_with_built_keys)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_VOID), lp(LM_K_STR), lp(LM_K_I32));
	const char *strs[] = {NULL, "", "rec", "rec5", "rec55", "rec6"};
	uint64_t ints[] = {5, 0xdeadbeef00000005ull, 6};
	struct lm_frame f[18];
	size_t n = 0;

	for (size_t i = 0; i < 6; i++)
		for (size_t j = 0; j < 3; j++) {
			f[n] = (struct lm_frame){0};
			f[n].gpr[0] = (uint64_t)(uintptr_t)strs[i];
			f[n].gpr[1] = ints[j];
			n++;
		}
	for (size_t a = 0; a < n; a++) {
		struct lm_buf k = key_of(p, &f[a]);
		for (size_t b = 0; b < n; b++)
			cr_expect_eq(lm_plan_key_equals(p, &f[b], k.p, (uint32_t)k.len),
			             keys_equal(p, &f[a], &f[b]), "frames %zu and %zu", a, b);
		cr_expect_not(lm_plan_key_equals(p, &f[a], k.p, (uint32_t)k.len - 1),
		              "a truncated key never matches");
		lm_buf_free(&k);
	}
	lm_plan_free(p);
}

/* lm_plan_register_out: the fast thunk's out shape, one register key then
 * one out of a literal size (8 to 64 bytes, a multiple of 8) in a
 * register, an integer or void result; nothing else. */
Test(key, register_out_takes_the_fast_thunks_out_shape_only)
{
	uint32_t koff = 99, ooff = 99, olen = 0;
	uint8_t kw = 0;
	struct lm_plan *p =
	    PLAN("u", rv(LM_K_I32), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0));
	cr_expect_eq(lm_plan_register_out(p, &koff, &kw, &ooff, &olen), LM_SCALAR_INT);
	cr_expect(koff == 0 && kw == 8 && ooff == 8 && olen == 64, "%u %u %u %u", koff, kw, ooff,
	          olen);
	lm_plan_free(p);
	p = PLAN("v", rv(LM_K_VOID), lp(LM_K_U16), lp_size(LM_K_OUT, LM_SZ_LIT, 8, 0));
	cr_expect_eq(lm_plan_register_out(p, &koff, &kw, &ooff, &olen), LM_SCALAR_VOID);
	cr_expect(kw == 2 && olen == 8);
	lm_plan_free(p);

	struct {
		const char *why;
		struct lm_plan *p;
	} no[] = {
	    {"out first",
	     PLAN("a", rv(LM_K_I32), lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0), lp(LM_K_I64))},
	    {"72 bytes",
	     PLAN("b", rv(LM_K_I32), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 72, 0))},
	    {"12 bytes",
	     PLAN("c", rv(LM_K_I32), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 12, 0))},
	    {"a double result",
	     PLAN("d", rv(LM_K_F64), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0))},
	    {"a str key",
	     PLAN("e", rv(LM_K_I32), lp(LM_K_STR), lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0))},
	    {"two keys", PLAN("f", rv(LM_K_I32), lp(LM_K_I64), lp(LM_K_I64),
	                      lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0))},
	    {"two outs", PLAN("g", rv(LM_K_I32), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 8, 0),
	                      lp_size(LM_K_OUT, LM_SZ_LIT, 8, 0))},
	    {"no out", PLAN("h", rv(LM_K_I32), lp(LM_K_I64))},
	    {"a size parameter", PLAN("i", rv(LM_K_I32), lp(LM_K_I64),
	                              lp_size(LM_K_OUT, LM_SZ_PARAM, 0, 2), lp(LM_K_I64))},
	};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		cr_expect_eq(lm_plan_register_out(no[i].p, &koff, &kw, &ooff, &olen), LM_SCALAR_NO,
		             "%s", no[i].why);
		lm_plan_free(no[i].p);
	}
}
