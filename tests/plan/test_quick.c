/* The quick path's plan parts (shim/plan/quick.c): lm_plan_quick_key
 * builds the key lm_plan_key builds, word by word, without reading past a
 * string's page; lm_plan_quick_replay replays what lm_plan_replay does. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define NWORDS 16

/* The quick key of F equals lm_plan_key's, and is zero past its end. */
static void same_key(const struct lm_plan *p, const struct lm_frame *f, const char *what)
{
	uint64_t w[NWORDS];
	memset(w, 0xa5, sizeof w);
	struct lm_buf k = key_of(p, f);
	int64_t n = lm_plan_quick_key(p, f, w, NWORDS);
	cr_assert_eq(n, (int64_t)k.len, "%s: length", what);
	cr_assert(memcmp(w, k.p, k.len) == 0, "%s: bytes", what);
	if (n % 8) {
		uint64_t rest = w[n / 8] >> (8 * (n % 8));
		cr_assert_eq(rest, 0, "%s: zero past the end", what);
	}
	lm_buf_free(&k);
}

Test(quick, str_keys_of_every_length_and_alignment_match_lm_plan_key)
{
	struct lm_plan *p = PLAN("h", rv(LM_K_I64), lp(LM_K_STR));
	cr_assert(lm_plan_quick_front(p));
	char buf[128];
	for (unsigned align = 0; align < 8; align++)
		for (unsigned len = 0; len < 80; len++) {
			char *s = buf + align;
			for (unsigned i = 0; i < len; i++)
				s[i] = (char)('a' + (i * 7 + align) % 26);
			s[len] = '\0';
			s[len + 1] = 'x'; /* past the NUL: not in the key */
			struct lm_frame f = {0};
			f.gpr[0] = ptrw(s);
			char what[64];
			snprintf(what, sizeof what, "align %u, length %u", align, len);
			same_key(p, &f, what);
		}
	struct lm_frame f = {0};
	same_key(p, &f, "NULL");
	lm_plan_free(p);
}

/* A str after keys of 1 to 8 bytes starts at every offset within a key
 * word: each of its lengths and alignments gives lm_plan_key's bytes. */
Test(quick, str_keys_at_every_key_offset_match_lm_plan_key)
{
	static const enum lm_kind lead[] = {LM_K_U8, LM_K_I16, LM_K_I32, LM_K_I64};
	char buf[128];
	for (unsigned a = 0; a < 4; a++)
		for (unsigned b = 0; b < 4; b++) {
			struct lm_plan *p =
			    PLAN("m", rv(LM_K_I64), lp(lead[a]), lp(lead[b]), lp(LM_K_STR));
			cr_assert(lm_plan_quick_front(p));
			for (unsigned align = 0; align < 8; align++)
				for (unsigned len = 0; len < 40; len++) {
					char *s = buf + align;
					for (unsigned i = 0; i < len; i++)
						s[i] = (char)('A' + (i * 5 + a + b) % 26);
					s[len] = '\0';
					s[len + 1] = 'y';
					struct lm_frame f = {0};
					f.gpr[0] = 0x8877665544332211ull;
					f.gpr[1] = 0xfedcba9876543210ull;
					f.gpr[2] = ptrw(s);
					char what[80];
					snprintf(what, sizeof what,
					         "keys %u+%u, align %u, length %u", a, b, align,
					         len);
					same_key(p, &f, what);
				}
			lm_plan_free(p);
		}
}

/* A string that ends at a page's end, the next page unreadable: the
 * word loads stay in the string's page. */
Test(quick, a_str_ending_at_a_page_end_reads_no_further)
{
	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(m != MAP_FAILED);
	cr_assert_eq(mprotect(m + page, page, PROT_NONE), 0);
	struct lm_plan *p = PLAN("h", rv(LM_K_I64), lp(LM_K_STR));
	for (unsigned len = 0; len < 40; len++) {
		char *s = m + page - 1 - len;
		memset(s, 'q', len);
		s[len] = '\0';
		struct lm_frame f = {0};
		f.gpr[0] = ptrw(s);
		same_key(p, &f, "page end");
	}
	lm_plan_free(p);
	munmap(m, 2 * page);
}

Test(quick, integer_and_out_keys_match_lm_plan_key)
{
	struct lm_plan *p =
	    PLAN("u", rv(LM_K_I32), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0));
	cr_assert(lm_plan_quick_front(p));
	char out[64];
	struct lm_frame f = {0};
	f.gpr[0] = 0x0123456789abcdefull;
	f.gpr[1] = ptrw(out);
	same_key(p, &f, "id, out");
	f.gpr[1] = 0;
	same_key(p, &f, "id, NULL out");
	lm_plan_free(p);

	p = PLAN("m", rv(LM_K_I32), lp(LM_K_U8), lp(LM_K_STR), lp(LM_K_I16), lp(LM_K_STR),
	         lp(LM_K_U32));
	cr_assert(lm_plan_quick_front(p));
	f = (struct lm_frame){0};
	f.gpr[0] = 0xffffffffffffff07ull; /* garbage above the u8 */
	f.gpr[1] = ptrw("first string");
	f.gpr[2] = 0xffff8001;
	f.gpr[3] = ptrw("2nd");
	f.gpr[4] = 0xabcdef0123456789ull;
	same_key(p, &f, "mixed");
	f.gpr[3] = 0;
	same_key(p, &f, "mixed, a NULL str");
	lm_plan_free(p);
}

Test(quick, keys_too_long_for_the_front_cache_are_refused)
{
	struct lm_plan *p = PLAN("h", rv(LM_K_I64), lp(LM_K_STR));
	char s[200];
	memset(s, 'z', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	struct lm_frame f = {0};
	f.gpr[0] = ptrw(s);
	uint64_t w[NWORDS];
	cr_assert_eq(lm_plan_quick_key(p, &f, w, NWORDS), -1);
	lm_plan_free(p);
}

Test(quick, shapes_it_cannot_serve_are_refused)
{
	struct lm_plan *p = PLAN("g", rv(LM_K_F64), lp(LM_K_F64));
	cr_assert_not(lm_plan_quick_front(p), "a double result is in xmm0");
	lm_plan_free(p);
	p = PLAN("g", rv(LM_K_I64), lp(LM_K_F64));
	cr_assert_not(lm_plan_quick_front(p), "a double argument is in xmm0");
	lm_plan_free(p);
	p = PLAN("s", rhow(LM_RET_STR, 0, 0, 0), lp(LM_K_I32));
	cr_assert_not(lm_plan_quick_front(p), "a str result");
	lm_plan_free(p);
	p = PLAN("o", rv(LM_K_I32), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_PARAM, 0, 2),
	         lp(LM_K_I64));
	cr_assert_not(lm_plan_quick_front(p), "an out sized by a parameter");
	lm_plan_free(p);
	p = PLAN("k", rv(LM_K_I64), lp(LM_K_I64), lp(LM_K_I64), lp(LM_K_I64), lp(LM_K_I64),
	         lp(LM_K_I64), lp(LM_K_I64), lp(LM_K_I64));
	cr_assert_not(lm_plan_quick_front(p), "a key argument on the stack");
	lm_plan_free(p);
}

/* lm_plan_quick_replay of a captured value gives what lm_plan_replay
 * gives: the register, errno and the out bytes over whatever the caller
 * left in its buffer. */
Test(quick, replay_matches_lm_plan_replay)
{
	struct lm_plan *p =
	    PLAN("u", rv(LM_K_I32), lp(LM_K_I64), lp_size(LM_K_OUT, LM_SZ_LIT, 64, 0));
	char truth[64], out[64];
	for (int i = 0; i < 64; i++)
		truth[i] = (char)(i * 3 + 1);
	struct lm_frame f = {0};
	f.gpr[0] = 7;
	f.gpr[1] = ptrw(truth);
	f.ret_rax = 0xffffffff0000002aull;
	struct lm_buf v = {0};
	cr_assert_eq(lm_plan_capture(p, &f, 11, &v), 0);

	memset(out, 0x5a, sizeof out); /* the caller's own bytes */
	struct lm_frame q = {0};
	q.gpr[0] = 7;
	q.gpr[1] = ptrw(out);
	int err = -1;
	cr_assert_eq(lm_plan_quick_replay(p, v.p, (uint32_t)v.len, &q, &err), 0);
	cr_expect_eq(err, 11);
	cr_expect_eq((uint32_t)q.ret_rax, 42u);
	cr_expect(memcmp(out, truth, 64) == 0);

	/* a value that does not fit the call leaves it alone */
	memset(out, 0x5a, sizeof out);
	cr_expect_eq(lm_plan_quick_replay(p, v.p, (uint32_t)v.len - 1, &q, &err), -1);
	q.gpr[1] = 0;
	cr_expect_eq(lm_plan_quick_replay(p, v.p, (uint32_t)v.len, &q, &err), -1,
	             "stored with a buffer, asked without");
	for (int i = 0; i < 64; i++)
		cr_assert_eq(out[i], 0x5a);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(quick, scalar_replay_with_and_without_errno)
{
	struct lm_plan *p = PLAN("h", rv(LM_K_I64), lp(LM_K_STR));
	for (int e = 0; e < 2; e++) {
		struct lm_frame f = {0};
		f.ret_rax = 0x1122334455667788ull;
		struct lm_buf v = {0};
		cr_assert_eq(lm_plan_capture(p, &f, e * 34, &v), 0);
		struct lm_frame q = {0}, r = {0};
		int err = -1, err2 = -1;
		cr_assert_eq(lm_plan_quick_replay(p, v.p, (uint32_t)v.len, &q, &err), 0);
		cr_assert_eq(lm_plan_replay(p, v.p, v.len, &r, &err2), 0);
		cr_expect_eq(q.ret_rax, r.ret_rax);
		cr_expect_eq(err, err2);
		cr_expect_eq(err, e * 34);
		lm_buf_free(&v);
	}
	lm_plan_free(p);
}
