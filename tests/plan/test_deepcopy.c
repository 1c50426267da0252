/* `static TYPE*` results: deep copies rebuilt in a per-thread buffer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

static struct lm_plan *type_plan(int t)
{
	return PLAN("get", rhow(LM_RET_STATIC_TYPE, 0, 0, t), lp(LM_K_U32));
}

static struct lm_buf capture_ptr(const struct lm_plan *p, const void *obj)
{
	struct lm_frame miss = {0};
	struct lm_buf v = {0};

	miss.ret_rax = ptrw(obj);
	cr_assert_eq(lm_plan_capture(p, &miss, 0, &v), 0, "capture");
	return v;
}

static void *replay_ptr(const struct lm_plan *p, const struct lm_buf *v)
{
	struct lm_frame hit = {0};
	int err = -1;

	cr_assert_eq(lm_plan_replay(p, v->p, v->len, &hit, &err), 0, "replay");
	return (void *)(uintptr_t)hit.ret_rax;
}

static bool inside(const void *q, const void *base, size_t n)
{
	return (const char *)q >= (const char *)base && (const char *)q < (const char *)base + n;
}

Test(deepcopy, passwd_round_trip_points_inside_the_copy)
{
	struct lm_plan *p = type_plan(T_PASSWD);
	char name[] = "bob", pw[] = "x", gecos[] = "Bob,,,", dir[] = "/home/bob", sh[] = "/bin/sh";
	struct passwd src = {name, pw, 1000, 100, gecos, dir, sh};
	struct passwd *r, *r2;
	struct lm_buf v;

	v = capture_ptr(p, &src);
	memset(name, 'Z', 3); /* the callee's static buffer is overwritten later */
	r = replay_ptr(p, &v);
	cr_assert_neq(r, &src);
	cr_assert_str_eq(r->pw_name, "bob");
	cr_assert_str_eq(r->pw_passwd, "x");
	cr_assert_eq(r->pw_uid, 1000);
	cr_assert_eq(r->pw_gid, 100);
	cr_assert_str_eq(r->pw_gecos, "Bob,,,");
	cr_assert_str_eq(r->pw_dir, "/home/bob");
	cr_assert_str_eq(r->pw_shell, "/bin/sh");
	cr_assert(inside(r->pw_shell, r, 256), "strings live in the same buffer");
	r2 = replay_ptr(p, &v);
	cr_assert_eq(r2, r, "the thread's buffer for this method");
	cr_assert_not(lm_plan_local_only(p));
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, passwd_null_strings_stay_null)
{
	struct lm_plan *p = type_plan(T_PASSWD);
	struct passwd src = {"n", NULL, 1, 2, NULL, "", NULL};
	struct passwd *r;
	struct lm_buf v;

	v = capture_ptr(p, &src);
	r = replay_ptr(p, &v);
	cr_assert_str_eq(r->pw_name, "n");
	cr_assert_null(r->pw_passwd);
	cr_assert_null(r->pw_gecos);
	cr_assert_str_eq(r->pw_dir, "");
	cr_assert_null(r->pw_shell);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, null_return_stays_null)
{
	struct lm_plan *p = type_plan(T_PASSWD);
	struct lm_buf v = capture_ptr(p, NULL);

	cr_assert_null(replay_ptr(p, &v));
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, tm_keeps_its_zone_pointer)
{
	struct lm_plan *p = type_plan(T_TM);
	struct tm src = {0}, *r;
	time_t t = 86400 * 365;
	struct lm_buf v;

	gmtime_r(&t, &src);
	v = capture_ptr(p, &src);
	r = replay_ptr(p, &v);
	cr_assert_eq(r->tm_year, src.tm_year);
	cr_assert_eq(r->tm_yday, src.tm_yday);
	cr_assert_eq(r->tm_gmtoff, src.tm_gmtoff);
	cr_assert_eq(r->tm_zone, src.tm_zone, "ptr fields are copied as addresses");
	cr_assert(lm_plan_local_only(p), "a ptr field makes the result local");
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, strv_nested_and_pointed_to_structs)
{
	struct lm_plan *p = type_plan(T_OUTER);
	char *members[] = {"alice", "", "carol", NULL};
	struct inner nx = {-7, "next-label"};
	struct outer src = {"grp", members, {42, "inner-label"}, &nx, {9, 8, 7}, 0.25};
	struct outer *r;
	struct lm_buf v;

	v = capture_ptr(p, &src);
	r = replay_ptr(p, &v);
	cr_assert_str_eq(r->name, "grp");
	cr_assert_neq(r->members, members);
	cr_assert_str_eq(r->members[0], "alice");
	cr_assert_str_eq(r->members[1], "");
	cr_assert_str_eq(r->members[2], "carol");
	cr_assert_null(r->members[3]);
	cr_assert_eq(r->in.a, 42);
	cr_assert_str_eq(r->in.label, "inner-label");
	cr_assert_neq(r->next, &nx);
	cr_assert_eq(r->next->a, -7);
	cr_assert_str_eq(r->next->label, "next-label");
	cr_assert(r->tag[0] == 9 && r->tag[1] == 8 && r->tag[2] == 7);
	cr_assert(r->d == 0.25);
	cr_assert_eq((uintptr_t)r->next % 8, 0, "nested structs are aligned");
	cr_assert_eq((uintptr_t)r->members % 8, 0);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, null_pointers_inside_are_preserved)
{
	struct lm_plan *p = type_plan(T_OUTER);
	char *empty[] = {NULL};
	struct outer src = {NULL, empty, {1, NULL}, NULL, {0}, 0};
	struct outer *r;
	struct lm_buf v;

	v = capture_ptr(p, &src);
	r = replay_ptr(p, &v);
	cr_assert_null(r->name);
	cr_assert_not_null(r->members);
	cr_assert_null(r->members[0]);
	cr_assert_null(r->in.label);
	cr_assert_null(r->next);
	lm_buf_free(&v);
	src.members = NULL;
	v = capture_ptr(p, &src);
	r = replay_ptr(p, &v);
	cr_assert_null(r->members);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, lists_are_copied_to_the_depth_cap)
{
	struct lm_plan *p = type_plan(T_NODE);
	struct node nodes[10];
	struct node *r;
	struct lm_buf v;
	int i;

	for (i = 0; i < 10; i++) {
		nodes[i].v = i;
		nodes[i].next = i < 9 ? &nodes[i + 1] : NULL;
	}
	v = capture_ptr(p, &nodes[0]);
	r = replay_ptr(p, &v);
	for (i = 0; r; r = r->next, i++)
		cr_assert_eq(r->v, i);
	cr_assert_eq(i, 10);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, a_cycle_in_the_data_fails_the_capture)
{
	struct lm_plan *p = type_plan(T_NODE);
	struct node a = {1, NULL}, b = {2, &a};
	struct lm_frame miss = {0};
	struct lm_buf v = {0};

	a.next = &b;
	miss.ret_rax = ptrw(&a);
	cr_assert_eq(lm_buf_append(&v, "pre", 3), 0);
	errno = 99;
	cr_assert_eq(lm_plan_capture(p, &miss, 0, &v), -1);
	cr_assert_eq(v.len, 3);
	cr_assert_eq(errno, 99);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, same_value_compares_content)
{
	struct lm_plan *p = type_plan(T_PASSWD);
	char n1[] = "bob", n2[] = "bob";
	struct passwd a = {n1, "x", 1000, 100, "g", "/h", "/s"};
	struct passwd b = {n2, "x", 1000, 100, "g", "/h", "/s"};
	struct lm_buf va, vb;

	va = capture_ptr(p, &a);
	vb = capture_ptr(p, &b);
	cr_assert(lm_plan_same_value(p, va.p, va.len, vb.p, vb.len));
	lm_buf_free(&vb);
	b.pw_uid = 1001;
	vb = capture_ptr(p, &b);
	cr_assert_not(lm_plan_same_value(p, va.p, va.len, vb.p, vb.len));
	lm_buf_free(&vb);
	b.pw_uid = 1000;
	n2[2] = 'c';
	vb = capture_ptr(p, &b);
	cr_assert_not(lm_plan_same_value(p, va.p, va.len, vb.p, vb.len));
	lm_buf_free(&va);
	lm_buf_free(&vb);
	lm_plan_free(p);
}

Test(deepcopy, padding_does_not_enter_the_value)
{
	struct lm_plan *p = type_plan(T_OUTER);
	struct outer a, b;
	struct lm_buf va, vb;

	memset(&a, 0x11, sizeof(a));
	memset(&b, 0x22, sizeof(b));
	a.name = b.name = NULL;
	a.members = b.members = NULL;
	a.in.a = b.in.a = 3;
	a.in.label = b.in.label = NULL;
	a.next = b.next = NULL;
	memset(a.tag, 1, 3);
	memset(b.tag, 1, 3);
	a.d = b.d = 1.0;
	va = capture_ptr(p, &a);
	vb = capture_ptr(p, &b);
	cr_assert(lm_plan_same_value(p, va.p, va.len, vb.p, vb.len));
	lm_buf_free(&va);
	lm_buf_free(&vb);
	lm_plan_free(p);
}

Test(deepcopy, a_forged_blob_cannot_smuggle_pointers)
{
	struct lm_plan *p = type_plan(T_PASSWD);
	struct passwd src = {NULL, NULL, 5, 6, NULL, NULL, NULL}, *r;
	struct lm_buf v;
	uint64_t evil = 0x4141414141414141ull;

	v = capture_ptr(p, &src);
	/* errno(4) tag(1), then the inline struct: pw_name at offset 0. */
	memcpy(v.p + 5 + offsetof(struct passwd, pw_name), &evil, 8);
	r = replay_ptr(p, &v);
	cr_assert_null(r->pw_name);
	cr_assert_eq(r->pw_uid, 5);
	lm_buf_free(&v);
	lm_plan_free(p);
}

Test(deepcopy, every_truncation_is_rejected)
{
	struct lm_plan *p = type_plan(T_OUTER);
	char *members[] = {"m1", "m2", NULL};
	struct inner nx = {1, "nl"};
	struct outer src = {"n", members, {2, "l"}, &nx, {1, 2, 3}, 1.5};
	struct lm_frame hit = {0};
	struct lm_buf v;
	int err;

	v = capture_ptr(p, &src);
	for (size_t n = 0; n < v.len; n++) {
		unsigned char *c = malloc(n ? n : 1);

		memcpy(c, v.p, n);
		cr_assert_eq(lm_plan_replay(p, c, n, &hit, &err), -1, "length %zu", n);
		free(c);
	}
	lm_buf_free(&v);
	lm_plan_free(p);
}

/* The buffer a replay built is handed back with its bytes written again
 * as the replay built them, as libc's next call rewrites its own: what
 * the caller wrote into it (a string, a field) is undone. Another replay
 * into it (another key's result) ends that. */
Test(deepcopy, static_buffer_reuse_restores_writes_until_a_rebuild)
{
	struct lm_plan *p = type_plan(T_PASSWD);
	char name[] = "bob", other[] = "eve";
	struct passwd a = {name, "x", 1000, 100, "Bob", "/home/bob", "/bin/sh"};
	struct passwd b = {other, "x", 1001, 100, "Eve", "/home/eve", "/bin/sh"};
	struct lm_buf va = capture_ptr(p, &a), vb = capture_ptr(p, &b);

	cr_assert(lm_plan_static_result(p));
	struct passwd *r = replay_ptr(p, &va);
	uint64_t gen = lm_plan_static_gen(p);
	cr_assert_neq(gen, 0);
	cr_assert_eq(lm_plan_static_reuse(p, gen), r, "unchanged: reusable");
	r->pw_dir[1] = 'X';
	cr_assert_eq(lm_plan_static_reuse(p, gen), r, "written into: still the buffer");
	cr_assert_str_eq(r->pw_dir, "/home/bob", "a string written into is restored");
	r->pw_uid = 0;
	r->pw_shell = other;
	cr_assert_eq(lm_plan_static_reuse(p, gen), r);
	cr_assert_eq(r->pw_uid, 1000, "a field written into is restored");
	cr_assert_str_eq(r->pw_shell, "/bin/sh", "a pointer written into is restored");
	cr_assert_str_eq(r->pw_name, "bob");
	cr_assert_eq(replay_ptr(p, &vb), r, "one buffer per method");
	cr_assert_null(lm_plan_static_reuse(p, gen), "another key's result was put there");
	cr_assert_eq(lm_plan_static_reuse(p, lm_plan_static_gen(p)), r);
	cr_assert_str_eq(r->pw_name, "eve");
	lm_buf_free(&va);
	lm_buf_free(&vb);
	lm_plan_free(p);
}

/* A static buf sized by an argument always replays (its size is checked
 * against each call); scalars and fresh copies are no static result. */
Test(deepcopy, which_results_are_static)
{
	struct lm_plan *lit = PLAN("f", rhow(LM_RET_STATIC_BUF, LM_SZ_LIT, 8, 0), lp(LM_K_U32));
	struct lm_plan *par =
	    PLAN("f", rhow(LM_RET_STATIC_BUF, LM_SZ_PARAM, 0, 1), lp(LM_K_U32), lp(LM_K_U64));
	struct lm_plan *str = PLAN("f", rhow(LM_RET_STR, 0, 0, 0), lp(LM_K_U32));
	struct lm_plan *val = PLAN("f", rv(LM_K_I64), lp(LM_K_U32));

	cr_expect(lm_plan_static_result(lit));
	cr_expect_not(lm_plan_static_result(par));
	cr_expect_not(lm_plan_static_result(str));
	cr_expect_not(lm_plan_static_result(val));
	lm_plan_free(lit);
	lm_plan_free(par);
	lm_plan_free(str);
	lm_plan_free(val);
}
