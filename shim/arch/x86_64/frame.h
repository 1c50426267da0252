/* The contract between the x86-64 entry thunk (thunk.S) and the C
 * dispatcher. Offsets are fixed because the assembly uses them; the static
 * asserts below keep the two in step.
 *
 * What the thunks (the stubs, lm_thunk, thunk_fast.S) assume at entry,
 * whoever calls (any code of the program, a signal handler included):
 *
 * - The stack: nothing of its alignment. gcc's -fipa-stack-alignment,
 *   hand-written assembly and other runtimes call with rsp at 8 mod 16 or
 *   worse. lm_thunk rounds its frame down to 16 (rbp keeps the way back
 *   and the CFA); a fast thunk stores nothing aligned, and its one call
 *   (the vDSO clock) takes the padding that suits an aligned caller when
 *   it does, else aligns through rbp. The original is always called
 *   with rsp at 0 mod 16 and its stack arguments copied there.
 * - The red zone: the caller's ends at the return address its call
 *   pushed, so everything below the entry rsp is the thunk's, as for any
 *   callee; above it the thunks only read (lm_thunk copies stack_bytes of
 *   stack arguments).
 * - The direction flag: clear, as the ABI requires at every call (the
 *   kernel clears it for a handler); the original's code, lm_thunk's
 *   rep movsb and the dispatcher rely on it. Neither checked nor changed.
 * - x87 and MXCSR: the ABI's control bits (rounding, exception masks,
 *   precision) are the caller's: never changed, nothing assumed of them.
 *   The shim's own floating point is `when` on a float result: a
 *   widening and compares after a NaN check, which raise nothing but for
 *   a signalling NaN. The x87 stack is empty at entry and at return (long
 *   double, the one x87 result, is refused by the config).
 * - Registers: those of the ABI's arguments, rax (a variadic call's
 *   vector count) and r10 (a static chain) pass to the original; every
 *   other general register and xmm0-15 but the result's comes back as the
 *   caller left it (thunk.S and thunk_fast.S say why, and for which rax
 *   not). The upper halves of ymm/zmm are not saved.
 * - Signals: a handler may run at any instruction of a thunk or of the
 *   shim. Its hooked calls while the thread is inside the shim or a fast
 *   lookup run uncached (lm_in_shim, the fast table's busy), and neither
 *   lock nor allocate (lm_count_reentered), so a handler that interrupts
 *   the thread's own first-time setup (counters, fast table) is safe.
 *   A handler the program installed through sigaction or signal runs
 *   marked (shim/sigaction.c, base/handler.h): its calls that reach the
 *   dispatcher run uncached, since a miss allocates and the handler may
 *   have interrupted the program's own malloc; fast-table hits, which
 *   allocate nothing, still answer. A handler installed by a raw
 *   rt_sigaction system call is not seen.
 *
 * Stack depth, measured from a handler on a pattern-filled alternate
 * stack (tests/integration/fixtures/sigstack.c, depth mode), the kernel's
 * signal frame (2.9 KiB on an AVX-512 machine) included: a fast or front
 * hit 3.3 to 4.8 KiB in all (the handler's own frames), a local miss
 * 4.7 KiB, the process's first call (table and store set-up) 6.4 KiB,
 * the shim's share at most 3.5 KiB; so a 32 KiB alternate stack has room
 * to spare, and so has 16 KiB. A miss that asks the shared tier needs
 * up to 18.5 KiB more (Redis; memcached 6 KiB, 10.5 KiB while its server
 * refuses connections): on an alternate stack with less than
 * LM_L2_STACK_NEED left it stays local (dispatch.c, lm_stack_short). */
#ifndef LM_FRAME_H
#define LM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "thunk_abi.h"

/* Bytes of per-call scratch the dispatcher keeps in the thunk's frame
 * (between enter and leave). Opaque to the thunk. */
#define LM_CALL_STATE_SIZE 256

/* Saved by the thunk on entry, in its own stack frame. */
struct lm_frame {
	uint64_t gpr[6];            /*   0: rdi rsi rdx rcx r8 r9 */
	uint64_t rax;               /*  48: al = vector count of a variadic call */
	uint64_t r10;               /*  56: static chain */
	uint64_t xmm[8][2];         /*  64: xmm0..xmm7, low 128 bits */
	uint64_t ret_rax;           /* 192: results: filled by the dispatcher on a */
	uint64_t ret_rdx;           /* 200:   hit, by the thunk after calling the */
	uint64_t ret_xmm0[2];       /* 208:   original */
	uint64_t ret_xmm1[2];       /* 224 */
	const uint64_t *stack_args; /* 240: caller's stack-passed arguments */
	uint64_t reserved;          /* 248 */
	unsigned char call[LM_CALL_STATE_SIZE] __attribute__((aligned(16))); /* 256 */
};

/* What lm_dispatch_enter tells the thunk to do. */
enum lm_enter_action {
	LM_ENTER_RETURN = 0, /* ret_* are filled: return them, original not called */
	LM_ENTER_CALL = 1,   /* call the original, store results in ret_*, then leave() */
	LM_ENTER_PASS = 2,   /* call the original with the caller's arguments and
	                        return its results; leave() is not called */
};

struct lm_hook;
typedef int (*lm_enter_fn)(struct lm_hook *h, struct lm_frame *f);
typedef void (*lm_leave_fn)(struct lm_hook *h, struct lm_frame *f);

/* What a fast thunk (thunk_fast.S) reads of its hook to answer a hit by
 * itself: how to make the key from the argument registers, where the
 * method's copies are checked. Filled by fast.c; all zero for a hook
 * entered through lm_thunk. */
struct lm_fast_desc {
	uint64_t mask[2];      /* 40, 48: the bits of each key register that count */
	uint64_t seed;         /* 56: the method's slot hash seed */
	const uint64_t *epoch; /* 64: the method's lm_store_copy_epoch */
	/* lm_fast_put's (the thunk is made for one result kind and shape) */
	uint64_t hits_off; /* byte offset of the hits counter in a counters block */
	uint32_t ret;      /* enum lm_fast_ret */
	uint32_t src[2];   /* frame offsets of the key registers */
	uint32_t nkeys;    /* 0 to 2 */
	/* 96: an out param's bytes the thunk copies to the caller (a multiple
	 * of 8), 0 for none; lm_fast_put's: the out pointer's frame offset */
	uint32_t out_len;
	uint32_t out_src;
	/* lm_fast_put's: the bytes a slot keeps beside it (the out's, or a
	 * string key's), and whether the key is a string (src[0] its pointer) */
	uint32_t blob_len;
	uint32_t str;
	/* 112: a string or out thunk answers only while this word is 0: the
	 * calls whose pointer arguments the dispatcher still checks (reading
	 * a string before that could fault on an integer declared `str`) */
	const uint32_t *gate;
};

/* The head of every hook record: the per-hook stub pushes its address and
 * the thunks read it. */
struct lm_hook_head {
	void *original;           /*  0: trampoline (detour) or definition (got) */
	uint64_t stack_bytes;     /*  8: stack-argument bytes to copy, multiple of 16 */
	lm_enter_fn enter;        /* 16 */
	lm_leave_fn leave;        /* 24 */
	void *ctx;                /* 32: the dispatcher's method */
	struct lm_fast_desc fast; /* 40 */
	/* The original was left by unwinding (a C++ exception, a thread's
	 * cancellation) after enter asked for LM_ENTER_CALL: leave is not
	 * called, this is (thunk_unwind.c); NULL: nothing to do. */
	lm_leave_fn unwound;
	/* 128: called by lm_thunk before it saves the vector registers, so
	 * code that uses none of them: LM_ENTER_RETURN when F holds a hit
	 * (ret_rax and errno set, no other result register), anything else
	 * to go on to enter. NULL: straight to enter. */
	lm_enter_fn quick;
};

/* The common thunk every stub jumps to, with the struct lm_hook_head *
 * pushed on the stack. */
void lm_thunk(void);
/* The thunk of a static-result method whose key is one argument word: its
 * hits answered by lm_quick_entry before any register is saved, the rest
 * sent on to lm_thunk (thunk_static.S). Entered as the fast thunks are
 * (fast_abi.h's stub: the head in rcx, the caller's rcx pushed). */
void lm_thunk_static(void);
/* Where lm_thunk's call of the original returns to: the one place of the
 * thunk an unwinder can leave it from. */
void lm_thunk_original_return(void);

#define LM_ABI_CHECK(type, field, off)                                                  \
	_Static_assert(offsetof(struct type, field) == (off), #field " at " #off " in " \
	                                                             "thunk_abi.h")
LM_ABI_CHECK(lm_frame, rax, LM_F_RAX);
LM_ABI_CHECK(lm_frame, r10, LM_F_R10);
LM_ABI_CHECK(lm_frame, xmm, LM_F_XMM);
LM_ABI_CHECK(lm_frame, ret_rax, LM_F_RET_RAX);
LM_ABI_CHECK(lm_frame, ret_rdx, LM_F_RET_RDX);
LM_ABI_CHECK(lm_frame, ret_xmm0, LM_F_RET_XMM0);
LM_ABI_CHECK(lm_frame, ret_xmm1, LM_F_RET_XMM1);
LM_ABI_CHECK(lm_frame, stack_args, LM_F_STACK_ARGS);
LM_ABI_CHECK(lm_frame, call, LM_F_CALL);
_Static_assert(sizeof(struct lm_frame) == LM_FRAME_SIZE, "thunk_abi.h frame size");
LM_ABI_CHECK(lm_hook_head, original, LM_H_ORIGINAL);
LM_ABI_CHECK(lm_hook_head, stack_bytes, LM_H_STACK_BYTES);
LM_ABI_CHECK(lm_hook_head, enter, LM_H_ENTER);
LM_ABI_CHECK(lm_hook_head, leave, LM_H_LEAVE);
LM_ABI_CHECK(lm_hook_head, quick, LM_H_QUICK);
LM_ABI_CHECK(lm_hook_head, fast.mask[0], LM_H_FAST_MASK0);
LM_ABI_CHECK(lm_hook_head, fast.mask[1], LM_H_FAST_MASK1);
LM_ABI_CHECK(lm_hook_head, fast.seed, LM_H_FAST_SEED);
LM_ABI_CHECK(lm_hook_head, fast.epoch, LM_H_FAST_EPOCH);
LM_ABI_CHECK(lm_hook_head, fast.out_len, LM_H_FAST_OUTLEN);
LM_ABI_CHECK(lm_hook_head, fast.gate, LM_H_FAST_GATE);
#undef LM_ABI_CHECK

#endif
