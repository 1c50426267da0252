/* Interposition: make every call of a function enter lm_thunk.
 *
 * Two phases, as funchook does: lm_hook_prepare analyses the target and
 * builds the stub and trampoline without touching the target's code, so
 * every refusal happens before any byte changes; lm_hook_install patches.
 * Hooks are removed only with their object (lm_hook_release): until then
 * a thread may be inside a trampoline at any time. */
#ifndef LM_HOOK_H
#define LM_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim/arch/x86_64/frame.h"

enum lm_hook_mode { LM_HM_AUTO, LM_HM_DETOUR, LM_HM_GOT };

struct lm_hook_req {
	const char *name;   /* symbol, for GOT slot matching and messages */
	uintptr_t addr;     /* runtime entry of the definition (IFUNC: the
	                       implementation the resolver picked) */
	uint64_t size;      /* st_size, 0 when unknown */
	uintptr_t limit;    /* runtime address the patch may never reach:
	                       the next symbol or the section end */
	const char *object; /* path of the defining object, for messages */
	enum lm_hook_mode mode;
	uint64_t stack_bytes; /* stack-passed argument bytes (rounded up to 16) */
	lm_enter_fn enter;
	lm_enter_fn
	    quick; /* lm_thunk's first call, before the vector registers (frame.h); may be NULL */
	lm_leave_fn leave;
	lm_leave_fn unwound; /* the original was left by unwinding (frame.h); may be NULL */
	void *ctx;           /* the dispatcher's method, returned by lm_hook_ctx */
	/* The thunk the stub enters (NULL: lm_thunk) and what it reads. */
	void (*entry)(void);
	struct lm_fast_desc fast;
};

struct lm_hook; /* begins with struct lm_hook_head */

/* What a prepared hook will do and did; for LDMEMO_LOG=info/debug. */
struct lm_hook_info {
	enum lm_hook_mode mode; /* DETOUR or GOT, the one chosen */
	uintptr_t stub;         /* entry of the per-hook stub */
	uintptr_t trampoline;   /* detour: relocated prologue + jump back */
	unsigned patch_len;     /* detour: bytes overwritten */
	unsigned char old_bytes[32], new_bytes[32];
	unsigned nslots;    /* got: slots written so far */
	char fallback[160]; /* auto: why detour was refused, "" otherwise */
};

/* Analyse REQ, build the stub (and trampoline). Nothing in the target
 * changes. On refusal returns NULL with a reason in WHY. */
struct lm_hook *lm_hook_prepare(const struct lm_hook_req *req, char *why, size_t whylen);

/* Patch the target (detour) or the slots of every loaded object except
 * this library (got). Returns 0, or -1 with a reason in WHY. */
int lm_hook_install(struct lm_hook *h, char *why, size_t whylen);

/* FN runs on one bypassed call in 65,536 of every hook, in the calling
 * thread, whatever it is doing (a signal handler, the shim's own code):
 * FN decides whether it may act. While every hooked method steps aside,
 * nothing else would call into the shim to bring them back. */
void lm_hook_set_tick(void (*fn)(void));

/* Around the lm_hook_install calls of one batch: the code pages they
 * patch are made writable and restored once each, and the GOT hooks'
 * slots patched in one pass over the objects, at the latest by
 * lm_hook_install_end. */
void lm_hook_install_begin(void);
void lm_hook_install_end(void);

/* GOT hooks: patch the slots of objects loaded since (after a dlopen).
 * Cheap when nothing new was loaded. */
void lm_hook_rescan_got(void);

/* ON: calls of the function go straight to it again through a counting
 * stub (a few instructions, no call into the shim; the detour's entry
 * jumps to it, a GOT hook's slots point at it), or, where no counting stub
 * could be placed, unseen (original bytes and slots back); OFF: through
 * the hook again. The stub and trampoline stay, for calls in flight.
 * Returns 0, or -1 with a reason in WHY. */
int lm_hook_set_bypass(struct lm_hook *h, bool on, char *why, size_t whylen);
/* Calls that went through H's counting stub while it was bypassed. */
uint64_t lm_hook_bypassed_calls(const struct lm_hook *h);

/* A GOT hook's slots lead to the definition again (calls already in its
 * stub finish through it: the stub stays). Slots of objects loaded later
 * may still be patched by lm_hook_rescan_got. */
void lm_hook_restore_got(struct lm_hook *h);

/* Is the object H's function lives in no longer loaded? */
bool lm_hook_gone(const struct lm_hook *h);

/* H's function went with its object (dlclose): give back its stub and
 * trampoline and stop patching its GOT slots. The record stays, never
 * reused: the per-thread fast tables know a hook by its address. */
void lm_hook_release(struct lm_hook *h);

/* Forget the objects no longer loaded, so that one loaded again (perhaps
 * at the same address) has its GOT slots patched again. */
void lm_hook_forget_unloaded(void);

/* Call FN with the name of every function that a loaded object but the
 * shim imports through its PLT/GOT (once per relocation: a name may come
 * more than once). */
typedef void (*lm_import_fn)(const char *name, void *arg);
void lm_got_imports(lm_import_fn fn, void *arg);

void *lm_hook_ctx(const struct lm_hook *h);
const struct lm_hook_info *lm_hook_get_info(const struct lm_hook *h);

/* Human-readable disassembly of the patched bytes and of the trampoline,
 * one instruction per line, for LDMEMO_LOG=debug. Returns bytes written. */
size_t lm_hook_describe(const struct lm_hook *h, char *buf, size_t len);

#endif
