/* Live detours of the assembly fixtures in this test binary. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/hook/helpers_cfix.h"
#include "tests/hook/helpers_probe.h"
#include "shim/hook/procmaps.h"

static struct lm_hook *must_hook(const char *name, void *fn, uintptr_t limit, struct probe *p)
{
	char why[160] = "";
	struct lm_hook *h = probe_hook(name, fn, limit, LM_HM_DETOUR, p, 0, why, sizeof(why));

	cr_assert_not_null(h, "%s: %s", name, why);
	cr_assert_eq(lm_hook_get_info(h)->mode, LM_HM_DETOUR);
	return h;
}

Test(detour, rip_relative_prologue_reads_the_same_data)
{
	struct probe p = {.action = LM_ENTER_CALL};
	long before = fx_rip(5);

	must_hook("fx_rip", fx_rip, 0, &p);
	cr_assert_eq(fx_rip(5), before);
	fx_data = 7;
	cr_assert_eq(fx_rip(1), 15);
	cr_assert_eq(p.enters, 2);
	cr_assert_eq(p.leaves, 2);
	cr_assert_eq(p.last_rax, 15);
}

Test(detour, short_conditional_jump_in_prologue)
{
	struct probe p = {.action = LM_ENTER_CALL};

	must_hook("fx_jcc8", fx_jcc8, 0, &p);
	cr_assert_eq(fx_jcc8(0), 42);
	cr_assert_eq(fx_jcc8(7), 8);
	cr_assert_eq(p.enters, 2);
}

Test(detour, call_in_prologue)
{
	struct probe p = {.action = LM_ENTER_CALL};

	must_hook("fx_call", fx_call, 0, &p);
	cr_assert_eq(fx_call(5), 105);
	cr_assert_eq(p.enters, 1);
	cr_assert_eq(p.last_rax, 105);
}

Test(detour, three_byte_function_uses_padding)
{
	struct probe p = {.action = LM_ENTER_CALL};
	struct lm_hook *h = must_hook("fx_tiny", fx_tiny, (uintptr_t)fx_after_tiny, &p);

	cr_assert_eq(lm_hook_get_info(h)->patch_len, 5);
	cr_assert_eq(fx_tiny(9), 9);
	cr_assert_eq(p.enters, 1);
	cr_assert_eq(p.last_rax & 0xffffffff, 9);
}

Test(detour, back_jump_refused_and_auto_falls_back_to_got)
{
	struct probe p = {.action = LM_ENTER_CALL};
	char why[160] = "";
	struct lm_hook *h;

	cr_assert_null(probe_hook("fx_loop", fx_loop, 0, LM_HM_DETOUR, &p, 0, why, sizeof(why)));
	cr_assert(strstr(why, "jumps back into the first 5 bytes"), "%s", why);
	h = probe_hook("fx_loop", fx_loop, 0, LM_HM_AUTO, &p, 0, why, sizeof(why));
	cr_assert_not_null(h, "%s", why);
	cr_assert_eq(lm_hook_get_info(h)->mode, LM_HM_GOT);
	cr_assert(strstr(lm_hook_get_info(h)->fallback, "jumps back"), "%s",
	          lm_hook_get_info(h)->fallback);
	cr_assert_eq(fx_loop(10), 55, "the entry was left alone");
}

Test(detour, endbr64_entry_kept)
{
	struct probe p = {.action = LM_ENTER_CALL};
	unsigned char entry[4];
	struct lm_hook *h;

	memcpy(entry, (void *)fx_endbr, 4);
	h = must_hook("fx_endbr", fx_endbr, 0, &p);
	cr_assert_eq(memcmp((void *)fx_endbr, entry, 4), 0);
	cr_assert_eq(memcmp((void *)fx_endbr, "\xf3\x0f\x1e\xfa", 4), 0);
	cr_assert_eq(memcmp((void *)lm_hook_get_info(h)->trampoline, entry, 4), 0);
	cr_assert_eq(memcmp((void *)lm_hook_get_info(h)->stub, entry, 4), 0);
	cr_assert_eq(fx_endbr(7), 15);
	cr_assert_eq(p.enters, 1);
}

Test(detour, function_pointer_taken_before_hooking_is_caught)
{
	struct probe p = {.action = LM_ENTER_CALL};
	long (*volatile fp)(long) = fx_jcc8;

	must_hook("fx_jcc8", fx_jcc8, 0, &p);
	cr_assert_eq(fp(3), 4);
	cr_assert_eq(p.enters, 1);
	cr_assert_eq(p.arg0, 3);
}

Test(detour, enter_return_skips_the_original)
{
	struct probe p = {.action = LM_ENTER_RETURN, .ret_rax = 77};

	must_hook("fx_rip", fx_rip, 0, &p);
	cr_assert_eq(fx_rip(1), 77);
	cr_assert_eq(p.enters, 1);
	cr_assert_eq(p.leaves, 0);
}

Test(detour, enter_jump_runs_the_original_without_leave)
{
	struct probe p = {.action = LM_ENTER_PASS};

	must_hook("fx_call", fx_call, 0, &p);
	cr_assert_eq(fx_call(1), 101);
	cr_assert_eq(p.enters, 1);
	cr_assert_eq(p.leaves, 0);
}

Test(detour, info_and_describe_show_the_patch)
{
	struct probe p = {.action = LM_ENTER_CALL};
	struct lm_hook *h = must_hook("fx_jcc8", fx_jcc8, 0, &p);
	const struct lm_hook_info *info = lm_hook_get_info(h);
	char text[4096];
	int32_t rel;

	cr_assert_eq(info->new_bytes[0], 0xe9);
	memcpy(&rel, info->new_bytes + 1, 4);
	cr_assert_eq((uintptr_t)fx_jcc8 + 5 + rel, info->stub);
	cr_assert_eq(memcmp(info->old_bytes, "\x48\x85\xff\x74\x05", 5), 0);
	cr_assert_eq(memcmp((void *)fx_jcc8, info->new_bytes, 5), 0);
	cr_assert_gt(lm_hook_describe(h, text, sizeof(text)), 0);
	cr_assert(strstr(text, "test %rdi, %rdi"), "%s", text);
	cr_assert(strstr(text, "trampoline:"), "%s", text);
	cr_assert(strstr(text, "endbr64"), "%s", text);
}

static atomic_int stop;
static atomic_long wrong, done;

static void *caller(void *arg)
{
	long (*volatile fp)(long) = arg;

	for (long i = 0; !atomic_load(&stop); i++) {
		if (fp(i) != 3 * i + 1)
			atomic_fetch_add(&wrong, 1);
		atomic_fetch_add(&done, 1);
	}
	return NULL;
}

Test(detour, hooking_while_another_thread_calls)
{
	struct probe p = {.action = LM_ENTER_CALL};
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, caller, (void *)fx_work), 0);
	while (atomic_load(&done) < 1000)
		;
	must_hook("fx_work", fx_work, 0, &p);
	while (atomic_load(&p.enters) < 1000)
		;
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	cr_assert_eq(wrong, 0);
	cr_assert_eq(fx_work(2), 7);
}

/* A batch of installs makes each code page writable once: the page stays
 * writable (and executable) until the batch ends, then has its protection
 * back (start-up made one mprotect pair per hook). */
Test(detour, batch_restores_the_page_at_its_end)
{
	struct probe p = {.action = LM_ENTER_CALL};
	uintptr_t page = (uintptr_t)fx_rip & ~(uintptr_t)4095;
	int before = lm_maps_prot(page);
	long want = fx_rip(5);

	cr_assert_eq(before, PROT_READ | PROT_EXEC);
	lm_hook_install_begin();
	must_hook("fx_rip", fx_rip, 0, &p);
	cr_expect_eq(lm_maps_prot(page), PROT_READ | PROT_WRITE | PROT_EXEC,
	             "restored before the batch's end");
	cr_expect_eq(fx_rip(5), want);
	lm_hook_install_end();
	cr_expect_eq(lm_maps_prot(page), before);
	cr_expect_eq(fx_rip(5), want);
	cr_expect_eq(p.enters, 2);
}

static void exit_thread(long x)
{
	pthread_exit((void *)x);
}

static void *run_unwind(void *arg)
{
	(void)arg;
	return (void *)cfix_unwind(1, exit_thread);
}

/* pthread_exit inside a detoured function unwinds through lm_thunk's
 * frame: its personality routine (the only caller of the unwound hook)
 * tells the dispatcher, leave is not called, and the thread ends with the
 * value it gave pthread_exit. */
Test(detour, thread_exit_unwinds_through_the_thunk)
{
	struct probe p = {.action = LM_ENTER_CALL};
	pthread_t t;
	void *ret = NULL;

	must_hook("cfix_unwind", cfix_unwind, 0, &p);
	cr_assert_eq(pthread_create(&t, NULL, run_unwind, NULL), 0);
	cr_assert_eq(pthread_join(t, &ret), 0);
	cr_expect_eq((long)ret, 4, "pthread_exit's value");
	cr_expect_eq(p.enters, 1);
	cr_expect_eq(p.leaves, 0);
	cr_expect_eq(p.unwounds, 1, "the thunk's personality did not run");
}
