/* lm_thunk: the common entry of every hooked function (see frame.h).
 *
 * Entered from a per-hook stub that pushed the struct lm_hook_head *: at
 * entry (%rsp) is the hook, 8(%rsp) the caller's return address and the
 * caller's stack arguments start at 16(%rsp). Saves the argument registers
 * into a struct lm_frame, asks head->enter what to do, and returns a cached
 * result or calls the original (a real call, so shadow stacks and unwinders
 * stay happy).
 *
 * Every register except the result's comes back as the caller left it: a
 * caller compiled with gcc's -fipa-ra (the default at -O2) keeps values
 * across a call in the registers it knows the callee does not touch, and
 * the shim's own code touches others than the original does. So all
 * caller-saved general registers and xmm0-xmm15 are saved at entry and
 * restored at exit, and on a hit rax, rdx, xmm0 and xmm1 keep their entry
 * values unless the dispatcher wrote a result there; the quick path
 * (head->quick) saves and restores the general registers only, as its
 * code touches no other. errno is never touched here. */

#include "thunk_abi.h"

/* Beyond struct lm_frame: what the C side never needs. */
#define F_R11		LM_FRAME_SIZE
#define F_XMM8		(LM_FRAME_SIZE + 16)
#define TOTAL_SIZE	(LM_FRAME_SIZE + 16 + 8 * 16)

/* Reload every argument register from the frame at %r12. */
.macro restore_args
	movaps	LM_F_XMM+0*16(%r12), %xmm0
	movaps	LM_F_XMM+1*16(%r12), %xmm1
	movaps	LM_F_XMM+2*16(%r12), %xmm2
	movaps	LM_F_XMM+3*16(%r12), %xmm3
	movaps	LM_F_XMM+4*16(%r12), %xmm4
	movaps	LM_F_XMM+5*16(%r12), %xmm5
	movaps	LM_F_XMM+6*16(%r12), %xmm6
	movaps	LM_F_XMM+7*16(%r12), %xmm7
	movq	0(%r12), %rdi
	movq	8(%r12), %rsi
	movq	16(%r12), %rdx
	movq	24(%r12), %rcx
	movq	32(%r12), %r8
	movq	40(%r12), %r9
	movq	LM_F_RAX(%r12), %rax
	movq	LM_F_R10(%r12), %r10
.endm

/* Back to the caller's view of every register but the results: those
 * are in ret_* (which enter pre-filled with the entry values). */
.macro restore_all_but_results
	movaps	LM_F_XMM+2*16(%r12), %xmm2
	movaps	LM_F_XMM+3*16(%r12), %xmm3
	movaps	LM_F_XMM+4*16(%r12), %xmm4
	movaps	LM_F_XMM+5*16(%r12), %xmm5
	movaps	LM_F_XMM+6*16(%r12), %xmm6
	movaps	LM_F_XMM+7*16(%r12), %xmm7
	movaps	F_XMM8+0*16(%r12), %xmm8
	movaps	F_XMM8+1*16(%r12), %xmm9
	movaps	F_XMM8+2*16(%r12), %xmm10
	movaps	F_XMM8+3*16(%r12), %xmm11
	movaps	F_XMM8+4*16(%r12), %xmm12
	movaps	F_XMM8+5*16(%r12), %xmm13
	movaps	F_XMM8+6*16(%r12), %xmm14
	movaps	F_XMM8+7*16(%r12), %xmm15
	movq	0(%r12), %rdi
	movq	8(%r12), %rsi
	movq	24(%r12), %rcx
	movq	32(%r12), %r8
	movq	40(%r12), %r9
	movq	LM_F_R10(%r12), %r10
	movq	F_R11(%r12), %r11
	movq	LM_F_RET_RAX(%r12), %rax
	movq	LM_F_RET_RDX(%r12), %rdx
	movaps	LM_F_RET_XMM0(%r12), %xmm0
	movaps	LM_F_RET_XMM1(%r12), %xmm1
.endm

	.text
	.globl	lm_thunk
	.hidden	lm_thunk
	.type	lm_thunk, @function
	.p2align 4
lm_thunk:
	.cfi_startproc
	/* An exception or a cancellation that leaves the original unwinds
	 * through this frame: the personality tells the dispatcher
	 * (thunk_unwind.c). pcrel: the routine is the shim's own. */
	.cfi_personality 0x1b, lm_thunk_personality
	/* The CFA is above the return address, which is above the hook. */
	.cfi_def_cfa_offset 16
	endbr64
	pushq	%rbp
	.cfi_def_cfa_offset 24
	.cfi_offset %rbp, -24
	movq	%rsp, %rbp
	.cfi_def_cfa %rbp, 24
	pushq	%rbx
	.cfi_offset %rbx, -32
	pushq	%r12
	.cfi_offset %r12, -40
	pushq	%r13
	.cfi_offset %r13, -48
	/* The caller's stack alignment is not ours to assume (frame.h): the
	 * frame is aligned here, rbp keeps the way back. */
	subq	$TOTAL_SIZE, %rsp
	andq	$-16, %rsp
	movq	%rsp, %r12		/* frame */
	movq	8(%rbp), %rbx		/* head, pushed by the stub */

	movq	%rdi, 0(%r12)
	movq	%rsi, 8(%r12)
	movq	%rdx, 16(%r12)
	movq	%rcx, 24(%r12)
	movq	%r8, 32(%r12)
	movq	%r9, 40(%r12)
	movq	%rax, LM_F_RAX(%r12)
	movq	%r10, LM_F_R10(%r12)
	movq	%r11, F_R11(%r12)
	/* A hit that writes no result (void, or an integer result leaving
	 * xmm0 alone) returns the entry values of these. */
	movq	%rax, LM_F_RET_RAX(%r12)
	movq	%rdx, LM_F_RET_RDX(%r12)
	leaq	24(%rbp), %rax
	movq	%rax, LM_F_STACK_ARGS(%r12)

	/* A static result's hit needs no vector register: answered before
	 * they are saved, by code that uses none (head->quick). */
	movq	LM_H_QUICK(%rbx), %rax
	testq	%rax, %rax
	je	.Lenter
	movq	%rbx, %rdi
	movq	%r12, %rsi
	call	*%rax
	testl	%eax, %eax		/* LM_ENTER_RETURN */
	jne	.Lenter
	movq	0(%r12), %rdi
	movq	8(%r12), %rsi
	movq	24(%r12), %rcx
	movq	32(%r12), %r8
	movq	40(%r12), %r9
	movq	LM_F_R10(%r12), %r10
	movq	F_R11(%r12), %r11
	movq	LM_F_RET_RAX(%r12), %rax
	movq	LM_F_RET_RDX(%r12), %rdx
	jmp	.Lpop

.Lenter:
	movaps	%xmm0, LM_F_XMM+0*16(%r12)
	movaps	%xmm1, LM_F_XMM+1*16(%r12)
	movaps	%xmm2, LM_F_XMM+2*16(%r12)
	movaps	%xmm3, LM_F_XMM+3*16(%r12)
	movaps	%xmm4, LM_F_XMM+4*16(%r12)
	movaps	%xmm5, LM_F_XMM+5*16(%r12)
	movaps	%xmm6, LM_F_XMM+6*16(%r12)
	movaps	%xmm7, LM_F_XMM+7*16(%r12)
	movaps	%xmm8, F_XMM8+0*16(%r12)
	movaps	%xmm9, F_XMM8+1*16(%r12)
	movaps	%xmm10, F_XMM8+2*16(%r12)
	movaps	%xmm11, F_XMM8+3*16(%r12)
	movaps	%xmm12, F_XMM8+4*16(%r12)
	movaps	%xmm13, F_XMM8+5*16(%r12)
	movaps	%xmm14, F_XMM8+6*16(%r12)
	movaps	%xmm15, F_XMM8+7*16(%r12)
	movaps	%xmm0, LM_F_RET_XMM0(%r12)
	movaps	%xmm1, LM_F_RET_XMM1(%r12)

	movq	%rbx, %rdi
	movq	%r12, %rsi
	call	*LM_H_ENTER(%rbx)
	testl	%eax, %eax		/* LM_ENTER_RETURN */
	jne	.Lcall

.Lreturn:
	restore_all_but_results
.Lpop:
	leaq	-24(%rbp), %rsp
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	.cfi_remember_state
	.cfi_def_cfa %rsp, 16
	.cfi_restore %rbp
	.cfi_restore %rbx
	.cfi_restore %r12
	.cfi_restore %r13
	leaq	8(%rsp), %rsp		/* drop the hook: lea keeps the flags */
	.cfi_def_cfa_offset 8
	ret
	.cfi_restore_state

	/* LM_ENTER_CALL and LM_ENTER_PASS: call the original with the
	 * caller's arguments; only CALL asks leave() about the result. */
.Lcall:
	movl	%eax, %r13d
	/* copy the caller's stack arguments below the frame, 16-byte rounded */
	movq	LM_H_STACK_BYTES(%rbx), %rcx
	addq	$15, %rcx
	andq	$-16, %rcx
	subq	%rcx, %rsp
	movq	%rsp, %rdi
	movq	LM_F_STACK_ARGS(%r12), %rsi
	rep movsb
	restore_args
	call	*LM_H_ORIGINAL(%rbx)
	.globl	lm_thunk_original_return
	.hidden	lm_thunk_original_return
lm_thunk_original_return:
	movq	%rax, LM_F_RET_RAX(%r12)
	movq	%rdx, LM_F_RET_RDX(%r12)
	movaps	%xmm0, LM_F_RET_XMM0(%r12)
	movaps	%xmm1, LM_F_RET_XMM1(%r12)
	movq	%r12, %rsp
	cmpl	$1, %r13d		/* LM_ENTER_CALL */
	jne	.Lreturn
	movq	%rbx, %rdi
	movq	%r12, %rsi
	call	*LM_H_LEAVE(%rbx)
	jmp	.Lreturn
	.cfi_endproc
	.size	lm_thunk, .-lm_thunk

	.section .note.GNU-stack, "", @progbits
