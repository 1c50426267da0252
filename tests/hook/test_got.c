/* GOT hooking of a library called through another library's PLT. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/hook/helpers_probe.h"

typedef int (*add_fn)(int, int);
typedef add_fn (*ptr_fn)(void);

static void *load(const char *lib)
{
	char exe[PATH_MAX] = "", path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	void *h;

	cr_assert_gt(n, 0);
	exe[n] = 0;
	snprintf(path, sizeof(path), "%s/hook/%s", dirname(exe), lib);
	h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	cr_assert_not_null(h, "%s", dlerror());
	return h;
}

static struct lm_hook *hook_got(void *fix, const char *name, struct probe *p)
{
	char why[160] = "";
	struct lm_hook *h =
	    probe_hook(name, dlsym(fix, name), 0, LM_HM_GOT, p, 0, why, sizeof(why));

	cr_assert_not_null(h, "%s", why);
	cr_assert_eq(lm_hook_get_info(h)->mode, LM_HM_GOT);
	return h;
}

static struct lm_hook *hook_add(void *fix, struct probe *p)
{
	return hook_got(fix, "gotfix_add", p);
}

static void calls_are_caught(const char *caller_lib)
{
	struct probe p = {.action = LM_ENTER_CALL};
	void *fix = load("libgotfix.so"), *caller = load(caller_lib);
	add_fn add = (add_fn)dlsym(caller, "gotcall_add");
	ptr_fn ptr = (ptr_fn)dlsym(caller, "gotcall_ptr");
	struct lm_hook *h = hook_add(fix, &p);

	/* ld makes the PLT jump through the GLOB_DAT slot: one slot for both */
	cr_assert_geq(lm_hook_get_info(h)->nslots, 1);
	cr_assert_eq(add(2, 3), 5);
	cr_assert_eq(add(4, 4), 8, "the lazy resolver did not undo the hook");
	cr_assert_eq(ptr()(10, 1), 11);
	cr_assert_eq(p.enters, 3);
	cr_assert_eq(p.last_rax & 0xffffffff, 11);
}

Test(got, plt_calls_caught_with_lazy_binding)
{
	calls_are_caught("libgotcall.so");
}

Test(got, plt_calls_caught_with_full_relro)
{
	calls_are_caught("libgotcall_now.so");
}

Test(got, rescan_patches_libraries_loaded_later)
{
	struct probe p = {.action = LM_ENTER_RETURN, .ret_rax = 1234};
	void *fix = load("libgotfix.so"), *caller;
	struct lm_hook *h = hook_add(fix, &p);
	add_fn add;

	cr_assert_eq(lm_hook_get_info(h)->nslots, 0);
	caller = load("libgotcall.so");
	add = (add_fn)dlsym(caller, "gotcall_add");
	cr_assert_eq(add(1, 1), 2, "not hooked before the rescan");
	lm_hook_rescan_got();
	cr_assert_gt(lm_hook_get_info(h)->nslots, 0);
	cr_assert_eq(add(1, 1), 1234);
	cr_assert_eq(p.enters, 1);
}

Test(got, describe_reports_the_slots)
{
	struct probe p = {.action = LM_ENTER_CALL};
	void *fix = load("libgotfix.so");
	struct lm_hook *h;
	char text[2048];

	load("libgotcall.so");
	h = hook_add(fix, &p);
	cr_assert_gt(lm_hook_describe(h, text, sizeof(text)), 0);
	cr_assert(strstr(text, "got: 1 slots"), "%s", text);
	cr_assert(strstr(text, "push"), "%s", text);
}

/* The hooks installed in one batch patch their slots in one pass over the
 * objects, at its end (a pass per hook made a large program's start-up
 * read every relocation once per method); names alike up to their last
 * letters each get their own slots. */
Test(got, a_batchs_hooks_are_patched_together_at_its_end)
{
	struct probe pa = {.action = LM_ENTER_RETURN, .ret_rax = 1234};
	struct probe ps = {.action = LM_ENTER_RETURN, .ret_rax = 4321};
	void *fix = load("libgotfix.so"), *caller = load("libgotcall.so");
	add_fn add = (add_fn)dlsym(caller, "gotcall_add");
	add_fn sub = (add_fn)dlsym(caller, "gotcall_sub");

	lm_hook_install_begin();
	struct lm_hook *ha = hook_got(fix, "gotfix_add", &pa);
	struct lm_hook *hs = hook_got(fix, "gotfix_sub", &ps);
	cr_expect_eq(add(2, 1), 3, "patched before the batch's end");
	cr_expect_eq(lm_hook_get_info(ha)->nslots, 0);
	lm_hook_install_end();
	cr_expect_eq(lm_hook_get_info(ha)->nslots, 1);
	cr_expect_eq(lm_hook_get_info(hs)->nslots, 1);
	cr_expect_eq(add(2, 1), 1234);
	cr_expect_eq(sub(2, 1), 4321);
	cr_expect_eq(pa.enters, 1);
	cr_expect_eq(ps.enters, 1);
}

/* After a batch, the rescan passes over the objects the batch patched
 * with every hook there is; an object a batch patched while older hooks
 * exist still gets those from the rescan. */
Test(got, a_batch_after_older_hooks_leaves_them_to_the_rescan)
{
	struct probe pa = {.action = LM_ENTER_RETURN, .ret_rax = 1234};
	struct probe ps = {.action = LM_ENTER_RETURN, .ret_rax = 4321};
	void *fix = load("libgotfix.so");
	struct lm_hook *ha = hook_got(fix, "gotfix_add", &pa);
	void *caller = load("libgotcall.so");
	add_fn add = (add_fn)dlsym(caller, "gotcall_add");
	add_fn sub = (add_fn)dlsym(caller, "gotcall_sub");

	lm_hook_install_begin();
	hook_got(fix, "gotfix_sub", &ps);
	lm_hook_install_end();
	cr_expect_eq(sub(2, 1), 4321);
	cr_expect_eq(add(2, 1), 3, "the older hook waits for the rescan");
	lm_hook_rescan_got();
	cr_expect_eq(add(2, 1), 1234);
	cr_expect_eq(lm_hook_get_info(ha)->nslots, 1);
}
