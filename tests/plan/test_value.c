/* Value blobs: capture after a miss, replay on a hit, verify-mode
 * comparison, and rejection of malformed blobs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static struct lm_buf capture(const struct lm_plan *p, const struct lm_frame *f, int err)
{
	struct lm_buf v = {0};

	cr_assert_eq(lm_plan_capture(p, f, err, &v), 0, "capture");
	return v;
}

Test(value, int_return_and_errno_round_trip)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_I32));
	struct lm_frame miss = {0}, hit = {0};
	struct lm_buf v;
	int err = 0;

	miss.ret_rax = 0xffffffffffffffffull;
	v = capture(p, &miss, ENOENT);
	errno = 777;
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	cr_assert_eq(errno, 777, "replay leaves errno alone");
	cr_assert_eq(err, ENOENT);
	cr_assert_eq((int32_t)hit.ret_rax, -1);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, f64_return_in_xmm0)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_F64), lp(LM_K_F64));
	struct lm_frame miss = {0}, hit = {0};
	struct lm_buf v;
	double d = -3.75, got;
	int err = 1;

	memcpy(&miss.ret_xmm0[0], &d, 8);
	miss.ret_rax = 12345; /* not the result */
	v = capture(p, &miss, 0);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	memcpy(&got, &hit.ret_xmm0[0], 8);
	cr_assert(got == -3.75);
	cr_assert_eq(err, 0);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, void_return_holds_only_errno)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_VOID), lp(LM_K_I32));
	struct lm_frame miss = {0}, hit = {0};
	struct lm_buf v;
	int err = 0;

	v = capture(p, &miss, EPERM);
	cr_assert_eq(v.len, 4);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	cr_assert_eq(err, EPERM);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, str_return_is_a_fresh_malloc_copy)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_STR, 0, 0, 0), lp(LM_K_I32));
	struct lm_frame miss = {0}, h1 = {0}, h2 = {0};
	char orig[] = "hello";
	struct lm_buf v;
	char *a, *b;
	int err;

	miss.ret_rax = ptrw(orig);
	v = capture(p, &miss, EEXIST);
	errno = 5150;
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &h1, &err), 0);
	cr_assert_eq(errno, 5150, "the copy's malloc does not show in errno");
	cr_assert_eq(err, EEXIST);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &h2, &err), 0);
	a = (char *)(uintptr_t)h1.ret_rax;
	b = (char *)(uintptr_t)h2.ret_rax;
	cr_assert_str_eq(a, "hello");
	cr_assert_str_eq(b, "hello");
	cr_assert_neq(a, b, "every hit gets its own copy");
	cr_assert_neq(a, orig);
	free(a);
	free(b);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, null_str_return_stays_null)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_STR, 0, 0, 0), lp(LM_K_I32));
	struct lm_frame miss = {0}, hit = {0};
	struct lm_buf v;
	int err;

	v = capture(p, &miss, ENOENT);
	hit.ret_rax = 99;
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	cr_assert_eq(hit.ret_rax, 0);
	cr_assert_eq(err, ENOENT);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, static_str_is_stable_until_the_next_call)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_STATIC_STR, 0, 0, 0), lp(LM_K_I32));
	struct lm_frame miss = {0}, h1 = {0}, h2 = {0};
	struct lm_buf v1, v2;
	char *a, *b;
	int err;

	miss.ret_rax = ptrw("first");
	v1 = capture(p, &miss, 0);
	miss.ret_rax = ptrw("second value");
	v2 = capture(p, &miss, 0);
	cr_assert_eq(lm_plan_replay(p, v1.p, v1.len, &h1, &err), 0);
	a = (char *)(uintptr_t)h1.ret_rax;
	cr_assert_str_eq(a, "first");
	cr_assert_eq(lm_plan_replay(p, v2.p, v2.len, &h2, &err), 0);
	b = (char *)(uintptr_t)h2.ret_rax;
	cr_assert_str_eq(b, "second value");
	cr_assert_eq(lm_plan_replay(p, v1.p, v1.len, &h1, &err), 0);
	cr_assert_eq((char *)(uintptr_t)h1.ret_rax, b, "the same thread's buffer is reused");
	cr_assert_str_eq(b, "first");
	lm_buf_free(&v1);
	lm_buf_free(&v2);
	lm_plan_free(p);
}

/* libc's static buffer keeps its address from one key to the next, and
 * programs compare the pointers: a longer result ("CEST" after "CET", a
 * longer home directory) must not move ours. It moved with realloc. */
Test(value, static_buffer_keeps_its_address_when_a_result_grows)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_STATIC_STR, 0, 0, 0), lp(LM_K_I32));
	struct lm_frame miss = {0}, h1 = {0}, h2 = {0}, h3 = {0};
	struct lm_buf v1, v2, v3;
	char longer[300];
	int err;

	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	miss.ret_rax = ptrw("CET");
	v1 = capture(p, &miss, 0);
	miss.ret_rax = ptrw("CEST");
	v2 = capture(p, &miss, 0);
	miss.ret_rax = ptrw(longer);
	v3 = capture(p, &miss, 0);
	cr_assert_eq(lm_plan_replay(p, v1.p, v1.len, &h1, &err), 0);
	cr_assert_eq(lm_plan_replay(p, v2.p, v2.len, &h2, &err), 0);
	cr_expect_eq(h2.ret_rax, h1.ret_rax, "a byte longer moved the buffer");
	cr_assert_str_eq((char *)(uintptr_t)h2.ret_rax, "CEST");
	cr_assert_eq(lm_plan_replay(p, v3.p, v3.len, &h3, &err), 0);
	cr_expect_eq(h3.ret_rax, h1.ret_rax, "300 bytes moved the buffer");
	cr_assert_str_eq((char *)(uintptr_t)h3.ret_rax, longer);
	lm_buf_free(&v1);
	lm_buf_free(&v2);
	lm_buf_free(&v3);
	lm_plan_free(p);
}

Test(value, static_buffers_are_per_method)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_STATIC_STR, 0, 0, 0), lp(LM_K_I32));
	struct lm_plan *q = PLAN("g", rhow(LM_RET_STATIC_STR, 0, 0, 0), lp(LM_K_I32));
	struct lm_frame miss = {0}, h1 = {0}, h2 = {0};
	struct lm_buf v1, v2;
	int err;

	miss.ret_rax = ptrw("from f");
	v1 = capture(p, &miss, 0);
	miss.ret_rax = ptrw("from g");
	v2 = capture(q, &miss, 0);
	cr_assert_eq(lm_plan_replay(p, v1.p, v1.len, &h1, &err), 0);
	cr_assert_eq(lm_plan_replay(q, v2.p, v2.len, &h2, &err), 0);
	cr_assert_str_eq((char *)(uintptr_t)h1.ret_rax, "from f");
	cr_assert_str_eq((char *)(uintptr_t)h2.ret_rax, "from g");
	lm_buf_free(&v1);
	lm_buf_free(&v2);
	lm_plan_free(p);
	lm_plan_free(q);
}

static void *other_thread_replay(void *arg)
{
	struct lm_plan *p = ((void **)arg)[0];
	struct lm_buf *v = ((void **)arg)[1];
	struct lm_frame h = {0};
	int err;

	if (lm_plan_replay(p, v->p, v->len, &h, &err) < 0)
		return NULL;
	return (void *)(uintptr_t)h.ret_rax;
}

Test(value, static_buffers_are_per_thread)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_STATIC_STR, 0, 0, 0), lp(LM_K_I32));
	struct lm_frame miss = {0}, h = {0};
	struct lm_buf v;
	void *args[2], *theirs;
	pthread_t t;
	int err;

	miss.ret_rax = ptrw("shared");
	v = capture(p, &miss, 0);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &h, &err), 0);
	args[0] = p;
	args[1] = &v;
	cr_assert_eq(pthread_create(&t, NULL, other_thread_replay, args), 0);
	cr_assert_eq(pthread_join(t, &theirs), 0);
	cr_assert_not_null(theirs);
	cr_assert_neq(theirs, (void *)(uintptr_t)h.ret_rax);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, buf_return_literal_and_param_size)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_BUF, LM_SZ_LIT, 5, 0), lp(LM_K_I32));
	struct lm_plan *q = PLAN("g", rhow(LM_RET_STATIC_BUF, LM_SZ_PARAM, 0, 0), lp(LM_K_U32));
	struct lm_frame miss = {0}, hit = {0};
	unsigned char data[8] = {1, 2, 0, 4, 5, 6, 7, 8};
	unsigned char *got;
	struct lm_buf v;
	int err;

	miss.ret_rax = ptrw(data);
	v = capture(p, &miss, 0);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	got = (unsigned char *)(uintptr_t)hit.ret_rax;
	cr_assert_arr_eq(got, data, 5);
	free(got);
	lm_buf_free(&v);

	miss.gpr[0] = 7;
	hit.gpr[0] = 7;
	v = capture(q, &miss, 0);
	cr_assert_eq(lm_plan_replay(q, v.p, v.len, &hit, &err), 0);
	got = (unsigned char *)(uintptr_t)hit.ret_rax;
	cr_assert_arr_eq(got, data, 7);
	hit.gpr[0] = 6;
	cr_assert_eq(lm_plan_replay(q, v.p, v.len, &hit, &err), -1,
	             "a size that differs at this call rejects the blob");
	lm_buf_free(&v);
	lm_plan_free(p);
	lm_plan_free(q);
}

Test(value, ptr_param_return_uses_the_current_frame)
{
	/* char *getcwd(out(str) buf, u64 size) -> ptr(buf) */
	struct lm_plan *p = PLAN("getcwd", rhow(LM_RET_PARAM, 0, 0, 0),
	                         lp_size(LM_K_OUT, LM_SZ_STR, 0, 0), lp(LM_K_U64));
	struct lm_frame miss = {0}, hit = {0};
	char b1[32] = "/home/bob", b2[32];
	struct lm_buf v;
	int err;

	miss.gpr[0] = ptrw(b1);
	miss.gpr[1] = 32;
	miss.ret_rax = ptrw(b1);
	v = capture(p, &miss, 0);
	memset(b2, 'x', sizeof(b2));
	hit.gpr[0] = ptrw(b2);
	hit.gpr[1] = 32;
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	cr_assert_eq(hit.ret_rax, ptrw(b2));
	cr_assert_str_eq(b2, "/home/bob");
	cr_assert_eq(b2[10], 'x', "only the string and its NUL are written");
	lm_buf_free(&v);

	miss.ret_rax = 0;
	v = capture(p, &miss, ERANGE);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	cr_assert_eq(hit.ret_rax, 0);
	cr_assert_eq(err, ERANGE);
	lm_buf_free(&v);

	miss.ret_rax = ptrw(b2);
	v = (struct lm_buf){0};
	cr_assert_eq(lm_plan_capture(p, &miss, 0, &v), -1,
	             "a pointer other than NAME cannot be replayed");
	cr_assert_eq(v.len, 0);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, out_sizes_of_every_kind)
{
	/* i64 f(out(16) a, out(n) b, u32 n, out(point) c, out(ret) d) */
	struct lm_plan *p =
	    PLAN("f", rv(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 16, 0),
	         lp_size(LM_K_OUT, LM_SZ_PARAM, 0, 2), lp(LM_K_U32),
	         lp_size(LM_K_OUT, LM_SZ_TYPE, 0, T_POINT), lp_size(LM_K_OUT, LM_SZ_RET, 0, 0));
	unsigned char a[20], b[20], d[20], a2[20], b2[20], d2[20];
	struct point c = {3, 4}, c2 = {0, 0};
	struct lm_frame miss = {0}, hit = {0};
	struct lm_buf v;
	int err;

	for (int i = 0; i < 20; i++) {
		a[i] = (unsigned char)i;
		b[i] = (unsigned char)(100 + i);
		d[i] = (unsigned char)(200 + i);
	}
	memset(a2, 0xee, 20);
	memset(b2, 0xee, 20);
	memset(d2, 0xee, 20);
	miss.gpr[0] = ptrw(a);
	miss.gpr[1] = ptrw(b);
	miss.gpr[2] = 6;
	miss.gpr[3] = ptrw(&c);
	miss.gpr[4] = ptrw(d);
	miss.ret_rax = 3;
	v = capture(p, &miss, 0);
	hit.gpr[0] = ptrw(a2);
	hit.gpr[1] = ptrw(b2);
	hit.gpr[2] = 6;
	hit.gpr[3] = ptrw(&c2);
	hit.gpr[4] = ptrw(d2);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	cr_assert_arr_eq(a2, a, 16);
	cr_assert_eq(a2[16], 0xee);
	cr_assert_arr_eq(b2, b, 6);
	cr_assert_eq(b2[6], 0xee);
	cr_assert(c2.x == 3 && c2.y == 4);
	cr_assert_arr_eq(d2, d, 3);
	cr_assert_eq(d2[3], 0xee);
	cr_assert_eq(hit.ret_rax, 3);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, out_ret_negative_stores_nothing)
{
	struct lm_plan *p =
	    PLAN("rd", rv(LM_K_I64), lp(LM_K_I32), lp_size(LM_K_OUT, LM_SZ_RET, 0, 0));
	unsigned char b[8] = "abcdefg", b2[8] = "zzzzzzz";
	struct lm_frame miss = {0}, hit = {0};
	struct lm_buf v;
	int err;

	miss.gpr[1] = ptrw(b);
	miss.ret_rax = (uint64_t)-1;
	v = capture(p, &miss, EBADF);
	hit.gpr[1] = ptrw(b2);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	cr_assert_str_eq((char *)b2, "zzzzzzz");
	cr_assert_eq((int64_t)hit.ret_rax, -1);
	cr_assert_eq(err, EBADF);
	lm_buf_free(&v);

	miss.ret_rax = 1ull << 40;
	v = (struct lm_buf){0};
	cr_assert_eq(lm_plan_capture(p, &miss, 0, &v), -1, "a count above the cap is not stored");
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, null_out_pointer_stores_nothing_and_must_match)
{
	struct lm_plan *p =
	    PLAN("f", rv(LM_K_I32), lp(LM_K_I32), lp_size(LM_K_OUT, LM_SZ_LIT, 4, 0));
	struct lm_frame miss = {0}, hit = {0};
	unsigned char b[4] = {9, 9, 9, 9};
	struct lm_buf v;
	int err = 123;

	miss.ret_rax = 1;
	v = capture(p, &miss, 0);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	hit.gpr[1] = ptrw(b);
	err = 123;
	hit.ret_rax = 55;
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), -1,
	             "a blob stored for a NULL out does not serve a non-NULL one");
	cr_assert_eq(b[0], 9);
	cr_assert_eq(err, 123);
	cr_assert_eq(hit.ret_rax, 55);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, capture_failure_keeps_length_and_errno)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_BUF, LM_SZ_PARAM, 0, 0), lp(LM_K_I64));
	struct lm_frame miss = {0};
	struct lm_buf v = {0};

	miss.gpr[0] = (uint64_t)-5;
	miss.ret_rax = ptrw("abc");
	cr_assert_eq(lm_buf_append(&v, "xy", 2), 0);
	errno = 31;
	cr_assert_eq(lm_plan_capture(p, &miss, 0, &v), -1);
	cr_assert_eq(v.len, 2);
	cr_assert_eq(errno, 31);
	lm_buf_free(&v);
	lm_plan_free(p);
}

/* Every prefix of a valid blob, and the blob with a byte more, is
 * rejected without writing through the caller's pointers. */
static void check_truncations(const struct lm_plan *p, const struct lm_buf *v, struct lm_frame *hit,
                              const unsigned char *watch, size_t wlen)
{
	unsigned char before[256];
	unsigned char *copy = malloc(v->len + 1);
	uint64_t rax = hit->ret_rax;
	int err = 4321;

	cr_assert(wlen <= sizeof(before));
	memcpy(before, watch, wlen);
	for (size_t n = 0; n < v->len; n++) {
		memcpy(copy, v->p, n); /* exactly N readable bytes */
		cr_assert_eq(lm_plan_replay(p, n ? copy : NULL, n, hit, &err), -1, "length %zu", n);
		cr_assert_arr_eq(watch, before, wlen, "length %zu wrote", n);
		cr_assert_eq(err, 4321);
		cr_assert_eq(hit->ret_rax, rax);
		cr_assert_not(lm_plan_same_value(p, copy, n, v->p, v->len));
	}
	memcpy(copy, v->p, v->len);
	copy[v->len] = 0;
	cr_assert_eq(lm_plan_replay(p, copy, v->len + 1, hit, &err), -1, "trailing byte");
	cr_assert_arr_eq(watch, before, wlen);
	free(copy);
}

Test(value, truncated_blobs_are_rejected)
{
	struct lm_plan *p =
	    PLAN("f", rhow(LM_RET_STR, 0, 0, 0), lp(LM_K_I32), lp_size(LM_K_OUT, LM_SZ_LIT, 8, 0),
	         lp_size(LM_K_OUT, LM_SZ_STR, 0, 0));
	struct lm_frame miss = {0}, hit = {0};
	char o1[8] = "1234567", o2[16] = "a string", w1[8], w2[16];
	struct lm_buf v;

	miss.gpr[1] = ptrw(o1);
	miss.gpr[2] = ptrw(o2);
	miss.ret_rax = ptrw("result");
	v = capture(p, &miss, 0);
	memset(w1, 'w', sizeof(w1));
	memset(w2, 'w', sizeof(w2));
	hit.gpr[1] = ptrw(w1);
	hit.gpr[2] = ptrw(w2);
	hit.ret_rax = 77;
	check_truncations(p, &v, &hit, (unsigned char *)w1, sizeof(w1));
	check_truncations(p, &v, &hit, (unsigned char *)w2, sizeof(w2));
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(value, corrupt_lengths_are_rejected)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_STATIC_STR, 0, 0, 0), lp(LM_K_I32));
	struct lm_frame miss = {0}, hit = {0};
	struct lm_buf v;
	uint32_t huge = 0xfffffff0u;
	int err;

	miss.ret_rax = ptrw("abc");
	v = capture(p, &miss, 0);
	/* errno(4) tag(1) len(4) */
	memcpy(v.p + 5, &huge, 4);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), -1);
	v.p[4] = 7; /* a tag that is neither 0 nor 1 */
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), -1);
	lm_buf_free(&v);
	lm_plan_free(p);
}

/* Damaged blobs: each is refused, or replays to a well-formed struct whose
 * strings lie within what the blob could hold. Both outcomes must occur
 * (a decoder that refused everything, or nothing, would not be tested). */
static size_t bounded_len(const char *s, size_t max)
{
	return s ? strnlen(s, max + 1) : 0;
}

Test(value, random_corruption_is_refused_or_well_formed)
{
	struct lm_plan *p = PLAN("f", rhow(LM_RET_STATIC_TYPE, 0, 0, T_OUTER), lp(LM_K_I32),
	                         lp_size(LM_K_OUT, LM_SZ_STR, 0, 0));
	char *members[] = {"x", "yy", NULL};
	struct inner nx = {5, "next"};
	struct outer o = {"name", members, {1, "lab"}, &nx, {1, 2, 3}, 2.0};
	struct lm_frame miss = {0}, hit = {0};
	char ob[16] = "outstr", hb[64];
	struct lm_buf v;
	unsigned seed = 12345;
	int err, refused = 0, accepted = 0;

	miss.gpr[1] = ptrw(ob);
	miss.ret_rax = ptrw(&o);
	v = capture(p, &miss, 0);
	hit.gpr[1] = ptrw(hb);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0, "the intact blob replays");
	const struct outer *r = (const struct outer *)(uintptr_t)hit.ret_rax;
	cr_assert_str_eq(r->name, "name");
	cr_assert_str_eq(r->next->label, "next");
	for (int round = 0; round < 3000; round++) {
		unsigned char *c = malloc(v.len);

		memcpy(c, v.p, v.len);
		for (int k = 0; k < 1 + round % 4; k++)
			c[rand_r(&seed) % v.len] = (unsigned char)rand_r(&seed);
		if (lm_plan_replay(p, c, v.len, &hit, &err) != 0) {
			refused++;
			free(c);
			continue;
		}
		accepted++;
		r = (const struct outer *)(uintptr_t)hit.ret_rax;
		cr_assert_not_null(r, "round %d: a struct result", round);
		/* Every string came out of the blob: none is longer. */
		cr_expect_leq(bounded_len(r->name, v.len), v.len, "round %d", round);
		cr_expect_leq(bounded_len(r->in.label, v.len), v.len, "round %d", round);
		size_t nm = 0;
		for (char **m = r->members; m && *m && nm <= v.len; m++, nm++)
			cr_expect_leq(bounded_len(*m, v.len), v.len, "round %d", round);
		cr_expect_leq(nm, v.len, "round %d: a member list longer than the blob", round);
		if (r->next)
			cr_expect_leq(bounded_len(r->next->label, v.len), v.len, "round %d", round);
		free(c);
	}
	cr_expect_gt(refused, 0, "some damage is detected");
	cr_expect_gt(accepted, 0, "damage to string bytes alone is not");
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(same_value, compares_content_not_pointers)
{
	struct lm_plan *p =
	    PLAN("f", rhow(LM_RET_STR, 0, 0, 0), lp(LM_K_I32), lp_size(LM_K_OUT, LM_SZ_LIT, 2, 0));
	struct lm_frame m1 = {0}, m2 = {0};
	char s1[] = "same", s2[] = "same", o1[2] = "a", o2[2] = "a";
	struct lm_buf a, b;

	m1.ret_rax = ptrw(s1);
	m2.ret_rax = ptrw(s2);
	m1.gpr[1] = ptrw(o1);
	m2.gpr[1] = ptrw(o2);
	a = capture(p, &m1, 0);
	b = capture(p, &m2, 0);
	cr_assert(lm_plan_same_value(p, a.p, a.len, b.p, b.len));
	lm_buf_free(&b);
	o2[0] = 'b';
	b = capture(p, &m2, 0);
	cr_assert_not(lm_plan_same_value(p, a.p, a.len, b.p, b.len), "out bytes differ");
	lm_buf_free(&b);
	o2[0] = 'a';
	s2[0] = 'S';
	b = capture(p, &m2, 0);
	cr_assert_not(lm_plan_same_value(p, a.p, a.len, b.p, b.len), "string differs");
	lm_buf_free(&b);
	s2[0] = 's';
	b = capture(p, &m2, EIO);
	cr_assert_not(lm_plan_same_value(p, a.p, a.len, b.p, b.len), "errno differs");
	lm_buf_free(&a);
	lm_buf_free(&b);
	lm_plan_free(p);
}

Test(same_value, ignores_register_bits_above_the_width)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I32), lp(LM_K_I32));
	struct lm_frame m1 = {0}, m2 = {0};
	struct lm_buf a, b;

	m1.ret_rax = 7;
	m2.ret_rax = 0xabcdef0000000007ull;
	a = capture(p, &m1, 0);
	b = capture(p, &m2, 0);
	cr_assert(lm_plan_same_value(p, a.p, a.len, b.p, b.len));
	lm_buf_free(&b);
	m2.ret_rax = 8;
	b = capture(p, &m2, 0);
	cr_assert_not(lm_plan_same_value(p, a.p, a.len, b.p, b.len));
	lm_buf_free(&a);
	lm_buf_free(&b);
	lm_plan_free(p);
}

Test(same_value, f32_compares_only_its_4_bytes)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_F32), lp(LM_K_I32));
	struct lm_frame m1 = {0}, m2 = {0};
	struct lm_buf a, b;

	memcpy(&m1.ret_xmm0[0], &(float){1.5f}, 4);
	m2.ret_xmm0[0] = 0x1234567800000000ull;
	memcpy(&m2.ret_xmm0[0], &(float){1.5f}, 4);
	a = capture(p, &m1, 0);
	b = capture(p, &m2, 0);
	cr_assert(lm_plan_same_value(p, a.p, a.len, b.p, b.len));
	lm_buf_free(&b);
	memcpy(&m2.ret_xmm0[0], &(float){-1.5f}, 4);
	b = capture(p, &m2, 0);
	cr_assert_not(lm_plan_same_value(p, a.p, a.len, b.p, b.len));
	lm_buf_free(&a);
	lm_buf_free(&b);
	lm_plan_free(p);
}

Test(value, scalar_blob_of_the_wrong_length_is_rejected)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I64), lp(LM_K_I32));
	struct lm_frame miss = {0}, hit = {0};
	struct lm_buf v;
	int err = 3;

	miss.ret_rax = 77;
	v = capture(p, &miss, 0);
	for (size_t n = 0; n < v.len; n++)
		cr_assert_eq(lm_plan_replay(p, v.p, n, &hit, &err), -1, "length %zu", n);
	cr_assert_eq(lm_buf_append(&v, "", 1), 0);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), -1);
	cr_assert_eq(hit.ret_rax, 0);
	cr_assert_eq(err, 3);
	lm_buf_free(&v);
	lm_plan_free(p);
}

/* A scalar result's blob carries errno only when it is not 0: 8 bytes for
 * the common `long f(long)` instead of 12 (memory per entry). A blob with
 * a 0 written out (as older versions stored) still replays. */
Test(value, scalar_blob_leaves_out_a_zero_errno)
{
	struct lm_plan *p = PLAN("f", rv(LM_K_I64), lp(LM_K_I64));
	struct lm_frame miss = {0}, hit = {0};
	int err = 99;

	miss.ret_rax = 1234;
	struct lm_buf v = capture(p, &miss, 0);
	cr_assert_eq(v.len, 8);
	cr_assert_eq(lm_plan_replay(p, v.p, v.len, &hit, &err), 0);
	cr_assert_eq(err, 0);
	cr_assert_eq(hit.ret_rax, 1234);

	struct lm_buf w = capture(p, &miss, ENOENT);
	cr_assert_eq(w.len, 12);
	cr_assert_eq(lm_plan_replay(p, w.p, w.len, &hit, &err), 0);
	cr_assert_eq(err, ENOENT);
	cr_expect(!lm_plan_same_value(p, v.p, v.len, w.p, w.len), "errno is part of the result");

	unsigned char old[12] = {0};
	memcpy(old + 4, &miss.ret_rax, 8);
	err = 99;
	cr_assert_eq(lm_plan_replay(p, old, sizeof old, &hit, &err), 0);
	cr_assert_eq(err, 0);
	cr_expect(lm_plan_same_value(p, v.p, v.len, old, sizeof old));

	struct lm_plan *vp = PLAN("g", rv(LM_K_VOID), lp(LM_K_I32));
	struct lm_buf e = capture(vp, &miss, 0);
	cr_assert_eq(e.len, 0, "void with errno 0: an empty blob");
	err = 99;
	cr_assert_eq(lm_plan_replay(vp, e.p, e.len, &hit, &err), 0);
	cr_assert_eq(err, 0);
	lm_buf_free(&v);
	lm_buf_free(&w);
	lm_buf_free(&e);
	lm_plan_free(p);
	lm_plan_free(vp);
}
