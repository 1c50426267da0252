/* fx_call(fn, in, out): see fixtures.h. The CFI says where the callee-saved
 * registers are, so that an unwinder walks through to a caller that uses
 * rbp as its frame pointer. */
	.text
	.globl	fx_call
	.type	fx_call, @function
fx_call:
	.cfi_startproc
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_offset %rbx, -16
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset %rbp, -24
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_offset %r12, -32
	movq	%rdi, %r12
	movq	%rsi, %rbp
	movq	%rdx, %rbx
	.irp	i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	72+16*\i(%rbp), %xmm\i
	.endr
	movq	0(%rbp), %rax
	movq	8(%rbp), %rcx
	movq	16(%rbp), %rdx
	movq	24(%rbp), %rsi
	movq	32(%rbp), %rdi
	movq	40(%rbp), %r8
	movq	48(%rbp), %r9
	movq	56(%rbp), %r10
	movq	64(%rbp), %r11
	call	*%r12
	movq	%rax, 0(%rbx)
	movq	%rcx, 8(%rbx)
	movq	%rdx, 16(%rbx)
	movq	%rsi, 24(%rbx)
	movq	%rdi, 32(%rbx)
	movq	%r8, 40(%rbx)
	movq	%r9, 48(%rbx)
	movq	%r10, 56(%rbx)
	movq	%r11, 64(%rbx)
	.irp	i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqu	%xmm\i, 72+16*\i(%rbx)
	.endr
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	ret
	.cfi_endproc
	.size	fx_call, .-fx_call

	.section .note.GNU-stack, "", @progbits
