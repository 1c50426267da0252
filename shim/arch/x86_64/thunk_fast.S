/* The fast thunks (fast.h): one per key shape and result kind, each a few
 * loads and compares in front of lm_thunk.
 *
 * Entered from a stub (hook.c) with the hook head in rcx, the caller's rcx
 * at (%rsp) and its return address at 8(%rsp). A thunk saves the other
 * registers it works in (rdx, r8; r11 for a second key word; rax unless it
 * is the result), reads the key registers into rax and r11, and goes on to
 * the lookup for its key count and result kind: with lm_in_shim set, find
 * the copy in this thread's fast table, check it (method and key, copy
 * epoch, expiry), count the hit, set errno and the result, return. Any
 * doubt (lm_in_shim set already, no table yet, no copy, a stale one)
 * restores what it saved, swaps the caller's rcx with the head and jumps
 * to lm_thunk, which then sees the call as its own stubs leave it.
 *
 * Every register but the result's comes back as the caller left it, for
 * the same reason as in lm_thunk (-fipa-ra callers). rax is not kept for
 * a function that returns an integer: no caller can hold a value in its
 * result register across the call, and rax carries nothing into a
 * function that is not variadic (a signature never is). */
#include "fast_abi.h"
#include "thunk_abi.h"


#define CLOCK_MONOTONIC_COARSE 6

/* The key word of a shape's register, into REG. */
.macro load_none reg
	xorl	%eax, %eax
.endm
.macro load_rdi reg
	movq	%rdi, \reg
.endm
.macro load_rsi reg
	movq	%rsi, \reg
.endm
.macro load_rdx reg
	movq	%rdx, \reg
.endm
.macro load_xmm0 reg
	movq	%xmm0, \reg
.endm
.macro load_xmm1 reg
	movq	%xmm1, \reg
.endm

.macro SAVE reg
	pushq	\reg
	.cfi_adjust_cfa_offset 8
.endm
.macro RESTORE reg
	popq	\reg
	.cfi_adjust_cfa_offset -8
.endm

/* How many registers a thunk saves (the stub saved rcx). */
#define SAVED(two, ret) (2 + (two) + ((ret) - LM_FAST_RET_INT) * ((ret) - LM_FAST_RET_INT))

.macro SAVE_ENTRY two, ret
	.if \ret - LM_FAST_RET_INT
	SAVE	%rax
	.endif
	SAVE	%rdx
	SAVE	%r8
	.if \two
	SAVE	%r11
	.endif
.endm

.macro RESTORE_ENTRY two, ret
	.if \two
	RESTORE	%r11
	.endif
	RESTORE	%r8
	RESTORE	%rdx
	.if \ret - LM_FAST_RET_INT
	RESTORE	%rax
	.endif
.endm

/* rdx = the slot hash's product of the key words rax (and r11) for head
 * rcx; fast.h has it in C. */
.macro HASH two
	movq	%rax, %rdx
	shrq	$32, %rdx
	xorq	%rax, %rdx		/* the first word's high half folded in */
	xorq	LM_H_FAST_SEED(%rcx), %rdx
	imulq	.Lmul(%rip), %rdx
	.if \two
	xorq	%r11, %rdx
	imulq	.Lmul(%rip), %rdx
	.endif
.endm

.macro FAST_THUNK name, lookup, ret, src0, src1
	.globl	\name
	.hidden	\name
	.type	\name, @function
	.p2align 4
\name:
	.cfi_startproc
	.cfi_def_cfa_offset 16
	endbr64
	.ifb	\src1
	SAVE_ENTRY 0, \ret
	load_\src0 %rax
	andq	LM_H_FAST_MASK0(%rcx), %rax
	.else
	SAVE_ENTRY 1, \ret
	load_\src0 %rax
	load_\src1 %r11
	andq	LM_H_FAST_MASK0(%rcx), %rax
	andq	LM_H_FAST_MASK1(%rcx), %r11
	.endif
	jmp	\lookup
	.cfi_endproc
	.size	\name, .-\name
.endm

/* The three thunks of a key shape. */
.macro SHAPE name, n, src0, src1
	FAST_THUNK \name\()_void, lm_fast_lookup\n\()_void, LM_FAST_RET_VOID, \src0, \src1
	FAST_THUNK \name\()_int, lm_fast_lookup\n\()_int, LM_FAST_RET_INT, \src0, \src1
	FAST_THUNK \name\()_float, lm_fast_lookup\n\()_float, LM_FAST_RET_FLOAT, \src0, \src1
.endm

/* Back to lm_thunk with the stack as the stub left it: the head where
 * lm_thunk wants it, the caller's rcx back; not xchg, whose implied lock
 * costs a miss 20 cycles. */
.macro TO_LM_THUNK
	pushq	(%rsp)
	.cfi_adjust_cfa_offset 8
	movq	%rcx, 8(%rsp)
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	jmp	lm_thunk
.endm

/* The start of a thunk whose pointer argument PTR it reads: NULL goes to
 * NULLTO (TO_LM_THUNK there), and so, after SAVE_ENTRY 1, RET, does a call
 * while the dispatcher still checks the method's pointers (the gate), by
 * GATEDTO (RESTORE_ENTRY 1, RET there). */
.macro GATED_ENTRY name, ptr, nullto, gatedto, ret
	.globl	\name
	.hidden	\name
	.type	\name, @function
	.p2align 4
\name:
	.cfi_startproc
	.cfi_def_cfa_offset 16
	endbr64
	testq	\ptr, \ptr
	jz	\nullto
	SAVE_ENTRY 1, \ret
	movq	LM_H_FAST_GATE(%rcx), %rax
	cmpl	$0, (%rax)
	jne	\gatedto
.endm

/* The out shape's thunk (fast.h): key in rdi, out pointer in rsi, r11
 * saved for the copy. A NULL out, and any call while the dispatcher still
 * checks the pointers (the gate), go to lm_thunk as they came. */
.macro OUT_THUNK name, lookup, ret
	GATED_ENTRY \name, %rsi, 1f, 2f, \ret
	movq	%rdi, %rax
	andq	LM_H_FAST_MASK0(%rcx), %rax
	jmp	\lookup
2:	RESTORE_ENTRY 1, \ret
1:	TO_LM_THUNK
	.cfi_endproc
	.size	\name, .-\name
.endm

/* The string shape's thunk (fast.h): the key a NUL-terminated string at
 * rdi of at most LM_FAST_STR_MAX bytes, made into the two words
 * lm_fast_str_key makes, rax and r11, for the lookup (which compares the
 * bytes too). r9 and r10 saved for the work. The string is read 8 bytes
 * at a time from its start; a read that would cross into the next page,
 * a longer string, a NULL and a call whose pointers the dispatcher still
 * checks (the gate) go to lm_thunk as they came. */
.macro STR_THUNK name, lookup, ret
	GATED_ENTRY \name, %rdi, 9f, 7f, \ret
	SAVE	%r9
	SAVE	%r10
	movq	LM_H_FAST_SEED(%rcx), %rax
	xorl	%r11d, %r11d
1:	leal	(%rdi,%r11), %edx
	andl	$4095, %edx
	cmpl	$4088, %edx
	ja	8f
	movq	(%rdi,%r11), %rdx
	/* r8: the word's bytes flagged from its first NUL on */
	movq	%rdx, %r8
	subq	.Lones(%rip), %r8
	movq	%rdx, %r9
	notq	%r9
	andq	%r9, %r8
	andq	.Lhighs(%rip), %r8
	jnz	2f
	xorq	%rdx, %rax
	imulq	.Lmul(%rip), %rax
	addq	$8, %r11
	cmpq	$LM_FAST_STR_MAX, %r11
	jbe	1b
	jmp	8f
2:	bsfq	%r8, %r9
	shrq	$3, %r9			/* the NUL's byte */
	leaq	-1(%r8), %r10
	xorq	%r10, %r8
	shrq	$8, %r8			/* the bytes before it */
	addq	%r9, %r11
	cmpq	$LM_FAST_STR_MAX, %r11
	ja	8f
	testq	%r9, %r9
	jz	3f
	andq	%r8, %rdx
	xorq	%rdx, %rax
	imulq	.Lmul(%rip), %rax
3:	jmp	\lookup
8:	RESTORE	%r10
	RESTORE	%r9
7:	RESTORE_ENTRY 1, \ret
9:	TO_LM_THUNK
	.cfi_endproc
	.size	\name, .-\name
.endm

/* The slot at rdx: go to FOUND if it holds the key. A one-word key's
 * second word is 0 in every copy of its method. */
.macro PROBE_SLOT two, found
	cmpq	%rcx, LM_FS_HEAD(%rdx)
	jne	1f
	cmpq	%rax, LM_FS_K0(%rdx)
	.if \two
	jne	1f
	cmpq	%r11, LM_FS_K1(%rdx)
	.endif
	je	\found
1:
.endm

/* The set at rdx: go to FOUND with rdx at the slot holding the key. */
.macro PROBE two, found
	PROBE_SLOT \two, \found
	addq	$LM_FS_SIZE, %rdx
	PROBE_SLOT \two, \found
.endm

/* rax = now in ms on the coarse monotonic clock, by the vDSO function in
 * rax, with a 16-byte timespec at rsp; the flags: its return code's test. */
.macro CLOCK_NOW
	movl	$CLOCK_MONOTONIC_COARSE, %edi
	movq	%rsp, %rsi
	call	*%rax
	movl	%eax, %r10d
	imulq	$1000, (%rsp), %rax
	movq	8(%rsp), %r9
	imulq	$1125899907, %r9, %r9	/* ns / 10^6 is (ns * 1125899907) >> 50 below 10^9 */
	shrq	$50, %r9
	addq	%r9, %rax		/* now, in ms */
	testl	%r10d, %r10d
.endm

/* The lookup for TWO key words and result kind RET: rax (and r11) the
 * masked key, rcx the head, SAVED(TWO + OUT, RET) registers on the stack;
 * OUT: the method's out bytes go to the buffer at rsi on a hit. The
 * hash's top bits choose the key's first set, the bits below them its
 * second (each cut to the table's size by its mask): two choices keep a
 * hot key set from crowding a few sets. */
.macro LOOKUP name, two, ret, out=0, str=0
	.type	\name, @function
	.p2align 4
\name:
	.cfi_startproc
	.cfi_def_cfa_offset (16 + 8 * SAVED(\two + \out + 2 * \str, \ret))
	/* Inside the shim already (a signal handler, the shim's own calls,
	 * or a call that interrupted this thread's own fast lookup): run
	 * uncached. Else mark the table busy until the answer is out, so that
	 * a handler that interrupts the lookup (in the clock call, say) does
	 * not fill it and change the slot being read. A plain store: one
	 * through %fs costs a hit half a nanosecond more. */
	movq	lm_in_shim@gottpoff(%rip), %r8
	cmpl	$0, %fs:(%r8)
	jne	.Lbypass\@
	movq	lm_fast_table@gottpoff(%rip), %r8
	movq	%fs:(%r8), %r8
	testq	%r8, %r8
	jz	.Lbypass\@
	cmpl	$0, LM_FT_BUSY(%r8)
	jne	.Lbypass\@
	movl	$1, LM_FT_BUSY(%r8)
	HASH	\two
	shrq	$(64 - LM_FAST_MAX_SET_BITS), %rdx
	andq	LM_FT_MASK0(%r8), %rdx	/* the busy flag's line: no extra miss */
	shlq	$7, %rdx		/* two 64-byte slots per set */
	leaq	LM_FT_SLOTS(%r8,%rdx), %rdx
	PROBE	\two, .Lfound\@
	HASH	\two
	shrq	$(64 - 2 * LM_FAST_MAX_SET_BITS - 7), %rdx
	andq	LM_FT_MASK1(%r8), %rdx
	leaq	LM_FT_SLOTS(%r8,%rdx), %rdx
	PROBE	\two, .Lfound\@
	jmp	.Lmiss\@
.Lfound\@:
	/* rdx: the slot, r8: the table; the key is no longer needed */
	.if \str
	/* The slot's string against the caller's (rdi), r11 bytes: the last
	 * partial word first, its bytes past the NUL shifted out, then the
	 * whole words. Every word read here the hash read (STR_THUNK). rcx
	 * is free meanwhile: the slot holds the head the probe matched. */
	movq	LM_FT_BLOB(%r8), %rax
	addq	%rdx, %rax
	movq	%r11, %r10
	andq	$-8, %r10
	testl	$7, %r11d
	jz	2f
	movq	(%rdi,%r10), %r9
	xorq	(%rax,%r10), %r9
	movl	%r11d, %ecx
	negl	%ecx
	shll	$3, %ecx
	shlq	%cl, %r9		/* keeps the len % 8 low bytes */
	jnz	.Lstrmiss\@
2:	testq	%r10, %r10
	jz	3f
	movq	-8(%rdi,%r10), %r9
	cmpq	-8(%rax,%r10), %r9
	jne	.Lstrmiss\@
	subq	$8, %r10
	jmp	2b
3:	movq	LM_FS_HEAD(%rdx), %rcx
	.endif
	movq	LM_H_FAST_EPOCH(%rcx), %rax
	movq	(%rax), %rax
	cmpq	%rax, LM_FS_EPOCH(%rdx)
	jne	.Lmiss\@
	cmpq	$-1, LM_FS_EXPIRES(%rdx)
	jne	.Lexpiry\@
.Lvalid\@:
	.if \out
	/* the copy's out bytes into the caller's buffer at rsi (not NULL:
	 * the entry checked), a word at a time from the last; rcx, the
	 * head, is not needed past its length */
	movl	LM_H_FAST_OUTLEN(%rcx), %r11d
	movq	LM_FT_BLOB(%r8), %rax
	addq	%rdx, %rax
1:	movq	-8(%rax,%r11), %rcx
	movq	%rcx, -8(%rsi,%r11)
	subq	$8, %r11
	jnz	1b
	.endif
	movq	LM_FS_HITS(%rdx), %rax
	incq	(%rax)
	.ifeq	\ret - LM_FAST_RET_INT
	movq	LM_FS_VALUE(%rdx), %rax
	.endif
	.ifeq	\ret - LM_FAST_RET_FLOAT
	movq	LM_FS_VALUE(%rdx), %xmm0
	.endif
	movl	LM_FS_ERR(%rdx), %edx
	movl	$0, LM_FT_BUSY(%r8)
	movq	lm_fast_errno_tpoff(%rip), %r8
	movl	%edx, %fs:(%r8)
	.cfi_remember_state
	.if \str
	RESTORE	%r10
	RESTORE	%r9
	.endif
	RESTORE_ENTRY \two + \out, \ret
	RESTORE	%rcx
	ret
	.cfi_restore_state

	.if \str
.Lstrmiss\@:
	movq	LM_FS_HEAD(%rdx), %rcx
	.endif
.Lmiss\@:
	movl	$0, LM_FT_BUSY(%r8)
.Lbypass\@:
	.if \str
	RESTORE	%r10
	RESTORE	%r9
	.endif
	RESTORE_ENTRY \two + \out, \ret
	TO_LM_THUNK
	.cfi_adjust_cfa_offset (8 * SAVED(\two + \out + 2 * \str, \ret))

	/* A copy with an expiry: now from the kernel's coarse clock words
	 * (fast.c), seconds read twice around the nanoseconds so that a tick
	 * written between the loads sends the hit to the call below instead.
	 * The kernel writes the seconds, the nanoseconds, then the seconds
	 * carried, so even equal loads can be a second off: an expiry within
	 * that second of them is also left to the call. */
.Lexpiry\@:
	movq	lm_fast_coarse(%rip), %rax
	testq	%rax, %rax
	jz	.Lclock\@
	SAVE	%rdi
	SAVE	%rsi
	movq	(%rax), %rsi
	movq	8(%rax), %rdi
	cmpq	(%rax), %rsi
	jne	.Ltorn\@
	imulq	$1000, %rsi, %rsi
	imulq	$1125899907, %rdi, %rdi	/* ns / 10^6, as in CLOCK_NOW */
	shrq	$50, %rdi
	leaq	LM_FAST_TORN_MS(%rsi, %rdi), %rsi	/* now, in ms, and the second */
	cmpq	%rsi, LM_FS_EXPIRES(%rdx)
	jle	.Ltorn\@
	RESTORE	%rsi
	RESTORE	%rdi
	jmp	.Lvalid\@
.Ltorn\@:
	.cfi_adjust_cfa_offset 16	/* the two saves above are still on */
	RESTORE	%rsi
	RESTORE	%rdi

	/* No clock words: now from the vDSO (see fast.c), with every
	 * general register it may change and we still need saved, and the
	 * call 16-byte aligned (a timespec, padded). The padding is right for
	 * a caller that kept the ABI's alignment; for any other (frame.h) the
	 * call goes out of line and aligns with rbp holding the way back. lea,
	 * mov and pop keep the flags of the return code's test. */
.Lclock\@:
	movq	lm_fast_clock(%rip), %rax
	testq	%rax, %rax
	jz	.Lmiss\@
	SAVE	%rdi
	SAVE	%rsi
	SAVE	%r8
	SAVE	%r9
	SAVE	%r10
	.if !\two
	SAVE	%r11
	.endif
	SAVE	%rcx
	SAVE	%rdx
	.set	.Lpushed\@, SAVED(\two + \out + 2 * \str, \ret) + 8 - \two
	.set	.Lpad\@, 16 + 8 * (.Lpushed\@ % 2)
	subq	$.Lpad\@, %rsp
	.cfi_adjust_cfa_offset .Lpad\@
	testq	$15, %rsp
	jnz	.Lrealign\@
	CLOCK_NOW
	leaq	.Lpad\@(%rsp), %rsp
	.cfi_adjust_cfa_offset -.Lpad\@
.Lclocked\@:
	RESTORE	%rdx
	RESTORE	%rcx
	.if !\two
	RESTORE	%r11
	.endif
	RESTORE	%r10
	RESTORE	%r9
	RESTORE	%r8
	RESTORE	%rsi
	RESTORE	%rdi
	jnz	.Lmiss\@
	cmpq	%rax, LM_FS_EXPIRES(%rdx)
	jg	.Lvalid\@
	jmp	.Lmiss\@

.Lrealign\@:
	.cfi_adjust_cfa_offset (8 * (8 - \two) + .Lpad\@)
	leaq	.Lpad\@(%rsp), %rsp
	.cfi_adjust_cfa_offset -.Lpad\@
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	movq	%rsp, %rbp
	.cfi_def_cfa_register %rbp
	andq	$-16, %rsp
	subq	$16, %rsp
	CLOCK_NOW
	movq	%rbp, %rsp
	.cfi_def_cfa_register %rsp
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	jmp	.Lclocked\@
	.cfi_endproc
	.size	\name, .-\name
.endm

	.text
	SHAPE	lm_fast_thunk_none, 1, none
	SHAPE	lm_fast_thunk_rdi, 1, rdi
	SHAPE	lm_fast_thunk_rsi, 1, rsi
	SHAPE	lm_fast_thunk_xmm0, 1, xmm0
	SHAPE	lm_fast_thunk_rdi_rsi, 2, rdi, rsi
	SHAPE	lm_fast_thunk_rdi_rdx, 2, rdi, rdx
	SHAPE	lm_fast_thunk_rsi_rdx, 2, rsi, rdx
	SHAPE	lm_fast_thunk_xmm0_xmm1, 2, xmm0, xmm1
	SHAPE	lm_fast_thunk_rdi_xmm0, 2, rdi, xmm0
	SHAPE	lm_fast_thunk_xmm0_rdi, 2, xmm0, rdi
	LOOKUP	lm_fast_lookup1_void, 0, LM_FAST_RET_VOID
	LOOKUP	lm_fast_lookup1_int, 0, LM_FAST_RET_INT
	LOOKUP	lm_fast_lookup1_float, 0, LM_FAST_RET_FLOAT
	LOOKUP	lm_fast_lookup2_void, 1, LM_FAST_RET_VOID
	LOOKUP	lm_fast_lookup2_int, 1, LM_FAST_RET_INT
	LOOKUP	lm_fast_lookup2_float, 1, LM_FAST_RET_FLOAT
	OUT_THUNK lm_fast_thunk_rdi_out_rsi_void, lm_fast_lookup1o_void, LM_FAST_RET_VOID
	OUT_THUNK lm_fast_thunk_rdi_out_rsi_int, lm_fast_lookup1o_int, LM_FAST_RET_INT
	LOOKUP	lm_fast_lookup1o_void, 0, LM_FAST_RET_VOID, 1
	LOOKUP	lm_fast_lookup1o_int, 0, LM_FAST_RET_INT, 1
	STR_THUNK lm_fast_thunk_str_rdi_void, lm_fast_lookup2s_void, LM_FAST_RET_VOID
	STR_THUNK lm_fast_thunk_str_rdi_int, lm_fast_lookup2s_int, LM_FAST_RET_INT
	STR_THUNK lm_fast_thunk_str_rdi_float, lm_fast_lookup2s_float, LM_FAST_RET_FLOAT
	LOOKUP	lm_fast_lookup2s_void, 1, LM_FAST_RET_VOID, 0, 1
	LOOKUP	lm_fast_lookup2s_int, 1, LM_FAST_RET_INT, 0, 1
	LOOKUP	lm_fast_lookup2s_float, 1, LM_FAST_RET_FLOAT, 0, 1

	.section .rodata
	.p2align 3
.Lmul:	.quad	LM_FAST_MUL
.Lones:	.quad	0x0101010101010101
.Lhighs: .quad	0x8080808080808080

	.section .note.GNU-stack, "", @progbits
