/* lm_thunk: the common entry of every hooked function (see frame.h).
 *
 * Entered by a per-hook stub with r11 = struct lm_hook_head *, the caller's
 * return address at (%rsp) and its stack arguments above it. Saves the
 * argument registers into a struct lm_frame, asks head->enter what to do,
 * and returns a cached result, calls the original (a real call, so shadow
 * stacks and unwinders stay happy) or tail-jumps to it. errno is never
 * touched here. */

#define FRAME_SIZE	512
#define F_RAX		48
#define F_R10		56
#define F_XMM		64
#define F_RET_RAX	192
#define F_RET_RDX	200
#define F_RET_XMM0	208
#define F_RET_XMM1	224
#define F_STACK_ARGS	240

#define H_ORIGINAL	0
#define H_STACK_BYTES	8
#define H_ENTER		16
#define H_LEAVE		24

/* Reload every argument register from the frame at %r12. */
.macro restore_args
	movaps	F_XMM+0*16(%r12), %xmm0
	movaps	F_XMM+1*16(%r12), %xmm1
	movaps	F_XMM+2*16(%r12), %xmm2
	movaps	F_XMM+3*16(%r12), %xmm3
	movaps	F_XMM+4*16(%r12), %xmm4
	movaps	F_XMM+5*16(%r12), %xmm5
	movaps	F_XMM+6*16(%r12), %xmm6
	movaps	F_XMM+7*16(%r12), %xmm7
	movq	0(%r12), %rdi
	movq	8(%r12), %rsi
	movq	16(%r12), %rdx
	movq	24(%r12), %rcx
	movq	32(%r12), %r8
	movq	40(%r12), %r9
	movq	F_RAX(%r12), %rax
	movq	F_R10(%r12), %r10
.endm

	.text
	.globl	lm_thunk
	.hidden	lm_thunk
	.type	lm_thunk, @function
	.p2align 4
lm_thunk:
	.cfi_startproc
	endbr64
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register %rbp
	pushq	%rbx
	.cfi_offset %rbx, -24
	pushq	%r12
	.cfi_offset %r12, -32
	/* entry rsp = 8 mod 16; after three pushes it is 16-byte aligned */
	subq	$FRAME_SIZE, %rsp
	movq	%rsp, %r12		/* frame */
	movq	%r11, %rbx		/* head */

	movq	%rdi, 0(%r12)
	movq	%rsi, 8(%r12)
	movq	%rdx, 16(%r12)
	movq	%rcx, 24(%r12)
	movq	%r8, 32(%r12)
	movq	%r9, 40(%r12)
	movq	%rax, F_RAX(%r12)
	movq	%r10, F_R10(%r12)
	movaps	%xmm0, F_XMM+0*16(%r12)
	movaps	%xmm1, F_XMM+1*16(%r12)
	movaps	%xmm2, F_XMM+2*16(%r12)
	movaps	%xmm3, F_XMM+3*16(%r12)
	movaps	%xmm4, F_XMM+4*16(%r12)
	movaps	%xmm5, F_XMM+5*16(%r12)
	movaps	%xmm6, F_XMM+6*16(%r12)
	movaps	%xmm7, F_XMM+7*16(%r12)
	leaq	16(%rbp), %rax
	movq	%rax, F_STACK_ARGS(%r12)

	movq	%rbx, %rdi
	movq	%r12, %rsi
	call	*H_ENTER(%rbx)
	cmpl	$1, %eax		/* LM_ENTER_CALL */
	je	.Lcall
	testl	%eax, %eax		/* LM_ENTER_RETURN; anything else jumps */
	jne	.Ljump

.Lreturn:
	movq	F_RET_RAX(%r12), %rax
	movq	F_RET_RDX(%r12), %rdx
	movaps	F_RET_XMM0(%r12), %xmm0
	movaps	F_RET_XMM1(%r12), %xmm1
	leaq	-16(%rbp), %rsp
	popq	%r12
	popq	%rbx
	popq	%rbp
	.cfi_remember_state
	.cfi_def_cfa %rsp, 8
	.cfi_restore %rbp
	.cfi_restore %rbx
	.cfi_restore %r12
	ret
	.cfi_restore_state

.Lcall:
	/* copy the caller's stack arguments below the frame, 16-byte rounded */
	movq	H_STACK_BYTES(%rbx), %rcx
	addq	$15, %rcx
	andq	$-16, %rcx
	subq	%rcx, %rsp
	movq	%rsp, %rdi
	movq	F_STACK_ARGS(%r12), %rsi
	rep movsb
	restore_args
	call	*H_ORIGINAL(%rbx)
	movq	%rax, F_RET_RAX(%r12)
	movq	%rdx, F_RET_RDX(%r12)
	movaps	%xmm0, F_RET_XMM0(%r12)
	movaps	%xmm1, F_RET_XMM1(%r12)
	movq	%r12, %rsp
	movq	%rbx, %rdi
	movq	%r12, %rsi
	call	*H_LEAVE(%rbx)
	jmp	.Lreturn

.Ljump:
	restore_args
	movq	%rbx, %r11
	leaq	-16(%rbp), %rsp
	popq	%r12
	popq	%rbx
	popq	%rbp
	.cfi_def_cfa %rsp, 8
	.cfi_restore %rbp
	.cfi_restore %rbx
	.cfi_restore %r12
	jmp	*H_ORIGINAL(%r11)
	.cfi_endproc
	.size	lm_thunk, .-lm_thunk

	.section .note.GNU-stack, "", @progbits
