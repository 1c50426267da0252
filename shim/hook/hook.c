/* lm_hook_prepare / lm_hook_install: build the stub and trampoline of a
 * hook, then redirect the function's entry (detour) or its GOT slots. */
#include "hook_record.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/base/addr.h"
#include "nearmem.h"
#include "patch.h"
#include "procmaps.h"
#include "shim/base/why.h"
#include "shim/base/guard.h"

/* How many bytes after the symbol's end may hold padding worth looking at. */
#define PADDING_LOOK 32

/* endbr64; pushq head(%rip); jmp lm_thunk; head: .quad h
 *
 * The stub hands the hook record to the thunk on the stack, not in a
 * register: a caller compiled with gcc's -fipa-ra may keep values in any
 * register the original function does not touch, r11 included.
 *
 * A fast thunk (thunk_fast.S) is entered by
 * endbr64; pushq %rcx; movabs $h, %rcx; jmp entry
 * instead: the head in a register it needs anyway, the caller's rcx kept
 * where the head would be, which the thunk swaps back before it goes on
 * to lm_thunk. */
#define STUB_HEAD_SLOT 24

/* The stub that hands HEAD to lm_thunk. */
static unsigned make_thunk_stub(unsigned char *out, uintptr_t at, uintptr_t head)
{
	static const unsigned char endbr_push[6] = {0xf3, 0x0f, 0x1e, 0xfa, 0xff, 0x35};
	int32_t disp = STUB_HEAD_SLOT - 10; /* from the end of the push */
	unsigned n;

	memcpy(out, endbr_push, sizeof(endbr_push));
	memcpy(out + 6, &disp, 4);
	/* rel32 (5 bytes) or absolute (14): either ends by STUB_HEAD_SLOT. */
	n = 10 + lm_encode_jmp(out + 10, at + 10, (uintptr_t)lm_thunk, false);
	memset(out + n, 0xcc, STUB_HEAD_SLOT - n);
	memcpy(out + STUB_HEAD_SLOT, &head, 8);
	return STUB_HEAD_SLOT + 8;
}

static unsigned make_stub(unsigned char *out, uintptr_t at, const struct lm_hook *h)
{
	uintptr_t head = (uintptr_t)h;
	unsigned n;

	if (h->entry != lm_thunk) {
		static const unsigned char endbr_push_movabs[7] = {0xf3, 0x0f, 0x1e, 0xfa,
		                                                   0x51, 0x48, 0xb9};
		memcpy(out, endbr_push_movabs, sizeof(endbr_push_movabs));
		memcpy(out + 7, &head, 8);
		n = 15 + lm_encode_jmp(out + 15, at + 15, (uintptr_t)h->entry, false);
		memset(out + n, 0xcc, LM_STUB_MAX - n);
		return n;
	}
	return make_thunk_stub(out, at, head);
}
_Static_assert(STUB_HEAD_SLOT + 8 <= LM_STUB_MAX && 15 + 14 <= LM_STUB_MAX,
               "the stubs fit their slot");

static void (*tick_fn)(void);

void lm_hook_set_tick(void (*fn)(void))
{
	__atomic_store_n(&tick_fn, fn, __ATOMIC_RELEASE);
}

/* The tick stub's enter: the tick, then the function, uncounted by any
 * dispatcher (its own call count is the counting stub's). */
static int tick_enter(struct lm_hook *h, struct lm_frame *f)
{
	LM_KEEP_ERRNO();
	void (*fn)(void) = __atomic_load_n(&tick_fn, __ATOMIC_ACQUIRE);
	(void)h;
	(void)f;
	if (fn)
		fn();
	return LM_ENTER_PASS;
}

/* H's tick stub at OUT (address AT), for calls whose function is at
 * TARGET (the trampoline, or the definition). */
static void make_tick_stub(unsigned char *out, uintptr_t at, struct lm_hook *h, uintptr_t target)
{
	h->tick_head = (struct lm_hook_head){
	    .original = lm_ptr(target), .stack_bytes = h->head.stack_bytes, .enter = tick_enter};
	h->tick_stub = out;
	make_thunk_stub(out, at, (uintptr_t)&h->tick_head);
}

/* The counting stub of a bypassed hook: it adds one to H's count and jumps
 * to TARGET (the trampoline, or the definition), or to the tick stub when
 * the count's low 16 bits come to zero. rax is an argument register only
 * for variadic calls (the vector count), and is given back; flags are not
 * kept across calls. */
static unsigned make_count_stub(unsigned char *out, uintptr_t at, struct lm_hook *h,
                                uintptr_t target)
{
	static const unsigned char head[7] = {0xf3, 0x0f, 0x1e, 0xfa, 0x50, 0x48, 0xb8};
	static const unsigned char inc_test_pop_jz[11] = {0x48, 0xff, 0x00, 0x66, 0xf7, 0x00,
	                                                  0xff, 0xff, 0x58, 0x0f, 0x84};
	uint64_t count = (uintptr_t)&h->bypassed_calls;
	int32_t to_tick = (int32_t)((intptr_t)h->tick_stub - (intptr_t)(at + 30));
	memcpy(out, head, sizeof head);
	memcpy(out + 7, &count, 8);
	memcpy(out + 15, inc_test_pop_jz, sizeof inc_test_pop_jz);
	memcpy(out + 26, &to_tick, 4);
	return 30 + lm_encode_jmp(out + 30, at + 30, target, false);
}
_Static_assert(30 + 14 <= LM_COUNT_STUB_MAX, "the counting stub fits its slot");

static int prepare_detour(struct lm_hook *h, const struct lm_hook_req *req, char *why,
                          size_t whylen)
{
	const unsigned char *code = lm_ptr(req->addr);
	size_t len = req->size,
	       total = LM_STUB_MAX + LM_TRAMPOLINE_MAX + LM_COUNT_STUB_MAX + LM_STUB_MAX;
	uintptr_t site, stub, tramp;
	unsigned char *mem;
	int threads = lm_thread_count(), tlen;
	bool far = false;

	if (req->limit > req->addr + req->size)
		len = req->limit - req->addr < req->size + PADDING_LOOK ? req->limit - req->addr
		                                                        : req->size + PADDING_LOOK;
	if (lm_reloc_plan(code, len, req->addr, req->size, req->limit, LM_JMP_REL32_LEN, &h->plan,
	                  why, whylen))
		return -1;
	mem = lm_nearmem_alloc(req->addr, total);
	if (!mem) {
		char sub[128];

		if (lm_reloc_plan(code, len, req->addr, req->size, req->limit, LM_JMP_ABS_LEN,
		                  &h->plan, sub, sizeof(sub)))
			return lm_why(why, whylen,
			              "no memory within 2 GB for a 5-byte jump, and %s", sub);
		mem = lm_nearmem_alloc(0, total);
		if (!mem)
			return lm_why(why, whylen, "cannot map memory for the trampoline");
		far = true;
	}
	site = req->addr + h->plan.skip;
	if (h->plan.inner_call && threads != 1)
		goto busy;
	if (!lm_patch_atomic(site, h->plan.patch) && threads != 1)
		goto busy;
	stub = (uintptr_t)mem;
	tramp = stub + LM_STUB_MAX;
	tlen = lm_reloc_emit(code, req->addr, &h->plan, mem + LM_STUB_MAX, LM_TRAMPOLINE_MAX, tramp,
	                     why, whylen);
	if (tlen < 0) {
		lm_nearmem_trim(mem, total, 0);
		return -1;
	}
	h->stub = mem;
	h->stub_len = make_stub(mem, stub, h);
	h->tramp = mem + LM_STUB_MAX;
	h->tramp_len = (unsigned)tlen;
	size_t count_at = LM_STUB_MAX + (((size_t)tlen + 7) & ~(size_t)7),
	       tick_at = count_at + LM_COUNT_STUB_MAX;
	make_tick_stub(mem + tick_at, stub + tick_at, h, tramp);
	h->count_stub = mem + count_at;
	make_count_stub(h->count_stub, stub + count_at, h, tramp);
	h->mem_len = tick_at + LM_STUB_MAX;
	lm_nearmem_trim(mem, total, h->mem_len);
	h->head.original = h->tramp;
	h->orig_len =
	    h->plan.skip + (h->plan.window > h->plan.patch ? h->plan.window : h->plan.patch);
	memcpy(h->orig, code, h->orig_len);
	h->info.mode = LM_HM_DETOUR;
	h->info.stub = stub;
	h->info.trampoline = tramp;
	h->info.patch_len = lm_encode_jmp(h->info.new_bytes, site, stub, far);
	/* the counting stub lies in the same reach as the stub: same length */
	lm_encode_jmp(h->bypass_bytes, site, (uintptr_t)h->count_stub, far);
	memcpy(h->info.old_bytes, code + h->plan.skip, h->info.patch_len);
	return 0;
busy:
	lm_nearmem_trim(mem, total, 0);
	if (h->plan.inner_call)
		return lm_why(why, whylen,
		              "a call in the first %u bytes would return into the "
		              "patch while other threads run",
		              h->plan.patch);
	return lm_why(why, whylen,
	              "other threads run and the %u-byte patch at +0x%x cannot be "
	              "written atomically",
	              h->plan.patch, h->plan.skip);
}

static int prepare_got(struct lm_hook *h, const struct lm_hook_req *req, char *why, size_t whylen)
{
	unsigned char *mem;

	if (!req->name || !*req->name)
		return lm_why(why, whylen, "GOT hooking needs the symbol name");
	/* The name first: near memory is not given back (the caller frees
	 * the name on failure). */
	h->name = strdup(req->name);
	if (!h->name)
		return lm_why(why, whylen, "out of memory");
	size_t total = LM_STUB_MAX + LM_COUNT_STUB_MAX + LM_STUB_MAX;
	mem = lm_nearmem_alloc(req->addr, total);
	if (!mem)
		mem = lm_nearmem_alloc(0, total);
	if (!mem)
		return lm_why(why, whylen, "out of memory");
	h->stub = mem;
	h->stub_len = make_stub(mem, (uintptr_t)mem, h);
	unsigned char *tick = mem + LM_STUB_MAX + LM_COUNT_STUB_MAX;
	make_tick_stub(tick, (uintptr_t)tick, h, req->addr);
	h->count_stub = mem + LM_STUB_MAX;
	make_count_stub(h->count_stub, (uintptr_t)h->count_stub, h, req->addr);
	h->mem_len = total;
	h->head.original = lm_ptr(req->addr);
	h->info.mode = LM_HM_GOT;
	h->info.stub = (uintptr_t)mem;
	return 0;
}

struct lm_hook *lm_hook_prepare(const struct lm_hook_req *req, char *why, size_t whylen)
{
	LM_KEEP_ERRNO();
	struct lm_hook *h;
	int rc = -1;

	if (why && whylen)
		*why = 0;
	if (!req || !req->addr || !req->enter || !req->leave) {
		lm_why(why, whylen, "invalid hook request");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		lm_why(why, whylen, "out of memory");
		return NULL;
	}
	h->head.stack_bytes = (req->stack_bytes + 15) & ~(uint64_t)15;
	h->head.enter = req->enter;
	h->head.leave = req->leave;
	h->head.unwound = req->unwound;
	h->head.quick = req->quick;
	h->head.ctx = req->ctx;
	h->head.fast = req->fast;
	h->entry = req->entry ? req->entry : lm_thunk;
	h->ctx = req->ctx;
	h->def = req->addr;
	if (req->mode != LM_HM_GOT) {
		rc = prepare_detour(h, req, why, whylen);
		if (rc && req->mode == LM_HM_AUTO)
			snprintf(h->info.fallback, sizeof(h->info.fallback), "%s",
			         why ? why : "detour refused");
	}
	if (rc && req->mode != LM_HM_DETOUR)
		rc = prepare_got(h, req, why, whylen);
	if (rc) {
		free(h->name);
		free(h);
		h = NULL;
	}
	return h;
}

int lm_hook_install(struct lm_hook *h, char *why, size_t whylen)
{
	uintptr_t site;

	if (!h)
		return lm_why(why, whylen, "no hook");
	if (h->installed)
		return 0;
	if (lm_nearmem_seal(h->stub))
		return lm_why(why, whylen, "cannot make the stub executable");
	if (h->info.mode == LM_HM_GOT) {
		lm_got_install(h);
		h->installed = true;
		return 0;
	}
	site = h->def + h->plan.skip;
	if (memcmp(lm_ptr(site), h->info.old_bytes, h->info.patch_len) != 0)
		return lm_why(why, whylen, "the code at 0x%lx changed since the hook was prepared",
		              (unsigned long)site);
	if (lm_patch_code(site, h->info.new_bytes, h->info.patch_len, why, whylen))
		return -1;
	h->installed = true;
	return 0;
}

void lm_hook_install_begin(void)
{
	lm_patch_batch_begin();
	lm_got_batch_begin();
}

void lm_hook_install_end(void)
{
	lm_got_batch_end();
	lm_patch_batch_end();
}

struct bypass_call {
	struct lm_hook *h;
	bool on;
	char *why;
	size_t whylen;
	int rc;
};

/* A detour's code is rewritten only while its object is seen loaded from
 * inside dl_iterate_phdr: glibc unlinks a closed object under the lock
 * held around this callback, before it unmaps it. */
static int bypass_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	struct bypass_call *c = arg;
	const struct lm_hook *h = c->h;

	(void)sz;
	if (!lm_phdr_contains(info, h->def))
		return 0;
	/* The same length, the same atomicity, as the install: a thread in the
	 * trampoline goes on through it either way. With a counting stub the
	 * entry holds one jump or the other, never the original instructions,
	 * so no thread can be stopped inside the bytes rewritten. */
	uintptr_t site = h->def + h->plan.skip;
	const unsigned char *off = h->count_stub ? h->bypass_bytes : h->info.old_bytes;
	const unsigned char *from = c->on ? h->info.new_bytes : off;
	const unsigned char *to = c->on ? off : h->info.new_bytes;
	if (memcmp(lm_ptr(site), from, h->info.patch_len) != 0)
		c->rc = lm_why(c->why, c->whylen, "the code at 0x%lx changed since it was patched",
		               (unsigned long)site);
	else
		c->rc = lm_patch_code(site, to, h->info.patch_len, c->why, c->whylen);
	return 1;
}

int lm_hook_set_bypass(struct lm_hook *h, bool on, char *why, size_t whylen)
{
	if (!h || !h->installed)
		return lm_why(why, whylen, "not hooked");
	if (h->info.mode == LM_HM_GOT) {
		if (on)
			lm_got_bypass(h);
		else
			lm_got_repatch(h);
		return 0;
	}
	struct bypass_call c = {h, on, why, whylen, -1};
	if (!dl_iterate_phdr(bypass_cb, &c))
		return lm_why(why, whylen, "its object is no longer loaded");
	return c.rc;
}

static int loaded_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	(void)sz;
	return lm_phdr_contains(info, *(const uintptr_t *)arg);
}

bool lm_hook_gone(const struct lm_hook *h)
{
	uintptr_t def = h->def;
	return !dl_iterate_phdr(loaded_cb, &def);
}

static pthread_mutex_t released_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lm_hook *released;

void lm_hook_release(struct lm_hook *h)
{
	if (!h)
		return;
	if (h->info.mode == LM_HM_GOT)
		lm_got_release(h);
	lm_nearmem_free(h->stub, h->mem_len);
	h->stub = NULL;
	h->tramp = NULL;
	h->count_stub = NULL;
	h->tick_stub = NULL;
	h->installed = false;
	pthread_mutex_lock(&released_lock);
	h->next_released = released;
	released = h;
	pthread_mutex_unlock(&released_lock);
}

uint64_t lm_hook_bypassed_calls(const struct lm_hook *h)
{
	return h ? __atomic_load_n(&h->bypassed_calls, __ATOMIC_RELAXED) : 0;
}

void *lm_hook_ctx(const struct lm_hook *h)
{
	return h ? h->ctx : NULL;
}

const struct lm_hook_info *lm_hook_get_info(const struct lm_hook *h)
{
	return h ? &h->info : NULL;
}
